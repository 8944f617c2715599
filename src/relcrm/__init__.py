"""relcrm: the customer's own view of the relationship, in the CRMs companies already run.

The public API is what this module exports (pinned by ``tests/test_public_api.py``);
everything else is private and may change.

``generate_sample`` stays public (the docs' examples and ``relcrm sample`` use it) but its
home is :mod:`relcrm.testing.synthetic`, the fixtures package, which ``import relcrm``
must not load: it is imported on first use (:func:`__getattr__`), so production code and
scripts that never ask for made-up people never load it.
"""

from typing import TYPE_CHECKING, Any

from relcrm.connectors import Connector, available_connectors, load_connector_class
from relcrm.errors import (
    ConfigurationError,
    ConnectorError,
    ExitCode,
    InputError,
    InvalidRecordError,
    LeaseLostError,
    RelcrmError,
    SchemaVersionError,
    StoreError,
    TargetBusyError,
)
from relcrm.mapping import Mapping, load_mapping, load_shipped
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
from relcrm.report import RelationshipReport, ReportOptions, build_report, write_report
from relcrm.sources.interchange import read_interchange, write_interchange
from relcrm.store import Store, open_store
from relcrm.sync import (
    IngestReport,
    LeasePolicy,
    PipelineReport,
    ProfileRun,
    RunCounts,
    SyncReport,
    ingest_interchange,
    load_config,
    profile_and_save,
    profile_store,
    push_profiles,
    retry_dead_letters,
    run_pipeline,
)
from relcrm.sync import run as run_sync
from relcrm.sync.config import build_connector
from relcrm.sync.fields import apply_fields, check_mapping, plan_fields
from relcrm.sync.forget import forget

if TYPE_CHECKING:  # typed for callers; loaded lazily below
    from relcrm.testing.synthetic import generate_sample

__version__ = "0.1.0"

_LAZY = frozenset({"generate_sample"})
"""Public names whose module is not loaded by ``import relcrm`` (see the docstring)."""


def __getattr__(name: str) -> Any:
    """Import a lazily exported public name on first use, then keep it (PEP 562)."""
    if name in _LAZY:
        from relcrm.testing import synthetic

        value = getattr(synthetic, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Archetype",
    "ArchetypeDetail",
    "BehaviourFacts",
    "CesScore",
    "Channel",
    "ConfigurationError",
    "Connector",
    "ConnectorError",
    "Consent",
    "CrmRecordRef",
    "CsatScore",
    "Emotion",
    "EmotionIntensities",
    "ExitCode",
    "HealthBand",
    "IngestReport",
    "InputError",
    "InvalidRecordError",
    "LeaseLostError",
    "LeasePolicy",
    "Mapping",
    "NpsScore",
    "Perception",
    "Person",
    "PipelineReport",
    "Preference",
    "ProfileConfig",
    "ProfileRun",
    "Provenance",
    "RelationshipProfile",
    "RelationshipReport",
    "RelcrmError",
    "ReportOptions",
    "RunCounts",
    "SchemaVersionError",
    "Segment",
    "SocialHandle",
    "Store",
    "StoreError",
    "SyncReport",
    "TargetBusyError",
    "__version__",
    "apply_fields",
    "available_connectors",
    "build_connector",
    "build_profile",
    "build_report",
    "check_mapping",
    "forget",
    "generate_sample",
    "ingest_interchange",
    "load_config",
    "load_connector_class",
    "load_mapping",
    "load_shipped",
    "open_store",
    "plan_fields",
    "profile_and_save",
    "profile_store",
    "push_profiles",
    "read_interchange",
    "retry_dead_letters",
    "run_pipeline",
    "run_sync",
    "write_interchange",
    "write_report",
]
