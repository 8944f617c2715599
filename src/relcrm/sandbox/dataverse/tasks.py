"""Tasks and record owners in the Dataverse sandbox (issue 13).

What a real environment does, and the sandbox copies:

- a ``task`` activity (entity set ``tasks``, key ``activityid``) with ``subject`` (200),
  ``description`` (a 2,000-character memo), ``prioritycode`` (0 Low, 1 Normal, 2 High),
  ``scheduledend`` (the due date), ``statecode`` 0 Open / 1 Completed / 2 Canceled and
  its ``statuscode`` (2 Not Started, 3 In Progress, 4 Waiting, 7 Deferred while open;
  5 Completed; 6 Canceled): a status of another state is refused, a new state without a
  status gets that state's default;
- lookups are written with ``@odata.bind`` (``regardingobjectid_contact@odata.bind:
  "/contacts(<id>)"``, ``ownerid@odata.bind: "/systemusers(<id>)"``) and read as
  ``_regardingobjectid_value`` / ``_ownerid_value``; a bound record that does not exist
  is a 404 (``contact With Id = ... Does Not Exist``), an unknown binding a 400;
- every contact, lead and task has an owner (``_ownerid_value``): the calling
  application user unless one of :data:`USERS` is bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from relcrm.sandbox.dataverse import errors as E
from relcrm.sandbox.dataverse.metadata import Attribute, Entity

if TYPE_CHECKING:
    from relcrm.sandbox.dataverse.org import Organization

USERS: tuple[tuple[str, str], ...] = (
    ("00000000-0000-4000-8000-00000000a001", "relcrm application user"),
    ("00000000-0000-4000-8000-00000000a002", "Rosa Rep"),
    ("00000000-0000-4000-8000-00000000a003", "Sam Seller"),
)
"""The environment's users (systemuserid, name); the first is the application user."""
APPLICATION_USER = USERS[0][0]

OPEN_STATUSES = {2: "Not Started", 3: "In Progress", 4: "Waiting on someone else", 7: "Deferred"}
STATE_STATUSES: dict[int, set[int]] = {0: set(OPEN_STATUSES), 1: {5}, 2: {6}}
DEFAULT_STATUS = {0: 2, 1: 5, 2: 6}

OWNER = "_ownerid_value"
REGARDING = "_regardingobjectid_value"
BINDINGS: dict[str, dict[str, tuple[str, str]]] = {
    "task": {
        "ownerid": (OWNER, "systemusers"),
        "regardingobjectid_contact": (REGARDING, "contacts"),
        "regardingobjectid_lead": (REGARDING, "leads"),
    },
    "contact": {"ownerid": (OWNER, "systemusers")},
    "lead": {"ownerid": (OWNER, "systemusers")},
}
"""Per entity: navigation property -> (the ``_..._value`` column, the entity set bound)."""
_BIND = re.compile(r"^/?(?P<set>[a-z_]+)\((?P<id>[0-9a-fA-F-]{36})\)$")


def _lookup(name: str) -> Attribute:
    return Attribute(
        name, name, "Uniqueidentifier", name, valid_for_create=False, valid_for_update=False
    )


def task_entity() -> Entity:
    """The ``task`` activity with the columns a follow-up uses."""
    task = Entity("task", "tasks", "activityid", "subject", 4212, "Task")
    task.add(
        Attribute(
            "activityid",
            "ActivityId",
            "Uniqueidentifier",
            "Task",
            primary_id=True,
            valid_for_update=False,
        )
    )
    task.add(
        Attribute("subject", "Subject", "String", "Subject", max_length=200, primary_name=True)
    )
    task.add(Attribute("description", "Description", "Memo", "Description", max_length=2000))
    task.add(
        Attribute(
            "prioritycode",
            "PriorityCode",
            "Picklist",
            "Priority",
            options=[(0, "Low"), (1, "Normal"), (2, "High")],
        )
    )
    task.add(
        Attribute(
            "scheduledend",
            "ScheduledEnd",
            "DateTime",
            "Due",
            date_format="DateAndTime",
            date_behavior="UserLocal",
        )
    )
    task.add(
        Attribute(
            "statecode",
            "StateCode",
            "State",
            "Activity Status",
            options=[(0, "Open"), (1, "Completed"), (2, "Canceled")],
        )
    )
    statuses = [*OPEN_STATUSES.items(), (5, "Completed"), (6, "Canceled")]
    task.add(Attribute("statuscode", "StatusCode", "Status", "Status Reason", options=statuses))
    task.add(_lookup(OWNER))
    task.add(_lookup(REGARDING))
    for name, text in (("createdon", "Created On"), ("modifiedon", "Modified On")):
        task.add(
            Attribute(
                name,
                name.capitalize(),
                "DateTime",
                text,
                valid_for_create=False,
                valid_for_update=False,
                date_format="DateAndTime",
                date_behavior="UserLocal",
            )
        )
    return task


def extend(entities: dict[str, Entity]) -> dict[str, Entity]:
    """``entities`` with the task table and an owner column on contacts and leads."""
    for name in ("contact", "lead"):
        if name in entities and OWNER not in entities[name].attributes:
            entities[name].add(_lookup(OWNER))
    task = task_entity()
    entities[task.logical_name] = task
    return entities


def lookups(
    org: Organization,
    entity: Entity,
    binds: Mapping[str, Any],
    record_id: str | None,
    *,
    creating: bool,
) -> dict[str, Any]:
    """The ``_..._value`` columns that a body's ``@odata.bind`` annotations set (with the
    default owner on create), each bound record checked."""
    allowed = BINDINGS.get(entity.logical_name, {})
    values: dict[str, Any] = {}
    if creating and OWNER in entity.attributes:
        values[OWNER] = APPLICATION_USER
    for navigation, raw in binds.items():
        if navigation not in allowed:
            raise E.payload_error(
                entity.entity_set,
                f"An undeclared property '{navigation}' which only has property annotations "
                "in the payload but no property value was found in the payload.",
                record_id=record_id,
            )
        column, entity_set = allowed[navigation]
        found = _BIND.match(str(raw))
        if found is None or found["set"] != entity_set:
            raise E.payload_error(
                entity.entity_set,
                f"The value '{raw}' of '{navigation}@odata.bind' is not a URL of {entity_set}.",
                record_id=record_id,
            )
        target = found["id"].lower()
        if entity_set == "systemusers":
            if target not in {u for u, _ in USERS}:
                raise E.record_not_found("systemuser", target)
        else:
            bound = org.entity_by_set(entity_set)
            if bound is None or target not in org.records[bound.logical_name]:
                raise E.record_not_found(bound.logical_name if bound else entity_set, target)
        values[column] = target
    return values


def derive(entity: Entity, values: dict[str, Any]) -> None:
    """A task's status follows its state: the state's default status when the status
    does not belong to it (a new task: Not Started; completed: Completed)."""
    if entity.logical_name != "task":
        return
    state = values.get("statecode") or 0
    if values.get("statuscode") not in STATE_STATUSES[state]:
        values["statuscode"] = DEFAULT_STATUS[state]


__all__ = [
    "APPLICATION_USER",
    "OWNER",
    "REGARDING",
    "USERS",
    "derive",
    "extend",
    "lookups",
    "task_entity",
]
