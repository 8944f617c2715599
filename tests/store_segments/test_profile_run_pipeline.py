"""The columnar profile run's two threads and its saves: what it leaves behind.

DuckDB loads and computes the next range of persons in a thread of its own while the
calling thread formats and saves the range before; each range is saved in one transaction
(``Store.save_profile_rows(chunk_size=...)``), with Python's cyclic collector off for the
run. Here: many small ranges give the bytes one range gives, progress counts every person
once, on the calling thread, the collector is back as it was, an error in the DuckDB
thread or in a save reaches the caller, and one transaction for a range means a refused
range saves nothing.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.profile.columnar.stored import StoredProfile
from relcrm.store import Store
from relcrm.store.profiling_reads import ProfileWatermark
from relcrm.sync.profiling_columnar import run_columnar_profile
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _filled(path: Path) -> str:
    sample = generate_sample(persons=60, seed=11, now=NOW)
    url = f"sqlite:///{path}"
    with Store.open(url) as store:
        store.use_perception_segments()
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
    return url


def _saved(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        profiles = connection.execute("SELECT * FROM profiles ORDER BY person_id").fetchall()
        history = connection.execute(
            "SELECT * FROM profile_history ORDER BY person_id, as_of"
        ).fetchall()
    return profiles, history


def test_many_ranges_save_the_bytes_one_range_saves(tmp_path: Path) -> None:
    one, many = _filled(tmp_path / "one.db"), _filled(tmp_path / "many.db")
    calls: list[int] = []
    with Store.open(one) as store:
        assert run_columnar_profile(store, NOW, part_perceptions=10**9)[0] == 60
    with Store.open(many) as store:
        persons, read, _ = run_columnar_profile(
            store, NOW, part_perceptions=25, progress=calls.append
        )
        assert read == store.count_perceptions()
    assert persons == sum(calls) == 60
    assert len(calls) > 3  # several ranges, each saved (and reported) once
    assert _saved(tmp_path / "many.db") == _saved(tmp_path / "one.db")
    assert len(_saved(tmp_path / "many.db")[1]) == 60


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(tmp_path: Path, enabled: bool) -> None:
    url = _filled(tmp_path / "gc.db")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with Store.open(url) as store:
            run_columnar_profile(store, NOW, part_perceptions=50)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_an_error_in_the_duckdb_thread_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A range DuckDB cannot read (here: a folder of segments gone) stops the run with
    DuckDB's error, nothing of that range saved, and the collector back on."""
    url = _filled(tmp_path / "broken.db")
    with Store.open(url) as store:
        segments = store.perception_segments
        assert segments is not None
        monkeypatch.setattr(segments, "scan", lambda: "read_parquet('/nonexistent/*.parquet')")
        with pytest.raises(Exception, match="nonexistent"):
            run_columnar_profile(store, NOW, part_perceptions=25)
        assert list(store.iter_profiles()) == []
    assert gc.isenabled()


def test_a_failing_save_reaches_the_caller_with_the_ranges_before_it_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third range's save fails: the run stops with its error, the two ranges before
    it are saved (and were reported, on the calling thread), nothing after it is, and the
    run leaves no watermark (a changed-only run profiles everyone again)."""
    url = _filled(tmp_path / "save.db")
    saving = Store.save_profile_rows
    saves: list[list[str]] = []

    def third_fails(self: Store, rows: list[StoredProfile], **options: object) -> int:
        saves.append([row.person_id for row in rows])
        if len(saves) == 3:
            raise OSError("disk full")
        return saving(self, rows, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "save_profile_rows", third_fails)
    told: list[tuple[int, str]] = []
    with Store.open(url) as store:
        with pytest.raises(OSError, match="disk full"):
            run_columnar_profile(
                store,
                NOW,
                part_perceptions=25,
                progress=lambda n: told.append((n, threading.current_thread().name)),
            )
        saved = sorted(p.person_id for p in store.iter_profiles())
        assert store.profile_watermark() == ProfileWatermark(None, None, None)
    assert saved == sorted(saves[0] + saves[1])
    assert told == [(len(saves[0]), "MainThread"), (len(saves[1]), "MainThread")]
    assert gc.isenabled()


def test_a_range_is_one_transaction(tmp_path: Path) -> None:
    """With ``chunk_size`` the size of the range, a stranger among its profiles refuses the
    whole range (the default chunks would have kept the chunks before it)."""
    url = _filled(tmp_path / "tx.db")
    with Store.open(url) as store:
        run_columnar_profile(store, NOW)
        rows = [
            StoredProfile(
                person_id=p.person_id,
                as_of=NOW,
                model_version=p.model_version,
                segment=p.segment.value,
                health=p.health,
                data=p.model_dump_json(),
                band=p.band.value,
                attitude=p.attitude,
                behavioural_loyalty=p.behavioural_loyalty,
            )
            for p in store.iter_profiles()
        ]
    with Store.open(_filled(tmp_path / "fresh.db")) as fresh:
        stranger = rows[40]._replace(person_id="nobody-here")
        with pytest.raises(InvalidRecordError, match="nobody-here"):
            fresh.save_profile_rows([*rows[:40], stranger], chunk_size=41)
        assert list(fresh.iter_profiles()) == []
        assert fresh.save_profile_rows(rows, chunk_size=len(rows)) == 60
        assert len(fresh.history_segments(NOW)) == 60
