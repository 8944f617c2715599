"""relcrm's local state store: persons, perceptions and profiles (SQLAlchemy Core).

SQLite file by default, PostgreSQL by URL; the schema is versioned and migrated
forward on open.
"""

from relcrm.store.migrations import LATEST_VERSION
from relcrm.store.store import Store, open_store

__all__ = ["LATEST_VERSION", "Store", "open_store"]
