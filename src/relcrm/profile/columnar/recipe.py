"""Run the columnar recipe on DuckDB and hand back one row of profile fields a person."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relcrm.errors import InputError
from relcrm.models import Perception, Person
from relcrm.profile.columnar import inputs, sentences, sql
from relcrm.profile.columnar._duckdb import duckdb_module
from relcrm.profile.columnar.details import (
    details_duckdb,
    details_sql,
    peeve_ctes,
    peeves_sql,
)
from relcrm.profile.columnar.judgement import final_projection, final_select, judgement_ctes
from relcrm.profile.config import ProfileConfig

DEFAULT_CONFIG = ProfileConfig()

COLUMNAR_FIELDS: tuple[str, ...] = (
    "evidence",
    "attitude",
    "health",
    "band",
    "public_advocacy",
    "emotion_profile",
    "dominant_emotion",
    "emotion_dyad",
    "behavioural_loyalty",
    "archetype",
    "archetype_detail",
    "segment",
    "trend.direction",
    "trend.attitude_before",
    "trend.delta",
    "last_nps",
    "last_nps_category",
    "csat",
    "ces",
    "escalation",
    "churn_risk",
    "needs_outreach",
    "perceptions_considered",
    "last_nps_at",
    "pet_peeves",
    "outreach_reason",
    "reasons",
)
"""Every field of ``RelationshipProfile`` but the constants (``person_id``, ``as_of``,
``model_version``, ``trend.window_days``): the numbers and categories from SQL, the
sentences formatted in Python from the per-person aggregates (``sentences``)."""


def recipe_sql(config: ProfileConfig = DEFAULT_CONFIG) -> str:
    """The whole recipe as one query; its ``?`` parameters are all the as-of in
    microseconds (see :func:`parameters`)."""
    return (
        "WITH"
        + sql._observations(config)
        + ","
        + sql._aggregates(config)
        + ","
        + sql._loyalty(config)
        + ","
        + sql._emotions(config)
        + ","
        + final_select(config)
    )


READ_COLUMNS: tuple[str, ...] = (
    "person_id",
    "evidence",
    "attitude",
    "health",
    "band",
    "public_advocacy",
    *inputs.EMOTION_KEYS,
    "dominant",
    "dyad",
    "behavioural_loyalty",
    "archetype",
    "archetype_detail",
    "segment",
    "trend_direction",
    "attitude_before",
    "trend_delta",
    "last_nps",
    "last_nps_category",
    "csat_count",
    "csat_mean_valence",
    "csat_top_box_share",
    "ces_count",
    "ces_mean_valence",
    "ces_easy_share",
    "escalation",
    "churn_risk",
    "needs_outreach",
    "perceptions_considered",
    "tenure_days",
    "basis",
    "churn_w",
)
"""The recipe's columns a profile and its sentences read (``field_values``,
``stored.profile_fields``, ``sentences``): what :func:`combined_sql` fetches of the
recipe, beside every column of the details. The recipe's other columns are steps on the
way (sums, flags, the grid before the judgement); fetching them would cost a fifth of
the fetch."""


def combined_sql(config: ProfileConfig = DEFAULT_CONFIG) -> str:
    """DuckDB only: the recipe, the details and the pet peeves (a list a person) as one
    query, one row a person ordered by id.

    The three portable queries (``recipe_sql``, ``details_sql``, ``peeves_sql``: what Spark
    and ``--emit-sql`` run) each recompute the observations; here DuckDB computes them once
    for all three, and the caller fetches one row a person instead of merging three
    results. Its columns are the recipe's ``READ_COLUMNS``, then the details' and
    ``peeve_topics``, ``peeve_weights``, ``peeve_mentions`` (NULL for a person without pet
    peeves).
    """
    detail_ctes, detail_projection = details_duckdb(config)
    observations = sql._observations(config, keep_obs=True)
    return f"""WITH{observations},{sql._aggregates(config)},{sql._loyalty(config)},
{sql._emotions(config)},{judgement_ctes(config)},
{detail_ctes},
{peeve_ctes(config)},
recipe_rows AS (
{final_projection(config)}
),
detail_rows AS (
{detail_projection}
),
peeve_lists AS (
  SELECT person_id, LIST(topic ORDER BY rn) AS peeve_topics,
    LIST(negative_weight ORDER BY rn) AS peeve_weights,
    LIST(mentions ORDER BY rn) AS peeve_mentions
  FROM ranked WHERE rn <= {int(config.pet_peeve_count)}
  GROUP BY person_id
)
SELECT {", ".join(f"recipe_rows.{name}" for name in READ_COLUMNS)},
  detail_rows.* EXCLUDE (person_id), peeve_lists.* EXCLUDE (person_id)
FROM recipe_rows
JOIN detail_rows ON detail_rows.person_id = recipe_rows.person_id
LEFT JOIN peeve_lists ON peeve_lists.person_id = recipe_rows.person_id
ORDER BY recipe_rows.person_id"""


def parameters(query: str, now: datetime) -> list[int]:
    """Every ``?`` of the recipe is the as-of time in microseconds."""
    return [inputs.micros(now)] * query.count("?")


@dataclass(frozen=True, slots=True)
class ColumnarResult:
    """The recipe's rows (dicts keyed by column name), one a person, ordered by id: on
    DuckDB the recipe's ``READ_COLUMNS`` and the details', through the three portable
    queries (Spark) every column of each."""

    as_of: datetime
    rows: list[dict[str, Any]]

    def by_person(self) -> dict[str, dict[str, Any]]:
        return {row["person_id"]: row for row in self.rows}


def _check_clock(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError(
            f"the clock must carry a time zone; got naive {now.isoformat()}",
            code="profile.naive_clock",
            hint="pass datetime.now(timezone.utc) or another aware datetime",
        )


def run_recipe(
    connection: Any,
    now: datetime,
    config: ProfileConfig = DEFAULT_CONFIG,
    *,
    combined: bool = True,
) -> ColumnarResult:
    """Run the recipe on a DuckDB connection holding ``perceptions`` and ``persons``.

    ``combined=False`` runs the three portable queries instead of DuckDB's one (an engine
    that reads DuckDB's SQL through SQLGlot: ``relcrm.profile.columnar.spark``)."""
    if combined:
        return ColumnarResult(now, list(iter_recipe_rows(connection, now, config)))
    _check_clock(now)
    rows = _fetch(connection, recipe_sql(config), now)
    details = {row["person_id"]: row for row in _fetch(connection, details_sql(config), now)}
    peeves: dict[str, list[dict[str, Any]]] = {}
    for peeve in _fetch(connection, peeves_sql(config), now):
        peeves.setdefault(peeve.pop("person_id"), []).append(peeve)
    for row in rows:
        row.update(details[row["person_id"]])
        mine = peeves.get(row["person_id"], [])
        row["pet_peeves"] = [
            {
                "topic": p["topic"],
                "negative_weight": p["negative_weight"],
                "mentions": p["mentions"],
            }
            for p in mine
        ]
        row["reasons"] = list(sentences.reasons(row, [p["topic"] for p in mine], config))
        row["outreach_reason"] = sentences.outreach_reason(row, config)
    return ColumnarResult(now, rows)


def iter_recipe_rows(
    connection: Any, now: datetime, config: ProfileConfig = DEFAULT_CONFIG
) -> Iterator[dict[str, Any]]:
    """The rows :func:`run_recipe` returns, one a person by id (see
    :func:`iter_recipe_batches`)."""
    for batch in iter_recipe_batches(connection, now, config):
        yield from batch


def iter_recipe_batches(
    connection: Any,
    now: datetime,
    config: ProfileConfig = DEFAULT_CONFIG,
    *,
    batch: int = 10_000,
) -> Iterator[list[dict[str, Any]]]:
    """The recipe's rows from DuckDB's one query (:func:`combined_sql`), ``batch`` rows
    at a time, sentences formatted: a caller that saves as it goes holds one batch of
    rows, not every row."""
    cursor = execute_recipe(connection, now, config)
    names = [d[0] for d in cursor.description]
    while chunk := cursor.fetchmany(batch):
        yield recipe_rows(names, chunk, config)


def execute_recipe(connection: Any, now: datetime, config: ProfileConfig = DEFAULT_CONFIG) -> Any:
    """Run :func:`combined_sql` on a DuckDB connection; return it to fetch from (its
    ``description`` names the columns :func:`recipe_rows` reads)."""
    _check_clock(now)
    query = combined_sql(config)
    return connection.execute(query, parameters(query, now))


def recipe_rows(
    names: list[str], values: Iterable[tuple[Any, ...]], config: ProfileConfig = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    """:func:`combined_sql`'s rows (columns ``names``) as :func:`run_recipe`'s rows: the
    pet peeves as a list of dicts, and the reason and outreach sentences formatted."""
    reasons, outreach = sentences.reasons, sentences.outreach_reason
    rows = []
    for value in values:
        row = dict(zip(names, value, strict=True))
        topics = row.pop("peeve_topics") or []
        row["pet_peeves"] = [
            {"topic": topic, "negative_weight": weight, "mentions": mentions}
            for topic, weight, mentions in zip(
                topics,
                row.pop("peeve_weights") or [],
                row.pop("peeve_mentions") or [],
                strict=True,
            )
        ]
        row["reasons"] = list(reasons(row, topics, config))
        row["outreach_reason"] = outreach(row, config)
        rows.append(row)
    return rows


def _fetch(connection: Any, query: str, now: datetime) -> list[dict[str, Any]]:
    cursor = connection.execute(query, parameters(query, now))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def connect_with(person_rows: list[tuple[Any, ...]], perception_rows: list[tuple[Any, ...]]) -> Any:
    """An in-memory DuckDB connection holding the two input tables."""
    duckdb = duckdb_module()
    connection = duckdb.connect(":memory:")
    inputs.load_table(connection, "persons", inputs.PERSON_COLUMNS, person_rows)
    inputs.load_table(connection, "perceptions", inputs.PERCEPTION_COLUMNS, perception_rows)
    return connection


def profile_columnar(
    persons: Iterable[Person],
    perceptions: Iterable[Perception],
    now: datetime,
    config: ProfileConfig = DEFAULT_CONFIG,
) -> ColumnarResult:
    """Profile models through the columnar recipe (tests, small batches)."""
    _check_clock(now)
    connection = connect_with(
        inputs.person_rows_of_models(persons), inputs.perception_rows_of_models(perceptions)
    )
    try:
        return run_recipe(connection, now, config)
    finally:
        connection.close()


def field_values(row: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The declared fields of one row, named as on ``RelationshipProfile`` (dotted for
    nested models), with the model's own value types: what tests compare and what
    :func:`relcrm.profile.columnar.models.apply` writes."""
    yield "evidence", row["evidence"]
    yield "attitude", row["attitude"]
    yield "health", row["health"]
    yield "band", row["band"]
    yield "public_advocacy", row["public_advocacy"]
    yield "emotion_profile", {key: row[key] for key in inputs.EMOTION_KEYS}
    yield "dominant_emotion", row["dominant"] if row["dominant"] is not None else "none"
    yield "emotion_dyad", row["dyad"]
    yield "behavioural_loyalty", row["behavioural_loyalty"]
    yield "archetype", row["archetype"]
    yield "archetype_detail", row["archetype_detail"]
    yield "segment", row["segment"]
    yield "trend.direction", row["trend_direction"]
    yield "trend.attitude_before", row["attitude_before"]
    yield "trend.delta", row["trend_delta"]
    yield "last_nps", None if row["last_nps"] is None else int(row["last_nps"])
    yield "last_nps_category", row["last_nps_category"]
    yield (
        "csat",
        {
            "count": int(row["csat_count"]),
            "mean_valence": row["csat_mean_valence"],
            "top_box_share": row["csat_top_box_share"],
        },
    )
    yield (
        "ces",
        {
            "count": int(row["ces_count"]),
            "mean_valence": row["ces_mean_valence"],
            "easy_share": row["ces_easy_share"],
        },
    )
    yield "escalation", bool(row["escalation"])
    yield "churn_risk", bool(row["churn_risk"])
    yield "needs_outreach", bool(row["needs_outreach"])
    yield "perceptions_considered", int(row["perceptions_considered"])
    yield "last_nps_at", None if row["nps_at"] is None else datetime.fromisoformat(row["nps_at"])
    yield (
        "pet_peeves",
        [
            {**p, "mentions": int(p["mentions"]), "negative_weight": float(p["negative_weight"])}
            for p in row["pet_peeves"]
        ],
    )
    yield "outreach_reason", row["outreach_reason"]
    yield "reasons", list(row["reasons"])
