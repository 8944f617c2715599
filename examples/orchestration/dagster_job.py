"""relcrm's daily job as a Dagster job: what ``relcrm run --config FILE`` does, in one op.

The op calls :func:`relcrm.run_pipeline`: it ingests the targets file's ``[[sources]]``,
profiles everyone as of one clock and syncs every target, with the same leases, resumes
and exit codes as the command. The run's figures become Dagster metadata (per target:
written, unchanged, rejected, unmatched, API calls, seconds; the whole JSON report too),
and the relcrm exit code decides how the Dagster run ends:

====  ==========================================  =======================================
code  relcrm                                      Dagster
====  ==========================================  =======================================
0     everything went through                     the step succeeds
1     rejected lines or records, or a limit       the step fails (someone reads
      (``max_unmatched``, ``max_rejected``)       ``relcrm dead-letters list``); with
      broken                                      ``allow_rejections: true`` it succeeds
                                                  with a warning in the log instead
2     configuration (targets file, mapping,       the step fails; not retried
      a source that cannot be read)
3     cannot connect to or authenticate with a    the step fails; retried by the op's
      CRM                                         retry policy (2 tries, 10 min apart)
4     paused by a CRM quota                       the step fails; not retried (the next
                                                  scheduled run resumes after the reset)
5     another run holds a target                  the step fails; retried (or give
                                                  ``wait_seconds`` to wait for it)
====  ==========================================  =======================================

Load it with ``dagster dev -f dagster_job.py`` (run from the folder holding the targets
file, or give ``config_path``) or from a code location; ``defs`` holds the job and a daily
schedule, stopped until you start it. Secrets come from the environment
(``RELCRM_SALESFORCE_*``, ``RELCRM_HUBSPOT_*``, ``PGPASSWORD``) exactly as for the command.
See docs/ops.md, "Scheduling".
"""

# No "from __future__ import annotations": Dagster reads the op's annotations at run time.
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from pydantic import Field

import relcrm
from relcrm.observability import MetricsError, RunMetrics, push_metrics, write_metrics_file
from relcrm.sync import RunLimits

RETRIED = frozenset({relcrm.ExitCode.CONNECT, relcrm.ExitCode.BUSY})
"""Exit codes that a later try can cure: a CRM that was down, a target another run held."""

WHAT_NEXT = {
    relcrm.ExitCode.REJECTED: "some lines or records were rejected, or a limit was broken: "
    "read relcrm dead-letters list (a fixed cause clears them at the next run)",
    relcrm.ExitCode.CONFIG: "configuration error: fix the targets file, mapping or source",
    relcrm.ExitCode.CONNECT: "cannot connect to or authenticate with a CRM",
    relcrm.ExitCode.QUOTA: "paused by a CRM quota: the next run resumes once it resets",
    relcrm.ExitCode.BUSY: "another run holds a target: nothing was written there",
}


DEFAULT = "relcrm.toml"


class RelcrmRunConfig(dg.Config):
    """The op's run config: the options of ``relcrm run``."""

    config_path: str = Field(
        default=DEFAULT, description="the targets file: [[targets]], [[sources]], [store]"
    )
    store_url: str | None = Field(
        default=None, description="the store, if not the targets file's [store] (--store)"
    )
    as_of: str | None = Field(
        default=None, description="profile as of this ISO moment, with zone [default: now]"
    )
    wait_seconds: float | None = Field(
        default=None, ge=0, description="wait this long for a target another run holds"
    )
    max_unmatched: str | None = Field(
        default=None, description="exit code 1 past this many unmatched persons (N or P%)"
    )
    max_rejected: str | None = Field(
        default=None, description="exit code 1 past this many rejected records (N or P%)"
    )
    metrics_file: str | None = Field(
        default=None,
        description="Prometheus textfile for node_exporter [default: $RELCRM_METRICS_FILE]",
    )
    pushgateway_url: str | None = Field(
        default=None, description="Prometheus Pushgateway [default: $RELCRM_PUSHGATEWAY_URL]"
    )
    allow_rejections: bool = Field(
        default=False, description="exit code 1 is a warning, not a failed run"
    )


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise dg.Failure(
            f"as_of: give an ISO date-time with a zone (2026-11-22T06:00:00Z), not {value!r}",
            metadata={"exit_code": int(relcrm.ExitCode.CONFIG)},
            allow_retries=False,
        )
    return moment


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """A ``relcrm run --json`` report as Dagster metadata: a few numbers a chart can
    follow across runs, a table per target, and the report itself."""
    files = [file for source in report["sources"] for file in source["files"]]
    metadata: dict[str, Any] = {
        "exit_code": report["exit_code"],
        "as_of": report["as_of"],
        "persons_profiled": (report["profile"] or {}).get("persons", 0),
        "perceptions_new": sum(file["perceptions_new"] for file in files),
        "lines_rejected": sum(file["rejected"] for file in files),
        "sources_failed": sum(1 for source in report["sources"] if source["error_code"]),
    }
    rows = ["| target | status | written | unchanged | rejected | unmatched | API calls | s |"]
    rows.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for sync in report["syncs"]:
        counts, name = sync["counts"], sync["target"]
        rejected = counts["rejected"] + counts["failed"]
        for key, value in (
            ("written", counts["written"]),
            ("rejected", rejected),
            ("unmatched", counts["unmatched"]),
            ("api_calls", sync["api_calls"]),
            ("duration_s", sync["duration_s"]),
        ):
            metadata[f"{name}/{key}"] = value
        rows.append(
            f"| {name} | {sync['status'] or sync['error_code'] or 'not run'} | "
            f"{counts['written']} | {counts['unchanged']} | {rejected} | "
            f"{counts['unmatched']} | {sync['api_calls']} | {sync['duration_s']} |"
        )
    metadata["syncs"] = dg.MetadataValue.md("\n".join(rows))
    metadata["report"] = dg.MetadataValue.json(report)
    return metadata


@dg.op(
    description="relcrm run: ingest the targets file's sources, profile everyone, sync "
    "every target; fails on a non-zero relcrm exit code (see the module's docstring)",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=600),
    tags={"kind": "relcrm"},
)
def relcrm_run(context: dg.OpExecutionContext, config: RelcrmRunConfig) -> dg.Output[Any]:
    lease = relcrm.LeasePolicy(
        wait=None if config.wait_seconds is None else timedelta(seconds=config.wait_seconds)
    )
    try:
        limits = (
            RunLimits.parse(config.max_unmatched, config.max_rejected)
            if config.max_unmatched is not None or config.max_rejected is not None
            else None
        )
        pipeline = relcrm.run_pipeline(
            config.config_path,
            now=_as_of(config.as_of),
            store_url=config.store_url,
            lease_policy=lease,
            on_stage=lambda stage: context.log.info(f"relcrm run: {stage}"),
        )
    except relcrm.RelcrmError as error:  # before anything was done (e.g. the targets file)
        # a spent quota is a connector error (exit_code 3) that the command reports as 4
        code = relcrm.ExitCode.QUOTA if error.code.endswith("quota_exhausted") else error.exit_code
        raise dg.Failure(
            description=f"relcrm exit code {int(code)}: {error}",
            metadata={"exit_code": int(code), "error_code": error.code},
            allow_retries=code in RETRIED,
        ) from None
    for sync in pipeline.syncs:  # what --max-unmatched / --max-rejected do
        breach = limits.check(sync) if limits is not None else None
        if breach:
            sync.threshold_breach = breach
            context.log.warning(f"{sync.target}: {breach}")
    _publish_metrics(context, config, pipeline.syncs)

    report = pipeline.to_json()
    metadata = figures(report)
    code = relcrm.ExitCode(report["exit_code"])
    if code is relcrm.ExitCode.OK:
        return dg.Output(report, metadata=metadata)
    if code is relcrm.ExitCode.REJECTED and config.allow_rejections:
        context.log.warning(f"relcrm exit code 1: {WHAT_NEXT[code]}")
        return dg.Output(report, metadata=metadata)
    raise dg.Failure(
        description=f"relcrm exit code {int(code)}: {WHAT_NEXT[code]}",
        metadata=metadata,
        allow_retries=code in RETRIED,
    )


def _publish_metrics(
    context: dg.OpExecutionContext, config: RelcrmRunConfig, syncs: list[relcrm.SyncReport]
) -> None:
    """The run's figures for Prometheus, as ``relcrm run --metrics-file / --pushgateway``
    leave them; a failure to publish is a warning, as for the command."""
    file = config.metrics_file or os.environ.get("RELCRM_METRICS_FILE")
    gateway = config.pushgateway_url or os.environ.get("RELCRM_PUSHGATEWAY_URL")
    runs = [RunMetrics.of(sync) for sync in syncs if not sync.dry_run]
    try:
        if file and runs:
            write_metrics_file(file, runs)
        if gateway and runs:
            push_metrics(gateway, runs)
    except MetricsError as error:
        context.log.warning(f"metrics not published: {error}")


@dg.job(description="relcrm: feedback in, profiles out, CRMs updated")
def relcrm_daily() -> None:
    relcrm_run()


daily_at_six = dg.ScheduleDefinition(
    job=relcrm_daily,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    run_config=dg.RunConfig(
        ops={"relcrm_run": RelcrmRunConfig(config_path=os.environ.get("RELCRM_CONFIG", DEFAULT))}
    ),
)

defs = dg.Definitions(jobs=[relcrm_daily], schedules=[daily_at_six])
