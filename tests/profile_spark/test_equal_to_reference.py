"""The issue's test: the recipe on PySpark (local mode), 100,000 perceptions of 10,000
persons, every profile field equal to the reference engine's."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relcrm.models import Perception, Person
from relcrm.profile import build_profile
from relcrm.profile.columnar import COLUMNAR_FIELDS, ColumnarResult, field_values, profiles_of
from relcrm.profile.columnar.spark import SparkInputs, run_recipe_spark, write_parquet_inputs
from relcrm.profile.config import ProfileConfig
from relcrm.testing.synthetic import generate_bulk, generate_sample
from tests.profile_columnar.compare import reference_value, same

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PERSONS = 10_000
PER_PERSON = 10


def _data() -> tuple[list[Person], list[Perception]]:
    """The bulk generator's 100,000 perceptions, plus the shipped sample (twins, stated
    intent, thin evidence) and one person with no perception at all."""
    items = list(
        generate_bulk(persons=PERSONS, perceptions_per_person=PER_PERSON, seed=15, now=NOW)
    )
    sample = generate_sample(now=NOW)
    persons = [i for i in items if isinstance(i, Person)] + list(sample.persons)
    persons.append(Person.model_validate({"id": "nobody-said-anything"}))
    perceptions = [i for i in items if isinstance(i, Perception)] + list(sample.perceptions)
    return persons, perceptions


def _parquet(tmp: Path, persons: list[Person], perceptions: list[Perception]) -> SparkInputs:
    return write_parquet_inputs(
        [p.model_dump_json() for p in persons], [p.model_dump_json() for p in perceptions], tmp
    )


def _differences(
    persons: list[Person],
    perceptions: list[Perception],
    rows: dict[str, dict[str, Any]],
    now: datetime,
) -> list[str]:
    grouped: dict[str, list[Perception]] = defaultdict(list)
    for perception in perceptions:
        grouped[perception.person_id].append(perception)
    found: list[str] = []
    for person in persons:
        reference = build_profile(person, grouped.get(person.id, []), now)
        spark_values = dict(field_values(rows[person.id]))
        assert set(spark_values) == set(COLUMNAR_FIELDS)
        for name in COLUMNAR_FIELDS:
            expected = reference_value(reference, name)
            if not same(spark_values[name], expected):
                found.append(f"{person.id} {name}: {spark_values[name]!r} != {expected!r}")
    return found


@dataclass(frozen=True)
class Bulk:
    persons: list[Person]
    perceptions: list[Perception]
    result: ColumnarResult
    seconds: float


@pytest.fixture(scope="module")
def bulk(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bulk]:
    """One Spark run of the recipe on the 100,000 perceptions, read as Spark tables
    (views over the Parquet files; the CLI test reads Parquet directly)."""
    persons, perceptions = _data()
    where = _parquet(tmp_path_factory.mktemp("bulk"), persons, perceptions)
    spark.read.parquet(where.persons).createOrReplaceTempView("crm_persons")
    spark.read.parquet(where.perceptions).createOrReplaceTempView("crm_perceptions")
    try:
        started = time.perf_counter()
        result = run_recipe_spark(
            spark, SparkInputs("crm_persons", "crm_perceptions", "table"), NOW
        )
        yield Bulk(persons, perceptions, result, time.perf_counter() - started)
    finally:
        spark.catalog.dropTempView("crm_persons")
        spark.catalog.dropTempView("crm_perceptions")


@pytest.mark.slow
def test_spark_equals_the_reference_on_100k_perceptions(bulk: Bulk) -> None:
    persons, perceptions, result = bulk.persons, bulk.perceptions, bulk.result
    assert len(perceptions) >= 100_000
    print(f"spark recipe on {len(perceptions)} perceptions: {bulk.seconds:.1f} s")

    rows = result.by_person()
    assert len(rows) == len(persons) == len(result.rows)
    assert [row["person_id"] for row in result.rows] == sorted(rows)
    assert _differences(persons, perceptions, rows, NOW) == []
    # The data reaches every corner that matters: segments, sentences, peeves.
    segments = Counter(row["segment"] for row in result.rows)
    assert len(segments) >= 7, segments
    assert sum(bool(row["pet_peeves"]) for row in result.rows) > PERSONS // 4
    assert rows["twin-trapped"]["segment"] == "trapped_and_vocal"
    assert rows["nobody-said-anything"]["perceptions_considered"] == 0
    # The models build from Spark's rows exactly as from DuckDB's.
    profiles = list(profiles_of(result, ProfileConfig()))
    assert len(profiles) == len(persons)


def test_a_difference_would_be_caught(bulk: Bulk) -> None:
    """Spark's rows against the reference at another as-of: the comparison fails."""
    some = bulk.persons[:200]
    wanted = {p.id for p in some}
    said = [p for p in bulk.perceptions if p.person_id in wanted]
    later = datetime(2027, 3, 1, tzinfo=UTC)
    assert len(_differences(some, said, bulk.result.by_person(), later)) > len(some)


def test_an_input_missing_or_without_a_declared_column_is_refused(
    spark: Any, tmp_path: Path
) -> None:
    from relcrm.errors import InputError

    sample = generate_sample(now=NOW)
    where = _parquet(tmp_path, list(sample.persons), list(sample.perceptions))
    spark.read.parquet(where.persons).createOrReplaceTempView("crm_who")
    spark.read.parquet(where.perceptions).drop("sarcasm").createOrReplaceTempView("crm_said")
    try:
        with pytest.raises(InputError) as raised:
            run_recipe_spark(spark, SparkInputs("crm_who", "crm_said", "table"), NOW)
        with pytest.raises(InputError) as absent:
            run_recipe_spark(spark, SparkInputs("crm_who", "no_such_table", "table"), NOW)
    finally:
        spark.catalog.dropTempView("crm_who")
        spark.catalog.dropTempView("crm_said")
    assert raised.value.code == "profile.input_invalid"
    assert "sarcasm" in str(raised.value)
    assert absent.value.code == "profile.input_invalid"
    assert "no_such_table" in str(absent.value)
