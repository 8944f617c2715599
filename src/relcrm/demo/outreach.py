"""Outreach in the demo (issue 13): the twins get an account owner, the trapped twin says
how they want to be reached, and the follow-up tasks the sync creates are read back.

The shipped mappings keep ``[outreach]`` commented out (creating tasks in a company's CRM
is the admin's choice), so the demo turns it on as an admin would, with the settings of
the shipped commented example. The owner is a sales rep rather than the integration user,
so the read-back shows the task going to the person who should act on it. Everything is
read back through the CRM's own API, never from what relcrm says it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from hubspot.crm.contacts import SimplePublicObjectInput

from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.connectors.salesforce import soql_quote
from relcrm.mapping import Mapping, OutreachSettings
from relcrm.models import Preference, Provenance, RecordRef
from relcrm.sandbox.hubspot.tasks import OWNERS
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.tasks import add_sales_user
from relcrm.testing.salesforce import CRM_OBJECTS, OrgRest

DEMO_OUTREACH: Final = OutreachSettings(create_task=True, priority="high", due_in_days=2)
"""The shipped mappings' commented ``[outreach]`` example, turned on."""

REP_FIRST, REP_LAST = "Rosa", "Rep"
"""The sales rep who owns the twins' records in both CRMs."""

HUBSPOT_REP: Final = next(owner_id for label, owner_id in OWNERS if label == "Rosa Rep")

STATED: Final = (("channel", "phone"), ("topic", "billing"))
"""What the trapped twin told the support desk: call me, about billing."""


def with_outreach(mapping: Mapping) -> Mapping:
    """``mapping`` with follow-up tasks turned on (:data:`DEMO_OUTREACH`)."""
    return mapping.model_copy(update={"outreach": DEMO_OUTREACH})


def stated_preferences(person_id: str, now: datetime) -> list[Preference]:
    """The trapped twin's stated preferences, as interchange records."""
    return [
        Preference(
            person_id=person_id,
            kind=kind,
            value=value,
            stated_at=now - timedelta(days=20),
            provenance=Provenance(
                source_system="salesforce", source_record_id=f"demo-preference-{kind}"
            ),
        )
        for kind, value in STATED
    ]


@dataclass(frozen=True)
class DemoTask:
    """A follow-up task as the CRM holds it."""

    task_id: str
    subject: str
    owner: str
    """The owner's name, as the CRM names them."""
    status: str
    priority: str


def _sales_rep(sandbox: SalesforceSandbox, rest: OrgRest) -> str:
    """The rep's user id; added once (a kept org has them already)."""
    username = f"{REP_FIRST}.{REP_LAST}@sandbox.relcrm.test".lower()
    found = rest.query(f"SELECT Id FROM User WHERE Username = {soql_quote(username)}")
    if found:
        return str(found[0]["Id"])
    return add_sales_user(sandbox.org, REP_FIRST, REP_LAST)


def own_salesforce(sandbox: SalesforceSandbox, rest: OrgRest, emails: Iterable[str]) -> int:
    """Give the records with ``emails`` to the sales rep; how many were given."""
    rep = _sales_rep(sandbox, rest)
    quoted = ", ".join(soql_quote(e) for e in sorted(set(emails)))
    view = sandbox.org.view()
    given = 0
    for name in CRM_OBJECTS:
        for row in rest.query(f"SELECT Id, OwnerId FROM {name} WHERE Email IN ({quoted})"):
            if row["OwnerId"] != rep:
                view.update(name, str(row["Id"]), {"OwnerId": rep})  # takes the org's lock
            given += 1
    return given


def own_hubspot(connector: HubSpotConnector, people: AbstractMapping[str, str]) -> int:
    """Give the contacts of ``people`` (person id -> email) to the rep, through the
    official client; how many were given."""
    found = connector.find_records("contacts", {pid: [email] for pid, email in people.items()})
    contacts = connector.client.sdk.crm.contacts.basic_api
    for ref in found.matched.values():
        contacts.update(
            ref.id, SimplePublicObjectInput(properties={"hubspot_owner_id": HUBSPOT_REP})
        )
    return len(found.matched)


def salesforce_tasks(rest: OrgRest, records: Sequence[RecordRef]) -> dict[str, list[DemoTask]]:
    """Record id -> the Tasks on it (``WhoId``), read with SOQL."""
    found: dict[str, list[DemoTask]] = {ref.id: [] for ref in records}
    if not found:
        return found
    ids = ", ".join(soql_quote(i) for i in sorted(found))
    soql = (
        "SELECT Id, WhoId, Subject, Owner.Name, Status, Priority FROM Task "
        f"WHERE WhoId IN ({ids}) ORDER BY CreatedDate"
    )
    for row in rest.query(soql):
        owner = row.get("Owner") or {}
        found[str(row["WhoId"])].append(
            DemoTask(
                str(row["Id"]),
                str(row["Subject"]),
                str(owner.get("Name")),
                str(row["Status"]),
                str(row["Priority"]),
            )
        )
    return found


def hubspot_tasks(sdk: Any, records: Sequence[RecordRef]) -> dict[str, list[DemoTask]]:
    """Contact id -> the tasks associated with it, read with the official client; the
    owner named by the portal's own options for ``hubspot_owner_id``."""
    owner_property = sdk.crm.properties.core_api.get_by_name("tasks", "hubspot_owner_id")
    owners = {option.value: option.label for option in owner_property.options}
    names = ["hs_task_subject", "hs_task_status", "hs_task_priority", "hubspot_owner_id"]
    found: dict[str, list[DemoTask]] = {}
    for ref in records:
        links = sdk.crm.associations.v4.basic_api.get_page("contacts", ref.id, "tasks")
        tasks: list[DemoTask] = []
        for link in links.results:
            task = sdk.crm.objects.basic_api.get_by_id(
                "tasks", str(link.to_object_id), properties=names
            )
            values = task.properties
            owner_id = values.get("hubspot_owner_id")
            tasks.append(
                DemoTask(
                    str(task.id),
                    str(values.get("hs_task_subject")),
                    str(owners.get(owner_id, owner_id)),
                    str(values.get("hs_task_status")),
                    str(values.get("hs_task_priority")),
                )
            )
        found[ref.id] = tasks
    return found


__all__ = [
    "DEMO_OUTREACH",
    "HUBSPOT_REP",
    "STATED",
    "DemoTask",
    "hubspot_tasks",
    "own_hubspot",
    "own_salesforce",
    "salesforce_tasks",
    "stated_preferences",
    "with_outreach",
]
