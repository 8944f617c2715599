"""The stored form of a profile straight from a recipe row, without building the model.

``Store.save_profiles`` keeps each profile as ``RelationshipProfile.model_dump_json()``
next to a few query columns, and records a history row (segment, health, band, attitude,
behavioural loyalty). Building and validating one model a person only to serialise it
costs more than the recipe itself at 100,000 persons, so this module writes the same
text from the row's plain values: :func:`profile_json` with pydantic-core's own encoder
(same key order, the model's field order; same float, datetime and string encoding, every
default included, NaN and infinity as ``null``), and :func:`stored_profile` through
``encoded.ProfileEncoder`` (the same encoder with less Python work a person), held equal
to it. Models are built only when a caller reads the profiles back
(``Store.iter_profiles`` validates them then).

The text is byte-for-byte what the model path stores for ``models.profile_of(row)``;
``tests/profile_columnar/test_stored_*.py`` hold that on random persons.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic_core import to_json

from relcrm.profile.columnar.encoded import WHITESPACE, ProfileEncoder, StoredProfile
from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.columnar.recipe import ColumnarResult
from relcrm.profile.config import ProfileConfig

_WHITESPACE = WHITESPACE


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
        "emotion_profile": {key: float(row[key]) + 0.0 for key in EMOTION_KEYS},  # -0.0 is 0.0
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
    """Everything the store writes for one recipe row (a :func:`recipe_rows` row, pet peeves
    and sentences in it): its ``profiles`` row and the values of its history row. Its
    ``data`` is :func:`profile_json`'s text, assembled by :class:`ProfileEncoder`."""
    return _stored(ProfileEncoder(as_of, config), row)


def _stored(encoder: ProfileEncoder, row: Mapping[str, Any]) -> StoredProfile:
    peeves = [(p["topic"], p["negative_weight"], p["mentions"]) for p in row["pet_peeves"]]
    return encoder.stored(row, peeves, row["reasons"], row["outreach_reason"])


def stored_profiles(result: ColumnarResult, config: ProfileConfig) -> Iterator[StoredProfile]:
    """Every person's stored profile, by person id, with no model built."""
    encoder = ProfileEncoder(result.as_of, config)
    for row in result.rows:
        yield _stored(encoder, row)


__all__ = ["StoredProfile", "profile_fields", "profile_json", "stored_profile", "stored_profiles"]
