"""Persons and perceptions as typed columns, loaded into DuckDB without pydantic.

One row a perception (the signals it carries side by side, defaults filled in) and one
row a person (the behaviour facts). Times are UTC microseconds since the epoch, so the
recipe's SQL needs no dialect's date functions. Rows come from JSON-shaped dicts (what
the store holds, or ``model_dump(mode="json")``), so reading the store in bulk never
builds a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from relcrm.models import Perception, Person

EMOTION_KEYS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")
"""The emotions in WHEEL order (``relcrm.profile.observations.emotion_vector``)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PERCEPTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),
    ("person_id", "VARCHAR"),
    ("occurred_us", "BIGINT"),
    ("occurred_at", "VARCHAR"),
    ("occurred_day", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("topic", "VARCHAR"),
    ("public", "BOOLEAN"),
    ("nps", "INTEGER"),
    ("csat_value", "DOUBLE"),
    ("csat_min", "INTEGER"),
    ("csat_max", "INTEGER"),
    ("ces_value", "DOUBLE"),
    ("ces_min", "INTEGER"),
    ("ces_max", "INTEGER"),
    ("ces_ease", "BOOLEAN"),
    ("valence", "DOUBLE"),
    ("arousal", "DOUBLE"),
    ("confidence", "DOUBLE"),
    *((f"e_{key}", "DOUBLE") for key in EMOTION_KEYS),
    ("churn_intent", "BOOLEAN"),
    ("trapped", "BOOLEAN"),
    ("sarcasm", "BOOLEAN"),
)

PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),
    ("customer_since_us", "BIGINT"),
    ("last_purchase_us", "BIGINT"),
    ("purchases_last_365d", "BIGINT"),
    ("renewals", "BIGINT"),
    ("renewed_last_term", "BOOLEAN"),
    ("expected_purchases_per_year", "DOUBLE"),
    ("behavioural_loyalty", "DOUBLE"),
)


def micros(moment: datetime) -> int:
    """Exact microseconds since the epoch (timedelta arithmetic, no float)."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _when(text: str | None) -> int | None:
    return None if text is None else micros(datetime.fromisoformat(text))


def perception_row(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """One perception's column values from its JSON shape."""
    csat = data.get("csat") or {}
    ces = data.get("ces") or {}
    nps = data.get("nps")
    emotions = data.get("emotions") or {}
    flags = data.get("flags") or {}
    occurred = datetime.fromisoformat(data["occurred_at"])
    return (
        data["id"],
        data["person_id"],
        micros(occurred),
        data["occurred_at"],
        occurred.date().isoformat(),  # the day in the source's own offset, as reasons say it
        data["channel"],
        data.get("topic") or data.get("touchpoint"),
        bool(data.get("public", False)),
        None if nps is None else int(nps["value"]),
        csat.get("value"),
        csat.get("scale_min", 1) if csat else None,
        csat.get("scale_max", 5) if csat else None,
        ces.get("value"),
        ces.get("scale_min"),
        ces.get("scale_max"),
        (ces.get("direction") == "ease") if ces else None,
        data.get("valence"),
        data.get("arousal"),
        data.get("confidence"),
        *(float(emotions.get(key, 0.0)) for key in EMOTION_KEYS),
        bool(flags.get("churn_intent", False)),
        bool(flags.get("trapped", False)),
        bool(flags.get("sarcasm", False)),
    )


def person_row(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """One person's column values from its JSON shape."""
    facts = data.get("facts") or {}
    return (
        data["id"],
        _when(facts.get("customer_since")),
        _when(facts.get("last_purchase_at")),
        facts.get("purchases_last_365d"),
        facts.get("renewals"),
        facts.get("renewed_last_term"),
        facts.get("expected_purchases_per_year"),
        facts.get("behavioural_loyalty"),
    )


def perception_rows_of_models(perceptions: Iterable[Perception]) -> list[tuple[Any, ...]]:
    return [perception_row(p.model_dump(mode="json")) for p in perceptions]


def person_rows_of_models(persons: Iterable[Person]) -> list[tuple[Any, ...]]:
    return [person_row(p.model_dump(mode="json")) for p in persons]


def perception_rows_of_json(texts: Iterable[str]) -> list[tuple[Any, ...]]:
    """Rows from the store's JSON text, parsed with ``json`` (no validation: the store
    only holds perceptions that were validated when they were ingested)."""
    return [perception_row(json.loads(text)) for text in texts]


def person_rows_of_json(texts: Iterable[str]) -> list[tuple[Any, ...]]:
    return [person_row(json.loads(text)) for text in texts]


def load_table(
    connection: Any,
    name: str,
    columns: tuple[tuple[str, str], ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """Create table ``name`` holding ``rows``, one bound list a column.

    Duplicate ids keep their first row, as the reference engine does. The load uses
    DuckDB's ``UNNEST`` of list parameters (DuckDB-specific: a Spark run reads the same
    columns from Parquet instead).
    """
    seen: set[tuple[Any, ...]] = set()
    unique: list[tuple[Any, ...]] = []
    key_width = 2 if name == "perceptions" else 1
    for row in rows:
        key = row[:key_width]
        if key not in seen:
            seen.add(key)
            unique.append(row)
    lists = [list(values) for values in zip(*unique, strict=True)] or [[] for _ in columns]
    selected = ", ".join(f"UNNEST(CAST(? AS {kind}[])) AS {column}" for column, kind in columns)
    connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {selected}", lists)


def perceptions_from_segments_sql(relation: str) -> str:
    """The recipe's ``perceptions`` input (``PERCEPTION_COLUMNS``) from a relation holding
    perception segments' columns (``relcrm.store.segments.columns.SEGMENT_COLUMNS``):
    what :func:`perception_row` computes from JSON, as SQL, so nothing is parsed."""
    emotions = ", ".join(f"e_{key}" for key in EMOTION_KEYS)
    return (
        "SELECT id, person_id, occurred_us, occurred_at, "
        "SUBSTR(occurred_at, 1, 10) AS occurred_day, channel, "
        "COALESCE(topic, touchpoint) AS topic, public, nps, csat_value, csat_min, csat_max, "
        "ces_value, ces_min, ces_max, "
        "CASE WHEN ces_value IS NULL THEN NULL ELSE ces_direction = 'ease' END AS ces_ease, "
        f"valence, arousal, confidence, {emotions}, churn_intent, trapped, sarcasm "
        f"FROM {relation}"
    )


def load_persons_json(connection: Any, texts: list[str]) -> None:
    """Create ``persons`` (``PERSON_COLUMNS``) from the persons' stored JSON, parsed by
    DuckDB: what :func:`person_row` computes in Python, for the store's canonical JSON
    (times as pydantic writes them, with an offset; numbers as JSON numbers)."""
    facts = {
        "customer_since_us": "epoch_us(CAST(data->>'$.facts.customer_since' AS TIMESTAMPTZ))",
        "last_purchase_us": "epoch_us(CAST(data->>'$.facts.last_purchase_at' AS TIMESTAMPTZ))",
        "purchases_last_365d": "CAST(data->>'$.facts.purchases_last_365d' AS BIGINT)",
        "renewals": "CAST(data->>'$.facts.renewals' AS BIGINT)",
        "renewed_last_term": "CAST(data->>'$.facts.renewed_last_term' AS BOOLEAN)",
        "expected_purchases_per_year": (
            "CAST(data->>'$.facts.expected_purchases_per_year' AS DOUBLE)"
        ),
        "behavioural_loyalty": "CAST(data->>'$.facts.behavioural_loyalty' AS DOUBLE)",
    }
    selected = ", ".join(
        f"CAST({facts[name]} AS {kind}) AS {name}" for name, kind in PERSON_COLUMNS[1:]
    )
    connection.execute(
        f"CREATE OR REPLACE TABLE persons AS SELECT CAST(data->>'$.id' AS VARCHAR) AS id, "
        f"{selected} FROM (SELECT UNNEST(CAST(? AS VARCHAR[])) AS data)",
        [texts],
    )
