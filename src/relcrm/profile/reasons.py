"""Reasons: two to four short sentences a sales rep can read and act on.

Every sentence is built from the same numbers the profile holds, so a reason never
says something the scores do not support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from math import fsum

from relcrm.models import (
    WHEEL,
    Archetype,
    ArchetypeDetail,
    Emotion,
    HealthBand,
    Perception,
    Person,
    PetPeeve,
    Segment,
    Trend,
    TrendDirection,
)
from relcrm.profile.config import ProfileConfig
from relcrm.profile.judgement import Basis
from relcrm.profile.observations import Observation

_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)

_ADJECTIVE = {
    Emotion.ANGER: "angry",
    Emotion.DISGUST: "disgusted",
    Emotion.SADNESS: "disappointed",
    Emotion.FEAR: "worried",
    Emotion.JOY: "happy",
    Emotion.TRUST: "appreciative",
    Emotion.ANTICIPATION: "eager",
    Emotion.SURPRISE: "surprised",
}

_CONTACT_NOUN = {"ticket": "support contact", "social": "public post", "review": "review"}

_SUPPORT_KINDS = frozenset({"ticket"})
_PUBLIC_KINDS = frozenset({"social", "review"})


@dataclass(frozen=True)
class ReasonInputs:
    person: Person
    now: datetime
    config: ProfileConfig
    observations: Sequence[Observation]
    evidence: float
    attitude: float
    health: float
    band: HealthBand
    dominant: Emotion | None
    archetype: Archetype
    detail: ArchetypeDetail | None
    basis: Basis
    segment: Segment
    loyalty: float | None
    trend: Trend
    pet_peeves: Sequence[PetPeeve]
    escalations: Sequence[Observation]
    churn_w: float
    last_seen: Observation | None
    perceptions: Sequence[Perception]


def count_phrase(count: int, singular: str, plural: str | None = None) -> str:
    word = _NUMBER_WORDS[count] if count < len(_NUMBER_WORDS) else str(count)
    noun = singular if count == 1 else (plural or singular + "s")
    return f"{word} {noun}"


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def _behaviour(inputs: ReasonInputs) -> str | None:
    facts = inputs.person.facts
    parts: list[str] = []
    if facts.renewals:
        parts.append(count_phrase(facts.renewals, "renewal"))
    if facts.purchases_last_365d is not None:
        parts.append(count_phrase(facts.purchases_last_365d, "purchase") + " in the last year")
    tenure = facts.tenure_days(inputs.now)
    if len(parts) < 2 and tenure is not None and tenure >= 365:
        parts.append(
            f"a customer for {int(tenure // 365)} years"
            if tenure >= 730
            else "a customer for a year"
        )
    return ", ".join(parts[:2]) or None


def _group_emotion(items: Sequence[Observation]) -> Emotion | None:
    # Compensated sums: the word must not depend on the order the perceptions come in
    # (two near-equal emotions once swapped places between two orders, and engines).
    terms: list[list[float]] = [[] for _ in WHEEL]
    for o in items:
        if o.emotions is not None:
            for index, value in enumerate(o.emotions):
                terms[index].append(o.weight * value)
    totals = [fsum(values) for values in terms]
    best = max(range(len(WHEEL)), key=lambda i: (totals[i], -i))
    return WHEEL[best] if totals[best] > 0 else None


def _evidence(inputs: ReasonInputs, *, negative: bool) -> list[str]:
    """Concrete facts behind a feeling: the last NPS, support contacts, public posts."""
    window = inputs.config.reason_window_days
    recent = [o for o in inputs.observations if o.age_days <= window]
    fits = [o for o in recent if (o.valence < 0 if negative else o.valence > 0)]
    phrases: list[str] = []
    last_nps = max(
        (o for o in inputs.observations if o.kind == "nps"),
        key=lambda o: (o.occurred_at, o.perception_id),
        default=None,
    )
    if last_nps is not None and last_nps.score is not None and (last_nps.valence < 0) == negative:
        phrases.append(f"NPS {int(last_nps.score)} on {_day(last_nps.occurred_at)}")
    last_csat = max(
        (o for o in fits if o.kind == "csat"),
        key=lambda o: (o.occurred_at, o.perception_id),
        default=None,
    )
    if last_csat is not None and last_csat.score is not None and not phrases:
        # + 0.0: a score of -0.0 reads "CSAT 0" (as the recipe, whose windows drop the sign)
        phrases.append(f"CSAT {last_csat.score + 0.0:g} on {_day(last_csat.occurred_at)}")
    support = [o for o in fits if o.kind in _SUPPORT_KINDS]
    if support:
        emotion = _group_emotion(support)
        tone = _ADJECTIVE.get(emotion, "") if emotion is not None else ""
        if negative and emotion not in (
            Emotion.ANGER,
            Emotion.DISGUST,
            Emotion.SADNESS,
            Emotion.FEAR,
        ):
            tone = "unhappy"
        if not negative and emotion not in (Emotion.JOY, Emotion.TRUST, Emotion.ANTICIPATION):
            tone = "positive"
        phrases.append(count_phrase(len(support), f"{tone} support contact"))
    public = [o for o in fits if o.public and o.kind in _PUBLIC_KINDS | {"verbatim"}]
    if public:
        phrases.append(
            count_phrase(
                len(public), "negative public post" if negative else "positive public post"
            )
        )
    comments = [o for o in fits if o.kind == "verbatim" and not o.public]
    if comments and len(phrases) < 3:
        phrases.append(
            count_phrase(len(comments), "critical comment" if negative else "warm comment")
        )
    return phrases


def _join(parts: Sequence[str]) -> str:
    return ", ".join(parts)


def _mood(inputs: ReasonInputs, attitude: float) -> str:
    config = inputs.config
    if attitude >= config.attitude_high:
        return "positive"
    return "negative" if attitude <= config.attitude_unhappy else "mixed"


def _stated(inputs: ReasonInputs, negative_facts: str) -> str | None:
    """Headlines for segments set by what the person said (recipe v2)."""
    public = " and says so in public" if inputs.segment is Segment.TRAPPED_AND_VOCAL else ""
    if inputs.basis is Basis.STATED_TRAPPED:
        behaviour = _behaviour(inputs)
        buys = f"Keeps buying ({behaviour})" if behaviour else "Still a customer"
        return (
            f"{buys} but says they stay only because they cannot leave{public}: {negative_facts}."
        )
    if inputs.basis is Basis.STATED_CHURN:
        said = [o for o in inputs.observations if o.churn_intent and not o.trapped]
        latest = max(said, key=lambda o: (o.occurred_at, o.perception_id), default=None)
        when = f" on {_day(latest.occurred_at)}" if latest is not None else ""
        aloud = " in public" if inputs.detail is ArchetypeDetail.VOCAL_DEFECTOR else ""
        return f"Said{aloud}{when} they are leaving or may leave: {negative_facts}."
    if inputs.basis is Basis.TOO_NEW:
        tenure = inputs.person.facts.tenure_days(inputs.now) or 0.0
        days = count_phrase(int(tenure), "day")
        if inputs.evidence <= 0:
            return f"A customer for {days}: too new to judge, and no feedback yet."
        mood = _mood(inputs, inputs.attitude)
        facts = negative_facts if mood != "positive" else _join(_evidence(inputs, negative=False))
        return f"A customer for {days}: too new to judge loyalty; first feedback {mood} ({facts})."
    return None


def _thin(inputs: ReasonInputs) -> str:
    """Headlines when little recent feedback exists and behaviour decides (recipe v2)."""
    behaviour = _behaviour(inputs)
    doing = f" ({behaviour})" if behaviour else ""
    if inputs.segment is Segment.LOYAL:
        return f"Buys regularly{doing}; no recent feedback to say how they feel."
    if inputs.segment is Segment.TRAPPED:
        return f"Keeps buying{doing}, but the last feedback we have was negative."
    if inputs.segment is Segment.LATENT:
        return f"Said good things last time, but is buying little{doing}."
    if inputs.segment is Segment.AT_RISK:
        return f"Buying little{doing}, and the last feedback we have was negative."
    if inputs.segment is Segment.DRIFTING:
        return f"Buying less{doing}, and no recent feedback."
    return "Not enough recent feedback to judge how this person feels."


def _headline(inputs: ReasonInputs) -> str:
    detail = inputs.detail
    behaviour = _behaviour(inputs)
    negative_facts = (
        _join(_evidence(inputs, negative=True)) or f"attitude {_signed(inputs.attitude)}"
    )
    positive_facts = (
        _join(_evidence(inputs, negative=False)) or f"attitude {_signed(inputs.attitude)}"
    )
    stated = _stated(inputs, negative_facts)
    if stated is not None:
        return stated
    buys = f"Keeps buying ({behaviour})" if behaviour else "Keeps buying"
    if inputs.archetype is Archetype.INSUFFICIENT_EVIDENCE:
        return _thin(inputs)
    if inputs.archetype is Archetype.UNKNOWN_BEHAVIOR:
        mood = _mood(inputs, inputs.attitude)
        facts = positive_facts if mood == "positive" else negative_facts
        return f"Feels {mood} ({facts}), but no purchase facts are known to judge loyalty."
    if detail is ArchetypeDetail.ADVOCATE:
        return f"Loyal and speaks up for us in public: {positive_facts}."
    if detail is ArchetypeDetail.DELIGHTED:
        suffix = f"; {behaviour}" if behaviour else ""
        return f"Delighted and loyal: {positive_facts}{suffix}."
    if inputs.archetype is Archetype.TRUE_LOYALTY:
        return f"Loyal and mostly positive: {positive_facts}" + (
            f"; {behaviour}." if behaviour else "."
        )
    if detail is ArchetypeDetail.FAN_NOT_BUYING:
        return f"Likes us but is not buying much: {positive_facts}."
    if detail is ArchetypeDetail.TRAPPED_DETRACTOR:
        return f"{buys} but is unhappy and says so in public: {negative_facts}."
    if detail is ArchetypeDetail.TRAPPED:
        return f"{buys} but is unhappy: {negative_facts}."
    if detail is ArchetypeDetail.INERT:
        return f"{buys} without strong feelings either way (attitude {_signed(inputs.attitude)})."
    if detail is ArchetypeDetail.VOCAL_DEFECTOR:
        return f"Unhappy, buying little and complaining in public: {negative_facts}."
    if detail is ArchetypeDetail.DEFECTING:
        return f"Unhappy and buying little: {negative_facts}."
    return f"Neither buying much nor feeling strongly (attitude {_signed(inputs.attitude)})."


def _health(inputs: ReasonInputs) -> str:
    if inputs.band is HealthBand.UNKNOWN:
        seen = max(
            (p for p in inputs.perceptions if p.occurred_at <= inputs.now),
            key=lambda p: (p.occurred_at, p.id),
            default=None,
        )
        if seen is None:
            return "No feedback recorded yet."
        return f"Last heard from on {_day(seen.occurred_at)} ({seen.channel.value})."
    band = {"healthy": "healthy", "watch": "worth watching", "at_risk": "at risk"}[
        inputs.band.value
    ]
    sentence = f"Health {inputs.health:.0f}/100 ({band})"
    if inputs.dominant is not None:
        sentence += f"; the strongest feeling is {inputs.dominant.value}"
    return sentence + "."


def _flags(inputs: ReasonInputs) -> list[str]:
    sentences: list[str] = []
    if inputs.escalations:
        latest = max(inputs.escalations, key=lambda o: (o.occurred_at, o.perception_id))
        when = _day(latest.occurred_at)
        what = _CONTACT_NOUN.get(latest.kind, "comment")
        sentences.append(f"Needs attention now: a heated, negative {what} on {when}.")
    churn = [o for o in inputs.observations if o.churn_intent]
    if churn and inputs.churn_w >= inputs.config.churn_risk_min_decay:
        latest = max(churn, key=lambda o: (o.occurred_at, o.perception_id))
        sentences.append(f"Said they may leave on {_day(latest.occurred_at)}.")
    return sentences


def _trend(inputs: ReasonInputs) -> str | None:
    trend = inputs.trend
    if trend.attitude_before is None or trend.delta is None:
        return None
    now_value = trend.attitude_before + trend.delta
    before, after = _signed(trend.attitude_before), _signed(now_value)
    span = f"from {before} to {after} over {trend.window_days} days"
    if trend.direction is TrendDirection.DECLINING:
        return f"Getting unhappier: attitude fell {span}."
    if trend.direction is TrendDirection.IMPROVING:
        return f"Getting happier: attitude rose {span}."
    return None


def _peeves(inputs: ReasonInputs) -> str | None:
    if not inputs.pet_peeves:
        return None
    topics = [p.topic for p in inputs.pet_peeves]
    listed = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " and " + topics[-1]
    return f"Most unhappy about {listed}."


def explain(inputs: ReasonInputs) -> tuple[str, ...]:
    """Headline, health, then the most urgent of: flags, trend, pet peeves (at most four)."""
    sentences = [_headline(inputs), _health(inputs)]
    extras = [*_flags(inputs), _trend(inputs), _peeves(inputs)]
    for sentence in extras:
        if sentence and len(sentences) < 4:
            sentences.append(sentence)
    return tuple(sentences)
