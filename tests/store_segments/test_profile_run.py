"""The columnar profile run: in parts or whole, all or changed only, the same profiles."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from relcrm.models import BehaviourFacts, Perception, Person
from relcrm.profile import ProfileConfig
from relcrm.profile.columnar.inputs import load_persons_json, person_rows_of_json
from relcrm.store import Store
from relcrm.store._tables import persons, profile_history
from relcrm.store.profiling_reads import ProfileWatermark
from relcrm.store.store import canonical_json
from relcrm.sync import profile_all
from relcrm.sync.profiling_columnar import WRITE_LOOKBACK
from relcrm.sync.profiling_columnar import run_columnar_profile as profile_store_columnar
from relcrm.testing.synthetic import generate_sample
from tests.profile_columnar.compare import same

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _store(tmp_path: Path, name: str, *, segments: bool) -> Store:
    sample = generate_sample(persons=70, seed=5, now=NOW)
    store = Store.open(f"sqlite:///{tmp_path / name}")
    if segments:
        store.use_perception_segments()
    store.upsert_persons(sample.persons)
    store.add_perceptions(sample.perceptions)
    _written_a_day_ago(store)
    return store


def _written_a_day_ago(store: Store) -> None:
    """The persons as written a day before: a run now sees no person written just before
    it started (such writes count as new for ``WRITE_LOOKBACK`` after)."""
    with store._write() as connection:
        connection.execute(update(persons).values(updated_at=datetime.now(UTC) - timedelta(days=1)))


def _profiles(store: Store) -> dict[str, dict[str, Any]]:
    return {p.person_id: p.model_dump() for p in store.iter_profiles()}


def _assert_same(left: dict[str, dict[str, Any]], right: dict[str, dict[str, Any]]) -> None:
    assert left.keys() == right.keys()
    for person_id, profile in left.items():
        for name, value in profile.items():
            assert same(value, right[person_id][name]), (person_id, name)


@pytest.mark.parametrize("segments", [True, False])
def test_parts_give_what_one_pass_gives(tmp_path: Path, segments: bool) -> None:
    with _store(tmp_path, "a.db", segments=segments) as whole:
        persons, read, _ = profile_store_columnar(whole, NOW)
        assert (persons, read) == (70, whole.count_perceptions())
        expected = _profiles(whole)
    with _store(tmp_path, "b.db", segments=segments) as split:
        persons, read, _ = profile_store_columnar(split, NOW, part_perceptions=40)
        assert (persons, read) == (70, split.count_perceptions())
        _assert_same(_profiles(split), expected)


def _one_more(store: Store, person_id: str, number: int) -> None:
    store.add_perceptions(
        [
            Perception.model_validate(
                {
                    "person_id": person_id,
                    "occurred_at": (NOW - timedelta(days=1)).isoformat(),
                    "channel": "support",
                    "valence": -0.9,
                    "flags": {"churn_intent": True},
                    "provenance": {"source_system": "t", "source_record_id": f"new-{number}"},
                }
            )
        ]
    )


def test_changed_only_profiles_whom_new_perceptions_concern(tmp_path: Path) -> None:
    with _store(tmp_path, "c.db", segments=True) as store:
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 70  # never profiled
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 0
        ids = sorted(_profiles(store))
        _one_more(store, ids[3], 1)
        _one_more(store, ids[9], 2)
        persons, _, _ = profile_store_columnar(store, NOW, changed_only=True)
        assert persons == 2
        changed = _profiles(store)
        later = NOW + timedelta(hours=6)  # within a day: the saved profiles stand
        assert profile_store_columnar(store, later, changed_only=True)[0] == 0
        assert profile_store_columnar(store, NOW + timedelta(days=2), changed_only=True)[0] == 70
    with _store(tmp_path, "d.db", segments=True) as full:
        _one_more(full, ids[3], 1)
        _one_more(full, ids[9], 2)
        profile_store_columnar(full, NOW)
        _assert_same(changed, _profiles(full))


def test_a_clock_moved_back_profiles_again_what_was_made_for_a_later_one(
    tmp_path: Path,
) -> None:
    """A profile saved for a later clock than the run's is not 'fresh': it is made again,
    as a full run at that clock would."""
    with _store(tmp_path, "back.db", segments=True) as store:
        profile_store_columnar(store, NOW)
        back = NOW - timedelta(days=90)
        assert profile_store_columnar(store, back, changed_only=True)[0] == 70
        assert {p.as_of for p in store.iter_profiles()} == {back}
        changed = _profiles(store)
    with _store(tmp_path, "back-full.db", segments=True) as full:
        profile_store_columnar(full, back)
        _assert_same(changed, _profiles(full))


def test_other_settings_profile_everyone_again(tmp_path: Path) -> None:
    """Nothing in a saved profile says which settings made it: the last complete run's
    are recorded, and a run with others profiles everyone; so does one after a run by
    another engine (which records none)."""
    other = ProfileConfig(half_life_days=10.0)
    with _store(tmp_path, "settings.db", segments=True) as store:
        profile_store_columnar(store, NOW)
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 0
        assert profile_store_columnar(store, NOW, config=other, changed_only=True)[0] == 70
        assert profile_store_columnar(store, NOW, config=other, changed_only=True)[0] == 0
        url = store.url
    profile_all(url, NOW)  # the reference engine, default settings
    with Store.open(url) as store:
        assert profile_store_columnar(store, NOW, config=other, changed_only=True)[0] == 70


def test_the_history_holds_whole_books_only(store_url: str, tmp_path: Path) -> None:
    """The report reads each clock of the history as a record of the whole book. A
    changed-only run within the window of the last record records nothing; the next one
    past it records everyone: those it profiled, and the saved figures of the others
    (one of them profiled by the run that recorded nothing)."""
    window = timedelta(hours=1)
    sample = generate_sample(persons=70, seed=5, now=NOW)
    with Store.open(store_url) as store:
        store.use_perception_segments(tmp_path / "segments")
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
        _written_a_day_ago(store)
        profile_store_columnar(store, NOW)
        ids = sorted(_profiles(store))
        _one_more(store, ids[3], 1)
        between = NOW + timedelta(minutes=30)
        assert profile_store_columnar(store, between, changed_only=True, stale_after=window)[0] == 1
        assert [run.as_of for run in store.history_runs()] == [NOW]
        standing = store.get_profile(ids[3])
        assert standing is not None and standing.as_of == between
        past = NOW + timedelta(minutes=61)
        assert profile_store_columnar(store, past, changed_only=True, stale_after=window)[0] == 69
        first, second = store.history_runs()
        assert (first.as_of, second.as_of) == (NOW, past)
        profiles = {p.person_id: p for p in store.iter_profiles()}
        assert first.persons == second.persons == 70
        assert second.consenting == first.consenting
        assert second.segments == dict(Counter(p.segment.value for p in profiles.values()))
        assert store.history_segments(past) == {pid: p.segment.value for pid, p in profiles.items()}
        consenting = {p.id for p in sample.persons if p.consent.granted}
        health = sum(p.health for pid, p in profiles.items() if pid in consenting)
        assert second.health_sum == pytest.approx(health)
        with store._read() as connection:  # the standing profile's figures, all of them
            row = connection.execute(
                select(profile_history).where(
                    profile_history.c.person_id == ids[3], profile_history.c.as_of == past
                )
            ).one()
        assert (row.segment, row.health, row.band, row.attitude, row.behavioural_loyalty) == (
            standing.segment.value,
            standing.health,
            standing.band.value,
            standing.attitude,
            standing.behavioural_loyalty,
        )
        # once more at the same clock: nothing recorded twice
        assert profile_store_columnar(store, past, changed_only=True, stale_after=window)[0] == 0
        assert store.history_runs()[-1] == second


def test_a_changed_only_run_at_a_recorded_clock_brings_its_record_up_to_date(
    tmp_path: Path,
) -> None:
    """Profiling again at a clock the history records replaces those rows, changed-only
    or not: the record at that clock is what the profiles saved at it are."""
    with _store(tmp_path, "again.db", segments=True) as store:
        profile_store_columnar(store, NOW)
        ids = sorted(_profiles(store))
        _one_more(store, ids[3], 1)
        store.upsert_persons([Person(id="newcomer")])
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 2
        profiles = {p.person_id: p for p in store.iter_profiles()}
        assert [run.as_of for run in store.history_runs()] == [NOW]
        assert store.history_segments(NOW) == {pid: p.segment.value for pid, p in profiles.items()}
        assert store.history_runs()[0].persons == 71


def test_a_person_written_just_before_the_last_run_started_is_profiled_again(
    tmp_path: Path,
) -> None:
    """A write is stamped when its transaction starts and may commit after a run started
    reading: persons written up to ``WRITE_LOOKBACK`` before it count as new."""
    with _store(tmp_path, "race.db", segments=True) as store:
        profile_store_columnar(store, NOW, changed_only=True)
        mark = store.profile_watermark()
        assert mark.at is not None
        ids = sorted(_profiles(store))
        person = store.get_person(ids[5])
        assert person is not None
        facts = BehaviourFacts(renewals=12, renewed_last_term=True, purchases_last_365d=40)
        store.upsert_persons([person.model_copy(update={"facts": facts})])
        stamped = mark.at - WRITE_LOOKBACK / 2  # as if stamped before the run started
        with store._write() as connection:
            connection.execute(
                update(persons).where(persons.c.id == ids[5]).values(updated_at=stamped)
            )
        assert profile_store_columnar(store, NOW, changed_only=True)[0] >= 1
        changed = _profiles(store)
    with _store(tmp_path, "race-full.db", segments=True) as full:
        full.upsert_persons([person.model_copy(update={"facts": facts})])
        profile_store_columnar(full, NOW)
        _assert_same(changed, _profiles(full))


def test_moving_the_perceptions_forgets_the_watermark(tmp_path: Path) -> None:
    """A new folder numbers its segments from 1 again: the sequence the watermark holds
    means nothing there, so the next changed-only run profiles everyone."""
    with _store(tmp_path, "moved.db", segments=True) as store:
        profile_store_columnar(store, NOW, changed_only=True)
        assert store.profile_watermark().seq is not None
        store.use_perception_table()
        assert store.profile_watermark() == ProfileWatermark(None, None, None)
        profile_store_columnar(store, NOW)
        store.use_perception_segments(tmp_path / "elsewhere")
        assert store.profile_watermark() == ProfileWatermark(None, None, None)
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 70


def test_a_table_store_is_always_profiled_whole(tmp_path: Path) -> None:
    with _store(tmp_path, "e.db", segments=False) as store:
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 70
        assert profile_store_columnar(store, NOW, changed_only=True)[0] == 70


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(
                min_value=datetime(1990, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.sampled_from(
                    [UTC, timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]
                ),
            ),
            st.none() | st.integers(0, 10**6),
            st.none() | st.booleans(),
            st.none() | st.floats(0.001, 1e6),
            st.none() | st.floats(0.0, 1.0),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_persons_parsed_by_duckdb_are_what_python_reads(rows: list[tuple[Any, ...]]) -> None:
    import duckdb

    people = [
        Person(
            id=f"p{n}",
            facts=BehaviourFacts(
                customer_since=since,
                last_purchase_at=since,
                purchases_last_365d=count,
                renewals=count,
                renewed_last_term=renewed,
                expected_purchases_per_year=expected,
                behavioural_loyalty=loyalty,
            ),
        )
        for n, (since, count, renewed, expected, loyalty) in enumerate(rows)
    ]
    texts = [canonical_json(person) for person in people]
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'America/St_Johns'")  # the session's zone never matters
    load_persons_json(connection, texts)
    assert sorted(connection.execute("SELECT * FROM persons").fetchall()) == sorted(
        person_rows_of_json(texts)
    )
