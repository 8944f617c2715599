"""Perceptions as the report shows them: verbatims redacted again and shortened, scores
with their scales, and which perceptions drove a person's outreach."""

from __future__ import annotations

from collections.abc import Sequence

from relcrm.analyze import redact
from relcrm.models import Perception
from relcrm.report.model import Snippet

SNIPPET_CHARS = 180
"""A snippet is a reminder of what was said, not the record: the CRM has the rest."""

DRIVERS = 3
TIMELINE = 25


def score_text(perception: Perception) -> str | None:
    """The perception's score with its scale: ``NPS 3/10``, ``CSAT 2 (1-5)``..."""
    if perception.nps is not None:
        return f"NPS {perception.nps.value}/10"
    if perception.csat is not None:
        csat = perception.csat
        return f"CSAT {csat.value:g} ({csat.scale_min}-{csat.scale_max})"
    if perception.ces is not None:
        ces = perception.ces
        return f"CES {ces.value:g} ({ces.scale_min}-{ces.scale_max} {ces.direction})"
    return None


def snippet_text(verbatim: str | None) -> str | None:
    """The verbatim redacted (again: stored verbatims are redacted already, and a report
    leaves the machine) and cut to :data:`SNIPPET_CHARS`."""
    if not verbatim:
        return None
    text = " ".join(redact(verbatim).text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[: SNIPPET_CHARS - 1].rstrip() + "…"
    return text


def snippet(perception: Perception) -> Snippet:
    emotions = {
        name: round(value, 2)
        for name, value in perception.emotions.model_dump().items()
        if value >= 0.05
    }
    return Snippet(
        occurred_at=perception.occurred_at,
        channel=perception.channel.value,
        topic=perception.topic or perception.touchpoint,
        score=score_text(perception),
        valence=None if perception.valence is None else round(perception.valence, 2),
        emotions=emotions,
        text=snippet_text(perception.verbatim),
        public=perception.public,
    )


def _weight_against(perception: Perception) -> float:
    """How much a perception speaks against the relationship: negative valence, plus
    stated intent to leave, feeling trapped, and saying it in public."""
    weight = -(perception.valence or 0.0)
    if perception.nps is not None and perception.nps.value <= 6:
        weight += (7 - perception.nps.value) / 7
    if perception.flags.churn_intent:
        weight += 1.0
    if perception.flags.trapped:
        weight += 0.5
    if perception.public:
        weight += 0.25
    return weight


def drivers(perceptions: Sequence[Perception], count: int = DRIVERS) -> list[Snippet]:
    """The perceptions that weigh most against the relationship, newest first among
    equals; only those that weigh against it at all."""
    ranked = sorted(
        (p for p in perceptions if _weight_against(p) > 0),
        key=lambda p: (-_weight_against(p), -p.occurred_at.timestamp()),
    )
    return [snippet(p) for p in ranked[:count]]


def timeline(perceptions: Sequence[Perception], count: int = TIMELINE) -> list[Snippet]:
    """The newest ``count`` perceptions, newest first."""
    newest = sorted(perceptions, key=lambda p: (p.occurred_at, p.id), reverse=True)
    return [snippet(p) for p in newest[:count]]
