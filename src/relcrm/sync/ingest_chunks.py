"""Reading an interchange file in chunks of raw lines, and parsing a chunk into store rows.

The ingest splits the work in two: :func:`parse_chunk` validates a chunk of lines and
turns it into plain values (store rows, line texts, error parts) that cross a process
boundary cheaply, and the ingest writes them. :func:`parse_chunk` runs in a worker
process for large files and in the calling process for small ones; either way it reads
each line exactly as :func:`relcrm.sources.interchange.read_interchange` does, redacts
each verbatim, and lets the analyzer named by the ingest read the redacted verbatims of
perceptions that carry no valence (each process loads that analyzer once, by its name).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig, redact
from relcrm.errors import FieldProblem, InvalidRecordError
from relcrm.models import Perception, Person
from relcrm.sources.dates import date_range_from_environment
from relcrm.sources.interchange import (
    BOM_BYTES,
    LineRejection,
    bounded_lines,
    decode_line,
    parse_interchange_line,
    read_person_quickly,
    too_long_line,
)
from relcrm.store.store import PersonRow, RowFormat, StoredRow, person_row, stored_row
from relcrm.sync.analysis import analyzer_for, text_to_analyze, with_analysis
from relcrm.sync.ingest_persons import PersonLines

RawChunk = tuple[int, list[bytes | None]]
"""The number of a chunk's first line, and its raw lines (``None``: a line over the limit)."""


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """An :class:`InvalidRecordError` taken apart (it cannot be pickled whole)."""

    record: str
    problems: list[FieldProblem]
    hint: str

    @classmethod
    def of(cls, error: InvalidRecordError) -> RejectedLine:
        return cls(error.record, error.problems, error.hint)

    def error(self) -> InvalidRecordError:
        """The error again, equal in message, problems and hint."""
        return InvalidRecordError(self.record, self.problems, hint=self.hint)


@dataclass(slots=True)
class ParsedChunk:
    """One chunk of lines, validated: only plain values, so it pickles quickly.

    Persons and perceptions are ready-made store rows, with their line numbers alongside.
    Preferences (rare) are kept as their line's text: the writer reads them again with
    :func:`parse_interchange_line`, which cannot fail on a line that passed here.
    """

    rejections: list[RejectedLine] = field(default_factory=list)
    persons: list[tuple[int, PersonRow]] = field(default_factory=list)
    perception_rows: list[StoredRow] = field(default_factory=list)
    perception_lines: list[int] = field(default_factory=list)
    preferences: list[tuple[int, str]] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    """How many items of each kind (email, phone, card, ...) were cut out of verbatims."""
    analyzed_lines: list[int] = field(default_factory=list)
    """Lines of the perceptions whose verbatim the analyzer read (usually none: a line
    that carries a valence is not read again)."""

    @property
    def records(self) -> int:
        """Valid records in the chunk."""
        return len(self.persons) + len(self.perception_rows) + len(self.preferences)


def raw_chunks(
    path: str | os.PathLike[str], lines_per_chunk: int, max_line_bytes: int
) -> Iterator[RawChunk]:
    """The file's lines as bytes, ``lines_per_chunk`` at a time (blank lines included, so
    line numbers stay those of the file); the byte-order mark is taken off line 1."""
    if lines_per_chunk < 1:
        raise ValueError(f"lines_per_chunk must be at least 1, got {lines_per_chunk}")
    with Path(path).open("rb") as stream:
        first = 1
        chunk: list[bytes | None] = []
        for raw in bounded_lines(stream, max_line_bytes):
            if first == 1 and not chunk and raw is not None:
                raw = raw.removeprefix(BOM_BYTES)
            chunk.append(raw)
            if len(chunk) >= lines_per_chunk:
                yield first, chunk
                first += len(chunk)
                chunk = []
        if chunk:
            yield first, chunk


def _redacted(
    perception: Perception, counts: dict[str, int], config: RedactionConfig
) -> Perception:
    """The perception with its verbatim redacted before it is stored: emails, phones,
    card numbers, IBANs and URL tokens never reach the store, so they cannot leave it."""
    if not perception.verbatim:
        return perception
    result = redact(perception.verbatim, config)
    if not result.total:
        return perception
    for kind, count in result.counts.items():
        counts[kind] = counts.get(kind, 0) + count
    return perception.model_copy(update={"verbatim": result.text})


def parse_chunk(
    chunk: RawChunk,
    max_line_bytes: int,
    row_format: RowFormat,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    analyzer: str | None = None,
) -> ParsedChunk:
    """Validate every line of ``chunk``; perceptions become rows for a store whose
    ``perception_row_format`` is ``row_format``, their verbatims redacted with
    ``redaction``, then, for a perception without a valence, read by the analyzer
    installed under the name ``analyzer`` (none when it is None)."""
    first, raws = chunk
    return parse_numbered(
        enumerate(raws, start=first), max_line_bytes, row_format, redaction, analyzer
    )


def parse_numbered(
    lines: Iterable[tuple[int, bytes | None]],
    max_line_bytes: int,
    row_format: RowFormat,
    redaction: RedactionConfig = DEFAULT_REDACTION,
    analyzer: str | None = None,
) -> ParsedChunk:
    """:func:`parse_chunk` on lines given with their numbers (not necessarily
    consecutive: the columnar ingest hands over only the lines it did not take)."""
    parsed = ParsedChunk()
    dates = date_range_from_environment()  # once a chunk, not once a line
    now = datetime.now(UTC)  # likewise, for the person lines' shortcuts
    person_lines = PersonLines(dates, now)
    for number, raw in lines:
        if raw is None:
            parsed.rejections.append(RejectedLine.of(too_long_line(number, max_line_bytes).error))
            continue
        text = decode_line(raw, number)
        if isinstance(text, LineRejection):
            parsed.rejections.append(RejectedLine.of(text.error))
            continue
        # Person lines: the usual shape without pydantic, else pydantic without the rest
        # of the general path, else (unusual or invalid) the general path.
        row = person_lines.row(text)
        if row is None and (person := read_person_quickly(text, dates, now)) is not None:
            row = person_row(person)
        if row is not None:
            parsed.persons.append((number, row))
            continue
        item = parse_interchange_line(text, number, dates=dates)
        if item is None:
            continue
        if isinstance(item, LineRejection):
            parsed.rejections.append(RejectedLine.of(item.error))
        elif isinstance(item.record, Perception):
            perception = _redacted(item.record, parsed.redactions, redaction)
            if analyzer is not None and (verbatim := text_to_analyze(perception)) is not None:
                perception = with_analysis(perception, analyzer_for(analyzer)(verbatim))
                parsed.analyzed_lines.append(number)
            parsed.perception_rows.append(stored_row(perception, row_format))
            parsed.perception_lines.append(number)
        elif isinstance(item.record, Person):
            parsed.persons.append((number, person_row(item.record)))
        else:
            parsed.preferences.append((number, text))
    return parsed
