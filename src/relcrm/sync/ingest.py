"""Load a JSONL interchange file into the store, one bad line never stopping the rest.

**Forgotten persons stay forgotten.** Every ingest (this one, and the survey, social and
case ingests of :mod:`relcrm.sync.ingest_sources`) loads the store's erasures once
(:meth:`relcrm.store.Store.erasure_index`: the salted hashes of every identity ``relcrm
forget`` erased) and checks each incoming person against them: their person id, emails,
phones, social handles and CRM records, hashed the same way. A record that names a
forgotten person is refused, with a rejection that names its line or row and never the
identity, and is counted in ``report.forgotten``; so are that person's perceptions and
preferences. The one way back is a consent given again, which the record itself must
carry (:func:`gives_consent_again`): granted, and dated after the erasure. Such a record
brings the person back (``report.restored``) and writes a ``reconsent`` entry to the audit
log; what was observed at or before the erasure stays refused even then, since the person
asked for it to be erased. A store that never forgot anyone checks nothing.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.errors import FieldProblem, InvalidRecordError
from relcrm.models import Consent, Preference
from relcrm.sources.interchange import (
    DEFAULT_MAX_LINE_BYTES,
    InterchangeItem,
    InterchangeRecord,
    parse_interchange_line,
)
from relcrm.store import Store
from relcrm.store.audit import Erasure, ErasureIndex
from relcrm.store.store import (
    PersonRow,
    RowFormat,
    StoredRow,
    sqlite_datetime,
    stored_row_time,
)
from relcrm.sync.analysis import check_analyzer
from relcrm.sync.ingest_chunks import ParsedChunk, RawChunk, parse_chunk, raw_chunks

logger = logging.getLogger(__name__)

CHUNK_LINES = 20_000
"""Lines per chunk: the unit of parsing (in a worker) and of writing (one transaction
for the chunk's perceptions). Larger chunks write fewer times to the same index pages."""

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
"""Files smaller than this (about 50,000 lines) are parsed in the calling process unless
``workers`` says otherwise: below it, starting the workers (about half a second) and
filling the pipeline cost about what they save (measured on 2 cores)."""

WORKER_NICENESS = 5
"""How much lower the parsing processes' priority is: the single writer is the bottleneck,
so it should never wait for a core while workers parse ahead."""

KNOWN_PERSONS_LIMIT = 250_000
"""Person ids remembered as stored during one ingest (saves asking the store again);
the memory is cleared when it grows past this, so it stays bounded."""


@dataclass
class IngestReport:
    """What one ingest did: counts, and every rejected record with its line and fields."""

    source: str
    persons: int = 0
    perceptions_new: int = 0
    perceptions_known: int = 0
    preferences: int = 0
    rejections: list[InvalidRecordError] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    """Items cut out of verbatims before they were stored, by kind (email, card, ...)."""
    skipped: int = 0
    """Records with nothing to ingest (survey rows without any answer): counted, not errors."""
    analyzed: int = 0
    """Perceptions whose verbatim the analyzer read (valence, arousal, emotions filled in)."""
    unresolved: int = 0
    """Social posts waiting in the store for their author to be known (after this ingest)."""
    held_resolved: int = 0
    """Posts kept aside by an earlier ingest whose author this one found (now perceptions)."""
    notices: list[str] = field(default_factory=list)
    """How the source was read (encoding, delimiter, flavour), in plain sentences."""
    forgotten: int = 0
    """Records refused because they name a person ``relcrm forget`` erased (persons,
    perceptions, preferences, posts): each is also in ``rejections``, by line or row."""
    restored: int = 0
    """Forgotten persons let back in by a record giving consent again after the erasure
    (each has a ``reconsent`` entry in the audit log)."""

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def ok(self) -> bool:
        return not self.rejections


ProgressCallback = Callable[[int], None]
"""Called with the number of records handled since the last call."""


# --------------------------------------------------------------------------- forgotten


def gives_consent_again(consent: Consent | None, erasure: Erasure) -> datetime | None:
    """When ``consent`` (what a record itself says) brings back a person forgotten by
    ``erasure``, or None if it does not.

    It does when it is granted and dated strictly after the erasure. A consent without a
    date, a refusal, or one dated at or before the erasure (given before it, so the
    person's request to be forgotten came later) does not: only the record's own
    statement counts, never the consent the store or another record had.
    """
    if consent is None or not consent.granted or consent.updated_at is None:
        return None
    return consent.updated_at if consent.updated_at > erasure.at else None


def forgotten_refusal(record: str, erasure: Erasure, *, before: bool = False) -> InvalidRecordError:
    """The rejection of a record that names a forgotten person: it names the record (its
    line or row) and the date of the erasure, never the person or an identity."""
    when = f"{erasure.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if before:
        problem = (
            f"observed before this person was forgotten ({when}): what they asked to be "
            "erased stays erased, even after they consented again"
        )
        hint = "nothing to do: remove the record from the source to silence this"
    else:
        problem = (
            f"this person was forgotten (relcrm forget, {when}); refused unless the record "
            "gives consent again, dated after that"
        )
        hint = "remove the person from the source (docs/ops.md, Forgetting a person)"
    return InvalidRecordError(record, [FieldProblem("person", problem)], hint=hint)


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What the ingest decided about one forgotten person (by id)."""

    erasure: Erasure
    refused: bool
    """Refused whole; otherwise back (consented again), but only for what came after."""

    def observed_before(self, when: str | datetime) -> bool:
        """Whether a record observed at ``when`` (a perception row's time: UTC text for
        a SQLite store, else aware) predates the erasure."""
        if isinstance(when, str):
            return when <= sqlite_datetime(self.erasure.at)
        return when <= self.erasure.at


def _consent_of(person: PersonRow) -> Consent | None:
    """The consent a person line states (only read for a forgotten person: rare)."""
    try:
        stated = json.loads(person.data).get("consent")
        return None if stated is None else Consent.model_validate(stated)
    except (ValueError, AttributeError):  # a ValidationError is a ValueError
        return None


def default_ingest_workers() -> int:
    """Parsing processes for a large file: one per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def ingest_interchange(
    path: str | os.PathLike[str],
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    chunk_lines: int | None = None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    analyzer: str | None = None,
) -> IngestReport:
    """Stream ``path`` into ``store`` in chunks of ``chunk_lines`` lines.

    Every verbatim is redacted with ``redaction`` before it is stored. A perception with
    a verbatim and no valence is then read by the analyzer installed under the name
    ``analyzer`` (``relcrm.analyze.DEFAULT_ANALYZER`` is what ``relcrm ingest`` passes;
    None, the default here, stores verbatims unanalyzed): its valence, arousal, emotions,
    flags and confidence are filled in and its provenance names the analyzer and version
    (``report.analyzed`` counts them). A perception that carries a valence is stored as
    given. An analyzer name that is not installed raises
    :class:`relcrm.errors.ConfigurationError` before anything is read.

    Persons are written before the perceptions and preferences of the same chunk. A
    record whose person has not been seen yet is held back until the end of the file
    (persons may come after their perceptions) and rejected, naming its line, only if
    its person never appears. A person whose identity belongs to another person is
    rejected and the rest goes on. Re-ingesting the same file changes nothing.
    ``report.rejections`` lists, chunk by chunk, bad lines and identity conflicts, then
    the records whose person never appeared, by line.

    A person the store forgot is refused with their perceptions and preferences, by line,
    unless their person line gives consent again after the erasure (see the module).

    Lines are validated in ``workers`` processes (by default one per core, or none for
    a file under ``PARALLEL_MIN_BYTES``) while this process writes; ``workers=1``
    validates here. The store and the report come out the same either way.

    A store that keeps its perceptions in segments (``relcrm store segments``) is loaded
    columns first instead (:mod:`relcrm.sync.ingest_columnar`), in this process, with the
    same store contents, report and error messages; ``workers`` does not apply.
    ``chunk_lines`` defaults to ``CHUNK_LINES`` (table) or ``COLUMNAR_CHUNK_LINES``.
    """
    if workers is None:
        small = os.path.getsize(path) < PARALLEL_MIN_BYTES
        workers = 1 if small else default_ingest_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    segments = store.perception_segments
    if segments is not None:
        from relcrm.sync.ingest_columnar import COLUMNAR_CHUNK_LINES, ingest_into_segments

        if analyzer is not None:
            check_analyzer(analyzer)
        report = IngestReport(source=os.fspath(path))
        ingest_into_segments(
            path,
            store,
            segments,
            report,
            progress=progress,
            chunk_lines=COLUMNAR_CHUNK_LINES if chunk_lines is None else chunk_lines,
            redaction=redaction,
            analyzer=analyzer,
        )
        return report
    if analyzer is not None:
        check_analyzer(analyzer)  # each process loads it when a perception first needs it
    report = IngestReport(source=os.fspath(path))
    writer = _Writer(store, report, progress, store.erasure_index())
    lines = CHUNK_LINES if chunk_lines is None else chunk_lines
    chunks = _parsed_chunks(path, store.perception_row_format, workers, lines, redaction, analyzer)
    with closing(chunks):
        for chunk in chunks:
            writer.write(chunk)
    writer.finish()
    return report


def _parsed_chunks(
    path: str | os.PathLike[str],
    row_format: RowFormat,
    workers: int,
    chunk_lines: int,
    redaction: RedactionConfig,
    analyzer: str | None,
) -> Generator[ParsedChunk, None, None]:
    """Parsed chunks in file order; with workers, the next ones are parsed meanwhile."""
    raws = raw_chunks(path, chunk_lines, DEFAULT_MAX_LINE_BYTES)
    # The analyzer goes by name: a name pickles, and each worker loads its own once.
    options = (DEFAULT_MAX_LINE_BYTES, row_format, redaction, analyzer)
    if workers == 1:
        for raw in raws:
            yield parse_chunk(raw, *options)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_lower_priority, initargs=(WORKER_NICENESS,)
    )
    pending: deque[tuple[RawChunk, Future[ParsedChunk]]] = deque()
    broken = False
    try:
        for raw in raws:
            future = pool.submit(parse_chunk, raw, *options)
            pending.append((raw, future))
            # One chunk per worker in progress and one ready: bounded memory, no waiting.
            while len(pending) > workers and not broken:
                parsed = _result(pending[0][1])
                if parsed is None:
                    broken = True
                else:
                    pending.popleft()
                    yield parsed
            if broken:
                break
        while pending and not broken:
            parsed = _result(pending[0][1])
            if parsed is None:
                broken = True
            else:
                pending.popleft()
                yield parsed
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if broken:
        # Worker processes could not run here (e.g. a __main__ that spawn cannot import,
        # as under `python -`): parse what is left in this process, in the same order.
        logger.warning("parsing workers are unavailable; going on in this process")
        for raw, _ in pending:
            yield parse_chunk(raw, *options)
        for raw in raws:
            yield parse_chunk(raw, *options)


def _result(future: Future[ParsedChunk]) -> ParsedChunk | None:
    """The worker's result; None when the pool broke (the caller goes on in-process)."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _lower_priority(niceness: int) -> None:
    """Let the writing process go first: it is the one the others wait for."""
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)


def _read_again(text: str, line: int) -> InterchangeRecord:
    """The record of a line that parse_chunk accepted (so it cannot fail here)."""
    item = parse_interchange_line(text, line)
    if not isinstance(item, InterchangeItem):
        raise RuntimeError(f"line {line} was valid and is not any more")
    return item.record


class _Writer:
    """Writes parsed chunks in file order and keeps what waits for its person."""

    def __init__(
        self,
        store: Store,
        report: IngestReport,
        progress: ProgressCallback | None,
        erasures: ErasureIndex,
    ) -> None:
        self.store = store
        self.report = report
        self.progress = progress
        self.erasures = erasures
        self.verdicts: dict[str, _Verdict] = {}
        """Forgotten persons by id, as their person lines (or their id alone) decided."""
        self.refused_lines: set[int] = set()
        """Lines of perceptions refused as a forgotten person's (not counted as analyzed)."""
        self.known: set[str] = set()
        self.ready_rows: list[tuple[int, StoredRow]] = []
        """Rows to write, with their lines (the segments layout keeps the first line's)."""
        self.held_rows: list[tuple[int, StoredRow]] = []
        self.held_preferences: list[tuple[int, Preference]] = []
        self.held_analyzed: set[int] = set()
        """Lines of held rows that were analyzed: counted only if they are written."""

    @property
    def flush_every(self) -> int:
        """Rows written at a time: one store chunk (see :meth:`_flush_rows`)."""
        return self.store.perception_chunk

    def write(self, chunk: ParsedChunk) -> None:
        self.report.rejections.extend(rejected.error() for rejected in chunk.rejections)
        for kind, count in chunk.redactions.items():
            self.report.redactions[kind] = self.report.redactions.get(kind, 0) + count
        self._write_persons(chunk.persons)
        rows = list(zip(chunk.perception_lines, chunk.perception_rows, strict=True))
        preferences = [(line, _preference(text, line)) for line, text in chunk.preferences]
        held = self._write_rows(rows)
        self.held_rows.extend(held)
        if chunk.analyzed_lines:  # rows waiting for their person count once written
            analyzed = set(chunk.analyzed_lines)
            waiting = {line for line, _ in held if line in analyzed}
            refused = analyzed & self.refused_lines
            self.report.analyzed += len(analyzed) - len(waiting) - len(refused)
            self.held_analyzed |= waiting
        self.held_preferences.extend(self._write_preferences(preferences))
        if self.progress is not None:
            self.progress(chunk.records)

    def finish(self) -> None:
        """Write what waited for a person who came later; reject the rest by line."""
        self._flush_rows()
        rows, self.held_rows = self.held_rows, []
        preferences, self.held_preferences = self.held_preferences, []
        self.known.clear()  # ask the store about each of them once more
        never = self._write_rows(rows)
        unwritten: list[tuple[int, str, str]] = [
            (line, f"perception {row[0]}", row[1]) for line, row in never
        ]
        if self.held_analyzed:
            rejected = {line for line, _ in never if line in self.held_analyzed}
            rejected |= self.held_analyzed & self.refused_lines
            self.report.analyzed += len(self.held_analyzed) - len(rejected)
            self.held_analyzed.clear()
        self._flush_rows()
        unwritten.extend(
            (line, f"preference {record.kind.value}", record.person_id)
            for line, record in self._write_preferences(preferences)
        )

        for line, name, person_id in sorted(unwritten):
            verdict = self._verdict(person_id, final=True)
            if verdict is not None:  # a forgotten person, named by their id alone
                self._refuse(f"line {line} ({name.split()[0]})", verdict.erasure)
                continue
            self.report.rejections.append(
                InvalidRecordError(
                    f"line {line} ({name})",
                    [
                        FieldProblem(
                            "person_id",
                            "no person with this id in the file or the store",
                            repr(person_id),
                        )
                    ],
                    hint="add a person line for it, or fix the id",
                )
            )

    def _write_persons(self, persons: list[tuple[int, PersonRow]]) -> None:
        if not persons:
            return
        returning: dict[int, tuple[int, Erasure, set[str], datetime]] = {}
        if self.erasures:
            persons = self._screen_persons(persons, returning)
        where = {id(person): line for line, person in persons}
        _, rejected = self.store.upsert_person_rows_reporting(person for _, person in persons)
        self.report.persons += len(persons) - len(rejected)
        refused = {id(person) for person, _ in rejected}
        self._remember(person.id for _, person in persons if id(person) not in refused)
        for person, error in rejected:
            self.report.rejections.append(
                InvalidRecordError(f"line {where[id(person)]} (person {person.id})", error.problems)
            )
        for _, person in persons:
            if id(person) in returning and id(person) not in refused:
                line, erasure, hashes, consent_at = returning[id(person)]
                entry = self.store.record_reconsent(
                    person.id,
                    hashes,
                    consent_at=consent_at,
                    erased_at=erasure.at,
                    record=f"line {line}",
                    via="interchange",
                )
                self.erasures.lift(hashes, entry.id)
                self.report.restored += 1

    def _screen_persons(
        self,
        persons: list[tuple[int, PersonRow]],
        returning: dict[int, tuple[int, Erasure, set[str], datetime]],
    ) -> list[tuple[int, PersonRow]]:
        """The person lines that may be written: a forgotten person is refused, unless the
        line gives consent again (then ``returning`` says so, by the row's ``id()``)."""
        kept: list[tuple[int, PersonRow]] = []
        for line, person in persons:
            hashes = self.erasures.hashes(person.id, person.identities)
            erasure = self.erasures.match(hashes)
            if erasure is None:
                self.verdicts.pop(person.id, None)
                kept.append((line, person))
                continue
            if erasure.in_force:
                consent_at = gives_consent_again(_consent_of(person), erasure)
                if consent_at is None:
                    self.verdicts[person.id] = _Verdict(erasure, refused=True)
                    self._refuse(f"line {line} (person)", erasure)
                    continue
                erased = self.erasures.erased_hashes(hashes)
                returning[id(person)] = (line, erasure, erased, consent_at)
            self.verdicts[person.id] = _Verdict(erasure, refused=False)
            kept.append((line, person))
        return kept

    def _verdict(self, person_id: str, *, final: bool = False) -> _Verdict | None:
        """What was decided about ``person_id`` if they were forgotten. A person known
        only by an id that an erasure names is refused ``final``-ly (at the end of the
        file: their person line may still come, and consent again)."""
        if not self.erasures:
            return None
        verdict = self.verdicts.get(person_id)
        if verdict is not None:
            return verdict
        erasure = self.erasures.match((self.erasures.subject(person_id),))
        if erasure is None:
            return None
        if not erasure.in_force:  # back since an earlier ingest: only what came after
            verdict = _Verdict(erasure, refused=False)
            self.verdicts[person_id] = verdict
            return verdict
        return _Verdict(erasure, refused=True) if final else None

    def _refuse(self, record: str, erasure: Erasure, *, before: bool = False) -> None:
        self.report.rejections.append(forgotten_refusal(record, erasure, before=before))
        self.report.forgotten += 1

    def _refused(self, line: int, what: str, person_id: str, when: str | datetime) -> bool:
        """Whether a record of ``person_id`` observed at ``when`` is refused (and reported)."""
        verdict = self._verdict(person_id)
        if verdict is None:
            return False
        if verdict.refused or verdict.observed_before(when):
            self._refuse(f"line {line} ({what})", verdict.erasure, before=not verdict.refused)
            if what == "perception":
                self.refused_lines.add(line)
            return True
        return False

    def _write_rows(self, rows: list[tuple[int, StoredRow]]) -> list[tuple[int, StoredRow]]:
        """Queue the rows whose person is stored for writing; return the others. Rows
        of a forgotten person are refused (reported) and neither."""
        if self.erasures and rows:
            rows = [
                (n, row)
                for n, row in rows
                if not self._refused(
                    n, "perception", row[1], stored_row_time(row, self.store.perception_row_format)
                )
            ]
        if not rows:
            return []
        unknown = self._unknown({row[1] for _, row in rows})
        self.ready_rows.extend((line, row) for line, row in rows if row[1] not in unknown)
        if len(self.ready_rows) >= self.flush_every:
            self._flush_rows()
        return [(line, row) for line, row in rows if row[1] in unknown]

    def _flush_rows(self) -> None:
        # Rows are written a store chunk at a time, whatever the size of the file's
        # chunks: with random ids, each transaction rewrites pages all over the id index.
        ready, self.ready_rows = self.ready_rows, []
        new = self.store.add_stored_rows([row for _, row in ready])
        self.report.perceptions_new += new
        self.report.perceptions_known += len(ready) - new

    def _write_preferences(
        self, preferences: list[tuple[int, Preference]]
    ) -> list[tuple[int, Preference]]:
        """Write the preferences whose person is stored; return the others. Those of a
        forgotten person are refused (reported) and neither."""
        if self.erasures and preferences:
            preferences = [
                (line, record)
                for line, record in preferences
                if not self._refused(line, "preference", record.person_id, record.stated_at)
            ]
        if not preferences:
            return []
        unknown = self._unknown({record.person_id for _, record in preferences})
        ready = [record for _, record in preferences if record.person_id not in unknown]
        if ready:
            self.report.preferences += self.store.add_preferences(ready)
        return [(line, record) for line, record in preferences if record.person_id in unknown]

    def _unknown(self, person_ids: set[str]) -> set[str]:
        asked = person_ids - self.known
        if not asked:
            return set()
        unknown = self.store.unknown_person_ids(asked)
        self._remember(asked - unknown)
        return unknown

    def _remember(self, person_ids: Iterable[str]) -> None:
        if len(self.known) > KNOWN_PERSONS_LIMIT:
            self.known.clear()
        self.known.update(person_ids)


def _preference(text: str, line: int) -> Preference:
    record = _read_again(text, line)
    if not isinstance(record, Preference):
        raise RuntimeError(f"line {line} is not a preference any more")
    return record
