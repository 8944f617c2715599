"""The local state store: persons, their identities, perceptions and profiles.

SQLAlchemy Core over a SQLite file by default, PostgreSQL for teams with several
workers. Models are stored as JSON text next to the few columns that queries need,
so a model can grow a field without a migration, and reading back goes through the
model's own validation.

Reads page through keys in short transactions instead of holding one cursor open:
a long-lived SQLite reader would stop WAL checkpoints, and the caller is free to
write (profiles, sync state) between pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from itertools import pairwise
from types import TracebackType
from typing import Any, Literal, NamedTuple, Protocol, Self, TypeVar

from sqlalchemy import Connection, Engine, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from relcrm.errors import FieldProblem, InvalidRecordError, StoreError, shorten
from relcrm.models import Perception, Person, Preference, RelationshipProfile
from relcrm.models.profile import StoredProfile
from relcrm.store._engine import create_store_engine, safe_url, writer
from relcrm.store._part import chunks, to_utc
from relcrm.store._tables import (
    identities,
    perceptions,
    persons,
    preferences,
    profiles,
    schema_info,
)
from relcrm.store.audit import AuditStore
from relcrm.store.identities import (
    IDENTITY_FIELDS,
    IDENTITY_KINDS,
    IdentityKey,
    identity_keys,
    normalize_identity,
)
from relcrm.store.leases import LeaseStore
from relcrm.store.migrations import migrate
from relcrm.store.outreach_tasks import OutreachTaskStore
from relcrm.store.partitions import SharedRunStore
from relcrm.store.perception_layout import PerceptionLayoutStore
from relcrm.store.person_upsert import PersonStatements
from relcrm.store.profile_history import HistoryValues, ProfileHistoryStore
from relcrm.store.profiling_reads import ProfilingReadStore
from relcrm.store.report_reads import ReportReadStore
from relcrm.store.segments.columns import (
    SegmentRow,
    perception_of,
    segment_row,
    utc_from_micros,
)
from relcrm.store.sync_state import ErasureReport, SyncStateStore
from relcrm.store.unresolved_posts import UnresolvedPostStore
from relcrm.store.voice_links import VoiceLinkStore

_T = TypeVar("_T")

PERCEPTION_CHUNK = 50_000
"""Perceptions per executemany and per transaction. Perception ids are hashes, so each
chunk dirties pages all over the id index and every commit writes them out again; 50,000
rows take about a second and keep memory flat (5,000 would triple the write volume)."""

PERSON_CHUNK = 1_000
"""Persons per transaction in ``upsert_persons``."""

PERSON_UPSERT_CHUNK = 20_000
"""Persons per transaction in ``upsert_person_rows_reporting`` (the ingest's): each chunk
costs a few statements whatever its size (:mod:`relcrm.store.person_upsert`)."""

PAGE_SIZE = 1_000
"""Rows per page when iterating persons or profiles."""

IN_LIST_SIZE = 900
"""Values per ``IN (...)``: under SQLite's historic limit of 999 bound parameters."""


_person_to_python = Person.__pydantic_serializer__.to_python
"""What ``Person.model_dump()`` calls, without the per-call keyword plumbing."""
_encode_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode
"""``json.dumps`` with these options, without building an encoder per call."""


def canonical_json(person: Person) -> str:
    """The stored form of a person: sorted keys and no spaces, so equal persons give
    equal text and an unchanged person is recognised without a write. (Exactly
    ``json.dumps(person.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, a test pins it, without the per-call overheads.)"""
    return _encode_canonical(_person_to_python(person, mode="json"))


class PersonRow(NamedTuple):
    """A person ready to upsert: built only by :func:`person_row`, taken by
    :meth:`Store.upsert_person_rows_reporting`. Plain values, so it can be built in
    another process and sent back cheaply."""

    id: str
    data: str
    """:func:`canonical_json` of the person."""
    identities: frozenset[IdentityKey]
    """The person's identities, normalized (see :func:`identity_keys`)."""


def person_row(person: Person) -> PersonRow:
    """What :meth:`Store.upsert_persons` stores for ``person``."""
    return PersonRow(person.id, canonical_json(person), frozenset(identity_keys(person)))


PERCEPTION_COLUMNS = ("id", "person_id", "occurred_at", "channel", "source_system", "data")
"""The order of the values in a perception row (and of the columns of the insert)."""

_serialize_perception = Perception.__pydantic_serializer__.to_json
"""What ``Perception.model_dump_json()`` calls, without the per-call keyword plumbing."""


def sqlite_datetime(value: datetime) -> str:
    """``value`` in UTC as SQLAlchemy writes a SQLite DATETIME: fixed width, so text order
    is time order (a test pins it to SQLAlchemy's own bind processor)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]  # without "+00:00"


PerceptionRow = tuple[str, str, str | datetime, str, str, str]
"""A perception ready to insert, values in ``PERCEPTION_COLUMNS`` order: built only by
:func:`perception_row`, taken by :meth:`Store.add_perception_rows`."""


RowFormat = Literal["sqlite_text", "aware", "segment"]
"""How a store takes perception rows (:attr:`Store.perception_row_format`): a table row
with UTC text (SQLite) or an aware datetime (PostgreSQL), or a segment row."""

StoredRow = PerceptionRow | SegmentRow


def stored_row(perception: Perception, row_format: RowFormat) -> StoredRow:
    """The row :meth:`Store.add_stored_rows` takes for ``perception`` in ``row_format``."""
    if row_format == "segment":
        return segment_row(perception)
    return _perception_row(perception, row_format == "sqlite_text")


def stored_row_time(row: StoredRow, row_format: RowFormat) -> str | datetime:
    """When the perception of ``row`` was observed: UTC text (SQLite rows) or aware."""
    if row_format == "segment":
        return utc_from_micros(int(row[3]))
    return row[2]


def perception_row(perception: Perception, *, sqlite_text: bool) -> PerceptionRow:
    """The row the store writes for ``perception`` (what :meth:`Store.add_perceptions` builds).

    ``sqlite_text`` must be the target store's :attr:`Store.perception_rows_sqlite_text`.
    The row holds only strings (and a datetime when not ``sqlite_text``), so it can be
    built in another process and sent back cheaply.
    """
    return _perception_row(perception, sqlite_text)


def _perception_row(perception: Perception, sqlite_text: bool) -> PerceptionRow:
    occurred_at = perception.occurred_at
    return (
        perception.id,
        perception.person_id,
        # UTC: SQLite keeps datetimes as naive text, and iteration sorts on it.
        sqlite_datetime(occurred_at) if sqlite_text else occurred_at.astimezone(UTC),
        perception.channel.value,
        perception.provenance.source_system,
        # Defaults left out: a third of the text, and quicker to read back.
        _serialize_perception(perception, exclude_defaults=True).decode(),
    )


def preference_key(preference: Preference) -> str:
    """A preference's key: one statement of one kind in one source record."""
    source = preference.provenance
    text = f"{source.source_system}\x1f{source.source_record_id}\x1f{preference.kind.value}"
    return "pf_" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


PROFILE_COLUMNS = ("person_id", "as_of", "model_version", "segment", "health", "data")
"""The ``profiles`` columns, in the order of the upsert's values."""


class ProfileRow(HistoryValues, Protocol):
    """A profile as :meth:`Store.save_profile_rows` takes it: the ``profiles`` columns
    and what its history row keeps, as plain values (``as_of`` aware, ``data`` exactly
    what ``RelationshipProfile.model_dump_json()`` writes). :func:`profile_row` builds one
    from a model, ``relcrm.profile.columnar.encoded`` from a recipe row without a model,
    both as a ``relcrm.models.profile.StoredProfile``; a protocol, so any such row is
    taken as it is."""

    @property
    def model_version(self) -> str: ...

    @property
    def data(self) -> str: ...


def profile_row(profile: RelationshipProfile) -> ProfileRow:
    """What :meth:`Store.save_profiles` writes for ``profile``."""
    return StoredProfile(
        person_id=profile.person_id,
        as_of=profile.as_of.astimezone(UTC),
        model_version=profile.model_version,
        segment=profile.segment.value,
        health=profile.health,
        data=profile.model_dump_json(),
        band=profile.band.value,
        attitude=profile.attitude,
        behavioural_loyalty=profile.behavioural_loyalty,
    )


def _one_per_clock(rows: list[ProfileRow]) -> Iterator[ProfileRow]:
    """One row of each distinct ``as_of`` (a run's rows share one: a check a row, no
    conversion a row)."""
    seen: set[datetime] = set()
    for row in rows:
        if row.as_of not in seen:
            seen.add(row.as_of)
            yield row


def _unknown_person(record: str, person_id: str, others: int) -> InvalidRecordError:
    problem = "no person with this id in the store; upsert the person first"
    if others:
        problem += f" ({others} more records in the same batch name unknown persons)"
    return InvalidRecordError(
        record,
        [FieldProblem(field="person_id", problem=problem, value=shorten(person_id))],
        hint="upsert the persons first, or drop these records "
        "(Store.unknown_person_ids finds them in bulk)",
    )


def _identity_conflict(
    person_id: str, clashes: list[IdentityKey], owners: dict[IdentityKey, str]
) -> InvalidRecordError:
    return InvalidRecordError(
        f"person {person_id}",
        [
            FieldProblem(
                field=IDENTITY_FIELDS[kind],
                problem=f"{kind} identity already belongs to person {owners[(kind, value)]}",
                value=shorten(value),
            )
            for kind, value in clashes
        ],
        hint="merge the two persons in the source, or remove the identity from one of them",
    )


class Store(
    SyncStateStore,
    UnresolvedPostStore,
    AuditStore,
    LeaseStore,
    SharedRunStore,
    VoiceLinkStore,
    OutreachTaskStore,
    ProfileHistoryStore,
    ReportReadStore,
    PerceptionLayoutStore,
    ProfilingReadStore,
):
    """The state store. Open it with :meth:`open` (or :func:`open_store`) and close it,
    ideally with ``with``; one instance may be shared by the threads of one process.

    The sync engine's methods (sync state, dead letters, runs) come from
    :class:`relcrm.store.sync_state.SyncStateStore`; the audit log of erasures from
    :class:`relcrm.store.audit.AuditStore`.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is already current; use :meth:`open` instead."""
        self._engine = engine
        self._writer = writer(engine)
        self._closed = False
        self._fast_sqlite = engine.dialect.name == "sqlite"
        self._perception_sql: str | None = None
        # Perceptions per transaction in add_perceptions; tests make it small.
        self.perception_chunk = PERCEPTION_CHUNK
        self._segments = None
        self._last_column_time: tuple[datetime, datetime | str] | None = None
        self._load_layout()

    @classmethod
    def open(cls, url: str) -> Store:
        """Open the store at ``url``, creating it or migrating it forward as needed.

        Raises :class:`SchemaVersionError` if a newer relcrm wrote it, and
        :class:`StoreError` if it cannot be reached.
        """
        engine = create_store_engine(url)
        try:
            migrate(engine)
        except DBAPIError as error:
            engine.dispose()
            raise StoreError(
                f"cannot open the store {safe_url(engine.url)}: {error.orig}"
            ) from error
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the store lives, without any password."""
        return safe_url(self._engine.url)

    def close(self) -> None:
        """Release every connection; the store cannot be used afterwards."""
        self._closed = True
        if self._segments is not None:
            self._segments.close()
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._check_open()
        with self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._check_open()
        with self._writer.begin() as connection:
            yield connection

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed", hint="open it again")

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        # ON CONFLICT is spelled the same on both, but SQLAlchemy builds it per dialect.
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def schema_version(self) -> int:
        """The schema version of the store (after migration: the latest this code knows)."""
        with self._read() as connection:
            version = connection.scalar(select(schema_info.c.version))
        return int(version or 0)

    # -- persons -----------------------------------------------------------------------

    def upsert_person(self, person: Person) -> bool:
        """Store one person; True if it was new or changed.

        Raises :class:`InvalidRecordError` (naming the person and the identity) if one of
        its identities belongs to another person; the store is then unchanged.
        """
        return self.upsert_persons([person]) == 1

    def upsert_persons(self, persons_: Iterable[Person]) -> int:
        """Store persons and replace their identities; return how many were new or changed.

        Unchanged persons are not written. At the first identity conflict this raises
        :class:`InvalidRecordError`: the persons before it are stored, that person and the
        ones after it are not. Callers that want to skip and go on call
        :meth:`upsert_person` per person.
        """
        written = 0
        for chunk in chunks(persons_, PERSON_CHUNK):
            count, conflicts = self._upsert_person_row_chunk(
                [person_row(person) for person in chunk], keep_going=False
            )
            written += count
            if conflicts:
                raise conflicts[0][1]
        return written

    def upsert_persons_reporting(
        self, persons_: Iterable[Person]
    ) -> tuple[int, list[tuple[Person, InvalidRecordError]]]:
        """Like :meth:`upsert_persons`, but a person with a conflicting identity is skipped
        and reported, and the rest go on: ``(written, [(person, error), ...])``."""
        prepared: dict[int, tuple[PersonRow, Person]] = {}

        def rows() -> Iterator[PersonRow]:
            for person in persons_:
                row = person_row(person)
                prepared[id(row)] = (row, person)  # the row is kept, so its id stays unique
                yield row

        written, rejected = self.upsert_person_rows_reporting(rows())
        return written, [(prepared[id(row)][1], error) for row, error in rejected]

    def upsert_person_rows_reporting(
        self, rows: Iterable[PersonRow]
    ) -> tuple[int, list[tuple[PersonRow, InvalidRecordError]]]:
        """:meth:`upsert_persons_reporting` for persons already prepared by
        :func:`person_row` (in another process, say): the same writes, the same errors."""
        written = 0
        rejected: list[tuple[PersonRow, InvalidRecordError]] = []
        for chunk in chunks(rows, PERSON_UPSERT_CHUNK):
            count, conflicts = self._upsert_person_row_chunk(chunk, keep_going=True)
            written += count
            rejected.extend((chunk[index], error) for index, error in conflicts)
        return written, rejected

    def _upsert_person_row_chunk(
        self, prepared: list[PersonRow], *, keep_going: bool
    ) -> tuple[int, list[tuple[int, InvalidRecordError]]]:
        """Write the persons of ``prepared`` in one transaction; return how many were new
        or changed, and the conflicts by index. At a conflict the chunk stops (the persons
        before it are written) unless ``keep_going``: then that person alone is skipped,
        exactly as if the rest were upserted again in a new transaction."""
        statements = self._person_statements
        with self._write() as connection:
            stored = statements.stored_data(connection, {row.id for row in prepared})
            # Only persons with a line that differs from what is stored may be written (an
            # unchanged person seen again after a change is one): ownership is read for them.
            ids = {row.id for row in prepared if stored.get(row.id) != row.data}
            claimed: dict[str, set[str]] = {}
            for person_id, _, keys in prepared:
                if person_id in ids:
                    for kind, value in keys:
                        claimed.setdefault(kind, set()).add(value)
            # Who owns each identity now: those the chunk claims, and those it may release.
            owners = statements.owners(connection, claimed, ids) if ids else {}
            found: dict[str, set[IdentityKey]] = {}
            for key, owner in owners.items():
                found.setdefault(owner, set()).add(key)
            held: dict[str, AbstractSet[IdentityKey]] = dict(found)
            holders = stored.keys() | held.keys()  # whose identities a write replaces

            accepted: dict[str, tuple[str, AbstractSet[IdentityKey]]] = {}
            conflicts: list[tuple[int, InvalidRecordError]] = []
            owner_of = owners.get
            for index, (person_id, data, keys) in enumerate(prepared):
                if stored.get(person_id) == data:
                    continue
                clashes = [key for key in keys if owner_of(key, person_id) != person_id]
                if clashes:
                    clashes.sort()
                    conflicts.append((index, _identity_conflict(person_id, clashes, owners)))
                    if keep_going:
                        continue
                    break
                released = held.pop(person_id, None)
                if released:
                    for key in released:
                        del owners[key]
                for key in keys:
                    owners[key] = person_id
                held[person_id] = keys  # never changed once here: a frozenset can be shared
                stored[person_id] = data
                accepted[person_id] = (data, keys)
            if accepted:
                now = datetime.now(UTC)
                statements.write(
                    connection,
                    accepted,
                    holders & accepted.keys(),
                    sqlite_datetime(now) if self._fast_sqlite else now,
                )
        return len(accepted), conflicts

    @cached_property
    def _person_statements(self) -> PersonStatements:
        return PersonStatements(sqlite=self._fast_sqlite)

    def get_person(self, person_id: str) -> Person | None:
        """The stored person, or None."""
        with self._read() as connection:
            data = connection.scalar(select(persons.c.data).where(persons.c.id == person_id))
        return None if data is None else Person.model_validate_json(data)

    def find_person(self, kind: str, value: str) -> str | None:
        """The id of the person owning identity ``value`` of ``kind``, or None.

        ``kind`` is one of ``email``, ``phone``, ``handle`` (``"platform:handle"``) and
        ``crm`` (``"system/object/id"``); ``value`` is normalized as on insert.
        """
        normalized = normalize_identity(kind, value)
        with self._read() as connection:
            found = connection.scalar(
                select(identities.c.person_id).where(
                    identities.c.kind == kind, identities.c.value == normalized
                )
            )
        return None if found is None else str(found)

    def iter_persons(self) -> Iterator[Person]:
        """Every person, ordered by id, a page at a time."""
        for page in self._pages(persons, persons.c.id, PAGE_SIZE):
            for _, data in page:
                yield Person.model_validate_json(data)

    def count_persons(self) -> int:
        return self._count(persons)

    def unknown_person_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that name no stored person (one query per 900 ids), so a caller
        can drop or report those records before :meth:`add_perceptions`."""
        with self._read() as connection:
            return self._unknown_in(connection, set(ids))

    @staticmethod
    def _unknown_in(connection: Connection, wanted: set[str]) -> set[str]:
        known: set[str] = set()
        for part in chunks(sorted(wanted), IN_LIST_SIZE):
            known.update(connection.scalars(select(persons.c.id).where(persons.c.id.in_(part))))
        return wanted - known

    def delete_person(self, person_id: str) -> bool:
        """Erase the person from every table (see :meth:`erase_person`); False if the
        person was not stored (their sync state, if any, is erased all the same)."""
        return self.erase_person(person_id).existed

    def erase_person(self, person_id: str) -> ErasureReport:
        """Remove the person with their identities, perceptions, preferences, profile, sync
        state, dead letters and checkpoints, in one transaction: erasure reaches every table.

        The report names the CRM record relcrm knew per target, read before deleting, so the
        caller can clear relcrm's fields there; the store no longer knows them afterwards.
        """
        if self._segments is not None:
            # Files first: should the transaction below fail, running the erasure again
            # finishes it; the other way round, perceptions could outlive their person.
            self._segments.erase_persons([person_id])
        else:
            self._clear_move_leftovers()
        with self._write() as connection:
            records, targets = self._erase_sync_state(connection, person_id)
            self._erase_voice_links(connection, person_id)
            self._erase_outreach_tasks(connection, person_id)
            self._erase_profile_history(connection, person_id)
            for table in (identities, perceptions, preferences, profiles):
                connection.execute(delete(table).where(table.c.person_id == person_id))
            result = connection.execute(delete(persons).where(persons.c.id == person_id))
            existed = result.rowcount > 0
        return ErasureReport(
            person_id=person_id,
            existed=existed,
            targets_with_records=records,
            targets_with_state=targets,
        )

    # -- perceptions -------------------------------------------------------------------

    def add_perceptions(self, perceptions_: Iterable[Perception]) -> int:
        """Store perceptions and return how many were new; a known id changes nothing.

        Works in chunks of ``perception_chunk`` rows, one transaction each. A perception
        whose person is not stored raises :class:`InvalidRecordError` naming it, and
        nothing of its chunk is written; earlier chunks stay stored (running the call
        again is harmless). Pre-filter with :meth:`unknown_person_ids` to go on instead.
        """
        if self._segments is not None:
            return self.add_segment_rows([segment_row(p) for p in perceptions_])
        sqlite_text = self._fast_sqlite
        return self.add_perception_rows(_perception_row(p, sqlite_text) for p in perceptions_)

    def add_segment_rows(self, rows: list[SegmentRow]) -> int:
        """Like :meth:`add_perceptions` on a store that keeps perceptions in segments, for
        rows built by :func:`relcrm.store.segments.columns.segment_row`; return how many
        were new. Every row's person must be stored (checked first, in bulk): otherwise
        :class:`InvalidRecordError` names the first such perception and nothing is written.
        """
        if self._segments is None:
            raise StoreError("this store keeps its perceptions in its table, not in segments")
        unknown = self.unknown_person_ids({row[1] for row in rows})
        if not unknown:
            return self._segments.append_rows(rows)
        # As the table layout does chunk by chunk: the chunks before the first one naming
        # an unknown person are stored (in one segment), nothing from that chunk on.
        size = self.perception_chunk
        first = next(index for index, row in enumerate(rows) if row[1] in unknown)
        self._segments.append_rows(rows[: first - first % size])
        bad = [
            row
            for row in rows[first - first % size : first - first % size + size]
            if row[1] in unknown
        ]
        raise _unknown_person(f"perception {bad[0][0]}", bad[0][1], len(bad) - 1)

    @property
    def perception_row_format(self) -> RowFormat:
        """The ``row_format`` of :func:`stored_row` for rows of this store."""
        if self._segments is not None:
            return "segment"
        return "sqlite_text" if self._fast_sqlite else "aware"

    def add_stored_rows(self, rows: list[StoredRow]) -> int:
        """Rows built by :func:`stored_row` in :attr:`perception_row_format`: written as
        :meth:`add_segment_rows` or :meth:`add_perception_rows` does."""
        if self._segments is not None:
            return self.add_segment_rows(rows)
        return self.add_perception_rows(rows)

    @property
    def perception_rows_sqlite_text(self) -> bool:
        """The ``sqlite_text`` argument of :func:`perception_row` for rows of this store."""
        return self._fast_sqlite

    def add_perception_rows(self, rows: Iterable[PerceptionRow]) -> int:
        """Like :meth:`add_perceptions`, for rows already built by :func:`perception_row`
        (with this store's :attr:`perception_rows_sqlite_text`); return how many were new.

        For callers that validate and build rows elsewhere (another process) and only
        write here. Same chunks, transactions and errors as :meth:`add_perceptions`: a row
        whose person is not stored raises :class:`InvalidRecordError` naming its perception.
        """
        new = 0
        for chunk in chunks(rows, self.perception_chunk):
            new += self._insert_row_chunk(chunk)
        return new

    def _insert_row_chunk(self, rows: list[PerceptionRow]) -> int:
        # Optimistic: the foreign key on person_id checks every row as part of the insert,
        # which costs less than asking first. Only when it fails do we look, in bulk, for
        # the perceptions to blame.
        try:
            with self._write() as connection:
                return self._insert_new_perceptions(connection, rows)
        except IntegrityError as error:
            unknown = self.unknown_person_ids({row[1] for row in rows})
            if not unknown:
                raise
            bad = [row for row in rows if row[1] in unknown]
            raise _unknown_person(f"perception {bad[0][0]}", bad[0][1], len(bad) - 1) from error

    def _insert_perceptions_in_table(
        self, connection: Connection, perceptions_: list[Perception]
    ) -> int:
        sqlite_text = self._fast_sqlite
        rows = [_perception_row(p, sqlite_text) for p in perceptions_]
        return self._insert_new_perceptions(connection, rows)

    def _insert_new_perceptions(self, connection: Connection, rows: list[PerceptionRow]) -> int:
        statement = self._insert(perceptions).on_conflict_do_nothing(
            index_elements=[perceptions.c.id]
        )
        if self._fast_sqlite:
            # SQLAlchemy's per-row parameter handling costs more than SQLite's insert; hand
            # the rows, already in column order, to the driver with the compiled statement.
            return connection.exec_driver_sql(self._compiled_sql(statement), rows).rowcount
        # Drivers disagree on rowcount after an executemany (psycopg reports -1); the ids
        # RETURNING gives back are exactly the rows that were new.
        values = [dict(zip(PERCEPTION_COLUMNS, row, strict=True)) for row in rows]
        return len(connection.execute(statement.returning(perceptions.c.id), values).all())

    def _compiled_sql(self, statement: Any) -> str:
        if self._perception_sql is None:
            compiled = statement.compile(dialect=self._engine.dialect)
            if tuple(compiled.positiontup or ()) != PERCEPTION_COLUMNS:
                raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
            self._perception_sql = str(compiled)
        return self._perception_sql

    def count_perceptions(self) -> int:
        if self._segments is not None:
            return self._segments.count()
        return self._count(perceptions)

    def person_id_ranges(self, parts: int) -> list[tuple[str | None, str | None]]:
        """Split the persons into at most ``parts`` ranges ``(after, until]`` of about equal
        size, for :meth:`iter_person_perceptions` in several workers."""
        if parts < 1:
            raise ValueError(f"parts must be at least 1, got {parts}")
        with self._read() as connection:
            ids = list(connection.scalars(select(persons.c.id).order_by(persons.c.id)))
        if parts == 1 or len(ids) <= parts:
            return [(None, None)]
        step = len(ids) / parts
        cuts = sorted({ids[int(step * k) - 1] for k in range(1, parts)})
        bounds: list[str | None] = [None, *cuts, None]
        return list(pairwise(bounds))

    def persons_and_perceptions_json(self) -> tuple[list[str], list[str]]:
        """Every person's and every perception's stored JSON, unparsed, in two queries:
        for bulk readers that build no models (``relcrm profile --engine duckdb``)."""
        with self._read() as connection:
            people = list(connection.scalars(select(persons.c.data).order_by(persons.c.id)))
            if self._segments is None:
                said = list(connection.scalars(select(perceptions.c.data)))
                return people, said
        return people, list(self._iter_perception_json())

    def _iter_perception_json(self) -> Iterator[str]:
        """Every perception's JSON as the table layout stores it (defaults left out)."""
        if self._segments is None:
            after: str | None = None
            while True:
                with self._read() as connection:
                    query = select(perceptions.c.id, perceptions.c.data).order_by(perceptions.c.id)
                    if after is not None:
                        query = query.where(perceptions.c.id > after)
                    page = connection.execute(query.limit(PERCEPTION_CHUNK)).all()
                for _, data in page:
                    yield data
                if len(page) < PERCEPTION_CHUNK:
                    return
                after = page[-1][0]
        for row in self._segments.query("SELECT * FROM {perceptions} ORDER BY id"):
            yield _serialize_perception(perception_of(row), exclude_defaults=True).decode()

    def iter_person_perceptions(
        self,
        batch_size: int = 2000,
        *,
        after: str | None = None,
        until: str | None = None,
    ) -> Iterator[tuple[Person, list[Perception]]]:
        """Every person, by id, with their perceptions ordered by time then id.

        Only persons with ids in ``(after, until]`` when those are given (see
        :meth:`person_id_ranges`). Persons without perceptions come with an empty list.
        Each page of ``batch_size``
        persons costs two queries: a keyset query on persons, and one range query on
        perceptions (``person_id`` between the page's first and last id, served by the
        person_id index). The page is held as JSON text and a person's models are built
        only when yielded: thousands of live models would make every garbage collection
        walk them, which costs more than parsing them.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if self._segments is not None:
            yield from self._iter_person_segments(batch_size, after, until)
            return
        order = (perceptions.c.person_id, perceptions.c.occurred_at, perceptions.c.id)
        while True:
            with self._read() as connection:
                page = self._page(connection, persons, persons.c.id, after, batch_size)
                if until is not None:
                    page = [row for row in page if row[0] <= until]
                if not page:
                    return
                grouped: dict[str, list[str]] = {person_id: [] for person_id, _ in page}
                query = (
                    select(perceptions.c.person_id, perceptions.c.data)
                    .where(perceptions.c.person_id.between(page[0][0], page[-1][0]))
                    .order_by(*order)
                )
                for person_id, data in connection.execute(query):
                    bucket = grouped.get(person_id)
                    if bucket is not None:  # None: a person created after the page was read
                        bucket.append(data)
            for person_id, data in page:
                said = [Perception.model_validate_json(text) for text in grouped.pop(person_id)]
                yield Person.model_validate_json(data), said
            if len(page) < batch_size:
                return
            after = page[-1][0]

    def _iter_person_segments(
        self, batch_size: int, after: str | None, until: str | None
    ) -> Iterator[tuple[Person, list[Perception]]]:
        """:meth:`iter_person_perceptions` on a store that keeps perceptions in segments."""
        segments = self._segments
        assert segments is not None
        while True:
            with self._read() as connection:
                page = self._page(connection, persons, persons.c.id, after, batch_size)
            if until is not None:
                page = [row for row in page if row[0] <= until]
            if not page:
                return
            grouped: dict[str, list[tuple[Any, ...]]] = {person_id: [] for person_id, _ in page}
            rows = segments.query(
                "SELECT * FROM {perceptions} WHERE person_id BETWEEN ? AND ? "
                "ORDER BY person_id, occurred_us, id",
                [page[0][0], page[-1][0]],
            )
            for row in rows:
                bucket = grouped.get(row[1])
                if bucket is not None:
                    bucket.append(row)
            for person_id, data in page:
                said = [perception_of(row) for row in grouped.pop(person_id)]
                yield Person.model_validate_json(data), said
            if len(page) < batch_size:
                return
            after = page[-1][0]

    # -- preferences -------------------------------------------------------------------

    def add_preferences(self, preferences_: Iterable[Preference]) -> int:
        """Store stated preferences; return how many were new. The same statement (source
        record and kind) stored twice changes nothing. Their persons must be stored."""
        rows: list[dict[str, Any]] = [
            {
                "id": preference_key(preference),
                "person_id": preference.person_id,
                "kind": preference.kind.value,
                "stated_at": preference.stated_at.astimezone(UTC),
                "data": preference.model_dump_json(exclude_defaults=True),
            }
            for preference in preferences_
        ]
        if not rows:
            return 0
        unknown = self.unknown_person_ids({str(row["person_id"]) for row in rows})
        if unknown:
            first = min(unknown)
            others = sum(1 for row in rows if row["person_id"] in unknown) - 1
            raise _unknown_person(f"preference of {first}", first, others)
        statement = self._insert(preferences).on_conflict_do_nothing(
            index_elements=[preferences.c.id]
        )
        with self._write() as connection:
            new = connection.execute(statement.returning(preferences.c.id), rows).all()
        return len(new)

    def preferences_of(self, person_id: str) -> list[Preference]:
        """The person's stated preferences, oldest first."""
        query = (
            select(preferences.c.data)
            .where(preferences.c.person_id == person_id)
            .order_by(preferences.c.stated_at, preferences.c.id)
        )
        with self._read() as connection:
            return [Preference.model_validate_json(data) for data in connection.scalars(query)]

    # -- profiles ----------------------------------------------------------------------

    def save_profiles(self, profiles_: Iterable[RelationshipProfile]) -> int:
        """Insert or replace each person's profile; return how many were written.

        A profile of an unknown person raises :class:`InvalidRecordError` before its chunk
        is written. Within one call the last profile of a person wins.
        """
        return self.save_profile_rows(profile_row(profile) for profile in profiles_)

    def save_profile_rows(
        self, rows: Iterable[ProfileRow], *, chunk_size: int | None = None, history: bool = True
    ) -> int:
        """Like :meth:`save_profiles`, for profiles already in their stored form (see
        :class:`ProfileRow`): bulk callers that never build the models. Same chunks,
        transactions, history rows and errors; return how many were written.

        ``data`` is stored as given (the caller vouches that it is the model's JSON; it is
        validated when read back, by :meth:`get_profile` and :meth:`iter_profiles`).
        ``chunk_size`` (default ``PERSON_CHUNK``) profiles go in each transaction: a bulk
        run passes a whole range of persons, to pay one commit for it. ``history=False``
        records no history rows (a changed-only run between two whole-book records)."""
        written = 0
        for chunk in chunks(rows, chunk_size or PERSON_CHUNK):
            latest = list({row.person_id: row for row in chunk}.values())
            with self._write() as connection:
                unknown = self._unknown_profiled(connection, [row.person_id for row in latest])
                if unknown:
                    bad = [row for row in chunk if row.person_id in unknown]
                    first = bad[0].person_id
                    raise _unknown_person(f"profile of {first}", first, len(bad) - 1)
                # A run saves one clock for every person: each clock converted once.
                clocks = {row.as_of: self._column_time(row.as_of) for row in _one_per_clock(latest)}
                self._upsert_many(
                    connection,
                    self._profile_upsert(),
                    PROFILE_COLUMNS,
                    [
                        (
                            row.person_id,
                            clocks[row.as_of],
                            row.model_version,
                            row.segment,
                            row.health,
                            row.data,
                        )
                        for row in latest
                    ],
                )
                if history:
                    self._record_history(connection, latest, clocks)
            written += len(latest)
        return written

    def _unknown_profiled(self, connection: Connection, ids: list[str]) -> set[str]:
        """Those of ``ids`` (distinct) that name no stored person: on SQLite one statement
        over the ids as a JSON array (a lookup an id in the primary key), elsewhere
        :meth:`_unknown_in`'s IN lists."""
        if not self._fast_sqlite:
            return self._unknown_in(connection, set(ids))
        found = connection.exec_driver_sql(
            "SELECT j.value FROM json_each(?) AS j "
            "WHERE NOT EXISTS (SELECT 1 FROM persons WHERE persons.id = j.value)",
            (json.dumps(ids),),
        )
        return {str(value) for (value,) in found}

    def _profile_upsert(self) -> Any:
        insert = self._insert(profiles)
        return insert.on_conflict_do_update(
            index_elements=[profiles.c.person_id],
            set_={name: insert.excluded[name] for name in PROFILE_COLUMNS[1:]},
        )

    def _column_time(self, moment: datetime) -> datetime | str:
        """``moment`` as a datetime column's value for :meth:`_upsert_many`: on SQLite the
        text SQLAlchemy would write, elsewhere the UTC datetime. A naive one is refused.
        A profiling run saves one clock for every person: the last one is remembered."""
        last = self._last_column_time
        if last is not None and last[0] == moment:
            return last[1]
        utc = to_utc(moment)
        value = sqlite_datetime(utc) if self._fast_sqlite else utc
        self._last_column_time = (moment, value)
        return value

    def _upsert_many(
        self, connection: Connection, statement: Any, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        """Run ``statement`` (an insert or upsert of whole rows) for ``rows``, values in
        ``columns`` order (the table's) and datetimes from :meth:`_column_time`.

        On SQLite the compiled SQL and the tuples go straight to the driver: SQLAlchemy's
        per-row parameter handling costs more than SQLite's own work (as for perceptions).
        """
        if not rows:
            return
        if not self._fast_sqlite:
            connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
            return
        key = (statement.table.name, *columns)
        sql = self._driver_sql.get(key)
        if sql is None:
            compiled = statement.compile(dialect=self._engine.dialect)
            if tuple(compiled.positiontup or ()) != columns:
                raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
            sql = self._driver_sql[key] = str(compiled)
        connection.exec_driver_sql(sql, rows)

    @cached_property
    def _driver_sql(self) -> dict[tuple[str, ...], str]:
        """Compiled SQL of :meth:`_upsert_many`'s statements, by table and columns."""
        return {}

    def get_profile(self, person_id: str) -> RelationshipProfile | None:
        """The person's latest saved profile, or None."""
        with self._read() as connection:
            data = connection.scalar(
                select(profiles.c.data).where(profiles.c.person_id == person_id)
            )
        return None if data is None else RelationshipProfile.model_validate_json(data)

    def iter_profiles(self) -> Iterator[RelationshipProfile]:
        """Every saved profile, ordered by person id, a page at a time."""
        for page in self._pages(profiles, profiles.c.person_id, PAGE_SIZE):
            for _, data in page:
                yield RelationshipProfile.model_validate_json(data)

    # -- helpers -----------------------------------------------------------------------

    def _count(self, table: Table) -> int:
        with self._read() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)

    @staticmethod
    def _page(
        connection: Connection, table: Table, key: Any, after: str | None, size: int
    ) -> list[tuple[str, str]]:
        query = select(key, table.c.data).order_by(key).limit(size)
        if after is not None:
            query = query.where(key > after)
        return [(row[0], row[1]) for row in connection.execute(query)]

    def _pages(self, table: Table, key: Any, size: int) -> Iterator[list[tuple[str, str]]]:
        after: str | None = None
        while True:
            with self._read() as connection:
                page = self._page(connection, table, key, after, size)
            if page:
                yield page
            if len(page) < size:
                return
            after = page[-1][0]


def open_store(url: str) -> Store:
    """Open (create, or migrate forward) the store at ``url``; see :meth:`Store.open`."""
    return Store.open(url)


__all__ = [
    "IDENTITY_KINDS",
    "PerceptionRow",
    "PersonRow",
    "ProfileRow",
    "Store",
    "canonical_json",
    "open_store",
    "perception_row",
    "person_row",
    "profile_row",
]
