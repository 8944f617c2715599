"""relcrm: the customer's own view of the relationship, in the CRMs companies already run.

The public API is what this module exports (pinned by ``tests/test_public_api.py``);
everything else is private and may change.
"""

from relcrm.errors import (
    ConfigurationError,
    ConnectorError,
    InputError,
    InvalidRecordError,
    RelcrmError,
    SchemaVersionError,
    StoreError,
)
from relcrm.models import (
    Archetype,
    ArchetypeDetail,
    BehaviourFacts,
    CesScore,
    Channel,
    Consent,
    CrmRecordRef,
    CsatScore,
    Emotion,
    EmotionIntensities,
    HealthBand,
    NpsScore,
    Perception,
    Person,
    Preference,
    Provenance,
    RelationshipProfile,
    Segment,
    SocialHandle,
)
from relcrm.profile import ProfileConfig, build_profile
from relcrm.sources.interchange import read_interchange, write_interchange
from relcrm.sources.synthetic import generate_sample
from relcrm.store import Store, open_store
from relcrm.sync import IngestReport, ingest_interchange, profile_store

__version__ = "0.1.0"

__all__ = [
    "Archetype",
    "ArchetypeDetail",
    "BehaviourFacts",
    "CesScore",
    "Channel",
    "ConfigurationError",
    "ConnectorError",
    "Consent",
    "CrmRecordRef",
    "CsatScore",
    "Emotion",
    "EmotionIntensities",
    "HealthBand",
    "IngestReport",
    "InputError",
    "InvalidRecordError",
    "NpsScore",
    "Perception",
    "Person",
    "Preference",
    "ProfileConfig",
    "Provenance",
    "RelationshipProfile",
    "RelcrmError",
    "SchemaVersionError",
    "Segment",
    "SocialHandle",
    "Store",
    "StoreError",
    "__version__",
    "build_profile",
    "generate_sample",
    "ingest_interchange",
    "open_store",
    "profile_store",
    "read_interchange",
    "write_interchange",
]
