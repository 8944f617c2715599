"""Follow-up tasks in HubSpot: a task on the contact, for the contact's owner.

Tasks are CRM v3 ``objects/tasks``: created with ``batch/create`` (100 a call) with the
association to the contact inline (type 204, task to contact), so a task never exists
unattached; ``hs_task_subject``, ``hs_task_body`` (the reason and relcrm's marker,
HTML-escaped), ``hs_task_priority``, ``hs_task_status`` NOT_STARTED, ``hs_timestamp`` (the
due date; HubSpot requires one: now when the mapping sets none) and ``hubspot_owner_id``,
read from the contact first. A create is sent once per call; a batch HubSpot refuses as a
whole (a contact deleted meanwhile) is split until the bad task is alone, which is safe
because a 400 creates nothing.

Finding a killed run's task reads the contacts' tasks through the v4 associations
(consistent at once, unlike search) and their bodies with ``batch/read``. Closing sets
``hs_task_status`` to COMPLETED; a task deleted in HubSpot counts as closed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Final

from hubspot.crm.objects.tasks import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
)

from relcrm.connectors.errors import RequestRejected
from relcrm.connectors.hubspot.associations import association_read, field_of
from relcrm.connectors.hubspot.client import HubSpotClient, sdk_method
from relcrm.connectors.hubspot.errors import scrub_message
from relcrm.connectors.hubspot.reading import read_raw
from relcrm.connectors.hubspot.values import epoch_ms
from relcrm.models import FollowUpTask, RecordRef, TasksReport, TaskState, task_keys_in

TASK_TO_CONTACT: Final = 204
"""HubSpot-defined association type id: task -> contact."""
MAX_BATCH: Final = 100
"""Tasks per ``batch/create``, ``batch/read`` and ``batch/update`` call."""
ASSOCIATION_BATCH: Final = 1000
PRIORITIES: Final = {"high": "HIGH", "normal": "MEDIUM", "low": "LOW"}
CLOSED: Final = "COMPLETED"


def task_html(task: FollowUpTask) -> str:
    """The body: the caller's text, escaped, a paragraph a line, then the marker."""
    lines = [line for line in task.body_with_marker().splitlines() if line.strip()]
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


class TaskWriter:
    """Creates, finds, closes and reads tasks on contacts of one portal."""

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client

    def owners(self, contact_ids: Sequence[str]) -> dict[str, str]:
        """Contact id -> its ``hubspot_owner_id`` (contacts that have one)."""
        rows = read_raw(self.client, "contacts", contact_ids, ["hubspot_owner_id"])
        return {c: str(v["hubspot_owner_id"]) for c, v in rows.items() if v["hubspot_owner_id"]}

    def create(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """Create each task on its contact, for the contact's owner."""
        report = TasksReport()
        owners = self.owners([t.record.id for t in tasks])
        for start in range(0, len(tasks), MAX_BATCH):
            self._create(tasks[start : start + MAX_BATCH], owners, report)
        return report

    def _create(
        self, batch: Sequence[FollowUpTask], owners: dict[str, str], report: TasksReport
    ) -> None:
        body = BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[self._input(t, owners.get(t.record.id)) for t in batch]
        )
        try:
            answer = self.client.call(
                f"create {len(batch)} follow-up tasks",
                sdk_method("crm.objects.tasks.batch_api.create_with_http_info", body),
                resend_uncertain=False,
            )
        except RequestRejected as refused:  # a 400: HubSpot created none of the batch
            if len(batch) == 1:
                report.rejected[batch[0].key] = scrub_message(refused.message)
                return
            half = len(batch) // 2
            self._create(batch[:half], owners, report)
            self._create(batch[half:], owners, report)
            return
        for record in answer.results or []:
            body_text = (record.properties or {}).get("hs_task_body")
            for key in task_keys_in(body_text):
                report.created[key] = str(record.id)
        for error in field_of(answer, "errors") or []:
            message = scrub_message(str(field_of(error, "message") or ""))
            for key in (field_of(error, "context") or {}).get("ids") or []:
                report.rejected[str(key)] = message

    @staticmethod
    def _input(task: FollowUpTask, owner: str | None) -> SimplePublicObjectBatchInputForCreate:
        due = datetime.combine(task.due, time(), UTC) if task.due else datetime.now(UTC)
        properties = {
            "hs_task_subject": task.subject,
            "hs_task_body": task_html(task),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": PRIORITIES[task.priority],
            "hs_timestamp": str(epoch_ms(due)),
        }
        if owner:
            properties["hubspot_owner_id"] = owner
        return SimplePublicObjectBatchInputForCreate(
            properties=properties,
            associations=[
                {
                    "to": {"id": task.record.id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": TASK_TO_CONTACT,
                        }
                    ],
                }
            ],
            object_write_trace_id=task.key,
        )

    def task_ids(self, contact_ids: Sequence[str]) -> list[str]:
        """The ids of the tasks associated with these contacts (every page)."""
        found: list[str] = []
        pending: list[tuple[str, str | None]] = [(c, None) for c in sorted(set(contact_ids))]
        while pending:
            cursors: list[tuple[str, str | None]] = []
            for start in range(0, len(pending), ASSOCIATION_BATCH):
                chunk = pending[start : start + ASSOCIATION_BATCH]
                read = association_read(
                    "contacts",
                    "tasks",
                    chunk,
                    of="contact(s)",
                    hint="relcrm stops rather than risk a duplicate task; run again once "
                    "HubSpot lists these contacts' tasks",
                )
                answer = self.client.call(f"list tasks of {len(chunk)} contact(s)", read)
                for result in field_of(answer, "results") or []:
                    contact_id = str(field_of(field_of(result, "_from"), "id"))
                    links = field_of(result, "to") or []
                    found.extend(str(field_of(link, "to_object_id")) for link in links)
                    after = field_of(field_of(field_of(result, "paging"), "next"), "after")
                    if after:
                        cursors.append((contact_id, str(after)))
            pending = cursors
        return sorted(set(found))

    def find(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{key: task id}`` of the contacts' tasks whose body carries one of ``keys``."""
        wanted = set(keys)
        ids = self.task_ids([r.id for r in records])
        rows = read_raw(self.client, "tasks", ids, ["hs_task_body"], what="read task bodies")
        found: dict[str, str] = {}
        for task_id, row in sorted(rows.items()):
            for key in task_keys_in(row.get("hs_task_body")) & wanted:
                found.setdefault(key, task_id)
        return found

    def states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Open, closed or missing (archived) for each task id."""
        rows = read_raw(self.client, "tasks", task_ids, ["hs_task_status"], what="read tasks")
        states = dict.fromkeys(task_ids, TaskState.MISSING)
        for task_id, row in rows.items():
            closed = row.get("hs_task_status") == CLOSED
            states[task_id] = TaskState.CLOSED if closed else TaskState.OPEN
        return states

    def close(self, task_ids: Sequence[str]) -> TasksReport:
        """Set the open tasks' status to COMPLETED; closed or deleted ones count as closed."""
        report = TasksReport()
        states = self.states(task_ids)
        report.closed.extend(t for t, s in states.items() if s is not TaskState.OPEN)
        todo = sorted(t for t, s in states.items() if s is TaskState.OPEN)
        for start in range(0, len(todo), MAX_BATCH):
            batch = todo[start : start + MAX_BATCH]
            body = BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(id=i, properties={"hs_task_status": CLOSED})
                    for i in batch
                ]
            )
            # Setting a status twice leaves it as once: safe to send again.
            answer = self.client.call(
                f"close {len(batch)} follow-up tasks",
                sdk_method("crm.objects.tasks.batch_api.update_with_http_info", body),
            )
            done = {str(r.id) for r in answer.results or []}
            report.closed.extend(t for t in batch if t in done)
            for task_id in batch:
                if task_id not in done:
                    report.rejected[task_id] = "HubSpot did not confirm the status change"
        return report


__all__ = ["MAX_BATCH", "PRIORITIES", "TASK_TO_CONTACT", "TaskWriter", "task_html"]
