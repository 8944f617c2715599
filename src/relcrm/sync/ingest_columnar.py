"""The interchange ingest for a store that keeps perceptions in segments: columns first.

A chunk of lines goes to DuckDB whole (:func:`relcrm.sources.interchange_columnar.
stage_perceptions`): the perception lines that pass every check as vectorised predicates
become typed rows there, with their ids derived in one pass; identical verbatims are
redacted and analysed once (:mod:`relcrm.sync.ingest_verbatims`). Every other line
(persons, preferences, bad lines, anything unusual) goes through the per-line parser, so
its record, or its error message, is exactly what the table layout's ingest gives.

Chunks are staged one ahead, in a thread of their own: while DuckDB stages the next
chunk, this thread reads the person lines of this one and writes them (Python), so both
cores stay busy; one chunk more in memory (about 60 MB at 1M perceptions) for about 8%
less time. Nothing of a chunk is written before the chunks before it are.

The writer is the table layout's (:class:`relcrm.sync.ingest._Writer`): persons first,
then perceptions whose person is stored, the others held until the end of the file, the
forgotten refused by line. Perceptions are appended to the segments about 400,000 at a
time, in a second thread while the next chunks are read, one append after the other, the
first line of an id winning, as the table's ``ON CONFLICT DO NOTHING`` in file order.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from relcrm.analyze import RedactionConfig
from relcrm.sources.dates import DateRange, date_range_from_environment
from relcrm.sources.interchange import DEFAULT_MAX_LINE_BYTES
from relcrm.sources.interchange_columnar import Staged, stage_perceptions
from relcrm.store import Store
from relcrm.store.audit import ErasureIndex
from relcrm.store.segments.columns import COLUMN_NAMES, SEGMENT_COLUMNS, utc_from_micros
from relcrm.store.segments.files import PerceptionSegments, load_rows
from relcrm.sync.collector import collections_between_batches
from relcrm.sync.ingest import IngestReport, ProgressCallback, _Writer
from relcrm.sync.ingest_chunks import parse_numbered, raw_chunks
from relcrm.sync.ingest_verbatims import analyse_staged, redact_staged

COLUMNAR_CHUNK_LINES = 245_760
"""Lines staged at a time: two of DuckDB's row groups (122,880 rows), so that each
statement over the chunk runs on two cores; the chunk's text and columns stay under
150 MB."""

SEGMENT_FLUSH_ROWS = 400_000
"""Perceptions appended to the segments at a time (one Parquet file each): two chunks of
the benchmark's file, the sort of which stays within about 300 MB."""

_COLUMNS = ", ".join(COLUMN_NAMES)


class _SegmentWriter(_Writer):
    """The table layout's writer, keeping the perceptions ready to write in DuckDB.

    A staged chunk is queued as it is (its table renamed, not copied). Appending to the
    segments (a sort and a Parquet write) runs in a second thread on a cursor, one append
    at a time and in order, while this thread goes on with the next chunks: most of their
    time is Python (person lines, ids), which leaves a core to DuckDB. Hence the queued
    tables live in the in-memory database, which every cursor sees, not as temp tables.
    """

    def __init__(
        self,
        store: Store,
        segments: PerceptionSegments,
        report: IngestReport,
        progress: ProgressCallback | None,
        erasures: ErasureIndex,
    ) -> None:
        super().__init__(store, report, progress, erasures)
        self.segments = segments
        self.connection: Any = segments.connection
        suffix = uuid.uuid4().hex[:12]
        self.prefix = f"ingest_ready_{suffix}"
        self.held = f"ingest_held_{suffix}"
        empty = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in SEGMENT_COLUMNS)
        self.connection.execute(
            f"CREATE TEMP TABLE {self.held} AS SELECT CAST(NULL AS BIGINT) AS line, {empty} LIMIT 0"
        )
        self.ready_tables: list[str] = []
        """Tables (``line`` + the segment columns) waiting for the next append."""
        self.ready_count = 0
        self.made = 0
        self.appender: ThreadPoolExecutor | None = None
        self.pending: Future[tuple[int, int]] | None = None

    @property
    def flush_every(self) -> int:
        return SEGMENT_FLUSH_ROWS

    def close(self) -> None:
        if self.pending is not None:
            wait([self.pending])  # after an error elsewhere: that error is the one told
            self.pending = None
        if self.appender is not None:
            self.appender.shutdown()
            self.appender = None
        for table in (self.held, *self.ready_tables):
            self.connection.execute(f"DROP TABLE IF EXISTS {table}")
        self.ready_tables = []

    def _queue_table(self) -> str:
        self.made += 1
        name = f"{self.prefix}_{self.made}"
        self.ready_tables.append(name)
        return name

    def write_staged(self, table: str, rows: int, analyzed_lines: list[int]) -> None:
        """Queue the staged perceptions of ``table`` as :meth:`_write_rows` queues rows;
        ``table`` is taken (renamed) unless nothing of it is ready."""
        if not rows:
            return
        staged = rows
        person_ids = {pid for (pid,) in self._fetch(f"SELECT DISTINCT person_id FROM {table}")}
        if self.erasures:
            rows -= self._refuse_staged(table, person_ids)
        unknown = sorted(self._unknown(person_ids))
        held_lines: set[int] = set()
        if unknown:
            among = "list_contains(CAST(? AS VARCHAR[]), person_id)"
            self.connection.execute(
                f"INSERT INTO {self.held} SELECT * FROM {table} WHERE {among}", [unknown]
            )
            held_lines = {
                line
                for (line,) in self._fetch(f"SELECT line FROM {table} WHERE {among}", [unknown])
            }
            self.connection.execute(f"DELETE FROM {table} WHERE {among}", [unknown])
            rows -= len(held_lines)
        if rows:
            self.connection.execute(f"ALTER TABLE {table} RENAME TO {self._queue_table()}")
            self.ready_count += rows
        if analyzed_lines:
            analyzed = set(analyzed_lines)
            waiting = analyzed & held_lines
            refused = analyzed & self.refused_lines
            self.report.analyzed += len(analyzed) - len(waiting) - len(refused)
            self.held_analyzed |= waiting
        if self.ready_count + len(self.ready_rows) >= self.flush_every:
            self._flush_rows()
        if self.progress is not None:
            self.progress(staged)

    def _refuse_staged(self, table: str, person_ids: set[str]) -> int:
        """Drop (and report) the staged rows of forgotten persons, line by line; return
        how many went."""
        forgotten = sorted(pid for pid in person_ids if self._verdict(pid) is not None)
        if not forgotten:
            return 0
        refused: list[int] = []
        for line, person_id, occurred in self._fetch(
            f"SELECT line, person_id, occurred_us FROM {table} "
            "WHERE list_contains(CAST(? AS VARCHAR[]), person_id) ORDER BY line",
            [forgotten],
        ):
            if self._refused(line, "perception", person_id, utc_from_micros(occurred)):
                refused.append(line)
        if refused:
            self.connection.execute(
                f"DELETE FROM {table} WHERE list_contains(CAST(? AS BIGINT[]), line)", [refused]
            )
            person_ids.difference_update(
                set(forgotten)
                - {
                    pid
                    for (pid,) in self._fetch(
                        f"SELECT DISTINCT person_id FROM {table} "
                        "WHERE list_contains(CAST(? AS VARCHAR[]), person_id)",
                        [forgotten],
                    )
                }
            )
        return len(refused)

    def _flush_rows(self) -> None:
        """Append what is ready, per-line rows and staged rows together, in line order:
        in the second thread, once the append before it is done."""
        if self.ready_rows:
            lines = [line for line, _ in self.ready_rows]
            rows = [row for _, row in self.ready_rows]
            self.ready_rows = []
            loaded = f"{self.prefix}_rows"
            load_rows(self.connection, loaded, rows)
            self.connection.execute(
                f"CREATE TABLE {self._queue_table()} AS "
                f"SELECT CAST(? AS BIGINT[])[ord + 1] AS line, {_COLUMNS} FROM {loaded}",
                [lines],
            )
            self.connection.execute(f"DROP TABLE {loaded}")
            self.ready_count += len(rows)
        if not self.ready_count:
            return
        self._settle()
        tables, self.ready_tables = self.ready_tables, []
        total, self.ready_count = self.ready_count, 0
        if self.appender is None:
            self.appender = ThreadPoolExecutor(1, thread_name_prefix="relcrm-segments")
        # The cursor is made here: a connection serves one thread at a time.
        cursor = self.connection.cursor()
        self.pending = self.appender.submit(self._append, cursor, tables, total)

    def _append(self, cursor: Any, tables: list[str], total: int) -> tuple[int, int]:
        """Append ``tables`` to the segments and drop them, appended or not (in the
        second thread)."""
        try:
            relation = " UNION ALL ".join(
                f"SELECT {_COLUMNS}, line AS ord FROM {table}" for table in tables
            )
            new = self.segments.append_relation(relation, connection=cursor)
        finally:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.close()
        return new, total

    def _settle(self) -> None:
        """Wait for the append under way, if any, and count what it added."""
        if self.pending is None:
            return
        pending, self.pending = self.pending, None
        new, total = pending.result()
        self.report.perceptions_new += new
        self.report.perceptions_known += total - new

    def finish(self) -> None:
        # Staged rows whose person had not appeared yet join the per-line held rows
        # (rare: persons after their perceptions), which the table layout's finish writes
        # or rejects by line.
        held = self._fetch(f"SELECT * FROM {self.held} ORDER BY line")
        self.held_rows.extend((int(row[0]), tuple(row[1:])) for row in held)
        self.held_rows.sort(key=lambda item: item[0])
        self.connection.execute(f"DELETE FROM {self.held}")
        super().finish()
        self._settle()

    def _fetch(self, query: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.connection.execute(query, parameters or []).fetchall()
        return rows


def ingest_into_segments(
    path: str | os.PathLike[str],
    store: Store,
    segments: PerceptionSegments,
    report: IngestReport,
    *,
    progress: ProgressCallback | None,
    chunk_lines: int,
    redaction: RedactionConfig,
    analyzer: str | None,
) -> None:
    """The body of :func:`relcrm.sync.ingest.ingest_interchange` for a segments store."""
    writer = _SegmentWriter(store, segments, report, progress, store.erasure_index())
    prefix = f"ingest_staged_{uuid.uuid4().hex[:12]}"
    dates = date_range_from_environment()
    row_format = store.perception_row_format
    connection = segments.connection
    chunks = enumerate(raw_chunks(path, chunk_lines, DEFAULT_MAX_LINE_BYTES))
    stager = ThreadPoolExecutor(1, thread_name_prefix="relcrm-staging")

    def stage_next() -> _Staging | None:
        """Start staging the next chunk in the staging thread, on a cursor of its own
        (a connection serves one thread at a time)."""
        item = next(chunks, None)
        if item is None:
            return None
        number, (first, raws) = item
        table = f"{prefix}_{number}"
        cursor = connection.cursor()
        future = stager.submit(_stage, cursor, first, raws, table, dates)
        return _Staging(first, raws, table, future)

    staging: _Staging | None = None
    current: str | None = None  # the staged table of the chunk being written
    with collections_between_batches() as collect:
        try:
            staging = stage_next()
            while staging is not None:
                first, raws, current = staging.first, staging.raws, staging.table
                staged = staging.future.result()
                # The next chunk is staged (DuckDB) while this thread reads this chunk's
                # other lines and writes them (Python, mostly holding the GIL).
                staging = stage_next()
                others = parse_numbered(
                    ((line, raws[line - first]) for line in staged.other_lines),
                    DEFAULT_MAX_LINE_BYTES,
                    row_format,
                    redaction,
                    analyzer,
                )
                for kind, count in redact_staged(connection, current, redaction).items():
                    others.redactions[kind] = others.redactions.get(kind, 0) + count
                analyzed: list[int] = []
                if analyzer is not None:
                    analyzed = analyse_staged(connection, current, analyzer)
                writer.write(others)  # persons first: the staged rows may name them
                writer.write_staged(current, staged.rows, analyzed)  # renamed if queued
                connection.execute(f"DROP TABLE IF EXISTS {current}")
                current = None
                del staged, others, raws
                collect()
            writer.finish()
        finally:
            if staging is not None:
                wait([staging.future])  # after an error here: that error is the one told
                connection.execute(f"DROP TABLE IF EXISTS {staging.table}")
            if current is not None:
                connection.execute(f"DROP TABLE IF EXISTS {current}")
            stager.shutdown()
            writer.close()


@dataclass(frozen=True, slots=True)
class _Staging:
    """A chunk being staged in the staging thread."""

    first: int
    raws: list[bytes | None]
    table: str
    future: Future[Staged]


def _stage(
    cursor: Any, first: int, raws: list[bytes | None], table: str, dates: DateRange
) -> Staged:
    """In the staging thread: stage one chunk on the cursor made for it, then close it."""
    try:
        return stage_perceptions(cursor, first, raws, table, dates=dates)
    finally:
        cursor.close()
