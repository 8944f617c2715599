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
- An erasure also keeps, under ``counts["identity_hashes"]``, an HMAC-SHA256 of each
  identity the person had (emails, phones, social handles, CRM records, the records relcrm
  matched), under the same salt (:func:`identity_hash`). They let an ingest recognise the
  person if a source brings them again (:class:`ErasureIndex`), and nothing else: like the
  subject, a hash names nobody without the store's salt.
- A ``reconsent`` entry (outcome ``restored``) records that an ingest let a forgotten
  person back in because a record gave consent again after the erasure: the subject, the
  hashes it lifted, the dates of the consent and of the erasure, and the source record
  (``line 12``, ``row 7``).

The module also answers, for :mod:`relcrm.sync.forget`, what the store holds about one
person (rows per table, the CRM records relcrm wrote to), read before erasing so the
caller can clear those records and count what it removed. These methods are mixed into
:class:`relcrm.store.Store`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
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
    identities,
    metadata,
    persons,
    store_meta,
    sync_records,
    sync_state,
)
from relcrm.store.identities import IDENTITY_KINDS, normalize_identity
from relcrm.store.segments.files import PerceptionSegments

AuditAction = Literal["forget", "reconsent"]
"""``forget``: ``relcrm forget`` (see the outcomes); ``reconsent``: an ingest let a
forgotten person back in, because a record gave consent again after the erasure."""
AUDIT_ACTIONS: Final[tuple[str, ...]] = get_args(AuditAction)

AuditOutcome = Literal["erased", "erased_store_only", "kept", "incomplete", "restored"]
"""``erased``: every known CRM record was cleared, then the store was erased;
``erased_store_only``: the store was erased on request although CRM records may still
hold relcrm's fields; ``kept``: a CRM could not be cleared, so the store was left as it
was (run again); ``incomplete``: the store was erased but rows naming the person remain
(a bug: report it); ``restored`` (a ``reconsent``): the person is in the store again."""
AUDIT_OUTCOMES: Final[tuple[str, ...]] = get_args(AuditOutcome)

ERASED_OUTCOMES: Final[frozenset[str]] = frozenset({"erased", "erased_store_only", "incomplete"})
"""Outcomes of a ``forget`` after which the person is no longer in the store: their
identities are refused at ingest from then on (until they consent again)."""

IDENTITY_HASHES: Final = "identity_hashes"
"""The key of ``counts`` that holds the salted hashes of the identities an erasure
forgot (or a re-consent let back in)."""

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


_NOT_DIGIT = re.compile(r"[^0-9]")


def canonical_identity(kind: str, value: str) -> str:
    """The form of an identity that is hashed, so that what a source writes and what the
    store kept give the same hash:

    - ``email``: as the store keys it (lower-cased, trimmed);
    - ``phone``: its digits only (``+44 20 7946 0018`` and ``442079460018`` are one);
    - ``handle``: ``platform:handle`` lower-cased, without the handle's leading ``@``;
    - ``crm``: ``system/object/id`` becomes ``object/id``, the object lower-cased and the
      id as given (CRM ids are case-sensitive). The system is left out, so a person's own
      ``salesforce/Contact/003...`` and the ``Contact 003...`` relcrm matched on a target
      (whose connector the store does not keep) are one record.
    """
    text = value.strip()
    if kind == "email":
        return normalize_identity("email", text)
    if kind == "phone":
        return _NOT_DIGIT.sub("", text)
    if kind == "handle":
        platform, _, handle = text.partition(":")
        return f"{platform.strip().lower()}:{handle.strip().lower().lstrip('@')}"
    if kind == "crm":
        parts = text.split("/", 2)
        if len(parts) != 3:  # not system/object/id: hashed as it is
            return text
        return f"{parts[1].strip().lower()}/{parts[2].strip()}"
    raise ValueError(f"unknown identity kind {kind!r}; use one of {', '.join(IDENTITY_KINDS)}")


def identity_hash(salt: str | bytes, kind: str, value: str) -> str:
    """The salted hash an erasure keeps of one identity (HMAC-SHA256 of the kind and
    :func:`canonical_identity`, hex). A person id is hashed by :func:`subject_hash`."""
    key = bytes.fromhex(salt) if isinstance(salt, str) else salt
    message = f"{kind}\x1f{canonical_identity(kind, value)}".encode()
    return hmac.digest(key, message, "sha256").hex()


@dataclass(frozen=True, slots=True)
class Erasure:
    """What :meth:`ErasureIndex.match` found for a set of hashes."""

    at: datetime
    """When the latest erasure matching one of them happened: a re-consent must be dated
    after it, and what was observed at or before it stays forgotten."""
    in_force: bool
    """Whether an erasure still refuses them: no re-consent lifted it since."""
    entry_id: int
    """The audit entry of that latest erasure."""


class ErasureIndex:
    """Every identity the store forgot, as salted hashes: loaded once per ingest
    (:meth:`AuditStore.erasure_index`) so checking a person costs a few HMACs and set
    lookups, never a query.

    A hash is *in force* when its latest erasure came after its latest re-consent (audit
    entries are ordered by id, not by their clocks). The index is empty (and false) when
    the store never forgot anyone; then an ingest checks nothing at all.
    """

    __slots__ = ("_erased", "_key", "_lifted", "_subjects")

    def __init__(self, salt: str, entries: Iterable[AuditEntry] = ()) -> None:
        self._key = bytes.fromhex(salt)
        self._erased: dict[str, tuple[int, datetime]] = {}
        self._lifted: dict[str, int] = {}
        self._subjects: dict[str, str] = {}
        for entry in sorted(entries, key=lambda e: e.id):
            hashes = [entry.subject, *_hashes_in(entry.counts)]
            if entry.action == "forget" and entry.outcome in ERASED_OUTCOMES:
                for value in hashes:
                    self._erased[value] = (entry.id, entry.at)
            elif entry.action == "reconsent":
                self.lift(hashes, entry.id)

    def __bool__(self) -> bool:
        return bool(self._erased)

    def __len__(self) -> int:
        return len(self._erased)

    def subject(self, person_id: str) -> str:
        """The hash of a person id (as :func:`subject_hash`); remembered, since the same
        ids come back line after line."""
        found = self._subjects.get(person_id)
        if found is None:
            if len(self._subjects) > _SUBJECTS_REMEMBERED:
                self._subjects.clear()
            found = hmac.digest(self._key, person_id.encode("utf-8"), "sha256").hex()
            self._subjects[person_id] = found
        return found

    def identity(self, kind: str, value: str) -> str:
        """The hash of one identity (as :func:`identity_hash`)."""
        return identity_hash(self._key, kind, value)

    def hashes(self, person_id: str | None, identities: Iterable[tuple[str, str]] = ()) -> set[str]:
        """The hashes of a person id (if any) and of ``(kind, value)`` identities (kinds
        ``email``, ``phone``, ``handle``, ``crm``; ``person`` is a person id too)."""
        found = set() if person_id is None else {self.subject(person_id)}
        for kind, value in identities:
            found.add(self.subject(value) if kind == "person" else self.identity(kind, value))
        return found

    def match(self, hashes: Iterable[str]) -> Erasure | None:
        """The latest erasure any of ``hashes`` names, or None if none does."""
        latest: tuple[int, datetime] | None = None
        in_force = False
        for value in hashes:
            erased = self._erased.get(value)
            if erased is None:
                continue
            if latest is None or erased[0] > latest[0]:
                latest = erased
            if self._lifted.get(value, -1) < erased[0]:
                in_force = True
        if latest is None:
            return None
        return Erasure(at=latest[1], in_force=in_force, entry_id=latest[0])

    def erased_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Those of ``hashes`` that an erasure names (in force or lifted)."""
        return {value for value in hashes if value in self._erased}

    def lift(self, hashes: Iterable[str], entry_id: int) -> dict[str, int | None]:
        """Record that the re-consent of audit entry ``entry_id`` let ``hashes`` back in;
        return what the index held for them before, for :meth:`restore`."""
        previous: dict[str, int | None] = {}
        for value in hashes:
            before = self._lifted.get(value)
            if before is None or before < entry_id:
                previous.setdefault(value, before)
                self._lifted[value] = entry_id
        return previous

    def restore(self, previous: Mapping[str, int | None]) -> None:
        """Undo a :meth:`lift` (given what it returned)."""
        for value, before in previous.items():
            if before is None:
                self._lifted.pop(value, None)
            else:
                self._lifted[value] = before


_SUBJECTS_REMEMBERED = 100_000
"""Person-id hashes an index remembers (cleared past this, so memory stays bounded)."""


def _hashes_in(counts: Mapping[str, Any]) -> list[str]:
    found = counts.get(IDENTITY_HASHES, [])
    return [str(value) for value in found] if isinstance(found, list) else []


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

    _segments: PerceptionSegments | None

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

    def erasure_index(self) -> ErasureIndex:
        """Every erasure and re-consent of the log, as an :class:`ErasureIndex`: what an
        ingest loads once to refuse the persons the store forgot."""
        query = (
            select(audit_log).where(audit_log.c.action.in_(AUDIT_ACTIONS)).order_by(audit_log.c.id)
        )
        with self._read() as connection:
            entries = [
                _entry(row)
                for row in connection.execute(query)
                if row.action == "reconsent" or row.outcome in ERASED_OUTCOMES
            ]
        return ErasureIndex(self._audit_salt(), entries)

    def record_reconsent(
        self,
        person_id: str,
        hashes: Iterable[str],
        *,
        consent_at: datetime,
        erased_at: datetime,
        record: str,
        via: str,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Log that ``person_id``, forgotten at ``erased_at``, was let back in by ``record``
        of a ``via`` source (``interchange``, ``survey``...) whose consent is dated
        ``consent_at``; ``hashes`` are the erased hashes it lifts. ``record`` must name a
        place in the source (``line 12``), never an identity."""
        counts = {
            IDENTITY_HASHES: sorted(set(hashes)),
            "consent_at": _utc(consent_at).isoformat(),
            "erased_at": _utc(erased_at).isoformat(),
            "record": record,
            "via": via,
        }
        return self.record_audit("reconsent", person_id, counts, "restored", at=at)

    # -- what the store holds about one person -----------------------------------------

    def identity_hashes(self, person_id: str) -> list[str]:
        """The salted hashes of every identity of ``person_id`` (their emails, phones,
        handles and CRM records, and the CRM records relcrm matched to them), for the
        erasure's audit entry: read before erasing, they are all the store keeps."""
        salt = bytes.fromhex(self._audit_salt())
        own = select(identities.c.kind, identities.c.value).where(
            identities.c.person_id == person_id
        )
        matched = select(sync_records.c.crm_object, sync_records.c.record_id).where(
            sync_records.c.person_id == person_id,
            sync_records.c.record_id.is_not(None),
            sync_records.c.crm_object.is_not(None),
        )
        found: set[str] = set()
        with self._read() as connection:
            for row in connection.execute(own):
                if row.kind in IDENTITY_KINDS:
                    found.add(identity_hash(salt, row.kind, row.value))
            for row in connection.execute(matched):
                # The system does not count (see canonical_identity): any will do here.
                record = f"-/{row.crm_object}/{row.record_id}"
                found.add(identity_hash(salt, "crm", record))
        return sorted(found)

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
        if self._segments is not None:  # perceptions kept beside the store count too
            counts["perceptions"] += self._segments.rows_of(person_id)
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
    "ERASED_OUTCOMES",
    "IDENTITY_HASHES",
    "PERSON_TABLES",
    "AuditAction",
    "AuditEntry",
    "AuditOutcome",
    "AuditStore",
    "Erasure",
    "ErasureIndex",
    "RememberedRecord",
    "canonical_identity",
    "identity_hash",
    "subject_hash",
]
