"""The stored form built from a recipe row equals, byte for byte, what the model path stores.

``stored_profile`` writes the profile's JSON without building ``RelationshipProfile``; the
store's model path writes ``profile.model_dump_json()`` (``relcrm.store.store.profile_row``).
Both are held equal on random persons, and on rows whose floats and strings are pushed to
where Python's ``json`` and pydantic's encoder disagree (exponents, ``-0.0``, NaN,
non-ASCII, control characters, whitespace the model trims).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relcrm.models import Perception, Person
from relcrm.profile.columnar import profile_columnar, profile_of
from relcrm.profile.columnar.recipe import ColumnarResult
from relcrm.profile.columnar.stored import StoredProfile, profile_json, stored_profile
from relcrm.profile.config import ProfileConfig
from relcrm.store.store import profile_row
from relcrm.testing.synthetic import generate_sample
from tests.profile_columnar.test_equal_to_reference import NOW, people

CONFIG = ProfileConfig()
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
clocks = st.builds(
    lambda seconds, zone: (NOW + timedelta(seconds=seconds)).astimezone(zone),
    st.floats(min_value=-200 * 86400.0, max_value=200 * 86400.0, allow_nan=False),
    zones,
)


def assert_same_as_model(row: dict[str, Any], result: ColumnarResult) -> StoredProfile:
    """The model path's bytes and columns against the stored path's, for one row."""
    model = profile_of(row, result, CONFIG)
    stored = stored_profile(row, result.as_of, CONFIG)
    assert stored.data == model.model_dump_json()
    assert profile_json(row, result.as_of, CONFIG) == stored.data
    from_model = profile_row(model)
    assert isinstance(from_model, StoredProfile)
    assert tuple(stored) == tuple(from_model)
    assert stored.as_of.tzinfo is UTC
    return stored


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people(), clocks)
def test_random_persons_store_the_same_bytes(
    data: tuple[list[Person], list[Perception]], clock: datetime
) -> None:
    persons, perceptions = data
    result = profile_columnar(persons, perceptions, clock)
    assert len(result.rows) == len(persons)
    for row in result.rows:
        assert_same_as_model(row, result)


def test_the_sample_stores_the_same_bytes() -> None:
    """The sample covers every segment, pet peeves, escalations and NPS dates."""
    sample = generate_sample(now=NOW)
    result = profile_columnar(sample.persons, sample.perceptions, NOW)
    segments = {assert_same_as_model(row, result).segment for row in result.rows}
    assert len(segments) >= 6


@pytest.fixture(scope="module")
def base() -> tuple[dict[str, Any], ColumnarResult]:
    """One real row with a pet peeve and an NPS date, to push odd values into."""
    sample = generate_sample(now=NOW)
    result = profile_columnar(sample.persons, sample.perceptions, NOW)
    row = next(r for r in result.rows if r["pet_peeves"] and r["nps_at"] is not None)
    return row, result


any_float = st.floats(allow_nan=True, allow_infinity=True)
odd_floats = st.sampled_from(
    [0.0, -0.0, 1e-7, 5e-324, 1e16, 1e-5, 123456789012345680.0, 1e300, 0.1, 2.5e-10]
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30
) | st.sampled_from(
    [" padded\t", 'café ☕ «quotes» "and" back\\slash', "\x1fseparator\x1c", "\u3000wide\u2028"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    floats=st.fixed_dictionaries(
        {
            "evidence": odd_floats | any_float,
            "public_advocacy": odd_floats | any_float,
            "trend_delta": odd_floats | any_float,
            "csat_mean_valence": odd_floats | any_float,
            "joy": odd_floats | st.floats(0.0, 1.0),
        }
    ),
    weight=odd_floats | any_float,
    topic=texts,
    reason=texts,
    dyad=texts,
    outreach=texts,
    clock=clocks,
)
@example(
    floats={
        "evidence": 1e16,
        "public_advocacy": math.nan,
        "trend_delta": -0.0,
        "csat_mean_valence": math.inf,
        "joy": 1e-7,
    },
    weight=5e-324,
    topic="é\x1f",
    reason=" x ",
    dyad="\u2028",
    outreach="\x85ok",
    clock=NOW,
)
def test_odd_values_are_encoded_as_the_model_encodes_them(
    base: tuple[dict[str, Any], ColumnarResult],
    floats: dict[str, float],
    weight: float,
    topic: str,
    reason: str,
    dyad: str,
    outreach: str,
    clock: datetime,
) -> None:
    """Where Python's json and pydantic's encoder differ (``1e-07`` against ``1e-7``,
    ``NaN`` against ``null``, escaped non-ASCII), and what the model trims."""
    row, _ = base
    peeve = {**row["pet_peeves"][0], "topic": topic, "negative_weight": weight}
    odd = {
        **row,
        **floats,
        "pet_peeves": [peeve],
        "reasons": [reason, *row["reasons"][1:]],
        "dyad": dyad,
        "outreach_reason": outreach,
        "nps_at": (NOW - timedelta(days=3, microseconds=17)).astimezone(clock.tzinfo).isoformat(),
    }
    at = ColumnarResult(clock, [odd])
    try:
        profile_of(odd, at, CONFIG)
    except ValidationError:
        assume(False)  # a row the model refuses (an empty reason, a NaN evidence)
    assert_same_as_model(odd, at)


def test_a_difference_is_caught(base: tuple[dict[str, Any], ColumnarResult]) -> None:
    """The comparison can fail: a different clock or a different config shows in the bytes."""
    row, result = base
    model = profile_of(row, result, CONFIG).model_dump_json()
    assert stored_profile(row, result.as_of + timedelta(microseconds=1), CONFIG).data != model
    other = ProfileConfig(trend_window_days=CONFIG.trend_window_days + 1)
    assert stored_profile(row, result.as_of, other).data != model
