"""The interchange ingest for a store that keeps perceptions in segments: columns first.

A chunk of lines goes to DuckDB whole (:func:`relcrm.sources.interchange_columnar.
stage_perceptions`): the perception lines that pass every check as vectorised predicates
become typed rows there, with their ids derived in one pass; identical verbatims are
redacted and analysed once (:mod:`relcrm.sync.ingest_verbatims`). Every other line
(persons, preferences, bad lines, anything unusual) goes through the per-line parser, so
its record, or its error message, is exactly what the table layout's ingest gives.

The writer is the table layout's (:class:`relcrm.sync.ingest._Writer`): persons first,
then perceptions whose person is stored, the others held until the end of the file, the
forgotten refused by line. Perceptions are appended to the segments a million at a time,
the first line of an id winning, as the table's ``ON CONFLICT DO NOTHING`` in file order.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from relcrm.analyze import RedactionConfig
from relcrm.sources.dates import date_range_from_environment
from relcrm.sources.interchange import DEFAULT_MAX_LINE_BYTES
from relcrm.sources.interchange_columnar import stage_perceptions
from relcrm.store import Store
from relcrm.store.audit import ErasureIndex
from relcrm.store.segments.columns import COLUMN_NAMES, SEGMENT_COLUMNS, utc_from_micros
from relcrm.store.segments.files import PerceptionSegments, load_rows
from relcrm.sync.ingest import IngestReport, ProgressCallback, _Writer
from relcrm.sync.ingest_chunks import parse_numbered, raw_chunks
from relcrm.sync.ingest_verbatims import analyse_staged, redact_staged

COLUMNAR_CHUNK_LINES = 100_000
"""Lines staged at a time: large enough that DuckDB's per-statement cost vanishes, small
enough that a chunk's text and columns stay well under 200 MB."""

SEGMENT_FLUSH_ROWS = 500_000
"""Perceptions appended to the segments at a time (one Parquet file each)."""

_COLUMNS = ", ".join(COLUMN_NAMES)


class _SegmentWriter(_Writer):
    """The table layout's writer, keeping the perceptions ready to write in DuckDB."""

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
        self.ready = f"ingest_ready_{suffix}"
        self.held = f"ingest_held_{suffix}"
        empty = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in SEGMENT_COLUMNS)
        for table in (self.ready, self.held):
            self.connection.execute(
                f"CREATE TEMP TABLE {table} AS SELECT CAST(NULL AS BIGINT) AS line, {empty} LIMIT 0"
            )
        self.ready_count = 0

    @property
    def flush_every(self) -> int:
        return SEGMENT_FLUSH_ROWS

    def close(self) -> None:
        for table in (self.ready, self.held):
            self.connection.execute(f"DROP TABLE IF EXISTS {table}")

    def write_staged(self, table: str, rows: int, analyzed_lines: list[int]) -> None:
        """Queue the staged perceptions of ``table`` as :meth:`_write_rows` queues rows."""
        if not rows:
            return
        person_ids = {pid for (pid,) in self._fetch(f"SELECT DISTINCT person_id FROM {table}")}
        if self.erasures:
            self._refuse_staged(table, person_ids)
        unknown = sorted(self._unknown(person_ids))
        held_lines: set[int] = set()
        if unknown:
            self.connection.execute(
                f"INSERT INTO {self.held} SELECT * FROM {table} "
                "WHERE list_contains(CAST(? AS VARCHAR[]), person_id)",
                [unknown],
            )
            held_lines = {
                line
                for (line,) in self._fetch(
                    f"SELECT line FROM {table} WHERE list_contains(CAST(? AS VARCHAR[]), "
                    "person_id)",
                    [unknown],
                )
            }
        (queued,) = self.connection.execute(
            f"INSERT INTO {self.ready} SELECT * FROM {table} "
            "WHERE NOT list_contains(CAST(? AS VARCHAR[]), person_id)",
            [unknown],
        ).fetchone()
        self.ready_count += int(queued)
        if analyzed_lines:
            analyzed = set(analyzed_lines)
            waiting = analyzed & held_lines
            refused = analyzed & self.refused_lines
            self.report.analyzed += len(analyzed) - len(waiting) - len(refused)
            self.held_analyzed |= waiting
        if self.ready_count + len(self.ready_rows) >= self.flush_every:
            self._flush_rows()
        if self.progress is not None:
            self.progress(rows)

    def _refuse_staged(self, table: str, person_ids: set[str]) -> None:
        """Drop (and report) the staged rows of forgotten persons, line by line."""
        forgotten = sorted(pid for pid in person_ids if self._verdict(pid) is not None)
        if not forgotten:
            return
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

    def _flush_rows(self) -> None:
        """Append what is ready, per-line rows and staged rows together, in line order."""
        if self.ready_rows:
            lines = [line for line, _ in self.ready_rows]
            rows = [row for _, row in self.ready_rows]
            self.ready_rows = []
            loaded = f"{self.ready}_rows"
            load_rows(self.connection, loaded, rows)
            self.connection.execute(
                f"INSERT INTO {self.ready} SELECT CAST(? AS BIGINT[])[ord + 1], {_COLUMNS} "
                f"FROM {loaded}",
                [lines],
            )
            self.connection.execute(f"DROP TABLE {loaded}")
            self.ready_count += len(rows)
        if not self.ready_count:
            return
        total = self.ready_count
        new = self.segments.append_relation(f"SELECT {_COLUMNS}, line AS ord FROM {self.ready}")
        self.connection.execute(f"DELETE FROM {self.ready}")
        self.ready_count = 0
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
    staged_table = f"ingest_staged_{uuid.uuid4().hex[:12]}"
    dates = date_range_from_environment()
    row_format = store.perception_row_format
    connection = segments.connection
    try:
        for first, raws in raw_chunks(path, chunk_lines, DEFAULT_MAX_LINE_BYTES):
            staged = stage_perceptions(connection, first, raws, staged_table, dates=dates)
            others = parse_numbered(
                ((line, raws[line - first]) for line in staged.other_lines),
                DEFAULT_MAX_LINE_BYTES,
                row_format,
                redaction,
                analyzer,
            )
            for kind, count in redact_staged(connection, staged_table, redaction).items():
                others.redactions[kind] = others.redactions.get(kind, 0) + count
            analyzed = (
                analyse_staged(connection, staged_table, analyzer) if analyzer is not None else []
            )
            writer.write(others)  # persons first: the staged rows may name them
            writer.write_staged(staged_table, staged.rows, analyzed)
        writer.finish()
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {staged_table}")
        writer.close()
