"""Survey exports (Qualtrics, SurveyMonkey, plain CSV) as perceptions.

Each data row is one response. Its scores and its first free-text answer make one
perception with the source record id ``"<survey>/<response id>"``; a second question
of a kind already used in the row (two NPS columns, two comment boxes) makes its own
perception, ``"<survey>/<response id>/<column>"``. Perception ids derive from those,
so ingesting the same export twice, or a row twice, changes nothing.

A bad row (too few or too many cells, an NPS of 11, a time that does not parse or lies
outside the plausible range, an answer over 10,000 characters, a byte that does not
decode, a quote that is never closed) is rejected with its row number and each bad
column, and the rest of the file goes on. A row with no answer at all is skipped and
counted. A header that names a column twice stops the file before anything is read.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from relcrm.errors import ConfigurationError, FieldProblem, InvalidRecordError, shorten
from relcrm.models import (
    VERBATIM_MAX_CHARS,
    CesScore,
    Consent,
    CsatScore,
    Email,
    NpsScore,
    Perception,
    PersonId,
    problems_from,
)
from relcrm.sources.csv_reading import (
    CSV_ERROR,
    CsvRecord,
    DecodedText,
    bad_byte_line,
    csv_records,
    read_text,
    sniff_delimiter,
    split_lines,
)
from relcrm.sources.dates import DateRange, resolve
from relcrm.sources.items import Identity, SkippedRecord, SourcedPerception, SourceItem
from relcrm.sources.survey_columns import Flavour, Question, SurveyColumns, SurveyColumnsError
from relcrm.sources.survey_headers import SurveyHeader, read_header
from relcrm.sources.survey_values import local_time, score_number, yes_or_no

_EMAIL: Final = TypeAdapter(Email)
_PERSON_ID: Final = TypeAdapter(PersonId)

LONG_COLUMN: Final = 60
"""A column name longer than this (a question's text) appears in source record ids as a
short hash of itself, so the id stays under Provenance's 200 characters."""


@dataclass
class SurveyExport:
    """An opened export: what was decided about the file, and its rows as items.

    ``notes`` says how the file was read (encoding, delimiter, flavour), for the report.
    """

    columns: SurveyColumns
    header: SurveyHeader
    records: list[CsvRecord]
    source_system: str
    notes: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    """The encoding the file was read in (named when a row does not decode)."""
    undecodable: bool = False
    """Whether some bytes of the file did not decode (then rows are checked for them)."""
    dates: DateRange | None = None
    """The plausible range of response times (None: the environment's)."""

    @property
    def flavour(self) -> Flavour:
        return self.header.flavour

    def items(self) -> Iterator[SourceItem]:
        """One item per data row (or more, see the module), in file order."""
        reader = _RowReader(
            self.columns,
            self.header,
            self.source_system,
            self.encoding if self.undecodable else None,
            resolve(self.dates),
        )
        for record in self.records[self.header.header_rows :]:
            yield from reader.read(record)


def open_survey(
    path: str | os.PathLike[str],
    columns: SurveyColumns,
    *,
    encoding: str | None = None,
    dates: DateRange | None = None,
) -> SurveyExport:
    """Read the export at ``path`` as ``columns`` describes it.

    Raises :class:`~relcrm.errors.ConfigurationError` (nothing is read further) when the
    file cannot be decoded as declared, its header rows hold bytes that do not decode,
    its header names a column twice, or a mapped column is not in its header. A response
    time outside ``dates`` (by default the range the environment configures, see
    :mod:`relcrm.sources.dates`) rejects its row.
    """
    origin = os.fspath(path)
    decoded = read_text(path, encoding or columns.encoding)
    lines = split_lines(decoded.text)
    delimiter = columns.delimiter or sniff_delimiter(lines)
    first = list(itertools.islice(csv_records(lines, delimiter), 3))
    width = read_header(first, columns.flavour).width
    records = list(csv_records(lines, delimiter, width=width))
    while records and not any(cell.strip() for cell in records[-1].cells):
        records.pop()  # trailing blank lines are the end of the file, not empty answers
    header = read_header(records[:3], columns.flavour)
    _check_header(origin, decoded, records[: header.header_rows], header, columns)
    missing = [name for name in columns.columns() if name not in header.columns]
    if missing:
        known = ", ".join(shorten(name, 40) for name in header.names()[:30])
        raise SurveyColumnsError(
            origin,
            [
                FieldProblem(name, f"no such column in the {header.flavour.value} export")
                for name in missing
            ],
            hint=f"the file's columns are: {known}",
        )
    shown = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
    notes = [
        f"{decoded.how}; {shown}-delimited; {header.flavour.value} export "
        f"({header.header_rows} header row{'s' if header.header_rows > 1 else ''})"
    ]
    system = columns.system(header.flavour)
    return SurveyExport(
        columns, header, records, system, notes, decoded.encoding, decoded.bad_bytes > 0, dates
    )


def _check_header(
    origin: str,
    decoded: DecodedText,
    header_records: list[CsvRecord],
    header: SurveyHeader,
    columns: SurveyColumns,
) -> None:
    """Header rows that cannot be trusted stop the file: nothing is read from it."""
    for record in header_records:
        if record.cells and record.cells[0] == CSV_ERROR:
            raise ConfigurationError(
                f"{origin}: the header ({record.name}) is not valid CSV: {record.cells[1]}",
                hint="fix the header rows of the export",
            )
        found = bad_byte_line(record.cells, record.line)
        if found is not None:
            _, byte, line = found
            raise ConfigurationError(
                f"{origin}: the header (line {line}) holds a byte that is not valid "
                f"{decoded.encoding} (0x{byte:02X}), so its columns cannot be named",
                hint="save the export as UTF-8, or declare its encoding in the column "
                'mapping (encoding = "cp1252")',
            )
    mapped = set(columns.columns())
    twice = dict(header.duplicated)
    twice.update({name: at for name, at in header.shared.items() if name in mapped})
    if twice:
        raise SurveyColumnsError(
            origin,
            [
                FieldProblem(
                    shorten(name, 40),
                    f"the header names {shorten(name, 40)} twice ({_positions(at)}), so which "
                    "column is meant cannot be told: rename one of them in the export",
                )
                for name, at in twice.items()
            ],
            hint="every column of the header needs its own name",
        )


def _positions(at: tuple[int, ...]) -> str:
    numbers = [str(index + 1) for index in at]
    return f"columns {', '.join(numbers[:-1])} and {numbers[-1]}"


def read_survey(
    path: str | os.PathLike[str],
    columns: SurveyColumns,
    *,
    encoding: str | None = None,
    dates: DateRange | None = None,
) -> Iterator[SourceItem]:
    """The export's rows as items (see :func:`open_survey` for what fails up front)."""
    return open_survey(path, columns, encoding=encoding, dates=dates).items()


def _column_key(column: str) -> str:
    if len(column) <= LONG_COLUMN:
        return column
    return "q-" + hashlib.blake2b(column.encode(), digest_size=6).hexdigest()


class _RowReader:
    """Turns data rows into items; holds what every row shares."""

    def __init__(
        self,
        columns: SurveyColumns,
        header: SurveyHeader,
        source_system: str,
        encoding: str | None,
        dates: DateRange,
    ):
        self.columns = columns
        self.header = header
        self.source_system = source_system
        self.encoding = encoding
        """The file's encoding when some of its bytes did not decode, else None."""
        self.dates = dates
        self.consent_source: str | None = None
        if columns.consent is not None:
            default = f"{source_system} survey {columns.survey}"
            self.consent_source = columns.consent.source or default

    def cell(self, cells: list[str], column: str) -> str:
        index = self.header.columns[column]
        return cells[index].strip() if index < len(cells) else ""

    def read(self, record: CsvRecord) -> Iterator[SourceItem]:
        name = record.name
        cells = record.cells
        if cells and cells[0] == CSV_ERROR:
            yield _reject(name, "(row)", f"not valid CSV: {cells[1]}")
            return
        undecodable = bad_byte_line(cells, record.line) if self.encoding else None
        if undecodable is not None:
            index, byte, line = undecodable
            where = self.header.name_of(index) if index < self.header.width else None
            yield _reject(
                name,
                where or "(row)",
                f"line {line} holds a byte that is not valid {self.encoding} (0x{byte:02X}); "
                "the rest of the file is read as "
                f"{self.encoding}: save the export as UTF-8, or declare its encoding in the "
                'column mapping (encoding = "...")',
            )
            return
        if not any(cell.strip() for cell in cells):
            yield SkippedRecord(name, "empty row")
            return
        width = self.header.width
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            yield _reject(
                name,
                "(row)",
                f"has {len(cells)} cells where the header has {width} "
                "(a missing or extra delimiter, or an unclosed quote)",
            )
            return
        answers = {q.column: self.cell(cells, q.column) for q in self.columns.questions}
        if not any(answers.values()):
            yield SkippedRecord(name, "no answer in any mapped question")
            return
        yield from self._perceptions(name, cells, answers)

    def _perceptions(
        self, name: str, cells: list[str], answers: dict[str, str]
    ) -> Iterator[SourceItem]:
        problems: list[FieldProblem] = []
        identity = self._identity(cells, problems)
        response_column = self.columns.response.id
        response_id = self.cell(cells, response_column)
        if not response_id:
            problems.append(FieldProblem(response_column, "missing: every response needs its id"))
        occurred_at = self._time(cells, problems)
        consent = self._consent(cells, occurred_at, problems)
        groups = self._groups(answers, problems)
        if problems or identity is None or occurred_at is None:
            yield InvalidRecordError(name, problems)
            return
        shared: dict[str, Any] = {
            "person_id": identity.new_person_id(),
            "occurred_at": occurred_at,
            "channel": "survey",
        }
        for key in ("touchpoint", "topic"):
            column = getattr(self.columns, f"{key}_column")
            value = self.cell(cells, column) if column else getattr(self.columns, key)
            if value:
                shared[key] = value
        results: list[SourceItem] = []
        for suffix, fields, where in groups:
            record_id = f"{self.columns.survey}/{response_id}{suffix}"
            data = {
                **shared,
                **fields,
                "provenance": {"source_system": self.source_system, "source_record_id": record_id},
            }
            try:
                perception = Perception.model_validate(data)
            except ValidationError as error:
                problems.extend(_renamed(problems_from(error), where, response_column))
                continue
            results.append(
                SourcedPerception(
                    name, perception, (identity,), create_person=True, consent=consent
                )
            )
        if problems:
            yield InvalidRecordError(name, problems)
            return
        yield from results

    def _identity(self, cells: list[str], problems: list[FieldProblem]) -> Identity | None:
        respondent = self.columns.respondent
        column = respondent.email or respondent.person_id or respondent.crm_id or ""
        value = self.cell(cells, column)
        if not value:
            problems.append(FieldProblem(column, "missing: who answered is not known"))
            return None
        try:
            if respondent.email:
                return Identity("email", _EMAIL.validate_python(value))
            if respondent.person_id:
                return Identity("person", _PERSON_ID.validate_python(value))
        except ValidationError as error:
            problem = problems_from(error)[0].problem
            problems.append(FieldProblem(column, problem, shorten(value)))
            return None
        return Identity("crm", f"{respondent.crm_system}/{respondent.crm_object}/{value}")

    def _time(self, cells: list[str], problems: list[FieldProblem]) -> datetime | None:
        response = self.columns.response
        value = self.cell(cells, response.time)
        if not value:
            problems.append(FieldProblem(response.time, "missing: when was it answered?"))
            return None
        try:
            moment = local_time(value, response.time_format, response.zone)
        except (ValueError, OverflowError) as error:
            problems.append(FieldProblem(response.time, str(error), shorten(value)))
            return None
        implausible = self.dates.problem(response.time, moment)
        if implausible is not None:  # quoted as the export wrote it
            problems.append(FieldProblem(implausible.field, implausible.problem, shorten(value)))
            return None
        return moment

    def _consent(
        self, cells: list[str], when: datetime | None, problems: list[FieldProblem]
    ) -> Consent | None:
        if self.columns.consent is None:
            return None
        column = self.columns.consent.column
        value = self.cell(cells, column)
        if not value:
            return None
        try:
            granted = yes_or_no(value)
        except ValueError as error:
            problems.append(FieldProblem(column, str(error), shorten(value)))
            return None
        return Consent(granted=granted, updated_at=when, source=self.consent_source)

    def _groups(
        self, answers: dict[str, str], problems: list[FieldProblem]
    ) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
        """The row's perceptions: (record id suffix, fields, field -> column)."""
        groups: list[tuple[str, dict[str, Any], dict[str, str]]] = [("", {}, {})]
        for question in self.columns.questions:
            text = answers[question.column]
            if not text:
                continue
            parsed = _answer(question, text, problems)
            if parsed is None:
                continue
            key, value = parsed
            main_fields, main_where = groups[0][1], groups[0][2]
            if key not in main_fields:
                main_fields[key] = value
                main_where[key] = question.column
            else:
                groups.append(
                    (f"/{_column_key(question.column)}", {key: value}, {key: question.column})
                )
        return [group for group in groups if group[1]]


def _answer(question: Question, text: str, problems: list[FieldProblem]) -> tuple[str, Any] | None:
    """The perception field and value a non-empty answer gives, or None (a problem)."""
    column = question.column
    if question.kind == "text":
        if len(text) > VERBATIM_MAX_CHARS:
            problems.append(
                FieldProblem(
                    column,
                    f"answer is {len(text):,} characters; a verbatim is at most "
                    f"{VERBATIM_MAX_CHARS:,} (longer text is a source problem, not a feeling)",
                )
            )
            return None
        return "verbatim", text
    try:
        number = score_number(text)
    except ValueError as error:
        problems.append(FieldProblem(column, f"{question.kind.upper()}: {error}", shorten(text)))
        return None
    try:
        if question.kind == "nps":
            return "nps", NpsScore.model_validate({"value": number, "kind": question.nps_kind})
        if question.kind == "csat":
            low, high = question.scale_min or 1, question.scale_max or 5
            scale = {"value": number, "scale_min": low, "scale_max": high}
            return "csat", CsatScore.model_validate(scale)
        return "ces", CesScore.model_validate({"value": number, **question.ces_scale()})
    except ValidationError as error:
        for problem in problems_from(error):
            where = f"{question.kind.upper()} " if problem.field == "value" else ""
            problems.append(FieldProblem(column, where + problem.problem, shorten(text)))
        return None


def _renamed(
    problems: list[FieldProblem], where: dict[str, str], response_column: str
) -> list[FieldProblem]:
    """Problems of a built perception, named by the export's columns where possible."""
    renamed = []
    for problem in problems:
        head = problem.field.split(".", 1)[0]
        column = where.get(head) or (response_column if head == "provenance" else problem.field)
        renamed.append(FieldProblem(column, problem.problem, problem.value))
    return renamed


def _reject(record: str, field_name: str, problem: str) -> InvalidRecordError:
    return InvalidRecordError(record, [FieldProblem(field_name, problem)])
