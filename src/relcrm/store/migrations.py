"""Forward-only schema migrations, numbered 1..N and applied in order on open.

Each migration creates what *its* version needed, with table definitions frozen
inside the migration: the current shapes in ``_tables`` may move on, an old
migration must not. There are no down-migrations: a store is only ever moved
forward, and a store written by a newer relcrm is refused rather than guessed at.

All pending migrations run in one transaction together with the version update,
so a failed upgrade leaves the store at its old version (SQLite and PostgreSQL
both have transactional DDL).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from relcrm.errors import SchemaVersionError
from relcrm.store._engine import safe_url, writer
from relcrm.store._tables import schema_info

# An arbitrary, fixed key: PostgreSQL workers opening the same store at once take
# this advisory lock so that only one of them migrates.
_PG_MIGRATION_LOCK = 0x72656C63726D


# Person ids in byte order on PostgreSQL too (see _tables.PersonIdType); frozen here.
_PERSON_ID = String(128).with_variant(String(128, collation="C"), "postgresql")


@dataclass(frozen=True)
class Migration:
    """One step forward: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_persons_identities_perceptions(connection: Connection) -> None:
    md = MetaData()
    Table(
        "persons",
        md,
        Column("id", _PERSON_ID, primary_key=True),
        Column("data", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "identities",
        md,
        Column("kind", String(16), nullable=False),
        Column("value", String(320), nullable=False),
        Column("person_id", _PERSON_ID, ForeignKey("persons.id"), nullable=False),
        PrimaryKeyConstraint("kind", "value", name="pk_identities"),
        Index("ix_identities_person_id", "person_id"),
    )
    Table(
        "perceptions",
        md,
        Column("id", String(64), primary_key=True),
        Column("person_id", _PERSON_ID, ForeignKey("persons.id"), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("channel", String(16), nullable=False),
        Column("source_system", String(80), nullable=False),
        Column("data", Text, nullable=False),
        Index("ix_perceptions_person_id", "person_id"),
    )
    md.create_all(connection)


def _v2_profiles(connection: Connection) -> None:
    md = MetaData()
    # Declared only so that the foreign key resolves; it exists since version 1.
    Table("persons", md, Column("id", _PERSON_ID, primary_key=True))
    profiles = Table(
        "profiles",
        md,
        Column("person_id", _PERSON_ID, ForeignKey("persons.id"), primary_key=True),
        Column("as_of", DateTime(timezone=True), nullable=False),
        Column("model_version", Text, nullable=False),
        Column("segment", String(32), nullable=False),
        Column("health", Float, nullable=False),
        Column("data", Text, nullable=False),
    )
    profiles.create(connection)


def _v3_preferences(connection: Connection) -> None:
    md = MetaData()
    Table("persons", md, Column("id", _PERSON_ID, primary_key=True))
    preferences = Table(
        "preferences",
        md,
        Column("id", String(64), primary_key=True),
        Column("person_id", _PERSON_ID, ForeignKey("persons.id"), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("stated_at", DateTime(timezone=True), nullable=False),
        Column("data", Text, nullable=False),
        Index("ix_preferences_person_id", "person_id"),
    )
    preferences.create(connection)


def _v4_sync_state(connection: Connection) -> None:
    md = MetaData()
    Table(
        "sync_records",
        md,
        Column("target", String(80), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("crm_object", String(80), nullable=True),
        Column("record_id", String(128), nullable=True),
        Column("matched_at", DateTime(timezone=True), nullable=True),
        Column("cleared_at", DateTime(timezone=True), nullable=True),
        PrimaryKeyConstraint("target", "person_id", name="pk_sync_records"),
        Index("ix_sync_records_person_id", "person_id"),
    )
    Table(
        "sync_state",
        md,
        Column("target", String(80), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("field", String(255), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("pushed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("target", "person_id", "field", name="pk_sync_state"),
        Index("ix_sync_state_person_id", "person_id"),
    )
    Table(
        "dead_letters",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("target", String(80), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("record_id", String(128), nullable=True),
        Column("fields", Text, nullable=False),
        Column("error_code", String(120), nullable=False),
        Column("error_message", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("first_failed_at", DateTime(timezone=True), nullable=False),
        Column("last_failed_at", DateTime(timezone=True), nullable=False),
        Column("status", String(16), nullable=False),
        Column("run_id", String(32), nullable=True),
        Index(
            "ux_dead_letters_unresolved",
            "target",
            "person_id",
            unique=True,
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_dead_letters_person_id", "person_id"),
    )
    Table(
        "runs",
        md,
        Column("id", String(32), primary_key=True),
        Column("target", String(80), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("status", String(16), nullable=False),
        Column("counts", Text, nullable=False),
        Column("api_calls", Integer, nullable=False),
        Column("message", Text, nullable=True),
        Index("ix_runs_target_status", "target", "status"),
        Index("ix_runs_started_at", "started_at"),
    )
    Table(
        "checkpoints",
        md,
        Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("batch", Integer, nullable=False),
        PrimaryKeyConstraint("run_id", "person_id", name="pk_checkpoints"),
        Index("ix_checkpoints_person_id", "person_id"),
    )
    md.create_all(connection)


def _v5_unresolved_posts(connection: Connection) -> None:
    md = MetaData()
    Table(
        "unresolved_posts",
        md,
        Column("key", String(300), primary_key=True),
        Column("platform", String(40), nullable=False),
        Column("handle", String(100), nullable=False),
        Column("post_id", String(200), nullable=False),
        Column("source_system", String(80), nullable=False),
        Column("url", Text, nullable=True),
        Column("text", Text, nullable=False),
        Column("posted_at", DateTime(timezone=True), nullable=False),
        Column("public", Boolean, nullable=False),
        Column("first_seen_at", DateTime(timezone=True), nullable=False),
        Index("ix_unresolved_posts_handle", "platform", "handle"),
    ).create(connection)


def _v6_audit_log(connection: Connection) -> None:
    md = MetaData()
    meta = Table(
        "store_meta",
        md,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    Table(
        "audit_log",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("action", String(32), nullable=False),
        Column("subject", String(64), nullable=False),
        Column("counts", Text, nullable=False),
        Column("outcome", String(32), nullable=False),
        Index("ix_audit_log_subject", "subject"),
        Index("ix_audit_log_at", "at"),
    )
    md.create_all(connection)
    # The store's own secret for hashing audit subjects: random, never leaves the store.
    connection.execute(insert(meta).values(key="audit_salt", value=secrets.token_hex(32)))


def _v7_leases(connection: Connection) -> None:
    md = MetaData()
    Table(
        "leases",
        md,
        Column("name", String(200), primary_key=True),
        Column("holder", String(120), nullable=False),
        Column("run_id", String(32), nullable=True),
        Column("acquired_at", DateTime(timezone=True), nullable=False),
        Column("heartbeat_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(connection)


def _v8_run_partitions(connection: Connection) -> None:
    md = MetaData()
    Table("runs", md, Column("id", String(32), primary_key=True))
    Table(
        "run_partitions",
        md,
        Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("total", Integer, nullable=False),
        Column("status", String(16), nullable=False),
        Column("holder", String(120), nullable=True),
        Column("expires_at", DateTime(timezone=True), nullable=True),
        Column("counts", Text, nullable=False),
        Column("api_calls", Integer, nullable=False),
        PrimaryKeyConstraint("run_id", "partition", name="pk_run_partitions"),
    )
    md.tables["run_partitions"].create(connection)


def _v9_voice_links(connection: Connection) -> None:
    md = MetaData()
    Table("persons", md, Column("id", _PERSON_ID, primary_key=True))
    Table(
        "voice_links",
        md,
        Column("id", String(32), primary_key=True),
        Column("person_id", _PERSON_ID, ForeignKey("persons.id"), nullable=False),
        Column("purpose", String(16), nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("answered_at", DateTime(timezone=True), nullable=True),
        Index("ix_voice_links_person_id", "person_id"),
    )
    md.tables["voice_links"].create(connection)


def _v10_outreach_tasks(connection: Connection) -> None:
    md = MetaData()
    Table(
        "outreach_tasks",
        md,
        Column("key", String(32), primary_key=True),
        Column("target", String(64), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("reason_hash", String(32), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("body", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("crm_object", String(64), nullable=True),
        Column("record_id", String(64), nullable=True),
        Column("task_id", String(64), nullable=True),
        Column("error", Text, nullable=True),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index("ix_outreach_tasks_target_person", "target", "person_id"),
        Index("ix_outreach_tasks_target_status", "target", "status"),
    )
    md.tables["outreach_tasks"].create(connection)


def _v11_profile_history(connection: Connection) -> None:
    md = MetaData()
    Table(
        "profile_history",
        md,
        Column("as_of", DateTime(timezone=True), nullable=False),
        Column("person_id", _PERSON_ID, nullable=False),
        Column("segment", String(32), nullable=False),
        Column("health", Float, nullable=False),
        Column("band", String(16), nullable=False),
        Column("attitude", Float, nullable=False),
        Column("behavioural_loyalty", Float, nullable=True),
        PrimaryKeyConstraint("as_of", "person_id", name="pk_profile_history"),
        Index("ix_profile_history_person_id", "person_id"),
    )
    md.tables["profile_history"].create(connection)


def _v12_store_options(connection: Connection) -> None:
    md = MetaData()
    Table(
        "store_options",
        md,
        Column("name", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    md.tables["store_options"].create(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "persons, their identities, and perceptions", _v1_persons_identities_perceptions),
    Migration(2, "relationship profiles", _v2_profiles),
    Migration(3, "stated preferences", _v3_preferences),
    Migration(4, "sync state, dead letters, runs and their checkpoints", _v4_sync_state),
    Migration(5, "social posts whose author is not known yet", _v5_unresolved_posts),
    Migration(6, "an audit log of erasures, and the store's audit salt", _v6_audit_log),
    Migration(7, "leases: one writer per target (or partition) at a time", _v7_leases),
    Migration(8, "partitions of runs that several workers share", _v8_run_partitions),
    Migration(9, "voice links: the page's opaque link ids and answer nonces", _v9_voice_links),
    Migration(10, "follow-up tasks relcrm created in the CRMs", _v10_outreach_tasks),
    Migration(11, "profile history: segment and health per run", _v11_profile_history),
    Migration(12, "store options: where perceptions are kept", _v12_store_options),
)
"""Every migration, in order; ``MIGRATIONS[i].version == i + 1``."""

LATEST_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


def read_version(connection: Connection) -> int:
    """The store's schema version; 0 for a database relcrm has never touched."""
    if not inspect(connection).has_table(schema_info.name):
        return 0
    version = connection.scalar(select(schema_info.c.version).where(schema_info.c.id == 1))
    return int(version) if version is not None else 0


def _ensure_schema_info(connection: Connection) -> None:
    if not inspect(connection).has_table(schema_info.name):
        schema_info.create(connection)
    row = connection.scalar(select(schema_info.c.id).where(schema_info.c.id == 1))
    if row is None:
        connection.execute(insert(schema_info).values(id=1, version=0, migrated_at=None))


def _too_new(engine: Engine, version: int) -> SchemaVersionError:
    return SchemaVersionError(
        f"the store {safe_url(engine.url)} has schema version {version}, "
        f"but this relcrm knows only up to version {LATEST_VERSION}"
    )


def migrate(engine: Engine, target: int | None = None) -> int:
    """Bring the store forward to ``target`` (default: the latest) and return its version.

    A store already at or past ``target`` is left alone; one newer than this code
    raises :class:`SchemaVersionError` before anything is written.
    """
    goal = LATEST_VERSION if target is None else target
    if not 0 <= goal <= LATEST_VERSION:
        raise ValueError(f"target version must be 0..{LATEST_VERSION}, got {goal}")
    # Most opens find the store current: find out without taking the write lock.
    with engine.connect() as connection:
        current = read_version(connection)
    if current > LATEST_VERSION:
        raise _too_new(engine, current)
    if current >= goal:
        return current
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        current = read_version(connection)  # again: another process may have migrated
        if current > LATEST_VERSION:
            raise _too_new(engine, current)
        if current >= goal:
            return current
        _ensure_schema_info(connection)
        for migration in MIGRATIONS[current:goal]:
            migration.apply(connection)
        connection.execute(
            update(schema_info)
            .where(schema_info.c.id == 1)
            .values(version=goal, migrated_at=datetime.now(UTC))
        )
    return goal
