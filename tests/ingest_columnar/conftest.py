"""Fixtures of the columnar staging tests: a DuckDB connection and a fixed date range."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from relcrm.sources.dates import DateRange

duckdb = pytest.importorskip("duckdb")

DATES = DateRange(latest=datetime(2030, 1, 1, tzinfo=UTC))
"""1970 to 2030: fixed, so a test does not depend on today's date."""


@pytest.fixture
def connection() -> Iterator[Any]:
    con = duckdb.connect()
    try:
        yield con
    finally:
        con.close()
