"""``relcrm sync``, ``relcrm dead-letters list|retry`` and ``relcrm runs``: the ops team's
commands, thin over :mod:`relcrm.sync.jobs` and the store."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from relcrm.cli import (
    ConfigOption,
    ExitCode,
    JsonOption,
    StoreOption,
    TargetOption,
    _exit_code_of,
    _fail,
    _now,
    app,
    err,
    out,
    require_store,
)
from relcrm.errors import ConfigurationError, RelcrmError
from relcrm.observability import (
    LineProgress,
    MetricsError,
    RunMetrics,
    push_metrics,
    write_metrics_file,
)
from relcrm.settings import RelcrmSettings
from relcrm.store import Store
from relcrm.sync.config import load_config
from relcrm.sync.engine import COUNT_KEYS, SyncProgress, SyncReport
from relcrm.sync.jobs import retry_dead_letters, run, store_url_of
from relcrm.sync.lease import LeasePolicy
from relcrm.sync.limits import RunLimits
from relcrm.sync.pipeline import run_pipeline

logger = logging.getLogger(__name__)

WaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="If another run holds a target, wait up to this long for it "
        "[default: do not wait: that target is skipped, exit code 5].",
    ),
]


def _lease_policy(wait: float | None) -> LeasePolicy:
    """Waiting as ``--wait`` says; ttl and heartbeat from the settings
    (``RELCRM_LEASE_TTL_S``, ``RELCRM_LEASE_HEARTBEAT_S``)."""
    settings = RelcrmSettings()
    ttl, beat = settings.lease_ttl_s, settings.lease_heartbeat_s
    if beat >= ttl:
        raise ConfigurationError(
            f"RELCRM_LEASE_HEARTBEAT_S ({beat:g}) must be less than RELCRM_LEASE_TTL_S ({ttl:g})",
            code="config.lease_timing",
            hint="a third of the ttl or less is safe",
        )
    return LeasePolicy(
        ttl=timedelta(seconds=ttl),
        heartbeat=timedelta(seconds=beat),
        wait=timedelta(seconds=wait) if wait is not None else None,
    )


SUMMARY_KEYS = tuple(key for key in COUNT_KEYS if key not in ("considered", "fields_truncated"))
"""The counts the summary table shows (when not all zero)."""


class _Bar:
    """Progress per target: a bar on a terminal, log lines otherwise (cron, Kubernetes)."""

    def __init__(self) -> None:
        self.progress: Progress | LineProgress
        if err.is_terminal:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("written {task.fields[written]}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
        else:
            self.progress = LineProgress()
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.progress.__exit__(kind, error, traceback)

    def __call__(self, event: SyncProgress) -> None:
        task = self.tasks.get(event.target)
        if task is None:
            task = self.progress.add_task(
                f"sync {event.target}", total=event.persons_total, written=0
            )
            self.tasks[event.target] = task
        self.progress.update(
            task,
            completed=event.persons_read,
            written=event.counts["written"] + event.counts["cleared"],
        )


def _summary(reports: list[SyncReport]) -> Table:
    """One column per target, one row per count: fits a terminal whatever the targets."""
    table = Table(title="relcrm sync", title_justify="left")
    table.add_column("")
    for report in reports:
        table.add_column(report.target, justify="right")

    def status(report: SyncReport) -> str:
        if report.stopped_by is ExitCode.BUSY:
            return "busy (not run)"
        if report.stopped_by is not None:
            return "not run"
        text: str = "dry run" if report.dry_run else (report.status or "stopped")
        return text + (" (resumed)" if report.resumed else "")

    table.add_row("status", *(status(r) for r in reports))
    for key in SUMMARY_KEYS:
        if any(r.counts[key] for r in reports) or key in ("written", "unchanged"):
            table.add_row(key.replace("_", " "), *(str(r.counts[key]) for r in reports))
    table.add_row("API calls", *(str(r.api_calls) for r in reports))
    table.add_row("seconds", *(f"{r.duration_s:.1f}" for r in reports))
    return table


def _print_details(report: SyncReport) -> None:
    if report.partitions is not None:
        done = ", ".join(str(p) for p in sorted(report.partitions)) or "none"
        if report.run_counts is not None:
            whole = ", ".join(
                f"{key} {report.run_counts[key]}" for key in SUMMARY_KEYS if report.run_counts[key]
            )
            tail = f"; this worker finished the run ({whole or 'nothing to write'})"
        else:
            tail = "; other workers finish the run"
        out.print(
            f"{report.target}: shared run {report.run_id}: this worker wrote partitions "
            f"{done}{tail}",
            markup=False,
            highlight=False,
        )
    if report.message:
        out.print(
            f"{report.target}: {report.error_code}: {report.message}",
            markup=False,
            highlight=False,
        )
    if report.unmatched:
        more = report.counts["unmatched"] - len(report.unmatched)
        tail = f" and {more} more" if more > 0 else ""
        out.print(
            f"  no CRM record matched: {', '.join(report.unmatched)}{tail} "
            "(relcrm unmatched lists them all)",
            markup=False,
            highlight=False,
        )
    for result in report.rejections:
        out.print(
            f"  rejected {result.person_id} (record {result.record_id}): "
            f"{result.error_code}: {result.error_message}",
            markup=False,
            highlight=False,
        )
    for person_id, problem in report.withheld:
        out.print(
            f"  not sent {person_id}: {problem.field}: {problem.problem}",
            markup=False,
            highlight=False,
        )
    shown = len(report.rejections)
    total = report.counts["rejected"] + report.counts["failed"]
    if total > shown:
        out.print(f"  ... and {total - shown} more: relcrm dead-letters list", highlight=False)


def _report(
    reports: list[SyncReport],
    json_output: bool,
    limits: RunLimits | None = None,
    metrics: MetricsOptions | None = None,
) -> None:
    breaches = [limits.check(report) for report in reports] if limits else []
    for report, breach in zip(reports, breaches, strict=False):
        if breach:
            report.threshold_breach = breach
    if metrics is not None:
        metrics.publish(reports)
    if json_output:
        for report in reports:
            sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        if reports:
            out.print(_summary(reports))
        for report in reports:
            _print_details(report)
            if report.threshold_breach:
                out.print(f"  {report.threshold_breach}", markup=False, highlight=False)
    worst = max((report.exit_code for report in reports), default=ExitCode.OK)
    raise typer.Exit(int(worst))


class MetricsOptions:
    """Where a run's figures go: a textfile-collector file, a Pushgateway, or both."""

    def __init__(self, file: Path | None, pushgateway: str | None) -> None:
        self.file = file
        self.pushgateway = pushgateway

    def publish(self, reports: list[SyncReport]) -> None:
        figures = [RunMetrics.of(report) for report in reports if not report.dry_run]
        if not figures:
            return
        try:
            if self.file is not None:
                write_metrics_file(self.file, figures)
            if self.pushgateway is not None:
                push_metrics(self.pushgateway, figures)
        except MetricsError as error:  # the run itself went as it went: warn only
            err.print(f"metrics not published: {error}", markup=False, highlight=False)


MetricsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics-file",
        envvar="RELCRM_METRICS_FILE",
        help="Write the run's figures here in the Prometheus text format (for "
        "node_exporter's textfile collector).",
    ),
]
PushgatewayOption = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        envvar="RELCRM_PUSHGATEWAY_URL",
        help="Push the run's figures to this Prometheus Pushgateway URL.",
    ),
]
MaxUnmatchedOption = Annotated[
    str | None,
    typer.Option(
        "--max-unmatched",
        metavar="N|P%",
        help="Exit 1 if more persons than this (a count, or a share of those to write, "
        "e.g. 5%) matched no CRM record.",
    ),
]
MaxRejectedOption = Annotated[
    str | None,
    typer.Option(
        "--max-rejected",
        metavar="N|P%",
        help="Exit 1 if the CRM rejected more records than this (a count, or a share).",
    ),
]


def _limits(max_unmatched: str | None, max_rejected: str | None) -> RunLimits | None:
    if max_unmatched is None and max_rejected is None:
        return None
    try:
        return RunLimits.parse(max_unmatched, max_rejected)
    except ConfigurationError as error:
        raise _fail(error, ExitCode.CONFIG) from None


@app.command()
def sync(
    config: ConfigOption,
    target: TargetOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and count; call no CRM, change nothing.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Send every mapped value, changed or not (consent still gates)."
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Write at most this many persons per target.")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            help="Persons per write batch and checkpoint [default: the connector's batch, "
            "one request each]. Salesforce uses Bulk API 2.0 from 2,000.",
        ),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
    wait: WaitOption = None,
    max_unmatched: MaxUnmatchedOption = None,
    max_rejected: MaxRejectedOption = None,
    metrics_file: MetricsFileOption = None,
    pushgateway: PushgatewayOption = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            min=1,
            max=256,
            metavar="N",
            help="Share the run with other workers: start each (on this host or others, "
            "on one PostgreSQL store) with the same N; the persons are split into N "
            "partitions and each is written by one worker.",
        ),
    ] = None,
) -> None:
    """Write what changed in the profiles into each target's mapped CRM fields.

    Only persons whose mapped values changed since the last confirmed write are sent, and
    only their changed fields; persons without consent are never written, and those who
    withdrew it have the fields cleared once. A run killed halfway resumes where it
    stopped when started again; a run still going elsewhere on the same target is waited
    for (--wait) or left alone. Exit codes: 0 all written, 1 some records rejected (see
    `relcrm dead-letters list`), 2 configuration error, 3 cannot connect or
    authenticate, 4 paused by a quota (run again later to resume), 5 another run holds a
    target (nothing written there).
    """
    limits = _limits(max_unmatched, max_rejected)
    require_store(config, store)
    try:
        loaded = load_config(config)
        with _Bar() as bar:
            reports = run(
                loaded,
                target=target,
                full=full,
                dry_run=dry_run,
                limit=limit,
                store_url=store,
                batch_size=batch_size,
                progress=bar,
                lease_policy=_lease_policy(wait),
                partitions=partitions,
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    _report(reports, json_output, limits, MetricsOptions(metrics_file, pushgateway))


@app.command("run")
def run_all(
    config: ConfigOption,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Profile as of this moment (ISO, with zone) [default: now]."),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
    wait: WaitOption = None,
    max_unmatched: MaxUnmatchedOption = None,
    max_rejected: MaxRejectedOption = None,
    metrics_file: MetricsFileOption = None,
    pushgateway: PushgatewayOption = None,
) -> None:
    """The whole job, for schedulers: ingest the targets file's [[sources]], profile
    everyone, sync every target. One report, one exit code (the worst of the stages:
    0 all went through, 1 rejected lines or records or a limit broken, 2 configuration,
    3 cannot connect, 4 paused by a quota, 5 another run holds a target).
    """
    limits = _limits(max_unmatched, max_rejected)
    clock = _now(as_of)
    try:
        loaded = load_config(config)
        with _Bar() as bar:
            report = run_pipeline(
                loaded,
                now=clock,
                store_url=store,
                lease_policy=_lease_policy(wait),
                progress=bar,
                on_stage=lambda stage: logger.info("relcrm run: %s", stage),
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    for sync_report in report.syncs:
        breach = limits.check(sync_report) if limits else None
        if breach:
            sync_report.threshold_breach = breach
    MetricsOptions(metrics_file, pushgateway).publish(report.syncs)
    if json_output:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
        raise typer.Exit(int(report.exit_code))
    for source in report.sources:
        files = len(source.reports)
        rejected = sum(r.rejected for r in source.reports)
        new = sum(r.perceptions_new for r in source.reports)
        detail = source.message or f"{files} files, {new} new perceptions, {rejected} rejected"
        out.print(f"ingest {source.label}: {detail}", markup=False, highlight=False)
    if report.profile is not None:
        out.print(
            f"profile: {report.profile.persons} persons as of {clock:%Y-%m-%d %H:%M %Z}",
            highlight=False,
        )
    if report.syncs:
        out.print(_summary(report.syncs))
    for sync_report in report.syncs:
        _print_details(sync_report)
        if sync_report.threshold_breach:
            out.print(f"  {sync_report.threshold_breach}", markup=False, highlight=False)
    raise typer.Exit(int(report.exit_code))


dead_letters_app = typer.Typer(
    help="Writes a CRM rejected: list them, and send them again once the cause is fixed.",
    no_args_is_help=True,
)
app.add_typer(dead_letters_app, name="dead-letters")


StoreConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The targets file, for its [store] (or give --store; default ./relcrm.db).",
    ),
]


def _open_store(config: Path | None, store: str | None) -> Store:
    try:
        loaded = load_config(config) if config is not None else None
        return Store.open(store_url_of(loaded, store))
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None


@dead_letters_app.command("list")
def dead_letters_list(
    config: StoreConfigOption = None,
    target: TargetOption = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """The open dead letters: person, record, the CRM's code and message, attempts."""
    require_store(config, store)
    with _open_store(config, store) as opened:
        letters = opened.open_dead_letters(target)
    if json_output:
        for letter in letters:
            record = {
                "id": letter.id,
                "target": letter.target,
                "person_id": letter.person_id,
                "record_id": letter.record_id,
                "fields": sorted(letter.fields),
                "code": letter.error_code,
                "message": letter.error_message,
                "attempts": letter.attempts,
                "last_failed_at": letter.last_failed_at.isoformat(),
                "status": letter.status,
            }
            sys.stdout.write(json.dumps(record) + "\n")
        return
    if not letters:
        out.print("no open dead letters")
        return
    out.print(f"{len(letters)} open dead letters")
    for letter in letters:
        out.print(
            f"#{letter.id}  {letter.target}  person {letter.person_id}  record "
            f"{letter.record_id or '-'}  attempts {letter.attempts}  last "
            f"{letter.last_failed_at:%Y-%m-%d %H:%M}\n    {letter.error_code}: "
            f"{letter.error_message}\n    fields: {', '.join(sorted(letter.fields))}",
            markup=False,
            highlight=False,
        )


@dead_letters_app.command("retry")
def dead_letters_retry(
    config: ConfigOption,
    target: TargetOption = None,
    letter: Annotated[
        list[int] | None, typer.Option("--id", help="Only this letter (repeatable).")
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
    wait: WaitOption = None,
) -> None:
    """Send the open dead letters again, with values computed from the current profiles
    and the current mapping (fix the mapping or the CRM first). Exit 1 if some fail again."""
    require_store(config, store)
    try:
        loaded = load_config(config)
        with _Bar() as bar:
            reports = retry_dead_letters(
                loaded,
                target=target,
                letter_ids=letter,
                store_url=store,
                progress=bar,
                lease_policy=_lease_policy(wait),
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    if not reports and not json_output:
        out.print("no open dead letters to retry")
    _report(reports, json_output)


@app.command()
def unmatched(
    config: ConfigOption,
    target: TargetOption = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Persons relcrm had values for but whom no CRM record matched at their last sync,
    per target: add them to the CRM, fix their match keys, or widen the mapping's [match]."""
    require_store(config, store)
    try:
        loaded = load_config(config)
        chosen = loaded.select(target)
        opened = Store.open(store_url_of(loaded, store))
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    with opened:
        found = {item.name: opened.unmatched_persons(item.name) for item in chosen}
    if json_output:
        for name, persons in found.items():
            for person_id, at in persons:
                record = {"target": name, "person_id": person_id, "tried_at": at.isoformat()}
                sys.stdout.write(json.dumps(record) + "\n")
        return
    for name, persons in found.items():
        out.print(f"{name}: {len(persons)} unmatched", highlight=False)
        for person_id, at in persons:
            out.print(f"  {person_id}  (tried {at:%Y-%m-%d %H:%M})", markup=False, highlight=False)


@app.command()
def runs(
    config: StoreConfigOption = None,
    target: TargetOption = None,
    last: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Past sync runs, newest first: status, counts, API calls, duration."""
    require_store(config, store)
    with _open_store(config, store) as opened:
        history = opened.runs(last, target=target)
    if json_output:
        for item in history:
            record = {
                "id": item.id,
                "target": item.target,
                "started_at": item.started_at.isoformat(),
                "finished_at": item.finished_at.isoformat() if item.finished_at else None,
                "status": item.status,
                "counts": item.counts,
                "api_calls": item.api_calls,
                "message": item.message,
            }
            sys.stdout.write(json.dumps(record) + "\n")
        return
    if not history:
        out.print("no runs yet")
    for item in history:
        counts = ", ".join(f"{key.replace('_', ' ')} {n}" for key, n in item.counts.items() if n)
        took = f"{item.duration.total_seconds():.1f} s" if item.duration else "unfinished"
        out.print(
            f"{item.started_at:%Y-%m-%d %H:%M:%S}  {item.target}  {item.status}  "
            f"{counts or 'nothing to do'}  ({item.api_calls} API calls, {took})",
            markup=False,
            highlight=False,
        )
        if item.message:
            out.print(f"    {item.message}", markup=False, highlight=False)


__all__ = ["SUMMARY_KEYS"]
