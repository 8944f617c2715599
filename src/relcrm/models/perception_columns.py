"""A perception as one row of typed columns: the layout both the columnar ingest
(``relcrm.sources.interchange_columnar``) and the perception segments
(``relcrm.store.segments``) use. It lives with the model because both layers read it and
neither may import the other."""

from __future__ import annotations

EMOTION_KEYS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")

SEGMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),
    ("person_id", "VARCHAR"),
    ("occurred_at", "VARCHAR"),
    ("occurred_us", "BIGINT"),
    ("channel", "VARCHAR"),
    ("touchpoint", "VARCHAR"),
    ("topic", "VARCHAR"),
    ("public", "BOOLEAN"),
    ("nps", "INTEGER"),
    ("nps_kind", "VARCHAR"),
    ("csat_value", "DOUBLE"),
    ("csat_min", "INTEGER"),
    ("csat_max", "INTEGER"),
    ("ces_value", "DOUBLE"),
    ("ces_version", "VARCHAR"),
    ("ces_min", "INTEGER"),
    ("ces_max", "INTEGER"),
    ("ces_direction", "VARCHAR"),
    ("valence", "DOUBLE"),
    ("arousal", "DOUBLE"),
    *((f"e_{key}", "DOUBLE") for key in EMOTION_KEYS),
    ("churn_intent", "BOOLEAN"),
    ("sarcasm", "BOOLEAN"),
    ("trapped", "BOOLEAN"),
    ("verbatim", "VARCHAR"),
    ("confidence", "DOUBLE"),
    ("source_system", "VARCHAR"),
    ("source_record_id", "VARCHAR"),
    ("analyzer", "VARCHAR"),
    ("analyzer_version", "VARCHAR"),
)
"""Name and DuckDB type of each column, in file order. Never reorder: segments written
by an earlier version are read by name, but appending keeps old files readable as they
are (a new column is added at the end and read as NULL from older segments)."""
