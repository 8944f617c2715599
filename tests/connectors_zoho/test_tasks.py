"""Follow-up tasks through the Zoho CRM connector, over the HTTPS sandbox: a ``Tasks``
record on the contact (``Who_Id``) or lead (``What_Id`` + ``$se_module``) for the record's
owner; found again by its marker; completed; a record that is gone refused alone."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from relcrm.connectors import TaskSink
from relcrm.connectors.zoho import ZohoConnector
from relcrm.models import FollowUpTask, RecordRef, TaskState
from relcrm.sandbox.zoho import ZohoSandbox
from relcrm.sandbox.zoho.tasks import USERS

ROSA = USERS[1][0]


def _task(record_id: str, module: str = "Contacts", **kw: Any) -> FollowUpTask:
    values: dict[str, Any] = {
        "key": secrets.token_hex(16),
        "person_id": "p-1",
        "record": RecordRef(system="zoho", object=module, id=record_id),
        "subject": "Reach out: Turned from +0.5 to -0.4 in 30 days: find out what happened.",
        "body": "Turned from +0.5 to -0.4 in 30 days: find out what happened.",
        **kw,
    }
    return FollowUpTask(**values)


def test_a_task_goes_on_the_record_to_its_owner_and_is_found_and_completed(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    org = zoho.org
    owned = org.add_record(
        "Contacts", {"Last_Name": "Ann", "Email": "ann@example.com", "Owner": {"id": ROSA}}
    )
    plain = org.add_record("Contacts", {"Last_Name": "Bo", "Email": "bo@example.com"})
    lead = org.add_record("Leads", {"Last_Name": "Lee", "Email": "lee@example.com"})
    assert isinstance(connector, TaskSink) and connector.capabilities.follow_up_tasks
    first = _task(owned, priority="high", due=date(2026, 12, 9))
    second = _task(plain, person_id="p-2")
    third = _task(lead, "Leads", person_id="p-3", priority="low")

    report = connector.create_tasks([first, second, third])

    assert set(report.created) == {first.key, second.key, third.key} and not report.rejected
    row = org.values_of("Tasks", report.created[first.key])
    assert row["Who_Id"]["id"] == owned and row["Owner"]["id"] == ROSA
    assert row["Subject"] == first.subject and row["Priority"] == "High"
    assert row["Due_Date"] == "2026-12-09" and row["Status"] == "Not Started"
    assert row["Description"].startswith(first.body)
    assert f"relcrm:task:{first.key}" in row["Description"]
    assert org.values_of("Tasks", report.created[second.key])["Owner"]["id"] == USERS[0][0]
    assert org.values_of("Tasks", report.created[third.key])["What_Id"]["id"] == lead

    records = [first.record, second.record, third.record]
    keys = [first.key, second.key, third.key]
    assert connector.find_tasks(records, keys) == report.created
    assert connector.find_tasks(records, [secrets.token_hex(16)]) == {}

    ids = sorted(report.created.values())
    assert connector.task_states(ids) == dict.fromkeys(ids, TaskState.OPEN)
    del org.records["Tasks"][report.created[second.key]]
    closed = connector.close_tasks(ids)
    assert sorted(closed.closed) == ids and not closed.rejected
    states = connector.task_states(ids)
    assert states[report.created[first.key]] is TaskState.CLOSED
    assert states[report.created[second.key]] is TaskState.MISSING
    assert org.values_of("Tasks", report.created[first.key])["Status"] == "Completed"


def test_a_task_for_a_missing_record_is_refused_alone_without_its_text(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    kept = zoho.org.add_record("Contacts", {"Last_Name": "Ann", "Email": "ann@example.com"})
    ok, bad = _task(kept), _task("3652397000000999999")
    report = connector.create_tasks([bad, ok])
    assert list(report.created) == [ok.key] and list(report.rejected) == [bad.key]
    assert "find out what happened" not in report.rejected[bad.key]
    assert "Who_Id" in report.rejected[bad.key]
