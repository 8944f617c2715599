"""Trend, pet peeves, flags and the plain-words reasons."""

from __future__ import annotations

from relcrm.models import Segment, TrendDirection
from relcrm.profile import build_profile
from tests.helpers import NOW, nps, person, text


def test_soured_customer_is_declining() -> None:
    history = [
        nps(150, 9),
        nps(120, 10),
        nps(20, 2),
        text(5, -0.7, {"anger": 0.9}, channel="support"),
    ]
    profile = build_profile(person(loyalty=0.9), history, NOW)
    assert profile.trend.direction is TrendDirection.DECLINING
    assert profile.trend.delta is not None and profile.trend.delta < -1
    assert any(r.startswith("Getting unhappier") for r in profile.reasons)


def test_steady_promoter_is_stable_not_improving() -> None:
    history = [nps(150, 9), nps(120, 9), nps(40, 9), nps(10, 9)]
    profile = build_profile(person(loyalty=0.9), history, NOW)
    assert profile.trend.direction is TrendDirection.STABLE


def test_silence_is_not_improvement() -> None:
    history = [nps(200, 0), nps(180, 1), nps(150, 0)]
    profile = build_profile(person(loyalty=0.9), history, NOW)
    assert profile.trend.direction is TrendDirection.UNKNOWN


def test_recovering_customer_is_improving() -> None:
    history = [nps(160, 2), nps(130, 3), nps(30, 9), nps(5, 10)]
    profile = build_profile(person(loyalty=0.9), history, NOW)
    assert profile.trend.direction is TrendDirection.IMPROVING


def test_pet_peeves_rank_topics_by_negative_weight() -> None:
    history = [
        text(3, -0.8, {"anger": 0.8}, channel="support", topic="billing"),
        text(10, -0.7, {"anger": 0.6}, channel="support", topic="billing"),
        text(5, -0.3, {"sadness": 0.4}, channel="email", topic="pricing"),
        text(5, 0.8, {"joy": 0.8}, channel="chat", topic="onboarding"),
    ]
    profile = build_profile(person(loyalty=0.9), history, NOW)
    assert [p.topic for p in profile.pet_peeves] == ["billing", "pricing"]
    assert profile.pet_peeves[0].mentions == 2


def test_trapped_reasons_quote_the_evidence() -> None:
    history = [
        nps(51, 3),
        text(5, -0.6, {"anger": 0.8}, channel="support"),
        text(25, -0.6, {"anger": 0.8}, channel="support"),
        text(3, -0.7, {"anger": 0.6, "disgust": 0.5}, channel="social", public=True),
    ]
    trapped = person(renewals=3, renewed_last_term=True, purchases_last_365d=5)
    profile = build_profile(trapped, history, NOW)
    assert profile.segment is Segment.TRAPPED_AND_VOCAL
    headline = profile.reasons[0]
    assert headline.startswith("Keeps buying (three renewals, five purchases in the last year)")
    assert "NPS 3 on 2026-10-02" in headline
    assert "two angry support contacts" in headline
    assert "one negative public post" in headline
    assert 2 <= len(profile.reasons) <= 4


def test_reasons_for_someone_we_know_nothing_about() -> None:
    profile = build_profile(person(), [], NOW)
    assert profile.reasons == (
        "Not enough recent feedback to judge how this person feels.",
        "No feedback recorded yet.",
    )
