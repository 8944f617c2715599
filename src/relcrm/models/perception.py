"""A Perception: how a person felt at one touchpoint, and where we learned it."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from relcrm.models._base import FrozenModel
from relcrm.models.emotions import EmotionIntensities
from relcrm.models.person import PersonId, StorableDatetime
from relcrm.models.scores import CesScore, CsatScore, NpsScore

VERBATIM_MAX_CHARS = 10_000
"""Longest verbatim relcrm keeps. Longer text is a source problem (a whole mail thread, a
log pasted into a survey), not a feeling; it is rejected with this limit in the message."""


class Channel(StrEnum):
    """Where the person expressed it."""

    SURVEY = "survey"
    SUPPORT = "support"
    SOCIAL = "social"
    REVIEW = "review"
    CHAT = "chat"
    EMAIL = "email"
    CALL = "call"
    EVENT = "event"
    DONATION = "donation"
    WEB = "web"


class PerceptionFlags(FrozenModel):
    """What the words say beyond their valence."""

    churn_intent: bool = Field(
        default=False, description="says they leave, cancel, switch or will not come back"
    )
    sarcasm: bool = Field(default=False, description="positive words meant negatively")
    trapped: bool = Field(
        default=False,
        description="stays without wanting to: contract, exit fees, switching costs, no choice",
    )


class Provenance(FrozenModel):
    """Where the perception came from. The source pair is what makes its id."""

    source_system: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    source_record_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    analyzer: str | None = Field(default=None, max_length=80)
    analyzer_version: str | None = Field(default=None, max_length=40)


def perception_id_for(source_system: str, source_record_id: str) -> str:
    """The id of the perception that a source record gives: the same record, the same id."""
    digest = hashlib.blake2b(
        f"{source_system.strip()}\x1f{source_record_id.strip()}".encode(), digest_size=12
    ).hexdigest()
    return f"pc_{digest}"


Topic = Annotated[str, StringConstraints(min_length=1, max_length=80, to_lower=True)]


class Perception(FrozenModel):
    """One observation of how a person felt.

    Scores and text are independent: a survey answer may carry an NPS, a CSAT and a
    comment; a support ticket usually carries only text. ``valence``, ``arousal`` and
    ``emotions`` describe the text and come from an analyzer (or the source).
    """

    id: str = Field(
        default="",
        description="Derived from provenance (source system + record id); leave it out, "
        "or supply it only to have it checked.",
    )
    person_id: PersonId
    occurred_at: StorableDatetime
    channel: Channel
    touchpoint: Topic | None = Field(default=None, description="e.g. onboarding, renewal, outage")
    topic: Topic | None = Field(default=None, description="what it was about, e.g. billing")
    public: bool = Field(default=False, description="said where others could see it")
    nps: NpsScore | None = None
    csat: CsatScore | None = None
    ces: CesScore | None = None
    valence: float | None = Field(default=None, ge=-1.0, le=1.0)
    arousal: float | None = Field(default=None, ge=0.0, le=1.0)
    emotions: EmotionIntensities = EmotionIntensities()
    flags: PerceptionFlags = PerceptionFlags()
    verbatim: str | None = Field(default=None, max_length=VERBATIM_MAX_CHARS)
    confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="confidence in the text analysis"
    )
    provenance: Provenance

    @model_validator(mode="after")
    def _derive_id_and_check(self) -> Self:
        derived = perception_id_for(self.provenance.source_system, self.provenance.source_record_id)
        if self.id and self.id != derived:
            raise ValueError(
                f"id {self.id!r} does not match its provenance; leave it out or use {derived!r}"
            )
        # Frozen model: the derived id is set once, here, while the instance is being built.
        object.__setattr__(self, "id", derived)
        signals = (self.nps, self.csat, self.ces, self.valence, self.verbatim)
        if all(signal is None for signal in signals):
            raise ValueError("a perception needs a score (nps, csat, ces), a valence or a verbatim")
        return self

    @property
    def has_text_signal(self) -> bool:
        return self.valence is not None
