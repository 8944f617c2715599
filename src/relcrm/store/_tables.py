"""The store's tables as the current schema version has them.

Queries use these definitions; migrations keep their own frozen copies, so that
changing a table here never changes what an old migration creates. A test checks
that migrating an empty database yields exactly these tables and columns.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

PERSON_ID_LENGTH = 128
IDENTITY_VALUE_LENGTH = 320

PersonIdType = String(PERSON_ID_LENGTH).with_variant(
    String(PERSON_ID_LENGTH, collation="C"), "postgresql"
)
"""Person ids sort byte by byte everywhere (SQLite's default, Python's ``sorted``), not by
a PostgreSQL locale; paging perceptions by a range of person ids relies on one order."""

metadata = MetaData()

schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("migrated_at", DateTime(timezone=True), nullable=True),
)

persons = Table(
    "persons",
    metadata,
    Column("id", PersonIdType, primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("value", String(IDENTITY_VALUE_LENGTH), nullable=False),
    Column("person_id", PersonIdType, ForeignKey("persons.id"), nullable=False),
    PrimaryKeyConstraint("kind", "value", name="pk_identities"),
    Index("ix_identities_person_id", "person_id"),
)

perceptions = Table(
    "perceptions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person_id", PersonIdType, ForeignKey("persons.id"), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("source_system", String(80), nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_perceptions_person_id", "person_id"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person_id", PersonIdType, ForeignKey("persons.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("stated_at", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_preferences_person_id", "person_id"),
)

profiles = Table(
    "profiles",
    metadata,
    Column(
        "person_id",
        PersonIdType,
        ForeignKey("persons.id"),
        primary_key=True,
    ),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("model_version", Text, nullable=False),
    Column("segment", String(32), nullable=False),
    Column("health", Float, nullable=False),
    Column("data", Text, nullable=False),
)
