"""Perceptions as immutable Parquet segments in a folder beside the store.

Why files and not rows: a million perceptions cost seconds to insert as rows into SQLite
or PostgreSQL, and the profile recipe wants typed columns anyway. Each ingest appends one
segment; nothing rewrites a segment except erasure and compaction.

How the folder stays consistent when processes overlap or die:

- ``manifest.json`` names the live segments (with their sequence number and row count);
  readers take a snapshot from it, so a half-written file is never read. It is replaced
  atomically (write, fsync, rename).
- Writers (append, erase, compact) hold an exclusive ``flock`` on ``.lock`` for the whole
  read-modify-write, so two ingests never both add the same perception: each drops the
  ids already present (an anti-join) while no one else can add any.
- A segment is written under a temporary name and renamed into place before the manifest
  names it; a writer killed in between leaves a stray file that the next writer deletes.
- Erasure rewrites the segments holding the person without their rows and deletes the old
  files at once (the person asked for it); compaction keeps replaced files for
  ``GRACE_SECONDS`` so that a reader holding an older manifest can finish.

Sequence numbers grow with each write and tell incremental profiling which persons have
perceptions it has not seen (:meth:`PerceptionSegments.persons_since`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relcrm.errors import StoreError
from relcrm.store.segments._duckdb import duckdb_module
from relcrm.store.segments.columns import COLUMN_NAMES, SEGMENT_COLUMNS, SegmentRow

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
LOCK = ".lock"
GRACE_SECONDS = 3600.0
"""How long a segment replaced by compaction stays on disk for readers of an older
manifest (erasure does not wait: see the module)."""
COMPACT_AT = 64
"""Segments after which an append merges the small ones (many small ingests, or a
feedback page adding one answer at a time)."""
SMALL_SEGMENT_ROWS = 250_000
"""Segments this small are merged by an append's compaction; larger ones are left as
they are, so that a thousand answers never rewrite a million perceptions."""
ROW_GROUP_SIZE = 122_880
MEMORY_LIMIT = "512MB"
"""DuckDB's working memory in this process's segments connection (beyond: spilled). An
ingest's staged chunks and appends fit in it: at 1GB DuckDB kept buffers up to the limit
and a 10M-perception ingest peaked at 1,100 MB of memory; at 512MB, 840 MB, as fast."""

_EMPTY = "SELECT " + ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in SEGMENT_COLUMNS)


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    seq: int
    rows: int


@dataclass(frozen=True, slots=True)
class Manifest:
    next_seq: int
    segments: tuple[Segment, ...]
    retired: tuple[tuple[str, float], ...] = ()
    """Files compaction replaced, with when: deleted after ``GRACE_SECONDS``."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MANIFEST_VERSION,
                "next_seq": self.next_seq,
                "segments": [{"name": s.name, "seq": s.seq, "rows": s.rows} for s in self.segments],
                "retired": [list(item) for item in self.retired],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, where: Path) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("version") != MANIFEST_VERSION:
                raise ValueError(f"manifest version {data.get('version')!r}")
            return cls(
                next_seq=int(data["next_seq"]),
                segments=tuple(
                    Segment(str(s["name"]), int(s["seq"]), int(s["rows"])) for s in data["segments"]
                ),
                retired=tuple((str(name), float(at)) for name, at in data.get("retired", [])),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"the perception segments' manifest {where} cannot be read ({error}); "
                "restore it from a backup of the store's folder",
                code="store.segments_corrupt",
            ) from error


class PerceptionSegments:
    """The perception segments in ``folder`` (created if missing).

    One instance may be shared by the threads of a process (calls are serialised); any
    number of processes may read and write the folder at once.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection: Any = None
        self._spill = ""

    def __repr__(self) -> str:
        return f"PerceptionSegments({str(self.folder)!r})"

    # -- plumbing ----------------------------------------------------------------------

    @property
    def connection(self) -> Any:
        """This process's DuckDB connection (in memory: the data lives in the files)."""
        if self._connection is None:
            duckdb = duckdb_module()
            self._spill = tempfile.mkdtemp(prefix="relcrm-segments-")
            self._connection = duckdb.connect(":memory:")
            self._connection.execute("SET preserve_insertion_order = true")
            # Bounded memory: an ingest's staged chunks and the rows waiting to be
            # appended spill to a temporary folder rather than grow without limit.
            self._connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            self._connection.execute(f"SET temp_directory = {_quote(self._spill)}")
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                shutil.rmtree(self._spill, ignore_errors=True)

    def manifest(self) -> Manifest:
        path = self.folder / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Manifest(next_seq=1, segments=())
        return Manifest.from_json(text, path)

    def _write_manifest(self, manifest: Manifest) -> None:
        temporary = self.folder / f".{MANIFEST}.{uuid.uuid4().hex}"
        with temporary.open("w", encoding="utf-8") as out:
            out.write(manifest.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.folder / MANIFEST)
        self._sync_folder()

    def _sync_folder(self) -> None:
        descriptor = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    @contextmanager
    def _exclusive(self) -> Iterator[Manifest]:
        """Hold the folder's write lock; yield the manifest as it is under the lock."""
        with self._lock, (self.folder / LOCK).open("a+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                manifest = self.manifest()
                self._sweep(manifest)
                yield manifest
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _sweep(self, manifest: Manifest) -> None:
        """Delete what a killed writer left: temporary files, unnamed segments."""
        live = {s.name for s in manifest.segments} | {name for name, _ in manifest.retired}
        for path in self.folder.iterdir():
            name = path.name
            stray = name.startswith(".tmp-") or (name.startswith("seg-") and name not in live)
            if stray:
                path.unlink(missing_ok=True)

    def scan(self, manifest: Manifest | None = None) -> str:
        """A SQL relation over every live perception (for DuckDB on this machine)."""
        manifest = manifest or self.manifest()
        if not manifest.segments:
            return f"({_EMPTY} LIMIT 0)"
        files = ", ".join(_quote(str(self.folder / s.name)) for s in manifest.segments)
        return f"read_parquet([{files}])"

    def _copy_out(
        self, query: str, parameters: Sequence[Any] = (), connection: Any = None
    ) -> tuple[str, int]:
        """Write ``query``'s rows as a new segment file; its name and row count."""
        connection = connection or self.connection
        temporary = self.folder / f".tmp-{uuid.uuid4().hex}.parquet"
        columns = ", ".join(COLUMN_NAMES)
        connection.execute(
            f"COPY (SELECT {columns} FROM ({query})) TO {_quote(str(temporary))} "
            f"(FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE {ROW_GROUP_SIZE})",
            list(parameters),
        )
        rows = connection.execute(
            f"SELECT COUNT(*) FROM read_parquet({_quote(str(temporary))})"
        ).fetchone()[0]
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        name = f"seg-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        os.replace(temporary, self.folder / name)
        return name, int(rows)

    # -- writing -----------------------------------------------------------------------

    def append_relation(
        self, relation_sql: str, parameters: Sequence[Any] = (), *, connection: Any = None
    ) -> int:
        """Add the perceptions of ``relation_sql`` (a query on :attr:`connection` giving
        the ``SEGMENT_COLUMNS`` and an ``ord`` column); return how many were new.

        Within the relation the row with the lowest ``ord`` (unique) of an id wins; an id
        already stored is left as it is (as the table layout's ON CONFLICT DO NOTHING).
        ``connection`` is a cursor of :attr:`connection` for a caller appending from
        another thread (a DuckDB connection serves one thread at a time).
        """
        connection = connection or self.connection
        with self._exclusive() as manifest:
            # The dedupe and the anti-join carry every column through a hash table: the
            # cost and most of the memory of an append. Both are asked for only when a
            # cheap look at the ids (one column) says they would drop a row.
            rows_in, distinct = connection.execute(
                f"SELECT count(*), count(DISTINCT id) FROM ({relation_sql})", list(parameters)
            ).fetchone()
            query = f"SELECT * FROM ({relation_sql}) AS incoming"
            bound = list(parameters)
            if distinct < rows_in:
                # The first line of each id, found on (id, ord) alone and joined back: a
                # window over whole rows (QUALIFY ROW_NUMBER() ...) writes -0.0 as 0.0 in
                # DuckDB 2.0, where the model keeps a confidence or valence of -0.0.
                query += (
                    f" WHERE ord IN (SELECT min(ord) FROM ({relation_sql}) AS again GROUP BY id)"
                )
                bound += list(parameters)  # the relation is read twice
            if manifest.segments and self._any_known(
                manifest, relation_sql, parameters, connection
            ):
                query = (
                    f"SELECT * FROM ({query}) AS fresh "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {self.scan(manifest)} AS known "
                    "WHERE known.id = fresh.id)"
                )
            query += " ORDER BY person_id, occurred_us, id"
            name, rows = self._copy_out(query, bound, connection)
            if rows == 0:
                (self.folder / name).unlink()
                return 0
            segment = Segment(name, manifest.next_seq, rows)
            updated = Manifest(
                manifest.next_seq + 1, (*manifest.segments, segment), manifest.retired
            )
            if len(updated.segments) >= COMPACT_AT:
                updated = self._compacted(updated, small_only=True, connection=connection)
            self._write_manifest(updated)
            return rows

    def _any_known(
        self, manifest: Manifest, relation_sql: str, parameters: Sequence[Any], connection: Any
    ) -> bool:
        """Whether a stored perception has an id of the relation's (the stored ids are
        read, the relation's ids hashed: the smaller side, whatever the store's size)."""
        (found,) = connection.execute(
            f"SELECT count(*) FROM (SELECT id FROM {self.scan(manifest)} "
            f"WHERE id IN (SELECT id FROM ({relation_sql})) LIMIT 1)",
            list(parameters),
        ).fetchone()
        return bool(found)

    def append_rows(self, rows: Sequence[SegmentRow]) -> int:
        """Add perceptions given as Python rows (``SEGMENT_COLUMNS`` order)."""
        if not rows:
            return 0
        staging = f"staging_{uuid.uuid4().hex}"
        with self._lock:
            load_rows(self.connection, staging, rows)
            try:
                return self.append_relation(f"SELECT * FROM {staging}")
            finally:
                self.connection.execute(f"DROP TABLE IF EXISTS {staging}")

    def compact(self) -> int:
        """Merge every segment into one; return how many there were."""
        with self._exclusive() as manifest:
            if len(manifest.segments) < 2:
                return len(manifest.segments)
            self._write_manifest(self._compacted(manifest))
            return len(manifest.segments)

    def _compacted(
        self, manifest: Manifest, *, small_only: bool = False, connection: Any = None
    ) -> Manifest:
        """The manifest with its segments (or only its small ones) merged into one."""
        chosen = [s for s in manifest.segments if not small_only or s.rows < SMALL_SEGMENT_ROWS]
        if len(chosen) < 2:
            return manifest
        part = Manifest(manifest.next_seq, tuple(chosen))
        query = f"SELECT * FROM {self.scan(part)} ORDER BY person_id, occurred_us, id"
        name, rows = self._copy_out(query, (), connection)
        now = time.time()
        retired = [(n, at) for n, at in manifest.retired if now - at < GRACE_SECONDS]
        for gone in {n for n, _ in manifest.retired} - {n for n, _ in retired}:
            (self.folder / gone).unlink(missing_ok=True)
        retired.extend((s.name, now) for s in chosen)
        merged = Segment(name, max(s.seq for s in chosen), rows)
        kept = tuple(s for s in manifest.segments if s not in chosen)
        return Manifest(manifest.next_seq, (*kept, merged), tuple(retired))

    def erase_persons(self, person_ids: Sequence[str]) -> int:
        """Remove every perception of ``person_ids``; return how many rows went.

        Segments holding them are rewritten without them and the old files deleted at
        once, retired copies included: erasure reaches every file.
        """
        wanted = list(dict.fromkeys(person_ids))
        if not wanted:
            return 0
        with self._exclusive() as manifest:
            kept: list[Segment] = []
            removed = 0
            doomed: list[str] = []
            for segment in manifest.segments:
                path = _quote(str(self.folder / segment.name))
                found = self.connection.execute(
                    f"SELECT COUNT(*) FROM read_parquet({path}) WHERE list_contains(?, person_id)",
                    [wanted],
                ).fetchone()[0]
                if not found:
                    kept.append(segment)
                    continue
                removed += int(found)
                doomed.append(segment.name)
                if found < segment.rows:
                    name, rows = self._copy_out(
                        f"SELECT * FROM read_parquet({path}) WHERE NOT list_contains(?, person_id)",
                        [wanted],
                    )
                    kept.append(Segment(name, segment.seq, rows))
            retired = tuple(manifest.retired)
            if retired:
                doomed.extend(name for name, _ in retired)
                retired = ()
            if not doomed:
                return 0
            self._write_manifest(Manifest(manifest.next_seq, tuple(kept), retired))
            for name in doomed:
                (self.folder / name).unlink(missing_ok=True)
            return removed

    def clear(self) -> int:
        """Remove every perception (live segments and retired copies); return how many
        rows went. The sequence goes on from where it was.

        What a store does with a folder it stops using, and with what an interrupted move
        into this folder left: no copy of a perception outlives the store's use of it.
        Needs no DuckDB: the manifest names every file."""
        with self._exclusive() as manifest:
            names = [s.name for s in manifest.segments] + [name for name, _ in manifest.retired]
            if not names:
                return 0
            self._write_manifest(Manifest(manifest.next_seq, ()))
            for name in names:
                (self.folder / name).unlink(missing_ok=True)
            return sum(s.rows for s in manifest.segments)

    # -- reading -----------------------------------------------------------------------

    def count(self) -> int:
        return sum(s.rows for s in self.manifest().segments)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, in which ``{perceptions}`` stands for every live perception.

        A segment deleted by an erasure between reading the manifest and opening the file
        makes the query run again on the new manifest (once).
        """
        with self._lock:
            for attempt in (1, 2):
                statement = sql.replace("{perceptions}", self.scan())
                try:
                    rows: list[tuple[Any, ...]] = self.connection.execute(
                        statement, list(parameters)
                    ).fetchall()
                    return rows
                except duckdb_module().IOException:
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def rows_of(self, person_id: str) -> int:
        """How many perceptions of ``person_id`` the segments hold."""
        (count,) = self.query(
            "SELECT COUNT(*) FROM {perceptions} WHERE person_id = ?", [person_id]
        )[0]
        return int(count)

    def seq(self) -> int:
        """The sequence number the next segment will get: everything below is written."""
        return self.manifest().next_seq

    def persons_since(self, seq: int) -> set[str]:
        """Persons with perceptions in segments written at or after ``seq``."""
        manifest = self.manifest()
        newer = [s for s in manifest.segments if s.seq >= seq]
        if not newer:
            return set()
        files = ", ".join(_quote(str(self.folder / s.name)) for s in newer)
        with self._lock:
            rows = self.connection.execute(
                f"SELECT DISTINCT person_id FROM read_parquet([{files}])"
            ).fetchall()
        return {row[0] for row in rows}


def load_rows(connection: Any, table: str, rows: Sequence[SegmentRow]) -> None:
    """Create ``table`` from Python rows, with an ``ord`` column in the rows' order."""
    lists: list[list[Any]] = [list(values) for values in zip(*rows, strict=True)]
    lists.append(list(range(len(rows))))
    selected = ", ".join(
        f"UNNEST(CAST(? AS {kind}[])) AS {name}"
        for name, kind in (*SEGMENT_COLUMNS, ("ord", "BIGINT"))
    )
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {selected}", lists)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
