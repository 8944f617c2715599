"""Perceptions become observations: one valence each, weighted by source, confidence, age.

A perception may carry several signals (an NPS, a CSAT and a comment in one survey
answer); each becomes its own observation, as each answers a different question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relcrm.models import WHEEL, CesScore, CsatScore, Emotion, Perception
from relcrm.profile.config import ProfileConfig

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Observation:
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
    topic: str | None
    channel: str
    score: float | None  # the raw survey answer, for reasons


def csat_valence(score: CsatScore) -> float:
    """Linear on the declared scale; on 1-5 this is the recipe's table exactly."""
    return 2.0 * (score.value - score.scale_min) / (score.scale_max - score.scale_min) - 1.0


def ces_valence(score: CesScore) -> float:
    """CES 2.0 agreement (higher = easier) and CES 1.0 effort (higher = harder) meet here."""
    if score.version == "2.0":
        return (score.value - 4.0) / 3.0
    return (3.0 - score.value) / 2.0


def text_arousal(perception: Perception, config: ProfileConfig) -> float:
    """The analyzer's arousal, else the emotion-weighted mean of the circumplex constants."""
    if perception.arousal is not None:
        return perception.arousal
    total = 0.0
    weighted = 0.0
    for emotion, intensity in perception.emotions.items():
        total += intensity
        weighted += intensity * config.emotion_arousal.get(emotion, config.neutral_arousal)
    return weighted / total if total > 0 else config.neutral_arousal


def decay_for(age_days: float, config: ProfileConfig) -> float:
    return float(0.5 ** (age_days / config.half_life_days))


def observations_of(
    perception: Perception, now: datetime, config: ProfileConfig
) -> list[Observation]:
    """The observations one perception gives as of ``now`` (none if too old or in the future)."""
    age_days = (now - perception.occurred_at).total_seconds() / SECONDS_PER_DAY
    if age_days < 0:
        return []  # not known yet at ``now``
    decay = decay_for(age_days, config)
    if decay < config.min_decay:
        return []
    topic = perception.topic or perception.touchpoint
    signals: list[tuple[str, float, float, float | None]] = []  # kind, valence, confidence, score
    if perception.nps is not None:
        valence = config.nps_valence[perception.nps.value]
        signals.append(("nps", valence, config.survey_confidence, float(perception.nps.value)))
    if perception.csat is not None:
        csat = perception.csat
        signals.append(("csat", csat_valence(csat), config.survey_confidence, csat.value))
    if perception.ces is not None:
        ces = perception.ces
        signals.append(("ces", ces_valence(ces), config.survey_confidence, ces.value))
    observations = [
        _observation(perception, kind, valence, confidence, score, age_days, decay, topic, config)
        for kind, valence, confidence, score in signals
    ]
    if perception.valence is not None:
        kind = config.text_source_by_channel.get(perception.channel, "verbatim")
        confidence = (
            perception.confidence
            if perception.confidence is not None
            else config.default_text_confidence
        )
        observations.append(
            _observation(
                perception,
                kind,
                perception.valence,
                confidence,
                None,
                age_days,
                decay,
                topic,
                config,
                text=True,
            )
        )
    return observations


def _observation(
    perception: Perception,
    kind: str,
    valence: float,
    confidence: float,
    score: float | None,
    age_days: float,
    decay: float,
    topic: str | None,
    config: ProfileConfig,
    *,
    text: bool = False,
) -> Observation:
    weight = config.source_weights.get(kind, 0.0) * confidence * decay
    if valence < 0:
        weight *= config.negativity_weight
    emotions = tuple(perception.emotions.get(e) for e in WHEEL) if text else None
    return Observation(
        perception_id=perception.id,
        kind=kind,
        occurred_at=perception.occurred_at,
        age_days=age_days,
        decay=decay,
        weight=weight,
        valence=valence,
        public=perception.public,
        arousal=text_arousal(perception, config) if text else None,
        emotions=emotions,
        churn_intent=perception.flags.churn_intent,
        topic=topic,
        channel=perception.channel.value,
        score=score,
    )


def emotion_of_index(index: int) -> Emotion:
    return WHEEL[index]
