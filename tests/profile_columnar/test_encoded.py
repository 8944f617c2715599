"""The run's encoder writes ``stored.profile_json``'s bytes, typed or not, and knows when its
numbers may be taken as DuckDB gives them.

``ProfileEncoder`` skips the per-value conversions when DuckDB's column types already are
the model's (``typed_columns``); both ways are held byte-equal to the reference text on
random values where encoders disagree (exponents, ``-0.0``, NaN, escapes, trimmed
whitespace), and the run's own path (``_stored_of``, straight from DuckDB's tuples) to the
stored profiles of ``recipe_rows`` on the sample.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from relcrm.profile.columnar.encoded import FLOATS, INTS, ProfileEncoder, typed_columns
from relcrm.profile.columnar.inputs import perception_rows_of_models, person_rows_of_models
from relcrm.profile.columnar.recipe import connect_with, execute_recipe, recipe_rows
from relcrm.profile.columnar.stored import profile_json, stored_profile
from relcrm.profile.config import ProfileConfig
from relcrm.sync.profiling_columnar import _Fetched, _stored_of
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CONFIG = ProfileConfig()


@pytest.fixture(scope="module")
def fetched() -> _Fetched:
    """The sample's recipe rows as the run fetches them from DuckDB."""
    sample = generate_sample(now=NOW)
    connection = connect_with(
        person_rows_of_models(sample.persons), perception_rows_of_models(sample.perceptions)
    )
    try:
        cursor = execute_recipe(connection, NOW, CONFIG)
        names = [d[0] for d in cursor.description]
        return _Fetched(0, names, cursor.fetchall(), typed_columns(cursor.description))
    finally:
        connection.close()


def test_duckdb_gives_the_model_types(fetched: _Fetched) -> None:
    assert fetched.typed


def test_a_column_of_another_type_is_not_taken_as_it_is() -> None:
    described = [(name, "DOUBLE") for name in FLOATS] + [(name, "BIGINT") for name in INTS]
    assert typed_columns(described)
    assert not typed_columns([(n, "DECIMAL(18,3)" if n == "health" else t) for n, t in described])
    assert not typed_columns([(n, "DOUBLE" if n == "ces_count" else t) for n, t in described])
    assert not typed_columns(described[1:])


def test_the_run_stores_what_the_rows_store(fetched: _Fetched) -> None:
    """Straight from DuckDB's tuples (no pet-peeve dicts, no reasons list) and through
    ``recipe_rows`` + ``stored_profile``: the same ``StoredProfile`` for every person."""
    rows = recipe_rows(fetched.names, fetched.values, CONFIG)
    expected = [stored_profile(row, NOW, CONFIG) for row in rows]
    assert _stored_of(fetched, ProfileEncoder(NOW, CONFIG), CONFIG) == expected
    untyped = _Fetched(0, fetched.names, fetched.values, False)
    assert _stored_of(untyped, ProfileEncoder(NOW, CONFIG), CONFIG) == expected
    assert sum(1 for row in rows if row["pet_peeves"]) >= 3
    assert len({row.segment for row in expected}) >= 6


odd_floats = st.sampled_from(
    [0.0, -0.0, 1e-7, 5e-324, 1e16, 1e-5, 123456789012345680.0, 1e300, 0.1, 2.5e-10, 1e22]
)
floats = odd_floats | st.floats(allow_nan=True, allow_infinity=True)
maybe_floats = st.none() | floats
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=20
) | st.sampled_from([" padded\t", 'quote " back\\slash', "\x1fsep\x1c", "\u3000wide\u2028", "%s"])
clocks = st.builds(
    lambda seconds, hours: (NOW + timedelta(seconds=seconds)).astimezone(
        timezone(timedelta(hours=hours))
    ),
    st.floats(-1e7, 1e7, allow_nan=False),
    st.integers(-12, 12),
)
NULLABLE = {
    "public_advocacy",
    "behavioural_loyalty",
    "attitude_before",
    "trend_delta",
    "csat_mean_valence",
    "csat_top_box_share",
    "ces_mean_valence",
    "ces_easy_share",
}
"""The float columns the model lets be null."""


@st.composite
def rows(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A recipe row with odd numbers and texts: floats where the model has floats (None
    where it may), ints for the counts."""
    row = dict(base)
    for name in FLOATS:
        row[name] = draw(maybe_floats if name in NULLABLE else floats)
    for name in INTS:
        row[name] = draw(st.integers(0, 10**12))
    row["person_id"] = draw(texts.filter(str.strip) | st.just(" p-1 "))
    row["dyad"] = draw(st.none() | texts)
    row["last_nps"] = draw(st.none() | st.sampled_from([0.0, 7.0, 10.0]))
    row["nps_at"] = draw(
        st.none() | clocks.map(lambda moment: moment.isoformat(timespec="microseconds"))
    )
    row["escalation"] = draw(st.booleans())
    row["needs_outreach"] = draw(st.none() | st.booleans())
    row["outreach_reason"] = draw(st.none() | texts)
    row["reasons"] = draw(st.lists(texts, max_size=4))
    row["pet_peeves"] = [
        {"topic": topic, "negative_weight": weight, "mentions": mentions}
        for topic, weight, mentions in draw(
            st.lists(st.tuples(texts, floats, st.integers(1, 10**6)), max_size=3)
        )
    ]
    return row


@pytest.fixture(scope="module")
def base(fetched: _Fetched) -> dict[str, Any]:
    return recipe_rows(fetched.names, fetched.values[:1], CONFIG)[0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), clock=clocks, version=st.sampled_from(["relcrm-profile/2.0", " 100% v "]))
@example(data=None, clock=NOW, version="relcrm-profile/2.0")
def test_encoded_bytes_are_the_reference_bytes(
    base: dict[str, Any], data: st.DataObject | None, clock: datetime, version: str
) -> None:
    """Typed (numbers as they are) and untyped (each converted first: ints and floats
    given where floats belong) alike."""
    row = base if data is None else data.draw(rows(base))
    config = ProfileConfig(model_version=version)
    expected = profile_json(row, clock, config)
    encoder = ProfileEncoder(clock, config)
    peeves = [(p["topic"], p["negative_weight"], p["mentions"]) for p in row["pet_peeves"]]
    said = row["reasons"], row["outreach_reason"]
    assert encoder.data(row, peeves, *said, typed=True) == expected
    widened = {
        **row,
        **{
            name: int(row[name])
            for name in FLOATS
            if isinstance(row[name], float) and math.isfinite(row[name]) and row[name] == 0.0
        },
    }
    assert encoder.data(widened, peeves, *said) == profile_json(widened, clock, config)
    stored = encoder.stored(row, peeves, *said, typed=True)
    assert stored.data == expected
    assert stored.as_of == clock and stored.as_of.tzinfo is UTC


def test_a_difference_shows_in_the_bytes(base: dict[str, Any]) -> None:
    """The comparison can fail: another clock, window or number changes the text."""
    encoder = ProfileEncoder(NOW, CONFIG)
    peeves = [(p["topic"], p["negative_weight"], p["mentions"]) for p in base["pet_peeves"]]
    said = base["reasons"], base["outreach_reason"]
    text = encoder.data(base, peeves, *said, typed=True)
    assert text == profile_json(base, NOW, CONFIG)
    later = ProfileEncoder(NOW + timedelta(microseconds=1), CONFIG)
    assert later.data(base, peeves, *said, typed=True) != text
    wider = ProfileEncoder(NOW, ProfileConfig(trend_window_days=CONFIG.trend_window_days + 1))
    assert wider.data(base, peeves, *said, typed=True) != text
    nudged = {**base, "health": math.nextafter(base["health"], math.inf)}
    assert encoder.data(nudged, peeves, *said, typed=True) != text
