"""Right to erasure: forget a person in every CRM relcrm wrote to, then in the store.

:func:`forget` is what ``relcrm forget`` runs, and what a script handling data-subject
requests calls:

1. **Resolve** the identity (an email, phone, ``platform:handle``, ``system/object/id``
   CRM record, or relcrm's person id) to one stored person. A CRM record relcrm wrote to
   is found from the sync state too, when the person's own identities do not list it.
   Nothing found: :class:`UnknownPersonError`, and nothing is written (no audit entry
   either: it would name someone the store does not know).
2. **Clear the CRMs first.** For every target the store remembers a record of the person
   on, write every field of that target's mapping as empty (``None``) into that record,
   through the connector built from the targets file. Only fields named in the mapping are
   written; nothing else of the record is touched.
3. **Erase the store** (:meth:`relcrm.store.Store.erase_person`: identities, perceptions,
   preferences, profile, sync state, dead letters, checkpoints) only when every known
   record was cleared. If a CRM rejected the write, could not be reached, or the target is
   not in the targets file, the store is kept as it was, so running ``forget`` again once
   the CRM is back finishes the job; the report names the targets that failed.
   ``store_only`` erases the store without calling any CRM, and the report lists the
   records that may still hold relcrm's fields, for someone to clear by hand.
4. **Audit**: one :class:`relcrm.store.audit.AuditEntry` per attempt on a known person,
   holding a salted hash of the person id, rows erased per table, target names per result,
   and the outcome: no identity, name, person id or record id. An erasure also keeps a
   salted hash of each identity the person had (and of each CRM record relcrm matched to
   them), read just before erasing: every later ingest refuses a record that names one of
   them, unless that record gives consent again after the erasure
   (:mod:`relcrm.sync.ingest`).

Social posts held in ``unresolved_posts`` are not touched: they are held precisely
because no person is known for their handle, so they belong to nobody in the store (and
erasing by handle would need the handle, which is personal data we would have to keep).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from relcrm.connectors import Connector
from relcrm.connectors.errors import QuotaExhausted
from relcrm.errors import ConfigurationError, ConnectorError, InputError
from relcrm.models import Consent, FieldWrite, RecordRef, WriteOutcome
from relcrm.store import Store
from relcrm.store.audit import IDENTITY_HASHES, AuditOutcome, RememberedRecord
from relcrm.store.identities import IDENTITY_KINDS, normalize_identity
from relcrm.sync.config import Config, Target, build_connector, load_config
from relcrm.sync.engine import ExitCode

PERSON_ID: Final = "person_id"
"""The identity kind that names relcrm's own person id."""

IDENTITY_KIND_CHOICES: Final[tuple[str, ...]] = (*IDENTITY_KINDS, PERSON_ID)
"""What :func:`forget` takes as ``identity_kind``."""

_CRM = re.compile(r"^[a-z][a-z0-9_]*/[^/\s]+/[^/\s]+$")
_HANDLE = re.compile(r"^[a-z0-9_.-]+:\S+$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,}$")


class UnknownPersonError(InputError):
    """No stored person has the identity given (or several do, for a CRM record)."""

    code = "forget.unknown_identity"
    default_hint = (
        "check the spelling and the kind of identity; a person already forgotten cannot "
        "be found again (`relcrm audit` lists past erasures)"
    )


def identity_kind_of(value: str) -> str:
    """The kind of identity ``value`` looks like: ``crm`` (``salesforce/Contact/003...``),
    ``handle`` (``x:@jane``), ``email`` or ``phone``. A person id cannot be told from its
    shape: pass its kind explicitly (``--person-id``)."""
    text = value.strip()
    if _CRM.match(text):
        return "crm"
    if _HANDLE.match(text) and not _EMAIL.match(text.split(":", 1)[0]):
        # "x:@jane" is a handle; "mailto:jane@x.com" is not worth guessing at.
        return "handle"
    if _EMAIL.match(text):
        return "email"
    if _PHONE.match(text):
        return "phone"
    raise ConfigurationError(
        "cannot tell what kind of identity this is",
        hint="give an email, a phone, platform:handle, system/object/id, "
        "or a person id with --person-id (or say which with --kind)",
        code="forget.unknown_identity_kind",
    )


class TargetStatus(StrEnum):
    """What forgetting did on one target the store remembers a record on."""

    CLEARED = "cleared"
    """relcrm's fields in the record were emptied."""
    REJECTED = "rejected"
    """the CRM refused the write (its code and message are in the report)."""
    UNREACHABLE = "unreachable"
    """the CRM could not be reached, or refused the credentials."""
    NOT_CONFIGURED = "not_configured"
    """the target is not in the targets file (or no targets file was given)."""
    SKIPPED = "skipped"
    """not called: ``store_only`` was asked for."""
    DRY_RUN = "dry_run"
    """would be cleared; nothing was called."""


_FAILED: Final = frozenset({TargetStatus.REJECTED, TargetStatus.UNREACHABLE})


@dataclass(frozen=True)
class TargetResult:
    """One target's outcome. ``record`` is the CRM record: shown to the operator (who must
    clear it by hand if it was not cleared), never written to the audit log."""

    target: str
    record: RememberedRecord
    status: TargetStatus
    error_code: str | None = None
    message: str | None = None
    quota: bool = False

    @property
    def still_holds_fields(self) -> bool:
        """Whether relcrm's values may still be in the record after this forget."""
        return self.status is not TargetStatus.CLEARED and self.record.holds_fields

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "object": self.record.object,
            "record_id": self.record.record_id,
            "status": self.status.value,
            "still_holds_fields": self.still_holds_fields,
            "error_code": self.error_code,
            "message": self.message,
        }


@dataclass
class ForgetReport:
    """What :func:`forget` did. ``person_id`` and the records are for the caller; the
    audit entry (``audit_id``) keeps neither."""

    person_id: str
    store_only: bool = False
    dry_run: bool = False
    targets: list[TargetResult] = field(default_factory=list)
    erased: bool = False
    rows_erased: dict[str, int] = field(default_factory=dict)
    """Rows removed per table (counted just before erasing); empty if not erased."""
    rows_left: dict[str, int] = field(default_factory=dict)
    """Rows still naming the person after erasing (always empty unless relcrm has a bug)."""
    identities_refused: int = 0
    """Identities (and matched CRM records) the audit entry keeps as salted hashes once
    the store is erased: an ingest refuses records that name them from then on."""
    audit_id: int | None = None

    @property
    def targets_cleared(self) -> list[str]:
        return [t.target for t in self.targets if t.status is TargetStatus.CLEARED]

    @property
    def targets_failed(self) -> list[str]:
        """Targets whose record could not be cleared (rejected, unreachable, or not in
        the targets file) when clearing was asked for."""
        return [
            t.target
            for t in self.targets
            if t.status in _FAILED or t.status is TargetStatus.NOT_CONFIGURED
        ]

    @property
    def records_holding_fields(self) -> list[TargetResult]:
        """The records that may still hold relcrm's values: clear them by hand."""
        return [t for t in self.targets if t.still_holds_fields]

    @property
    def outcome(self) -> AuditOutcome:
        if not self.erased:
            return "kept"
        if self.rows_left:
            return "incomplete"
        return "erased_store_only" if self.store_only else "erased"

    @property
    def exit_code(self) -> ExitCode:
        """0 done; 1 a record not cleared (rejected, or target not in the file) or rows
        left; 3 a CRM unreachable; 4 a CRM's quota spent. ``store_only`` is done (0)
        once the store is erased."""
        if self.rows_left:
            return ExitCode.REJECTED
        if self.dry_run or (self.store_only and self.erased):
            return ExitCode.OK
        worst = ExitCode.OK
        for item in self.targets:
            if item.status is TargetStatus.UNREACHABLE:
                worst = max(worst, ExitCode.QUOTA if item.quota else ExitCode.CONNECT)
            elif item.status in (TargetStatus.REJECTED, TargetStatus.NOT_CONFIGURED):
                worst = max(worst, ExitCode.REJECTED)
        return worst

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "dry_run": self.dry_run,
            "store_only": self.store_only,
            "erased": self.erased,
            "outcome": None if self.dry_run else self.outcome,
            "targets": [t.to_json() for t in self.targets],
            "targets_cleared": self.targets_cleared,
            "targets_failed": self.targets_failed,
            "rows_erased": self.rows_erased,
            "rows_left": self.rows_left,
            "identities_refused": self.identities_refused,
            "audit_id": self.audit_id,
            "exit_code": int(self.exit_code),
        }


# --------------------------------------------------------------------------- resolving


def resolve_person(
    store: Store, identity_kind: str, value: str, *, config: Config | None = None
) -> str:
    """The id of the one stored person ``value`` names; :class:`UnknownPersonError` if
    none does. A ``crm`` value is looked up among the persons' identities, then among
    the records relcrm matched (on the targets of ``config`` using that connector)."""
    if identity_kind not in IDENTITY_KIND_CHOICES:
        raise ConfigurationError(
            f"unknown identity kind {identity_kind!r}",
            hint=f"use one of {', '.join(IDENTITY_KIND_CHOICES)}",
            code="forget.unknown_identity_kind",
        )
    text = value.strip()
    if not text:
        raise UnknownPersonError(f"an empty {identity_kind} names nobody")
    if identity_kind == PERSON_ID:
        footprint = store.person_footprint(text)
        if any(footprint.values()):
            return text
        raise UnknownPersonError(_not_found(store, PERSON_ID, text))
    found = store.find_person(identity_kind, text)
    if found is not None:
        return found
    if identity_kind == "crm" and text.count("/") >= 2:
        by_record = _person_by_record(store, normalize_identity("crm", text), config)
        if by_record is not None:
            return by_record
    raise UnknownPersonError(_not_found(store, identity_kind, text))


def _person_by_record(store: Store, value: str, config: Config | None) -> str | None:
    system, crm_object, record_id = value.split("/", 2)
    targets = None
    if config is not None:
        targets = [t.name for t in config.targets if t.connector == system]
    owners = set(store.persons_with_record(crm_object, record_id, targets=targets).values())
    if len(owners) > 1:
        raise UnknownPersonError(
            f"{len(owners)} persons are matched to this {system} record",
            hint="forget each with --person-id (see `relcrm dead-letters list` or the "
            "CRM's own history), or give --config so only that CRM's targets are searched",
        )
    return next(iter(owners), None)


def _not_found(store: Store, kind: str, value: str) -> str:
    message = f"no person in the store {store.url} has this {kind.replace('_', ' ')}"
    if kind == PERSON_ID:
        # A person id can be tested against the audit log: say if it was forgotten.
        past = store.audit_entries(1, person_id=value)
        if past:
            entry = past[0]
            message += (
                f"; audit entry #{entry.id} records that it was forgotten on "
                f"{entry.at:%Y-%m-%d %H:%M} UTC ({entry.outcome})"
            )
    return message


# --------------------------------------------------------------------------- forgetting


def forget(
    store: Store,
    identity_kind: str,
    value: str,
    *,
    config: Config | str | os.PathLike[str] | None = None,
    connectors: Mapping[str, Connector] | None = None,
    store_only: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ForgetReport:
    """Forget the person ``value`` (of ``identity_kind``: email, phone, handle, crm or
    person_id) in every CRM relcrm wrote to, then in ``store``; audit it.

    ``config`` is the targets file (or its path) whose connectors and mappings clear the
    CRM records; ``connectors`` replaces the connector built for a target name.
    ``store_only`` erases the store without calling any CRM. ``dry_run`` resolves the
    person and reports what would be done, changing nothing (no audit entry).

    Raises :class:`UnknownPersonError` when no stored person matches, and
    :class:`ConfigurationError` when the targets file or a connector's settings are wrong,
    in both cases before anything is written. A CRM that fails does not raise: it is in
    the report, and the store is then kept (unless ``store_only``).
    """
    loaded = load_config(config) if isinstance(config, str | os.PathLike) else config
    person_id = resolve_person(store, identity_kind, value, config=loaded)
    report = ForgetReport(person_id=person_id, store_only=store_only, dry_run=dry_run)
    records = store.remembered_records(person_id)
    by_name = {t.name: t for t in loaded.targets} if loaded is not None else {}

    if store_only or dry_run:
        for record in records:
            status = TargetStatus.SKIPPED
            if dry_run and not store_only:
                configured = record.target in by_name
                status = TargetStatus.DRY_RUN if configured else TargetStatus.NOT_CONFIGURED
            report.targets.append(TargetResult(record.target, record, status))
    else:
        # Build every connector before writing anything: a settings error stops the
        # whole forget with nothing changed anywhere.
        planned: list[tuple[RememberedRecord, Target, Connector]] = []
        for record in records:
            target = by_name.get(record.target)
            if target is None:
                report.targets.append(
                    TargetResult(
                        record.target,
                        record,
                        TargetStatus.NOT_CONFIGURED,
                        message="the target is not in the targets file: relcrm cannot reach "
                        "the CRM it wrote to",
                    )
                )
                continue
            connector = (connectors or {}).get(target.name) or build_connector(target)
            planned.append((record, target, connector))
        for record, target, connector in planned:
            report.targets.append(_clear(person_id, record, target, connector))
        report.targets.sort(key=lambda item: item.target)

    if dry_run:
        report.rows_erased = {k: n for k, n in store.person_footprint(person_id).items() if n}
        return report

    hashes: list[str] = []
    if store_only or not report.targets_failed:
        report.rows_erased = {k: n for k, n in store.person_footprint(person_id).items() if n}
        # Read before erasing: afterwards, these hashes are all that is left of them.
        hashes = store.identity_hashes(person_id)
        store.erase_person(person_id)
        report.erased = True
        report.identities_refused = len(hashes)
        report.rows_left = {k: n for k, n in store.person_footprint(person_id).items() if n}
    else:
        _withdraw_consent(store, person_id, now or datetime.now(UTC))
    entry = store.record_audit(
        "forget",
        person_id,
        _audit_counts(report, hashes),
        report.outcome,
        at=now or datetime.now(UTC),
    )
    report.audit_id = entry.id
    return report


def _withdraw_consent(store: Store, person_id: str, now: datetime) -> None:
    """A forget that could not clear every CRM keeps the person, but never lets a sync
    write them again: consent is withdrawn, so the next sync clears the fields it can."""
    person = store.get_person(person_id)
    if person is not None and person.consent.granted:
        consent = Consent(granted=False, updated_at=now, source="relcrm forget (pending)")
        store.upsert_person(person.model_copy(update={"consent": consent}))


def _clear(
    person_id: str, record: RememberedRecord, target: Target, connector: Connector
) -> TargetResult:
    """Empty every field of ``target``'s mapping (and no other field) in ``record``."""
    mapping = target.mapping
    values = mapping.clearing_values()
    ref = RecordRef(system=connector.capabilities.name, object=record.object, id=record.record_id)
    write = FieldWrite(person_id=person_id, record=ref, values=values)
    try:
        results = connector.write(mapping.object, [write])
    except ConnectorError as error:
        return TargetResult(
            target.name,
            record,
            TargetStatus.UNREACHABLE,
            error_code=error.code,
            message=error.message,
            quota=isinstance(error, QuotaExhausted),
        )
    result = results[0] if results else None
    if result is not None and result.outcome is WriteOutcome.WRITTEN:
        return TargetResult(target.name, record, TargetStatus.CLEARED)
    return TargetResult(
        target.name,
        record,
        TargetStatus.REJECTED,
        error_code=(result.error_code or result.outcome.value) if result else "no_result",
        message=(result.error_message if result else "the connector returned no result"),
    )


def _audit_counts(report: ForgetReport, hashes: list[str]) -> dict[str, Any]:
    """Numbers, target names and salted hashes only: what the audit log may keep."""
    by_status: dict[str, list[str]] = {}
    for item in report.targets:
        by_status.setdefault(item.status.value, []).append(item.target)
    counts: dict[str, Any] = {
        "rows": dict(sorted(report.rows_erased.items())),
        "rows_left": dict(sorted(report.rows_left.items())),
        "targets": {status: sorted(names) for status, names in sorted(by_status.items())},
    }
    if hashes:
        counts[IDENTITY_HASHES] = sorted(hashes)
    return counts


__all__ = [
    "IDENTITY_KIND_CHOICES",
    "PERSON_ID",
    "ForgetReport",
    "TargetResult",
    "TargetStatus",
    "UnknownPersonError",
    "forget",
    "identity_kind_of",
    "resolve_person",
]
