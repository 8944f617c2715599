"""What the sync engine remembers between runs: per target, what was pushed, to which record,
what failed, and how each run went.

- **Sync state** (``sync_records``, ``sync_state``): the CRM record matched to a person, a
  fingerprint per pushed field (so a run sends only fields whose value changed), and when a
  person's fields were cleared after consent was withdrawn (so that happens once).
- **Dead letters**: writes the CRM rejected (or that still failed after the retry policy),
  one unresolved letter per target and person, with the CRM's code and message and the
  values that were to be sent, so ``relcrm dead-letters retry`` can send them again.
- **Runs and checkpoints**: one row per sync run with its counts, and the persons a run
  has finished with, so a run killed at any point resumes without writing anything twice.

These methods are mixed into :class:`relcrm.store.Store`; the module also holds the small
value types they return. Nothing here stores a secret: messages and values come from the
mapping and the CRM's answers, and callers must not put credentials into them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, NamedTuple, TypeVar, get_args

from sqlalchemy import Connection, delete, func, select, text, update

from relcrm.errors import StoreError
from relcrm.models import FieldValue, Person, RelationshipProfile
from relcrm.store._part import StorePart, chunks, from_column
from relcrm.store._part import to_utc as _utc
from relcrm.store._tables import (
    checkpoints,
    dead_letters,
    persons,
    preferences,
    profiles,
    runs,
    sync_records,
    sync_state,
)

_T = TypeVar("_T")

IN_LIST_SIZE: Final = 900
"""Values per ``IN (...)``: under SQLite's historic limit of 999 bound parameters."""

WRITE_CHUNK: Final = 5_000
"""Rows per executemany in the sync-state upserts: one transaction per call, in pieces."""

IN_FLIGHT: Final = 0
"""The checkpoint batch number of persons whose batch was sent and not yet recorded."""

ERROR_MESSAGE_LIMIT: Final = 4_000
"""A CRM's error message is kept up to this many characters (some echo whole payloads)."""

DeadLetterStatus = Literal["open", "retried", "resolved"]
DEAD_LETTER_STATUSES: Final[tuple[str, ...]] = get_args(DeadLetterStatus)

RunStatus = Literal["running", "succeeded", "partial", "failed", "paused"]
RUN_STATUSES: Final[tuple[str, ...]] = get_args(RunStatus)
FINISHED_STATUSES: Final[tuple[str, ...]] = tuple(s for s in RUN_STATUSES if s != "running")

RUN_COUNT_KEYS: Final[tuple[str, ...]] = (
    "selected",
    "written",
    "unchanged",
    "rejected",
    "retried",
    "skipped_no_consent",
    "cleared",
)
"""The counts a run report shows; :meth:`SyncStateStore.finish_run` takes others too."""

_UNRESOLVED = text("status <> 'resolved'")
"""The partial unique index's predicate, spelled as in the index so that SQLite and
PostgreSQL both infer the index for ``ON CONFLICT`` (a bound parameter would not)."""


def _read_utc(value: datetime | None) -> datetime | None:
    return None if value is None else from_column(value)


def _now() -> datetime:
    return datetime.now(UTC)


class CrmRecord(NamedTuple):
    """The CRM record a person was matched to on one target (a plain pair, so
    ``(object, record_id)`` tuples compare equal to it)."""

    object: str
    record_id: str


class PersonRowText(NamedTuple):
    """A person's stored JSON and their profile's, as the store holds them."""

    id: str
    person: str
    profile: str | None

    def parsed_person(self) -> Person:
        return Person.model_validate_json(self.person)

    def parsed_profile(self) -> RelationshipProfile | None:
        return (
            None if self.profile is None else RelationshipProfile.model_validate_json(self.profile)
        )


@dataclass(frozen=True)
class FailedWrite:
    """One person's write that failed for good on one target, as the engine reports it.

    ``fields`` are the values that were to be sent: they come from the mapping, which has
    no verbatim among its sources, so a dead letter never holds what a person wrote.
    ``error_message`` is the CRM's own message (cut to :data:`ERROR_MESSAGE_LIMIT`).
    """

    person_id: str
    fields: Mapping[str, FieldValue]
    error_code: str
    error_message: str
    record_id: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A stored failed write. ``attempts`` counts the failures recorded for it."""

    id: int
    target: str
    person_id: str
    record_id: str | None
    fields: dict[str, FieldValue]
    error_code: str
    error_message: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    status: DeadLetterStatus
    run_id: str | None


@dataclass(frozen=True)
class RunRecord:
    """One sync run as the store has it; ``finished_at`` is None while it runs (or if the
    process running it was killed)."""

    id: str
    target: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    counts: dict[str, int]
    api_calls: int
    message: str | None

    @property
    def duration(self) -> timedelta | None:
        """How long the run took; None while unfinished."""
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True)
class ErasureReport:
    """What :meth:`relcrm.store.Store.erase_person` removed.

    ``targets_with_records`` names, per target, the CRM record relcrm wrote to (or matched)
    for the person: the caller clears relcrm's fields there. ``targets_with_state`` also
    names targets with pushed fingerprints or dead letters but no known record, which the
    caller can only report.
    """

    person_id: str
    existed: bool
    """Whether the person themself was in the store."""
    targets_with_records: dict[str, CrmRecord] = field(default_factory=dict)
    targets_with_state: frozenset[str] = frozenset()


def _dead_letter(row: Any) -> DeadLetter:
    first = _read_utc(row.first_failed_at)
    last = _read_utc(row.last_failed_at)
    assert first is not None and last is not None  # NOT NULL columns
    return DeadLetter(
        id=int(row.id),
        target=row.target,
        person_id=row.person_id,
        record_id=row.record_id,
        fields=json.loads(row.fields),
        error_code=row.error_code,
        error_message=row.error_message,
        attempts=int(row.attempts),
        first_failed_at=first,
        last_failed_at=last,
        status=row.status,
        run_id=row.run_id,
    )


def _run_record(row: Any) -> RunRecord:
    started = _read_utc(row.started_at)
    assert started is not None  # NOT NULL column
    return RunRecord(
        id=row.id,
        target=row.target,
        started_at=started,
        finished_at=_read_utc(row.finished_at),
        status=row.status,
        counts=json.loads(row.counts),
        api_calls=int(row.api_calls),
        message=row.message,
    )


def _counts_json(counts: Mapping[str, int]) -> str:
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count {key!r} must be a non-negative integer, got {value!r}")
    return json.dumps(dict(sorted(counts.items())), separators=(",", ":"))


class SyncStateStore(StorePart):
    """The sync engine's part of the store (mixed into :class:`relcrm.store.Store`).

    Every method runs in a transaction of its own; batches go in one transaction each, so
    a run killed between two calls leaves every earlier call's effect complete.
    """

    # -- what a run considers ----------------------------------------------------------

    def person_row_pages(
        self, page_size: int = 1_000, *, after: str | None = None
    ) -> Iterator[list[PersonRowText]]:
        """Every person's stored JSON with their profile's (None if never profiled),
        ordered by id, ``page_size`` at a time, unparsed: the sync engine parses only the
        persons whose rows changed since they were last written."""
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        query = (
            select(persons.c.id, persons.c.data, profiles.c.data.label("profile"))
            .select_from(persons.outerjoin(profiles, profiles.c.person_id == persons.c.id))
            .order_by(persons.c.id)
            .limit(page_size)
        )
        while True:
            page_query = query if after is None else query.where(persons.c.id > after)
            with self._read() as connection:
                rows = connection.execute(page_query).all()
            if rows:
                yield [PersonRowText(row.id, row.data, row.profile) for row in rows]
            if len(rows) < page_size:
                return
            after = rows[-1].id

    def preference_rows(self, person_ids: Iterable[str]) -> dict[str, list[str]]:
        """``{person_id: [stored JSON of each preference]}``, oldest statement first (ties
        in id order), unparsed: the sync engine hashes them to see whose preferences
        changed since their last write, and parses only those. Persons who stated none
        are absent."""
        found: dict[str, list[str]] = {}
        columns = (preferences.c.person_id, preferences.c.data)
        order = (preferences.c.person_id, preferences.c.stated_at, preferences.c.id)
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(*columns).where(preferences.c.person_id.in_(part)).order_by(*order)
                for row in connection.execute(query):
                    found.setdefault(row.person_id, []).append(row.data)
        return found

    def person_pages(
        self, page_size: int = 1_000, *, after: str | None = None
    ) -> Iterator[list[tuple[Person, RelationshipProfile | None]]]:
        """Every person with their saved profile (None if never profiled), ordered by id,
        ``page_size`` at a time, a page per transaction."""
        for page in self.person_row_pages(page_size, after=after):
            yield [(row.parsed_person(), row.parsed_profile()) for row in page]

    # -- records matched per target ----------------------------------------------------

    def remember_records(
        self,
        target: str,
        records: Mapping[str, tuple[str, str]],
        *,
        at: datetime | None = None,
    ) -> int:
        """Remember ``{person_id: (object, record_id)}`` on ``target`` after matching, so
        later runs update that record without matching again; return how many were given.

        A person matched again to another record gets the new one (the CRM merged or
        recreated it). Whether their fields were cleared is kept.
        """
        when = _utc(at) if at is not None else _now()
        rows = [
            {
                "target": target,
                "person_id": person_id,
                "crm_object": crm_object,
                "record_id": record_id,
                "matched_at": when,
                "cleared_at": None,
            }
            for person_id, (crm_object, record_id) in records.items()
        ]
        if not rows:
            return 0
        with self._write() as connection:
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(sync_records)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[sync_records.c.target, sync_records.c.person_id],
                        set_={
                            "crm_object": insert.excluded.crm_object,
                            "record_id": insert.excluded.record_id,
                            "matched_at": insert.excluded.matched_at,
                        },
                    ),
                    chunk,
                )
        return len(rows)

    def remember_unmatched(self, target: str, person_ids: Iterable[str], *, at: datetime) -> int:
        """Note that no CRM record matched ``person_ids`` on ``target`` (a row without a
        record), so ``relcrm unmatched`` can list them; a later match replaces it."""
        rows = [
            {
                "target": target,
                "person_id": person_id,
                "crm_object": None,
                "record_id": None,
                "matched_at": _utc(at),
                "cleared_at": None,
            }
            for person_id in sorted(set(person_ids))
        ]
        with self._write() as connection:
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(sync_records)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[sync_records.c.target, sync_records.c.person_id],
                        set_={"matched_at": insert.excluded.matched_at},
                        where=sync_records.c.record_id.is_(None),
                    ),
                    chunk,
                )
        return len(rows)

    def unmatched_persons(self, target: str) -> list[tuple[str, datetime]]:
        """Persons no CRM record matched on ``target`` at their last attempt, and when."""
        query = (
            select(sync_records.c.person_id, sync_records.c.matched_at)
            .where(
                sync_records.c.target == target,
                sync_records.c.record_id.is_(None),
                sync_records.c.matched_at.is_not(None),
            )
            .order_by(sync_records.c.person_id)
        )
        with self._read() as connection:
            return [
                (row.person_id, from_column(row.matched_at)) for row in connection.execute(query)
            ]

    def known_records(self, target: str, person_ids: Iterable[str]) -> dict[str, CrmRecord]:
        """The remembered record of each of ``person_ids`` on ``target``; persons never
        matched there are absent."""
        found: dict[str, CrmRecord] = {}
        columns = (sync_records.c.person_id, sync_records.c.crm_object, sync_records.c.record_id)
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(*columns).where(
                    sync_records.c.target == target,
                    sync_records.c.person_id.in_(part),
                    sync_records.c.record_id.is_not(None),
                )
                for row in connection.execute(query):
                    found[row.person_id] = CrmRecord(row.crm_object, row.record_id)
        return found

    # -- fingerprints of pushed fields -------------------------------------------------

    def field_fingerprints(
        self, target: str, person_ids: Iterable[str]
    ) -> dict[str, dict[str, str]]:
        """``{person_id: {field: fingerprint}}`` of the values last pushed to ``target``.

        Compare with :func:`relcrm.mapping.coerce.field_fingerprints` of the values to send:
        only fields whose fingerprint differs (or is missing) need sending. Persons with
        nothing pushed are absent.
        """
        found: dict[str, dict[str, str]] = {}
        columns = (sync_state.c.person_id, sync_state.c.field, sync_state.c.fingerprint)
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(*columns).where(
                    sync_state.c.target == target, sync_state.c.person_id.in_(part)
                )
                for row in connection.execute(query):
                    found.setdefault(row.person_id, {})[row.field] = row.fingerprint
        return found

    def record_pushed(
        self, target: str, person_id: str, fingerprints: Mapping[str, str], at: datetime
    ) -> int:
        """Record that ``fingerprints`` (``{field: fingerprint}``) were written for one
        person; see :meth:`record_pushed_many`."""
        return self.record_pushed_many(target, {person_id: fingerprints}, at)

    def record_pushed_many(
        self, target: str, pushed: Mapping[str, Mapping[str, str]], at: datetime
    ) -> int:
        """Record, after the CRM confirmed the writes, ``{person_id: {field: fingerprint}}``
        for ``target``, in one transaction; return how many field fingerprints were stored.

        Call it only for confirmed writes: a fingerprint stored for a write that failed
        would make the next run skip a value the CRM never got. Fields not named keep their
        fingerprint (a run sends only changed fields). A person pushed again is no longer
        "cleared": if they withdraw consent again, their fields are cleared again.
        """
        when = _utc(at)
        rows = [
            {
                "target": target,
                "person_id": person_id,
                "field": name,
                "fingerprint": value,
                "pushed_at": when,
            }
            for person_id, fields in pushed.items()
            for name, value in fields.items()
        ]
        persons = sorted(person_id for person_id, fields in pushed.items() if fields)
        if not rows:
            return 0
        with self._write() as connection:
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(sync_state)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[
                            sync_state.c.target,
                            sync_state.c.person_id,
                            sync_state.c.field,
                        ],
                        set_={
                            "fingerprint": insert.excluded.fingerprint,
                            "pushed_at": insert.excluded.pushed_at,
                        },
                    ),
                    chunk,
                )
            for part in chunks(persons, IN_LIST_SIZE):
                connection.execute(
                    update(sync_records)
                    .where(
                        sync_records.c.target == target,
                        sync_records.c.person_id.in_(part),
                        sync_records.c.cleared_at.is_not(None),
                    )
                    .values(cleared_at=None)
                )
        return len(rows)

    def mark_cleared(self, target: str, person_ids: Iterable[str], at: datetime) -> int:
        """Record that relcrm's fields of ``person_ids`` were cleared on ``target`` (consent
        withdrawn); return how many persons were marked.

        Their fingerprints are dropped, since the CRM's fields are empty now: should the
        person consent again, every field is sent. The remembered record stays.
        """
        when = _utc(at)
        ids = sorted(set(person_ids))
        if not ids:
            return 0
        rows = [
            {
                "target": target,
                "person_id": person_id,
                "crm_object": None,
                "record_id": None,
                "matched_at": None,
                "cleared_at": when,
            }
            for person_id in ids
        ]
        with self._write() as connection:
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(sync_records)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[sync_records.c.target, sync_records.c.person_id],
                        set_={"cleared_at": insert.excluded.cleared_at},
                    ),
                    chunk,
                )
            for part in chunks(ids, IN_LIST_SIZE):
                connection.execute(
                    delete(sync_state).where(
                        sync_state.c.target == target, sync_state.c.person_id.in_(part)
                    )
                )
        return len(ids)

    def cleared(self, target: str, person_ids: Iterable[str]) -> set[str]:
        """Those of ``person_ids`` whose fields on ``target`` were cleared and not pushed
        since: the consent gate skips them instead of clearing twice."""
        found: set[str] = set()
        with self._read() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                query = select(sync_records.c.person_id).where(
                    sync_records.c.target == target,
                    sync_records.c.person_id.in_(part),
                    sync_records.c.cleared_at.is_not(None),
                )
                found.update(connection.scalars(query))
        return found

    def forget_target_state(self, target: str) -> int:
        """Forget every record, fingerprint and clearing remembered for ``target`` (the
        target was removed, or points at a new CRM); return how many persons had state.

        The next run matches every person again and sends every field. Dead letters and
        run history stay: they tell what happened, not what the CRM holds.
        """
        with self._write() as connection:
            known = select(sync_records.c.person_id).where(sync_records.c.target == target)
            pushed = select(sync_state.c.person_id).where(sync_state.c.target == target)
            persons = known.union(pushed).subquery()
            count = int(connection.scalar(select(func.count()).select_from(persons)) or 0)
            connection.execute(delete(sync_state).where(sync_state.c.target == target))
            connection.execute(delete(sync_records).where(sync_records.c.target == target))
        return count

    # -- dead letters ------------------------------------------------------------------

    def add_dead_letters(
        self,
        target: str,
        failures: Iterable[FailedWrite],
        *,
        at: datetime,
        run_id: str | None = None,
    ) -> int:
        """Store failed writes on ``target``; return how many persons they concern.

        One unresolved letter per target and person: a new failure of a person who already
        has one adds to its ``attempts``, sets ``last_failed_at``, the latest values, code,
        message and run, and opens it again if it was being retried. A person whose letter
        was resolved gets a new one. Unique in the schema (a partial unique index), so two
        workers cannot add a duplicate either.
        """
        when = _utc(at)
        latest: dict[str, dict[str, Any]] = {}
        for failure in failures:
            earlier = latest.get(failure.person_id)
            latest[failure.person_id] = {
                "target": target,
                "person_id": failure.person_id,
                "record_id": failure.record_id,
                "fields": json.dumps(
                    dict(failure.fields), sort_keys=True, ensure_ascii=False, allow_nan=False
                ),
                "error_code": failure.error_code,
                "error_message": failure.error_message[:ERROR_MESSAGE_LIMIT],
                "attempts": 1 + (earlier["attempts"] if earlier else 0),
                "first_failed_at": when,
                "last_failed_at": when,
                "status": "open",
                "run_id": run_id,
            }
        if not latest:
            return 0
        rows = [latest[person_id] for person_id in sorted(latest)]
        with self._write() as connection:
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(dead_letters)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[dead_letters.c.target, dead_letters.c.person_id],
                        index_where=_UNRESOLVED,
                        set_={
                            "attempts": dead_letters.c.attempts + insert.excluded.attempts,
                            "last_failed_at": insert.excluded.last_failed_at,
                            "fields": insert.excluded.fields,
                            "error_code": insert.excluded.error_code,
                            "error_message": insert.excluded.error_message,
                            "record_id": func.coalesce(
                                insert.excluded.record_id, dead_letters.c.record_id
                            ),
                            "status": "open",
                            "run_id": insert.excluded.run_id,
                        },
                    ),
                    chunk,
                )
        return len(rows)

    def open_dead_letters(self, target: str | None = None) -> list[DeadLetter]:
        """Unresolved letters (``open``, and ``retried`` ones whose retry never reported
        back), oldest first; of one target when given."""
        query = select(dead_letters).where(_UNRESOLVED).order_by(dead_letters.c.id)
        if target is not None:
            query = query.where(dead_letters.c.target == target)
        with self._read() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def dead_letter(self, letter_id: int) -> DeadLetter | None:
        """One letter by id, whatever its status; None if there is none."""
        with self._read() as connection:
            row = connection.execute(
                select(dead_letters).where(dead_letters.c.id == letter_id)
            ).first()
        return None if row is None else _dead_letter(row)

    def mark_dead_letters_retried(self, letter_ids: Iterable[int]) -> int:
        """Mark unresolved letters as being retried; return how many. A retry that fails
        again goes through :meth:`add_dead_letters` and opens the letter again."""
        return self._set_dead_letter_status(letter_ids, "retried")

    def resolve_dead_letter(self, letter_id: int) -> bool:
        """Mark a letter resolved (its write went through, or the admin gave up on it);
        False if there is no unresolved letter with this id."""
        return self._set_dead_letter_status([letter_id], "resolved") == 1

    def resolve_dead_letters_of(self, target: str, person_ids: Iterable[str]) -> int:
        """Resolve the unresolved letters of ``person_ids`` on ``target`` (the engine calls
        it when a later run wrote them); return how many were resolved."""
        resolved = 0
        with self._write() as connection:
            for part in chunks(sorted(set(person_ids)), IN_LIST_SIZE):
                result = connection.execute(
                    update(dead_letters)
                    .where(
                        dead_letters.c.target == target,
                        dead_letters.c.person_id.in_(part),
                        _UNRESOLVED,
                    )
                    .values(status="resolved")
                )
                resolved += result.rowcount
        return resolved

    def _set_dead_letter_status(self, letter_ids: Iterable[int], status: str) -> int:
        changed = 0
        with self._write() as connection:
            for part in chunks(sorted(set(letter_ids)), IN_LIST_SIZE):
                result = connection.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id.in_(part), _UNRESOLVED)
                    .values(status=status)
                )
                changed += result.rowcount
        return changed

    # -- runs and checkpoints ----------------------------------------------------------

    def start_run(self, target: str, *, at: datetime | None = None) -> str:
        """Record a new ``running`` run on ``target`` and return its id (uuid4 hex)."""
        run_id = uuid.uuid4().hex
        with self._write() as connection:
            connection.execute(
                runs.insert().values(
                    id=run_id,
                    target=target,
                    started_at=_utc(at) if at is not None else _now(),
                    finished_at=None,
                    status="running",
                    counts="{}",
                    api_calls=0,
                    message=None,
                )
            )
        return run_id

    def mark_in_flight(self, run_id: str, person_ids: Iterable[str]) -> int:
        """Record, before a batch is sent, that ``person_ids`` are in flight (batch 0): if
        the process dies before :meth:`checkpoint`, the resumed run knows these persons'
        writes may have reached the CRM and checks the CRM before sending them again."""
        rows = [
            {"run_id": run_id, "person_id": person_id, "batch": IN_FLIGHT}
            for person_id in sorted(set(person_ids))
        ]
        with self._write() as connection:
            self._require_run(connection, run_id)
            for chunk in chunks(rows, WRITE_CHUNK):
                connection.execute(
                    self._insert(checkpoints).on_conflict_do_nothing(
                        index_elements=[checkpoints.c.run_id, checkpoints.c.person_id]
                    ),
                    chunk,
                )
        return len(rows)

    def in_flight_persons(self, run_id: str) -> set[str]:
        """The persons whose batch was sent but never checkpointed (the run was killed)."""
        with self._read() as connection:
            return set(
                connection.scalars(
                    select(checkpoints.c.person_id).where(
                        checkpoints.c.run_id == run_id, checkpoints.c.batch == IN_FLIGHT
                    )
                )
            )

    def checkpoint(
        self,
        run_id: str,
        batch: int,
        person_ids: Iterable[str],
        *,
        counts: Mapping[str, int] | None = None,
        api_calls: int | None = None,
    ) -> int:
        """Record that the run is done with ``person_ids`` (batch number ``batch``, 1 or
        more); return how many were new to the run or in flight until now. Call it after
        the batch's outcomes (fingerprints, dead letters) are stored, so a resumed run may
        skip exactly these persons.

        ``counts`` and ``api_calls``, when given, replace the run's running totals, so a
        run resumed after a kill reports the whole run. A person already checkpointed in an
        earlier batch keeps that batch.
        """
        if batch < 1:
            raise ValueError(f"batch must be 1 or more (0 marks persons in flight), got {batch}")
        rows = [
            {"run_id": run_id, "person_id": person_id, "batch": batch}
            for person_id in sorted(set(person_ids))
        ]
        new = 0
        with self._write() as connection:
            self._require_run(connection, run_id)
            for chunk in chunks(rows, WRITE_CHUNK):
                insert = self._insert(checkpoints)
                upsert = insert.on_conflict_do_update(
                    index_elements=[checkpoints.c.run_id, checkpoints.c.person_id],
                    set_={"batch": insert.excluded.batch},
                    where=checkpoints.c.batch == IN_FLIGHT,
                )
                new += len(
                    connection.execute(upsert.returning(checkpoints.c.person_id), chunk).all()
                )
            totals: dict[str, Any] = {}
            if counts is not None:
                totals["counts"] = _counts_json(counts)
            if api_calls is not None:
                totals["api_calls"] = api_calls
            if totals:
                connection.execute(update(runs).where(runs.c.id == run_id).values(**totals))
        return new

    def checkpointed_persons(self, run_id: str) -> set[str]:
        """The persons the run checkpointed (empty once it finished ``succeeded``); those
        merely in flight are not among them."""
        with self._read() as connection:
            return set(
                connection.scalars(
                    select(checkpoints.c.person_id).where(
                        checkpoints.c.run_id == run_id, checkpoints.c.batch > IN_FLIGHT
                    )
                )
            )

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        counts: Mapping[str, int],
        api_calls: int,
        message: str | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        """Close the run with its final status, counts (see :data:`RUN_COUNT_KEYS`), API
        calls and a short message for the report (no secrets, no verbatims).

        A ``succeeded`` run drops its checkpoints: there is nothing left to resume, and a
        daily run would otherwise add a row per person every day. Other outcomes keep them.
        """
        if status not in FINISHED_STATUSES:
            raise ValueError(f"a run finishes as one of {', '.join(FINISHED_STATUSES)}")
        if api_calls < 0:
            raise ValueError(f"api_calls must be 0 or more, got {api_calls}")
        values = {
            "status": status,
            "finished_at": _utc(at) if at is not None else _now(),
            "counts": _counts_json(counts),
            "api_calls": api_calls,
            "message": message,
        }
        with self._write() as connection:
            self._require_run(connection, run_id)
            connection.execute(update(runs).where(runs.c.id == run_id).values(**values))
            if status == "succeeded":
                connection.execute(delete(checkpoints).where(checkpoints.c.run_id == run_id))

    def run(self, run_id: str) -> RunRecord | None:
        """One run by id, or None."""
        with self._read() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        return None if row is None else _run_record(row)

    def runs(self, limit: int = 20, *, target: str | None = None) -> list[RunRecord]:
        """The latest ``limit`` runs, newest first; of one target when given."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id).limit(limit)
        if target is not None:
            query = query.where(runs.c.target == target)
        with self._read() as connection:
            return [_run_record(row) for row in connection.execute(query)]

    def unfinished_run(self, target: str) -> RunRecord | None:
        """The newest run on ``target`` still marked ``running``: one whose process was
        killed (or, with several workers, one still going; the caller tells them apart)."""
        query = (
            select(runs)
            .where(runs.c.target == target, runs.c.status == "running")
            .order_by(runs.c.started_at.desc(), runs.c.id)
            .limit(1)
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _run_record(row)

    @staticmethod
    def _require_run(connection: Connection, run_id: str) -> None:
        if connection.scalar(select(runs.c.id).where(runs.c.id == run_id)) is None:
            raise StoreError(f"no run {run_id!r} in the store", hint="start it with start_run")

    # -- erasure -----------------------------------------------------------------------

    @staticmethod
    def _erase_sync_state(
        connection: Connection, person_id: str
    ) -> tuple[dict[str, CrmRecord], frozenset[str]]:
        """Delete the person's sync state, dead letters and checkpoints inside the caller's
        transaction; return their records per target and every target that had state."""
        records: dict[str, CrmRecord] = {}
        targets: set[str] = set()
        query = select(
            sync_records.c.target, sync_records.c.crm_object, sync_records.c.record_id
        ).where(sync_records.c.person_id == person_id)
        for row in connection.execute(query):
            targets.add(row.target)
            if row.record_id is not None:
                records[row.target] = CrmRecord(row.crm_object, row.record_id)
        for table in (sync_state, dead_letters):
            targets.update(
                connection.scalars(
                    select(table.c.target).where(table.c.person_id == person_id).distinct()
                )
            )
        for table in (sync_state, sync_records, dead_letters, checkpoints):
            connection.execute(delete(table).where(table.c.person_id == person_id))
        return records, frozenset(targets)
