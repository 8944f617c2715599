"""The audit log (schema version 6): salted subjects, entries without personal data, and
the pre-erasure reads that relcrm forget relies on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from relcrm.models import Consent, Person
from relcrm.store import LATEST_VERSION, Store
from relcrm.store._engine import create_store_engine
from relcrm.store._tables import audit_log, metadata, store_meta
from relcrm.store.audit import PERSON_TABLES, subject_hash
from relcrm.store.migrations import migrate

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _jane() -> Person:
    return Person(
        id="p-jane",
        display_name="Jane Doe",
        emails=("jane@example.com",),
        consent=Consent(granted=True),
    )


def test_a_version_5_store_gains_the_audit_log_and_a_salt_of_its_own(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        assert migrate(engine, target=5) == 5
        assert not inspect(engine).has_table("audit_log")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO persons (id, data, updated_at) VALUES "
                """('p1', '{"id":"p1"}', '2026-01-01 00:00:00.000000')"""
            )
    finally:
        engine.dispose()
    with Store.open(database_url) as store:
        assert store.schema_version() == LATEST_VERSION >= 6
        assert store.get_person("p1") == Person(id="p1")
        assert store.audit_entries() == []
        subject = store.audit_subject("p1")
    with Store.open(database_url) as store:  # the salt is kept: subjects are stable
        assert store.audit_subject("p1") == subject
        with store._read() as connection:
            (salt,) = connection.execute(select(store_meta.c.value)).scalars().all()
    assert len(salt) == 64 and subject == subject_hash(salt, "p1")
    assert len(subject) == 64 and "p1" not in subject


def test_two_stores_hash_the_same_person_differently(tmp_path: Path, store: Store) -> None:
    other_url = f"sqlite:///{tmp_path}/other.db"
    with Store.open(other_url) as other:
        assert other.audit_subject("p1") != store.audit_subject("p1")
    assert store.audit_subject("p1") != store.audit_subject("p2")


def test_an_entry_keeps_counts_and_a_hash_but_no_person_id(store: Store) -> None:
    store.upsert_person(_jane())
    counts = {"rows": {"persons": 1, "identities": 1}, "targets": {"cleared": ["sf-contact"]}}
    first = store.record_audit("forget", "p-jane", counts, "erased", at=T0)
    later = store.record_audit("forget", "p-other", {}, "kept", at=T0 + timedelta(hours=1))

    assert first.subject == store.audit_subject("p-jane") and first.counts == counts
    assert [e.id for e in store.audit_entries()] == [later.id, first.id]  # newest first
    assert store.audit_entries(1) == [later]
    assert store.audit_entries(person_id="p-jane") == [first]
    assert store.audit_entries(person_id="p-nobody") == []
    (stored,) = store.audit_entries(person_id="p-jane")
    assert stored.at == T0 and stored.at.tzinfo is not None
    with store._read() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(audit_log))]
    whole = json.dumps(rows, default=str)
    for personal in ("p-jane", "p-other", "jane@example.com", "Jane"):
        assert personal not in whole


def test_an_entry_refuses_naive_times_and_unknown_words(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone"):
        store.record_audit("forget", "p1", {}, "erased", at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="action"):
        store.record_audit("delete", "p1", {}, "erased")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outcome"):
        store.record_audit("forget", "p1", {}, "done")  # type: ignore[arg-type]
    assert store.audit_entries() == []


def test_the_footprint_covers_every_table_that_names_a_person(store: Store) -> None:
    named = {
        name
        for name, table in metadata.tables.items()
        if "person_id" in table.columns or name == "persons"
    }
    assert set(PERSON_TABLES) == named
    assert "audit_log" not in named  # the proof of an erasure is never erased with it

    store.upsert_person(_jane())
    store.remember_records("sf", {"p-jane": ("Contact", "003A")}, at=T0)
    store.remember_records("hs", {"p-jane": ("contacts", "101")}, at=T0)
    store.record_pushed_many("sf", {"p-jane": {"F__c": "x", "G__c": "y"}}, T0)
    store.mark_cleared("hs", ["p-jane"], T0)
    footprint = store.person_footprint("p-jane")
    assert set(footprint) == named
    assert footprint["persons"] == 1 and footprint["identities"] == 1
    assert footprint["sync_records"] == 2 and footprint["sync_state"] == 2

    hs, sf = store.remembered_records("p-jane")  # by target name
    assert (hs.target, hs.object, hs.record_id) == ("hs", "contacts", "101")
    assert hs.cleared_at == T0 and not hs.holds_fields
    assert (sf.target, sf.record_id, sf.pushed_fields) == ("sf", "003A", 2) and sf.holds_fields
    assert store.persons_with_record("Contact", "003A") == {"sf": "p-jane"}
    assert store.persons_with_record("Contact", "003A", targets=["hs"]) == {}

    store.erase_person("p-jane")
    assert not any(store.person_footprint("p-jane").values())
    assert store.remembered_records("p-jane") == []
