"""What a person said they want, with when and where they said it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from relcrm.models._base import AwareDatetime, FrozenModel
from relcrm.models.perception import Provenance
from relcrm.models.person import PersonId


class PreferenceKind(StrEnum):
    CHANNEL = "channel"
    FREQUENCY = "frequency"
    LANGUAGE = "language"
    TOPIC = "topic"
    TIME = "time"


class Preference(FrozenModel):
    """e.g. ``kind=channel, value=email``: "please only email me", said in a survey."""

    person_id: PersonId
    kind: PreferenceKind
    value: str = Field(min_length=1, max_length=200)
    stated_at: AwareDatetime
    provenance: Provenance
