"""Perceptions become observations: one valence each, weighted by source, confidence, age.

A perception may carry several signals (an NPS, a CSAT and a comment in one survey
answer); each becomes its own observation, as each answers a different question.

This is the engine's hot loop (a million perceptions in a benchmark), so observations
are plain named tuples and the configuration's tables are read once per call.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from relcrm.models import WHEEL, CesScore, CsatScore, Perception
from relcrm.profile.config import ProfileConfig

SECONDS_PER_DAY = 86400.0


class Observation(NamedTuple):
    """One weighted valence, with what the reasons and flags need to know about it."""

    perception_id: str
    kind: str  # nps, csat, ces, verbatim, ticket, social, review
    occurred_at: datetime
    age_days: float
    decay: float
    weight: float
    valence: float
    public: bool
    arousal: float | None  # text only
    emotions: tuple[float, ...] | None  # text only, in WHEEL order
    churn_intent: bool
    trapped: bool  # says they stay without wanting to
    sarcasm: bool
    topic: str | None
    channel: str
    score: float | None  # the raw survey answer, for reasons


def csat_valence(score: CsatScore) -> float:
    """Linear on the declared scale; on 1-5 this is the recipe's table exactly."""
    return 2.0 * (score.value - score.scale_min) / (score.scale_max - score.scale_min) - 1.0


def ces_valence(score: CesScore) -> float:
    """Ease and effort scales meet here: -1 hardest, +1 easiest (CES 2.0: (s - 4) / 3)."""
    return score.valence


def emotion_vector(perception: Perception) -> tuple[float, ...]:
    """The perception's emotion intensities in WHEEL order."""
    e = perception.emotions
    return (e.joy, e.trust, e.fear, e.surprise, e.sadness, e.disgust, e.anger, e.anticipation)


def text_arousal(emotions: tuple[float, ...], config: ProfileConfig) -> float:
    """Arousal when the source gave none: the emotions' circumplex constants, weighted by
    intensity and pulled toward the neutral level as the emotions get fainter (v2: a faint
    trace of anger is not a heated customer; v1 used the plain weighted mean)."""
    total = sum(emotions)
    if total <= 0:
        return config.neutral_arousal
    arousal = config.arousal_vector
    mean = sum(i * a for i, a in zip(emotions, arousal, strict=True)) / total
    strength = min(1.0, max(emotions))
    return config.neutral_arousal + (mean - config.neutral_arousal) * strength


def decay_for(age_days: float, config: ProfileConfig) -> float:
    return float(0.5 ** (age_days / config.half_life_days))


def observations_of(
    perception: Perception,
    now: datetime,
    config: ProfileConfig,
    *,
    min_decay: float | None = None,
) -> list[Observation]:
    """The observations one perception gives as of ``now``.

    None if it lies in the future (not known yet at ``now``) or has decayed below
    ``min_decay`` (the configuration's unless given).
    """
    age_days = (now - perception.occurred_at).total_seconds() / SECONDS_PER_DAY
    if age_days < 0:
        return []
    decay = 0.5 ** (age_days / config.half_life_days)
    if decay < (config.min_decay if min_decay is None else min_decay):
        return []
    topic = perception.topic or perception.touchpoint
    weights = config.source_weights
    negativity = config.negativity_weight
    found: list[Observation] = []

    def add(
        kind: str,
        valence: float,
        confidence: float,
        score: float | None,
        arousal: float | None = None,
        emotions: tuple[float, ...] | None = None,
    ) -> None:
        weight = weights.get(kind, 0.0) * confidence * decay
        if valence < 0:
            weight *= negativity
        found.append(
            Observation(
                perception.id,
                kind,
                perception.occurred_at,
                age_days,
                decay,
                weight,
                valence,
                perception.public,
                arousal,
                emotions,
                perception.flags.churn_intent,
                perception.flags.trapped,
                perception.flags.sarcasm,
                topic,
                perception.channel.value,
                score,
            )
        )

    survey_confidence = config.survey_confidence
    if perception.nps is not None:
        value = perception.nps.value
        add("nps", config.nps_valence[value], survey_confidence, float(value))
    if perception.csat is not None:
        add("csat", csat_valence(perception.csat), survey_confidence, perception.csat.value)
    if perception.ces is not None:
        add("ces", ces_valence(perception.ces), survey_confidence, perception.ces.value)
    if perception.valence is not None:
        emotions = emotion_vector(perception)
        arousal = (
            perception.arousal if perception.arousal is not None else text_arousal(emotions, config)
        )
        confidence = (
            perception.confidence
            if perception.confidence is not None
            else config.default_text_confidence
        )
        kind = config.text_source_by_channel.get(perception.channel, "verbatim")
        valence = perception.valence
        if perception.flags.sarcasm:
            # Praise meant as its opposite: whatever the words scored, it is a complaint.
            valence = min(valence, config.sarcasm_valence)
        add(kind, valence, confidence, None, arousal, emotions)
    return found


assert len(WHEEL) == 8  # emotion_vector lists the wheel's eight by name
