"""Reading CSV files as survey tools and spreadsheets really write them.

Excel, Qualtrics and SurveyMonkey disagree on everything a CSV leaves open: the
encoding (UTF-8 with or without a byte-order mark, UTF-16 for Excel's "Unicode text",
cp1252 from older Windows tools), the delimiter (``,``; ``;`` where the comma is the
decimal mark; tab), and line endings, with newlines inside quoted cells. This module
settles those once, says what it decided, and numbers each record by the row a
spreadsheet shows and the line an editor shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from relcrm.errors import ConfigurationError

DELIMITERS: Final = (",", ";", "\t", "|")
"""Delimiters :func:`sniff_delimiter` chooses between."""

SNIFF_RECORDS: Final = 20
"""Records read to choose the delimiter."""

_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and how it was decoded: ``how`` is a sentence for the report."""

    text: str
    encoding: str
    how: str


def decode_bytes(data: bytes, declared: str | None = None, *, name: str = "file") -> DecodedText:
    """Decode a file, preferring what is declared, then what its byte-order mark says,
    then UTF-8, then cp1252 (the encoding of Windows tools that do not say).

    A declared encoding that does not fit the bytes is a configuration error rather
    than a guess: the caller said what it is.
    """
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ConfigurationError(
                f"{name}: unknown encoding {declared!r}",
                hint="use a Python codec name such as utf-8, utf-16 or cp1252",
            ) from None
        try:
            text = data.decode(declared)
        except UnicodeDecodeError as error:
            raise ConfigurationError(
                f"{name}: not valid {declared} (bad byte at offset {error.start})",
                hint="declare the file's real encoding, or leave it out to have it detected",
            ) from None
        return DecodedText(
            text.removeprefix("\ufeff"), declared, f"decoded as {declared} (declared)"
        )
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as error:
                raise ConfigurationError(
                    f"{name}: starts with a {encoding} byte-order mark but is not valid "
                    f"{encoding} (bad byte at offset {error.start})",
                    hint="save the file again, or declare its encoding",
                ) from None
            return DecodedText(
                text.removeprefix("\ufeff"), encoding, f"decoded as {encoding} (byte-order mark)"
            )
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", "decoded as utf-8")
    except UnicodeDecodeError as error:
        return DecodedText(
            data.decode("cp1252", errors="replace"),
            "cp1252",
            f"decoded as cp1252: not valid UTF-8 (bad byte at offset {error.start}); "
            "declare the encoding if that is wrong",
        )


def read_text(path: str | os.PathLike[str], declared: str | None = None) -> DecodedText:
    """The decoded text of the file at ``path`` (see :func:`decode_bytes`)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read {file}: {error.strerror}", hint="check the path"
        ) from None
    return decode_bytes(data, declared, name=str(file))


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first records into the most, equally many cells.

    Parsing with each candidate (rather than counting characters) keeps a comma inside
    a quoted question text from winning over the real ``;``.
    """
    best, best_cells = ",", 1
    for delimiter in DELIMITERS:
        counts: list[int] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for record in reader:
                if record:
                    counts.append(len(record))
                if len(counts) >= SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not counts:
            continue
        cells = counts[0]
        consistent = sum(1 for count in counts if count == cells) / len(counts)
        if cells > best_cells and consistent >= 0.8:
            best, best_cells = delimiter, cells
    return best


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One record of a CSV file: ``row`` as a spreadsheet numbers it (from 1, header rows
    included), ``line`` the file line it starts on (they differ after quoted newlines)."""

    row: int
    line: int
    cells: list[str]

    @property
    def name(self) -> str:
        """How errors name the record: ``row 7``, or ``row 7 (line 9)``."""
        if self.row == self.line:
            return f"row {self.row}"
        return f"row {self.row} (line {self.line})"


def csv_records(text: str, delimiter: str) -> Iterator[CsvRecord]:
    """Every record of ``text``, blank lines included (as empty cell lists), numbered.

    A malformed record (csv's own errors, such as a NUL byte) stops nothing: it comes
    back with ``cells == ["\\x00<error>", message]`` for the caller to reject.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    row = 0
    line = 1
    while True:
        start = line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row += 1
            line = reader.line_num + 1
            yield CsvRecord(row, start, [CSV_ERROR, str(error)])
            continue
        row += 1
        line = reader.line_num + 1
        yield CsvRecord(row, start, cells)


CSV_ERROR: Final = "\x00<error>"
"""First cell of a record that csv could not parse (see :func:`csv_records`)."""
