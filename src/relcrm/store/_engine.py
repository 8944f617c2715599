"""Engine set-up: which databases the store runs on, and how SQLite is tuned.

Kept apart from the store so that migrations (and their tests) get exactly the
same connection behaviour as the store itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from relcrm.errors import StoreError

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
"""Dialects whose ``INSERT ... ON CONFLICT`` the store knows how to build."""

BEGIN_OPTION = "relcrm_begin"
"""Execution option naming the statement SQLite starts a transaction with."""

WRITE_BEGIN = "BEGIN IMMEDIATE"
"""Writers take SQLite's write lock up front, so two writers queue on the busy
timeout instead of failing when a read lock cannot be upgraded."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536


def safe_url(url: URL) -> str:
    """The URL as it may appear in a message: never with its password."""
    return url.render_as_string(hide_password=True)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as error:
        raise StoreError(
            f"not a database URL: {url!r}",
            hint="use e.g. sqlite:///relcrm.db or postgresql+psycopg://host/db",
        ) from error


def _make_sqlite_parent(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot create the folder {str(folder)!r} for the store: {error.strerror}",
            hint="choose a store path where relcrm may write",
        ) from error


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (which neither begins a
    # transaction before DDL nor before SELECT); SQLAlchemy's "begin" event emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    statement = connection.get_execution_options().get(BEGIN_OPTION, "BEGIN")
    connection.exec_driver_sql(str(statement))


def create_store_engine(url: str) -> Engine:
    """An engine for the store at ``url``; SQLite gets WAL, foreign keys and real transactions.

    WAL lets readers (a sync run streaming perceptions) go on while a writer commits;
    ``synchronous=NORMAL`` is safe with WAL and avoids an fsync per commit.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise StoreError(
            f"unsupported store database {backend!r} in {safe_url(parsed)}",
            hint="use a sqlite:/// file or a postgresql:// URL",
        )
    if backend == "sqlite":
        _make_sqlite_parent(parsed)
    try:
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise StoreError(
            f"cannot create an engine for {safe_url(parsed)}: {error}",
            hint="check the URL and that its database driver is installed",
        ) from error
    if backend == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions start by taking the write lock."""
    return engine.execution_options(**{BEGIN_OPTION: WRITE_BEGIN})
