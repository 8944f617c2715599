"""The store's public API against real SQLite files (and PostgreSQL, see conftest)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from relcrm.errors import InvalidRecordError, StoreError
from relcrm.models import (
    Consent,
    CrmRecordRef,
    Perception,
    Person,
    Preference,
    RelationshipProfile,
    SocialHandle,
)
from relcrm.store import LATEST_VERSION, Store, open_store
from relcrm.store._engine import create_store_engine
from relcrm.store._tables import perceptions
from relcrm.store.store import sqlite_datetime
from tests.postgres import keeps_segments


def person(person_id: str, *emails: str, **fields: Any) -> Person:
    return Person(id=person_id, emails=emails, consent=Consent(granted=True), **fields)


def perception(
    person_id: str, record: str, occurred_at: str = "2026-01-01T00:00:00Z", nps: int = 9
) -> Perception:
    return Perception.model_validate(
        {
            "person_id": person_id,
            "occurred_at": occurred_at,
            "channel": "survey",
            "nps": {"value": nps},
            "provenance": {"source_system": "s", "source_record_id": record},
        }
    )


def profile(
    person_id: str, health: float = 72.5, as_of: str = "2026-02-01T00:00:00Z"
) -> RelationshipProfile:
    return RelationshipProfile.model_validate(
        {
            "person_id": person_id,
            "as_of": as_of,
            "model_version": "1.0",
            "evidence": 2.5,
            "attitude": 0.4,
            "health": health,
            "band": "healthy",
            "emotion_profile": {"joy": 0.6, "trust": 0.3},
            "dominant_emotion": "joy",
            "archetype": "true_loyalty",
            "segment": "loyal",
            "trend": {"direction": "stable", "window_days": 90},
            "last_nps": 9,
            "last_nps_at": "2026-01-01T00:00:00Z",
            "last_nps_category": "promoter",
            "csat": {"count": 0, "mean_valence": None, "top_box_share": None},
            "ces": {"count": 0, "mean_valence": None, "easy_share": None},
            "escalation": False,
            "churn_risk": False,
            "reasons": ["Recommended us (NPS 9) a month ago."],
            "perceptions_considered": 1,
        }
    )


# -- opening ---------------------------------------------------------------------------


def test_open_creates_the_file_and_its_folders_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "relcrm.db"
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.count_persons() == 0
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_closed_store_refuses_work(store_url: str) -> None:
    store = Store.open(store_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count_persons()


def test_the_database_enforces_foreign_keys(store: Store, store_url: str) -> None:
    # The store checks persons in bulk before writing; the database is the backstop.
    engine = create_store_engine(store_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                insert(perceptions).values(
                    id="x",
                    person_id="ghost",
                    occurred_at=datetime.now(UTC),
                    channel="survey",
                    source_system="s",
                    data="{}",
                )
            )
    finally:
        engine.dispose()
    assert store.count_perceptions() == 0


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        Store.open("mysql://user:secret@localhost/db")


# -- persons and identities ------------------------------------------------------------


def test_person_round_trip_and_change_detection(store: Store) -> None:
    full = Person.model_validate(
        {
            "id": "p1",
            "display_name": "Jane Doe",
            "emails": ["Jane.Doe@Example.com"],
            "phones": ["+44 20 7946 0958"],
            "handles": [{"platform": "X", "handle": "@JaneDoe"}],
            "crm_records": [{"system": "salesforce", "object": "Contact", "id": "003AbC"}],
            "consent": {"granted": True, "updated_at": "2026-01-01T09:00:00+02:00"},
            "facts": {"customer_since": "2020-05-01T00:00:00Z", "renewals": 3},
        }
    )
    assert store.upsert_persons([full, person("p2")]) == 2
    assert store.get_person("p1") == full
    assert store.get_person("nobody") is None
    assert store.upsert_persons([full]) == 0  # unchanged: nothing written
    assert store.upsert_person(full.model_copy(update={"display_name": "Jane"})) is True
    assert store.count_persons() == 2


def test_find_person_normalizes_like_insert(store: Store) -> None:
    store.upsert_person(
        person(
            "p1",
            "Jane.Doe@Example.com",
            phones=("+44 (20) 7946-0958",),
            handles=(SocialHandle(platform="X", handle="@JaneDoe"),),
            crm_records=(CrmRecordRef(system="salesforce", object="Contact", id="003AbC"),),
        )
    )
    assert store.find_person("email", "  JANE.DOE@example.COM ") == "p1"
    assert store.find_person("phone", "+44 20 7946 0958") == "p1"
    assert store.find_person("handle", "x:@janedoe") == "p1"
    assert store.find_person("crm", "salesforce/Contact/003AbC") == "p1"
    assert store.find_person("crm", "salesforce/Contact/003abc") is None  # ids are case-sensitive
    assert store.find_person("email", "other@example.com") is None
    with pytest.raises(ValueError, match="unknown identity kind"):
        store.find_person("fax", "123")


def test_identities_are_replaced_when_the_person_changes(store: Store) -> None:
    store.upsert_person(person("p1", "old@example.com"))
    store.upsert_person(person("p1", "new@example.com"))
    assert store.find_person("email", "old@example.com") is None
    assert store.find_person("email", "new@example.com") == "p1"
    # The released address is free for someone else now.
    assert store.upsert_person(person("p2", "old@example.com")) is True


def test_identity_owned_by_another_person_is_refused_and_changes_nothing(store: Store) -> None:
    store.upsert_persons([person("p1", "a@example.com"), person("p2", "b@example.com")])

    with pytest.raises(InvalidRecordError) as caught:
        store.upsert_person(person("p3", "A@example.com"))
    error = caught.value
    assert error.record == "person p3"
    assert error.problems[0].field == "emails"
    assert "p1" in error.problems[0].problem
    assert "a@example.com" in str(error)
    assert store.get_person("p3") is None

    with pytest.raises(InvalidRecordError, match="person p2"):
        store.upsert_person(person("p2", "b@example.com", "a@example.com", display_name="B"))
    assert store.get_person("p2") == person("p2", "b@example.com")
    assert store.find_person("email", "a@example.com") == "p1"


def test_batch_stops_at_the_first_conflict(store: Store) -> None:
    store.upsert_person(person("p1", "a@example.com"))
    batch = [person("p2", "b@example.com"), person("p3", "a@example.com"), person("p4")]
    with pytest.raises(InvalidRecordError, match="person p3"):
        store.upsert_persons(batch)
    assert [p.id for p in store.iter_persons()] == ["p1", "p2"]


def test_an_identity_can_move_between_persons_in_one_batch(store: Store) -> None:
    store.upsert_person(person("p1", "a@example.com"))
    assert store.upsert_persons([person("p1"), person("p2", "a@example.com")]) == 2
    assert store.find_person("email", "a@example.com") == "p2"


def test_iter_persons_is_ordered_by_id_across_pages(store: Store) -> None:
    ids = [f"p{n:04d}" for n in range(1001, -1, -1)]
    assert store.upsert_persons(person(pid) for pid in ids) == len(ids)
    assert [p.id for p in store.iter_persons()] == sorted(ids)


ODD_IDS = ["p1", "P1", "p-1", "p_1", "p.1", "p:1", "p@1", "p10", "p2", "Z", "a", "0", "p1a"]


def test_person_ids_sort_byte_by_byte_on_every_database(store: Store) -> None:
    # A locale collation (PostgreSQL's default) would sort "p-1" next to "p1" and "P1";
    # paging perceptions by a range of person ids needs one order, the same everywhere.
    store.upsert_persons(person(pid) for pid in ODD_IDS)
    store.add_perceptions(perception(pid, f"r-{pid}") for pid in ODD_IDS)
    assert [p.id for p in store.iter_persons()] == sorted(ODD_IDS)
    for batch_size in (1, 3, 100):
        streamed = list(store.iter_person_perceptions(batch_size=batch_size))
        assert [p.id for p, _ in streamed] == sorted(ODD_IDS)
        assert all([x.person_id for x in said] == [p.id] for p, said in streamed)


def test_a_store_path_that_cannot_be_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(f"sqlite:///{tmp_path / 'taken' / 'relcrm.db'}")


# -- perceptions -----------------------------------------------------------------------


def test_adding_the_same_perception_twice_changes_nothing(store: Store) -> None:
    store.upsert_persons([person("p1"), person("p2")])
    store.perception_chunk = 1_000
    batch = [perception(f"p{1 + n % 2}", f"r{n}") for n in range(2_500)]  # three chunks
    assert store.add_perceptions(batch) == 2_500
    assert store.add_perceptions(iter(batch)) == 0
    again = [perception("p1", "r1"), perception("p1", "new"), perception("p1", "new")]
    assert store.add_perceptions(again) == 1
    assert store.add_perceptions([]) == 0
    assert store.count_perceptions() == 2_501


def test_perceptions_are_stored_as_their_lean_model_json(store: Store, store_url: str) -> None:
    if keeps_segments(store_url):
        pytest.skip("about the table layout (segments keep columns: tests/store_segments)")
    store.upsert_person(person("p1"))
    said = perception("p1", "r1", "2026-01-01T13:00:00.25+02:00")
    store.add_perceptions([said])
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(select(perceptions)).one()
    finally:
        engine.dispose()
    assert row.data == said.model_dump_json(exclude_defaults=True)
    stored_at = row.occurred_at  # naive UTC in SQLite, aware in PostgreSQL
    if stored_at.tzinfo is not None:
        stored_at = stored_at.astimezone(UTC).replace(tzinfo=None)
    assert stored_at == datetime(2026, 1, 1, 11, 0, 0, 250_000)
    assert (row.channel, row.source_system) == ("survey", "s")


def test_sqlite_time_text_is_what_sqlalchemy_writes() -> None:
    dialect = sqlite.dialect()
    process = perceptions.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    for value in (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, UTC),
    ):
        assert sqlite_datetime(value) == process(value)
    shifted = datetime.fromisoformat("2026-01-01T02:00:00+02:00")
    assert sqlite_datetime(shifted) == "2026-01-01 00:00:00.000000"


def test_perception_of_an_unknown_person_is_named(store: Store) -> None:
    store.upsert_person(person("p1"))
    good, bad = perception("p1", "r1"), perception("ghost", "r2")
    with pytest.raises(InvalidRecordError) as caught:
        store.add_perceptions([good, bad])
    error = caught.value
    assert error.record == f"perception {bad.id}"
    assert error.problems[0].field == "person_id"
    assert "'ghost'" in str(error)
    assert store.count_perceptions() == 0  # nothing of that chunk was written
    assert store.unknown_person_ids(["p1", "ghost", "x"]) == {"ghost", "x"}
    assert store.unknown_person_ids([]) == set()


def test_unknown_person_stops_at_its_chunk(store: Store) -> None:
    store.upsert_person(person("p1"))
    store.perception_chunk = 2
    batch = [perception("p1", "r1"), perception("p1", "r2")]
    batch += [perception("p1", "r3"), perception("ghost", "r4"), perception("ghost", "r5")]
    with pytest.raises(InvalidRecordError) as caught:
        store.add_perceptions(batch)
    assert caught.value.record == f"perception {batch[3].id}"
    assert store.count_perceptions() == 2  # the first chunk, and nothing of the second
    # Pre-filtering is how a caller goes on past such records.
    known = [p for p in batch if p.person_id not in store.unknown_person_ids({"p1", "ghost"})]
    assert store.add_perceptions(known) == 1


def test_perceptions_stream_grouped_and_ordered(store: Store) -> None:
    store.upsert_persons(person(pid) for pid in ["p5", "p1", "p3", "p2", "p4"])
    late = perception("p3", "late", "2026-01-01T12:00:00Z")
    # 13:00+02:00 is 11:00Z: earlier than 12:00Z though its local text sorts later.
    early = perception("p3", "early", "2026-01-01T13:00:00+02:00")
    tie = sorted(
        [
            perception("p3", "t1", "2026-01-02T00:00:00Z"),
            perception("p3", "t2", "2026-01-02T00:00:00Z"),
        ],
        key=lambda p: p.id,
    )
    p1 = perception("p1", "only", nps=3)
    p5 = perception("p5", "x", "2025-12-31T23:59:59.5Z")
    store.add_perceptions([tie[1], late, p5, early, p1, tie[0]])

    for batch_size in (1, 2, 5, 2000):
        streamed = list(store.iter_person_perceptions(batch_size=batch_size))
        assert [(p.id, [x.id for x in ps]) for p, ps in streamed] == [
            ("p1", [p1.id]),
            ("p2", []),
            ("p3", [early.id, late.id, tie[0].id, tie[1].id]),
            ("p4", []),
            ("p5", [p5.id]),
        ]
    grouped = dict((p.id, ps) for p, ps in store.iter_person_perceptions())
    assert grouped["p3"][0] == early  # full round trip, time zone included
    assert grouped["p1"] == [p1]


def test_streaming_an_empty_store_yields_nothing(store: Store) -> None:
    assert list(store.iter_person_perceptions()) == []
    with pytest.raises(ValueError):
        list(store.iter_person_perceptions(batch_size=0))


# -- profiles --------------------------------------------------------------------------


def test_profiles_upsert_and_round_trip(store: Store) -> None:
    store.upsert_persons([person("p2"), person("p1")])
    first = [profile("p2"), profile("p1", health=40.0)]
    assert store.save_profiles(first) == 2
    assert store.get_profile("p1") == first[1]
    assert store.get_profile("nobody") is None

    newer = profile("p1", health=55.0, as_of="2026-03-01T00:00:00+01:00")
    assert store.save_profiles([newer]) == 1
    assert store.get_profile("p1") == newer
    assert [p.person_id for p in store.iter_profiles()] == ["p1", "p2"]


def test_profile_of_an_unknown_person_is_refused(store: Store) -> None:
    with pytest.raises(InvalidRecordError, match="person_id"):
        store.save_profiles([profile("ghost")])
    assert list(store.iter_profiles()) == []


# -- erasure ---------------------------------------------------------------------------


def test_delete_person_removes_everything_about_them(store: Store) -> None:
    store.upsert_persons([person("p1", "a@example.com"), person("p2", "b@example.com")])
    store.add_perceptions([perception("p1", "r1"), perception("p1", "r2"), perception("p2", "r3")])
    store.save_profiles([profile("p1"), profile("p2")])

    assert store.delete_person("p1") is True
    assert store.get_person("p1") is None
    assert store.get_profile("p1") is None
    assert store.find_person("email", "a@example.com") is None
    assert store.count_perceptions() == 1
    assert [p.id for p, _ in store.iter_person_perceptions()] == ["p2"]
    assert store.delete_person("p1") is False
    # Gone means gone: the same perception may come back as new.
    store.upsert_person(person("p1", "a@example.com"))
    assert store.add_perceptions([perception("p1", "r1")]) == 1


def test_preferences_are_kept_once(store: Store) -> None:
    store.upsert_person(person("p1"))
    stated = Preference.model_validate(
        {
            "person_id": "p1",
            "kind": "channel",
            "value": "email",
            "stated_at": "2026-03-01T09:00:00+01:00",
            "provenance": {"source_system": "survey", "source_record_id": "R9"},
        }
    )
    assert store.add_preferences([stated]) == 1
    assert store.add_preferences([stated]) == 0
    assert store.preferences_of("p1") == [stated]
    assert store.delete_person("p1")
    assert store.preferences_of("p1") == []


def test_unknown_person_of_a_preference_is_named(store: Store) -> None:
    stated = Preference.model_validate(
        {
            "person_id": "ghost",
            "kind": "language",
            "value": "de",
            "stated_at": "2026-03-01T09:00:00Z",
            "provenance": {"source_system": "survey", "source_record_id": "R9"},
        }
    )
    with pytest.raises(InvalidRecordError, match="ghost"):
        store.add_preferences([stated])


def test_person_id_ranges_cover_everyone_once(store: Store) -> None:
    store.upsert_persons(person(f"p{i:03d}") for i in range(50))
    ranges = store.person_id_ranges(4)
    assert len(ranges) == 4
    seen = [
        p.id
        for after, until in ranges
        for p, _ in store.iter_person_perceptions(batch_size=7, after=after, until=until)
    ]
    assert seen == [f"p{i:03d}" for i in range(50)]
    assert store.person_id_ranges(1) == [(None, None)]


def test_reporting_upsert_skips_the_conflict_and_goes_on(store: Store) -> None:
    store.upsert_person(person("p1", "jo@example.com"))
    clash = person("p2", "jo@example.com")
    written, rejected = store.upsert_persons_reporting([person("p0"), clash, person("p3")])
    assert written == 2
    assert [(p.id, "emails" in str(e)) for p, e in rejected] == [("p2", True)]
    assert store.get_person("p3") is not None
