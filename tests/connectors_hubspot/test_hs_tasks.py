"""Follow-up tasks through the HubSpot connector, over the HTTPS sandbox with the official
client: a task on the contact (association 204) for the contact's owner; found again by
its marker through the v4 associations; closed; a contact gone is refused alone."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from hubspot.crm.contacts import SimplePublicObjectInput

from relcrm.connectors import TaskSink
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.models import FollowUpTask, RecordRef, TaskState
from relcrm.sandbox.hubspot.tasks import OWNERS
from tests.connectors_hubspot.helpers import seed_contacts

ROSA = OWNERS[1][1]


def _task(contact_id: str, **kw: Any) -> FollowUpTask:
    values: dict[str, Any] = {
        "key": secrets.token_hex(16),
        "person_id": "p-1",
        "record": RecordRef(system="hubspot", object="contacts", id=contact_id),
        "subject": "Reach out: Said on 3 Nov they are leaving <soon> & may go.",
        "body": "Said on 3 Nov they are leaving <soon> & may go.",
        **kw,
    }
    return FollowUpTask(**values)


def _get(hs_client: Any, task_id: str, *names: str) -> dict[str, Any]:
    got = hs_client.crm.objects.basic_api.get_by_id("tasks", task_id, properties=list(names))
    return {n: got.properties.get(n) for n in names}


def test_a_task_goes_to_the_contacts_owner_and_is_found_closed_and_read(
    connector: HubSpotConnector, hs_client: Any
) -> None:
    ids = seed_contacts(hs_client, ["ada@example.com", "bob@example.com"])
    owned, plain = ids["ada@example.com"], ids["bob@example.com"]
    hs_client.crm.contacts.basic_api.update(
        owned, SimplePublicObjectInput(properties={"hubspot_owner_id": ROSA})
    )
    assert isinstance(connector, TaskSink) and connector.capabilities.follow_up_tasks
    first = _task(owned, priority="high", due=date(2026, 12, 9))
    second = _task(plain, person_id="p-2", priority="low")

    report = connector.create_tasks([first, second])

    assert set(report.created) == {first.key, second.key} and not report.rejected
    got = _get(
        hs_client,
        report.created[first.key],
        "hs_task_subject",
        "hs_task_body",
        "hs_task_priority",
        "hs_task_status",
        "hs_timestamp",
        "hubspot_owner_id",
    )
    assert got["hs_task_subject"] == first.subject
    assert got["hs_task_priority"] == "HIGH" and got["hs_task_status"] == "NOT_STARTED"
    assert got["hubspot_owner_id"] == ROSA
    assert "&lt;soon&gt; &amp; may go" in got["hs_task_body"]  # escaped, not raw HTML
    assert f"relcrm:task:{first.key}" in got["hs_task_body"]
    due = datetime.fromisoformat(got["hs_timestamp"].replace("Z", "+00:00"))
    assert due == datetime(2026, 12, 9, tzinfo=UTC)
    assert _get(hs_client, report.created[second.key], "hubspot_owner_id") == {
        "hubspot_owner_id": None
    }
    links = hs_client.crm.associations.v4.basic_api.get_page("contacts", owned, "tasks")
    assert [str(r.to_object_id) for r in links.results] == [report.created[first.key]]

    records = [first.record, second.record]
    assert connector.find_tasks(records, [first.key, second.key]) == report.created
    assert connector.find_tasks(records, [secrets.token_hex(16)]) == {}

    task_ids = sorted(report.created.values())
    assert connector.task_states(task_ids) == dict.fromkeys(task_ids, TaskState.OPEN)
    hs_client.crm.objects.basic_api.archive("tasks", report.created[second.key])
    closed = connector.close_tasks(task_ids)
    assert sorted(closed.closed) == task_ids and not closed.rejected
    assert connector.task_states(task_ids) == {
        report.created[first.key]: TaskState.CLOSED,
        report.created[second.key]: TaskState.MISSING,
    }
    assert _get(hs_client, report.created[first.key], "hs_task_status") == {
        "hs_task_status": "COMPLETED"
    }


def test_a_task_for_a_deleted_contact_is_refused_alone(
    connector: HubSpotConnector, hs_client: Any
) -> None:
    ids = seed_contacts(hs_client, ["ada@example.com", "gone@example.com"])
    hs_client.crm.contacts.basic_api.archive(ids["gone@example.com"])
    kept, lost = _task(ids["ada@example.com"]), _task(ids["gone@example.com"])

    report = connector.create_tasks([kept, lost])

    assert list(report.created) == [kept.key]
    assert list(report.rejected) == [lost.key]
    assert "leaving" not in report.rejected[lost.key]
