"""Tasks and record owners in the Zoho CRM sandbox (issue 13).

What a real org does, and the sandbox copies:

- a ``Tasks`` module with ``Subject`` (mandatory, 255), ``Description`` (a large
  textarea), ``Status`` (Not Started, Deferred, In Progress, Completed, Waiting for
  input), ``Priority`` (Highest, High, Normal, Low, Lowest), ``Due_Date`` (a date), the
  contact in ``Who_Id`` and another record in ``What_Id`` (with ``$se_module``);
- lookups (``Who_Id``, ``What_Id``) and the owner (``Owner``) are written as ``{"id":
  ...}`` and read back as ``{"id", "name"}``; an id that names no record of the looked-up
  module, or no user, is ``INVALID_DATA``; a record whose owner was never set is owned
  by the calling user;
- :data:`USERS` are the org's users; records and tasks may be assigned to any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from relcrm.sandbox.zoho.schema import FieldDef, ValueProblem

if TYPE_CHECKING:
    from relcrm.sandbox.zoho.org import Org

USERS: tuple[tuple[str, str], ...] = (
    ("3652397000000186017", "relcrm sandbox"),
    ("3652397000000186019", "Rosa Rep"),
    ("3652397000000186021", "Sam Seller"),
)
"""The org's users (id, name); the first is the integration user the sandbox's tokens act as."""

STATUSES = ["Not Started", "Deferred", "In Progress", "Completed", "Waiting for input"]
PRIORITIES = ["Highest", "High", "Normal", "Low", "Lowest"]
LOOKUPS = {"Who_Id": "Contacts"}
"""Lookup -> the module it names (``What_Id``'s comes with the record: ``$se_module``)."""


def task_fields() -> list[FieldDef]:
    """The standard fields of ``Tasks`` (a subset)."""
    fields = [
        FieldDef("Subject", "Subject", "text", length=255, system_mandatory=True),
        FieldDef("Description", "Description", "textarea", length=32000, textarea_type="large"),
        FieldDef("Status", "Status", "picklist", pick_list_values=STATUSES),
        FieldDef("Priority", "Priority", "picklist", pick_list_values=PRIORITIES),
        FieldDef("Due_Date", "Due Date", "date"),
        FieldDef("Who_Id", "Contact Name", "lookup"),
        FieldDef("What_Id", "Related To", "lookup"),
        FieldDef("Owner", "Task Owner", "ownerlookup"),
        FieldDef("Created_Time", "Created Time", "datetime", read_only=True),
        FieldDef("Modified_Time", "Modified Time", "datetime", read_only=True),
    ]
    for offset, item in enumerate(fields):
        item.id = str(3_652_397_000_000_050_500 + offset)
    return fields


def lookup_value(
    org: Org, spec: FieldDef, value: Any, record: Mapping[str, Any]
) -> dict[str, str] | None:
    """A lookup or owner as stored (``{"id", "name"}``, the module too), or
    :class:`ValueProblem` when it names nothing."""
    if value is None:
        return None
    target = value.get("id") if isinstance(value, Mapping) else value
    target = str(target or "")
    if spec.data_type == "ownerlookup":
        for user_id, name in USERS:
            if user_id == target:
                return {"id": user_id, "name": name}
        raise ValueProblem(expected_data_type="ownerlookup")
    module = LOOKUPS.get(spec.api_name) or str(record.get("$se_module") or "")
    if module not in org.records or target not in org.records[module]:
        raise ValueProblem(expected_data_type="lookup")
    held = org.records[module][target].values
    name = " ".join(str(held[n]) for n in ("First_Name", "Last_Name") if held.get(n))
    return {"id": target, "name": name or target, "module": module}


def shown(value: Any) -> Any:
    """A stored lookup as the API gives it back (``module`` stays inside the org)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "module"}
    return value


__all__ = ["LOOKUPS", "PRIORITIES", "STATUSES", "USERS", "lookup_value", "shown", "task_fields"]
