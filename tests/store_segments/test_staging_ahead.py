"""The columnar ingest stages the next chunk in a thread while it writes this one: an
error on either side is the one told, nothing staged is left behind, and the store
takes the file again afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import relcrm.sync.ingest_columnar as ingest_columnar
from relcrm.store import Store
from relcrm.sync import ingest_interchange
from tests.helpers import nps, person
from tests.sync.test_ingest_parallel import _line, _write


def _source(tmp_path: Path) -> Path:
    lines = [_line(person("p1"))]
    lines += [_line(nps(1 + index, index % 11, record=f"r{index}")) for index in range(11)]
    return _write(tmp_path / "lines.jsonl", lines)  # 12 lines: 4 chunks of 3


def _left_behind(store: Store) -> list[str]:
    segments = store.perception_segments
    assert segments is not None
    rows = segments.connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'ingest_%'"
    ).fetchall()
    return [name for (name,) in rows]


def _store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'state' / 'relcrm.db'}")
    store.use_perception_segments()
    return store


def test_an_error_staging_a_later_chunk_is_told_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    real = ingest_columnar.stage_perceptions
    calls: list[int] = []

    def failing(connection: Any, first: int, *args: Any, **kwargs: Any) -> Any:
        calls.append(first)
        if first == 7:  # the third chunk
            raise RuntimeError("the staging thread failed")
        return real(connection, first, *args, **kwargs)

    monkeypatch.setattr(ingest_columnar, "stage_perceptions", failing)
    with _store(tmp_path) as store:
        with pytest.raises(RuntimeError, match="the staging thread failed"):
            ingest_interchange(source, store, chunk_lines=3)
        assert calls == [1, 4, 7]  # one chunk ahead, no further
        assert _left_behind(store) == []
        monkeypatch.setattr(ingest_columnar, "stage_perceptions", real)
        report = ingest_interchange(source, store, chunk_lines=3)
        assert report.ok and report.perceptions_new == 11
        assert _left_behind(store) == []


def test_an_error_writing_a_chunk_waits_for_the_staging_ahead_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    real = ingest_columnar._SegmentWriter.write_staged

    def failing(self: Any, table: str, rows: int, analyzed: list[int]) -> None:
        raise OSError("the disk is full")

    monkeypatch.setattr(ingest_columnar._SegmentWriter, "write_staged", failing)
    with _store(tmp_path) as store:
        with pytest.raises(OSError, match="the disk is full"):
            ingest_interchange(source, store, chunk_lines=3)
        assert _left_behind(store) == []  # this chunk's table and the one staged ahead
        monkeypatch.setattr(ingest_columnar._SegmentWriter, "write_staged", real)
        report = ingest_interchange(source, store, chunk_lines=3)
        assert report.ok and report.perceptions_new == 11
        assert store.count_perceptions() == 11
