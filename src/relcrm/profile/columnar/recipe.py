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
from relcrm.profile.columnar.details import details_sql, peeves_sql
from relcrm.profile.columnar.judgement import final_select
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


def parameters(query: str, now: datetime) -> list[int]:
    """Every ``?`` of the recipe is the as-of time in microseconds."""
    return [inputs.micros(now)] * query.count("?")


@dataclass(frozen=True, slots=True)
class ColumnarResult:
    """The recipe's rows (dicts keyed by column name), one a person, ordered by id."""

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
    connection: Any, now: datetime, config: ProfileConfig = DEFAULT_CONFIG
) -> ColumnarResult:
    """Run the recipe on a DuckDB connection holding ``perceptions`` and ``persons``."""
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
