"""The only package that wires the stages together: sources -> store -> profile -> CRMs.

For scripts: :func:`run` syncs the targets of a targets file (what ``relcrm sync``
runs), :func:`retry_dead_letters` sends rejected writes again, and :class:`SyncEngine`
syncs one mapping through a connector you built yourself.
"""

from relcrm.sync.engine import ExitCode, StopRun, SyncEngine, SyncProgress, SyncReport
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.jobs import retry_dead_letters, run
from relcrm.sync.profiling import ProfileRun, profile_all, profile_store

__all__ = [
    "ExitCode",
    "IngestReport",
    "ProfileRun",
    "StopRun",
    "SyncEngine",
    "SyncProgress",
    "SyncReport",
    "ingest_interchange",
    "profile_all",
    "profile_store",
    "retry_dead_letters",
    "run",
]
