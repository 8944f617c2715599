"""Follow-up tasks through the Dataverse connector, over the HTTPS sandbox: a task
regarding the contact (or lead) for the record's owner, with subject, description,
priority and due date; found again by its marker; completed; a deleted record refused."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from relcrm.connectors import TaskSink
from relcrm.connectors.dataverse import DataverseConnector
from relcrm.models import FollowUpTask, RecordRef, TaskState
from relcrm.sandbox.dataverse import DataverseSandbox
from relcrm.sandbox.dataverse.tasks import APPLICATION_USER, USERS
from tests.connectors_dataverse.helpers import seed

ROSA = USERS[1][0]


def _task(record_id: str, table: str = "contact", **kw: Any) -> FollowUpTask:
    values: dict[str, Any] = {
        "key": secrets.token_hex(16),
        "person_id": "p-1",
        "record": RecordRef(system="dataverse", object=table, id=record_id),
        "subject": "Reach out: Stays without wanting to and complained in public on 2 Nov.",
        "body": "Stays without wanting to and complained in public on 2 Nov.",
        **kw,
    }
    return FollowUpTask(**values)


def _row(dv: DataverseSandbox, task_id: str) -> dict[str, Any]:
    return dict(dv.org.records["task"][task_id].values)


def test_a_task_regards_the_record_goes_to_its_owner_and_is_found_and_completed(
    connector: DataverseConnector, dv: DataverseSandbox
) -> None:
    [owned, plain] = seed(dv, "contact", "ada@example.com", "bob@example.com")
    [lead] = seed(dv, "lead", "lea@example.com")
    dv.org.records["contact"][owned].values["_ownerid_value"] = ROSA
    assert isinstance(connector, TaskSink) and connector.capabilities.follow_up_tasks
    first = _task(owned, priority="high", due=date(2026, 12, 9))
    second = _task(plain, person_id="p-2")
    third = _task(lead, "lead", person_id="p-3", priority="low")

    report = connector.create_tasks([first, second, third])

    assert set(report.created) == {first.key, second.key, third.key} and not report.rejected
    row = _row(dv, report.created[first.key])
    assert row["_regardingobjectid_value"] == owned and row["_ownerid_value"] == ROSA
    assert row["subject"] == first.subject and row["prioritycode"] == 2
    assert row["scheduledend"] == "2026-12-09T00:00:00Z"
    assert (row["statecode"], row["statuscode"]) == (0, 2)  # open, not started
    assert row["description"].startswith(first.body)
    assert f"relcrm:task:{first.key}" in row["description"]
    assert _row(dv, report.created[second.key])["_ownerid_value"] == APPLICATION_USER
    assert _row(dv, report.created[third.key])["_regardingobjectid_value"] == lead

    records = [first.record, second.record, third.record]
    keys = [first.key, second.key, third.key]
    assert connector.find_tasks(records, keys) == report.created
    assert connector.find_tasks(records, [secrets.token_hex(16)]) == {}

    ids = sorted(report.created.values())
    assert connector.task_states(ids) == dict.fromkeys(ids, TaskState.OPEN)
    del dv.org.records["task"][report.created[second.key]]
    closed = connector.close_tasks(ids)
    assert sorted(closed.closed) == ids and not closed.rejected
    states = connector.task_states(ids)
    assert states[report.created[first.key]] is TaskState.CLOSED
    assert states[report.created[second.key]] is TaskState.MISSING
    row = _row(dv, report.created[first.key])
    assert (row["statecode"], row["statuscode"]) == (1, 5)


def test_a_task_regarding_a_missing_record_is_refused_alone_without_its_text(
    connector: DataverseConnector, dv: DataverseSandbox
) -> None:
    [kept] = seed(dv, "contact", "ada@example.com")
    gone = "00000000-0000-4000-8000-0000000000ff"
    ok, bad = _task(kept), _task(gone)
    report = connector.create_tasks([bad, ok])
    assert list(report.created) == [ok.key] and list(report.rejected) == [bad.key]
    assert "complained" not in report.rejected[bad.key]
