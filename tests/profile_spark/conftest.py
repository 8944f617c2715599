"""One local SparkSession for the whole test session (starting a JVM costs seconds).

In CI (``CI`` set, as ``.ci/run`` does) a missing PySpark or Java fails the tests
instead of skipping them: the issue asks for this engine to be tested there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

from relcrm.profile.columnar.spark import java_executable, spark_session


def missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install 'relcrm[spark]')"
    if importlib.util.find_spec("sqlglot") is None:
        return "SQLGlot is not installed (pip install 'relcrm[spark]')"
    if java_executable() is None:
        return "no Java runtime (Debian: apt-get install openjdk-17-jre-headless)"
    return None


def require_spark() -> None:
    _require(missing())


def require_sqlglot() -> None:
    """Transpiling needs SQLGlot only (no JVM)."""
    found = importlib.util.find_spec("sqlglot") is not None
    _require(None if found else "SQLGlot is not installed (pip install 'relcrm[spark]')")


def _require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Spark tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] session: 4 shuffle partitions, no UI, 1 GB driver, bound to 127.0.0.1."""
    require_spark()
    session = spark_session("local[2]", app_name="relcrm-tests")
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
