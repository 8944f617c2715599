"""The ``relcrm`` command: a thin shell over the library.

Exit codes a scheduler can act on:

- 0: everything went through
- 1: some records were rejected (each is reported; the rest went through)
- 2: configuration or input error (nothing was changed)
- 3: cannot connect to or authenticate with a CRM
- 4: paused by a CRM quota (run again later to resume)
"""

from __future__ import annotations

import heapq
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from typer.core import TyperGroup

from relcrm import __version__
from relcrm.analyze import (
    DEFAULT,
    DEFAULT_ANALYZER,
    RedactionConfig,
    analyzer_named,
    load_redaction_config,
)
from relcrm.errors import ConfigurationError, RelcrmError, StoreError
from relcrm.mapping import mapping_json_schema
from relcrm.models import PUBLIC_MODELS, RelationshipProfile, Segment, TextAnalysis
from relcrm.observability import FileConsole, LineProgress, LogFormat, configure_logging
from relcrm.profile.columnar.spark import SparkInputs, SparkOptions
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import IngestReport, ProfileRun, ingest_interchange, profile_all
from relcrm.sync.analysis import check_analyzer
from relcrm.sync.cases_job import ingest_cases_from
from relcrm.sync.config import Target, build_connector, load_config
from relcrm.sync.engine import ExitCode
from relcrm.sync.fields import (
    FieldsPlan,
    MappingProblem,
    Severity,
    apply_fields,
    check_mapping,
    describe_spec,
    has_errors,
    plan_fields,
)
from relcrm.sync.ingest_sources import ingest_social, ingest_survey
from relcrm.sync.jobs import store_url_of
from relcrm.sync.profiling import import_profile_table


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite store URL names; None for another database, memory, or a URI."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the command reports it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or "uri" in parsed.query:
        return None
    return Path(database).expanduser()


def require_store(config: Path | None, store: str | None) -> None:
    """Exit 2, saying so, when the store a command would read is a SQLite file that does
    not exist (opening it would create an empty one: a mistyped --store, or a command run
    in the wrong folder). Commands that read the store call it first; ``ingest`` and
    ``run`` create the store."""
    try:
        loaded = load_config(config) if config is not None else None
    except RelcrmError:
        return  # the command itself reports a bad targets file
    path = sqlite_file(store_url_of(loaded, store))
    if path is not None and not path.exists():
        raise _fail(
            StoreError(
                f"no store at {path.absolute()}",
                hint="load data first (relcrm ingest FILE), or name your store with "
                "--store, the targets file's [store] or RELCRM_STORE_URL",
                code="store.not_found",
            ),
            ExitCode.CONFIG,
        )


def _hide_flag_types(params: Any) -> None:
    """Show boolean flags as ``--json``, not ``--json <bool>``: typer's rich help prints a
    type for every option, although a flag takes no value."""
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""


def _polish(command: Any, ctx: Any, path: tuple[str, ...]) -> None:
    """Once per command object: hide flag types (its help option's too); then its
    subcommands'."""
    if getattr(command, "_relcrm_polished", False):
        return
    command._relcrm_polished = True
    _hide_flag_types([*command.params, command.get_help_option(ctx)])
    for name, subcommand in getattr(command, "commands", {}).items():
        _polish(subcommand, ctx, (*path, name))


class RelcrmGroup(TyperGroup):
    """The ``relcrm`` command group: every command it hands out is polished first
    (:func:`_polish`), whichever module registered it."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _polish(command, ctx, (cmd_name,))
        return command

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        _hide_flag_types(params)
        return params


app = typer.Typer(
    name="relcrm",
    cls=RelcrmGroup,
    help="relcrm: how your customers feel, in the CRM you already run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings' line breaks are not kept: paragraphs flow
)

# Not a terminal (a file, cron, Kubernetes): no wrapping at 80 columns.
out = FileConsole(highlight=False, soft_wrap=True)
err = FileConsole(stderr=True, highlight=False)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="State store: a SQLAlchemy URL or a SQLite file path "
        "[default: $RELCRM_STORE_URL or ./relcrm.db]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line, for machines.")]


def _store_url(option: str | None) -> str:
    return store_url_of(None, option)


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"give a time zone, e.g. {value}Z")
    return moment


def _fail(error: RelcrmError, code: ExitCode = ExitCode.CONFIG) -> typer.Exit:
    # The message is not markup: "[store.not_found]" or "[store]" must print as written.
    err.print(f"[bold red]error[/] {escape(str(error))}", markup=True, highlight=False)
    return typer.Exit(int(code))


def _progress(label: str) -> Progress | LineProgress:
    """A progress bar on a terminal; plain log lines (every 10 % or 30 s) otherwise."""
    if not err.is_terminal:
        return LineProgress(label)
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _print_version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _global_options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print relcrm's version and exit.",
        ),
    ] = False,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="Log lines on stderr: text, or json (one object a line); UTC timestamps "
            "[default: $RELCRM_LOG_FORMAT or text].",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            help="DEBUG, INFO, WARNING, ERROR or CRITICAL [default: $RELCRM_LOG_LEVEL or WARNING].",
            show_default=False,
        ),
    ] = None,
) -> None:
    try:
        configure_logging(log_level, log_format)
    except RelcrmError as error:
        raise _fail(error) from None


@app.command()
def version() -> None:
    """Print relcrm's version."""
    out.print(__version__)


@app.command()
def sample(
    output: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path(
        "sample.jsonl"
    ),
    persons: Annotated[int, typer.Option(min=2, help="How many persons.")] = 60,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 7,
    now: Annotated[str | None, typer.Option(help="Clock for the data (ISO, with zone).")] = None,
) -> None:
    """Write a realistic synthetic data set (JSONL interchange) to try relcrm on."""
    # the fixtures package: loaded by this command only, never by `relcrm sync`
    from relcrm.testing.synthetic import generate_sample

    data = generate_sample(persons=persons, seed=seed, now=_now(now))
    count = write_interchange(data.records(), output)
    err.print(f"wrote {count} records ({len(data.persons)} persons) to {output}")


def _print_rejections(report: IngestReport, limit: int = 50) -> None:
    for error in report.rejections[:limit]:
        err.print(f"[red]rejected[/] {error.message}", markup=True, highlight=False)
    if report.rejected > limit:
        err.print(f"... and {report.rejected - limit} more rejected records")


class IngestFormat(StrEnum):
    """What ``relcrm ingest`` reads (docs/interchange.md, docs/sources.md)."""

    INTERCHANGE = "interchange"
    SURVEY = "survey"
    SOCIAL = "social"
    CASES = "cases"
    """Support cases read from the CRMs of a targets file (--config), not from a file."""


_SURVEY_SUFFIXES = (".csv", ".tsv", ".txt")


def _ingest_format(file: Path, given: IngestFormat | None) -> IngestFormat:
    """The format to read: as given, else survey for a CSV, else interchange."""
    if given is not None:
        return given
    if file.suffix.lower() in _SURVEY_SUFFIXES:
        return IngestFormat.SURVEY
    return IngestFormat.INTERCHANGE


def _analyzer_name(name: str) -> str | None:
    """The ``--analyzer`` option: an installed analyzer's name, or None for ``none``."""
    return None if name.strip().lower() == "none" else name


def _analyzer(name: str) -> Callable[[str], TextAnalysis] | None:
    """The analyzer installed under ``name`` as a callable; None for ``none``."""
    chosen = _analyzer_name(name)
    return None if chosen is None else analyzer_named(chosen).analyze


def _ingest_file(
    file: Path,
    kind: IngestFormat,
    opened: Store,
    columns: Path | None,
    handles: Path | None,
    analyzer_name: str | None,
    progress: Callable[[int], None],
    redaction: RedactionConfig,
) -> IngestReport:
    if kind is IngestFormat.INTERCHANGE:
        return ingest_interchange(
            file, opened, progress=progress, redaction=redaction, analyzer=analyzer_name
        )
    analyzer = analyzer_named(analyzer_name).analyze if analyzer_name is not None else None
    if kind is IngestFormat.SURVEY:
        if columns is None:
            raise ConfigurationError(
                "a survey export needs its column mapping",
                hint="pass --columns FILE (see docs/sources.md)",
            )
        return ingest_survey(
            file, columns, opened, analyzer=analyzer, redaction=redaction, progress=progress
        )
    return ingest_social(
        file, opened, handles, analyzer=analyzer, redaction=redaction, progress=progress
    )


def _ingest_cases(
    config: Path | None,
    target: str | None,
    since: str | None,
    store: str | None,
    analyzer_name: str,
    json_output: bool,
    redaction: RedactionConfig,
) -> None:
    """``relcrm ingest --format cases --config FILE``: cases from each CRM of the file."""
    if config is None:
        err.print("[bold red]error[/] --format cases reads the CRMs of --config FILE", markup=True)
        raise typer.Exit(int(ExitCode.CONFIG))
    try:
        loaded = load_config(config)
        analyzer = _analyzer(analyzer_name)
        with Store.open(store_url_of(loaded, store)) as opened:
            reports = ingest_cases_from(
                loaded,
                opened,
                target=target,
                since=_now(since) if since else None,
                analyzer=analyzer,
                redaction=redaction,
            )
    except RelcrmError as error:
        raise _fail(error, _exit_code_of(error)) from None
    worst = ExitCode.OK
    for report in reports:
        _print_rejections(report)
        if report.rejected:
            worst = ExitCode.REJECTED
        summary = {
            "source": report.source,
            "perceptions_new": report.perceptions_new,
            "perceptions_already_known": report.perceptions_known,
            "rejected": report.rejected,
            "analyzed": report.analyzed,
            "redacted": dict(sorted(report.redactions.items())),
        }
        if json_output:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            err.print(
                f"{report.source}: {report.perceptions_new} new perceptions, "
                f"{report.perceptions_known} known, {report.rejected} rejected, "
                f"{report.analyzed} analyzed",
                highlight=False,
            )
    raise typer.Exit(int(worst))


@app.command()
def ingest(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A JSONL interchange file (docs/interchange.md), a survey export or social "
            "posts (docs/sources.md); none with --format cases."
        ),
    ] = None,
    store: StoreOption = None,
    json_output: JsonOption = False,
    file_format: Annotated[
        IngestFormat | None,
        typer.Option(
            "--format",
            help="interchange, survey, social, or cases (read from the CRMs of --config) "
            "[default: survey for .csv/.tsv/.txt, else interchange]",
            show_default=False,
        ),
    ] = None,
    columns: Annotated[
        Path | None, typer.Option("--columns", help="Survey column mapping (TOML).")
    ] = None,
    handles: Annotated[
        Path | None,
        typer.Option("--handles", help="Social handle map (CSV: platform,handle,email)."),
    ] = None,
    analyzer_name: Annotated[
        str,
        typer.Option(
            "--analyzer",
            help="The analyzer that reads every verbatim without a valence, in any format "
            "(an installed name, or none to store them unanalyzed).",
        ),
    ] = DEFAULT_ANALYZER,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Targets file: the CRMs to read cases from."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="Only this target's CRM (cases).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Cases modified at or after this time (ISO, with zone) [default: all]."),
    ] = None,
    redaction_file: Annotated[
        Path | None,
        typer.Option(
            "--redaction",
            help="Redaction settings (TOML: which kinds, placeholders, your own patterns) "
            "[default: emails, phones, cards, IBANs, URL tokens].",
        ),
    ] = None,
) -> None:
    """Load persons, perceptions and preferences from a file into the store.

    Verbatims are redacted; those without a valence are then read by the analyzer
    (--analyzer). Bad lines and rows are reported with their number and field; the rest
    still loads. Exit code 1 when any was rejected.
    """
    try:
        redaction = load_redaction_config(redaction_file) if redaction_file is not None else DEFAULT
    except RelcrmError as error:
        raise _fail(error) from None
    if file_format is IngestFormat.CASES:
        _ingest_cases(config, target, since, store, analyzer_name, json_output, redaction)
        return
    if file is None or not file.is_file():
        err.print(f"[bold red]error[/] no such file: {file}", markup=True)
        raise typer.Exit(int(ExitCode.CONFIG))
    kind = _ingest_format(file, file_format)
    try:
        analyzer = _analyzer_name(analyzer_name)
        if analyzer is not None:
            check_analyzer(analyzer)  # before the store is opened: nothing is changed
        with Store.open(_store_url(store)) as opened, _progress("ingesting") as bar:
            task = bar.add_task("ingest", total=None)
            report = _ingest_file(
                file,
                kind,
                opened,
                columns,
                handles,
                analyzer,
                lambda n: bar.advance(task, n),
                redaction,
            )
    except RelcrmError as error:
        raise _fail(error) from None
    for notice in report.notices:
        err.print(notice, highlight=False)
    _print_rejections(report)
    summary: dict[str, object] = {
        "source": report.source,
        "persons": report.persons,
        "perceptions_new": report.perceptions_new,
        "perceptions_already_known": report.perceptions_known,
        "preferences": report.preferences,
        "rejected": report.rejected,
        "forgotten": report.forgotten,
        "restored": report.restored,
        "analyzed": report.analyzed,
        "redacted": dict(sorted(report.redactions.items())),
    }
    if kind is not IngestFormat.INTERCHANGE:
        summary.update(
            format=kind.value,
            skipped=report.skipped,
            unresolved=report.unresolved,
            held_resolved=report.held_resolved,
        )
    if json_output:
        out.print_json(json.dumps(summary))
    else:
        extra = ""
        if kind is IngestFormat.SURVEY:
            extra = f", {report.skipped} empty rows skipped"
        elif kind is IngestFormat.SOCIAL:
            extra = (
                f", {report.unresolved} posts waiting for their author "
                f"({report.held_resolved} earlier ones resolved)"
            )
        if report.forgotten or report.restored:
            extra += (
                f"; {report.forgotten} records of forgotten persons refused, "
                f"{report.restored} persons back by their new consent (relcrm audit)"
            )
        out.print(
            f"{report.persons} persons, {report.perceptions_new} new perceptions "
            f"({report.perceptions_known} already known), {report.preferences} preferences, "
            f"{report.rejected} rejected{extra}; "
            f"{sum(report.redactions.values())} personal items redacted from verbatims; "
            f"{report.analyzed} verbatims read by the analyzer"
        )
    raise typer.Exit(int(ExitCode.OK if report.ok else ExitCode.REJECTED))


def _print_explained(profiles: list[RelationshipProfile]) -> None:
    """Each person as a short block: who, where they stand, then the reasons as bullets.
    Readable at any terminal width, unlike a table with a column of sentences."""
    for profile in profiles:
        detail = f" / {profile.archetype_detail.value}" if profile.archetype_detail else ""
        out.print(
            f"\n[bold]{profile.person_id}[/]  {profile.segment.value}  "
            f"({profile.archetype.value}{detail}), health {profile.health:.0f}/100 "
            f"{profile.band.value}, trend {profile.trend.direction.value}",
            markup=True,
            highlight=False,
        )
        for reason in profile.reasons:
            out.print(f"  - {reason}", highlight=False)
        if profile.needs_outreach and profile.outreach_reason:
            out.print(f"  [bold]needs a human now:[/] {profile.outreach_reason}", highlight=False)


def _profile_table(profiles: list[RelationshipProfile], *, reasons: bool) -> Table:
    table = Table(show_lines=reasons)
    table.add_column("person", no_wrap=True)
    table.add_column("segment", no_wrap=True)
    table.add_column("archetype / detail")
    table.add_column("health", justify="right")
    table.add_column("trend")
    table.add_column("outreach", no_wrap=True)
    table.add_column("reasons" if reasons else "why")
    for profile in profiles:
        detail = f" / {profile.archetype_detail.value}" if profile.archetype_detail else ""
        why = "\n".join(profile.reasons) if reasons else profile.reasons[0]
        table.add_row(
            profile.person_id,
            profile.segment.value,
            profile.archetype.value + detail,
            f"{profile.health:.0f} {profile.band.value}",
            profile.trend.direction.value,
            "now" if profile.needs_outreach else "",
            why,
        )
    return table


class ProfileEngine(StrEnum):
    """Which engine computes the profiles (``relcrm profile --engine``)."""

    REFERENCE = "reference"
    DUCKDB = "duckdb"
    SPARK = "spark"


@app.command()
def profile(
    store: StoreOption = None,
    json_output: JsonOption = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Clock (ISO, with zone) [default: now].")
    ] = None,
    show: Annotated[
        int, typer.Option(min=0, help="Rows in the table: the persons with the lowest health.")
    ] = 25,
    workers: Annotated[
        int, typer.Option(min=0, help="Processes to profile with [default: 0 = one per core].")
    ] = 0,
    engine: Annotated[
        ProfileEngine,
        typer.Option(
            help="reference: the pure engine; duckdb: the columnar recipe (extra 'columnar'); "
            "spark: the same recipe on Apache Spark (extra 'spark', Java 17)."
        ),
    ] = ProfileEngine.REFERENCE,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the master URL [default: $RELCRM_SPARK_MASTER, "
            "else local[2]]."
        ),
    ] = None,
    perceptions: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: read perceptions from this Parquet (with --persons) "
            "instead of the store; profiles are still saved to the store."
        ),
    ] = None,
    persons: Annotated[
        str | None, typer.Option(help="With --engine spark: the persons' Parquet.")
    ] = None,
    table_out: Annotated[
        str | None,
        typer.Option(
            "--out",
            help="With --engine spark: also write the profiles table (Parquet) to this path.",
        ),
    ] = None,
    import_profiles: Annotated[
        str | None,
        typer.Option(
            help="Save the profiles of a profiles table (Parquet) that --engine spark --out "
            "or the Spark job wrote, instead of computing them."
        ),
    ] = None,
    emit_sql: Annotated[
        str | None,
        typer.Option(
            help="Print the recipe's three queries in this SQL dialect (spark, databricks) "
            "for the --as-of time, and stop (for dbt or a warehouse)."
        ),
    ] = None,
    changed_only: Annotated[
        bool,
        typer.Option(
            "--changed-only",
            help="With --engine duckdb on a segments store: profile only persons with "
            "perceptions or person records written since the last run, never profiled, "
            "or profiled more than --stale-after-hours before --as-of.",
        ),
    ] = False,
    stale_after_hours: Annotated[
        float,
        typer.Option(
            min=0,
            help="With --changed-only: how old a saved profile may be before decay alone "
            "calls for a new one.",
        ),
    ] = 24.0,
) -> None:
    """Compute every person's relationship profile, save it, and print it."""
    now = _now(as_of)
    if emit_sql is not None:
        _emit_recipe_sql(emit_sql, now)
        return
    require_store(None, store)
    url = _store_url(store)
    spark = _spark_options(engine, spark_master, perceptions, persons, table_out)
    if changed_only and engine is not ProfileEngine.DUCKDB:
        raise _fail(
            ConfigurationError(
                "--changed-only works with --engine duckdb",
                code="config.invalid",
                hint="add --engine duckdb, or drop --changed-only",
            )
        )
    try:
        with Store.open(url) as opened:
            total = opened.count_persons()
        with _progress("profiling") as bar:
            task = bar.add_task("profile", total=total)
            if import_profiles is not None:
                with Store.open(url) as opened:
                    run = import_profile_table(
                        opened, import_profiles, progress=lambda n: bar.advance(task, n)
                    )
            else:
                run = profile_all(
                    url,
                    now,
                    workers=workers or (None if total > PARALLEL_FROM else 1),
                    progress=lambda n: bar.advance(task, n),
                    engine=engine.value,
                    spark=spark,
                    changed_only=changed_only,
                    stale_after=timedelta(hours=stale_after_hours),
                )
        with Store.open(url) as opened:
            if json_output:
                for item in opened.iter_profiles():
                    sys.stdout.write(item.model_dump_json() + "\n")
                return
            lowest = heapq.nsmallest(
                show, opened.iter_profiles(), key=lambda p: (p.health, p.person_id)
            )
    except RelcrmError as error:
        raise _fail(error) from None
    if lowest:
        out.print(_profile_table(lowest, reasons=False))
    _print_segments(run)


def _spark_options(
    engine: ProfileEngine,
    master: str | None,
    perceptions: str | None,
    persons: str | None,
    out: str | None,
) -> SparkOptions | None:
    """``--engine spark``'s options, refused with any other engine (they would be
    ignored) or when only one of the two Parquet inputs is named."""
    given = [
        name
        for name, value in (
            ("--spark-master", master),
            ("--perceptions", perceptions),
            ("--persons", persons),
            ("--out", out),
        )
        if value is not None
    ]
    if engine is not ProfileEngine.SPARK:
        if given:
            raise _fail(
                ConfigurationError(
                    f"{', '.join(given)} apply only to --engine spark",
                    code="config.invalid",
                    hint="add --engine spark, or leave those options out",
                )
            )
        return None
    if (perceptions is None) != (persons is None):
        raise _fail(
            ConfigurationError(
                "--perceptions and --persons go together",
                code="config.invalid",
                hint="name both Parquet inputs, or neither to read the store",
            )
        )
    where = None if perceptions is None or persons is None else SparkInputs(persons, perceptions)
    return SparkOptions(master=master, inputs=where, out=out)


def _emit_recipe_sql(dialect: str, now: datetime) -> None:
    """Print the recipe's queries transpiled to ``dialect`` (``--emit-sql``)."""
    try:
        from relcrm.profile.columnar.dialects import recipe_queries
        from relcrm.profile.columnar.inputs import micros

        queries = recipe_queries(dialect, micros(now))
    except RelcrmError as error:
        raise _fail(error) from None
    for name, query in queries.items():
        sys.stdout.write(f"-- relcrm profile recipe: {name} (as of {now.isoformat()})\n")
        sys.stdout.write(query + ";\n\n")


PARALLEL_FROM = 5_000
"""Below this many persons, starting worker processes costs more than it saves."""


def _print_segments(run: ProfileRun) -> None:
    table = Table(title=f"{run.persons} persons, {run.perceptions} perceptions")
    table.add_column("segment")
    table.add_column("persons", justify="right")
    for segment in Segment:
        if run.segments[segment]:
            table.add_row(segment.value, str(run.segments[segment]))
    out.print(table)


ORG_FILE = "salesforce-org.db"
"""With ``--keep``, the demo's Salesforce org is kept in this SQLite file next to the store."""


@app.command()
def schema(
    folder: Annotated[Path, typer.Argument(help="Folder to write the JSON Schemas into.")],
) -> None:
    """Write the JSON Schemas of the public models (person, perception, ...) to a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for model in PUBLIC_MODELS:
        path = folder / f"{model.__name__}.schema.json"
        document = model.model_json_schema()
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        err.print(f"wrote {path}")


# --------------------------------------------------------------------------- mapping, fields

mapping_app = typer.Typer(
    help="The mapping file: its JSON Schema, and a check against the live CRM.",
    no_args_is_help=True,
)
app.add_typer(mapping_app, name="mapping")
fields_app = typer.Typer(
    help="relcrm's custom fields in the CRM: plan what to create, then create them.",
    no_args_is_help=True,
)
app.add_typer(fields_app, name="fields")

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help="The targets file (see examples/relcrm.toml): CRMs, mappings, non-secret settings.",
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option("--target", "-t", help="Only this target (default: every target in the file)."),
]


def _exit_code_of(error: RelcrmError) -> ExitCode:
    """Each error class carries its exit code (relcrm.errors, "the tree")."""
    return error.exit_code


def _targets(config: Path, target: str | None) -> list[Target]:
    try:
        return load_config(config).select(target)
    except RelcrmError as error:
        raise _fail(error, ExitCode.CONFIG) from None


def _heading(target: Target) -> str:
    mapping = target.mapping
    return (
        f"[bold]{target.name}[/]: {target.connector} {mapping.object}, "
        f"{len(mapping.fields)} mapped fields ({target.mapping_origin})"
    )


def _print_problems(problems: list[MappingProblem]) -> None:
    for problem in problems:
        colour = "red" if problem.severity is Severity.ERROR else "yellow"
        out.print(f"  [{colour}]{problem.severity}[/] ", markup=True, end="")
        out.print(
            f"{problem.field}: {problem.problem}; fix: {problem.fix}",
            markup=False,
            highlight=False,
        )


@mapping_app.command("schema")
def mapping_schema(
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write [default: print to standard output]."),
    ] = None,
) -> None:
    """Write the mapping file's JSON Schema, for editors to complete and check.

    Point your editor at it, e.g. with taplo (Even Better TOML) put
    "#:schema ./relcrm-mapping.schema.json" on a mapping file's first line.
    """
    text = json.dumps(mapping_json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"wrote {output}")


@mapping_app.command("check")
def mapping_check(
    config: ConfigOption,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check each target's mapping against the live CRM schema. Changes nothing.

    For every mapped field: it exists and the integration user sees it,
    its type takes what relcrm sends, it is writable, a picklist has every
    value relcrm may send, a text is long enough, a number has enough digits.
    One line per problem, with the fix.

    Exit codes: 0 clean (warnings allowed), 1 problems, 2 configuration
    error, 3 cannot connect or authenticate, 4 the CRM's API quota is spent.
    """
    worst = ExitCode.OK
    for item in _targets(config, target):
        try:
            described = build_connector(item).describe(item.mapping.object)
        except RelcrmError as error:
            raise _fail(error, _exit_code_of(error)) from None
        problems = check_mapping(item.mapping, described)
        if has_errors(problems):
            worst = ExitCode.REJECTED
        if json_output:
            record = {"target": item.name, "problems": [p.to_json() for p in problems]}
            sys.stdout.write(json.dumps(record) + "\n")
            continue
        out.print(_heading(item), markup=True, highlight=False)
        _print_problems(problems)
        errors = sum(p.severity is Severity.ERROR for p in problems)
        warnings = len(problems) - errors
        verdict = "ok" if not problems else f"{errors} problems, {warnings} warnings"
        out.print(f"  {verdict}", highlight=False)
    raise typer.Exit(int(worst))


def _print_plan(plan: FieldsPlan, *, done: bool) -> None:
    verb = "created" if done else "create"
    for spec in plan.create:
        out.print(f"  + {verb} {describe_spec(spec)}", markup=False, highlight=False)
    for change in plan.changes:
        out.print(f"  ~ {change}", markup=False, highlight=False)
    for conflict in plan.conflicts:
        out.print(f"  ! conflict, left alone: {conflict}", markup=False, highlight=False)
    if not done:
        for problem in plan.by_hand:
            out.print(
                f"  ! by hand: {problem.field}: {problem.problem}; fix: {problem.fix}",
                markup=False,
                highlight=False,
            )
    if plan.empty:
        out.print("  nothing to create or change", highlight=False)


@fields_app.command("plan")
def fields_plan(
    config: ConfigOption,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what `relcrm fields apply` would create or change. Changes nothing.

    Also lists what provisioning leaves to you (a field too short, one of
    another type), each with its fix.
    """
    for item in _targets(config, target):
        try:
            plan = plan_fields(build_connector(item), item.mapping)
        except RelcrmError as error:
            raise _fail(error, _exit_code_of(error)) from None
        if json_output:
            sys.stdout.write(json.dumps({"target": item.name, **plan.to_json()}) + "\n")
            continue
        out.print(_heading(item), markup=True, highlight=False)
        _print_plan(plan, done=False)
    if not json_output:
        out.print("plan only: nothing was changed", highlight=False)


@fields_app.command("apply")
def fields_apply(
    config: ConfigOption,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create the missing fields through the connector's provisioning, then
    check the mapping again.

    Salesforce: creates the custom fields and grants the integration user
    read/edit through the relcrm permission set. HubSpot: creates the relcrm
    property group and the properties, and adds missing picklist options.
    Nothing else about an existing field is changed. Run `relcrm fields plan`
    first to see what will happen.

    Exit codes: 0 applied and the mapping checks clean, 1 problems remain,
    2 configuration error, 3 cannot connect, authenticate or provision,
    4 the CRM's API quota is spent.
    """
    worst = ExitCode.OK
    for item in _targets(config, target):
        try:
            applied = apply_fields(build_connector(item), item.mapping)
        except RelcrmError as error:
            raise _fail(error, _exit_code_of(error)) from None
        if has_errors(applied.problems):
            worst = ExitCode.REJECTED
        if json_output:
            record = {
                "target": item.name,
                "applied": applied.plan.to_json(),
                "created": [s.name for s in applied.created],
                "problems": [p.to_json() for p in applied.problems],
            }
            sys.stdout.write(json.dumps(record) + "\n")
            continue
        out.print(_heading(item), markup=True, highlight=False)
        _print_plan(applied.plan, done=True)
        out.print("  checked again:", highlight=False)
        _print_problems(applied.problems)
        if not applied.problems:
            out.print("  ok", highlight=False)
    raise typer.Exit(int(worst))


# The ops commands live in their own module; importing it registers them on ``app``.
from relcrm.cli import analyze_command as _analyze_command  # noqa: E402
from relcrm.cli import demo_command as _demo_command  # noqa: E402
from relcrm.cli import init_command as _init_command  # noqa: E402
from relcrm.cli import preview_command as _preview_command  # noqa: E402, F401
from relcrm.cli import privacy_commands as _privacy_commands  # noqa: E402
from relcrm.cli import report_command as _report_command  # noqa: E402
from relcrm.cli import sandbox_command as _sandbox_command  # noqa: E402
from relcrm.cli import store_command as _store_command  # noqa: E402
from relcrm.cli import sync_commands as _sync_commands  # noqa: E402
from relcrm.cli import voice_command as _voice_command  # noqa: E402

__all__ = [
    "ORG_FILE",
    "ExitCode",
    "_analyze_command",
    "_demo_command",
    "_init_command",
    "_privacy_commands",
    "_report_command",
    "_sandbox_command",
    "_store_command",
    "_sync_commands",
    "_voice_command",
    "app",
    "main",
    "require_store",
    "sqlite_file",
]


def main() -> None:
    app()
