"""Saving profiles without models leaves the store exactly as the model path leaves it.

``relcrm profile --engine duckdb`` saves the recipe's rows with ``Store.save_profile_rows``;
the model path (``Store.save_profiles`` of ``profiles_of(result)``) is the reference. Both
run on twin stores holding the same sample, on SQLite and on PostgreSQL, and the raw
``profiles`` and ``profile_history`` rows, the JSON text included, must be equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

import relcrm.store.store as store_module
from relcrm.cli import app
from relcrm.errors import InvalidRecordError
from relcrm.models import Segment
from relcrm.profile.columnar import connect_with, profiles_of, run_recipe
from relcrm.profile.columnar.inputs import perception_rows_of_json, person_rows_of_json
from relcrm.profile.columnar.recipe import ColumnarResult
from relcrm.profile.columnar.stored import StoredProfile, stored_profiles
from relcrm.profile.config import ProfileConfig
from relcrm.store import Store
from relcrm.store._part import from_column
from relcrm.store._tables import profile_history, profiles
from relcrm.sync import profile_all
from relcrm.sync.profiling import SAVE_EVERY
from tests.postgres import fresh_database, keeps_segments

runner = CliRunner()
CLOCK = "2026-11-22T12:00:00Z"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CONFIG = ProfileConfig()


@contextmanager
def twin_of(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty store on the same backend and layout as ``store_url``."""
    if keeps_segments(store_url):
        url = f"sqlite:///{tmp_path / 'twin' / 'relcrm-segments.db'}"
        with Store.open(url) as store:
            store.use_perception_segments()
        yield url
    elif store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'twin' / 'relcrm.db'}"
    else:
        with fresh_database() as url:
            yield url


def fill(url: str, sample: Path) -> None:
    done = runner.invoke(app, ["ingest", str(sample), "--store", url])
    assert done.exit_code == 0, done.output


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.jsonl"
    made = runner.invoke(app, ["sample", "--out", str(path), "--persons", "40", "--now", CLOCK])
    assert made.exit_code == 0, made.output
    return path


def recipe_result(store: Store, now: datetime) -> ColumnarResult:
    people, said = store.persons_and_perceptions_json()
    connection = connect_with(person_rows_of_json(people), perception_rows_of_json(said))
    try:
        return run_recipe(connection, now, CONFIG)
    finally:
        connection.close()


def save_through_models(url: str, now: datetime) -> None:
    """The reference: one validated model a person, saved by ``save_profiles``."""
    with Store.open(url) as store:
        store.save_profiles(list(profiles_of(recipe_result(store, now), CONFIG)))


def raw_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The two tables as the database holds them (JSON text, as-of and health included)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            saved = connection.execute(select(profiles).order_by(profiles.c.person_id)).all()
            history = connection.execute(
                select(profile_history).order_by(
                    profile_history.c.as_of, profile_history.c.person_id
                )
            ).all()
    finally:
        engine.dispose()
    return {"profiles": [tuple(r) for r in saved], "history": [tuple(r) for r in history]}


def test_profile_engine_duckdb_stores_what_the_model_path_stores(
    store_url: str, tmp_path: Path, sample: Path
) -> None:
    """Two runs at two clocks: the second replaces the profiles and adds history rows."""
    later = NOW + timedelta(days=30)
    with twin_of(store_url, tmp_path) as reference:
        for url in (store_url, reference):
            fill(url, sample)
        for clock in (NOW, later):
            stamp = clock.isoformat().replace("+00:00", "Z")
            done = runner.invoke(
                app, ["profile", "--store", store_url, "--engine", "duckdb", "--as-of", stamp]
            )
            assert done.exit_code == 0, done.output
            save_through_models(reference, clock)

        columnar, expected = raw_rows(store_url), raw_rows(reference)
        assert len(expected["profiles"]) == 40
        assert len(expected["history"]) == 80
        assert columnar == expected
        # The SQLite fast path writes times as SQLAlchemy does: they read back as the clocks.
        assert {from_column(row[1]) for row in columnar["profiles"]} == {later}
        assert {from_column(row[0]) for row in columnar["history"]} == {NOW, later}
        with Store.open(store_url) as left, Store.open(reference) as right:
            assert list(left.iter_profiles()) == list(right.iter_profiles())
            assert left.history_runs() == right.history_runs()


def test_counts_and_progress_are_those_of_the_profiles_saved(store_url: str, sample: Path) -> None:
    fill(store_url, sample)
    calls: list[int] = []
    run = profile_all(store_url, NOW, engine="duckdb", progress=calls.append)
    reference = profile_all(store_url, NOW, engine="reference", workers=1)
    with Store.open(store_url) as store:
        saved = list(store.iter_profiles())
        perceptions = store.count_perceptions()
    assert run.persons == len(saved) == sum(calls) == 40
    assert all(0 < call <= SAVE_EVERY for call in calls)
    assert run.perceptions == perceptions == reference.perceptions
    assert run.segments == Counter(profile.segment for profile in saved) == reference.segments
    assert all(isinstance(segment, Segment) for segment in run.segments)


def stored_rows_of(store: Store, now: datetime = NOW) -> list[StoredProfile]:
    return list(stored_profiles(recipe_result(store, now), CONFIG))


def test_a_person_not_in_the_store_is_refused_as_by_the_model_path(
    store_url: str, tmp_path: Path, sample: Path
) -> None:
    with twin_of(store_url, tmp_path) as other:
        fill(other, sample)
        with Store.open(other) as full:
            result = recipe_result(full, NOW)
            rows = list(stored_profiles(result, CONFIG))
            models = list(profiles_of(result, CONFIG))
    with Store.open(store_url) as store:
        with pytest.raises(InvalidRecordError) as by_rows:
            store.save_profile_rows(rows[:3])
        with pytest.raises(InvalidRecordError) as by_models:
            store.save_profiles(models[:3])
        assert list(store.iter_profiles()) == []
    assert str(by_rows.value) == str(by_models.value)
    assert by_rows.value.problems == by_models.value.problems
    assert by_rows.value.code == by_models.value.code
    assert "2 more records" in str(by_rows.value)
    assert rows[0].person_id in str(by_rows.value)


def test_chunks_before_an_unknown_person_stay_saved(
    store_url: str, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7: the first chunks are written, the one naming a stranger is not."""
    monkeypatch.setattr(store_module, "PERSON_CHUNK", 7)
    fill(store_url, sample)
    with Store.open(store_url) as store:
        rows = stored_rows_of(store)
        stranger = rows[16]._replace(person_id="nobody-here")
        with pytest.raises(InvalidRecordError, match="nobody-here"):
            store.save_profile_rows([*rows[:16], stranger, *rows[17:]])
        saved = [profile.person_id for profile in store.iter_profiles()]
        assert saved == [row.person_id for row in rows[:14]]
        assert store.save_profile_rows(rows) == 40
        assert len(store.history_segments(NOW)) == 40


def test_the_last_row_of_a_person_wins(store_url: str, sample: Path) -> None:
    fill(store_url, sample)
    with Store.open(store_url) as store:
        rows = stored_rows_of(store)
        later = stored_rows_of(store, NOW + timedelta(days=60))
        first = rows[0]
        again = later[0]._replace(as_of=first.as_of)
        assert again.data != first.data
        assert store.save_profile_rows([first, rows[1], again]) == 2
        profile = store.get_profile(first.person_id)
        assert profile is not None
        assert profile.model_dump_json() == again.data
        assert store.history_segments(NOW)[first.person_id] == again.segment
