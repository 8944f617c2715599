"""Follow-up tasks in Salesforce: a Task on the Contact (or Lead), for its owner.

A task is created through sObject Collections (``POST composite/sobjects``, 200 a call,
``allOrNone=false``) with ``WhoId`` the person's record, ``OwnerId`` that record's owner
(read from the record first, so the rep who owns the contact gets it, not the integration
user), ``Subject``, ``Description`` (the reason and relcrm's marker line), ``Priority`` and
``ActivityDate`` (the due date). A create call is sent once: when its answer is lost,
the sync finds the task by its marker (:meth:`TaskWriter.find`) before sending again.

Closing sets ``Status`` to ``Completed`` (``IsClosed`` follows); a task deleted in the org
counts as closed. Messages never quote the values sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from relcrm.connectors.errors import TransientError
from relcrm.connectors.salesforce.errors import scrub_message
from relcrm.connectors.salesforce.reading import read_raw
from relcrm.connectors.salesforce.soql import in_lists
from relcrm.models import FollowUpTask, RecordRef, TasksReport, TaskState, task_keys_in

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

MAX_BATCH: Final = 200
"""Records per sObject Collections call."""
PRIORITIES: Final = {"high": "High", "normal": "Normal", "low": "Low"}
CLOSED_STATUS: Final = "Completed"
GONE: Final = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "INVALID_ID_FIELD"})
"""Per-record codes of an update to a task that no longer exists."""


def _query_all(soql: str) -> Callable[[Any], Any]:
    def run(sf: Any) -> Any:
        return sf.query_all(soql)

    return run


def _collection(method: str, body: dict[str, Any]) -> Callable[[Any], Any]:
    def run(sf: Any) -> Any:
        return sf.restful("composite/sobjects", method=method, json=body)

    return run


def _errors(answer: dict[str, Any]) -> tuple[str, str]:
    errors = [e for e in answer.get("errors") or [{}] if isinstance(e, dict)] or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_EXCEPTION")
    message = "; ".join(scrub_message(str(e.get("message") or "")) for e in errors)
    return code, f"{code}: {message}" if message else code


class TaskWriter:
    """Creates, finds, closes and reads Tasks in one org."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    def owners(self, records: Sequence[RecordRef]) -> dict[str, str]:
        """Record id -> its ``OwnerId`` (records that exist and have one)."""
        found: dict[str, str] = {}
        for object_name in sorted({r.object for r in records}):
            ids = [r.id for r in records if r.object == object_name]
            for record_id, row in read_raw(self.client, object_name, ids, ["OwnerId"]).items():
                if row.get("OwnerId"):
                    found[record_id] = str(row["OwnerId"])
        return found

    def create(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """Create each task on its record, for the record's owner."""
        report = TasksReport()
        owners = self.owners([t.record for t in tasks])
        for start in range(0, len(tasks), MAX_BATCH):
            batch = tasks[start : start + MAX_BATCH]
            body = {
                "allOrNone": False,
                "records": [self._record(t, owners.get(t.record.id)) for t in batch],
            }
            answer = self.client.call(
                f"create {len(batch)} follow-up Tasks",
                _collection("POST", body),
                resend_uncertain=False,
            )
            if not isinstance(answer, list) or len(answer) != len(batch):
                raise TransientError(
                    "Salesforce answered a Task collection create with an unexpected body",
                    maybe_applied=True,
                )
            for task, result in zip(batch, answer, strict=True):
                if result.get("success") and result.get("id"):
                    report.created[task.key] = str(result["id"])
                else:
                    report.rejected[task.key] = _errors(result)[1]
        return report

    @staticmethod
    def _record(task: FollowUpTask, owner: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {"type": "Task"},
            "WhoId": task.record.id,
            "Subject": task.subject,
            "Description": task.body_with_marker(),
            "Priority": PRIORITIES[task.priority],
            "Status": "Not Started",
        }
        if owner:
            record["OwnerId"] = owner
        if task.due is not None:
            record["ActivityDate"] = task.due.isoformat()
        return record

    def find(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{key: task id}`` of the Tasks on ``records`` that carry one of ``keys``'s
        markers (Description cannot be filtered in SOQL: read, then look)."""
        wanted = set(keys)
        found: dict[str, str] = {}
        ids = sorted({r.id for r in records})
        for chunk in in_lists(ids):
            soql = f"SELECT Id, Description FROM Task WHERE WhoId IN ({chunk})"
            answer = self.client.call("find follow-up Tasks", _query_all(soql))
            for row in answer.get("records", []):
                for key in task_keys_in(row.get("Description")) & wanted:
                    found.setdefault(key, str(row["Id"]))
        return found

    def close(self, task_ids: Sequence[str]) -> TasksReport:
        """Set the tasks' Status to Completed; a deleted task counts as closed."""
        report = TasksReport()
        ids = sorted(set(task_ids))
        for start in range(0, len(ids), MAX_BATCH):
            batch = ids[start : start + MAX_BATCH]
            body = {
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Task"}, "Id": i, "Status": CLOSED_STATUS}
                    for i in batch
                ],
            }
            # Setting a status twice leaves it as once: safe to send again.
            answer = self.client.call(
                f"close {len(batch)} follow-up Tasks", _collection("PATCH", body)
            )
            for task_id, result in zip(batch, answer or [], strict=False):
                code, message = _errors(result) if not result.get("success") else ("", "")
                if result.get("success") or code in GONE:
                    report.closed.append(task_id)
                else:
                    report.rejected[task_id] = message
        return report

    def states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Open, closed or missing, for each task id."""
        states = dict.fromkeys(task_ids, TaskState.MISSING)
        for task_id, row in read_raw(self.client, "Task", list(task_ids), ["IsClosed"]).items():
            states[task_id] = TaskState.CLOSED if row.get("IsClosed") else TaskState.OPEN
        return states


__all__ = ["CLOSED_STATUS", "MAX_BATCH", "PRIORITIES", "TaskWriter"]
