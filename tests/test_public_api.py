"""The public API is exactly this list: adding or removing a name is a decision."""

import relcrm

EXPECTED = {
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
    # issue 11: the push API (docs/ops.md, docs/admin.md)
    "Connector",
    "ExitCode",
    "LeaseLostError",
    "LeasePolicy",
    "Mapping",
    "PipelineReport",
    "ProfileRun",
    "RunCounts",
    "SyncReport",
    "TargetBusyError",
    "apply_fields",
    "available_connectors",
    "build_connector",
    "check_mapping",
    "forget",
    "plan_fields",
    "load_config",
    "load_connector_class",
    "load_mapping",
    "load_shipped",
    "profile_and_save",
    "push_profiles",
    "retry_dead_letters",
    "run_pipeline",
    "run_sync",
}


def test_public_api_is_pinned() -> None:
    assert set(relcrm.__all__) == EXPECTED
    assert len(relcrm.__all__) == len(set(relcrm.__all__))


def test_every_public_name_exists() -> None:
    for name in relcrm.__all__:
        assert getattr(relcrm, name) is not None


def test_errors_share_one_root() -> None:
    for name in relcrm.__all__:
        value = getattr(relcrm, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, relcrm.RelcrmError), name
