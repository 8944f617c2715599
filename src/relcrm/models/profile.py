"""The RelationshipProfile: where the relationship stands, derived, never edited by hand."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal, NamedTuple

from pydantic import Field

from relcrm.models._base import AwareDatetime, FrozenModel
from relcrm.models.emotions import Emotion, EmotionIntensities
from relcrm.models.person import PersonId
from relcrm.models.scores import NpsCategory


class HealthBand(StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at_risk"
    UNKNOWN = "unknown"


class Archetype(StrEnum):
    """Dick & Basu (1994): relative attitude x repeat patronage, plus two 'cannot tell'."""

    TRUE_LOYALTY = "true_loyalty"
    LATENT_LOYALTY = "latent_loyalty"
    SPURIOUS_LOYALTY = "spurious_loyalty"
    NO_LOYALTY = "no_loyalty"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    UNKNOWN_BEHAVIOR = "unknown_behavior"


class ArchetypeDetail(StrEnum):
    """Jones & Sasser's overlay on the base archetype."""

    ADVOCATE = "advocate"
    DELIGHTED = "delighted"
    FAN_NOT_BUYING = "fan_not_buying"
    TRAPPED = "trapped"
    TRAPPED_DETRACTOR = "trapped_detractor"
    INERT = "inert"
    VOCAL_DEFECTOR = "vocal_defector"
    DEFECTING = "defecting"
    INDIFFERENT = "indifferent"


class Segment(StrEnum):
    """The one word a sales rep reads: the archetype and its detail folded together."""

    DELIGHTED = "delighted"
    LOYAL = "loyal"
    LATENT = "latent"
    TRAPPED = "trapped"
    TRAPPED_AND_VOCAL = "trapped_and_vocal"
    AT_RISK = "at_risk"
    DRIFTING = "drifting"
    UNKNOWN = "unknown"


class TrendDirection(StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DECLINING = "declining"
    UNKNOWN = "unknown"


class Trend(FrozenModel):
    """Attitude now against attitude at the start of the window (same recipe, earlier clock)."""

    direction: TrendDirection
    window_days: int
    attitude_before: float | None = None
    delta: float | None = None


class PetPeeve(FrozenModel):
    """A topic the person keeps being unhappy about."""

    topic: str
    negative_weight: float = Field(description="decayed weight x valence summed over negatives")
    mentions: int


class CsatRollup(FrozenModel):
    count: int
    mean_valence: float | None
    top_box_share: float | None = Field(description="share of answers in the top two boxes")


class CesRollup(FrozenModel):
    count: int
    mean_valence: float | None
    easy_share: float | None = Field(description="share of answers that said it was easy")


class RelationshipProfile(FrozenModel):
    """Every quantity of the scoring recipe for one person at one moment, with reasons."""

    person_id: PersonId
    as_of: AwareDatetime
    model_version: str
    evidence: float = Field(ge=0.0, description="E: decayed, weighted amount of evidence")
    attitude: float = Field(gt=-1.0, lt=1.0, description="A: shrunk weighted mean valence")
    health: float = Field(ge=0.0, le=100.0)
    band: HealthBand
    public_advocacy: float | None = Field(
        default=None, description="Adv: attitude in public; None when nothing was public"
    )
    emotion_profile: EmotionIntensities
    dominant_emotion: Emotion | Literal["none"]
    emotion_dyad: str | None = None
    behavioural_loyalty: float | None = Field(default=None, ge=0.0, le=1.0)
    archetype: Archetype
    archetype_detail: ArchetypeDetail | None = None
    segment: Segment
    trend: Trend
    last_nps: int | None = None
    last_nps_at: AwareDatetime | None = None
    last_nps_category: NpsCategory | None = None
    csat: CsatRollup
    ces: CesRollup
    escalation: bool
    churn_risk: bool
    needs_outreach: bool = Field(
        default=False,
        description="a human should contact this person now (escalation, stated intent to "
        "leave, trapped and complaining in public, a sharp decline)",
    )
    outreach_reason: str | None = Field(
        default=None, description="one sentence: why to reach out now, or that nothing calls for it"
    )
    pet_peeves: tuple[PetPeeve, ...] = ()
    reasons: tuple[str, ...] = Field(min_length=1, max_length=4)
    perceptions_considered: int = Field(ge=0)


class StoredProfile(NamedTuple):
    """One profile as the store writes it: the ``profiles`` columns in table order, then
    the values its history row keeps. Plain values, cheap to build and to send: built
    from a model (``relcrm.store.profile_row``) or straight from the columnar recipe's row
    (``relcrm.profile.columnar.encoded``), which never builds the model."""

    person_id: str
    as_of: datetime
    """In UTC, as the ``as_of`` column holds it."""
    model_version: str
    segment: str
    health: float
    data: str
    """The profile's JSON text, as ``RelationshipProfile.model_dump_json()`` writes it."""
    band: str
    attitude: float
    behavioural_loyalty: float | None
