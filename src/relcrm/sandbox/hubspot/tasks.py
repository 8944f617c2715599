"""Tasks in the HubSpot sandbox: the follow-ups a sync creates for a contact's owner.

What a real portal does with a task (CRM v3 ``objects/tasks``), and the sandbox copies:

- ``hs_timestamp`` (the due date) is required on create, as on notes;
- ``hs_task_status`` is NOT_STARTED, IN_PROGRESS, WAITING, COMPLETED or DEFERRED
  (NOT_STARTED when not given) and ``hs_task_completion_date`` is stamped when it turns
  COMPLETED; ``hs_task_priority`` is NONE, LOW, MEDIUM or HIGH;
- ``hubspot_owner_id`` (on tasks and contacts) is an enumeration of the portal's owners:
  :data:`OWNERS` are seeded, an unknown owner id is refused;
- a task is associated with a contact by the HubSpot-defined types 204 (task to contact)
  and 203 (contact to task), inline on create or through the v4 associations API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relcrm.sandbox.hubspot.schema import PropertyDef

TASK_TO_CONTACT = 204
CONTACT_TO_TASK = 203
TASK_ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("tasks", "contacts"): TASK_TO_CONTACT,
    ("contacts", "tasks"): CONTACT_TO_TASK,
}
"""HubSpot-defined association type ids between tasks and contacts."""

OWNERS: tuple[tuple[str, str], ...] = (
    ("Sandbox Integration", "75000001"),
    ("Rosa Rep", "75000002"),
    ("Sam Seller", "75000003"),
)
"""The portal's owners (label, owner id): records and tasks may be assigned to them."""

STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
PRIORITIES = ("NONE", "LOW", "MEDIUM", "HIGH")


def owner_property(group: str, *, label: str = "Contact owner") -> PropertyDef:
    """``hubspot_owner_id``: an enumeration of the seeded owners."""
    from relcrm.sandbox.hubspot.schema import _p  # the schema module builds on this one

    return _p("hubspot_owner_id", label, "enumeration", "select", group, options=list(OWNERS))


def task_properties() -> list[PropertyDef]:
    """HubSpot's own task properties that integrations read and write (a subset)."""
    from relcrm.sandbox.hubspot.schema import _p

    g = "engagement"
    return [
        _p("hs_task_subject", "Task Title", "string", "text", g),
        _p("hs_task_body", "Task notes", "string", "html", g),
        _p("hs_task_status", "Task Status", "enumeration", "select", g,
           options=[(s.title().replace("_", " "), s) for s in STATUSES]),
        _p("hs_task_priority", "Priority", "enumeration", "select", g,
           options=[(p.title(), p) for p in PRIORITIES]),
        _p("hs_task_type", "Task Type", "enumeration", "select", g,
           options=[("To-do", "TODO"), ("Call", "CALL"), ("Email", "EMAIL")]),
        _p("hs_timestamp", "Due date", "datetime", "date", g),
        _p("hs_task_completion_date", "Completed at", "datetime", "date", g, read_only=True),
        owner_property(g, label="Assigned to"),
        _p("hs_object_id", "Record ID", "number", "number", g, read_only=True),
        _p("hs_createdate", "Create Date", "datetime", "date", g, read_only=True),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g, read_only=True),
    ]  # fmt: skip


def missing_on_create(clean: dict[str, str | None]) -> list[dict[str, Any]]:
    """Problems of a new task's properties: its due date is required."""
    from relcrm.sandbox.hubspot.schema import problem

    if clean.get("hs_timestamp"):
        return []
    return [problem("hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required")]


def derive(properties: dict[str, str], written: dict[str, str | None]) -> None:
    """The portal's own changes after ``written`` was stored into ``properties``."""
    properties.setdefault("hs_task_status", "NOT_STARTED")
    properties.setdefault("hs_task_type", "TODO")
    if written.get("hs_task_status") == "COMPLETED":
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        properties["hs_task_completion_date"] = stamp
    elif "hs_task_status" in written:
        properties.pop("hs_task_completion_date", None)


__all__ = [
    "CONTACT_TO_TASK",
    "OWNERS",
    "TASK_ASSOCIATION_TYPES",
    "TASK_TO_CONTACT",
    "derive",
    "missing_on_create",
    "owner_property",
    "task_properties",
]
