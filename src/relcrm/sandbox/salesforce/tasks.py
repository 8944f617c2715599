"""Tasks in the Salesforce sandbox: the activity a follow-up becomes (issue 13).

What a real org does with a Task, and the sandbox copies:

- ``WhoId`` names a Contact or a Lead (a polymorphic lookup, key prefix checked),
  ``WhatId`` another record, ``OwnerId`` the user who should act (the creating user when
  not given);
- ``Status`` is a picklist (Not Started, In Progress, Completed, Waiting on someone else,
  Deferred; default Not Started) and ``IsClosed`` follows it (read-only: only
  "Completed" closes); ``Priority`` is High, Normal or Low (default Normal);
- ``Subject`` holds 255 characters, ``Description`` 32,000, ``ActivityDate`` is a date.

:func:`add_sales_user` adds an active user for records to be owned by, so tests and demos
can check that a task goes to the record's owner, not to the integration user.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from relcrm.sandbox.salesforce.schema import (
    FieldDef,
    ObjectDef,
    long_text,
    make_object,
    picklist,
    readonly,
    ref,
    text,
)
from relcrm.sandbox.salesforce.soql import format_datetime

if TYPE_CHECKING:
    from relcrm.sandbox.salesforce.org import Org

STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
CLOSED_STATUSES = frozenset({"Completed"})


def task_object() -> ObjectDef:
    """The Task sObject with the fields integrations use."""
    who = ref("WhoId", "Name ID", "Contact", "Who", "Tasks")
    who.reference_to = ("Contact", "Lead")
    return make_object(
        "Task",
        "Task",
        "Tasks",
        "00T",
        [
            text("Subject", "Subject", 255, name_field=True),
            long_text("Description", "Description"),
            who,
            ref("WhatId", "Related To ID", "Account", "What", None),
            picklist(
                "Status",
                "Status",
                STATUSES,
                nillable=False,
                defaulted_on_create=True,
                picklist_default="Not Started",
            ),
            picklist(
                "Priority",
                "Priority",
                ("High", "Normal", "Low"),
                nillable=False,
                defaulted_on_create=True,
                picklist_default="Normal",
            ),
            FieldDef("ActivityDate", "Due Date Only", "date"),
            readonly(FieldDef("IsClosed", "Closed", "boolean", nillable=False)),
        ],
        url_style="full",
    )


def derive(row: dict[str, Any]) -> None:
    """Compute a Task's read-only fields before it is stored."""
    row["IsClosed"] = row.get("Status") in CLOSED_STATUSES


def add_sales_user(org: Org, first_name: str, last_name: str) -> str:
    """Add an active user (a sales rep records can be owned by); return the id."""
    stamp = format_datetime(dt.datetime.now(dt.UTC))
    user_id = org.ids.new("005")
    username = f"{first_name}.{last_name}@sandbox.relcrm.test".lower()
    org._put_row(
        "User",
        user_id,
        {
            "Id": user_id,
            "Username": username,
            "LastName": last_name,
            "FirstName": first_name,
            "Name": f"{first_name} {last_name}",
            "Email": username,
            "Alias": (first_name[:1] + last_name[:4]).lower(),
            "IsActive": True,
            "IsDeleted": False,
            "CreatedDate": stamp,
            "CreatedById": org.user_id,
            "LastModifiedDate": stamp,
            "LastModifiedById": org.user_id,
            "SystemModstamp": stamp,
        },
    )
    return user_id


__all__ = ["CLOSED_STATUSES", "STATUSES", "add_sales_user", "derive", "task_object"]
