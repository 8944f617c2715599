"""The sync engine's state in the store: records, fingerprints, clearing, dead letters,
runs and checkpoints, erasure; on real database files (and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from relcrm.errors import StoreError
from relcrm.models import Consent, Perception, Person
from relcrm.store import CrmRecord, FailedWrite, Store
from relcrm.store._engine import create_store_engine
from relcrm.store.migrations import LATEST_VERSION, migrate

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SF = "salesforce"
HS = "hubspot"


def _person(person_id: str) -> Person:
    return Person(id=person_id, emails=(f"{person_id}@example.com",), consent=Consent(granted=True))


def _failure(person_id: str, code: str = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") -> FailedWrite:
    return FailedWrite(
        person_id=person_id,
        fields={"Relcrm_Archetype__c": "trapped", "Relcrm_Health__c": 41.5, "Flag__c": None},
        error_code=code,
        error_message="bad value for restricted picklist field: trapped",
        record_id="003000000000001AAA",
    )


# -- migration ---------------------------------------------------------------------------


def test_a_version_3_store_gains_the_sync_tables_and_keeps_its_data(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        assert migrate(engine, target=3) == 3
        assert not inspect(engine).has_table("sync_state")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO persons (id, data, updated_at) VALUES "
                """('p1', '{"id":"p1"}', '2026-01-01 00:00:00.000000')"""
            )
    finally:
        engine.dispose()
    with Store.open(database_url) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.get_person("p1") == Person(id="p1")
        store.record_pushed(SF, "p1", {"F__c": "abc"}, T0)
        assert store.field_fingerprints(SF, ["p1"]) == {"p1": {"F__c": "abc"}}
    with Store.open(database_url) as store:
        assert store.field_fingerprints(SF, ["p1"]) == {"p1": {"F__c": "abc"}}


# -- records and fingerprints -----------------------------------------------------------


def test_remembered_records_are_known_per_target(store: Store) -> None:
    assert store.remember_records(SF, {"p1": ("Contact", "003A"), "p2": ("Lead", "00QB")}) == 2
    store.remember_records(HS, {"p1": ("contacts", "101")})
    assert store.known_records(SF, ["p1", "p2", "p3"]) == {
        "p1": ("Contact", "003A"),
        "p2": CrmRecord("Lead", "00QB"),
    }
    assert store.known_records(HS, ["p1", "p2"]) == {"p1": CrmRecord("contacts", "101")}
    # Matched again (the CRM merged the record): the new id wins.
    store.remember_records(SF, {"p1": ("Contact", "003Z")})
    assert store.known_records(SF, ["p1"])["p1"].record_id == "003Z"
    assert store.remember_records(SF, {}) == 0


def test_fingerprints_round_trip_per_target_and_update_only_named_fields(store: Store) -> None:
    store.record_pushed(SF, "p1", {"A": "a1", "B": "b1"}, T0)
    store.record_pushed(HS, "p1", {"A": "other"}, T0)
    assert store.field_fingerprints(SF, ["p1", "p2"]) == {"p1": {"A": "a1", "B": "b1"}}
    # Only the changed field is pushed next time; the other keeps its fingerprint.
    assert store.record_pushed(SF, "p1", {"B": "b2"}, T0 + timedelta(days=1)) == 1
    assert store.field_fingerprints(SF, ["p1"]) == {"p1": {"A": "a1", "B": "b2"}}
    assert store.field_fingerprints(HS, ["p1"]) == {"p1": {"A": "other"}}


def test_fingerprints_in_batches_larger_than_an_in_list(store: Store) -> None:
    pushed = {f"p{i:05d}": {"A": f"a{i}", "B": f"b{i}"} for i in range(2_500)}
    assert store.record_pushed_many(SF, pushed, T0) == 5_000
    found = store.field_fingerprints(SF, list(pushed))
    assert found == pushed
    assert store.record_pushed_many(SF, {}, T0) == 0
    assert store.record_pushed_many(SF, {"p1": {}}, T0) == 0


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.record_pushed(SF, "p1", {"A": "a"}, datetime(2026, 1, 1))


def test_clearing_is_remembered_once_and_undone_by_a_new_push(store: Store) -> None:
    store.remember_records(SF, {"p1": ("Contact", "003A")})
    store.record_pushed_many(SF, {"p1": {"A": "a"}, "p2": {"A": "b"}}, T0)
    assert store.cleared(SF, ["p1", "p2"]) == set()

    # p1 has a record, p3 never had one: both can be marked.
    assert store.mark_cleared(SF, ["p1", "p3"], T0) == 2
    assert store.cleared(SF, ["p1", "p2", "p3"]) == {"p1", "p3"}
    assert store.cleared(HS, ["p1"]) == set()
    # The CRM's fields are empty now: fingerprints are gone, the record is kept.
    assert store.field_fingerprints(SF, ["p1", "p2"]) == {"p2": {"A": "b"}}
    assert store.known_records(SF, ["p1", "p3"]) == {"p1": ("Contact", "003A")}

    # Consent again: pushed, so no longer cleared (a second withdrawal clears again).
    store.record_pushed(SF, "p1", {"A": "a"}, T0 + timedelta(days=2))
    assert store.cleared(SF, ["p1", "p3"]) == {"p3"}
    # Remembering a record keeps the clearing.
    store.remember_records(SF, {"p3": ("Contact", "003C")})
    assert store.cleared(SF, ["p3"]) == {"p3"}


def test_forgetting_a_target_leaves_other_targets(store: Store) -> None:
    store.remember_records(SF, {"p1": ("Contact", "003A")})
    store.record_pushed_many(SF, {"p1": {"A": "a"}, "p2": {"A": "b"}}, T0)
    store.record_pushed(HS, "p1", {"A": "a"}, T0)
    store.add_dead_letters(SF, [_failure("p2")], at=T0)
    assert store.forget_target_state(SF) == 2
    assert store.field_fingerprints(SF, ["p1", "p2"]) == {}
    assert store.known_records(SF, ["p1"]) == {}
    assert store.field_fingerprints(HS, ["p1"]) == {"p1": {"A": "a"}}
    assert len(store.open_dead_letters(SF)) == 1
    assert store.forget_target_state(SF) == 0


# -- dead letters -------------------------------------------------------------------------


def test_a_dead_letter_keeps_what_was_to_be_sent_and_the_crms_answer(store: Store) -> None:
    run_id = store.start_run(SF)
    assert store.add_dead_letters(SF, [_failure("p1")], at=T0, run_id=run_id) == 1
    [letter] = store.open_dead_letters()
    assert letter.target == SF
    assert letter.person_id == "p1"
    assert letter.record_id == "003000000000001AAA"
    assert letter.fields == {
        "Relcrm_Archetype__c": "trapped",
        "Relcrm_Health__c": 41.5,
        "Flag__c": None,
    }
    assert letter.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "restricted picklist" in letter.error_message
    assert letter.attempts == 1
    assert letter.first_failed_at == letter.last_failed_at == T0
    assert letter.status == "open"
    assert letter.run_id == run_id
    assert store.dead_letter(letter.id) == letter


def test_a_new_failure_of_the_same_person_and_target_updates_the_letter(store: Store) -> None:
    store.add_dead_letters(SF, [_failure("p1"), _failure("p2")], at=T0)
    store.add_dead_letters(HS, [_failure("p1")], at=T0)
    later = T0 + timedelta(hours=3)
    retry = FailedWrite(
        person_id="p1", fields={"A": 1}, error_code="FIELD_CUSTOM_VALIDATION", error_message="x"
    )
    assert store.add_dead_letters(SF, [retry], at=later, run_id="r2") == 1
    letters = {(d.target, d.person_id): d for d in store.open_dead_letters()}
    assert len(letters) == 3
    updated = letters[(SF, "p1")]
    assert updated.attempts == 2
    assert updated.first_failed_at == T0
    assert updated.last_failed_at == later
    assert updated.error_code == "FIELD_CUSTOM_VALIDATION"
    assert updated.fields == {"A": 1}
    assert updated.record_id == "003000000000001AAA"  # kept: the new failure had none
    assert updated.run_id == "r2"
    assert letters[(HS, "p1")].attempts == 1
    assert [d.person_id for d in store.open_dead_letters(HS)] == ["p1"]


def test_the_same_person_twice_in_one_call_is_one_letter(store: Store) -> None:
    assert store.add_dead_letters(SF, [_failure("p1"), _failure("p1", "LAST")], at=T0) == 1
    [letter] = store.open_dead_letters()
    assert (letter.attempts, letter.error_code) == (2, "LAST")


def test_resolving_retrying_and_failing_again(store: Store) -> None:
    store.add_dead_letters(SF, [_failure("p1"), _failure("p2")], at=T0)
    first, second = store.open_dead_letters(SF)
    assert store.mark_dead_letters_retried([first.id]) == 1
    assert store.dead_letter(first.id).status == "retried"  # type: ignore[union-attr]
    # A retry that never reported back is still unresolved.
    assert {d.id for d in store.open_dead_letters()} == {first.id, second.id}
    # It fails again: the same letter opens again.
    store.add_dead_letters(SF, [_failure("p1")], at=T0 + timedelta(minutes=5))
    again = store.dead_letter(first.id)
    assert again is not None
    assert (again.status, again.attempts) == ("open", 2)

    assert store.resolve_dead_letter(first.id) is True
    assert store.resolve_dead_letter(first.id) is False
    assert store.resolve_dead_letter(987654) is False
    assert [d.id for d in store.open_dead_letters()] == [second.id]
    # A person whose letter was resolved gets a new one on the next failure.
    store.add_dead_letters(SF, [_failure("p1")], at=T0 + timedelta(days=1))
    fresh = [d for d in store.open_dead_letters() if d.person_id == "p1"]
    assert len(fresh) == 1
    assert fresh[0].id != first.id
    assert fresh[0].attempts == 1
    # A later run that wrote both resolves their letters.
    assert store.resolve_dead_letters_of(SF, ["p1", "p2", "p9"]) == 2
    assert store.open_dead_letters() == []


def test_long_crm_messages_are_cut(store: Store) -> None:
    failure = FailedWrite(person_id="p1", fields={}, error_code="E", error_message="x" * 10_000)
    store.add_dead_letters(SF, [failure], at=T0)
    [letter] = store.open_dead_letters()
    assert len(letter.error_message) == 4_000


# -- runs and checkpoints -------------------------------------------------------------------


def test_a_run_lifecycle(store: Store) -> None:
    run_id = store.start_run(SF, at=T0)
    assert len(run_id) == 32
    run = store.run(run_id)
    assert run is not None
    assert (run.status, run.finished_at, run.counts, run.api_calls) == ("running", None, {}, 0)
    assert run.duration is None

    counts = {"selected": 5, "written": 3, "unchanged": 1, "rejected": 1}
    store.finish_run(
        run_id, "partial", counts, api_calls=4, message="1 rejected", at=T0 + timedelta(minutes=2)
    )
    run = store.run(run_id)
    assert run is not None
    assert run.status == "partial"
    assert run.counts == counts
    assert run.api_calls == 4
    assert run.message == "1 rejected"
    assert run.started_at == T0
    assert run.duration == timedelta(minutes=2)
    assert store.unfinished_run(SF) is None


def test_runs_are_listed_newest_first(store: Store) -> None:
    ids = [store.start_run(SF if i % 2 else HS, at=T0 + timedelta(hours=i)) for i in range(5)]
    assert [r.id for r in store.runs()] == ids[::-1]
    assert [r.id for r in store.runs(limit=2)] == ids[:2:-1]
    assert [r.id for r in store.runs(target=SF)] == [ids[3], ids[1]]


def test_finishing_checks_its_arguments(store: Store) -> None:
    with pytest.raises(StoreError, match="no run"):
        store.finish_run("nope", "succeeded", {}, 0)
    run_id = store.start_run(SF)
    with pytest.raises(ValueError, match="finishes as"):
        store.finish_run(run_id, "running", {}, 0)
    with pytest.raises(ValueError, match="non-negative"):
        store.finish_run(run_id, "failed", {"written": -1}, 0)
    with pytest.raises(StoreError, match="no run"):
        store.checkpoint("nope", 1, ["p1"])
    with pytest.raises(ValueError, match="in flight"):
        store.checkpoint(run_id, 0, ["p1"])


def test_a_killed_run_is_found_and_resumes_from_its_checkpoints(store_url: str) -> None:
    with Store.open(store_url) as store:
        old = store.start_run(SF, at=T0)
        store.finish_run(old, "failed", {}, 0, "cannot connect", at=T0)
        run_id = store.start_run(SF, at=T0 + timedelta(hours=1))
        store.start_run(HS, at=T0 + timedelta(hours=2))
        assert store.checkpoint(run_id, 1, ["p1", "p2"], counts={"written": 2}, api_calls=1) == 2
        assert store.checkpoint(run_id, 2, ["p3", "p2"], counts={"written": 3}, api_calls=2) == 1
        store.mark_in_flight(run_id, ["p5", "p6"])
        # The process dies here, without finish_run.
    with Store.open(store_url) as store:
        unfinished = store.unfinished_run(SF)
        assert unfinished is not None
        assert unfinished.id == run_id
        assert (unfinished.counts, unfinished.api_calls) == ({"written": 3}, 2)
        assert store.checkpointed_persons(run_id) == {"p1", "p2", "p3"}
        assert store.checkpointed_persons(old) == set()
        assert store.in_flight_persons(run_id) == {"p5", "p6"}
        assert store.checkpoint(run_id, 3, ["p4", "p5", "p6"]) == 3
        assert store.in_flight_persons(run_id) == set()
        store.finish_run(run_id, "succeeded", {"written": 4}, 3)
        assert store.unfinished_run(SF) is None
        # Nothing left to resume: a succeeded run drops its checkpoints.
        assert store.checkpointed_persons(run_id) == set()
        assert store.unfinished_run(HS) is not None


def test_a_partial_run_keeps_its_checkpoints(store: Store) -> None:
    run_id = store.start_run(SF)
    store.checkpoint(run_id, 1, ["p1"])
    store.finish_run(run_id, "paused", {"written": 1}, 1, "daily API quota spent")
    assert store.checkpointed_persons(run_id) == {"p1"}


# -- erasure ---------------------------------------------------------------------------------


def test_erasure_removes_every_trace_and_reports_the_targets(store: Store) -> None:
    for person_id in ("p1", "p2"):
        store.upsert_person(_person(person_id))
    store.add_perceptions(
        [
            Perception.model_validate(
                {
                    "person_id": "p1",
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "channel": "survey",
                    "nps": {"value": 3},
                    "provenance": {"source_system": "s", "source_record_id": "r1"},
                }
            )
        ]
    )
    store.remember_records(SF, {"p1": ("Contact", "003A"), "p2": ("Contact", "003B")})
    store.remember_records(HS, {"p1": ("contacts", "101")})
    store.record_pushed_many(SF, {"p1": {"A": "a"}, "p2": {"A": "b"}}, T0)
    store.record_pushed(HS, "p1", {"A": "a"}, T0)
    store.record_pushed("dataverse", "p1", {"A": "a"}, T0)  # pushed, record never remembered
    store.add_dead_letters(SF, [_failure("p1"), _failure("p2")], at=T0)
    run_id = store.start_run(SF)
    store.checkpoint(run_id, 1, ["p1", "p2"])

    report = store.erase_person("p1")

    assert report.existed
    assert report.targets_with_records == {
        SF: CrmRecord("Contact", "003A"),
        HS: CrmRecord("contacts", "101"),
    }
    assert report.targets_with_state == {SF, HS, "dataverse"}
    assert store.get_person("p1") is None
    assert store.find_person("email", "p1@example.com") is None
    for target in (SF, HS, "dataverse"):
        assert store.known_records(target, ["p1"]) == {}
        assert store.field_fingerprints(target, ["p1"]) == {}
    assert [d.person_id for d in store.open_dead_letters()] == ["p2"]
    assert store.checkpointed_persons(run_id) == {"p2"}
    # The other person is untouched.
    assert store.known_records(SF, ["p2"]) == {"p2": ("Contact", "003B")}
    assert store.field_fingerprints(SF, ["p2"]) == {"p2": {"A": "b"}}

    again = store.erase_person("p1")
    assert not again.existed
    assert again.targets_with_records == {}
    assert again.targets_with_state == frozenset()


def test_delete_person_still_answers_whether_the_person_existed(store: Store) -> None:
    store.upsert_person(_person("p1"))
    store.record_pushed(SF, "p1", {"A": "a"}, T0)
    assert store.delete_person("p1") is True
    assert store.field_fingerprints(SF, ["p1"]) == {}
    assert store.delete_person("p1") is False
    # State of a person the store never had is erased all the same.
    store.record_pushed(SF, "ghost", {"A": "a"}, T0)
    assert store.delete_person("ghost") is False
    assert store.field_fingerprints(SF, ["ghost"]) == {}
