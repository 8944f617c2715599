"""Where a store keeps its perceptions: rows of its ``perceptions`` table, or segments.

The table layout (the default) suits stores up to a few hundred thousand perceptions.
The segments layout keeps them as typed columns in Parquet files in a folder beside the
store (:mod:`relcrm.store.segments`): a million perceptions are written in about a second
and the columnar profile engine reads them without parsing anything. Persons, profiles
and sync state stay in the database either way.

The choice is the store's, not a process's: it is written in ``store_options`` and read
whenever the store is opened, so every command and worker agrees. A store moves to
segments with :meth:`PerceptionLayoutStore.use_perception_segments` (``relcrm store
segments``); the move copies what the table holds and is safe to run again if it was
interrupted. There is no way back yet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, delete, select

from relcrm.errors import StoreError
from relcrm.models import Perception
from relcrm.store._part import StorePart, chunks
from relcrm.store._tables import perceptions, store_options
from relcrm.store.segments._duckdb import duckdb_available
from relcrm.store.segments.columns import segment_row
from relcrm.store.segments.files import PerceptionSegments

LAYOUT = "perception_layout"
FOLDER = "segments_folder"
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

    def _load_layout(self) -> None:
        """Read the layout once, when the store is opened."""
        with self._read() as connection:
            options = dict(
                connection.execute(select(store_options.c.name, store_options.c.value)).all()
            )
        self._segments = None
        if options.get(LAYOUT, "table") == "segments":
            self._segments = _open_segments(options.get(FOLDER, ""))

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
        moved = 0
        for part in chunks(self._iter_perception_json(), MOVE_CHUNK):
            rows = [segment_row(Perception.model_validate_json(text)) for text in part]
            segments.append_rows(rows)
            moved += len(rows)
        with self._write() as connection:
            for name, value in ((LAYOUT, "segments"), (FOLDER, str(chosen))):
                connection.execute(delete(store_options).where(store_options.c.name == name))
                connection.execute(store_options.insert().values(name=name, value=value))
            connection.execute(delete(perceptions))
        self._segments = segments
        return moved


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
