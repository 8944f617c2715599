"""Consent kept in the CRM: read it into the store before a sync writes anything.

When a mapping names a ``[consent]`` field, each sync of that target first reads the
field for every person's record (matching those never matched, and remembering them),
and sets the person's consent in the store from it. The consent gate then acts as
usual: a person whose field says no is not written, and one who withdrew has relcrm's
fields cleared on this very sync. The field is only ever read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from relcrm.connectors import Connector
from relcrm.mapping import Mapping
from relcrm.models import Consent, Person
from relcrm.store import Store

logger = logging.getLogger(__name__)

PAGE = 500
"""Persons handled per round of matching and reading."""


@dataclass
class ConsentPull:
    """What reading consent from a CRM changed in the store."""

    target: str
    consent_field: str
    read: int = 0
    granted: list[str] = field(default_factory=list)
    """Persons whose consent the CRM now grants (it did not before)."""
    withdrawn: list[str] = field(default_factory=list)
    """Persons who had consent and whose CRM field now says no."""
    not_in_crm: int = 0
    """Persons without a record there: their consent is left as it was."""


def pull_consent(
    store: Store, connector: Connector, mapping: Mapping, *, target: str, now: datetime
) -> ConsentPull:
    """Read ``mapping.consent.field`` for every person's record on ``target`` and update
    their consent in the store where it changed (source and time recorded)."""
    if mapping.consent is None:
        raise ValueError(f"mapping {mapping.target} names no consent field")
    consent_field = mapping.consent
    report = ConsentPull(target, consent_field.field)
    for page in store.person_pages(PAGE):
        persons = {person.id: person for person, _ in page}
        known = store.known_records(target, persons)
        wanted = {
            pid: keys
            for pid, p in persons.items()
            if pid not in known and (keys := mapping.match_keys(p))
        }
        if wanted:
            found = connector.find_records(
                mapping.object, wanted, by=mapping.match.by, fallback=mapping.match.fallback
            )
            store.remember_records(
                target, {p: (ref.object, ref.id) for p, ref in found.matched.items()}, at=now
            )
            known = store.known_records(target, persons)
        report.not_in_crm += len(persons) - len(known)
        values: dict[str, object] = {}
        for object_name in sorted({record.object for record in known.values()}):
            ids = [r.record_id for r in known.values() if r.object == object_name]
            for record_id, read in connector.read_values(
                object_name, ids, [consent_field.field]
            ).items():
                values[record_id] = read.get(consent_field.field)
        changed: list[Person] = []
        for person_id, record in known.items():
            if record.record_id not in values:
                continue
            report.read += 1
            person = persons[person_id]
            granted = consent_field.grants(values[record.record_id])
            if granted == person.consent.granted:
                continue
            (report.granted if granted else report.withdrawn).append(person_id)
            consent = Consent(
                granted=granted,
                updated_at=now,
                source=f"{target}: {record.object}.{consent_field.field}",
            )
            changed.append(person.model_copy(update={"consent": consent}))
        if changed:
            store.upsert_persons(changed)
    logger.info(
        "%s: consent read from %s for %d persons: %d granted, %d withdrawn",
        target,
        consent_field.field,
        report.read,
        len(report.granted),
        len(report.withdrawn),
    )
    return report


__all__ = ["ConsentPull", "pull_consent"]
