"""The audit log of erasures, and what the store knows of one person before it forgets them.

``relcrm forget`` erases a person and must still be able to show that it did, without
keeping what it erased. An :class:`AuditEntry` therefore holds no personal data:

- ``subject`` is an HMAC-SHA256 of the person id, keyed with a random salt that each
  store creates for itself (migration 6, ``store_meta.audit_salt``). The same person id
  always gives the same subject in one store, so an erasure can be found again when the
  same id is asked about (:meth:`AuditStore.audit_entries` with ``person_id``), but the
  entry alone names nobody; without the store's salt it cannot even be tested against a
  guessed id.
- ``counts`` holds numbers (rows erased per table) and target names (the targets file's
  names, such as ``sf-contact``): never an email, a name, a record id or a person id.

The module also answers, for :mod:`relcrm.sync.forget`, what the store holds about one
person (rows per table, the CRM records relcrm wrote to), read before erasing so the
caller can clear those records and count what it removed. These methods are mixed into
:class:`relcrm.store.Store`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from sqlalchemy import Column, Table, func, select

from relcrm.store._part import StorePart
from relcrm.store._part import from_column as _read_utc
from relcrm.store._part import to_utc as _utc
from relcrm.store._tables import (
    audit_log,
    metadata,
    persons,
    store_meta,
    sync_records,
    sync_state,
)

AuditAction = Literal["forget"]
AUDIT_ACTIONS: Final[tuple[str, ...]] = get_args(AuditAction)

AuditOutcome = Literal["erased", "erased_store_only", "kept", "incomplete"]
"""``erased``: every known CRM record was cleared, then the store was erased;
``erased_store_only``: the store was erased on request although CRM records may still
hold relcrm's fields; ``kept``: a CRM could not be cleared, so the store was left as it
was (run again); ``incomplete``: the store was erased but rows naming the person remain
(a bug: report it)."""
AUDIT_OUTCOMES: Final[tuple[str, ...]] = get_args(AuditOutcome)

SALT_KEY: Final = "audit_salt"
"""The ``store_meta`` key of the store's audit salt (64 hex digits)."""

PERSON_TABLES: Final[tuple[str, ...]] = tuple(
    sorted(
        name
        for name, table in metadata.tables.items()
        if "person_id" in table.columns or table is persons
    )
)
"""Every table that can name a person, found from the schema itself, so a table added
later is counted (and checked after erasure) without anyone remembering to list it."""


def _person_column(table: Table) -> Column[Any]:
    return table.c.id if table is persons else table.c.person_id


def subject_hash(salt: str, person_id: str) -> str:
    """The audit subject of ``person_id`` under ``salt``: HMAC-SHA256, hex."""
    return hmac.new(bytes.fromhex(salt), person_id.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One audited action. ``counts`` is JSON-ready: rows erased per table under
    ``"rows"``, CRM target names per result under ``"targets"``."""

    id: int
    at: datetime
    action: AuditAction
    subject: str
    counts: dict[str, Any]
    outcome: AuditOutcome

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "action": self.action,
            "subject": self.subject,
            "counts": self.counts,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class RememberedRecord:
    """A CRM record relcrm matched (and so may have written) for a person on one target.

    ``cleared_at`` is when its fields were last emptied after consent was withdrawn, and
    ``pushed_fields`` how many fields were pushed and not cleared since: a record with a
    ``cleared_at`` and no pushed fields holds none of relcrm's values any more.
    """

    target: str
    object: str
    record_id: str
    cleared_at: datetime | None
    pushed_fields: int

    @property
    def holds_fields(self) -> bool:
        """Whether relcrm's fields may still hold values there, as far as the store knows."""
        return self.cleared_at is None or self.pushed_fields > 0


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=int(row.id),
        at=_read_utc(row.at),
        action=row.action,
        subject=row.subject,
        counts=json.loads(row.counts),
        outcome=row.outcome,
    )


class AuditStore(StorePart):
    """The store's part for the audit log and pre-erasure reads (mixed into Store)."""

    # -- the salt and subjects ---------------------------------------------------------

    def _audit_salt(self) -> str:
        """The store's salt; made now if a store somehow lacks it (migration 6 makes it)."""
        query = select(store_meta.c.value).where(store_meta.c.key == SALT_KEY)
        with self._read() as connection:
            salt = connection.scalar(query)
        if salt is not None:
            return str(salt)
        with self._write() as connection:
            connection.execute(
                self._insert(store_meta)
                .values(key=SALT_KEY, value=secrets.token_hex(32))
                .on_conflict_do_nothing(index_elements=[store_meta.c.key])
            )
            return str(connection.scalar(query))

    def audit_subject(self, person_id: str) -> str:
        """What the audit log calls ``person_id`` in this store (a salted one-way hash)."""
        return subject_hash(self._audit_salt(), person_id)

    # -- the log -----------------------------------------------------------------------

    def record_audit(
        self,
        action: AuditAction,
        person_id: str,
        counts: Mapping[str, Any],
        outcome: AuditOutcome,
        *,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Log ``action`` on ``person_id`` (stored only as its subject hash); return the entry.

        ``counts`` must hold numbers and target names only: the caller must never put an
        identity, a name or a record id in it (the log outlives the person on purpose).
        """
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if outcome not in AUDIT_OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        when = _utc(at) if at is not None else datetime.now(UTC)
        subject = self.audit_subject(person_id)
        text = json.dumps(dict(counts), sort_keys=True, separators=(",", ":"))
        with self._write() as connection:
            new_id = connection.scalar(
                audit_log.insert()
                .values(at=when, action=action, subject=subject, counts=text, outcome=outcome)
                .returning(audit_log.c.id)
            )
        return AuditEntry(int(new_id), when, action, subject, json.loads(text), outcome)

    def audit_entries(
        self, limit: int | None = None, *, person_id: str | None = None
    ) -> list[AuditEntry]:
        """Audit entries, newest first (at most ``limit``); only those about ``person_id``
        when given (matched through its subject hash: the log never holds the id)."""
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if person_id is not None:
            query = query.where(audit_log.c.subject == self.audit_subject(person_id))
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            return [_entry(row) for row in connection.execute(query)]

    # -- what the store holds about one person -----------------------------------------

    def person_footprint(self, person_id: str) -> dict[str, int]:
        """Rows naming ``person_id``, per table (every table of :data:`PERSON_TABLES`,
        zeros included): what erasure removes, and after it, what it missed."""
        counts: dict[str, int] = {}
        with self._read() as connection:
            for name in PERSON_TABLES:
                table = metadata.tables[name]
                query = (
                    select(func.count())
                    .select_from(table)
                    .where(_person_column(table) == person_id)
                )
                counts[name] = int(connection.scalar(query) or 0)
        return counts

    def remembered_records(self, person_id: str) -> list[RememberedRecord]:
        """Every CRM record relcrm matched for ``person_id``, one per target, by target."""
        pushed = (
            select(sync_state.c.target, func.count().label("fields"))
            .where(sync_state.c.person_id == person_id)
            .group_by(sync_state.c.target)
        )
        query = (
            select(
                sync_records.c.target,
                sync_records.c.crm_object,
                sync_records.c.record_id,
                sync_records.c.cleared_at,
            )
            .where(sync_records.c.person_id == person_id, sync_records.c.record_id.is_not(None))
            .order_by(sync_records.c.target)
        )
        with self._read() as connection:
            fields = {row.target: int(row.fields) for row in connection.execute(pushed)}
            rows = connection.execute(query).all()
        return [
            RememberedRecord(
                target=row.target,
                object=row.crm_object or "",
                record_id=row.record_id,
                cleared_at=None if row.cleared_at is None else _read_utc(row.cleared_at),
                pushed_fields=fields.get(row.target, 0),
            )
            for row in rows
        ]

    def persons_with_record(
        self, crm_object: str, record_id: str, *, targets: Iterable[str] | None = None
    ) -> dict[str, str]:
        """``{target: person_id}`` for the persons whose remembered record is ``record_id``
        of ``crm_object`` (on ``targets`` only, when given): finds a person from a record
        id seen in the CRM even when the person's own identities do not list it."""
        query = select(sync_records.c.target, sync_records.c.person_id).where(
            sync_records.c.crm_object == crm_object, sync_records.c.record_id == record_id
        )
        if targets is not None:
            query = query.where(sync_records.c.target.in_(sorted(set(targets))))
        with self._read() as connection:
            return {row.target: row.person_id for row in connection.execute(query)}


__all__ = [
    "AUDIT_ACTIONS",
    "AUDIT_OUTCOMES",
    "PERSON_TABLES",
    "AuditAction",
    "AuditEntry",
    "AuditOutcome",
    "AuditStore",
    "RememberedRecord",
    "subject_hash",
]
