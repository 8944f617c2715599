"""``relcrm report``: the relationship report as one HTML file (or its figures as JSON)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from relcrm.cli import (
    ExitCode,
    StoreOption,
    _fail,
    _now,
    _store_url,
    app,
    out,
    require_store,
)
from relcrm.errors import ConfigurationError, RelcrmError
from relcrm.models import Segment
from relcrm.report import ReportOptions, build_report, parse_since, write_report
from relcrm.report.options import DEFAULT_MAX_PEOPLE
from relcrm.store import Store


def _links(given: list[str]) -> dict[str, str]:
    links: dict[str, str] = {}
    for item in given:
        target, sep, template = item.partition("=")
        if not sep or not target.strip():
            raise ConfigurationError(
                f"--link takes TARGET=URL_TEMPLATE, got {item!r}", code="report.invalid_option"
            )
        links[target.strip()] = template.strip()
    return links


@app.command()
def report(
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    store: StoreOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report's figures as JSON instead.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Report as things stood then (ISO, with zone): everyone is profiled again "
            "in memory [default: the saved profiles].",
            show_default=False,
        ),
    ] = None,
    segment: Annotated[
        Segment | None,
        typer.Option("--segment", help="Show only this segment's people (counts stay whole)."),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="Window of the trend, emotions and scores: 90d, 12w.")
    ] = "90d",
    people: Annotated[
        int, typer.Option("--people", min=0, help="Person sections at most.")
    ] = DEFAULT_MAX_PEOPLE,
    link: Annotated[
        list[str] | None,
        typer.Option(
            "--link",
            help="TARGET=URL with {object} and {id}: link each person's record on TARGET.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the relationship report: the loyalty map, health, segments and their movement,
    trend, emotions, pet peeves, scores, who needs outreach, a section per person, sync
    health. One HTML file, no script, no network."""
    require_store(None, store)
    try:
        options = ReportOptions(
            as_of=None if as_of is None else _now(as_of),
            since=parse_since(since),
            segment=segment,
            max_people=people,
            links=_links(link or []),
        )
        with Store.open(_store_url(store)) as opened:
            if json_output:
                sys.stdout.write(build_report(opened, options).model_dump_json(indent=2) + "\n")
                return
            figures = write_report(opened, out_file, options)
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None
    quadrants = figures.loyalty_map.quadrants
    out.print(
        f"wrote {out_file.absolute()}: {figures.meta.persons} persons, "
        + ", ".join(f"{q.value} {n}" for q, n in quadrants.items())
        + f", {figures.outreach_total} to reach out to now"
        + ("" if segment is None else f" (segment {segment.value})"),
        highlight=False,
    )
