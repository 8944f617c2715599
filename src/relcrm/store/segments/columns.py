"""A perception as one row of typed columns: the layout of perception segments.

Every field of :class:`relcrm.models.Perception` has a column (nested models flattened),
so a row gives the model back exactly (:func:`perception_of`) and the profile recipe
reads the columns it needs without parsing JSON. ``occurred_at`` keeps the text the model
serialises to (its own UTC offset, which the reasons quote as a day); ``occurred_us`` is
the same instant in UTC microseconds, which the recipe and every time filter use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from relcrm.models import Perception
from relcrm.models.perception_columns import EMOTION_KEYS as EMOTION_KEYS
from relcrm.models.perception_columns import SEGMENT_COLUMNS as SEGMENT_COLUMNS

COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in SEGMENT_COLUMNS)

SegmentRow = tuple[Any, ...]
"""One perception's values in ``SEGMENT_COLUMNS`` order."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Exact UTC microseconds since the epoch (timedelta arithmetic, no float)."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def segment_row(perception: Perception) -> SegmentRow:
    """The perception's column values (what :func:`perception_of` reads back)."""
    data = perception.model_dump(mode="json")
    nps = data["nps"]
    csat = data["csat"]
    ces = data["ces"]
    emotions = data["emotions"]
    flags = data["flags"]
    source = data["provenance"]
    return (
        data["id"],
        data["person_id"],
        data["occurred_at"],
        micros(perception.occurred_at),
        data["channel"],
        data["touchpoint"],
        data["topic"],
        data["public"],
        None if nps is None else nps["value"],
        None if nps is None else nps["kind"],
        None if csat is None else csat["value"],
        None if csat is None else csat["scale_min"],
        None if csat is None else csat["scale_max"],
        None if ces is None else ces["value"],
        None if ces is None else ces["version"],
        None if ces is None else ces["scale_min"],
        None if ces is None else ces["scale_max"],
        None if ces is None else ces["direction"],
        data["valence"],
        data["arousal"],
        *(emotions[key] for key in EMOTION_KEYS),
        flags["churn_intent"],
        flags["sarcasm"],
        flags["trapped"],
        data["verbatim"],
        data["confidence"],
        source["source_system"],
        source["source_record_id"],
        source["analyzer"],
        source["analyzer_version"],
    )


def perception_data(row: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    """The perception's JSON shape from its columns (a mapping by name, or a sequence in
    ``SEGMENT_COLUMNS`` order): what :meth:`Perception.model_validate` takes back."""
    value = dict(row) if isinstance(row, Mapping) else dict(zip(COLUMN_NAMES, row, strict=True))
    data: dict[str, Any] = {
        "id": value["id"],
        "person_id": value["person_id"],
        "occurred_at": value["occurred_at"],
        "channel": value["channel"],
        "touchpoint": value["touchpoint"],
        "topic": value["topic"],
        "public": bool(value["public"]),
        "nps": None
        if value["nps"] is None
        else {"value": int(value["nps"]), "kind": value["nps_kind"]},
        "csat": None
        if value["csat_value"] is None
        else {
            "value": value["csat_value"],
            "scale_min": value["csat_min"],
            "scale_max": value["csat_max"],
        },
        "ces": None
        if value["ces_value"] is None
        else {
            "value": value["ces_value"],
            "version": value["ces_version"],
            "scale_min": value["ces_min"],
            "scale_max": value["ces_max"],
            "direction": value["ces_direction"],
        },
        "valence": value["valence"],
        "arousal": value["arousal"],
        "emotions": {key: value[f"e_{key}"] for key in EMOTION_KEYS},
        "flags": {
            "churn_intent": bool(value["churn_intent"]),
            "sarcasm": bool(value["sarcasm"]),
            "trapped": bool(value["trapped"]),
        },
        "verbatim": value["verbatim"],
        "confidence": value["confidence"],
        "provenance": {
            "source_system": value["source_system"],
            "source_record_id": value["source_record_id"],
            "analyzer": value["analyzer"],
            "analyzer_version": value["analyzer_version"],
        },
    }
    return data


def perception_of(row: Mapping[str, Any] | Sequence[Any]) -> Perception:
    """The perception a row holds (validated again: a segment file is outside the
    database, so what it says is checked before a profile or a CRM trusts it)."""
    return Perception.model_validate(perception_data(row))


def utc_from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)
