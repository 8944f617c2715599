"""Follow-up Tasks through the Salesforce connector, over the HTTPS sandbox with
simple-salesforce: a Task on the Contact for the contact's owner, with the subject, body,
priority and due date asked for; found again by its marker; closed; read back."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import pytest

from relcrm.connectors import TaskSink
from relcrm.models import FollowUpTask, RecordRef, TaskState
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.tasks import add_sales_user
from tests.connectors.support import connector, make_contacts


def _task(contact_id: str, **kw: Any) -> FollowUpTask:
    values: dict[str, Any] = {
        "key": secrets.token_hex(16),
        "person_id": "p-1",
        "record": RecordRef(system="salesforce", object="Contact", id=contact_id),
        "subject": "Reach out: A heated, negative call on 3 Nov: call them.",
        "body": "A heated, negative call on 3 Nov: call them.",
        **kw,
    }
    return FollowUpTask(**values)


def test_a_task_goes_to_the_contacts_owner_and_is_found_closed_and_read(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    [owned, plain] = make_contacts(sf, 2, prefix="ada")
    rep = add_sales_user(sf_sandbox.org, "Rosa", "Rep")
    sf.Contact.update(owned, {"OwnerId": rep})
    crm = connector(sf_sandbox)
    assert isinstance(crm, TaskSink) and crm.capabilities.follow_up_tasks
    first = _task(owned, priority="high", due=date(2026, 12, 9))
    second = _task(plain, person_id="p-2")

    report = crm.create_tasks([first, second])

    assert set(report.created) == {first.key, second.key} and not report.rejected
    row = sf.Task.get(report.created[first.key])
    assert row["WhoId"] == owned and row["OwnerId"] == rep
    assert row["Subject"] == first.subject and row["Priority"] == "High"
    assert row["ActivityDate"] == "2026-12-09" and row["Status"] == "Not Started"
    assert row["Description"].startswith(first.body)
    assert f"relcrm:task:{first.key}" in row["Description"]
    assert sf.Task.get(report.created[second.key])["OwnerId"] == sf_sandbox.org.user_id

    records = [first.record, second.record]
    assert crm.find_tasks(records, [first.key]) == {first.key: report.created[first.key]}
    assert crm.find_tasks(records, [secrets.token_hex(16)]) == {}

    ids = list(report.created.values())
    assert crm.task_states(ids) == dict.fromkeys(ids, TaskState.OPEN)
    sf.Task.delete(report.created[second.key])
    closed = crm.close_tasks(ids)
    assert sorted(closed.closed) == sorted(ids) and not closed.rejected  # deleted: closed too
    states = crm.task_states(ids)
    assert states[report.created[first.key]] is TaskState.CLOSED
    assert states[report.created[second.key]] is TaskState.MISSING
    assert sf.Task.get(report.created[first.key])["IsClosed"] is True


def test_a_task_on_a_missing_record_is_rejected_with_a_reason_and_no_values(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    [contact] = make_contacts(sf, 1)
    sf.Contact.delete(contact)
    task = _task(contact)
    report = connector(sf_sandbox).create_tasks([task])
    assert list(report.rejected) == [task.key] and not report.created
    assert "call them" not in report.rejected[task.key]


@pytest.mark.parametrize("bad", ["Status", "IsClosed"])
def test_the_sandbox_keeps_is_closed_read_only(sf: Any, bad: str) -> None:
    [contact] = make_contacts(sf, 1)
    task = sf.Task.create({"WhoId": contact, "Subject": "x"})["id"]
    assert sf.Task.get(task)["IsClosed"] is False
    if bad == "Status":
        sf.Task.update(task, {"Status": "Completed"})
        assert sf.Task.get(task)["IsClosed"] is True
    else:
        with pytest.raises(Exception, match=r"INVALID_FIELD_FOR_INSERT_UPDATE|IsClosed"):
            sf.Task.update(task, {"IsClosed": True})
