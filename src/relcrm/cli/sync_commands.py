"""``relcrm sync``, ``relcrm dead-letters list|retry`` and ``relcrm runs``: the ops team's
commands, thin over :mod:`relcrm.sync.jobs` and the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
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
    app,
    err,
    out,
)
from relcrm.errors import RelcrmError
from relcrm.store import Store
from relcrm.sync.config import load_config
from relcrm.sync.engine import COUNT_KEYS, SyncProgress, SyncReport
from relcrm.sync.jobs import retry_dead_letters, run, store_url_of

SUMMARY_KEYS = tuple(key for key in COUNT_KEYS if key not in ("considered", "fields_truncated"))
"""The counts the summary table shows (when not all zero)."""


class _Bar:
    """A progress bar per target on a terminal; nothing when output is redirected."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("written {task.fields[written]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

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
    if report.message:
        out.print(f"{report.target}: {report.error_code}: {report.message}", highlight=False)
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


def _report(reports: list[SyncReport], json_output: bool) -> None:
    if json_output:
        for report in reports:
            sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        if reports:
            out.print(_summary(reports))
        for report in reports:
            _print_details(report)
    worst = max((report.exit_code for report in reports), default=ExitCode.OK)
    raise typer.Exit(int(worst))


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
) -> None:
    """Write what changed in the profiles into each target's mapped CRM fields.

    Only persons whose mapped values changed since the last confirmed write are sent, and
    only their changed fields; persons without consent are never written, and those who
    withdrew it have the fields cleared once. A run killed halfway resumes where it
    stopped when started again. Exit codes: 0 all written, 1 some records rejected (see
    `relcrm dead-letters list`), 2 configuration error, 3 cannot connect or
    authenticate, 4 paused by a quota (run again later to resume).
    """
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
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    _report(reports, json_output)


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
) -> None:
    """Send the open dead letters again, with values computed from the current profiles
    and the current mapping (fix the mapping or the CRM first). Exit 1 if some fail again."""
    try:
        loaded = load_config(config)
        with _Bar() as bar:
            reports = retry_dead_letters(
                loaded, target=target, letter_ids=letter, store_url=store, progress=bar
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    if not reports and not json_output:
        out.print("no open dead letters to retry")
    _report(reports, json_output)


@app.command()
def runs(
    config: StoreConfigOption = None,
    target: TargetOption = None,
    last: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Past sync runs, newest first: status, counts, API calls, duration."""
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
