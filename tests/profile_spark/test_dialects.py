"""The recipe transpiled to Spark SQL: no DuckDB-only construct survives, and the
compensated sum that replaces FSUM sums as math.fsum does where a plain SUM does not."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.profile_spark.conftest import require_sqlglot

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _sqlglot() -> None:
    require_sqlglot()


def _queries() -> dict[str, str]:
    from relcrm.profile.columnar.dialects import recipe_queries
    from relcrm.profile.columnar.inputs import micros

    return recipe_queries("spark", micros(NOW))


def test_no_duckdb_only_construct_is_left() -> None:
    for name, query in _queries().items():
        assert "FSUM" not in query.upper(), name
        assert "?" not in query, name
        assert "UNNEST" not in query.upper(), name
        assert str(1795348800000000) in query, name  # the as-of, as a literal


def test_every_fsum_became_a_null_safe_compensated_sum() -> None:
    from relcrm.profile import DEFAULT_CONFIG
    from relcrm.profile.columnar.details import peeves_sql
    from relcrm.profile.columnar.recipe import recipe_sql

    source = recipe_sql(DEFAULT_CONFIG) + peeves_sql(DEFAULT_CONFIG)
    fsums = len(re.findall(r"\bFSUM\(", source))
    spark = _queries()["recipe"] + _queries()["peeves"]
    assert fsums > 10
    assert spark.count("AGGREGATE(") == fsums
    assert spark.count("COLLECT_LIST(") == fsums


def test_input_tables_can_be_renamed() -> None:
    from relcrm.profile.columnar.dialects import transpile

    query = "SELECT p.id FROM perceptions p JOIN persons ON persons.id = p.person_id"
    spark = transpile(query, "spark", tables={"perceptions": "crm.said", "persons": "crm.who"})
    assert "crm.said AS p" in spark
    assert "crm.who AS persons" in spark


def test_parameters_must_match_and_be_integers() -> None:
    from relcrm.errors import ConfigurationError
    from relcrm.profile.columnar.dialects import transpile

    with pytest.raises(ConfigurationError) as raised:
        transpile("SELECT ? AS a, ? AS b", "spark", [1])
    assert raised.value.code == "profile.transpile_failed"
    with pytest.raises(ConfigurationError):
        transpile("SELECT ? AS a", "spark", ["1"])
    with pytest.raises(ConfigurationError) as unknown:
        transpile("SELECT 1", "postgres")
    assert "spark" in str(unknown.value)
    assert transpile("SELECT ? AS a, ? - 1 AS b", "spark", [7, 9]) == (
        "SELECT CAST(7 AS BIGINT) AS a, CAST(9 AS BIGINT) - 1 AS b"
    )


ADVERSARIAL: list[list[float | None]] = [
    [1e16, 1.0, -1e16],
    [0.1] * 10,
    [1e100, 1.0, -1e100, 1e-100],
    [12.5 / 3, 12.5 / 3, 12.5 / 3, -1e-17],
    [0.1, 0.2, 0.3, -0.6, 1e-16, None],
    [3.0, None, -2.5],
]


def _sums(spark: Any, query: str, groups: list[list[float | None]]) -> dict[int, Any]:
    rows = [(g, v) for g, values in enumerate(groups) for v in values]
    frame = spark.createDataFrame(rows, schema="g INT, x DOUBLE")
    frame.createOrReplaceTempView("relcrm_sum_test")
    try:
        return {row["g"]: row["s"] for row in spark.sql(query).collect()}
    finally:
        spark.catalog.dropTempView("relcrm_sum_test")


def test_the_compensated_sum_equals_math_fsum(spark: Any) -> None:
    from relcrm.profile.columnar.dialects import transpile

    query = transpile("SELECT g, FSUM(x) AS s FROM relcrm_sum_test GROUP BY g", "spark")
    got = _sums(spark, query, ADVERSARIAL)
    for group, values in enumerate(ADVERSARIAL):
        assert got[group] == math.fsum(v for v in values if v is not None), values


def test_a_plain_sum_would_not(spark: Any) -> None:
    """The test above can fail: Spark's own SUM loses the 1.0 next to 1e16."""
    got = _sums(spark, "SELECT g, SUM(x) AS s FROM relcrm_sum_test GROUP BY g", ADVERSARIAL[:1])
    assert got[0] != math.fsum(ADVERSARIAL[0])


def test_fsum_of_nothing_is_null_as_in_duckdb(spark: Any) -> None:
    from relcrm.profile.columnar.dialects import transpile

    query = transpile(
        "SELECT g, FSUM(CASE WHEN x > 100 THEN x END) AS s FROM relcrm_sum_test GROUP BY g",
        "spark",
    )
    got = _sums(spark, query, [[1.0, 2.0], [None], [150.0, None, 1.0]])
    assert got == {0: None, 1: None, 2: 150.0}
