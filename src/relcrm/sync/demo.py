"""The demo: synthetic data -> ingest -> profiles, on a store of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from relcrm.models import RelationshipProfile
from relcrm.sources.interchange import write_interchange
from relcrm.sources.synthetic import generate_sample
from relcrm.store import Store
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.profiling import ProfileRun, profile_store


@dataclass
class DemoResult:
    sample_file: Path
    store_url: str
    ingest: IngestReport
    run: ProfileRun
    profiles: list[RelationshipProfile]
    twins: tuple[str, str]


def run_demo(workdir: Path, *, persons: int, seed: int, now: datetime) -> DemoResult:
    """Write a sample file into ``workdir``, ingest it into a fresh store there, profile it."""
    workdir.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(persons=persons, seed=seed, now=now)
    sample_file = workdir / "sample.jsonl"
    write_interchange(sample.records(), sample_file)
    store_url = f"sqlite:///{workdir / 'relcrm.db'}"
    with Store.open(store_url) as store:
        report = ingest_interchange(sample_file, store)
        run = ProfileRun(as_of=now)
        profiles = list(profile_store(store, now, run=run))
    return DemoResult(
        sample_file=sample_file,
        store_url=store_url,
        ingest=report,
        run=run,
        profiles=profiles,
        twins=sample.twins,
    )
