"""The store on both backends: SQLite always, PostgreSQL when a server is named.

Set ``RELCRM_TEST_POSTGRES_URL`` to a SQLAlchemy URL of a PostgreSQL server and a role that
may create databases, e.g. ``postgresql+psycopg://relcrm:secret@127.0.0.1:5432/relcrm``
(``.ci/run`` starts a throwaway server and sets it; see docs/ops.md for running one
yourself). Without it, the PostgreSQL variants are skipped, with the reason, and the SQLite
ones run as always.

Fixtures (defined in ``tests/conftest.py``, so every test package has them):

``store_url``
    Parametrized over both backends, with the ids ``sqlite`` and ``postgresql``:
    ``sqlite:///<tmp_path>/state/relcrm.db`` (a file not yet created), or the URL of a new,
    empty PostgreSQL database made for this test alone and dropped after it (the test's
    connections still open to it are ended). A test that asks for it runs twice::

        def test_runs_are_kept(store_url: str) -> None:
            with Store.open(store_url) as store:
                ...

    Select one backend with ``-k sqlite`` or ``-k postgresql``. A test whose own fixture
    already has parameters gets ids such as ``[postgresql-salesforce]``.

``store``
    A :class:`relcrm.store.Store` opened on ``store_url`` (so also on both backends), closed
    after the test.

``postgres_url``
    PostgreSQL only, for what only PostgreSQL does (several workers, ``SKIP LOCKED``): a
    fresh database as above; the test is skipped without ``RELCRM_TEST_POSTGRES_URL``.

Each call of ``fresh_database()`` (what the fixtures use) gives another database, so a test
that needs two stores on one server may call it itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

VARIABLE = "RELCRM_TEST_POSTGRES_URL"
SERVER_URL = os.environ.get(VARIABLE, "").strip()
SKIP_REASON = (
    f"{VARIABLE} is not set: no PostgreSQL server to test on "
    "(set it to postgresql+psycopg://user:password@host:port/database, a role that may "
    "create databases; .ci/run starts one)"
)
DATABASE_PREFIX = "relcrm_test_"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not SERVER_URL, reason=SKIP_REASON),
    ),
]
"""Parameters for a fixture over both backends (``store_url`` uses them)."""

SEGMENTS = pytest.param("segments", id="segments")
"""SQLite keeping its perceptions in Parquet segments (relcrm.store.perception_layout):
``store_url``'s third parameter."""


def keeps_segments(store_url: str) -> bool:
    """Whether ``store_url`` is the ``[segments]`` store of :func:`store_url`."""
    return store_url.endswith("relcrm-segments.db")


class PostgresServer:
    """The server of ``RELCRM_TEST_POSTGRES_URL``: makes and drops test databases."""

    def __init__(self, url: str) -> None:
        try:
            self.url: URL = make_url(url)
        except ArgumentError:
            raise RuntimeError(f"{VARIABLE} is not a database URL") from None
        if self.url.get_backend_name() != "postgresql":
            raise RuntimeError(
                f"{VARIABLE} names a {self.url.get_backend_name()!r} database; "
                "give a postgresql+psycopg:// URL"
            )
        shown = self.url.render_as_string(hide_password=True)
        try:
            self._admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        except ImportError as error:
            raise RuntimeError(
                f"no driver for {shown}: {error} (pip install -e '.[postgres]')"
            ) from error
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            self._admin.dispose()
            raise RuntimeError(
                f"cannot connect to the PostgreSQL server of {VARIABLE} ({shown}): "
                f"{error.__cause__ or error}"
            ) from error
        self._made: set[str] = set()

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database for one test, as a URL with its password; dropped after."""
        name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:16]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self._made.add(name)
        try:
            yield self.url.set(database=name).render_as_string(hide_password=False)
        finally:
            self._drop(name)

    def _drop(self, name: str) -> None:
        # End the connections a test left open (engines not disposed, a CLI subprocess that
        # is still exiting): our role's own, which it may end without extra privileges. Not
        # DROP ... WITH (FORCE): it also tries to end an autovacuum worker busy in the
        # database, which only a superuser or a member of pg_signal_backend may do; plain
        # DROP DATABASE stops autovacuum itself and waits a few seconds for the others.
        with self._admin.connect() as connection:
            for attempt in range(1, 6):
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND usename = current_user"
                        " AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                try:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    break
                except OperationalError as error:
                    # 55006 object_in_use: someone connected again meanwhile.
                    if getattr(error.orig, "sqlstate", None) != "55006" or attempt == 5:
                        raise
        self._made.discard(name)

    def close(self) -> None:
        for name in list(self._made):
            self._drop(name)
        self._admin.dispose()


_server: PostgresServer | None = None


def server() -> PostgresServer:
    """The one server of this test session (connected on first use); skips without one."""
    global _server
    if not SERVER_URL:
        pytest.skip(SKIP_REASON)
    if _server is None:
        try:
            _server = PostgresServer(SERVER_URL)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
    return _server


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped when the block ends."""
    with server().database() as url:
        yield url


def close_server() -> None:
    """Drop what is left and disconnect (at the end of the session)."""
    global _server
    if _server is not None:
        _server.close()
        _server = None
