"""relcrm's JSONL interchange format: one person, perception or preference per line.

The format is the models themselves plus a ``"type"`` key, so there is nothing to map
and nothing to drift: a field documented on the model is a field of the format (see
``docs/interchange.md``). Reading is strict JSON Lines (only blank lines are skipped)
and forgiving per line: a bad line becomes a :class:`LineRejection` that names the
line number and each bad field with its value, and the rest of the file keeps loading.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from io import BufferedIOBase
from pathlib import Path
from typing import Final, Protocol, TypeAlias

from pydantic import ValidationError
from pydantic_core import from_json

from relcrm.errors import FieldProblem, InvalidRecordError, shorten
from relcrm.models import Perception, Person, Preference
from relcrm.sources.dates import DateRange, resolve

InterchangeRecord: TypeAlias = Person | Perception | Preference
"""A record the interchange format carries."""

RECORD_TYPES: Final[dict[str, type[Person] | type[Perception] | type[Preference]]] = {
    "person": Person,
    "perception": Perception,
    "preference": Preference,
}
"""The values of ``"type"`` and the model each one selects."""

DEFAULT_MAX_LINE_BYTES: Final = 8 * 1024 * 1024
"""Lines longer than this are rejected unread. No valid record comes near it (a verbatim
is at most 10,000 characters), and it keeps a corrupt file from being held in memory."""

_BOM: Final = "\ufeff"
BOM_BYTES: Final = b"\xef\xbb\xbf"
# The shape write_interchange produces ("type" first). Lines that match it skip a parse:
# the rest of the line goes straight to pydantic's JSON validator, which is faster than
# building a dict in Python first. Any other shape takes the general path.
_TYPE_FIRST = re.compile(
    r'[ \t\r\n]*\{[ \t\r\n]*"type"[ \t\r\n]*:[ \t\r\n]*"(person|perception|preference)"[ \t\r\n]*,'
)
"""White space as JSON has it: ``\\s`` would also skip U+00A0 or U+3000, which JSON does not
read as white space, and let a line that is not JSON through."""
_JSON_POSITION = re.compile(r" at line 1 column (\d+)$")
# Characters that str.splitlines() treats as line breaks but JSON does not escape; they
# are escaped on output so that no line-splitting reader can cut a record in two.
_UNSAFE_SEPARATORS: Final = (("\u0085", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


@dataclass(frozen=True, slots=True)
class InterchangeItem:
    """A record read from a line, with the line number it came from."""

    line: int
    record: InterchangeRecord

    @property
    def kind(self) -> str:
        """The record's ``"type"``: person, perception or preference."""
        return _kind_of(self.record)


@dataclass(frozen=True, slots=True)
class LineRejection:
    """A line that could not be read; ``error`` names the line and every bad field."""

    line: int
    error: InvalidRecordError
    kind: str | None = None
    """The record type the line declared, when it declared a known one."""

    @property
    def problems(self) -> list[FieldProblem]:
        return self.error.problems

    def __str__(self) -> str:
        return self.error.message


@dataclass
class InterchangeLoad:
    """Everything read from one source, split by type, with the rejected lines."""

    persons: list[Person] = field(default_factory=list)
    perceptions: list[Perception] = field(default_factory=list)
    preferences: list[Preference] = field(default_factory=list)
    rejections: list[LineRejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line was rejected."""
        return not self.rejections

    def records(self) -> list[InterchangeRecord]:
        """Persons, then perceptions, then preferences (the order a store wants them)."""
        return [*self.persons, *self.perceptions, *self.preferences]


class TextSink(Protocol):
    """Anything with ``write(str)``: an open text file, ``io.StringIO``, ``sys.stdout``."""

    def write(self, text: str, /) -> object: ...


Source: TypeAlias = str | os.PathLike[str] | Iterable[str] | Iterable[bytes]
"""A path (``str`` or ``PathLike``) to a file, or lines already split (an open file, a list)."""


def read_interchange(
    source: Source,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    dates: DateRange | None = None,
) -> Iterator[InterchangeItem | LineRejection]:
    """Stream records from a JSONL file or from lines, yielding a rejection per bad line.

    A ``str`` is always a path, never content: pass ``text.splitlines()`` for content.
    Files are read as bytes and decoded line by line, so invalid UTF-8, a byte-order mark,
    CRLF endings or an over-long line affect only the line they are on. Lines are numbered
    from 1, counting blank lines, so the numbers match what an editor shows.

    A record with a date outside ``dates`` (by default the range the environment
    configures, see :mod:`relcrm.sources.dates`) is rejected, naming each such field.
    """
    checker = resolve(dates)
    if isinstance(source, str | os.PathLike):
        yield from _read_path(Path(source), max_line_bytes, checker)
        return
    if isinstance(source, bytes | bytearray):
        raise TypeError("pass a path or an iterable of lines, not the bytes of a whole file")
    lines: Iterable[str | bytes] = source
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes | bytearray):
            text_or_error = decode_line(bytes(raw), number)
            if isinstance(text_or_error, LineRejection):
                yield text_or_error
                continue
            text = text_or_error
        else:
            text = raw
        if number == 1:
            text = text.removeprefix(_BOM)
        if len(text) > max_line_bytes:
            yield too_long_line(number, max_line_bytes)
            continue
        result = parse_interchange_line(text, number, dates=checker)
        if result is not None:
            yield result


def load_interchange(
    source: Source,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    dates: DateRange | None = None,
) -> InterchangeLoad:
    """Read a whole source into lists: convenient for small files, tests and examples."""
    loaded = InterchangeLoad()
    for item in read_interchange(source, max_line_bytes=max_line_bytes, dates=dates):
        if isinstance(item, LineRejection):
            loaded.rejections.append(item)
        elif isinstance(item.record, Person):
            loaded.persons.append(item.record)
        elif isinstance(item.record, Perception):
            loaded.perceptions.append(item.record)
        else:
            loaded.preferences.append(item.record)
    return loaded


def parse_interchange_line(
    text: str, line: int, *, dates: DateRange | None = None
) -> InterchangeItem | LineRejection | None:
    """Parse one line (without or with its line ending); ``None`` for a blank line.

    Exposed so that a source receiving lines one at a time (a queue, a socket) reads them
    exactly as a file would be read. ``dates`` as for :func:`read_interchange`.
    """
    text = text.rstrip("\r\n")
    if not text or text.isspace():
        return None
    checker = resolve(dates)
    record_name = f"line {line}"
    fast = _TYPE_FIRST.match(text)
    # '{"type": "person",}' must stay invalid JSON, not become the empty object "{}".
    if fast is not None and not text[fast.end() :].lstrip().startswith("}"):
        kind = fast.group(1)
        model = RECORD_TYPES[kind]
        try:
            record = model.model_validate_json("{" + text[fast.end() :])
        except ValidationError as error:
            # Malformed JSON falls through so the error names the column in the whole line;
            # so does a second "type" (the general path reads the last, as for any key).
            if not any(
                item["type"] == "json_invalid" or item["loc"] == ("type",)
                for item in error.errors()
            ):
                problems = checker.validation_problems(error, model, _json_object(text))
                return LineRejection(line, InvalidRecordError(record_name, problems), kind)
        else:
            return _checked(record, line, kind, checker)
    return _parse_general(text, line, record_name, checker)


_PERSON_PREFIX: Final = '{"type":"person",'
"""How write_interchange (and most writers) start a person line: compact, "type" first."""
_validate_person_json = Person.__pydantic_validator__.validate_json
"""What ``Person.model_validate_json`` calls, without its per-call argument checks."""


def read_person_quickly(text: str, checker: DateRange, now: datetime) -> Person | None:
    """The person of a line in the usual shape, or None: then the line is read by
    :func:`parse_interchange_line`, which is what this is a shortcut of.

    A person line is most of the cost of a file of persons, so the common case skips what
    the general path adds around pydantic's validation: the shape regex, resolving the
    range, and the clock read per line (``now`` is read once a chunk). It returns a person
    only where :func:`parse_interchange_line` returns the same person: a line of the
    compact shape that validates and whose dates lie within ``checker``'s range at ``now``
    (a range ending ``now`` + a day ends no later than the general path's, read later, so
    the shortcut never accepts a date that path refuses). Anything else, an invalid line
    above all, returns None, and the general path gives its record or its exact message.
    """
    if not text.startswith(_PERSON_PREFIX):
        return None
    rest = text[len(_PERSON_PREFIX) :].rstrip("\r\n")
    if rest.lstrip().startswith("}"):  # '{"type":"person",}' stays invalid JSON
        return None
    try:
        person: Person = _validate_person_json("{" + rest)
    except ValidationError:
        return None
    if checker.record_problems(person, now):
        return None
    return person


def _json_object(text: str) -> object:
    """The line as JSON (only to explain a line that did not validate), or None."""
    try:
        return from_json(text)
    except ValueError:
        return None


def _checked(
    record: InterchangeRecord, line: int, kind: str, checker: DateRange
) -> InterchangeItem | LineRejection:
    """The record, or its rejection when one of its dates lies outside ``checker``."""
    problems = checker.record_problems(record)
    if problems:
        return LineRejection(line, InvalidRecordError(f"line {line}", problems), kind)
    return InterchangeItem(line, record)


def _parse_general(
    text: str, line: int, record_name: str, checker: DateRange
) -> InterchangeItem | LineRejection:
    try:
        data = from_json(text)
    except ValueError as error:
        message = _JSON_POSITION.sub(r" at column \1", str(error))
        return _reject(line, "(record)", f"not valid JSON: {message}")
    if not isinstance(data, dict):
        return _reject(
            line,
            "(record)",
            'each line must be one JSON object like {"type": "person", ...}',
            shorten(data),
        )
    if "type" not in data:
        return _reject(line, "type", 'missing: say "person", "perception" or "preference"')
    kind = data.pop("type")
    model = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        return _reject(
            line,
            "type",
            'unknown record type: use "person", "perception" or "preference"',
            shorten(kind),
        )
    try:
        record = model.model_validate(data)
    except ValidationError as error:
        problems = checker.validation_problems(error, model, data)
        return LineRejection(line, InvalidRecordError(record_name, problems), kind)
    return _checked(record, line, kind, checker)


def interchange_line(record: InterchangeRecord) -> str:
    """One record as one line of the format, without the line ending.

    ``"type"`` comes first (readers can dispatch before parsing the rest); defaults are
    left out; a perception's ``id`` is left out because it is derived from provenance.
    """
    kind = _kind_of(record)
    if isinstance(record, Perception):
        body = record.model_dump_json(exclude_defaults=True, exclude={"id"})
    else:
        body = record.model_dump_json(exclude_defaults=True)
    for raw, escaped in _UNSAFE_SEPARATORS:
        if raw in body:
            body = body.replace(raw, escaped)
    # Every record has at least one required field, so the body is never "{}".
    return f'{{"type":"{kind}",{body[1:]}'


def write_interchange(
    records: Iterable[InterchangeRecord], target: str | os.PathLike[str] | TextSink
) -> int:
    """Write records as JSONL (UTF-8, ``\\n`` endings, no BOM) and return how many.

    A path is written through a temporary file in the same folder and renamed into place,
    so a reader never sees half a file and a failed write leaves the old file as it was;
    the file is readable by its owner only, as it holds personal data. A stream is
    written to as is and left open.
    """
    if isinstance(target, str | os.PathLike):
        return _write_path(records, Path(target))
    count = 0
    for record in records:
        target.write(interchange_line(record) + "\n")
        count += 1
    return count


def _write_path(records: Iterable[InterchangeRecord], path: Path) -> int:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(handle, "w", encoding="utf-8", newline="\n") as stream:
            count = write_interchange(records, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _read_path(
    path: Path, max_line_bytes: int, checker: DateRange
) -> Iterator[InterchangeItem | LineRejection]:
    with path.open("rb") as stream:
        for number, raw in enumerate(bounded_lines(stream, max_line_bytes), start=1):
            if raw is None:
                yield too_long_line(number, max_line_bytes)
                continue
            text = decode_line(raw.removeprefix(BOM_BYTES) if number == 1 else raw, number)
            if isinstance(text, LineRejection):
                yield text
                continue
            result = parse_interchange_line(text, number, dates=checker)
            if result is not None:
                yield result


_BLOCK_BYTES = 1 << 22
"""How much of the file is read at a time: lines are cut out of blocks, not read one by
one (a call per line cost more than the columnar ingest's work on the line)."""


def bounded_lines(stream: BufferedIOBase, limit: int) -> Iterator[bytes | None]:
    """Lines of a binary stream, with their newline; ``None`` for a line whose bytes
    (newline aside) are over ``limit``, skipped without keeping more than ``limit`` of it.

    ``read1`` returns what is there (up to a block) without waiting for a whole block, so
    a line arriving on a pipe is yielded as soon as it is complete (``relcrm analyze -``).
    """
    pending = b""  # the start of the current line, never more than limit + 1 bytes
    dropping = False  # the current line is over the limit: skip to its end
    while data := stream.read1(_BLOCK_BYTES):
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if dropping:
                dropping = False
                yield None
            else:
                line = pending + data[start : end + 1] if pending else data[start : end + 1]
                pending = b""
                yield line if len(line) <= limit + 1 else None
            start = end + 1
        if not dropping:
            pending += data[start:]
            if len(pending) > limit:
                dropping, pending = True, b""
    if dropping:
        yield None
    elif pending:
        yield pending


def decode_line(raw: bytes, line: int) -> str | LineRejection:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _reject(line, "(record)", f"not valid UTF-8 (bad byte at offset {error.start})")


def too_long_line(line: int, limit: int) -> LineRejection:
    return _reject(line, "(record)", f"line is longer than {limit} bytes; no valid record is")


def _reject(line: int, field_name: str, problem: str, value: str | None = None) -> LineRejection:
    problems = [FieldProblem(field=field_name, problem=problem, value=value)]
    return LineRejection(line, InvalidRecordError(f"line {line}", problems))


def _kind_of(record: InterchangeRecord) -> str:
    if isinstance(record, Person):
        return "person"
    if isinstance(record, Perception):
        return "perception"
    return "preference"
