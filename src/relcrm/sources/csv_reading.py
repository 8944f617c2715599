"""Reading CSV files as survey tools and spreadsheets really write them.

Excel, Qualtrics and SurveyMonkey disagree on everything a CSV leaves open: the
encoding (UTF-8 with or without a byte-order mark, UTF-16 for Excel's "Unicode text",
cp1252 from older Windows tools), the delimiter (``,``; ``;`` where the comma is the
decimal mark; tab), and line endings, with newlines inside quoted cells. This module
settles those once, says what it decided, and numbers each record by the row a
spreadsheet shows and the line an editor shows.

Two kinds of damage stay local to the rows they are on:

- **Bytes that do not decode.** The file is decoded as declared or detected, and each
  byte that does not fit becomes a marker character (a lone surrogate, which no decoded
  text contains otherwise); the reader rejects the rows holding a marker, naming the
  line, and the other rows keep their correct characters. Only a file with no valid
  UTF-8 sequence at all (consistently cp1252, say) is read as cp1252 as a whole.
- **A quote that is never closed.** A CSV reader takes everything up to the next quote
  (or to the end of the file) as one cell. :func:`csv_records` finds such a record,
  reports the line where the quote opened, and goes on reading with the next line, so
  the rows after it are read as rows.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
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

# -- bytes that do not decode ---------------------------------------------------------------

_MARK_BASE: Final = 0xDC00
_MARK_ERRORS: Final = "relcrm-mark-bad-bytes"
_MARKS: Final = re.compile("[\udc00-\udcff]")
# A character that only a valid multi-byte UTF-8 sequence gives (not ASCII, not a mark).
_DECODED_NON_ASCII: Final = re.compile("[^\x00-\x7f\udc00-\udcff]")
_BREAK: Final = re.compile(r"\r\n|\r|\n")
_UTF8: Final = frozenset({"utf-8", "utf-8-sig"})


def _mark_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte becomes U+DC00 + its value."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(_MARK_BASE + byte) for byte in bad), error.end


codecs.register_error(_MARK_ERRORS, _mark_bad_bytes)


def bad_byte_line(cells: list[str], first_line: int) -> tuple[int, int, int] | None:
    """Where the first undecodable byte of a record is: (cell index, byte, file line),
    or None. ``first_line`` is the line the record starts on; quoted line breaks in the
    cells before the byte move it down."""
    breaks = 0
    for index, cell in enumerate(cells):
        found = _MARKS.search(cell)
        if found is None:
            breaks += len(_BREAK.findall(cell))
            continue
        breaks += len(_BREAK.findall(cell, 0, found.start()))
        return index, ord(found.group()) - _MARK_BASE, first_line + breaks
    return None


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and how it was decoded: ``how`` is a sentence for the report.

    ``bad_bytes`` counts the bytes that did not decode; each is a marker character in
    ``text`` (see :func:`bad_byte_line`), and the rows holding one are for the reader to
    reject.
    """

    text: str
    encoding: str
    how: str
    bad_bytes: int = 0


def _decode(data: bytes, encoding: str) -> tuple[str, int]:
    text = data.decode(encoding, errors=_MARK_ERRORS)
    count = len(_MARKS.findall(text)) if _MARKS.search(text) else 0
    return text.removeprefix("\ufeff"), count


def _lines_of_marks(text: str, limit: int = 5) -> str:
    """``"line 4"`` or ``"lines 4, 9, 12"``: the lines of the first bad bytes."""
    lines: list[int] = []
    line, position = 1, 0
    for found in _MARKS.finditer(text):
        line += len(_BREAK.findall(text, position, found.start()))
        position = found.start()
        if not lines or lines[-1] != line:
            lines.append(line)
        if len(lines) > limit:
            break
    shown = ", ".join(str(number) for number in lines[:limit])
    more = ", ..." if len(lines) > limit else ""
    return f"line {shown}" if len(lines) == 1 else f"lines {shown}{more}"


def _clearly_not_utf8(marked: str) -> bool:
    """Whether a file decoded as UTF-8 (bad bytes marked) has no valid multi-byte UTF-8
    sequence at all: then its non-ASCII bytes are another encoding's, consistently."""
    return _DECODED_NON_ASCII.search(marked) is None


def _with_bad_bytes(how: str, text: str, count: int, encoding: str) -> str:
    if not count:
        return how
    if count == 1:
        return (
            f"{how}; 1 byte is not valid {encoding} ({_lines_of_marks(text)}): its row is rejected"
        )
    return (
        f"{how}; {count} bytes are not valid {encoding} ({_lines_of_marks(text)}): the rows "
        "holding them are rejected"
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the bytes look like UTF-16 without a BOM (text
    that is mostly ASCII has a NUL in every other byte), else None."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str | None = None, *, name: str = "file") -> DecodedText:
    """Decode a file as declared, else as its byte-order mark says, else as UTF-16 when
    it looks like UTF-16, else as UTF-8, and as cp1252 (the encoding of Windows tools that
    do not say) only when no part of it is UTF-8.

    A byte that does not decode never changes how the rest is read: it is marked (see
    :class:`DecodedText`) and its row is rejected by the reader. A declared UTF-8 that
    the file clearly is not is a configuration error rather than a row per line: the
    caller said what it is, and every row with a non-ASCII character would be rejected.
    """
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise ConfigurationError(
                f"{name}: unknown encoding {declared!r}",
                hint="use a Python codec name such as utf-8, utf-16 or cp1252",
            ) from None
        text, count = _decode(data, declared)
        if count and codec in _UTF8 and _clearly_not_utf8(text):
            raise ConfigurationError(
                f"{name}: not valid {declared} anywhere it has non-ASCII bytes (first bad "
                f"byte on {_lines_of_marks(text, 1)}); it looks like cp1252",
                hint='declare the file\'s real encoding (encoding = "cp1252"), or leave it '
                "out to have it detected",
            )
        how = _with_bad_bytes(f"decoded as {declared} (declared)", text, count, declared)
        return DecodedText(text, declared, how, count)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, count = _decode(data, encoding)
            how = _with_bad_bytes(f"decoded as {encoding} (byte-order mark)", text, count, encoding)
            return DecodedText(text, encoding, how, count)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        text, count = _decode(data, utf16)
        how = _with_bad_bytes(
            f"decoded as {utf16} (detected, no byte-order mark)", text, count, utf16
        )
        return DecodedText(text, utf16, how, count)
    text, count = _decode(data, "utf-8")
    if count and _clearly_not_utf8(text):
        where = _lines_of_marks(text, 1)
        cp1252, cp_count = _decode(data, "cp1252")
        how = _with_bad_bytes(
            f"decoded as cp1252: not valid UTF-8 anywhere it has non-ASCII bytes (first on "
            f"{where}); declare the encoding if that is wrong",
            cp1252,
            cp_count,
            "cp1252",
        )
        return DecodedText(cp1252, "cp1252", how, cp_count)
    return DecodedText(
        text, "utf-8", _with_bad_bytes("decoded as utf-8", text, count, "UTF-8"), count
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


def sniff_delimiter(text: str | list[str]) -> str:
    """The delimiter that splits the first records into the most, equally many cells.

    Parsing with each candidate (rather than counting characters) keeps a comma inside
    a quoted question text from winning over the real ``;``. ``text`` may be given as
    its lines (:func:`split_lines`).
    """
    lines = split_lines(text) if isinstance(text, str) else text
    best, best_cells = ",", 1
    for delimiter in DELIMITERS:
        counts: list[int] = []
        try:
            for record in csv_records(lines, delimiter):
                if record.cells and record.cells[0] != CSV_ERROR:
                    counts.append(len(record.cells))
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


# -- records ----------------------------------------------------------------------------


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


CSV_ERROR: Final = "\x00<error>"
"""First cell of a record that could not be read as CSV (see :func:`csv_records`); the
second cell says why, naming the line."""

_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def split_lines(text: str) -> list[str]:
    """``text``'s lines with their endings (CR LF, CR or LF), as csv reads them."""
    return _LINE.findall(text)


def csv_records(
    text: str | list[str], delimiter: str, *, width: int | None = None
) -> Iterator[CsvRecord]:
    """Every record of ``text`` (or of its lines, from :func:`split_lines`), blank lines
    included (as empty cell lists), numbered.

    A record that cannot be read comes back with ``cells == [CSV_ERROR, message]`` for
    the caller to reject, and reading goes on:

    - csv's own errors (a NUL byte, a cell over csv's size limit);
    - a quote that is never closed: the reader took everything after it, up to the end
      of the file, as one cell. The message names the line where the quote opened, and
      reading goes on with the next line, so the rows after it are read as rows;
    - with ``width`` (the header's number of cells), a record running over several lines
      whose cell count is wrong: a quote that is not closed where it should be was
      "closed" by a later quote, swallowing the rows in between. Handled as above.

    A quoted cell spanning lines in a record with the right number of cells is a real
    multi-line answer and is kept as it is.
    """
    lines = split_lines(text) if isinstance(text, str) else text
    row = 0
    start = 0
    while start < len(lines):
        restart: int | None = None
        rest = map(lines.__getitem__, range(start, len(lines)))
        reader = csv.reader(rest, delimiter=delimiter, strict=False)
        begin = start
        while restart is None:
            try:
                cells = next(reader)
                failure = None
            except StopIteration:
                return
            except csv.Error as error:
                cells, failure = [], str(error)
            end = start + reader.line_num
            row += 1
            broken = None
            if failure is not None or end - begin > 1 or end == len(lines):
                broken = _unclosed_quote(lines, begin, end, delimiter, cells, width, failure)
            if broken is not None:
                message, opened = broken
                yield CsvRecord(row, begin + 1, [CSV_ERROR, message])
                restart = opened + 1
            elif failure is not None:
                yield CsvRecord(row, begin + 1, [CSV_ERROR, f"{failure} (line {end})"])
            else:
                yield CsvRecord(row, begin + 1, cells)
            begin = end
        start = restart


def _unclosed_quote(
    lines: list[str],
    begin: int,
    end: int,
    delimiter: str,
    cells: list[str],
    width: int | None,
    failure: str | None,
) -> tuple[str, int] | None:
    """(message, index of the line where the quote opened) when the record on
    ``lines[begin:end]`` is a quote that was never closed, else None."""
    at_end = end >= len(lines)
    wrong = failure is not None or (
        width is not None and (len(cells) < width or any(cell.strip() for cell in cells[width:]))
    )
    if not (at_end or wrong):
        return None  # a quoted cell over several lines, in a row of the right shape
    crossing, open_at_end = _scan_quotes(lines[begin:end], delimiter)
    if open_at_end is not None and (at_end or failure is not None):
        opened = begin + (crossing if crossing is not None else open_at_end)
        return (
            f"a quote opened on line {opened + 1} is never closed, so everything after it "
            f"would be one cell; this row is rejected and reading goes on with line "
            f'{opened + 2}: close the quote (a quote inside a quoted cell is written twice, "")',
            opened,
        )
    if crossing is None or not wrong:
        return None
    opened = begin + crossing
    shape = (
        f"{failure}"
        if failure is not None
        else f"the row has {len(cells)} cells where the header has {width}"
    )
    return (
        f"a quote opened on line {opened + 1} runs on to line {end} ({shape}): probably a "
        f"quote that is never closed; this row is rejected and reading goes on with line "
        f'{opened + 2}: close the quote (a quote inside a quoted cell is written twice, "")',
        opened,
    )


_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def _scan_quotes(lines: list[str], delimiter: str) -> tuple[int | None, int | None]:
    """How quotes run through one record's lines, read as csv reads them (not strict):
    (the offset of the line where the first quote spanning a line break opened, the
    offset of the line where a quote still open at the end opened), each None if none.

    Only quotes, delimiters and line breaks are looked at; ordinary characters between
    two of them only matter after a field's start (a quote there is a plain character)
    and after a closing quote (the cell goes on unquoted)."""
    special = re.compile("[" + re.escape('"' + delimiter) + r"\r\n]")
    state, opened, crossing = _START, 0, None
    for offset, line in enumerate(lines):
        previous = -1
        for found in special.finditer(line):
            char, at = found.group(), found.start()
            if state in (_START, _QUOTE_IN_QUOTED) and at > previous + 1:
                state = _FIELD
            previous = at
            if state == _START:
                if char == '"':
                    state, opened = _QUOTED, offset
            elif state == _FIELD:
                if char != '"':
                    state = _START
            elif state == _QUOTED:
                if char == '"':
                    state = _QUOTE_IN_QUOTED
                elif char != delimiter and crossing is None:
                    crossing = opened
            elif char == '"':  # a doubled quote inside a quoted cell
                state = _QUOTED
            else:
                state = _START
    return crossing, (opened if state == _QUOTED else None)
