"""Follow-up tasks in Dataverse: a ``task`` activity regarding the contact, for its owner.

Each task is one ``POST tasks`` (the id comes back in ``OData-EntityId``), sent once: a
call that may have reached Dataverse is never re-sent blindly, the sync finds the task by
its marker first. The body binds the regarding record (``regardingobjectid_contact`` or
``_lead``) and the owner (``ownerid`` -> ``/systemusers(<id>)``, read from the record's
``_ownerid_value``, so the rep who owns the contact gets it), with ``subject`` (200
characters), ``description`` (the reason and relcrm's marker), ``prioritycode`` and
``scheduledend`` (the due date).

Finding reads the tasks regarding the records (``_regardingobjectid_value`` in an ``In``
filter); closing sets ``statecode`` 1 (Completed) with ``statuscode`` 5; a task deleted
meanwhile counts as closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Final

from relcrm.connectors.dataverse.describe import ENTITY_SETS, PRIMARY_IDS, TABLE_ALIASES
from relcrm.connectors.dataverse.errors import scrub_message
from relcrm.connectors.dataverse.query import chunks, in_filter
from relcrm.connectors.errors import RequestRejected
from relcrm.models import FollowUpTask, RecordRef, TasksReport, TaskState, task_keys_in

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient

TASKS: Final = "tasks"
TASK_ID: Final = "activityid"
OWNER: Final = "_ownerid_value"
REGARDING: Final = "_regardingobjectid_value"
MAX_SUBJECT: Final = 200
MAX_DESCRIPTION: Final = 2000
PRIORITIES: Final = {"low": 0, "normal": 1, "high": 2}
COMPLETED: Final = {"statecode": 1, "statuscode": 5}


def _id_from(entity_id: str) -> str:
    """The GUID of ``https://.../tasks(<guid>)``."""
    return entity_id.rsplit("(", 1)[-1].rstrip(")").lower()


class TaskWriter:
    """Creates, finds, closes and reads tasks in one environment."""

    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    def owners(self, records: Sequence[RecordRef]) -> dict[str, str]:
        """Record id -> its owner's systemuserid."""
        found: dict[str, str] = {}
        for table in sorted({TABLE_ALIASES.get(r.object, r.object) for r in records}):
            pk = PRIMARY_IDS[table]
            ids = sorted({r.id.lower() for r in records if TABLE_ALIASES.get(r.object) == table})
            for chunk in chunks(ids):
                params = {"$select": f"{pk},{OWNER}", "$filter": in_filter(pk, chunk)}
                for row in self.client.pages(
                    ENTITY_SETS[table], what=f"read owners of {table}", params=params
                ):
                    if row.get(OWNER):
                        found[str(row[pk]).lower()] = str(row[OWNER]).lower()
        return found

    def create(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A task regarding each record, for the record's owner."""
        report = TasksReport()
        owners = self.owners([t.record for t in tasks])
        for task in tasks:
            table = TABLE_ALIASES.get(task.record.object, task.record.object)
            record_id = task.record.id.lower()
            body: dict[str, object] = {
                "subject": _cut(task.subject, MAX_SUBJECT),
                "description": _cut(task.body_with_marker(), MAX_DESCRIPTION, keep_end=True),
                "prioritycode": PRIORITIES[task.priority],
                f"regardingobjectid_{table}@odata.bind": f"/{ENTITY_SETS[table]}({record_id})",
            }
            owner = owners.get(record_id)
            if owner:
                body["ownerid@odata.bind"] = f"/systemusers({owner})"
            if task.due is not None:
                due = datetime.combine(task.due, time(), UTC)
                body["scheduledend"] = due.isoformat().replace("+00:00", "Z")
            try:
                answer = self.client.request(
                    "POST",
                    TASKS,
                    what="create a follow-up task",
                    json=body,
                    resend_uncertain=False,
                    values=[task.subject, task.body],
                )
            except RequestRejected as refused:
                report.rejected[task.key] = scrub_message(refused.message)
                continue
            report.created[task.key] = _id_from(answer.headers.get("OData-EntityId", ""))
        return report

    def _rows(self, column: str, ids: Sequence[str], select: str) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for chunk in chunks(sorted({i.lower() for i in ids})):
            params = {"$select": select, "$filter": in_filter(column, chunk)}
            rows.extend(self.client.pages(TASKS, what="read follow-up tasks", params=params))
        return rows

    def find(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{key: task id}`` of the tasks regarding ``records`` carrying those keys."""
        wanted = set(keys)
        found: dict[str, str] = {}
        rows = self._rows(REGARDING, [r.id for r in records], f"{TASK_ID},description")
        for row in rows:
            for key in task_keys_in(str(row.get("description") or "")) & wanted:
                found.setdefault(key, str(row[TASK_ID]).lower())
        return found

    def states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Open, closed (completed or canceled) or missing, for each task id."""
        states = dict.fromkeys(task_ids, TaskState.MISSING)
        by_lower = {t.lower(): t for t in task_ids}
        for row in self._rows(TASK_ID, task_ids, f"{TASK_ID},statecode"):
            task_id = by_lower.get(str(row[TASK_ID]).lower())
            if task_id is not None:
                closed = row.get("statecode") not in (0, None)
                states[task_id] = TaskState.CLOSED if closed else TaskState.OPEN
        return states

    def close(self, task_ids: Sequence[str]) -> TasksReport:
        """Complete the open tasks; closed or deleted ones count as closed."""
        report = TasksReport()
        for task_id, state in self.states(task_ids).items():
            if state is not TaskState.OPEN:
                report.closed.append(task_id)
                continue
            try:
                # Completing twice leaves it as once: safe to send again.
                self.client.request(
                    "PATCH",
                    f"{TASKS}({task_id.lower()})",
                    what="close a follow-up task",
                    json=COMPLETED,
                    headers={"If-Match": "*"},
                )
            except RequestRejected as refused:
                if refused.vendor_code == "0x80040217":  # deleted meanwhile
                    report.closed.append(task_id)
                else:
                    report.rejected[task_id] = scrub_message(refused.message)
                continue
            report.closed.append(task_id)
        return report


def _cut(text: str, size: int, *, keep_end: bool = False) -> str:
    """``text`` within ``size`` characters; ``keep_end`` keeps the last line (the marker)."""
    if len(text) <= size:
        return text
    if not keep_end:
        return text[: size - 1] + "…"
    head, _, last = text.rpartition("\n")
    return head[: size - len(last) - 2] + "…\n" + last


__all__ = ["PRIORITIES", "TaskWriter"]
