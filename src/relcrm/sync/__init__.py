"""The only package that wires the stages together: sources -> store -> profile (-> CRMs)."""

from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.profiling import ProfileRun, profile_all, profile_store

__all__ = [
    "IngestReport",
    "ProfileRun",
    "ingest_interchange",
    "profile_all",
    "profile_store",
]
