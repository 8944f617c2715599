"""``relcrm analyze``: read texts with an analyzer and print what it read, line by line.

Input, one text per line: a JSON object with a string ``"text"`` (and an ``"id"``; other
keys are ignored), or any other line as the text itself, whose id is its line number.
Output streams: a JSON line (``--json``) or a table row per text, as the input arrives.
Nothing is stored, and the texts are never logged.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from relcrm.analyze import DEFAULT_ANALYZER, Analyzer, analyzer_named
from relcrm.analyze.evaluation import sentiment_of
from relcrm.cli import ExitCode, JsonOption, _fail, app, err, out
from relcrm.errors import FieldProblem, InvalidRecordError, RelcrmError
from relcrm.models import Emotion, TextAnalysis
from relcrm.sources.interchange import (
    BOM_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    LineRejection,
    bounded_lines,
    decode_line,
    too_long_line,
)

TABLE_ROWS = 50
"""Rows per table without ``--json``: a table is printed whenever this many are read, so
a long input shows as it goes and is never held in memory."""

PREVIEW_CHARS = 48
"""How much of each text the table shows (whitespace folded, the rest cut off)."""

TOP_EMOTIONS = 2
"""Emotions named per text in the table (the strongest; ``--json`` gives all eight)."""


@dataclass(frozen=True, slots=True)
class _Text:
    """One text to read, with its id (given, or the line number)."""

    id: str
    text: str


def _lines(source: str) -> Iterator[bytes | None]:
    """The raw lines of ``source`` (a path, or ``-`` for standard input), one at a time;
    ``None`` for a line over the limit. Raises OSError when the file cannot be opened."""
    if source == "-":
        # A BufferedReader (or, under a test runner, a BytesIO): both read1.
        stream = cast(BufferedIOBase, sys.stdin.buffer)
        yield from bounded_lines(stream, DEFAULT_MAX_LINE_BYTES)
        return
    with Path(source).open("rb") as opened:
        yield from bounded_lines(opened, DEFAULT_MAX_LINE_BYTES)


def _rejected(line: int, field: str, problem: str) -> InvalidRecordError:
    return InvalidRecordError(
        f"line {line}",
        [FieldProblem(field, problem)],
        hint='give each JSON line a string "text", or write the text as a plain line',
    )


def _kind(value: object) -> str:
    """A JSON value's type in JSON's words (never the value: it may be personal text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _text_of(line: str, number: int) -> _Text | InvalidRecordError | None:
    """A line as a text to read: a JSON object is a record (see :func:`_record_of`),
    anything else is the text itself, with its line number as id; None when blank."""
    line = line.rstrip("\r\n")
    if not line.strip():
        return None
    if line.lstrip().startswith("{"):
        try:
            data = json.loads(line)
        except ValueError:
            data = None  # not JSON: a text that happens to start with a brace
        if isinstance(data, dict):
            return _record_of(data, number)
    return _Text(str(number), line)


def _record_of(data: dict[str, object], number: int) -> _Text | InvalidRecordError:
    """A JSON line's text and id (its line number when it has none); an error naming the
    line when "text" is not a string or "id" neither a string nor an integer."""
    text = data.get("text")
    if not isinstance(text, str):
        problem = "missing" if "text" not in data else f"must be a string, not {_kind(text)}"
        return _rejected(number, "text", problem)
    given = data.get("id")
    if given is None:
        return _Text(str(number), text)
    if isinstance(given, bool) or not isinstance(given, str | int):
        return _rejected(number, "id", f"must be a string or an integer, not {_kind(given)}")
    return _Text(str(given), text)


def _texts(source: str) -> Iterator[_Text | InvalidRecordError]:
    """The texts of ``source`` in order, each line read as it comes; bad lines as errors."""
    for number, raw in enumerate(_lines(source), start=1):
        if raw is None:
            yield too_long_line(number, DEFAULT_MAX_LINE_BYTES).error
            continue
        if number == 1:
            raw = raw.removeprefix(BOM_BYTES)
        decoded = decode_line(raw, number)
        if isinstance(decoded, LineRejection):
            yield decoded.error
            continue
        item = _text_of(decoded, number)
        if item is not None:
            yield item


def _record(item: _Text, analysis: TextAnalysis) -> dict[str, object]:
    """The ``--json`` line: exactly these keys, every emotion and every flag."""
    return {
        "id": item.id,
        "label": sentiment_of(analysis.valence),
        "valence": analysis.valence,
        "arousal": analysis.arousal,
        "emotions": {emotion.value: analysis.emotions.get(emotion) for emotion in Emotion},
        "flags": {
            "churn_intent": analysis.flags.churn_intent,
            "sarcasm": analysis.flags.sarcasm,
            "trapped": analysis.flags.trapped,
        },
        "confidence": analysis.confidence,
        "language": analysis.language,
        "analyzer": analysis.analyzer,
        "analyzer_version": analysis.analyzer_version,
    }


def _preview(text: str) -> str:
    folded = " ".join(text.split())
    if len(folded) <= PREVIEW_CHARS:
        return folded
    return folded[: PREVIEW_CHARS - 1].rstrip() + "…"


def _top_emotions(analysis: TextAnalysis) -> str:
    felt = [
        (emotion, analysis.emotions.get(emotion))
        for emotion in Emotion
        if analysis.emotions.get(emotion) > 0
    ]
    felt.sort(key=lambda pair: pair[1], reverse=True)
    return ", ".join(f"{emotion.value} {value:.2f}" for emotion, value in felt[:TOP_EMOTIONS])


def _flags(analysis: TextAnalysis) -> str:
    flags = analysis.flags
    named = (
        ("churn intent", flags.churn_intent),
        ("sarcasm", flags.sarcasm),
        ("trapped", flags.trapped),
    )
    return ", ".join(name for name, is_set in named if is_set)


def _table() -> Table:
    # Only the text preview gives way on a narrow terminal: it is cut, not wrapped, so
    # every text stays one row.
    table = Table()
    table.add_column("id", no_wrap=True, overflow="ellipsis", min_width=2, max_width=24)
    table.add_column("label", no_wrap=True, min_width=8)
    table.add_column("valence", justify="right", no_wrap=True)
    table.add_column("top emotions", no_wrap=True)
    table.add_column("flags", no_wrap=True)
    table.add_column("conf", justify="right", no_wrap=True)
    table.add_column("lang", no_wrap=True, min_width=4)
    table.add_column("text", max_width=PREVIEW_CHARS)
    return table


def _row(table: Table, item: _Text, analysis: TextAnalysis) -> None:
    # Text objects, not strings: what a customer wrote is never read as rich markup.
    table.add_row(
        Text(item.id),
        sentiment_of(analysis.valence),
        f"{analysis.valence:+.2f}",
        _top_emotions(analysis),
        _flags(analysis),
        f"{analysis.confidence:.2f}",
        analysis.language or "-",
        Text(_preview(item.text), no_wrap=True, overflow="ellipsis"),
    )


def _write_json(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()  # one line at a time: the next command in a pipe reads it now


def _run(source: str, analyzer: Analyzer, json_output: bool) -> tuple[int, int]:
    """Read every text of ``source``; return how many were read and how many rejected."""
    read = rejected = 0
    table = _table()
    for item in _texts(source):
        if isinstance(item, InvalidRecordError):
            rejected += 1
            err.print(f"[red]rejected[/] {item.message}", markup=True, highlight=False)
            continue
        analysis = analyzer.analyze(item.text)
        read += 1
        if json_output:
            _write_json(_record(item, analysis))
            continue
        _row(table, item, analysis)
        if table.row_count >= TABLE_ROWS:
            out.print(table)
            table = _table()
    if table.row_count:
        out.print(table)
    return read, rejected


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _quiet_stdout() -> None:
    """The reader of our output went away (``| head``): drop what is still to be written."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (tests)
        pass


@app.command()
def analyze(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-",
            help='Texts, one per line: JSON lines with "id" and "text" (other keys are '
            "ignored) or plain text (ids are line numbers); - reads standard input.",
            show_default=False,
        ),
    ],
    analyzer_name: Annotated[
        str, typer.Option("--analyzer", help="The analyzer to read with (an installed name).")
    ] = DEFAULT_ANALYZER,
    json_output: JsonOption = False,
) -> None:
    """Read texts with an analyzer and show, for each, its label, valence, emotions, flags,
    confidence and language. Nothing is stored.

    Lines are read and answered one at a time, so it works in a pipe. A JSON object
    without a string "text" is reported with its line number and the rest goes on.
    Exit codes: 0 every line was read, 1 some lines were rejected, 2 no such file or
    no such analyzer.
    """
    try:
        analyzer = analyzer_named(analyzer_name)
    except RelcrmError as error:
        raise _fail(error) from None
    if source != "-" and not Path(source).is_file():
        err.print(f"[bold red]error[/] no such file: {escape(source)}", markup=True)
        raise typer.Exit(int(ExitCode.CONFIG))
    try:
        read, rejected = _run(source, analyzer, json_output)
    except BrokenPipeError:
        _quiet_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None
    except OSError as error:
        err.print(f"[bold red]error[/] cannot read {escape(source)}: {error.strerror}", markup=True)
        raise typer.Exit(int(ExitCode.CONFIG)) from None
    if not json_output:
        err.print(
            f"{_count(read, 'text')} read by {analyzer.name} {analyzer.version}; "
            f"{_count(rejected, 'line')} rejected",
            highlight=False,
            markup=False,
        )
    raise typer.Exit(int(ExitCode.REJECTED if rejected else ExitCode.OK))
