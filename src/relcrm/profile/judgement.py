"""Recipe v2: from the numbers to a segment, and whether a human should reach out now.

Dick & Basu's attitude x patronage grid (``archetype_of``) stays the core. Around it, v2
adds what a customer-success manager does without thinking:

- **stated intent wins**: a customer who says they stay only because they are locked in is
  trapped, one who says they are leaving is at risk, whatever they still buy;
- **thin evidence uses behaviour**: with no recent feedback, a regular buyer is loyal and a
  lapsing one drifting (the feelings we last heard tip latent / trapped / at risk);
- **too new to judge**: a customer of a few weeks has no loyalty yet, only a first mood;
- **promoters who keep buying are delighted**, whatever shrinkage did to their attitude;
- **outreach**: an escalation, a recent statement of leaving, a trapped customer
  complaining in public, or a sharp fall in attitude asks for a human now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from math import fsum

from relcrm.models import (
    Archetype,
    ArchetypeDetail,
    Emotion,
    HealthBand,
    Person,
    Segment,
    Trend,
    TrendDirection,
)
from relcrm.profile.config import ProfileConfig
from relcrm.profile.observations import Observation

PROMOTER = 9
"""The lowest NPS answer of a promoter (Reichheld)."""


class Basis(StrEnum):
    """What decided the segment (the reasons say it in words)."""

    GRID = "attitude and patronage"
    THIN_EVIDENCE = "behaviour, little recent feedback"
    TOO_NEW = "too new to judge"
    STATED_TRAPPED = "says they are locked in"
    STATED_CHURN = "says they are leaving"


@dataclass(frozen=True, slots=True)
class Judgement:
    """The archetype, its detail, the segment, and what decided them."""

    archetype: Archetype
    detail: ArchetypeDetail | None
    segment: Segment
    basis: Basis


@dataclass(frozen=True, slots=True)
class Outreach:
    """Whether a human should contact the person now, and the one sentence saying why."""

    needed: bool
    reason: str
    because: Observation | None = None


def archetype_of(
    evidence: float,
    attitude: float,
    advocacy: float | None,
    loyalty: float | None,
    dominant: Emotion | None,
    config: ProfileConfig,
) -> tuple[Archetype, ArchetypeDetail | None]:
    """Dick & Basu's attitude x patronage grid, with Jones & Sasser's hostages and terrorists."""
    if evidence < config.min_evidence:
        return Archetype.INSUFFICIENT_EVIDENCE, None
    if loyalty is None:
        return Archetype.UNKNOWN_BEHAVIOR, None
    vocal_negative = advocacy is not None and advocacy <= config.advocacy_negative
    if attitude >= config.attitude_high and loyalty >= config.behaviour_high:
        if advocacy is not None and advocacy >= config.advocacy_positive:
            return Archetype.TRUE_LOYALTY, ArchetypeDetail.ADVOCATE
        if attitude >= config.attitude_delighted and dominant in (Emotion.JOY, Emotion.TRUST):
            return Archetype.TRUE_LOYALTY, ArchetypeDetail.DELIGHTED
        return Archetype.TRUE_LOYALTY, None
    if attitude >= config.attitude_high:
        return Archetype.LATENT_LOYALTY, ArchetypeDetail.FAN_NOT_BUYING
    if loyalty >= config.behaviour_high:
        if attitude <= config.attitude_unhappy:
            if vocal_negative:
                return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.TRAPPED_DETRACTOR
            return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.TRAPPED
        return Archetype.SPURIOUS_LOYALTY, ArchetypeDetail.INERT
    if vocal_negative:
        return Archetype.NO_LOYALTY, ArchetypeDetail.VOCAL_DEFECTOR
    if attitude <= config.attitude_unhappy:
        return Archetype.NO_LOYALTY, ArchetypeDetail.DEFECTING
    return Archetype.NO_LOYALTY, ArchetypeDetail.INDIFFERENT


_SEGMENT_BY_DETAIL: dict[ArchetypeDetail | None, Segment] = {
    ArchetypeDetail.ADVOCATE: Segment.DELIGHTED,
    ArchetypeDetail.DELIGHTED: Segment.DELIGHTED,
    ArchetypeDetail.FAN_NOT_BUYING: Segment.LATENT,
    ArchetypeDetail.TRAPPED: Segment.TRAPPED,
    ArchetypeDetail.TRAPPED_DETRACTOR: Segment.TRAPPED_AND_VOCAL,
    ArchetypeDetail.INERT: Segment.DRIFTING,
    ArchetypeDetail.VOCAL_DEFECTOR: Segment.AT_RISK,
    ArchetypeDetail.DEFECTING: Segment.AT_RISK,
    ArchetypeDetail.INDIFFERENT: Segment.DRIFTING,
}


def segment_of(archetype: Archetype, detail: ArchetypeDetail | None, band: HealthBand) -> Segment:
    """Fold archetype and detail into the one word a sales rep reads."""
    if archetype is Archetype.INSUFFICIENT_EVIDENCE:
        return Segment.UNKNOWN
    if archetype is Archetype.UNKNOWN_BEHAVIOR:
        return Segment.AT_RISK if band is HealthBand.AT_RISK else Segment.UNKNOWN
    if archetype is Archetype.TRUE_LOYALTY and detail is None:
        return Segment.LOYAL
    return _SEGMENT_BY_DETAIL[detail]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the judgement reads besides the grid's numbers."""

    evidence: float
    attitude: float
    advocacy: float | None
    loyalty: float | None
    dominant: Emotion | None
    band: HealthBand
    observations: Sequence[Observation]
    escalated: bool


def latest(observations: Sequence[Observation]) -> Observation | None:
    return max(observations, key=lambda o: (o.occurred_at, o.perception_id), default=None)


def stated_churn(observations: Sequence[Observation], days: float) -> list[Observation]:
    """Statements of leaving within ``days``; a "would leave but cannot" is not one."""
    return [o for o in observations if o.churn_intent and not o.trapped and o.age_days <= days]


def stated_trapped(observations: Sequence[Observation], days: float) -> list[Observation]:
    return [o for o in observations if o.trapped and o.age_days <= days]


def _unshrunk_attitude(observations: Sequence[Observation]) -> float | None:
    total = fsum(o.weight for o in observations)
    if total <= 0:
        return None
    return fsum(o.weight * o.valence for o in observations) / total


def judge(person: Person, now: datetime, facts: Evidence, config: ProfileConfig) -> Judgement:
    """The segment a customer-success manager would give, with the basis for it."""
    archetype, detail = archetype_of(
        facts.evidence, facts.attitude, facts.advocacy, facts.loyalty, facts.dominant, config
    )
    vocal_negative = _speaks_out(facts, config)
    not_a_fan = facts.attitude < config.attitude_high
    if stated_trapped(facts.observations, config.intent_days) and not_a_fan:
        detail = ArchetypeDetail.TRAPPED_DETRACTOR if vocal_negative else ArchetypeDetail.TRAPPED
        return Judgement(
            Archetype.SPURIOUS_LOYALTY, detail, _SEGMENT_BY_DETAIL[detail], Basis.STATED_TRAPPED
        )
    if stated_churn(facts.observations, config.intent_days) and not_a_fan:
        detail = ArchetypeDetail.VOCAL_DEFECTOR if vocal_negative else ArchetypeDetail.DEFECTING
        return Judgement(archetype, detail, Segment.AT_RISK, Basis.STATED_CHURN)
    tenure = person.facts.tenure_days(now)
    if tenure is not None and tenure < config.new_customer_days:
        first = _unshrunk_attitude(facts.observations)
        unhappy = first is not None and first <= config.new_customer_unhappy
        segment = Segment.AT_RISK if unhappy or facts.escalated else Segment.UNKNOWN
        return Judgement(Archetype.UNKNOWN_BEHAVIOR, None, segment, Basis.TOO_NEW)
    if archetype is Archetype.INSUFFICIENT_EVIDENCE:
        return Judgement(archetype, None, _thin_segment(facts, config), Basis.THIN_EVIDENCE)
    if archetype is Archetype.TRUE_LOYALTY and detail is None and _promoter(facts, config):
        # Reichheld's promoter who keeps buying: delighted, whatever shrinkage did to A.
        detail = ArchetypeDetail.DELIGHTED
    return Judgement(archetype, detail, segment_of(archetype, detail, facts.band), Basis.GRID)


def _promoter(facts: Evidence, config: ProfileConfig) -> bool:
    """Whether the latest NPS answer, if recent, is a 9 or a 10."""
    answer = latest([o for o in facts.observations if o.kind == "nps"])
    return (
        answer is not None
        and answer.score is not None
        and answer.score >= PROMOTER
        and answer.age_days <= config.reason_window_days
    )


def _speaks_out(facts: Evidence, config: ProfileConfig) -> bool:
    """Complains in public: negative public advocacy, or a recent public post that is
    clearly negative (one angry post is speaking out, however little else is public)."""
    if facts.advocacy is not None and facts.advocacy <= config.advocacy_negative:
        return True
    return any(
        o.public
        and o.valence <= config.public_complaint_valence
        and o.age_days <= config.intent_days
        for o in facts.observations
    )


def _thin_segment(facts: Evidence, config: ProfileConfig) -> Segment:
    """Little recent feedback: what the person does decides, what they last said tips it."""
    if facts.loyalty is None:
        return Segment.UNKNOWN
    attitude = _unshrunk_attitude(facts.observations)
    unhappy = attitude is not None and attitude <= config.attitude_unhappy
    if facts.loyalty >= config.behaviour_high:
        return Segment.TRAPPED if unhappy else Segment.LOYAL
    if attitude is not None and attitude >= config.attitude_high:
        return Segment.LATENT
    return Segment.AT_RISK if unhappy else Segment.DRIFTING


_CONTACT_NOUN = {"ticket": "support contact", "social": "public post", "review": "review"}


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def outreach(
    judgement: Judgement,
    facts: Evidence,
    escalations: Sequence[Observation],
    trend: Trend,
    config: ProfileConfig,
) -> Outreach:
    """Whether a human should reach out now: the first of escalation, stated churn,
    trapped and complaining in public, a sharp decline (from content to unhappy)."""
    heated = latest(escalations)
    if heated is not None:
        what = _CONTACT_NOUN.get(heated.kind, "comment")
        return Outreach(
            True, f"A heated, negative {what} on {_day(heated.occurred_at)}: call them.", heated
        )
    leaving = latest(stated_churn(facts.observations, config.outreach_days))
    if leaving is not None and facts.attitude < config.attitude_high:
        return Outreach(
            True,
            f"Said on {_day(leaving.occurred_at)} they are leaving or may leave: "
            "talk to them before they go.",
            leaving,
        )
    if judgement.segment in (Segment.TRAPPED, Segment.TRAPPED_AND_VOCAL):
        public = latest(
            [
                o
                for o in facts.observations
                if o.public
                and o.valence <= config.public_complaint_valence
                and o.age_days <= config.outreach_days
            ]
        )
        if public is not None:
            return Outreach(
                True,
                f"Stays without wanting to and complained in public on {_day(public.occurred_at)}.",
                public,
            )
    if (
        trend.direction is TrendDirection.DECLINING
        and trend.delta is not None
        and trend.attitude_before is not None
        and trend.delta <= config.decline_delta
        and trend.attitude_before >= config.attitude_high
        and trend.attitude_before + trend.delta <= config.decline_to
    ):
        before, after = trend.attitude_before, trend.attitude_before + trend.delta
        return Outreach(
            True,
            f"Turned from {_signed(before)} to {_signed(after)} in {trend.window_days} days: "
            "find out what happened.",
        )
    return Outreach(False, "Nothing calls for a human right now.")


__all__ = [
    "Basis",
    "Evidence",
    "Judgement",
    "Outreach",
    "archetype_of",
    "judge",
    "outreach",
    "segment_of",
]
