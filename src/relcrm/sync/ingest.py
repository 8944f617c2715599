"""Load a JSONL interchange file into the store, one bad line never stopping the rest."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.errors import FieldProblem, InvalidRecordError
from relcrm.models import Preference
from relcrm.sources.interchange import (
    DEFAULT_MAX_LINE_BYTES,
    InterchangeItem,
    InterchangeRecord,
    parse_interchange_line,
)
from relcrm.store import Store
from relcrm.store.store import PerceptionRow, PersonRow
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

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def ok(self) -> bool:
        return not self.rejections


ProgressCallback = Callable[[int], None]
"""Called with the number of records handled since the last call."""


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
    chunk_lines: int = CHUNK_LINES,
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

    Lines are validated in ``workers`` processes (by default one per core, or none for
    a file under ``PARALLEL_MIN_BYTES``) while this process writes; ``workers=1``
    validates here. The store and the report come out the same either way.
    """
    if workers is None:
        small = os.path.getsize(path) < PARALLEL_MIN_BYTES
        workers = 1 if small else default_ingest_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if analyzer is not None:
        check_analyzer(analyzer)  # each process loads it when a perception first needs it
    report = IngestReport(source=os.fspath(path))
    writer = _Writer(store, report, progress)
    chunks = _parsed_chunks(
        path, store.perception_rows_sqlite_text, workers, chunk_lines, redaction, analyzer
    )
    with closing(chunks):
        for chunk in chunks:
            writer.write(chunk)
    writer.finish()
    return report


def _parsed_chunks(
    path: str | os.PathLike[str],
    sqlite_text: bool,
    workers: int,
    chunk_lines: int,
    redaction: RedactionConfig,
    analyzer: str | None,
) -> Generator[ParsedChunk, None, None]:
    """Parsed chunks in file order; with workers, the next ones are parsed meanwhile."""
    raws = raw_chunks(path, chunk_lines, DEFAULT_MAX_LINE_BYTES)
    # The analyzer goes by name: a name pickles, and each worker loads its own once.
    options = (DEFAULT_MAX_LINE_BYTES, sqlite_text, redaction, analyzer)
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
        self, store: Store, report: IngestReport, progress: ProgressCallback | None
    ) -> None:
        self.store = store
        self.report = report
        self.progress = progress
        self.known: set[str] = set()
        self.ready_rows: list[PerceptionRow] = []
        self.held_rows: list[tuple[int, PerceptionRow]] = []
        self.held_preferences: list[tuple[int, Preference]] = []
        self.held_analyzed: set[int] = set()
        """Lines of held rows that were analyzed: counted only if they are written."""

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
            self.report.analyzed += len(analyzed) - len(waiting)
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
            self.report.analyzed += len(self.held_analyzed) - len(rejected)
            self.held_analyzed.clear()
        self._flush_rows()
        unwritten.extend(
            (line, f"preference {record.kind.value}", record.person_id)
            for line, record in self._write_preferences(preferences)
        )

        for line, name, person_id in sorted(unwritten):
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
        where = {id(person): line for line, person in persons}
        _, rejected = self.store.upsert_person_rows_reporting(person for _, person in persons)
        self.report.persons += len(persons) - len(rejected)
        refused = {id(person) for person, _ in rejected}
        self._remember(person.id for _, person in persons if id(person) not in refused)
        for person, error in rejected:
            self.report.rejections.append(
                InvalidRecordError(f"line {where[id(person)]} (person {person.id})", error.problems)
            )

    def _write_rows(self, rows: list[tuple[int, PerceptionRow]]) -> list[tuple[int, PerceptionRow]]:
        """Queue the rows whose person is stored for writing; return the others."""
        if not rows:
            return []
        unknown = self._unknown({row[1] for _, row in rows})
        self.ready_rows.extend(row for _, row in rows if row[1] not in unknown)
        if len(self.ready_rows) >= self.store.perception_chunk:
            self._flush_rows()
        return [(line, row) for line, row in rows if row[1] in unknown]

    def _flush_rows(self) -> None:
        # Rows are written a store chunk at a time, whatever the size of the file's
        # chunks: with random ids, each transaction rewrites pages all over the id index.
        ready, self.ready_rows = self.ready_rows, []
        new = self.store.add_perception_rows(ready)
        self.report.perceptions_new += new
        self.report.perceptions_known += len(ready) - new

    def _write_preferences(
        self, preferences: list[tuple[int, Preference]]
    ) -> list[tuple[int, Preference]]:
        """Write the preferences whose person is stored; return the others."""
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
