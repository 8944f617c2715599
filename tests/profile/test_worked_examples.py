"""The six worked examples of the scoring recipe (docs/concepts.md), as unit tests."""

from __future__ import annotations

import pytest

from relcrm.models import Archetype, ArchetypeDetail, HealthBand, Segment
from relcrm.profile import build_profile
from tests.helpers import NOW, csat, nps, perception, person, text


def test_example_1_delighted() -> None:
    profile = build_profile(
        person(loyalty=0.85),
        [nps(10, 10), csat(40, 5), text(10, 0.8, {"joy": 0.7, "trust": 0.5})],
        NOW,
    )
    assert profile.evidence == pytest.approx(1.885, abs=1e-3)
    assert profile.attitude == pytest.approx(0.753, abs=1e-3)
    assert profile.public_advocacy is None
    assert profile.health == pytest.approx(87.7, abs=0.05)
    assert profile.band is HealthBand.HEALTHY
    assert profile.dominant_emotion == "joy"
    assert profile.emotion_dyad == "love"
    assert profile.archetype is Archetype.TRUE_LOYALTY
    assert profile.archetype_detail is ArchetypeDetail.DELIGHTED
    assert profile.segment is Segment.DELIGHTED


def test_example_2_trapped_detractor() -> None:
    profile = build_profile(
        person(loyalty=0.90),
        [
            nps(20, 3),
            text(5, -0.6, {"anger": 0.8}, channel="support"),
            text(3, -0.7, {"anger": 0.6, "disgust": 0.5}, channel="social", public=True),
        ],
        NOW,
    )
    assert profile.evidence == pytest.approx(1.674, abs=1e-3)
    assert profile.attitude == pytest.approx(-0.526, abs=1e-3)
    assert profile.public_advocacy == pytest.approx(-0.359, abs=1e-3)
    assert profile.health == pytest.approx(13.9, abs=0.06)
    assert profile.band is HealthBand.AT_RISK
    assert profile.dominant_emotion == "anger"
    assert profile.emotion_dyad is None
    assert profile.archetype is Archetype.SPURIOUS_LOYALTY
    assert profile.archetype_detail is ArchetypeDetail.TRAPPED_DETRACTOR
    assert profile.segment is Segment.TRAPPED_AND_VOCAL
    assert profile.escalation  # angry (arousal 0.9), v = -0.6, 5 days ago


def test_example_3_fan_not_buying() -> None:
    profile = build_profile(person(loyalty=0.20), [nps(30, 9)], NOW)
    assert profile.evidence == pytest.approx(0.794, abs=1e-3)
    assert profile.attitude == pytest.approx(0.491, abs=1e-3)
    assert profile.health == pytest.approx(74.5, abs=0.05)
    assert profile.band is HealthBand.HEALTHY
    assert profile.dominant_emotion == "none"
    assert profile.archetype is Archetype.LATENT_LOYALTY
    assert profile.archetype_detail is ArchetypeDetail.FAN_NOT_BUYING


def test_example_4_old_evidence_is_not_enough() -> None:
    profile = build_profile(person(loyalty=0.70), [nps(400, 10)], NOW)
    assert profile.evidence == pytest.approx(0.046, abs=1e-3)
    assert profile.attitude == pytest.approx(0.084, abs=1e-3)
    assert profile.health == pytest.approx(54.2, abs=0.05)
    assert profile.band is HealthBand.UNKNOWN
    assert profile.archetype is Archetype.INSUFFICIENT_EVIDENCE
    assert profile.archetype_detail is None
    # v2: too little recent feedback to judge feelings, but B says they keep buying.
    assert profile.segment is Segment.LOYAL
    assert not profile.needs_outreach


def test_example_5_defecting() -> None:
    profile = build_profile(
        person(loyalty=0.10),
        [
            csat(15, 1),
            text(2, -0.4, {"anger": 0.5}, channel="support", flags={"churn_intent": True}),
        ],
        NOW,
    )
    assert profile.evidence == pytest.approx(0.919, abs=1e-3)
    assert profile.attitude == pytest.approx(-0.523, abs=1e-3)
    assert profile.health == pytest.approx(9.1, abs=0.05)
    assert profile.band is HealthBand.AT_RISK
    assert profile.dominant_emotion == "anger"
    assert profile.archetype is Archetype.NO_LOYALTY
    assert profile.archetype_detail is ArchetypeDetail.DEFECTING
    assert profile.churn_risk


def test_example_6_inert() -> None:
    profile = build_profile(
        person(loyalty=0.80),
        [nps(15, 7), perception(15, ces={"value": 4, "version": "2.0"})],
        NOW,
    )
    assert profile.evidence == pytest.approx(1.425, abs=1e-3)
    assert profile.attitude == pytest.approx(0.0, abs=1e-9)
    assert profile.health == pytest.approx(50.0, abs=1e-9)
    assert profile.band is HealthBand.WATCH
    assert profile.dominant_emotion == "none"
    assert profile.archetype is Archetype.SPURIOUS_LOYALTY
    assert profile.archetype_detail is ArchetypeDetail.INERT
