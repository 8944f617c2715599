"""relcrm's local state store (SQLAlchemy Core): persons, their feelings, and sync state.

SQLite file by default, PostgreSQL by URL; the schema is versioned and migrated
forward on open.
"""

from relcrm.store.migrations import LATEST_VERSION
from relcrm.store.store import Store, open_store
from relcrm.store.sync_state import (
    CrmRecord,
    DeadLetter,
    ErasureReport,
    FailedWrite,
    RunRecord,
)

__all__ = [
    "LATEST_VERSION",
    "CrmRecord",
    "DeadLetter",
    "ErasureReport",
    "FailedWrite",
    "RunRecord",
    "Store",
    "open_store",
]
