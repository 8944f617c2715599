"""One job for schedulers: ingest the targets file's sources, profile, sync every target.

What ``relcrm run --config FILE`` runs (and a cron job, a systemd timer, a Kubernetes
CronJob or an orchestrator calls): the ``[[sources]]`` of the targets file are ingested in
file order (files matched by their globs now), every person is profiled as of one clock,
and every target is synced. One report, one exit code: the worst of the stages.

A source that cannot be read (a missing column mapping, a file in an encoding that cannot
be decoded) is reported and the others go on; rejected lines make the run's exit code 1
but do not stop it. The sync runs even when some ingests had rejections: what was read
is in the store, and holding back every other person's update would help nobody.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.connectors import Connector
from relcrm.errors import ExitCode, RelcrmError
from relcrm.store import Store
from relcrm.sync.analysis import analyzer_for
from relcrm.sync.cases_job import ingest_cases_from
from relcrm.sync.config import Config, Source, load_config
from relcrm.sync.engine import ProgressCallback, SyncReport
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.ingest_sources import ingest_social, ingest_survey
from relcrm.sync.jobs import run as sync_targets
from relcrm.sync.jobs import store_url_of
from relcrm.sync.lease import LeasePolicy
from relcrm.sync.profiling import ProfileRun, profile_store

NO_ANALYZER = "none"


@dataclass
class SourceOutcome:
    """One source of the targets file: the ingest report of each file it read, or why it
    could not be read."""

    label: str
    format: str
    reports: list[IngestReport] = field(default_factory=list)
    error_code: str | None = None
    message: str | None = None
    exit_code: ExitCode = ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.label,
            "format": self.format,
            "files": [
                {
                    "file": report.source,
                    "persons": report.persons,
                    "perceptions_new": report.perceptions_new,
                    "perceptions_known": report.perceptions_known,
                    "preferences": report.preferences,
                    "analyzed": report.analyzed,
                    "skipped": report.skipped,
                    "rejected": report.rejected,
                }
                for report in self.reports
            ],
            "error_code": self.error_code,
            "message": self.message,
        }


@dataclass
class PipelineReport:
    """What one ``relcrm run`` did, stage by stage."""

    as_of: datetime
    sources: list[SourceOutcome] = field(default_factory=list)
    profile: ProfileRun | None = None
    syncs: list[SyncReport] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        codes = [source.exit_code for source in self.sources]
        for source in self.sources:
            if any(report.rejected for report in source.reports):
                codes.append(ExitCode.REJECTED)
        codes.extend(report.exit_code for report in self.syncs)
        return max(codes, default=ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        profile = self.profile
        return {
            "as_of": self.as_of.isoformat(),
            "sources": [source.to_json() for source in self.sources],
            "profile": None
            if profile is None
            else {
                "persons": profile.persons,
                "perceptions": profile.perceptions,
                "segments": {seg.value: n for seg, n in sorted(profile.segments.items())},
            },
            "syncs": [report.to_json() for report in self.syncs],
            "exit_code": int(self.exit_code),
        }


def _ingest(
    source: Source, config: Config, store: Store, now: datetime, connectors: Any
) -> list[IngestReport]:
    name = source.analyzer or DEFAULT_ANALYZER
    analyzer = None if name == NO_ANALYZER else analyzer_for(name)
    if source.format == "cases":
        since = now - timedelta(days=source.since_days) if source.since_days else None
        return ingest_cases_from(
            config,
            store,
            target=source.target,
            since=since,
            analyzer=analyzer,
            connectors=connectors,
        )
    reports: list[IngestReport] = []
    for path in source.files:
        if source.format == "interchange":
            reports.append(
                ingest_interchange(path, store, analyzer=None if analyzer is None else name)
            )
        elif source.format == "survey":
            assert source.columns is not None  # checked when the file was loaded
            reports.append(ingest_survey(path, source.columns, store, analyzer=analyzer))
        else:
            reports.append(ingest_social(path, store, source.handles, analyzer=analyzer, now=now))
    return reports


def run_pipeline(
    config: Config | str | os.PathLike[str],
    *,
    now: datetime | None = None,
    store_url: str | None = None,
    connectors: Mapping[str, Connector] | None = None,
    lease_policy: LeasePolicy | None = None,
    progress: ProgressCallback | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> PipelineReport:
    """Ingest every source, profile everyone as of ``now``, sync every target.

    Raises :class:`~relcrm.errors.ConfigurationError` before anything is done if the
    targets file is wrong; later failures are in the report (``exit_code``).
    """
    loaded = config if isinstance(config, Config) else load_config(config)
    clock = now or datetime.now(UTC)
    report = PipelineReport(as_of=clock)
    announce = on_stage or (lambda _stage: None)
    with Store.open(store_url_of(loaded, store_url)) as store:
        for source in loaded.resolved_sources():
            announce(f"ingest {source.label}")
            outcome = SourceOutcome(source.label, source.format)
            try:
                outcome.reports = _ingest(source, loaded, store, clock, connectors)
            except RelcrmError as error:
                outcome.error_code, outcome.message = error.code, error.message
                outcome.exit_code = error.exit_code
            report.sources.append(outcome)
        announce("profile")
        report.profile = ProfileRun(as_of=clock)
        for _ in profile_store(store, clock, run=report.profile):
            pass
        announce("sync")
        report.syncs = sync_targets(
            loaded,
            store=store,
            connectors=connectors,
            lease_policy=lease_policy,
            progress=progress,
        )
    return report


__all__ = ["PipelineReport", "SourceOutcome", "run_pipeline"]
