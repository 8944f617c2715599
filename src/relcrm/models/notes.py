"""History notes: a perception written to a CRM record's timeline, CRM-neutral.

The sync side builds :class:`PerceptionNote` (:mod:`relcrm.sync.history` decides what a
note says, never a verbatim by default); a connector that declares
``capabilities.history_notes`` writes them through
:class:`relcrm.connectors.NoteSink` and answers with a :class:`NotesReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from relcrm.errors import ConfigurationError

NOTE_PERCEPTION_ID: Final = re.compile(r"[A-Za-z0-9_.\-]+")
"""The perception ids a note can carry: a connector marks each note with its perception's
id so a re-run finds it and creates nothing twice."""


@dataclass(frozen=True)
class PerceptionNote:
    """One note to put on a person's record for one perception."""

    contact_id: str
    """The id of the record the note goes on (a HubSpot contact...)."""
    perception_id: str
    timestamp: datetime
    body: str
    """Short, redaction-safe text (no verbatim by default); the connector escapes it."""

    def __post_init__(self) -> None:
        if not NOTE_PERCEPTION_ID.fullmatch(self.perception_id):
            raise ConfigurationError(
                f"{self.perception_id!r} cannot be used as a note marker",
                hint="perception ids are letters, digits, '_', '.', '-'",
            )


@dataclass
class NotesReport:
    """What writing notes did, per perception id."""

    created: dict[str, str] = field(default_factory=dict)
    """Perception id -> the new note's id."""
    existing: list[str] = field(default_factory=list)
    """Perceptions that already had a note (earlier run): nothing was sent for them."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Perception id -> the CRM's reason."""


__all__ = ["NOTE_PERCEPTION_ID", "NotesReport", "PerceptionNote"]
