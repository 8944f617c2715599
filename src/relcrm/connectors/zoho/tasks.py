"""Follow-up tasks in Zoho CRM: a record of the ``Tasks`` module on the contact (or lead),
for the record's owner.

Tasks go out through ``POST /crm/v8/Tasks`` (100 a call), each with ``Subject``,
``Description`` (the reason and relcrm's marker), ``Priority``, ``Status`` Not Started,
``Due_Date``, the person's record (a contact in ``Who_Id``; a lead in ``What_Id`` with
``$se_module``) and ``Owner``, read from the record first so its owner gets the task. A
create call is sent once (``resend_uncertain=False``): when its answer is lost, the sync
finds the task by its marker before trying again.

Finding searches ``Tasks`` by ``Who_Id``/``What_Id`` and reads the descriptions; closing
sets ``Status`` to Completed; a task deleted meanwhile counts as closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from relcrm.connectors.scrub import without_values
from relcrm.connectors.zoho.errors import describe_problem
from relcrm.models import FollowUpTask, RecordRef, TasksReport, TaskState, task_keys_in

if TYPE_CHECKING:
    from relcrm.connectors.zoho.client import ZohoClient

MODULE: Final = "Tasks"
MAX_BATCH: Final = 100
PRIORITIES: Final = {"high": "High", "normal": "Normal", "low": "Low"}
CLOSED: Final = "Completed"
PER_PAGE: Final = 200


def _entries(answer: dict[str, Any] | None) -> list[Any]:
    return list((answer or {}).get("data") or [])


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("id"):
        return str(value["id"])
    return None


class TaskWriter:
    """Creates, finds, closes and reads tasks in one org."""

    def __init__(self, client: ZohoClient) -> None:
        self.client = client

    def owners(self, records: Sequence[RecordRef]) -> dict[str, str]:
        """Record id -> its owner's user id."""
        found: dict[str, str] = {}
        for module in sorted({r.object for r in records}):
            ids = sorted({r.id for r in records if r.object == module})
            for start in range(0, len(ids), MAX_BATCH):
                chunk = ids[start : start + MAX_BATCH]
                answer = self.client.call(
                    f"read owners of {module}",
                    "GET",
                    f"/{module}",
                    params={"ids": ",".join(chunk), "fields": "Owner"},
                )
                for row in _entries(answer):
                    owner = _id_of(row.get("Owner")) if isinstance(row, dict) else None
                    if owner:
                        found[str(row["id"])] = owner
        return found

    def create(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A task on each record, for the record's owner."""
        report = TasksReport()
        owners = self.owners([t.record for t in tasks])
        for start in range(0, len(tasks), MAX_BATCH):
            batch = tasks[start : start + MAX_BATCH]
            answer = self.client.call(
                f"create {len(batch)} follow-up Tasks",
                "POST",
                f"/{MODULE}",
                json_body={"data": [self._record(t, owners.get(t.record.id)) for t in batch]},
                resend_uncertain=False,
                per_record="data",
            )
            entries = _entries(answer)
            for position, task in enumerate(batch):
                entry = entries[position] if position < len(entries) else None
                if not isinstance(entry, dict):
                    report.rejected[task.key] = "Zoho did not answer for this task"
                    continue
                details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
                if entry.get("status") == "success" and details and details.get("id"):
                    report.created[task.key] = str(details["id"])
                else:
                    problem = describe_problem(entry)
                    scrubbed = without_values(problem, [task.subject, task.body])
                    report.rejected[task.key] = scrubbed or "refused"
        return report

    @staticmethod
    def _record(task: FollowUpTask, owner: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "Subject": task.subject,
            "Description": task.body_with_marker(),
            "Priority": PRIORITIES[task.priority],
            "Status": "Not Started",
        }
        if task.record.object == "Contacts":
            record["Who_Id"] = {"id": task.record.id}
        else:
            record["What_Id"] = {"id": task.record.id}
            record["$se_module"] = task.record.object
        if owner:
            record["Owner"] = {"id": owner}
        if task.due is not None:
            record["Due_Date"] = task.due.isoformat()
        return record

    def find(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{key: task id}`` of the records' tasks carrying those keys."""
        wanted = set(keys)
        found: dict[str, str] = {}
        for record in sorted(records, key=lambda r: r.id):
            lookup = "Who_Id" if record.object == "Contacts" else "What_Id"
            page = 1
            while True:
                answer = self.client.call(
                    "find follow-up Tasks",
                    "GET",
                    f"/{MODULE}/search",
                    params={
                        "criteria": f"({lookup}:equals:{int(record.id)})",
                        "fields": "Description",
                        "page": str(page),
                        "per_page": str(PER_PAGE),
                    },
                )
                for row in _entries(answer):
                    for key in task_keys_in(str(row.get("Description") or "")) & wanted:
                        found.setdefault(key, str(row["id"]))
                if not ((answer or {}).get("info") or {}).get("more_records"):
                    break
                page += 1
        return found

    def states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Open, closed or missing, for each task id."""
        states = dict.fromkeys(task_ids, TaskState.MISSING)
        ids = sorted(set(task_ids))
        for start in range(0, len(ids), MAX_BATCH):
            answer = self.client.call(
                "read follow-up Tasks",
                "GET",
                f"/{MODULE}",
                params={"ids": ",".join(ids[start : start + MAX_BATCH]), "fields": "Status"},
            )
            for row in _entries(answer):
                task_id = str(row.get("id"))
                if task_id in states:
                    closed = row.get("Status") == CLOSED
                    states[task_id] = TaskState.CLOSED if closed else TaskState.OPEN
        return states

    def close(self, task_ids: Sequence[str]) -> TasksReport:
        """Complete the open tasks; closed or deleted ones count as closed."""
        report = TasksReport()
        states = self.states(task_ids)
        report.closed.extend(t for t, s in states.items() if s is not TaskState.OPEN)
        todo = sorted(t for t, s in states.items() if s is TaskState.OPEN)
        for start in range(0, len(todo), MAX_BATCH):
            batch = todo[start : start + MAX_BATCH]
            # Completing twice leaves it as once: safe to send again.
            answer = self.client.call(
                f"close {len(batch)} follow-up Tasks",
                "PUT",
                f"/{MODULE}",
                json_body={"data": [{"id": i, "Status": CLOSED} for i in batch]},
                per_record="data",
            )
            entries = _entries(answer)
            for position, task_id in enumerate(batch):
                entry = entries[position] if position < len(entries) else None
                if isinstance(entry, dict) and entry.get("status") == "success":
                    report.closed.append(task_id)
                elif isinstance(entry, dict) and entry.get("code") == "INVALID_DATA":
                    report.closed.append(task_id)  # deleted meanwhile: nothing left open
                else:
                    report.rejected[task_id] = describe_problem(entry or {})
        return report


__all__ = ["MODULE", "PRIORITIES", "TaskWriter"]
