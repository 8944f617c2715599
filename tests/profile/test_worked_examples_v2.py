"""Recipe v2's worked examples (docs/concepts.md, "What changed in v2"), as unit tests.

Each one failed under recipe v1: stated intent never changed the segment, escalation
needed an arousal analysed text did not reach, behaviour was ignored without feedback,
new customers were judged at once, and CES could not say "higher is harder" on 1-7.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from relcrm.models import Archetype, ArchetypeDetail, HealthBand, Segment
from relcrm.profile import DEFAULT_CONFIG, build_profile, ces_valence
from relcrm.profile.behaviour import behavioural_loyalty
from tests.helpers import NOW, nps, perception, person, text


def test_v2_1_stated_churn_from_a_heavy_buyer_is_at_risk() -> None:
    profile = build_profile(
        person(loyalty=0.9),
        [nps(60, 8), text(10, -0.5, {"anger": 0.4}, flags={"churn_intent": True})],
        NOW,
    )
    assert profile.segment is Segment.AT_RISK  # v1: spurious loyalty, never at risk
    assert profile.archetype_detail is ArchetypeDetail.DEFECTING
    assert profile.needs_outreach
    assert profile.outreach_reason is not None and "leaving" in profile.outreach_reason
    assert profile.churn_risk


def test_v2_2_trapped_words_make_a_trapped_customer() -> None:
    profile = build_profile(
        person(loyalty=0.9),
        [nps(20, 6), text(20, -0.4, {"anger": 0.4}, flags={"trapped": True})],
        NOW,
    )
    assert profile.segment is Segment.TRAPPED
    assert profile.archetype is Archetype.SPURIOUS_LOYALTY
    assert not profile.needs_outreach  # unhappy, but nothing heated, public or recent
    assert "cannot leave" in profile.reasons[0]


def test_v2_2b_trapped_words_win_over_purchases_and_attitude_alone() -> None:
    # B below the grid's "buys" line: v1 called this person "defecting" (at risk).
    profile = build_profile(
        person(loyalty=0.3),
        [text(15, -0.5, {"anger": 0.5}, flags={"trapped": True, "churn_intent": True})],
        NOW,
    )
    assert profile.segment is Segment.TRAPPED  # "I'd leave if the contract let me"


def test_v2_3_trapped_and_complaining_in_public_needs_outreach() -> None:
    profile = build_profile(
        person(loyalty=0.8),
        [
            text(
                5,
                -0.7,
                {"anger": 0.5},
                channel="social",
                public=True,
                arousal=0.5,
                flags={"trapped": True},
            )
        ],
        NOW,
    )
    assert profile.segment is Segment.TRAPPED_AND_VOCAL
    assert not profile.escalation  # not heated: arousal 0.5
    assert profile.needs_outreach
    assert profile.outreach_reason is not None and "in public" in profile.outreach_reason


def test_v2_4_a_quiet_regular_buyer_is_loyal_not_unknown() -> None:
    profile = build_profile(
        person(
            customer_since=NOW - timedelta(days=1600),
            last_purchase_at=NOW - timedelta(days=9),
            purchases_last_365d=13,
            expected_purchases_per_year=12,
        ),
        [],
        NOW,
    )
    assert profile.band is HealthBand.UNKNOWN  # feelings unknown...
    assert profile.segment is Segment.LOYAL  # ...behaviour known
    assert profile.reasons[0].startswith("Buys regularly")


def test_v2_4b_a_lapsing_buyer_without_feedback_is_drifting() -> None:
    profile = build_profile(
        person(
            customer_since=NOW - timedelta(days=1200),
            last_purchase_at=NOW - timedelta(days=75),
            purchases_last_365d=3,
            expected_purchases_per_year=12,
        ),
        [],
        NOW,
    )
    assert profile.segment is Segment.DRIFTING


def test_v2_5_a_brand_new_customer_is_too_new_to_judge() -> None:
    new = person(customer_since=NOW - timedelta(days=12), purchases_last_365d=1)
    lukewarm = build_profile(new, [nps(5, 6)], NOW)
    assert lukewarm.segment is Segment.UNKNOWN
    assert lukewarm.archetype is Archetype.UNKNOWN_BEHAVIOR
    assert "too new" in lukewarm.reasons[0]
    furious = build_profile(
        new,
        [text(2, -0.8, {"anger": 0.8}, channel="support", arousal=0.8)],
        NOW,
    )
    assert furious.segment is Segment.AT_RISK and furious.needs_outreach


def test_v2_6_escalation_is_reachable_from_analysed_text() -> None:
    # relcrm-linear gives an angry complaint about 0.65-0.85 arousal; v1 wanted 0.7.
    profile = build_profile(
        person(loyalty=0.6),
        [text(3, -0.7, {"anger": 0.6}, channel="support", arousal=0.62)],
        NOW,
    )
    assert profile.escalation
    assert profile.needs_outreach
    assert profile.outreach_reason is not None and "heated" in profile.outreach_reason


def test_v2_7_a_sharp_decline_needs_outreach() -> None:
    profile = build_profile(
        person(loyalty=0.7),
        [nps(150, 10), nps(120, 9), nps(10, 2), text(5, -0.6, {"sadness": 0.5}, arousal=0.3)],
        NOW,
    )
    assert not profile.escalation
    assert profile.trend.delta is not None and profile.trend.delta <= -0.5
    assert profile.needs_outreach
    assert profile.outreach_reason is not None and profile.outreach_reason.startswith("Turned")


def test_v2_8_ces_effort_on_one_to_seven() -> None:
    hard = perception(3, ces={"value": 6, "scale_min": 1, "scale_max": 7, "direction": "effort"})
    assert hard.ces is not None
    assert ces_valence(hard.ces) == pytest.approx(-2 / 3)
    easy = perception(3, ces={"value": 6, "version": "2.0"})
    assert easy.ces is not None
    assert ces_valence(easy.ces) == pytest.approx(2 / 3)


def test_v2_9_renewals_count_and_tenure_alone_is_not_buying() -> None:
    config = DEFAULT_CONFIG
    long_rare = person(
        customer_since=NOW - timedelta(days=2000),
        last_purchase_at=NOW - timedelta(days=300),
        purchases_last_365d=1,
    ).facts
    loyalty = behavioural_loyalty(long_rare, NOW, config)
    assert loyalty is not None and loyalty < config.behaviour_high  # v1: 0.52, "buys"
    renewer = person(renewals=6, renewed_last_term=True).facts
    one_renewal = person(renewals=1, renewed_last_term=True).facts
    assert behavioural_loyalty(renewer, NOW, config) == pytest.approx(1.0)
    assert behavioural_loyalty(one_renewal, NOW, config) < 1.0  # type: ignore[operator]
    tenure_only = person(customer_since=NOW - timedelta(days=1500)).facts
    assert behavioural_loyalty(tenure_only, NOW, config) is None


def test_v2_10_sarcasm_counts_as_a_complaint_whatever_the_valence() -> None:
    profile = build_profile(
        person(loyalty=0.8),
        [text(4, 0.6, {"joy": 0.3}, flags={"sarcasm": True}, confidence=0.8)],
        NOW,
    )
    assert profile.attitude < 0
