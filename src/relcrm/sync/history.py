"""History notes: what a perception becomes when it is written to a CRM's timeline.

The note says *that* the person expressed something, where and about what, and how it
leaned: channel, topic, valence band, date. It never carries the verbatim by default.
Feelings are personal data (DESIGN, "Privacy and security"): a verbatim copied into a
CRM note is read by everyone with access to the contact, outlives relcrm's consent
handling (``relcrm forget`` clears relcrm's fields, but a note is free text nobody
tracks), and redaction catches emails, phones and card numbers, not a name or a health
detail someone typed. The band keeps the note useful to a salesperson without that risk.

Notes go to a CRM whose connector declares ``capabilities.history_notes``, through
:class:`relcrm.connectors.NoteSink` (HubSpot today): :func:`write_history_notes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from relcrm.connectors import Connector, NoteSink
from relcrm.errors import ConfigurationError
from relcrm.models import NotesReport, Perception, PerceptionNote, RecordRef

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
    """The note for one perception on the record (a contact) it was matched to."""
    return PerceptionNote(
        contact_id=contact_id,
        perception_id=perception.id,
        timestamp=perception.occurred_at,
        body=f"relcrm: {note_text(perception)}",
    )


def write_history_notes(
    connector: Connector,
    records: Mapping[str, RecordRef],
    perceptions: Iterable[Perception],
) -> NotesReport | None:
    """A note per perception of each person relcrm wrote to (``records``: person id ->
    the record the sync wrote, so consent was already checked), where the connector
    declares ``history_notes``; None where it does not.

    Raises :class:`ConfigurationError` when a connector declares history notes but is not
    a :class:`NoteSink`.
    """
    capabilities = connector.capabilities
    if not capabilities.history_notes:
        return None
    if not isinstance(connector, NoteSink):
        raise ConfigurationError(
            f"connector {capabilities.name!r} declares history notes "
            "(capabilities.history_notes) but has no add_perception_notes",
            code="config.unsupported_connector",
            hint="ask the connector's authors to implement relcrm.connectors.NoteSink, "
            "or to declare history_notes = False",
        )
    notes = [
        perception_note(p, records[p.person_id].id) for p in perceptions if p.person_id in records
    ]
    return connector.add_perception_notes(notes)
