"""Seeding a sandbox with the records an environment already holds: a contact for every
person with an e-mail, or a lead for a person the sources know as a lead (``relcrm sandbox
dataverse --contacts FILE`` and the tests use it).

Names come from the person's display name, cut to Dataverse's column lengths (first and
last name 50 characters); a person already present (same ``emailaddress1``, any case) is
left alone, so a kept sandbox can be seeded again. Seeded records are not in the request
log: they are the CRM's history, not relcrm's writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relcrm.models import Person
from relcrm.sandbox.dataverse.org import Organization


def table_of(person: Person) -> str:
    """``lead`` for persons a source knows as a lead, else ``contact``."""
    for record in person.crm_records:
        if record.object.lower() in ("lead", "leads"):
            return "lead"
    return "contact"


def seed_row(person: Person) -> dict[str, Any]:
    first, _, last = (person.display_name or "").strip().partition(" ")
    if not last:
        first, last = "", first or person.id
    row: dict[str, Any] = {"lastname": last[:50], "emailaddress1": person.emails[0][:100]}
    if first:
        row["firstname"] = first[:50]
    return row


def seed_persons(org: Organization, persons: Iterable[Person]) -> dict[str, int]:
    """Create a contact or lead per person with an e-mail not held yet; ``{table: created}``."""
    with org.lock:
        present = {
            str(record.values.get("emailaddress1") or "").casefold()
            for table in ("contact", "lead")
            for record in org.records[table].values()
        }
        rows: dict[str, list[dict[str, Any]]] = {"contact": [], "lead": []}
        for person in persons:
            if not person.emails or person.emails[0].casefold() in present:
                continue
            present.add(person.emails[0].casefold())
            rows[table_of(person)].append(seed_row(person))
        return {table: len(org.seed(table, found)) for table, found in rows.items()}
