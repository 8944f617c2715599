"""``relcrm demo``: the whole story, printed for a person reading a terminal.

The story itself is :mod:`relcrm.demo`, out of the production packages; it is imported
when the command runs, so other commands (``relcrm sync``) never load it.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from relcrm.cli import (
    ORG_FILE,
    ExitCode,
    _fail,
    _print_explained,
    _print_segments,
    app,
    err,
    out,
)
from relcrm.errors import RelcrmError
from relcrm.models import RelationshipProfile, Segment
from relcrm.sandbox._server import stop_signals_interrupt

if TYPE_CHECKING:
    from relcrm.demo import CrmDemo, DemoResult, DemoTask
    from relcrm.sync.preview import PersonPreview


def _print_read_back(
    title: str,
    names: Sequence[str],
    read_back: Mapping[str, Mapping[str, object]],
    twins: Sequence[str],
) -> None:
    """What the CRM now holds for the twins, one column each, as read back from it."""
    present = [twin for twin in twins if twin in read_back]
    if not present:
        return
    table = Table(title=title)
    table.add_column("field", no_wrap=True)
    for twin in present:
        table.add_column(twin)
    for name in names:
        table.add_row(name, *(str(read_back[twin].get(name)) for twin in present))
    out.print(table)


BRIEF_SOURCES = ("segment", "needs_outreach", "health")
"""What the twins' read-back shows after the first CRM's full table: the fields that tell
them apart (each CRM holds them all; the tests check every one)."""


def _print_read_back_brief(part: CrmDemo, twins: Sequence[str]) -> None:
    """The twins' telling fields in one line each, as read back from ``part``'s CRM."""
    if part.mapping is None or not all(twin in part.read_back for twin in twins):
        return
    names = {item.source: item.name for item in part.mapping.fields}
    shown = [names[source] for source in BRIEF_SOURCES if source in names]
    out.print(f"the twins in {part.crm}, read back:", highlight=False)
    for twin in twins:
        values = ", ".join(f"{name} = {part.read_back[twin].get(name)}" for name in shown)
        out.print(f"  {twin}: {values}", highlight=False, markup=False)


PREFERENCE_SOURCES = ("preferences.channel", "preferences.topic")
"""The trapped twin's stated preferences the demo shows as each CRM stores them."""


def _task_line(task: DemoTask) -> str:
    return (
        f'"{task.subject}" for {task.owner} (priority {task.priority}, status {task.status}, '
        f"id {task.task_id})"
    )


def _print_outreach(part: CrmDemo, twins: Sequence[str]) -> None:
    """The follow-up tasks on the twins' records and the trapped twin's preferences, as
    read back from ``part``'s CRM (only where the demo turned tasks on)."""
    if part.tasks is None or part.mapping is None:
        return
    out.print(
        f"follow-up tasks: {part.first.counts['tasks_created']} created, one per person "
        "who needs a human now, for the owner of their record; on the twins, read back:",
        highlight=False,
    )
    for twin in twins:
        tasks = part.tasks.get(twin, [])
        shown = "; ".join(_task_line(t) for t in tasks) if tasks else "no task"
        out.print(f"  {twin}: {shown}", highlight=False, markup=False)
    trapped = twins[-1]
    names = {item.source: item.name for item in part.mapping.fields}
    stored = [
        f"{names[source]} = {part.read_back.get(trapped, {}).get(names[source])}"
        for source in PREFERENCE_SOURCES
        if source in names
    ]
    if stored:
        out.print(
            f"{trapped}'s stated preferences, read back: " + ", ".join(stored),
            highlight=False,
            markup=False,
        )


def _short(value: object, width: int = 48) -> str:
    text = "(empty)" if value is None else " / ".join(str(value).splitlines())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_preview(preview: PersonPreview) -> None:
    """A compact ``relcrm mapping preview``: each field's value, and whether the next
    sync sends it."""
    table = Table(
        title=f"relcrm mapping preview {preview.person_id} on {preview.target} "
        "(before the second sync)",
        title_justify="left",
    )
    for column in ("field", "value", "next sync", "last written"):
        table.add_column(column, overflow="fold")
    for item in preview.fields:
        table.add_row(item.field, _short(item.value), item.state.value, item.last_written.value)
    out.print(table)


def _print_crm(part: CrmDemo, result: DemoResult, *, full_read_back: bool = True) -> bool:
    """One CRM's part; False when the CRM rejected something. ``full_read_back``: the
    twins' every field as a table, else their telling fields in a line each."""
    first = part.first
    out.rule(f"{part.crm} sandbox {part.url}")
    cases = (
        f", {part.cases.perceptions_new} support cases read back as perceptions "
        f"({part.cases.analyzed} read by the analyzer)"
        if part.cases is not None
        else ""
    )
    out.print(f"{part.seeded} people already in the CRM (seeded as its stand-in){cases}")
    plan = part.plan
    steps = [f"create {len(plan.create)} fields on {plan.object_name}", *plan.changes]
    out.print("fields plan (read only): " + "; ".join(steps), highlight=False)
    problems = len(part.applied.problems)
    out.print(
        f"fields apply: {len(part.applied.created)} created; mapping check afterwards: "
        + ("ok" if not problems else f"{problems} problems"),
        highlight=False,
    )
    written = Counter(p.archetype.value for p in result.profiles if p.person_id in part.records)
    out.print(
        f"sync: {first.counts['written']} persons written ({first.counts['fields_sent']} "
        f"field values), {first.counts['skipped_no_consent']} without consent not written, "
        f"{first.counts['unmatched']} not found, {first.counts['rejected']} rejected; "
        f"{first.api_calls} API calls",
        highlight=False,
    )
    out.print(
        "written by archetype: " + ", ".join(f"{k} {n}" for k, n in written.most_common()),
        highlight=False,
    )
    if part.notes is not None:
        out.print(
            f"history: {len(part.notes.created)} notes, one per perception (no verbatims); "
            f"{len(part.notes.rejected)} rejected",
            highlight=False,
        )
    names = sorted(part.mapping.field_names()) if part.mapping is not None else []
    if full_read_back:
        _print_read_back(f"The twins in {part.crm}, read back", names, part.read_back, result.twins)
    else:
        _print_read_back_brief(part, result.twins)
    _print_outreach(part, result.twins)
    for rejection in first.rejections:
        out.print(
            f"  rejected {rejection.person_id}: {rejection.error_code}: {rejection.error_message}",
            markup=False,
        )
    return not (first.counts["rejected"] or first.counts["failed"])


def _print_second(result: DemoResult) -> None:
    from relcrm.demo import CHANGED_VERBATIM

    out.rule("one person changes their mind")
    out.print(
        f'{result.changed} answers the survey again: NPS 1, "{CHANGED_VERBATIM}"\n'
        "profiles computed again.",
        highlight=False,
    )
    if result.preview is not None:
        _print_preview(result.preview)
        sending = sum(1 for f in result.preview.fields if f.state.value == "send")
        out.print(f"the preview says {sending} fields will be sent", highlight=False)
    out.print("a second sync to each CRM:")
    for part in result.crms:
        second = part.second
        if second is None:
            continue
        out.print(
            f"  {part.crm}: {second.counts['written']} person written, "
            f"{second.counts['fields_sent']} of {len(names_of(part))} fields sent (the changed "
            f"ones), {second.counts['unchanged']} unchanged and not sent; "
            f"{second.api_calls} API call(s)",
            highlight=False,
        )
        if part.tasks_after_second is not None:
            again = part.tasks_after_second
            twins = sum(len(again.get(twin, [])) for twin in result.twins)
            changed = len(again.get(result.changed or "", []))
            out.print(
                f"    {second.counts['tasks_created']} follow-up task created (the person "
                f"who changed now has {changed}); the twins still have {twins}, none twice",
                highlight=False,
            )


REPORT_FILE = "relcrm-demo-report.html"
"""The report's file name: in the ``--keep`` folder, else in the current directory (the
demo's scratch folder is deleted when it ends)."""

INTERRUPTED = 130
"""The exit code of a demo stopped by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT, as shells
report an interrupted command)."""


def names_of(part: CrmDemo) -> list[str]:
    return sorted(part.mapping.field_names()) if part.mapping is not None else []


@app.command()
def demo(
    persons: Annotated[int, typer.Option(min=12, help="How many synthetic persons.")] = 60,
    seed: Annotated[int, typer.Option(help="Same seed, same story.")] = 7,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the sample files, the store and the Salesforce org here."),
    ] = None,
    salesforce: Annotated[
        bool,
        typer.Option(
            "--salesforce/--no-salesforce", help="Also sync to a local Salesforce sandbox."
        ),
    ] = True,
    hubspot: Annotated[
        bool,
        typer.Option(
            "--hubspot/--no-hubspot",
            help="Also sync (and a history note per perception) to a local HubSpot sandbox "
            "(kept in memory only, also with --keep).",
        ),
    ] = True,
    dataverse: Annotated[
        bool,
        typer.Option(
            "--dataverse/--no-dataverse",
            help="Also sync to a local Dataverse (Dynamics 365) sandbox (in memory only).",
        ),
    ] = True,
    zoho: Annotated[
        bool,
        typer.Option(
            "--zoho/--no-zoho", help="Also sync to a local Zoho CRM sandbox (in memory only)."
        ),
    ] = True,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help=f"Where the demo writes the relationship report [default: {REPORT_FILE} in "
            "the --keep folder, else in the current directory].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The whole story on a throwaway store and local CRM sandboxes (Salesforce, HubSpot,
    Dataverse and Zoho CRM).

    A sample arrives as a survey export, social posts, support cases in the CRMs and
    interchange lines; verbatims are redacted and analyzed offline; everyone is profiled.
    Two customers with identical purchase histories, whom a CRM cannot tell apart, feel
    very differently. Then, per CRM: the field plan, apply, a sync of every consenting
    person; one person answers a survey again, and a second sync sends only their
    changed fields. It ends by writing the relationship report and printing its path.
    Exit code 1 when a CRM rejected some records.
    """
    from relcrm.demo import run_demo

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="relcrm-demo-") as scratch:
        workdir = keep or Path(scratch)
        org_file = keep / ORG_FILE if keep is not None else None
        report_file = (report or (keep or Path.cwd()) / REPORT_FILE).absolute()
        try:
            # SIGTERM and SIGHUP unwind like Ctrl-C, so the sandboxes delete their keys
            with stop_signals_interrupt():
                result = run_demo(
                    workdir,
                    persons=persons,
                    seed=seed,
                    now=now,
                    salesforce=salesforce,
                    org_file=org_file,
                    hubspot=hubspot,
                    dataverse=dataverse,
                    zoho=zoho,
                    report_file=report_file,
                )
        except KeyboardInterrupt:
            err.print("interrupted: the demo's sandboxes are stopped and their keys deleted")
            raise typer.Exit(INTERRUPTED) from None
        except RelcrmError as error:
            raise _fail(error, error.exit_code) from None
        out.rule("relcrm demo")
        files = (result.ingest, result.survey, result.social)
        redacted = sum(sum(r.redactions.values()) for r in files)
        analyzed = sum(r.analyzed for r in files)
        notes = [] if result.ingest.analyzed else ["the interchange lines carry theirs"]
        with_cases = any(part.cases is not None for part in result.crms)
        if with_cases:
            notes.append("case texts below")
        aside = f" ({'; '.join(notes)})" if notes else ""
        cases = "support cases from the CRMs below. " if with_cases else ""
        out.print(
            f"1. sources: {result.ingest.perceptions_new} perceptions from interchange lines; "
            f"{result.survey.perceptions_new} from a Qualtrics-style survey export "
            f"({result.survey.rejected} rows rejected); {result.social.perceptions_new} from "
            f"social posts ({result.social.unresolved} from unknown handles kept aside); "
            f"{cases}{redacted} personal items redacted from verbatims; {analyzed} verbatims "
            f"without a valence read by the offline analyzer{aside}.\n"
            f"2. profile: {len(result.profiles)} persons, as of {now:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
        _print_segments(result.run)
        by_id = {p.person_id: p for p in result.profiles}
        out.print(
            "\n[bold]The twins[/]: identical purchase history, as the CRM sees them. "
            "How they feel:",
            markup=True,
        )
        _print_explained([by_id[twin] for twin in result.twins])
        examples: dict[Segment, RelationshipProfile] = {}
        for item in result.profiles:
            if item.person_id not in result.twins:
                examples.setdefault(item.segment, item)
        out.print("\n[bold]One person from each segment[/]:", markup=True)
        _print_explained(list(examples.values()))
        clean = True
        for number, part in enumerate(result.crms):
            out.print()
            clean = _print_crm(part, result, full_read_back=number < 2) and clean
        if result.changed is not None:
            out.print()
            _print_second(result)
        if keep is not None:
            out.print(f"\nKept the sample files and the store {result.store_url} in {keep}")
            if result.salesforce is not None and org_file is not None:
                out.print(
                    f"and the Salesforce org {org_file} "
                    f"(relcrm sandbox salesforce --data {org_file})",
                    highlight=False,
                )
        if result.report_file is not None:
            out.print(
                f"\nThe relationship report: {result.report_file}", highlight=False, soft_wrap=True
            )
    if not clean:
        raise typer.Exit(int(ExitCode.REJECTED))
