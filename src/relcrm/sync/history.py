"""History notes: what a perception becomes when it is written to a CRM's timeline.

The note says *that* the person expressed something, where and about what, and how it
leaned: channel, topic, valence band, date. It never carries the verbatim by default.
Feelings are personal data (DESIGN, "Privacy and security"): a verbatim copied into a
CRM note is read by everyone with access to the contact, outlives relcrm's consent
handling (``relcrm forget`` clears relcrm's fields, but a note is free text nobody
tracks), and redaction catches emails, phones and card numbers, not a name or a health
detail someone typed. The band keeps the note useful to a salesperson without that risk.
"""

from __future__ import annotations

from typing import Final

from relcrm.connectors.hubspot import PerceptionNote
from relcrm.models import Perception

POSITIVE_FROM: Final = 0.25
NEGATIVE_BELOW: Final = -0.25


def valence_band(valence: float | None) -> str:
    """``positive``, ``neutral`` or ``negative`` (a coarse band is enough on a timeline,
    and says less about the person than the score)."""
    if valence is None:
        return "unscored"
    if valence >= POSITIVE_FROM:
        return "positive"
    if valence < NEGATIVE_BELOW:
        return "negative"
    return "neutral"


def note_text(perception: Perception) -> str:
    """``survey · onboarding · negative · 2026-11-02``: no verbatim, no scores."""
    topic = perception.topic or perception.touchpoint or "general"
    return " · ".join(
        (
            perception.channel.value,
            topic,
            valence_band(perception.valence),
            perception.occurred_at.date().isoformat(),
        )
    )


def perception_note(perception: Perception, contact_id: str) -> PerceptionNote:
    """The HubSpot note for one perception on the contact it was matched to."""
    return PerceptionNote(
        contact_id=contact_id,
        perception_id=perception.id,
        timestamp=perception.occurred_at,
        body=f"relcrm: {note_text(perception)}",
    )
