"""``relcrm forget`` and ``relcrm audit``: the right to erasure, thin over
:mod:`relcrm.sync.forget` and the store's audit log."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from relcrm.cli import (
    ExitCode,
    JsonOption,
    StoreOption,
    _exit_code_of,
    _fail,
    app,
    err,
    out,
    require_store,
)
from relcrm.errors import ConfigurationError, RelcrmError
from relcrm.store import Store
from relcrm.store.audit import AuditEntry
from relcrm.sync.config import Config, load_config
from relcrm.sync.forget import (
    IDENTITY_KIND_CHOICES,
    PERSON_ID,
    ForgetReport,
    TargetStatus,
    UnknownPersonError,
    forget,
    identity_kind_of,
)
from relcrm.sync.jobs import store_url_of

OptionalConfig = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The targets file: the CRMs to clear, and the store (its [store]). Needed "
        "to clear CRM fields; optional with --store-only.",
    ),
]


def _open(config: Config | None, store: str | None) -> Store:
    return Store.open(store_url_of(config, store))


def _print_report(report: ForgetReport) -> None:
    verb = "would clear" if report.dry_run else "cleared"
    out.print(f"person {report.person_id}", markup=False, highlight=False)
    for item in report.targets:
        where = f"{item.target}: {item.record.object} {item.record.record_id}"
        if item.status is TargetStatus.CLEARED:
            line = f"  {verb} relcrm's fields in {where}"
        elif item.status is TargetStatus.DRY_RUN:
            line = f"  would clear relcrm's fields in {where}"
        elif item.status is TargetStatus.SKIPPED:
            line = f"  not called (--store-only): {where}"
        elif item.status is TargetStatus.NOT_CONFIGURED:
            line = f"  NOT cleared: {where}: the target is not in the targets file"
        else:
            line = f"  NOT cleared: {where}: {item.error_code}: {item.message}"
        out.print(line, markup=False, highlight=False)
    if not report.targets:
        out.print("  no CRM record was ever matched to this person", highlight=False)
    rows = ", ".join(f"{table} {n}" for table, n in sorted(report.rows_erased.items()))
    if report.dry_run:
        out.print(f"  would erase from the store: {rows or 'nothing'}", highlight=False)
        return
    if report.erased:
        out.print(f"  erased from the store: {rows or 'nothing'}", highlight=False)
    else:
        out.print(
            "  the store was NOT erased, so nothing is lost: fix the targets above and run "
            "forget again (or pass --store-only to erase the store anyway)",
            highlight=False,
        )
    if report.rows_left:
        left = ", ".join(f"{table} {n}" for table, n in sorted(report.rows_left.items()))
        err.print(f"rows still name the person after erasing: {left}; report this bug")
    holding = report.records_holding_fields
    if report.erased and holding:
        out.print(
            "  these CRM records may still hold relcrm's fields; clear them by hand:",
            highlight=False,
        )
        for item in holding:
            out.print(
                f"    {item.target}: {item.record.object} {item.record.record_id}",
                markup=False,
                highlight=False,
            )
    if report.identities_refused:
        out.print(
            f"  {report.identities_refused} identities kept as salted hashes: every ingest "
            "refuses them from now on, unless a record gives consent again",
            highlight=False,
        )
    out.print(f"  audit entry #{report.audit_id} ({report.outcome})", highlight=False)


@app.command("forget")
def forget_command(
    identity: Annotated[
        str | None,
        typer.Argument(
            help="An email, a phone, platform:handle, or a CRM record as system/object/id "
            "(salesforce/Contact/003...).",
            show_default=False,
        ),
    ] = None,
    person_id: Annotated[
        str | None,
        typer.Option("--person-id", help="relcrm's own id of the person, instead of IDENTITY."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="What IDENTITY is (email, phone, handle, crm) when its shape misleads."
        ),
    ] = None,
    config: OptionalConfig = None,
    store_only: Annotated[
        bool,
        typer.Option(
            "--store-only",
            help="Erase the store without calling any CRM (one is gone, or unreachable for "
            "good); the records that may still hold relcrm's fields are listed.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what would be cleared and erased; change nothing."),
    ] = False,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """Forget a person everywhere relcrm put them (right to erasure).

    Clears relcrm's fields in every CRM record relcrm wrote to, then erases the person
    from the store (identities, perceptions, preferences, profile, sync state, dead
    letters), and keeps an audit entry that holds no personal data.

    The store is erased only once every CRM record was cleared, so a failed forget loses
    nothing: run it again when the CRM is back. Exit codes: 0 done, 1 a CRM record not
    cleared (rejected, or its target is not in the targets file), 2 unknown identity or
    configuration error, 3 cannot connect to or authenticate with a CRM.
    """
    require_store(config, store)  # erasing needs the store that holds the person
    if (identity is None) == (person_id is None):
        raise _fail(
            ConfigurationError(
                "give exactly one of IDENTITY and --person-id",
                hint="e.g. relcrm forget jane@example.com --config relcrm.toml",
                code="forget.no_identity",
            )
        )
    try:
        if person_id is not None:
            chosen, value = PERSON_ID, person_id
        else:
            assert identity is not None
            value = identity
            if kind is not None and kind not in IDENTITY_KIND_CHOICES:
                raise ConfigurationError(
                    f"--kind must be one of {', '.join(IDENTITY_KIND_CHOICES)}, got {kind!r}",
                    code="forget.unknown_identity_kind",
                )
            chosen = kind or identity_kind_of(identity)
        if config is None and not (store_only or dry_run):
            raise ConfigurationError(
                "forget needs the targets file to clear relcrm's fields in the CRMs",
                hint="pass --config FILE, or --store-only to erase only the store",
                code="forget.no_config",
            )
        loaded = load_config(config) if config is not None else None
        with _open(loaded, store) as opened:
            report = forget(
                opened,
                chosen,
                value,
                config=loaded,
                store_only=store_only,
                dry_run=dry_run,
            )
    except UnknownPersonError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    if json_output:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        _print_report(report)
    raise typer.Exit(int(report.exit_code))


def _audit_line(entry: AuditEntry) -> str:
    head = f"#{entry.id}  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.action}  {entry.outcome}  "
    if entry.action == "reconsent":
        return head + f"subject {entry.subject[:16]}  " + _reconsent_detail(entry.counts)
    rows = entry.counts.get("rows", {})
    erased = sum(int(n) for n in rows.values()) if isinstance(rows, dict) else 0
    targets = entry.counts.get("targets", {})
    per_status = (
        ", ".join(f"{status} {', '.join(names)}" for status, names in sorted(targets.items()))
        if isinstance(targets, dict)
        else ""
    )
    return (
        head
        + f"subject {entry.subject[:16]}  rows {erased}"
        + (f"  targets: {per_status}" if per_status else "")
    )


def _minute(value: object) -> str:
    """An ISO time of the audit log as ``2026-11-22 09:14 UTC`` (as stored if unreadable)."""
    try:
        return f"{datetime.fromisoformat(str(value)).astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return str(value)


def _reconsent_detail(counts: dict[str, Any]) -> str:
    """What brought a forgotten person back: the consent, the erasure, the record."""
    return (
        f"back by consent given {_minute(counts.get('consent_at'))}, after the erasure "
        f"of {_minute(counts.get('erased_at'))}: {counts.get('via', 'source')} "
        f"{counts.get('record', '')}".rstrip()
    )


@app.command("audit")
def audit_command(
    config: OptionalConfig = None,
    person_id: Annotated[
        str | None,
        typer.Option(
            "--person-id",
            help="Only entries about this person id (matched through its salted hash).",
        ),
    ] = None,
    last: Annotated[int, typer.Option(min=1, help="How many entries to show.")] = 50,
    store: StoreOption = None,
    json_output: JsonOption = False,
) -> None:
    """The audit log of erasures, newest first.

    Each forget with its time, outcome, rows erased per table and CRM targets cleared;
    each reconsent (a forgotten person let back in by an ingest, because a record gave
    consent again after the erasure) with the dates and the source record. Entries hold
    no personal data: the subject is a salted one-way hash of the person id, which
    `--person-id` can match."""
    require_store(config, store)
    try:
        loaded = load_config(config) if config is not None else None
        with _open(loaded, store) as opened:
            entries = opened.audit_entries(last, person_id=person_id)
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    if json_output:
        for entry in entries:
            sys.stdout.write(json.dumps(entry.to_json()) + "\n")
        return
    if not entries:
        out.print("no audit entries")
        return
    for entry in entries:
        out.print(_audit_line(entry), markup=False, highlight=False)


__all__ = ["audit_command", "forget_command"]
