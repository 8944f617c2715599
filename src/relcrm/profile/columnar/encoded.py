"""A profile's stored JSON text from a recipe row, with as little Python work as it takes.

``stored.profile_json`` converts each value to the model's type (``float()``, ``int()``,
trimming) through helper calls, in a fresh dict a person, and hands it to pydantic-core's
encoder; at 100,000 persons that Python work costs more than the encoding. Here the run's
constants are prepared once and, when DuckDB's column types already are the model's
(``typed_columns``: DOUBLE gives a float or None, integer types an int), the numbers are
taken as they are, in one ``itemgetter`` call. pydantic-core still writes every byte
(floats, escapes, datetimes, NaN as null), so there is no second encoder to keep in step
(a template filled with ``repr`` floats was tried: slower, and a second encoder).

The text is byte-for-byte ``stored.profile_json``'s: ``tests/profile_columnar`` holds the
two equal on random persons and on odd values (exponents, ``-0.0``, NaN, escapes,
whitespace the model trims), typed and not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final

from pydantic_core import to_json

from relcrm.models.profile import StoredProfile
from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.config import ProfileConfig

WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What pydantic's ``str_strip_whitespace`` trims (Rust's ``str::trim``: Unicode
White_Space). Python's ``str.strip()`` would trim more (U+001C..U+001F)."""


Peeve = tuple[str, Any, Any]
"""A pet peeve as the recipe gives it: topic, negative weight, mentions."""


FLOATS: Final = (
    "evidence",
    "attitude",
    "health",
    "public_advocacy",
    *EMOTION_KEYS,
    "behavioural_loyalty",
    "attitude_before",
    "trend_delta",
    "csat_mean_valence",
    "csat_top_box_share",
    "ces_mean_valence",
    "ces_easy_share",
)
"""The recipe's columns a profile holds as floats (or null), in the encoder's order."""

INTS: Final = ("csat_count", "ces_count", "perceptions_considered")
"""The recipe's columns a profile holds as ints, after ``FLOATS``."""

NUMBERS: Final = (*FLOATS, *INTS)
_take_numbers = itemgetter(*NUMBERS)
_take_floats = itemgetter(*FLOATS)
_take_ints = itemgetter(*INTS)

_INTEGER_TYPES: Final = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT"}
    | {"UINTEGER", "UBIGINT", "UHUGEINT"}
)


def typed_columns(description: Sequence[Sequence[Any]]) -> bool:
    """Whether a DuckDB cursor's columns (its ``description``) give ``NUMBERS`` in the
    model's types: DOUBLE for ``FLOATS`` (a float or None), an integer type for ``INTS``
    (an int; these are never NULL in the recipe), so :meth:`ProfileEncoder.data` may take
    them as they are."""
    types = {str(column[0]): str(column[1]) for column in description}
    return all(types.get(name) == "DOUBLE" for name in FLOATS) and all(
        types.get(name) in _INTEGER_TYPES for name in INTS
    )


class ProfileEncoder:
    """Stored profiles of one run (one clock, one config): its constants prepared once."""

    def __init__(self, as_of: datetime, config: ProfileConfig) -> None:
        self.as_of = as_of
        self.as_of_utc = as_of.astimezone(UTC)
        self.model_version = config.model_version.strip(WHITESPACE)
        self.window_days = config.trend_window_days

    def data(
        self,
        row: Mapping[str, Any],
        peeves: Iterable[Peeve],
        reasons: Sequence[str],
        outreach: str | None,
        *,
        typed: bool = False,
    ) -> str:
        """The JSON text of one recipe row's profile (``stored.profile_json``'s bytes).

        ``typed``: the row's numbers already have the model's types (``NUMBERS``: a float
        or None, then ints), as DuckDB gives the recipe's DOUBLE and integer columns
        (:func:`typed_columns`); otherwise each is converted first."""
        if typed:
            n = _take_numbers(row)
        else:
            n = tuple(
                [None if v is None else float(v) for v in _take_floats(row)]
                + [int(v) for v in _take_ints(row)]
            )
        ws = WHITESPACE
        dominant, dyad, nps, nps_at = row["dominant"], row["dyad"], row["last_nps"], row["nps_at"]
        fields = {
            "person_id": row["person_id"].strip(ws),
            "as_of": self.as_of,
            "model_version": self.model_version,
            "evidence": n[0],
            "attitude": n[1],
            "health": n[2],
            "band": row["band"],
            "public_advocacy": n[3],
            "emotion_profile": {  # + 0.0: an intensity of -0.0 is 0.0, as in the model
                "joy": n[4] + 0.0,
                "trust": n[5] + 0.0,
                "fear": n[6] + 0.0,
                "surprise": n[7] + 0.0,
                "sadness": n[8] + 0.0,
                "disgust": n[9] + 0.0,
                "anger": n[10] + 0.0,
                "anticipation": n[11] + 0.0,
            },
            "dominant_emotion": dominant if dominant is not None else "none",
            "emotion_dyad": None if dyad is None else dyad.strip(ws),
            "behavioural_loyalty": n[12],
            "archetype": row["archetype"],
            "archetype_detail": row["archetype_detail"],
            "segment": row["segment"],
            "trend": {
                "direction": row["trend_direction"],
                "window_days": self.window_days,
                "attitude_before": n[13],
                "delta": n[14],
            },
            "last_nps": None if nps is None else int(nps),
            "last_nps_at": None if nps_at is None else datetime.fromisoformat(nps_at),
            "last_nps_category": row["last_nps_category"],
            "csat": {"count": n[19], "mean_valence": n[15], "top_box_share": n[16]},
            "ces": {"count": n[20], "mean_valence": n[17], "easy_share": n[18]},
            "escalation": bool(row["escalation"]),
            "churn_risk": bool(row["churn_risk"]),
            "needs_outreach": bool(row["needs_outreach"]),
            "outreach_reason": None if outreach is None else outreach.strip(ws),
            "pet_peeves": [
                {
                    "topic": topic.strip(ws),
                    "negative_weight": float(weight),
                    "mentions": int(mentions),
                }
                for topic, weight, mentions in peeves
            ],
            "reasons": [reason.strip(ws) for reason in reasons],
            "perceptions_considered": n[21],
        }
        # The model's serialiser writes NaN and infinity as null (pydantic's default).
        return to_json(fields, inf_nan_mode="null").decode()

    def stored(
        self,
        row: Mapping[str, Any],
        peeves: Iterable[Peeve],
        reasons: Sequence[str],
        outreach: str | None,
        *,
        typed: bool = False,
    ) -> StoredProfile:
        """Everything the store writes for one recipe row: its ``profiles`` row and the
        values of its history row (``typed``: see :meth:`data`)."""
        loyalty = row["behavioural_loyalty"]
        return StoredProfile(
            row["person_id"].strip(WHITESPACE),
            self.as_of_utc,
            self.model_version,
            row["segment"],
            float(row["health"]),
            self.data(row, peeves, reasons, outreach, typed=typed),
            row["band"],
            float(row["attitude"]),
            None if loyalty is None else float(loyalty),
        )


__all__ = [
    "FLOATS",
    "INTS",
    "NUMBERS",
    "WHITESPACE",
    "Peeve",
    "ProfileEncoder",
    "StoredProfile",
    "typed_columns",
]
