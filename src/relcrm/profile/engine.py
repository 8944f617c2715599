"""The profile engine: perceptions and facts in, a RelationshipProfile out.

Pure functions: no I/O, no global clock (``now`` is passed in), sums taken with
``math.fsum`` so that the same input in any order gives exactly the same output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import fsum

from relcrm.errors import FieldProblem, InputError, InvalidRecordError
from relcrm.models import (
    PRIMARY_DYADS,
    WHEEL,
    ArchetypeDetail,
    CesRollup,
    CsatRollup,
    Emotion,
    EmotionIntensities,
    HealthBand,
    Perception,
    Person,
    PetPeeve,
    RelationshipProfile,
    Trend,
    TrendDirection,
    nps_category,
)
from relcrm.profile.behaviour import behavioural_loyalty
from relcrm.profile.config import ProfileConfig
from relcrm.profile.judgement import Evidence, judge, outreach
from relcrm.profile.observations import Observation, observations_of
from relcrm.profile.reasons import ReasonInputs, explain

DEFAULT_CONFIG = ProfileConfig()


@dataclass(frozen=True, slots=True)
class Attitude:
    evidence: float
    attitude: float


def attitude_of(
    observations: Sequence[Observation], config: ProfileConfig, *, shrink: bool = True
) -> Attitude:
    """E = sum of weights; A = weighted mean valence, shrunk toward 0 by K unless told not."""
    evidence = fsum(o.weight for o in observations)
    weighted = fsum(o.weight * o.valence for o in observations)
    if not shrink:
        return Attitude(evidence=evidence, attitude=weighted / evidence if evidence else 0.0)
    return Attitude(evidence=evidence, attitude=weighted / (evidence + config.shrinkage))


def public_advocacy(observations: Sequence[Observation], config: ProfileConfig) -> float | None:
    public = [o for o in observations if o.public]
    if not public:
        return None
    return attitude_of(public, config).attitude


def emotion_profile(
    observations: Sequence[Observation], config: ProfileConfig
) -> tuple[EmotionIntensities, Emotion | None, str | None]:
    """Weighted mean intensities over text, the dominant emotion, and the dyad if any."""
    text = [o for o in observations if o.emotions is not None]
    total = fsum(o.weight for o in text)
    values = [0.0] * len(WHEEL)
    if total > 0:
        for index in range(len(WHEEL)):
            share = fsum(o.weight * o.emotions[index] for o in text if o.emotions is not None)
            values[index] = min(1.0, max(0.0, share / total))
    profile = EmotionIntensities(**{e.value: v for e, v in zip(WHEEL, values, strict=True)})
    ranked = sorted(range(len(WHEEL)), key=lambda i: (-values[i], i))
    first, second = ranked[0], ranked[1]
    if values[first] < config.dominant_min:
        return profile, None, None
    dominant = WHEEL[first]
    dyad = None
    if values[second] > 0 and values[second] >= config.dyad_ratio * values[first]:
        dyad = PRIMARY_DYADS.get(frozenset({WHEEL[first], WHEEL[second]}))
    return profile, dominant, dyad


def band_of(health: float, evidence: float, config: ProfileConfig) -> HealthBand:
    if evidence < config.min_evidence:
        return HealthBand.UNKNOWN
    if health >= config.healthy_from:
        return HealthBand.HEALTHY
    if health >= config.watch_from:
        return HealthBand.WATCH
    return HealthBand.AT_RISK


def trend_of(history: Sequence[Observation], config: ProfileConfig) -> Trend:
    """Attitude over the last window against attitude as it stood when the window opened.

    ``history`` holds the observations as of now, including those too old to count
    now but young enough to have counted when the window opened; their weight then
    was their weight now times 2^(window / half-life). Both sides are plain weighted
    means: shrinkage would make whichever side has less evidence look more neutral, and
    so invent a trend. Silence is not improvement: with too little feedback in the
    window, or too little before it, the direction is unknown.
    """
    window = config.trend_window_days
    then = 2.0 ** (window / config.half_life_days)
    before = [o._replace(weight=o.weight * then) for o in history if o.age_days >= window]
    past = attitude_of(before, config, shrink=False)
    recent = attitude_of(
        [o for o in history if o.age_days < window and o.decay >= config.min_decay],
        config,
        shrink=False,
    )
    if past.evidence < config.min_evidence or recent.evidence < config.trend_min_recent_evidence:
        return Trend(direction=TrendDirection.UNKNOWN, window_days=window)
    delta = recent.attitude - past.attitude
    if delta >= config.trend_threshold:
        direction = TrendDirection.IMPROVING
    elif delta <= -config.trend_threshold:
        direction = TrendDirection.DECLINING
    else:
        direction = TrendDirection.STABLE
    return Trend(
        direction=direction, window_days=window, attitude_before=past.attitude, delta=delta
    )


def pet_peeves_of(observations: Sequence[Observation], config: ProfileConfig) -> list[PetPeeve]:
    """Topics carrying the most negative weight, most negative first."""
    negative: dict[str, list[Observation]] = {}
    for o in observations:
        if o.topic and o.valence < 0:
            negative.setdefault(o.topic, []).append(o)
    peeves = [
        PetPeeve(
            topic=topic,
            negative_weight=fsum(o.weight * o.valence for o in items),
            mentions=len({o.perception_id for o in items}),
        )
        for topic, items in negative.items()
    ]
    peeves = [p for p in peeves if p.negative_weight <= -config.pet_peeve_min_weight]
    peeves.sort(key=lambda p: (p.negative_weight, p.topic))
    return peeves[: config.pet_peeve_count]


def _last(observations: Iterable[Observation]) -> Observation | None:
    return max(observations, key=lambda o: (o.occurred_at, o.perception_id), default=None)


def _mean(values: Sequence[float]) -> float | None:
    return fsum(values) / len(values) if values else None


def _csat_rollup(
    observations: Sequence[Observation], perceptions: dict[str, Perception]
) -> CsatRollup:
    csat = [o for o in observations if o.kind == "csat"]
    top = 0
    for o in csat:
        score = perceptions[o.perception_id].csat
        if score is not None and score.value >= score.scale_max - 1:
            top += 1
    return CsatRollup(
        count=len(csat),
        mean_valence=_mean([o.valence for o in csat]),
        top_box_share=top / len(csat) if csat else None,
    )


def _ces_rollup(observations: Sequence[Observation]) -> CesRollup:
    ces = [o for o in observations if o.kind == "ces"]
    return CesRollup(
        count=len(ces),
        mean_valence=_mean([o.valence for o in ces]),
        easy_share=sum(1 for o in ces if o.valence > 0) / len(ces) if ces else None,
    )


def _check_inputs(
    person: Person, perceptions: Iterable[Perception], now: datetime
) -> list[Perception]:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError(
            f"the clock must carry a time zone; got naive {now.isoformat()}",
            code="profile.naive_clock",
            hint="pass datetime.now(timezone.utc) or another aware datetime",
        )
    unique: dict[str, Perception] = {}
    for perception in perceptions:
        if perception.person_id != person.id:
            raise InvalidRecordError(
                f"perception {perception.id}",
                [
                    FieldProblem(
                        "person_id",
                        f"belongs to another person than {person.id!r}",
                        repr(perception.person_id),
                    )
                ],
                hint="group perceptions by person before profiling",
            )
        unique.setdefault(perception.id, perception)
    return list(unique.values())


def build_profile(
    person: Person,
    perceptions: Iterable[Perception],
    now: datetime,
    config: ProfileConfig = DEFAULT_CONFIG,
) -> RelationshipProfile:
    """Where the relationship with ``person`` stands at ``now``, and why, in plain words."""
    items = _check_inputs(person, perceptions, now)
    by_id = {p.id: p for p in items}
    # Keep what would have counted when the trend window opened; count only what counts now.
    floor = config.min_decay * 0.5 ** (config.trend_window_days / config.half_life_days)
    history = [o for p in items for o in observations_of(p, now, config, min_decay=floor)]
    observations = [o for o in history if o.decay >= config.min_decay]

    overall = attitude_of(observations, config)
    advocacy = public_advocacy(observations, config)
    emotions, dominant, dyad = emotion_profile(observations, config)
    churn_w = max((o.decay for o in observations if o.churn_intent), default=0.0)
    negpub_w = max(
        (o.decay for o in observations if o.public and o.valence <= config.negative_public_valence),
        default=0.0,
    )
    raw_health = (
        50.0
        + 50.0 * overall.attitude
        - config.churn_penalty * churn_w
        - config.negative_public_penalty * negpub_w
    )
    health = min(100.0, max(0.0, raw_health))
    band = band_of(health, overall.evidence, config)
    escalations = [
        o
        for o in observations
        if o.age_days <= config.escalation_days
        and o.valence <= config.escalation_valence
        and o.arousal is not None
        and (
            o.arousal >= config.escalation_arousal or o.valence <= config.escalation_severe_valence
        )
    ]
    loyalty = behavioural_loyalty(person.facts, now, config)
    facts = Evidence(
        overall.evidence,
        overall.attitude,
        advocacy,
        loyalty,
        dominant,
        band,
        observations,
        escalated=bool(escalations),
    )
    judgement = judge(person, now, facts, config)
    archetype, detail, segment = judgement.archetype, judgement.detail, judgement.segment
    churn_risk = churn_w >= config.churn_risk_min_decay or detail in (
        ArchetypeDetail.DEFECTING,
        ArchetypeDetail.VOCAL_DEFECTOR,
    )
    trend = trend_of(history, config)
    reach_out = outreach(judgement, facts, escalations, trend, config)
    peeves = pet_peeves_of(observations, config)
    last_nps = _last(o for o in observations if o.kind == "nps")
    last_nps_value = (
        int(last_nps.score) if last_nps is not None and last_nps.score is not None else None
    )
    category = nps_category(last_nps_value) if last_nps_value is not None else None
    reasons = explain(
        ReasonInputs(
            person=person,
            now=now,
            config=config,
            observations=observations,
            evidence=overall.evidence,
            attitude=overall.attitude,
            health=health,
            band=band,
            dominant=dominant,
            archetype=archetype,
            detail=detail,
            basis=judgement.basis,
            segment=segment,
            loyalty=loyalty,
            trend=trend,
            pet_peeves=peeves,
            escalations=escalations,
            churn_w=churn_w,
            last_seen=_last(observations),
            perceptions=items,
        )
    )
    return RelationshipProfile(
        person_id=person.id,
        as_of=now,
        model_version=config.model_version,
        evidence=overall.evidence,
        attitude=overall.attitude,
        health=health,
        band=band,
        public_advocacy=advocacy,
        emotion_profile=emotions,
        dominant_emotion=dominant if dominant is not None else "none",
        emotion_dyad=dyad,
        behavioural_loyalty=loyalty,
        archetype=archetype,
        archetype_detail=detail,
        segment=segment,
        trend=trend,
        last_nps=last_nps_value,
        last_nps_at=last_nps.occurred_at if last_nps is not None else None,
        last_nps_category=category,
        csat=_csat_rollup(observations, by_id),
        ces=_ces_rollup(observations),
        escalation=bool(escalations),
        churn_risk=churn_risk,
        needs_outreach=reach_out.needed,
        outreach_reason=reach_out.reason,
        pet_peeves=tuple(peeves),
        reasons=reasons,
        perceptions_considered=len({o.perception_id for o in observations}),
    )
