"""The public API is exactly this list: adding or removing a name is a decision."""

import subprocess
import sys

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
    # the relationship report (issue 14)
    "RelationshipReport",
    "ReportOptions",
    "build_report",
    "write_report",
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


NOT_LOADED = """
import sys
import relcrm
{extra}
loaded = sorted(m for m in sys.modules if m.startswith(("relcrm.demo", "relcrm.testing")))
assert not loaded, loaded
"""


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_relcrm_loads_neither_the_demo_nor_the_test_fixtures() -> None:
    """In a fresh interpreter (this one has loaded them through other tests): ``import
    relcrm``, and the CLI's import (``relcrm sync`` would run after it), leave out the
    demo and ``relcrm.testing``, which hold made-up people and pytest-based checks."""
    for extra in ("", "import relcrm.cli", "import relcrm.sync, relcrm.connectors"):
        done = _fresh(NOT_LOADED.format(extra=extra))
        assert done.returncode == 0, (extra, done.stderr)


def test_generate_sample_stays_public_and_loads_on_first_use() -> None:
    code = (
        "import sys, relcrm\n"
        "assert 'relcrm.testing.synthetic' not in sys.modules\n"
        "from relcrm import generate_sample\n"
        "from relcrm.testing.synthetic import generate_sample as home\n"
        "assert generate_sample is home is relcrm.generate_sample\n"
    )
    done = _fresh(code)
    assert done.returncode == 0, done.stderr
