"""Where a store keeps its perceptions: rows of its ``perceptions`` table, or segments.

The table layout (the default) suits stores up to a few hundred thousand perceptions.
The segments layout keeps them as typed columns in Parquet files in a folder beside the
store (:mod:`relcrm.store.segments`): a million perceptions are written in about a second
and the columnar profile engine reads them without parsing anything. Persons, profiles
and sync state stay in the database either way.

The choice is the store's, not a process's: it is written in ``store_options`` and read
whenever the store is opened, so every command and worker agrees. A store moves to
segments with :meth:`PerceptionLayoutStore.use_perception_segments` (``relcrm store
segments``) and back with :meth:`PerceptionLayoutStore.use_perception_table` (``relcrm
store table``). Either move is safe to run again if it was interrupted, and neither
leaves a copy an erasure would miss: a move into segments marks its folder in
``store_options`` before it copies, so that what an interrupted move left is cleared
(by the next move, or by an erasure meanwhile); the move back copies and switches in
one transaction and marks the folder it leaves, whose files are deleted then or, if
the process dies first, when the store is next opened. Moves are administration: run
them while nothing else writes to the store (a process that opened it before keeps the
layout it read).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, delete, select

from relcrm.errors import StoreError
from relcrm.models import Perception
from relcrm.store._part import StorePart, chunks
from relcrm.store._tables import perceptions, store_options
from relcrm.store.profiling_reads import forget_watermark
from relcrm.store.segments._duckdb import duckdb_available
from relcrm.store.segments.columns import perception_of, segment_row
from relcrm.store.segments.files import PerceptionSegments

LAYOUT = "perception_layout"
FOLDER = "segments_folder"
MOVING = "segments_moving_to"
"""The folder a move into segments is filling (until the move's last transaction)."""
RETIRED = "segments_retired"
"""The folder the store stopped using, until its files are deleted."""
MOVE_CHUNK = 50_000

PerceptionLayout = Literal["table", "segments"]


def default_segments_folder(engine: Engine) -> Path | None:
    """Beside a SQLite file: ``relcrm.db`` keeps its segments in ``relcrm.db.perceptions``.
    A server (PostgreSQL) has no "beside": the folder must be named."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve().with_name(Path(database).name + ".perceptions")


class PerceptionLayoutStore(StorePart):
    """The store's perception layout (mixed into :class:`relcrm.store.Store`)."""

    _engine: Engine
    _segments: PerceptionSegments | None

    def _iter_perception_json(self) -> Iterator[str]:
        raise NotImplementedError

    def _insert_perceptions_in_table(
        self, connection: Connection, perceptions_: list[Perception]
    ) -> int:
        """Insert into the ``perceptions`` table (a known id changes nothing); return how
        many were new. Provided by :class:`relcrm.store.Store`."""
        raise NotImplementedError

    def _options(self) -> dict[str, str]:
        with self._read() as connection:
            return dict(
                connection.execute(select(store_options.c.name, store_options.c.value)).all()
            )

    def _set_option(self, connection: Connection, name: str, value: str | None) -> None:
        connection.execute(delete(store_options).where(store_options.c.name == name))
        if value is not None:
            connection.execute(store_options.insert().values(name=name, value=value))

    def _load_layout(self) -> None:
        """Read the layout once, when the store is opened; finish deleting the files of a
        folder the store stopped using (the move back died before it could)."""
        options = self._options()
        self._segments = None
        if options.get(LAYOUT, "table") == "segments":
            self._segments = _open_segments(options.get(FOLDER, ""))
        elif RETIRED in options:
            _clear_folder(options[RETIRED])
            with self._write() as connection:
                self._set_option(connection, RETIRED, None)

    def _clear_move_leftovers(self) -> None:
        """Before an erasure on a table store: clear what an interrupted move into
        segments copied, which the erasure would not reach otherwise (the move, run again,
        copies from the start)."""
        if self._segments is not None:
            return
        folder = self._options().get(MOVING)
        if folder is None:
            return
        _clear_folder(folder)
        with self._write() as connection:
            self._set_option(connection, MOVING, None)

    @property
    def perception_layout(self) -> PerceptionLayout:
        return "table" if self._segments is None else "segments"

    @property
    def perception_segments(self) -> PerceptionSegments | None:
        """The segments, when the store keeps its perceptions in them."""
        return self._segments

    def use_perception_segments(self, folder: str | os.PathLike[str] | None = None) -> int:
        """Keep this store's perceptions in Parquet segments from now on; return how many
        perceptions were moved out of the table (0 when it already used segments).

        ``folder`` defaults to one beside a SQLite file; PostgreSQL needs one named, on
        storage every machine that runs relcrm on this store can reach.
        """
        if self._segments is not None:
            return 0
        if not duckdb_available():
            raise StoreError(
                "perception segments need DuckDB, which is not installed",
                code="store.segments_unavailable",
                hint="pip install 'relcrm[columnar]'",
            )
        chosen = (
            Path(folder).resolve() if folder is not None else default_segments_folder(self._engine)
        )
        if chosen is None:
            raise StoreError(
                "a store on a database server has no folder beside it for perception segments",
                code="store.segments_unavailable",
                hint="name a folder every machine running relcrm on this store can reach "
                "(relcrm store segments --folder DIR)",
            )
        segments = PerceptionSegments(chosen)
        if segments.manifest().segments:
            if self._options().get(MOVING) != str(chosen):
                raise StoreError(
                    f"{chosen} already holds perception segments this store did not leave there",
                    code="store.segments_folder_in_use",
                    hint="name an empty folder (each store keeps its own), or move the "
                    "other store's segments away",
                )
            segments.clear()  # an interrupted move's copy: start again
        with self._write() as connection:
            self._set_option(connection, MOVING, str(chosen))
        moved = 0
        for part in chunks(self._iter_perception_json(), MOVE_CHUNK):
            rows = [segment_row(Perception.model_validate_json(text)) for text in part]
            segments.append_rows(rows)
            moved += len(rows)
        with self._write() as connection:
            self._set_option(connection, LAYOUT, "segments")
            self._set_option(connection, FOLDER, str(chosen))
            self._set_option(connection, MOVING, None)
            self._set_option(connection, RETIRED, None)
            forget_watermark(connection)  # the new folder's sequence starts again
            connection.execute(delete(perceptions))
        self._segments = segments
        return moved

    def use_perception_table(self) -> int:
        """Keep this store's perceptions in its ``perceptions`` table again; return how
        many were moved out of the segments (0 when it already used the table).

        The copy and the switch are one transaction; the segment files are deleted
        afterwards (or at the next opening, should this process die first)."""
        segments = self._segments
        if segments is None:
            return 0
        moved = 0
        with self._write() as connection:
            after = ""
            while True:
                page = segments.query(
                    "SELECT * FROM {perceptions} WHERE id > ? ORDER BY id LIMIT ?",
                    [after, MOVE_CHUNK],
                )
                if not page:
                    break
                moved += self._insert_perceptions_in_table(
                    connection, [perception_of(row) for row in page]
                )
                after = page[-1][0]
            self._set_option(connection, LAYOUT, "table")
            self._set_option(connection, FOLDER, None)
            self._set_option(connection, RETIRED, str(segments.folder))
            forget_watermark(connection)
        self._segments = None
        segments.clear()
        segments.close()
        with self._write() as connection:
            self._set_option(connection, RETIRED, None)
        return moved


def _clear_folder(folder: str) -> None:
    """Delete the segments ``folder`` holds, if it is still there."""
    if Path(folder).is_dir():
        PerceptionSegments(folder).clear()


def _open_segments(folder: str) -> PerceptionSegments:
    if not duckdb_available():
        raise StoreError(
            "this store keeps its perceptions in Parquet segments, which need DuckDB, and "
            "DuckDB is not installed",
            code="store.segments_unavailable",
            hint="pip install 'relcrm[columnar]'",
        )
    path = Path(folder)
    if not folder or not path.is_dir():
        raise StoreError(
            f"this store keeps its perceptions in {folder!r}, which is not a folder here",
            code="store.segments_unavailable",
            hint="mount or restore that folder on this machine",
        )
    return PerceptionSegments(path)
