"""Records the sandbox org already holds: seeded in-process, without API calls or credits
(as the HubSpot sandbox's portal is), for tests, the demo and ``--contacts``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from relcrm.models import Person
from relcrm.sandbox.zoho.org import Org


def seed_records(org: Org, module: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Create one record per row (API names to values, as the API takes them); their ids."""
    return [org.add_record(module, row) for row in rows]


def module_of(person: Person) -> str:
    """``Leads`` for a person some source knows as a lead, else ``Contacts``."""
    for record in person.crm_records:
        if record.object.lower() in ("lead", "leads"):
            return "Leads"
    return "Contacts"


def person_row(person: Person, module: str) -> dict[str, Any]:
    """The record an org would already hold for ``person``: names and first email."""
    first, _, last = (person.display_name or "").strip().partition(" ")
    if not last:
        first, last = "", first or person.id
    row: dict[str, Any] = {"Last_Name": last[:80], "Email": person.emails[0]}
    if first:
        row["First_Name"] = first[:40]
    if module == "Leads":
        row["Company"] = "(none)"
    return row


def seed_persons(org: Org, persons: Iterable[Person]) -> dict[str, int]:
    """A Contact or Lead for each person with an email whose email the org does not hold
    yet (so a kept org can be seeded again); how many were created per module."""
    held = {
        str(values.get("Email", "")).casefold()
        for module in org.config.modules
        for values in (org.values_of(module, i) for i in list(org.records[module]))
    }
    created = {module: 0 for module in org.config.modules}
    for person in persons:
        if not person.emails or person.emails[0].casefold() in held:
            continue
        module = module_of(person)
        org.add_record(module, person_row(person, module))
        held.add(person.emails[0].casefold())
        created[module] += 1
    return created
