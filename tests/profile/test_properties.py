"""Properties the recipe promises for any input (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relcrm.models import Archetype, HealthBand, Perception
from relcrm.profile import DEFAULT_CONFIG, build_profile, observations_of
from tests.helpers import NOW, nps, perception, person

CHANNELS = ["survey", "support", "social", "review", "chat", "email", "call", "event", "web"]
EMOTIONS = ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]


@st.composite
def perceptions(draw: st.DrawFn, record: str) -> Perception:
    age = draw(st.floats(min_value=0, max_value=900, allow_nan=False))
    fields: dict[str, object] = {}
    kind = draw(st.sampled_from(["nps", "csat", "ces", "text", "mixed"]))
    if kind in ("nps", "mixed"):
        fields["nps"] = {"value": draw(st.integers(0, 10))}
    if kind == "csat":
        fields["csat"] = {"value": draw(st.integers(1, 5))}
    if kind == "ces":
        version = draw(st.sampled_from(["1.0", "2.0"]))
        fields["ces"] = {
            "value": draw(st.integers(1, 5 if version == "1.0" else 7)),
            "version": version,
        }
    if kind in ("text", "mixed"):
        fields["valence"] = draw(st.floats(-1, 1, allow_nan=False))
        fields["emotions"] = draw(
            st.dictionaries(st.sampled_from(EMOTIONS), st.floats(0, 1, allow_nan=False), max_size=3)
        )
        fields["confidence"] = draw(st.floats(0.05, 1, allow_nan=False))
    channel = draw(st.sampled_from(CHANNELS))
    return perception(
        age,
        record=record,
        channel=channel,
        public=draw(st.booleans()),
        topic=draw(st.sampled_from([None, "billing", "outage", "support"])),
        flags={"churn_intent": draw(st.booleans()), "sarcasm": False},
        **fields,
    )


@st.composite
def histories(draw: st.DrawFn) -> list[Perception]:
    count = draw(st.integers(0, 12))
    return [draw(perceptions(f"h{i}")) for i in range(count)]


loyalties = st.one_of(st.none(), st.floats(0, 1, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(histories(), loyalties, st.integers(-10_000, 10_000))
def test_time_shift_changes_nothing(
    history: list[Perception], loyalty: float | None, days: int
) -> None:
    shift = timedelta(days=days, seconds=days * 7)
    moved = [p.model_copy(update={"occurred_at": p.occurred_at + shift}) for p in history]
    before = build_profile(person(loyalty=loyalty), history, NOW)
    after = build_profile(person(loyalty=loyalty), moved, NOW + shift)
    assert before.model_dump(exclude={"as_of", "last_nps_at"}) == after.model_dump(
        exclude={"as_of", "last_nps_at"}
    ) or _same_but_dates(before.reasons, after.reasons, before, after)


def _same_but_dates(a: tuple[str, ...], b: tuple[str, ...], pa: object, pb: object) -> bool:
    # Reasons quote calendar dates, which shift with the clock; everything else must not.
    import re

    strip = re.compile(r"\d{4}-\d{2}-\d{2}")
    dated = {"as_of", "last_nps_at", "reasons", "outreach_reason"}
    da = pa.model_dump(exclude=dated)  # type: ignore[attr-defined]
    db = pb.model_dump(exclude=dated)  # type: ignore[attr-defined]
    ra = [strip.sub("D", s) for s in (*a, pa.outreach_reason or "")]  # type: ignore[attr-defined]
    rb = [strip.sub("D", s) for s in (*b, pb.outreach_reason or "")]  # type: ignore[attr-defined]
    return da == db and ra == rb


@settings(max_examples=60, deadline=None)
@given(histories(), loyalties, st.randoms(use_true_random=False))
def test_input_order_does_not_matter(history: list[Perception], loyalty: float | None, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert build_profile(person(loyalty=loyalty), history, NOW) == build_profile(
        person(loyalty=loyalty), shuffled, NOW
    )


@settings(max_examples=100, deadline=None)
@given(histories(), loyalties)
def test_bounds(history: list[Perception], loyalty: float | None) -> None:
    profile = build_profile(person(loyalty=loyalty), history, NOW)
    assert -1 < profile.attitude < 1
    assert 0 <= profile.health <= 100
    assert profile.evidence >= 0
    assert 1 <= len(profile.reasons) <= 4
    assert all(0 <= v <= 1 for _, v in profile.emotion_profile.items())
    if profile.public_advocacy is not None:
        assert -1 < profile.public_advocacy < 1


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 400, allow_nan=False))
def test_half_life_weighting(age: float) -> None:
    [recent] = observations_of(nps(age, 9, record="x"), NOW, DEFAULT_CONFIG)
    [older] = observations_of(
        nps(age + DEFAULT_CONFIG.half_life_days, 9, record="x"), NOW, DEFAULT_CONFIG
    )
    assert older.weight == pytest.approx(recent.weight / 2, rel=1e-12)


def test_a_record_at_the_half_life_weighs_exactly_half() -> None:
    [fresh] = observations_of(nps(0, 9), NOW, DEFAULT_CONFIG)
    [aged] = observations_of(nps(DEFAULT_CONFIG.half_life_days, 9), NOW, DEFAULT_CONFIG)
    assert aged.weight == fresh.weight / 2


@settings(max_examples=80, deadline=None)
@given(histories(), st.floats(0, 300, allow_nan=False), st.integers(0, 10))
def test_a_new_answer_pulls_attitude_toward_itself(
    history: list[Perception], age: float, score: int
) -> None:
    base = build_profile(person(), history, NOW).attitude
    after = build_profile(person(), [*history, nps(age, score, record="new")], NOW).attitude
    valence = DEFAULT_CONFIG.nps_valence[score]
    if valence >= base:
        assert after >= base - 1e-12
    if valence <= base:
        assert after <= base + 1e-12


@settings(max_examples=80, deadline=None)
@given(histories(), st.floats(0, 300, allow_nan=False))
def test_top_promoter_never_lowers_and_top_detractor_never_raises(
    history: list[Perception], age: float
) -> None:
    base = build_profile(person(), history, NOW).attitude
    promoted = build_profile(person(), [*history, nps(age, 10, record="new")], NOW).attitude
    detracted = build_profile(person(), [*history, nps(age, 0, record="new")], NOW).attitude
    assert promoted >= base - 1e-12
    assert detracted <= base + 1e-12


@settings(max_examples=80, deadline=None)
@given(histories(), st.floats(0, 300, allow_nan=False), st.integers(0, 9))
def test_a_higher_score_never_lowers_attitude(
    history: list[Perception], age: float, score: int
) -> None:
    lower = build_profile(person(), [*history, nps(age, score, record="new")], NOW)
    higher = build_profile(person(), [*history, nps(age, score + 1, record="new")], NOW)
    assert higher.attitude >= lower.attitude
    assert higher.health >= lower.health


def test_empty_input() -> None:
    profile = build_profile(person(loyalty=0.9), [], NOW)
    assert profile.evidence == 0
    assert profile.attitude == 0
    assert profile.health == 50
    assert profile.band is HealthBand.UNKNOWN
    assert profile.archetype is Archetype.INSUFFICIENT_EVIDENCE
    assert len(profile.reasons) >= 2


@pytest.mark.parametrize(("ces_1", "ces_2"), [(1, 7), (2, 5.5), (3, 4), (4, 2.5), (5, 1)])
def test_ces_versions_agree(ces_1: float, ces_2: float) -> None:
    one = observations_of(
        perception(1, ces={"value": ces_1, "version": "1.0"}), NOW, DEFAULT_CONFIG
    )
    two = observations_of(
        perception(1, ces={"value": ces_2, "version": "2.0"}), NOW, DEFAULT_CONFIG
    )
    assert one[0].valence == pytest.approx(two[0].valence)


def test_same_input_same_output() -> None:
    history = [nps(3, 2), perception(4, valence=-0.5, emotions={"anger": 0.9}, channel="support")]
    assert build_profile(person(), history, NOW) == build_profile(person(), history, NOW)


def test_future_records_are_not_known_yet() -> None:
    profile = build_profile(person(), [nps(-5, 0)], NOW)
    assert profile.evidence == 0
