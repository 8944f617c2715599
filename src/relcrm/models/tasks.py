"""Follow-up tasks for the record's owner, in CRM-neutral words (issue 13).

A profile that says a human should reach out now becomes one task in the CRM, assigned to
whoever owns the person's record. The sync engine builds :class:`FollowUpTask` values and a
connector that declares ``follow_up_tasks`` (:class:`relcrm.connectors.TaskSink`) turns
them into a Salesforce Task, a HubSpot task, a Dataverse task or a Zoho task.

Each task carries relcrm's key for it (:data:`TASK_KEY`), written as a marker line into
the task's body: a run killed after the CRM created a task but before the store noted it
finds the task by that marker and never creates a second one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints

from relcrm.models._base import FrozenModel
from relcrm.models.crm import RecordRef

TASK_KEY: Final = re.compile(r"[0-9a-f]{32}")
"""relcrm's key of a task: 16 random bytes in hex, fixed before the CRM is called."""

TASK_MARKER_PREFIX: Final = "relcrm:task:"
TASK_MARKER: Final = re.compile(re.escape(TASK_MARKER_PREFIX) + f"({TASK_KEY.pattern})")

TaskPriority = Literal["high", "normal", "low"]
"""How urgent the task is; each connector maps it to its CRM's picklist."""

MAX_SUBJECT: Final = 255
"""The shortest subject limit of the supported CRMs (Salesforce Task.Subject)."""


class FollowUpTask(FrozenModel):
    """One task to create on a person's record, for the record's owner."""

    key: Annotated[str, StringConstraints(pattern=TASK_KEY.pattern)]
    person_id: str
    record: RecordRef
    subject: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SUBJECT)]
    body: str = Field(description="plain words (the outreach reason), never a verbatim")
    priority: TaskPriority = "normal"
    due: date | None = None

    def body_with_marker(self) -> str:
        """The body and, on a line of its own, the marker a later run finds the task by."""
        return f"{self.body}\n\n{TASK_MARKER_PREFIX}{self.key}"


def task_keys_in(text: str | None) -> set[str]:
    """The task keys whose marker appears in a task body."""
    return set(TASK_MARKER.findall(text or ""))


class TaskState(StrEnum):
    """Where a task stands in the CRM."""

    OPEN = "open"
    CLOSED = "closed"
    MISSING = "missing"
    """Deleted in the CRM, or never there."""


@dataclass
class TasksReport:
    """What creating or closing tasks did, by relcrm task key."""

    created: dict[str, str] = field(default_factory=dict)
    """Task key -> the CRM's id of the task created."""
    closed: list[str] = field(default_factory=list)
    """Task ids closed (or found closed already)."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Task key (or task id, when closing) -> the CRM's reason, never a value sent."""


__all__ = [
    "MAX_SUBJECT",
    "TASK_KEY",
    "TASK_MARKER",
    "TASK_MARKER_PREFIX",
    "FollowUpTask",
    "TaskPriority",
    "TaskState",
    "TasksReport",
    "task_keys_in",
]
