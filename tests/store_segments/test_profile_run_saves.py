"""What ``Store.save_profile_rows`` writes when a chunk mixes clocks, and whom it refuses.

A profiling run saves one clock for every person, so the save converts each distinct clock
once and checks the persons with one statement (SQLite: the ids as a JSON array). Rows of
several clocks in one chunk (one of them the same instant in another zone) must still
land as the model path lands them: each profile at its own clock, one history row a
person and clock, retention counted from the newest clock; a stranger's id, quotes and
all, is refused by name with nothing of the chunk written.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.profile.columnar.stored import StoredProfile
from relcrm.store import Store
from relcrm.store.profile_history import HISTORY_DAYS_ENV
from relcrm.sync.profiling_columnar import run_columnar_profile
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _profiled(path: Path) -> tuple[str, list[StoredProfile]]:
    """A store of 12 persons, profiled once at ``NOW``; their stored rows."""
    sample = generate_sample(persons=12, seed=5, now=NOW)
    url = f"sqlite:///{path}"
    with Store.open(url) as store:
        store.use_perception_segments()
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
        run_columnar_profile(store, NOW)
        rows = [
            StoredProfile(
                p.person_id,
                p.as_of,
                p.model_version,
                p.segment.value,
                p.health,
                p.model_dump_json(),
                p.band.value,
                p.attitude,
                p.behavioural_loyalty,
            )
            for p in store.iter_profiles()
        ]
    return url, rows


def from_column(text: str) -> datetime:
    """A datetime column as SQLite holds it (naive UTC text), aware."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _columns(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    with sqlite3.connect(path) as connection:
        clocks = dict(connection.execute("SELECT person_id, as_of FROM profiles").fetchall())
        history = connection.execute(
            "SELECT as_of, person_id FROM profile_history ORDER BY as_of, person_id"
        ).fetchall()
    return clocks, history


def test_a_chunk_of_several_clocks_saves_each_at_its_own(tmp_path: Path) -> None:
    url, rows = _profiled(tmp_path / "clocks.db")
    later = NOW + timedelta(days=2, microseconds=5)
    same_elsewhere = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    mixed = [row._replace(as_of=[later, same_elsewhere, NOW][i % 3]) for i, row in enumerate(rows)]
    with Store.open(url) as store:
        assert store.save_profile_rows(mixed, chunk_size=len(mixed)) == 12
        assert store.history_segments(later) == {row.person_id: row.segment for row in mixed[::3]}
        at_now = store.history_segments(NOW)
        assert set(at_now) == {row.person_id for row in rows}  # the first run's, and these
        runs = store.history_runs()
    assert [(run.as_of, run.persons) for run in runs] == [(NOW, 12), (later, 4)]
    clocks, history = _columns(tmp_path / "clocks.db")
    assert {pid: from_column(text) for pid, text in clocks.items()} == {
        row.person_id: row.as_of for row in mixed
    }
    assert len(history) == 16
    # Stored as SQLAlchemy stores a UTC datetime on SQLite.
    assert clocks[mixed[0].person_id] == later.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert clocks[mixed[1].person_id] == NOW.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_retention_counts_from_the_newest_clock_of_the_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, rows = _profiled(tmp_path / "retention.db")
    monkeypatch.setenv(HISTORY_DAYS_ENV, "3")
    later = NOW + timedelta(days=5)
    with Store.open(url) as store:
        store.save_profile_rows(
            [rows[0]._replace(as_of=NOW + timedelta(days=1)), rows[1]._replace(as_of=later)]
        )
        kept = {(from_column(a), p) for a, p in _columns(tmp_path / "retention.db")[1]}
    # Kept: 3 days before the newest clock (NOW + 5 days). NOW's rows (5 days older) and
    # NOW + 1 day's (4 days older) go; counted from the first row's clock, both would stay.
    assert kept == {(later, rows[1].person_id)}


def test_a_stranger_is_refused_by_name_and_the_chunk_not_written(tmp_path: Path) -> None:
    url, rows = _profiled(tmp_path / "stranger.db")
    later = NOW + timedelta(days=1)
    odd = 'o\'brien "x" é\u2028'
    with Store.open(url) as store:
        chunk = [row._replace(as_of=later) for row in rows]
        chunk.insert(5, rows[5]._replace(person_id=odd, as_of=later))
        chunk.append(rows[0]._replace(person_id="ghost", as_of=later))
        with pytest.raises(InvalidRecordError) as refused:
            store.save_profile_rows(chunk, chunk_size=len(chunk))
        assert odd in str(refused.value)
        assert "1 more record" in str(refused.value)
        assert store.history_segments(later) == {}
    clocks, _ = _columns(tmp_path / "stranger.db")
    assert {from_column(text) for text in clocks.values()} == {NOW}
