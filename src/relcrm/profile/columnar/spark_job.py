"""The recipe as a Spark job: inputs in, a profiles table out (issue 15).

``python -m relcrm.profile.columnar.spark_job`` or ``spark-submit .../spark_job.py``
(docs/scale.md): read persons and perceptions (Parquet or tables), run the recipe
(``spark.run_recipe_spark``), and write one row a person with the whole profile as JSON,
which ``relcrm profile --import-profiles`` saves into a relcrm store.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from relcrm.models import RelationshipProfile
from relcrm.profile.columnar.models import profiles_of
from relcrm.profile.columnar.recipe import DEFAULT_CONFIG
from relcrm.profile.columnar.spark import SparkInputs, run_recipe_spark, spark_session
from relcrm.profile.config import ProfileConfig

PROFILE_TABLE_DDL = (
    "person_id STRING, as_of TIMESTAMP, model_version STRING, segment STRING, band STRING, "
    "health DOUBLE, archetype STRING, archetype_detail STRING, needs_outreach BOOLEAN, "
    "churn_risk BOOLEAN, outreach_reason STRING, profile STRING"
)
"""The profiles table (``--out``): the columns a dashboard filters on, and the whole
profile as JSON (``RelationshipProfile.model_validate_json`` reads it back)."""


def profile_rows(profiles: Sequence[RelationshipProfile]) -> list[tuple[Any, ...]]:
    """Rows of the profiles table (``PROFILE_TABLE_DDL``)."""
    return [
        (
            p.person_id,
            p.as_of,
            p.model_version,
            p.segment.value,
            p.band.value,
            p.health,
            p.archetype.value,
            None if p.archetype_detail is None else p.archetype_detail.value,
            p.needs_outreach,
            p.churn_risk,
            p.outreach_reason,
            p.model_dump_json(),
        )
        for p in profiles
    ]


def write_profiles(
    session: Any, profiles: Sequence[RelationshipProfile], out: str, *, kind: str = "parquet"
) -> None:
    """Write the profiles table to a Parquet folder (``kind="parquet"``) or a Spark table
    (``kind="table"``), replacing what was there."""
    frame = session.createDataFrame(profile_rows(profiles), schema=PROFILE_TABLE_DDL)
    writer = frame.write.mode("overwrite")
    if kind == "table":
        writer.saveAsTable(out)
    else:
        writer.parquet(out)


def profile_job(
    session: Any,
    where: SparkInputs,
    now: datetime,
    out: str,
    *,
    out_kind: str = "parquet",
    config: ProfileConfig = DEFAULT_CONFIG,
) -> int:
    """A cluster job's whole run: read the inputs, profile, write the profiles table;
    how many profiles were written."""
    result = run_recipe_spark(session, where, now, config)
    profiles = list(profiles_of(result, config))
    write_profiles(session, profiles, out, kind=out_kind)
    return len(profiles)


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit .../relcrm/profile/columnar/spark_job.py --persons ... --perceptions
    ... --out ... --as-of ...``: the recipe as a Spark job (docs/scale.md)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--persons", required=True)
    parser.add_argument("--perceptions", required=True)
    parser.add_argument("--input-kind", choices=("parquet", "table"), default="parquet")
    parser.add_argument("--out", required=True)
    parser.add_argument("--out-kind", choices=("parquet", "table"), default="parquet")
    parser.add_argument("--as-of", required=True, help="ISO time with a zone")
    parser.add_argument("--master", default=None)
    options = parser.parse_args(argv)
    now = datetime.fromisoformat(options.as_of.replace("Z", "+00:00"))
    session = spark_session(options.master)
    where = SparkInputs(options.persons, options.perceptions, options.input_kind)
    written = profile_job(session, where, now, options.out, out_kind=options.out_kind)
    master = session.sparkContext.master
    print(f"relcrm: wrote {written} profiles to {options.out} (master {master})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
