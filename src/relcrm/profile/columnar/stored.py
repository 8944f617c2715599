"""The stored form of a profile straight from a recipe row, without building the model.

``Store.save_profiles`` keeps each profile as ``RelationshipProfile.model_dump_json()``
next to a few query columns, and records a history row (segment, health, band, attitude,
behavioural loyalty). Building and validating one model a person only to serialise it
costs more than the recipe itself at 100,000 persons, so this module writes the same
text from the row's plain values with pydantic-core's own encoder: same key order
(the model's field order), same float, datetime and string encoding, every default
included, NaN and infinity as ``null``. Models are built only when a caller reads the
profiles back (``Store.iter_profiles`` validates them then).

The text is byte-for-byte what the model path stores for ``models.profile_of(row)``;
``tests/profile_columnar/test_stored_*.py`` hold that on random persons.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic_core import to_json

from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.columnar.recipe import ColumnarResult
from relcrm.profile.config import ProfileConfig

# What pydantic's ``str_strip_whitespace`` trims (Rust's ``str::trim``: Unicode
# White_Space). Python's ``str.strip()`` would trim more (U+001C..U+001F).
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class StoredProfile(NamedTuple):
    """One profile as the store writes it: the ``profiles`` columns in table order, then
    the values its history row keeps. Plain values, cheap to build and to send."""

    person_id: str
    as_of: datetime
    """In UTC, as the ``as_of`` column holds it."""
    model_version: str
    segment: str
    health: float
    data: str
    """The profile's JSON text, as ``RelationshipProfile.model_dump_json()`` writes it."""
    band: str
    attitude: float
    behavioural_loyalty: float | None


def _text(value: str) -> str:
    return value.strip(_WHITESPACE)


def _maybe_text(value: str | None) -> str | None:
    return None if value is None else value.strip(_WHITESPACE)


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)


def profile_fields(
    row: Mapping[str, Any], as_of: datetime, config: ProfileConfig
) -> dict[str, Any]:
    """The profile's fields from one recipe row, in ``RelationshipProfile``'s field order and
    with the values its validation would give (floats as floats, whitespace trimmed): the
    same mapping as :func:`relcrm.profile.columnar.recipe.field_values`, flattened into the
    model's shape."""
    nps = row["last_nps"]
    nps_at = row["nps_at"]
    return {
        "person_id": _text(row["person_id"]),
        "as_of": as_of,
        "model_version": _text(config.model_version),
        "evidence": float(row["evidence"]),
        "attitude": float(row["attitude"]),
        "health": float(row["health"]),
        "band": row["band"],
        "public_advocacy": _maybe_float(row["public_advocacy"]),
        "emotion_profile": {key: float(row[key]) for key in EMOTION_KEYS},
        "dominant_emotion": row["dominant"] if row["dominant"] is not None else "none",
        "emotion_dyad": _maybe_text(row["dyad"]),
        "behavioural_loyalty": _maybe_float(row["behavioural_loyalty"]),
        "archetype": row["archetype"],
        "archetype_detail": row["archetype_detail"],
        "segment": row["segment"],
        "trend": {
            "direction": row["trend_direction"],
            "window_days": config.trend_window_days,
            "attitude_before": _maybe_float(row["attitude_before"]),
            "delta": _maybe_float(row["trend_delta"]),
        },
        "last_nps": None if nps is None else int(nps),
        "last_nps_at": None if nps_at is None else datetime.fromisoformat(nps_at),
        "last_nps_category": row["last_nps_category"],
        "csat": {
            "count": int(row["csat_count"]),
            "mean_valence": _maybe_float(row["csat_mean_valence"]),
            "top_box_share": _maybe_float(row["csat_top_box_share"]),
        },
        "ces": {
            "count": int(row["ces_count"]),
            "mean_valence": _maybe_float(row["ces_mean_valence"]),
            "easy_share": _maybe_float(row["ces_easy_share"]),
        },
        "escalation": bool(row["escalation"]),
        "churn_risk": bool(row["churn_risk"]),
        "needs_outreach": bool(row["needs_outreach"]),
        "outreach_reason": _maybe_text(row["outreach_reason"]),
        "pet_peeves": [
            {
                "topic": _text(peeve["topic"]),
                "negative_weight": float(peeve["negative_weight"]),
                "mentions": int(peeve["mentions"]),
            }
            for peeve in row["pet_peeves"]
        ],
        "reasons": [_text(reason) for reason in row["reasons"]],
        "perceptions_considered": int(row["perceptions_considered"]),
    }


def profile_json(row: Mapping[str, Any], as_of: datetime, config: ProfileConfig) -> str:
    """The JSON text ``Store.save_profiles`` stores for ``models.profile_of(row)``, built
    without the model. ``as_of`` is the run's clock, in the zone the model would keep."""
    # The model's serialiser writes NaN and infinity as null (pydantic's default);
    # to_json's own default would write them as constants.
    return to_json(profile_fields(row, as_of, config), inf_nan_mode="null").decode()


def stored_profile(row: Mapping[str, Any], as_of: datetime, config: ProfileConfig) -> StoredProfile:
    """Everything the store writes for one recipe row: its ``profiles`` row and the values
    of its history row."""
    fields = profile_fields(row, as_of, config)
    return StoredProfile(
        person_id=fields["person_id"],
        as_of=as_of.astimezone(UTC),
        model_version=fields["model_version"],
        segment=fields["segment"],
        health=fields["health"],
        data=to_json(fields, inf_nan_mode="null").decode(),
        band=fields["band"],
        attitude=fields["attitude"],
        behavioural_loyalty=fields["behavioural_loyalty"],
    )


def stored_profiles(result: ColumnarResult, config: ProfileConfig) -> Iterator[StoredProfile]:
    """Every person's stored profile, by person id, with no model built."""
    for row in result.rows:
        yield stored_profile(row, result.as_of, config)


__all__ = ["StoredProfile", "profile_fields", "profile_json", "stored_profile", "stored_profiles"]
