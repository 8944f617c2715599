"""The only package that wires the stages together: sources -> store -> profile -> CRMs.

For scripts: :func:`run` syncs the targets of a targets file (what ``relcrm sync``
runs), :func:`run_pipeline` ingests, profiles and syncs (``relcrm run``),
:func:`push_profiles` writes persons and profiles built in memory,
:func:`retry_dead_letters` sends rejected writes again, and :class:`SyncEngine` syncs one
mapping through a connector you built yourself.
"""

from relcrm.sync.config import Config, load_config
from relcrm.sync.counts import COUNT_KEYS, RunCounts
from relcrm.sync.engine import ExitCode, StopRun, SyncEngine, SyncProgress, SyncReport
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.jobs import retry_dead_letters, run
from relcrm.sync.lease import LeasePolicy
from relcrm.sync.limits import RunLimits
from relcrm.sync.pipeline import PipelineReport, run_pipeline
from relcrm.sync.profiling import ProfileRun, profile_all, profile_store
from relcrm.sync.push import profile_and_save, push_profiles

__all__ = [
    "COUNT_KEYS",
    "Config",
    "ExitCode",
    "IngestReport",
    "LeasePolicy",
    "PipelineReport",
    "ProfileRun",
    "RunCounts",
    "RunLimits",
    "StopRun",
    "SyncEngine",
    "SyncProgress",
    "SyncReport",
    "ingest_interchange",
    "load_config",
    "profile_all",
    "profile_and_save",
    "profile_store",
    "push_profiles",
    "retry_dead_letters",
    "run",
    "run_pipeline",
]
