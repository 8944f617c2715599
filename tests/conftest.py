"""Fixtures every test package shares.

``store_url`` (both backends: ``[sqlite]`` and ``[postgresql]``), ``store`` (a Store opened
on it) and ``postgres_url`` (PostgreSQL only). PostgreSQL runs when
``RELCRM_TEST_POSTGRES_URL`` names a server; how to use them is in ``tests/postgres.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from relcrm.store import Store
from tests.postgres import BACKENDS, SEGMENTS, close_server, fresh_database

# pytest-xdist starts its workers with COLUMNS=80 and LINES=24. The CLI's consoles are made
# when relcrm.cli is first imported and keep a width read then, so the CLI would print
# at 80 columns in a worker (breaking long paths and table cells across lines) but
# unbounded, as into any pipe, in a serial run. The tests run it as in a pipe.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)


@pytest.fixture(scope="session", autouse=True)
def _postgres_databases_are_dropped() -> Iterator[None]:
    yield
    close_server()


@pytest.fixture(params=[*BACKENDS, SEGMENTS])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL with nothing in it yet, on SQLite and (when available) PostgreSQL, and
    on SQLite keeping its perceptions in Parquet segments (``[segments]``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'relcrm.db'}"
    elif request.param == "segments":
        url = f"sqlite:///{tmp_path / 'state' / 'relcrm-segments.db'}"
        with Store.open(url) as store:
            store.use_perception_segments()
        yield url
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend, not yet a store (migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'relcrm.db'}"
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A Store on ``store_url``, closed after the test."""
    with Store.open(store_url) as opened:
        yield opened


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (skipped without ``RELCRM_TEST_POSTGRES_URL``)."""
    with fresh_database() as url:
        yield url
