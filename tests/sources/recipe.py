"""A minimal, independent reading of the scoring recipe (reference note, section 5, with
the v2 changes of docs/concepts.md: grid constants, behaviour, promoters, stated intent).

Only what the archetype needs (E, A, Adv, dominant emotion, B), so that the synthetic
personas can be checked against the recipe itself, whatever state the profile engine is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relcrm.models import Archetype, ArchetypeDetail, Channel, Perception, Person

NPS_VALENCE = (-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.3, 0.0, 0.2, 0.8, 1.0)
SOURCE_WEIGHT = {
    "nps": 1.0,
    "csat": 0.7,
    "ces": 0.6,
    "verbatim": 0.8,
    "ticket": 0.5,
    "social": 0.9,
    "review": 0.9,
}
TICKET_LIKE = {Channel.SUPPORT, Channel.CHAT, Channel.EMAIL, Channel.CALL}


@dataclass(frozen=True)
class Judgement:
    evidence: float
    attitude: float
    advocacy: float | None
    dominant: str
    loyalty: float | None
    archetype: Archetype
    detail: ArchetypeDetail | None


def text_source(channel: Channel, *, chat_is_ticket: bool = True) -> str:
    if channel is Channel.SOCIAL:
        return "social"
    if channel is Channel.REVIEW:
        return "review"
    if channel is Channel.SUPPORT or (chat_is_ticket and channel in TICKET_LIKE):
        return "ticket"
    return "verbatim"


def judge(
    person: Person,
    perceptions: list[Perception],
    now: datetime,
    *,
    chat_is_ticket: bool = True,
    negativity: float = 1.0,
) -> Judgement:
    total = weighted = public_total = public_weighted = text_total = 0.0
    emotions: dict[str, float] = {}
    said_trapped = said_leaving = promoter = False
    last_nps: tuple[datetime, int] | None = None
    for p in perceptions:
        age = (now - p.occurred_at).total_seconds() / 86400
        decay = 0.5 ** (age / 90)
        if age <= 120:
            said_trapped |= p.flags.trapped
            said_leaving |= p.flags.churn_intent and not p.flags.trapped
        if p.nps is not None and age <= 180 and (last_nps is None or p.occurred_at > last_nps[0]):
            last_nps = (p.occurred_at, p.nps.value)
        signals: list[tuple[str, float, float]] = []
        if p.nps is not None:
            signals.append(("nps", NPS_VALENCE[p.nps.value], 1.0))
        if p.csat is not None:
            c = p.csat
            signals.append(
                ("csat", 2 * (c.value - c.scale_min) / (c.scale_max - c.scale_min) - 1, 1.0)
            )
        if p.ces is not None:
            ces = p.ces
            position = (ces.value - ces.scale_min) / (ces.scale_max - ces.scale_min)
            v = 2 * position - 1 if ces.direction == "ease" else 1 - 2 * position
            signals.append(("ces", v, 1.0))
        if p.valence is not None:
            source = text_source(p.channel, chat_is_ticket=chat_is_ticket)
            valence = min(p.valence, -0.3) if p.flags.sarcasm else p.valence
            signals.append((source, valence, p.confidence if p.confidence is not None else 0.6))
        for source, valence, confidence in signals:
            w = SOURCE_WEIGHT[source] * confidence * decay * (negativity if valence < 0 else 1.0)
            total += w
            weighted += w * valence
            if p.public:
                public_total += w
                public_weighted += w * valence
            if source not in ("nps", "csat", "ces"):
                text_total += w
                for emotion, value in p.emotions.items():
                    emotions[emotion.value] = emotions.get(emotion.value, 0.0) + w * value
    attitude = weighted / (total + 0.5)
    advocacy = public_weighted / (public_total + 0.5) if public_total > 0 else None
    profile = {e: v / text_total for e, v in emotions.items()} if text_total > 0 else {}
    top = max(profile.items(), key=lambda item: item[1], default=("none", 0.0))
    dominant = top[0] if top[1] >= 0.15 else "none"
    promoter = last_nps is not None and last_nps[1] >= 9
    loyalty = behavioural_loyalty(person, now)
    archetype, detail = classify(total, attitude, advocacy, dominant, loyalty, promoter)
    if attitude < 0.2 and (said_trapped or said_leaving):
        blame = advocacy is not None and advocacy <= -0.3
        if said_trapped:
            archetype = Archetype.SPURIOUS_LOYALTY
            detail = ArchetypeDetail.TRAPPED_DETRACTOR if blame else ArchetypeDetail.TRAPPED
        else:
            detail = ArchetypeDetail.VOCAL_DEFECTOR if blame else ArchetypeDetail.DEFECTING
    return Judgement(total, attitude, advocacy, dominant, loyalty, archetype, detail)


def behavioural_loyalty(person: Person, now: datetime) -> float | None:
    facts = person.facts
    expected = facts.expected_purchases_per_year or 4
    parts: list[tuple[float, float]] = []
    since = facts.days_since_last_purchase(now)
    if since is not None:
        parts.append((0.5 ** (since * expected / 720), 1.0))
    if facts.purchases_last_365d is not None:
        parts.append((min(1.0, facts.purchases_last_365d / expected), 1.0))
    if facts.renewed_last_term is not None:
        parts.append((1.0 if facts.renewed_last_term else 0.0, 1.0))
    if facts.renewals is not None:
        parts.append((min(1.0, facts.renewals / 3), 0.5))
    if not parts:
        return None
    tenure = facts.tenure_days(now)
    if tenure is not None:
        parts.append((min(1.0, tenure / 730), 0.5))
    return sum(v * w for v, w in parts) / sum(w for _, w in parts)


def classify(
    evidence: float,
    attitude: float,
    advocacy: float | None,
    dominant: str,
    loyalty: float | None,
    promoter: bool,
) -> tuple[Archetype, ArchetypeDetail | None]:
    loud_praise = advocacy is not None and advocacy >= 0.3
    loud_blame = advocacy is not None and advocacy <= -0.3
    if evidence < 0.3:
        return Archetype.INSUFFICIENT_EVIDENCE, None
    if loyalty is None:
        return Archetype.UNKNOWN_BEHAVIOR, None
    if attitude >= 0.2 and loyalty >= 0.5:
        if loud_praise:
            return Archetype.TRUE_LOYALTY, ArchetypeDetail.ADVOCATE
        if (attitude >= 0.6 and dominant in ("joy", "trust")) or promoter:
            return Archetype.TRUE_LOYALTY, ArchetypeDetail.DELIGHTED
        return Archetype.TRUE_LOYALTY, None
    if attitude >= 0.2:
        return Archetype.LATENT_LOYALTY, ArchetypeDetail.FAN_NOT_BUYING
    if loyalty >= 0.5:
        if attitude > -0.3:
            return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.INERT
        if loud_blame:
            return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.TRAPPED_DETRACTOR
        return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.TRAPPED
    if loud_blame:
        return Archetype.NO_LOYALTY, ArchetypeDetail.VOCAL_DEFECTOR
    if attitude <= -0.3:
        return Archetype.NO_LOYALTY, ArchetypeDetail.DEFECTING
    return Archetype.NO_LOYALTY, ArchetypeDetail.INDIFFERENT
