"""relcrm's vendor-neutral model: persons, perceptions, preferences, profiles, CRM writes."""

from relcrm.models._base import AwareDatetime, FrozenModel, problems_from, record_error
from relcrm.models.analysis import TextAnalysis
from relcrm.models.crm import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldValue,
    FieldWrite,
    MatchReport,
    RecordRef,
    WriteOutcome,
    WriteResult,
)
from relcrm.models.emotions import PRIMARY_DYADS, WHEEL, Emotion, EmotionIntensities
from relcrm.models.perception import (
    VERBATIM_MAX_CHARS,
    Channel,
    Perception,
    PerceptionFlags,
    Provenance,
    perception_id_for,
)
from relcrm.models.person import (
    BehaviourFacts,
    Consent,
    CrmRecordRef,
    Email,
    Person,
    PersonId,
    Phone,
    SocialHandle,
)
from relcrm.models.preference import Preference, PreferenceKind
from relcrm.models.profile import (
    Archetype,
    ArchetypeDetail,
    CesRollup,
    CsatRollup,
    HealthBand,
    PetPeeve,
    RelationshipProfile,
    Segment,
    Trend,
    TrendDirection,
)
from relcrm.models.scores import (
    CES_VERSIONS,
    CesDirection,
    CesScore,
    CsatScore,
    NpsCategory,
    NpsScore,
    nps_category,
)
from relcrm.models.support import SupportCase

PUBLIC_MODELS: tuple[type[FrozenModel], ...] = (
    Person,
    Perception,
    Preference,
    RelationshipProfile,
)
"""The models whose JSON Schemas relcrm publishes (``relcrm schema``)."""

__all__ = [
    "CES_VERSIONS",
    "PRIMARY_DYADS",
    "PUBLIC_MODELS",
    "VERBATIM_MAX_CHARS",
    "WHEEL",
    "Archetype",
    "ArchetypeDetail",
    "AwareDatetime",
    "BehaviourFacts",
    "CesDirection",
    "CesRollup",
    "CesScore",
    "Channel",
    "ConnectorCapabilities",
    "Consent",
    "CrmRecordRef",
    "CsatRollup",
    "CsatScore",
    "Email",
    "Emotion",
    "EmotionIntensities",
    "FieldSpec",
    "FieldType",
    "FieldValue",
    "FieldWrite",
    "FrozenModel",
    "HealthBand",
    "MatchReport",
    "NpsCategory",
    "NpsScore",
    "Perception",
    "PerceptionFlags",
    "Person",
    "PersonId",
    "PetPeeve",
    "Phone",
    "Preference",
    "PreferenceKind",
    "Provenance",
    "RecordRef",
    "RelationshipProfile",
    "Segment",
    "SocialHandle",
    "SupportCase",
    "TextAnalysis",
    "Trend",
    "TrendDirection",
    "WriteOutcome",
    "WriteResult",
    "nps_category",
    "perception_id_for",
    "problems_from",
    "record_error",
]
