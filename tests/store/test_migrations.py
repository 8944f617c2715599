"""Schema versions: forward migration of a real old file, and refusal of a newer one."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, update

from relcrm.errors import SchemaVersionError, StoreError
from relcrm.models import Consent, Perception, Person
from relcrm.store import LATEST_VERSION, Store
from relcrm.store._engine import create_store_engine
from relcrm.store._tables import metadata, schema_info
from relcrm.store.migrations import MIGRATIONS, migrate


def test_migrations_are_numbered_one_to_n() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION >= 2


def test_a_version_1_store_is_migrated_forward_keeping_its_data(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        assert migrate(engine, target=1) == 1
        assert not inspect(engine).has_table("profiles")
    finally:
        engine.dispose()

    # Version 1 already has persons and perceptions, so the current code can write them
    # only once it has migrated; write them through a store, then reopen.
    jane = Person(id="p1", emails=("a@example.com",), consent=Consent(granted=True))
    said = Perception.model_validate(
        {
            "person_id": "p1",
            "occurred_at": "2026-01-01T00:00:00Z",
            "channel": "survey",
            "nps": {"value": 9},
            "provenance": {"source_system": "s", "source_record_id": "r1"},
        }
    )
    with Store.open(database_url) as store:
        assert store.schema_version() == LATEST_VERSION
        store.upsert_person(jane)
        store.add_perceptions([said])
    with Store.open(database_url) as store:
        assert store.schema_version() == LATEST_VERSION
        assert list(store.iter_person_perceptions()) == [(jane, [said])]


def test_data_written_at_version_1_survives_the_upgrade(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        migrate(engine, target=1)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO persons (id, data, updated_at) VALUES "
                """('p1', '{"id":"p1"}', '2026-01-01 00:00:00.000000')"""
            )
    finally:
        engine.dispose()
    with Store.open(store_url) as store:
        assert store.get_person("p1") == Person(id="p1")


def test_migrating_gives_the_tables_the_code_queries(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        migrate(engine)
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == set(metadata.tables)
        for name, table in metadata.tables.items():
            found = {column["name"] for column in inspector.get_columns(name)}
            assert found == set(table.columns.keys()), name
            indexes = {index["name"] for index in inspector.get_indexes(name)}
            assert indexes == {index.name for index in table.indexes}, name
    finally:
        engine.dispose()


def test_a_store_from_a_newer_relcrm_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(schema_info).values(version=LATEST_VERSION + 7))
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError) as caught:
        Store.open(store_url)
    message = str(caught.value)
    assert f"version {LATEST_VERSION + 7}" in message
    assert f"version {LATEST_VERSION}" in message


def test_a_failed_upgrade_changes_nothing(database_url: str) -> None:
    # A table in the way of migration 2 makes it fail after migration 1 ran in the same
    # transaction: all of it must roll back, the DDL included.
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE profiles (x INTEGER)")
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="profiles"):
        Store.open(database_url)
    engine = create_store_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) == {"profiles"}
    finally:
        engine.dispose()
