"""Every constant of the scoring recipe in one place, each with the reason it has its value.

The defaults are the recipe of ``docs/concepts.md`` (after relcrm's reference note,
section 5). Teams may tune them; ``model_version`` changes whenever a default changes,
so profiles computed with different constants are never compared as if they were equal.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

from pydantic import Field

from relcrm.models import WHEEL, Channel, Emotion, FrozenModel

MODEL_VERSION = "relcrm-profile/2.0"


def _nps_valence() -> tuple[float, ...]:
    # Index = NPS answer. Promoters (9-10) clearly positive, passives (7-8) near zero,
    # detractors (0-6) negative; steeper near the top where "totally satisfied" matters.
    return (-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.3, 0.0, 0.2, 0.8, 1.0)


def _source_weights() -> dict[str, float]:
    # Surveys ask the question directly; tickets are self-selected problem reports in
    # neutral language, so they weigh least; public posts weigh nearly as much as NPS.
    return {
        "nps": 1.0,
        "csat": 0.7,
        "ces": 0.6,
        "verbatim": 0.8,
        "ticket": 0.5,
        "social": 0.9,
        "review": 0.9,
    }


def _text_source_by_channel() -> dict[Channel, str]:
    return {
        Channel.SUPPORT: "ticket",
        Channel.CHAT: "ticket",
        Channel.EMAIL: "ticket",
        Channel.CALL: "ticket",
        Channel.SOCIAL: "social",
        Channel.REVIEW: "review",
        Channel.SURVEY: "verbatim",
        Channel.EVENT: "verbatim",
        Channel.DONATION: "verbatim",
        Channel.WEB: "verbatim",
    }


def _emotion_arousal() -> dict[Emotion, float]:
    # Russell's circumplex as design constants: anger and fear activate, sadness does not.
    return {
        Emotion.JOY: 0.6,
        Emotion.TRUST: 0.3,
        Emotion.ANTICIPATION: 0.6,
        Emotion.SURPRISE: 0.8,
        Emotion.FEAR: 0.8,
        Emotion.ANGER: 0.9,
        Emotion.DISGUST: 0.5,
        Emotion.SADNESS: 0.2,
    }


class ProfileConfig(FrozenModel):
    """The constants of the recipe. See ``docs/concepts.md`` for the reasoning."""

    model_version: str = MODEL_VERSION

    # Weights and decay
    half_life_days: float = Field(default=90.0, gt=0, description="a record this old weighs half")
    min_decay: float = Field(default=0.01, ge=0, lt=1, description="older records are ignored")
    source_weights: dict[str, float] = Field(default_factory=_source_weights)
    text_source_by_channel: dict[Channel, str] = Field(default_factory=_text_source_by_channel)
    survey_confidence: float = Field(default=1.0, gt=0, le=1)
    default_text_confidence: float = Field(default=0.6, gt=0, le=1)
    negativity_weight: float = Field(default=1.0, ge=1.0, description="lambda for v < 0")

    # Score -> valence
    nps_valence: tuple[float, ...] = Field(default_factory=_nps_valence, min_length=11)

    # Person-level quantities
    shrinkage: float = Field(default=0.5, gt=0, description="K: pulls thin evidence to neutral")
    min_evidence: float = Field(
        default=0.3, gt=0, description="below this E, feelings are not judged (v2: was 0.5)"
    )
    dominant_min: float = Field(
        default=0.15, gt=0, le=1, description="an emotion of 0 is absent: it never dominates"
    )
    dyad_ratio: float = Field(default=0.6, gt=0, le=1)
    emotion_arousal: dict[Emotion, float] = Field(default_factory=_emotion_arousal)
    neutral_arousal: float = Field(default=0.3, ge=0, le=1)
    churn_penalty: float = Field(default=15.0, ge=0)
    negative_public_penalty: float = Field(default=10.0, ge=0)
    negative_public_valence: float = Field(default=-0.5, le=0)
    healthy_from: float = Field(default=62.0, ge=0, le=100, description="v2: was 70")
    watch_from: float = Field(default=35.0, ge=0, le=100, description="v2: was 45")

    # Flags
    escalation_days: float = Field(default=14.0, ge=0)
    escalation_valence: float = Field(default=-0.5, le=0)
    escalation_arousal: float = Field(
        default=0.6, ge=0, le=1, description="heated: anger, fear, emphasis (v2: was 0.7)"
    )
    escalation_severe_valence: float = Field(
        default=-0.75, le=0, description="this negative is an escalation whatever the arousal (v2)"
    )
    churn_risk_min_decay: float = Field(default=0.25, ge=0, le=1)
    sarcasm_valence: float = Field(
        default=-0.3, le=0, description="a sarcastic text is at least this negative"
    )

    # Stated intent and outreach (v2)
    intent_days: float = Field(
        default=120.0, gt=0, description="stated churn or lock-in sets the segment this long"
    )
    public_complaint_valence: float = Field(
        default=-0.3, le=0, description="a public post this negative counts as speaking out (v2)"
    )
    outreach_days: float = Field(
        default=30.0, gt=0, description="stated churn or public anger this recent: reach out"
    )
    decline_delta: float = Field(
        default=-0.5, lt=0, description="a fall in attitude this sharp within the trend window"
    )
    decline_to: float = Field(
        default=-0.5, lt=0, description="...from content (A >= attitude_high) to this unhappy"
    )
    new_customer_days: float = Field(
        default=45.0, ge=0, description="younger customers are too new to judge loyalty"
    )
    new_customer_unhappy: float = Field(
        default=-0.4, le=0, description="a new customer this unhappy (unshrunk) is at risk"
    )

    # Behavioural loyalty B
    purchase_recency_half_life_days: float = Field(
        default=180.0,
        gt=0,
        description="at the default expected frequency; scaled by the person's own (v2)",
    )
    expected_purchases_per_year: float = Field(default=4.0, gt=0)
    full_tenure_days: float = Field(default=730.0, gt=0)
    tenure_weight: float = Field(default=0.5, ge=0, description="tenure supports, it is not buying")
    renewals_full: int = Field(default=3, gt=0, description="renewals that count in full")
    renewals_weight: float = Field(
        default=0.5, gt=0, description="above 0: renewals alone must make a loyalty"
    )

    # Archetypes (Dick & Basu, with the Jones & Sasser overlay)
    attitude_high: float = Field(default=0.2, description="v2: was 0.3 (A is shrunk)")
    behaviour_high: float = 0.5
    attitude_unhappy: float = Field(default=-0.3, description="v2: was -0.2")
    attitude_delighted: float = 0.6
    advocacy_positive: float = 0.3
    advocacy_negative: float = -0.3

    # Trend, pet peeves, reasons
    trend_window_days: int = Field(default=90, gt=0)
    trend_threshold: float = Field(default=0.15, gt=0)
    trend_min_recent_evidence: float = Field(default=0.3, gt=0)
    pet_peeve_count: int = Field(default=3, ge=0)
    pet_peeve_min_weight: float = Field(default=0.05, ge=0)
    reason_window_days: float = Field(default=180.0, gt=0)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of every setting: profiles made with another fingerprint may differ
        (a changed-only run compares it with the last complete run's). Settings written
        in another order give another digest: at worst one run too many."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:32]

    @cached_property
    def arousal_vector(self) -> tuple[float, ...]:
        """Arousal of each emotion in WHEEL order, for the hot loop."""
        return tuple(self.emotion_arousal.get(e, self.neutral_arousal) for e in WHEEL)
