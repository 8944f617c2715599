"""The store's tables as the current schema version has them.

Queries use these definitions; migrations keep their own frozen copies, so that
changing a table here never changes what an old migration creates. A test checks
that migrating an empty database yields exactly these tables and columns.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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
    text,
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

# -- sync state (version 4) ------------------------------------------------------------

TARGET_LENGTH = 80
"""A target's name as the targets file spells it (``salesforce-prod``)."""
FIELD_NAME_LENGTH = 255
"""A CRM field's API name: HubSpot and Salesforce both stop well short of this."""
CRM_OBJECT_LENGTH = 80
CRM_RECORD_ID_LENGTH = 128
RUN_ID_LENGTH = 32
"""A run id: uuid4 hex."""

sync_records = Table(
    "sync_records",
    metadata,
    Column("target", String(TARGET_LENGTH), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
    Column("crm_object", String(CRM_OBJECT_LENGTH), nullable=True),
    Column("record_id", String(CRM_RECORD_ID_LENGTH), nullable=True),
    Column("matched_at", DateTime(timezone=True), nullable=True),
    Column("cleared_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("target", "person_id", name="pk_sync_records"),
    Index("ix_sync_records_person_id", "person_id"),
)
"""Per target and person: the CRM record matched to the person, and when their fields were
cleared after consent was withdrawn. No foreign key to ``persons``: the rows describe the
CRM's side, which erasure must still be able to report while it deletes the person."""

sync_state = Table(
    "sync_state",
    metadata,
    Column("target", String(TARGET_LENGTH), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
    Column("field", String(FIELD_NAME_LENGTH), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("pushed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("target", "person_id", "field", name="pk_sync_state"),
    Index("ix_sync_state_person_id", "person_id"),
)
"""Per target, person and CRM field: the fingerprint of the value last pushed."""

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(TARGET_LENGTH), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
    Column("record_id", String(CRM_RECORD_ID_LENGTH), nullable=True),
    Column("fields", Text, nullable=False),
    Column("error_code", String(120), nullable=False),
    Column("error_message", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_id", String(RUN_ID_LENGTH), nullable=True),
    # At most one unresolved letter per target and person: a new failure updates it.
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

runs = Table(
    "runs",
    metadata,
    Column("id", String(RUN_ID_LENGTH), primary_key=True),
    Column("target", String(TARGET_LENGTH), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counts", Text, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("message", Text, nullable=True),
    Index("ix_runs_target_status", "target", "status"),
    Index("ix_runs_started_at", "started_at"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("run_id", String(RUN_ID_LENGTH), ForeignKey("runs.id"), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
    Column("batch", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "person_id", name="pk_checkpoints"),
    Index("ix_checkpoints_person_id", "person_id"),
)
"""One row per person a run has finished with (written, unchanged or dead-lettered), so a
resumed run skips them; a row per person (not a list per batch) lets erasure remove one."""

# -- unresolved social posts (version 5) -----------------------------------------------

unresolved_posts = Table(
    "unresolved_posts",
    metadata,
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
)
"""Social posts whose author no handle map or stored identity names yet: kept (their text
redacted) so that a later ingest with a better handle map turns them into perceptions.
No person_id, so erasure has nothing to find here: the posts are nobody's yet."""

# -- erasure audit (version 6) ---------------------------------------------------------

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Facts about the store itself, one value per key: the audit salt (``audit_salt``), created
with the table, so each store hashes the persons it forgot with a secret of its own."""

AUDIT_ACTION_LENGTH = 32
AUDIT_SUBJECT_LENGTH = 64
"""An HMAC-SHA256 in hex."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(AUDIT_ACTION_LENGTH), nullable=False),
    Column("subject", String(AUDIT_SUBJECT_LENGTH), nullable=False),
    Column("counts", Text, nullable=False),
    Column("outcome", String(32), nullable=False),
    Index("ix_audit_log_subject", "subject"),
    Index("ix_audit_log_at", "at"),
)
"""What relcrm did to a person's data on request (``forget``), without personal data: the
subject is a salted one-way hash of the person id, the counts are numbers and target names.
No person_id column, on purpose: erasure never finds (or removes) its own proof."""

# -- leases (version 7) ------------------------------------------------------------------

leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("run_id", String(RUN_ID_LENGTH), nullable=True),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""Who may write to a target (or a partition of it) now; see relcrm.store.leases."""

# -- partitions of shared runs (version 8) -------------------------------------------------

run_partitions = Table(
    "run_partitions",
    metadata,
    Column("run_id", String(RUN_ID_LENGTH), ForeignKey("runs.id"), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder", String(120), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("counts", Text, nullable=False),
    Column("api_calls", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "partition", name="pk_run_partitions"),
)
"""The slices of a run several workers share; see relcrm.store.partitions."""

# -- the feedback page's links (version 9) ---------------------------------------------------

VOICE_LINK_ID_LENGTH = 32
"""A link id: 16 random bytes in hex, the only thing a signed link carries."""

voice_links = Table(
    "voice_links",
    metadata,
    Column("id", String(VOICE_LINK_ID_LENGTH), primary_key=True),
    Column("person_id", PersonIdType, ForeignKey("persons.id"), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_voice_links_person_id", "person_id"),
)
"""The links ``relcrm voice link`` issued: whose page each opaque id opens, until when,
and when its one answer was taken (the nonce: set once, never reset); see
relcrm.store.voice_links. Erased with the person."""

# -- follow-up tasks in the CRMs (version 10) ------------------------------------------------

outreach_tasks = Table(
    "outreach_tasks",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("target", String(64), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
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
"""One follow-up task per (target, person, outreach reason) relcrm wanted, created or closed
in a CRM: wanted -> creating (the intent, stored before the call) -> open -> closing ->
closed, or failed; see relcrm.store.outreach_tasks. Erased with the person."""

# -- profile history (version 11) ------------------------------------------------------------

profile_history = Table(
    "profile_history",
    metadata,
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("person_id", PersonIdType, nullable=False),
    Column("segment", String(32), nullable=False),
    Column("health", Float, nullable=False),
    Column("band", String(16), nullable=False),
    Column("attitude", Float, nullable=False),
    Column("behavioural_loyalty", Float, nullable=True),
    PrimaryKeyConstraint("as_of", "person_id", name="pk_profile_history"),
    Index("ix_profile_history_person_id", "person_id"),
)
"""Each profiling run's figures per person (one row per clock and person, a rerun at the same
clock replaces its rows), kept for RELCRM_PROFILE_HISTORY_DAYS: what the report's movement
and trend are drawn from; see relcrm.store.profile_history. Erased with the person."""

# -- store options (version 12) --------------------------------------------------------------

store_options = Table(
    "store_options",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Settings every process opening the store must agree on (read when it is opened):
``perception_layout`` (``table`` when absent, or ``segments``) and ``segments_folder``;
see relcrm.store.perception_layout."""
