"""Perception lines of the interchange format parsed as typed columns, in DuckDB.

pydantic validates a line in about 5 µs; a million-line file spends most of its ingest
there although nearly every line has the same simple shape. :func:`stage_perceptions`
reads a chunk of raw lines into DuckDB and checks types, ranges, enums and required
fields as vectorised predicates over the whole chunk. A line that passes every check is
staged as one row of the perception segment layout (:data:`STAGED_COLUMNS`); every other
non-blank line (persons, preferences, bad lines, and any perception line the checks are
not sure about) is handed back by number, for the caller to parse one by one with
:func:`relcrm.sources.interchange.parse_interchange_line`, so each error message stays
exactly what it is today.

The checks are deliberately narrower than the model: a row is staged only where pydantic
would accept the line and store exactly these values (same strings, bit-equal floats),
so anything unusual (escapes such as ``\\u00e9``, whitespace at the edge of a string,
upper case in a topic, numbers written as strings or booleans, duplicate or unknown keys,
an explicit ``id``, a date not in the plain ISO 8601 form) takes the per-line path.

This module never imports DuckDB: the caller passes an open connection (the ``columnar``
extra), so importing the sources needs none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Final, Protocol

import numpy

from relcrm.models.perception import VERBATIM_MAX_CHARS, Channel
from relcrm.models.perception_columns import EMOTION_KEYS, SEGMENT_COLUMNS
from relcrm.models.scores import SCALE_LIMIT
from relcrm.sources.dates import DateRange, resolve

STAGED_COLUMNS: Final = SEGMENT_COLUMNS
"""The staged table's columns after ``line BIGINT``: the perception segment layout."""

_NESTED: Final[dict[str, tuple[str, ...]]] = {
    "nps": ("value", "kind"),
    "csat": ("value", "scale_min", "scale_max"),
    "ces": ("value", "version", "scale_min", "scale_max", "direction"),
    "emotions": EMOTION_KEYS,
    "flags": ("churn_intent", "sarcasm", "trapped"),
    "provenance": ("source_system", "source_record_id", "analyzer", "analyzer_version"),
}
_TOP: Final = (
    "type",
    "person_id",
    "occurred_at",
    "channel",
    "touchpoint",
    "topic",
    "public",
    "nps",
    "csat",
    "ces",
    "valence",
    "arousal",
    "emotions",
    "flags",
    "verbatim",
    "confidence",
    "provenance",
)
_PATHS: Final = (*_TOP, *(f"{top}.{leaf}" for top, leaves in _NESTED.items() for leaf in leaves))

_REQUIRED: Final = frozenset({"type", "person_id", "occurred_at", "channel", "provenance"})
_ID_BYTES: Final = 12  # blake2b digest_size, as perception_id_for


class Connection(Protocol):
    """What is used of a DuckDB connection (``duckdb.DuckDBPyConnection``)."""

    def execute(self, query: str, parameters: Any = None, /) -> Any: ...

    def register(self, view_name: str, python_object: object, /) -> Any: ...

    def unregister(self, view_name: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Staged:
    """What :func:`stage_perceptions` did with a chunk."""

    table: str
    """The DuckDB table holding the staged perceptions (``line`` + :data:`STAGED_COLUMNS`)."""
    rows: int
    """Perception lines staged in ``table``."""
    other_lines: list[int]
    """Every other non-blank line, in order: for ``parse_interchange_line``."""


def stage_perceptions(
    connection: Connection,
    first_line: int,
    raws: Sequence[bytes | None],
    table: str,
    *,
    dates: DateRange | None = None,
) -> Staged:
    """Stage the perception lines of one raw chunk as typed rows in ``table``.

    ``raws`` is a chunk as ``relcrm.sync.ingest_chunks.raw_chunks`` yields it: line
    ``first_line`` first, blank lines included, ``None`` for a line over the byte limit,
    the byte-order mark already taken off line 1. ``table`` is created (replaced if it
    exists) with ``line BIGINT`` and :data:`STAGED_COLUMNS`, one row per perception line
    that passed every check, in no particular order (``line`` orders them); each row
    equals what the per-line path would store for that line. Verbatims are staged as the
    line gives them (not yet redacted).
    """
    checker = resolve(dates)
    earliest, latest = checker.bounds()  # a later check has a later end: never narrower
    # The raw lines cross into DuckDB as a NumPy array, without a conversion per line
    # (a list of strings as a parameter costs three times as much, and its copies of the
    # chunk's text cost memory), and are decoded there; everything after reads a table,
    # which DuckDB scans with every core, a row group each.
    texts = numpy.array(_line_bytes(raws), dtype=object)
    numbers = numpy.arange(first_line, first_line + len(raws), dtype=numpy.int64)
    chunk = f"{table}__chunk"
    lines_table = f"{table}__lines"
    candidates = f"{table}__candidates"
    connection.register(chunk, {"line": numbers, "raw": texts})
    try:
        try:
            connection.execute(f"CREATE OR REPLACE TEMP TABLE {lines_table} AS {_lines_sql(chunk)}")
        finally:
            connection.unregister(chunk)
        del texts, numbers
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {candidates} AS {_candidates_sql(lines_table)}"
        )
        valid = _valid_shapes(connection, candidates)
        present = set().union(*valid.values())
        paths = [path for path in _PATHS if path in present]
        connection.execute(
            f"CREATE OR REPLACE TABLE {table} AS {_rows_sql(lines_table, candidates, paths)}",
            [list(valid), _micros(earliest), _micros(latest)],
        )
        connection.execute(f"DROP TABLE {lines_table}")
        # In place rather than copied to a new table: the ids are known only now.
        connection.execute(f"DELETE FROM {table} WHERE ok IS NOT TRUE")
        connection.execute(f"ALTER TABLE {table} DROP COLUMN ok")
        lines = _set_ids(connection, table)
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {lines_table}")
        connection.execute(f"DROP TABLE IF EXISTS {candidates}")
    return Staged(table, len(lines), _other_lines(first_line, raws, lines))


def _line_bytes(raws: Sequence[bytes | None]) -> list[bytes]:
    """Each line's bytes for DuckDB, empty where the line cannot be read as one line
    (over the limit; a LF before its end, which ``raw_chunks`` never gives): the
    per-line path tells why. The LF at the end stays: JSON reads it as white space, as
    it reads a CR (stripping it in SQL would cost more than the rest of the reading)."""
    lines = [b"" if raw is None else raw for raw in raws]
    if sum(map(bytes.count, lines, repeat(b"\n"))) != sum(
        map(bytes.endswith, lines, repeat(b"\n"))
    ):
        lines = [b"" if b"\n" in raw.rstrip(b"\n") else raw for raw in lines]
    return lines


def _other_lines(first_line: int, raws: Sequence[bytes | None], staged: list[int]) -> list[int]:
    """Every non-blank line that is not staged, in order: for the per-line path. NumPy
    finds the lines not staged (a Python loop over the whole chunk cost more); only
    those are tested for blankness."""
    left = numpy.ones(len(raws), dtype=bool)
    left[numpy.asarray(staged, dtype=numpy.int64) - first_line] = False
    return [
        index + first_line
        for index in numpy.flatnonzero(left).tolist()
        if not _is_blank(raws[index])
    ]


def _is_blank(raw: bytes | None) -> bool:
    """Whether ``parse_interchange_line`` skips the line (an unreadable one is not)."""
    if raw is None or b"\n" in raw.rstrip(b"\n"):
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    text = text.rstrip("\r\n")
    return not text or text.isspace()


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _set_ids(connection: Connection, table: str) -> list[int]:
    """Give each staged row its perception's derived id; return the lines staged, in order.

    ``perception_id_for`` hashes the stripped provenance pair: a staged row has no space
    at the edges of either, and no control character (JSON escapes them, and ``\\u``
    escapes are never staged), so chr(1) separates the pairs. One string crosses from
    DuckDB, encoded once; the ids cross back as a NumPy array joined on ``line`` (a
    substring of one long parameter per row costs three times as much)."""
    pair = "source_system || chr(31) || source_record_id"
    ((lines, joined),) = connection.execute(
        f"SELECT list(line ORDER BY line), string_agg({pair}, chr(1) ORDER BY line) FROM {table}"
    ).fetchall()  # every row fetched: the connection takes a registration next
    if not lines:
        return []
    pairs = joined.encode().split(b"\x01")
    if len(pairs) != len(lines):  # a separator inside a value: never staged, but be exact
        query = f"SELECT {pair} FROM {table} ORDER BY line"
        pairs = [text.encode() for (text,) in connection.execute(query).fetchall()]
    blake2b = hashlib.blake2b
    ids = ["pc_" + blake2b(text, digest_size=_ID_BYTES).hexdigest() for text in pairs]
    view = f"{table}__ids"
    connection.register(
        view,
        {"line": numpy.asarray(lines, dtype=numpy.int64), "id": numpy.array(ids, dtype=object)},
    )
    try:
        connection.execute(
            f"UPDATE {table} SET id = {view}.id FROM {view} WHERE {table}.line = {view}.line"
        )
    finally:
        connection.unregister(view)
    return list(lines)


# -- the checks, as SQL ---------------------------------------------------------------------
#
# Two passes of DuckDB's JSON parser a line: json_keys gives the line's shape (every
# object's keys), checked once per distinct shape in Python (unknown, repeated or missing
# keys); json_extract then gives each leaf as JSON text (its first character tells its
# type, a null is 'null', an absent key NULL), in one statement for every valid shape. The
# checks and values below are written once for every field; a leaf no valid shape of the
# chunk has becomes a NULL constant that DuckDB folds away. Every statement reads or
# writes whole columns: no ORDER BY (``line`` orders the rows), no filter on a computed
# column (DuckDB would push it down and compute the expression twice).

_OBJECTS: Final = ("", *_NESTED)
_KEY_PATHS: Final = ", ".join("'$'" if not top else f"'$.{top}'" for top in _OBJECTS)


def _f(path: str) -> str:
    """The JSON text at ``path`` (SQL NULL when absent, 'null' when null)."""
    return f"f_{path.replace('.', '__')}"


def _absent(path: str) -> str:
    return f"coalesce({_f(path)} = 'null', true)"


def _string(path: str) -> str:
    """The JSON string at ``path`` decoded (NULL when it is not a string).

    ``json_extract_string`` of the string's own text: it decodes escapes, and costs less
    than testing for a backslash and slicing the quotes off (one scan, no character
    counting)."""
    fragment = _f(path)
    return f"CASE WHEN starts_with({fragment}, '\"') THEN json_extract_string({fragment}, '$') END"


PYTHON_SPACES: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(code) for code in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
"""The characters ``str.isspace()`` is true for, which ``str.strip()`` (and so pydantic's
``str_strip_whitespace``) takes off the edges; a test checks the list against Python."""

_SPACE_CODES: Final = ", ".join(str(ord(char)) for char in PYTHON_SPACES)


def _clean(value: str, max_bytes: int) -> str:
    """A non-empty string that ``str.strip()`` leaves as it is, ``max_bytes`` long at most
    in UTF-8 (so at most as many characters).

    Only the first and last characters are looked at (``ascii`` gives a character's code
    point, ``right`` counts characters): cheaper than a pattern over the whole value."""
    return (
        f"(strlen({value}) BETWEEN 1 AND {max_bytes} "
        f"AND ascii({value}) NOT IN ({_SPACE_CODES}) "
        f"AND ascii(right({value}, 1)) NOT IN ({_SPACE_CODES}))"
    )


def _number(path: str) -> str:
    """The JSON number at ``path`` as a DOUBLE (NULL when it is not a number).

    The text is a JSON value as DuckDB writes it back: a string, object, boolean or null
    does not cast. NaN or an infinity may (DuckDB reads them), but fail every range check,
    as in pydantic. The integer -0 is 0.0 in pydantic, not the float -0.0."""
    fragment = _f(path)
    return f"CASE WHEN {fragment} = '-0' THEN 0.0 ELSE TRY_CAST({fragment} AS DOUBLE) END"


def _digit_or_ten(path: str) -> str:
    """The JSON integer at ``path`` when it is one of 0..10 (NULL otherwise), from the
    texts DuckDB writes those integers back as: a length and a range test instead of two
    casts (5.0, 5e0 or "5" are none of them, as with :func:`_integer`; -0 is written back
    as 0, which it is in pydantic). Not an IN list: DuckDB plans a long one as a join,
    which copies every column."""
    fragment = _f(path)
    return (
        f"CASE WHEN {fragment} = '10' OR (strlen({fragment}) = 1 "
        f"AND {fragment} BETWEEN '0' AND '9') THEN CAST({fragment} AS INTEGER) END"
    )


def _integer(path: str) -> str:
    """The JSON integer at ``path`` (NULL when it is anything else: 5.0, 5e0, 05, "5"),
    found by reading it back: an INTEGER written as text gives the same text."""
    fragment = _f(path)
    return (
        f"CASE WHEN CAST(TRY_CAST({fragment} AS INTEGER) AS VARCHAR) = {fragment} "
        f"THEN TRY_CAST({fragment} AS INTEGER) END"
    )


def _object(top: str) -> str:
    """The value at ``top`` is an object (its keys are checked with the line's shape)."""
    return f"starts_with({_f(top)}, '{{')"


def _or_absent(path: str, check: str) -> str:
    return f"({_absent(path)} OR ({check}))"


def _unless_absent(path: str, value: str) -> str:
    return f"CASE WHEN {_absent(path)} THEN NULL ELSE {value} END"


_DATE_RE = (
    "'\"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?"
    "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])\"'"
)
_MICRO = "((instant % 1000000 + 1000000) % 1000000)"
"""The microseconds of ``occurred_at``: the same in UTC as in local time (an offset is
whole minutes)."""
_NPS_KIND = f"coalesce({_f('nps.kind')}[2:-2], 'transactional')"
_TOPIC_RE = "'[!-@\\[-~]([ -@\\[-~]{0,78}[!-@\\[-~])?'"
_PERSON_RE = "'[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}'"


def _lines_sql(chunk: str) -> str:
    """The lines of ``chunk`` (``line``, ``raw``: the line's bytes) that may be
    perceptions, as text: cheap substring tests only, as the chunk is read in one thread.

    A line is its bytes decoded as UTF-8 (DuckDB rejects exactly what Python does; a line
    that is not UTF-8 is NULL, for the per-line path to tell why), its CR and LF kept:
    JSON reads them as white space, as pydantic does after taking them off. No ``\\u``
    escape (a lone surrogate reads differently); a line must start with ``{``."""
    text = "TRY(decode(CAST(raw AS BLOB)))"
    return (
        f"SELECT line, text FROM (SELECT line, {text} AS text FROM {chunk}) "
        "WHERE starts_with(text, '{') AND contains(text, '\"perception\"') "
        "AND NOT contains(text, '\\u')"
    )


_TRAILING_COMMA: Final = "regexp_matches(text, ',[ \\t\\r\\n]*[}\\]]')"
"""A comma before a closing bracket, any JSON white space between (DuckDB's parser accepts
one, pydantic's does not). One pass of the pattern over the line costs less than the three
substring tests it replaced (each scans the line again)."""


def _candidates_sql(lines: str) -> str:
    """The lines of ``lines`` (:func:`_lines_sql`) without a trailing comma, by number,
    with their shape: every object's keys, as JSON (NULL when the line is not JSON, which
    no valid shape matches). Not the text again (the rows statement joins ``lines`` on
    the number: cheaper than writing the text a second time). The shape is not filtered
    on here: DuckDB would push the filter down and compute it twice."""
    return (
        f"SELECT line, to_json(TRY(json_keys(text, [{_KEY_PATHS}]))) AS shape "
        f"FROM {lines} WHERE NOT {_TRAILING_COMMA}"
    )


def _paths_of(shape: str) -> tuple[str, ...] | None:
    """The leaves a line of this shape gives (in ``_PATHS`` order), or None when the
    shape alone sends it to the per-line path: an unknown or repeated key, a required
    key missing, an ``id`` to check, a CES version next to an explicit scale."""
    keys: list[list[str] | None] = json.loads(shape)
    top = keys[0]
    if top is None or not set(top) >= _REQUIRED or not _known(top, _TOP):
        return None
    present = set(top)
    for name, inner in zip(_OBJECTS[1:], keys[1:], strict=True):
        if inner is None:
            continue
        if not _known(inner, _NESTED[name]):
            return None
        if name == "ces" and "version" in inner and len(inner) != 2:
            return None
        present.update(f"{name}.{key}" for key in inner)
    return tuple(path for path in _PATHS if path in present)


def _valid_shapes(connection: Connection, candidates: str) -> dict[str, tuple[str, ...]]:
    """The candidates' shapes that may be staged, each with the leaves it gives: checked
    once per distinct shape, not once a line."""
    shapes = connection.execute(f"SELECT DISTINCT shape FROM {candidates}").fetchall()
    return {
        shape: paths
        for (shape,) in shapes
        if shape is not None and (paths := _paths_of(shape)) is not None
    }


def _known(keys: list[str], allowed: Sequence[str]) -> bool:
    return len(set(keys)) == len(keys) and set(keys) <= set(allowed)


_LEAF = re.compile(r"\bf_(\w+)\b")


def _rows_sql(lines: str, candidates: str, paths: Sequence[str]) -> str:
    """The lines of ``lines`` whose shape in ``candidates`` is one of the valid ones
    (parameters: the valid shapes, the earliest and latest instants), decoded and
    checked, each with ``ok``: whether it passed every check.

    The SQL is written once for every field; a leaf no valid shape has (not in
    ``paths``) becomes a NULL constant, which DuckDB folds away; a leaf that only some
    lines have is NULL in the others, as ``json_extract`` gives it. ``ok`` is a column,
    not a WHERE: a filter would be pushed down and inline every expression it uses,
    computing each several times."""
    present = {_f(path) for path in paths}
    wanted = ", ".join(f"'$.{path}'" for path in paths)
    extracted = (
        f"SELECT line, json_extract(text, [{wanted}]) AS f "
        f"FROM {lines} JOIN {candidates} USING (line) WHERE list_contains($1, shape)"
    )
    leaves = ", ".join(f"f[{index}] AS {_f(path)}" for index, path in enumerate(paths, 1))
    checks = " AND ".join(f"({check})" for check in _checks())
    columns = ", ".join(f"{sql} AS {name}" for name, sql in _columns().items())
    body = (
        f"SELECT line, CAST(NULL AS VARCHAR) AS id, {columns}, ({checks}) AS ok "
        f"FROM ({_values_sql('leaves_')})"
    )
    body = _LEAF.sub(lambda m: m.group(0) if m.group(0) in present else "(NULL::VARCHAR)", body)
    return body.replace("FROM leaves_", f"FROM (SELECT line, {leaves} FROM ({extracted}))")


def _values_sql(source: str) -> str:
    """Layer 2: each leaf decoded once (strings, numbers, the date's parts, CES scale)."""
    strings = {
        "person_id": "person_id",
        "touchpoint": "touchpoint",
        "topic": "topic",
        "verbatim": "verbatim",
        "provenance.source_system": "source_system",
        "provenance.source_record_id": "source_record_id",
        "provenance.analyzer": "analyzer",
        "provenance.analyzer_version": "analyzer_version",
    }
    numbers = {
        "valence": _number("valence"),
        "arousal": _number("arousal"),
        "confidence": _number("confidence"),
        "nps_value": _digit_or_ten("nps.value"),
        "csat_value": _number("csat.value"),
        "csat_min": f"CASE WHEN {_f('csat.scale_min')} IS NULL THEN 1 "
        f"ELSE {_integer('csat.scale_min')} END",
        "csat_max": f"CASE WHEN {_f('csat.scale_max')} IS NULL THEN 5 "
        f"ELSE {_integer('csat.scale_max')} END",
        "ces_value": _number("ces.value"),
        **{f"e_{key}": _number(f"emotions.{key}") for key in EMOTION_KEYS},
    }
    version = _f("ces.version")
    # A version alone stands for its scale and direction; without one, all three are given.
    ces_scale = (
        f"CASE WHEN {version} IS NULL THEN "
        f"CASE WHEN {_f('ces.direction')} IN ('\"effort\"', '\"ease\"') THEN "
        f"struct_pack(lo := {_integer('ces.scale_min')}, hi := {_integer('ces.scale_max')}, "
        f"dir := {_f('ces.direction')}[2:-2], ver := NULL::VARCHAR) END "
        f"WHEN {version} = '\"1.0\"' THEN "
        "struct_pack(lo := 1, hi := 5, dir := 'effort', ver := '1.0') "
        f"WHEN {version} = '\"2.0\"' THEN "
        "struct_pack(lo := 1, hi := 7, dir := 'ease', ver := '2.0') END"
    )
    columns = [
        "*",
        *(f"{_string(path)} AS {name}" for path, name in strings.items()),
        *(f"{sql} AS v_{name}" for name, sql in numbers.items()),
        f"{ces_scale} AS ces",
        *_moment(),
    ]
    return f"SELECT {', '.join(columns)} FROM {source}"


def _moment() -> list[str]:
    """``occurred_at`` read from its JSON text: only the plain ISO 8601 form
    ``YYYY-MM-DDTHH:MM:SS[.f]`` with ``Z`` or ``±HH:MM`` is read (``plain_date``), as one
    cast to an instant (``instant``, NULL for a date not in the calendar), and whether its
    offset is zero (``utc``: pydantic writes it ``Z``).

    The pattern fixes every position, so the year is compared as text and the offset
    read from the last characters: one cast instead of one per part."""
    text = _f("occurred_at")
    return [
        f"regexp_full_match({text}, {_DATE_RE}) AS plain_date",
        f"epoch_us(TRY_CAST(substr({text}, 2, strlen({text}) - 2) AS TIMESTAMPTZ)) AS instant",
        f"(ends_with({text}, 'Z\"') OR ends_with({text}, '00:00\"')) AS utc",
    ]


def _checks() -> list[str]:
    """Every condition a staged line meets: where pydantic would accept it as is."""
    channels = ", ".join(f"'\"{channel.value}\"'" for channel in Channel)
    emotions = " AND ".join(
        f"({_f(f'emotions.{key}')} IS NULL OR v_e_{key} BETWEEN 0 AND 1)" for key in EMOTION_KEYS
    )
    flags = " AND ".join(
        f"coalesce({_f(f'flags.{key}')} IN ('true', 'false'), true)" for key in _NESTED["flags"]
    )
    kinds = "('\"relational\"', '\"transactional\"')"
    return [
        f"{_f('type')} = '\"perception\"'",
        f"person_id IS NOT NULL AND regexp_full_match(person_id, {_PERSON_RE})",
        f"{_f('channel')} IN ({channels})",
        # a real calendar date, written back as read, in a plausible range
        "plain_date AND instant BETWEEN $2 AND $3 "
        f"AND substr({_f('occurred_at')}, 2, 4) BETWEEN '0002' AND '9998'",
        _or_absent("touchpoint", f"regexp_full_match(touchpoint, {_TOPIC_RE})"),
        _or_absent("topic", f"regexp_full_match(topic, {_TOPIC_RE})"),
        f"coalesce({_f('public')} IN ('true', 'false'), true)",
        _or_absent(
            "nps",
            f"{_object('nps')} AND v_nps_value BETWEEN 0 AND 10 "
            f"AND coalesce({_f('nps.kind')} IN {kinds}, true)",
        ),
        _or_absent(
            "csat",
            f"{_object('csat')} AND v_csat_max > v_csat_min "
            f"AND v_csat_min >= -{SCALE_LIMIT} AND v_csat_max <= {SCALE_LIMIT} "
            "AND v_csat_value BETWEEN v_csat_min AND v_csat_max",
        ),
        _or_absent(
            "ces",
            f"{_object('ces')} AND ces.hi > ces.lo "
            f"AND ces.lo >= -{SCALE_LIMIT} AND ces.hi <= {SCALE_LIMIT} "
            "AND v_ces_value BETWEEN ces.lo AND ces.hi",
        ),
        _or_absent("valence", "v_valence BETWEEN -1 AND 1"),
        _or_absent("arousal", "v_arousal BETWEEN 0 AND 1"),
        _or_absent("confidence", "v_confidence BETWEEN 0 AND 1"),
        f"({_f('emotions')} IS NULL OR ({_object('emotions')} AND {emotions}))",
        f"({_f('flags')} IS NULL OR ({_object('flags')} AND {flags}))",
        _or_absent(
            "verbatim", f"verbatim IS NOT NULL AND {_clean('verbatim', VERBATIM_MAX_CHARS)}"
        ),
        _object("provenance"),
        f"source_system IS NOT NULL AND {_clean('source_system', 80)}",
        f"source_record_id IS NOT NULL AND {_clean('source_record_id', 200)}",
        _or_absent("provenance.analyzer", f"analyzer IS NOT NULL AND {_clean('analyzer', 80)}"),
        _or_absent(
            "provenance.analyzer_version",
            f"analyzer_version IS NOT NULL AND {_clean('analyzer_version', 40)}",
        ),
        # a perception needs a score, a valence or a verbatim
        f"NOT ({_absent('nps')} AND {_absent('csat')} AND {_absent('ces')} "
        f"AND {_absent('valence')} AND {_absent('verbatim')})",
    ]


def _columns() -> dict[str, str]:
    """The expression of each staged column but ``id`` (taken by position).

    A leaf that is absent or null decodes to NULL (no cast or string test takes
    ``null``), so only a value with a default (NPS kind, CSAT scale) tests for absence."""
    text = _f("occurred_at")
    occurred_at = (
        f"substr({text}, 2, 19) || CASE WHEN {_MICRO} = 0 THEN '' "
        f"ELSE '.' || lpad(CAST({_MICRO} AS VARCHAR), 6, '0') END "
        f"|| CASE WHEN utc THEN 'Z' ELSE substr({text}, strlen({text}) - 6, 6) END"
    )
    values = [
        "person_id",
        f"{occurred_at}",
        "instant",
        f"substr({_f('channel')}, 2, strlen({_f('channel')}) - 2)",  # ASCII when staged
        "touchpoint",
        "topic",
        f"coalesce({_f('public')} = 'true', false)",
        "v_nps_value",
        f"{_unless_absent('nps', _NPS_KIND)}",
        "v_csat_value",
        f"{_unless_absent('csat', 'v_csat_min')}",
        f"{_unless_absent('csat', 'v_csat_max')}",
        "v_ces_value",
        "ces.ver",
        "ces.lo",
        "ces.hi",
        "ces.dir",
        "v_valence",
        "v_arousal",
        # -0.0 is 0.0 (the model's rule for an intensity)
        *(f"CASE WHEN v_e_{key} <> 0 THEN v_e_{key} ELSE 0.0 END " for key in EMOTION_KEYS),
        *(f"coalesce({_f(f'flags.{key}')} = 'true', false) " for key in _NESTED["flags"]),
        "verbatim",
        "v_confidence",
        "source_system",
        "source_record_id",
        "analyzer",
        "analyzer_version",
    ]
    return dict(zip([name for name, _ in STAGED_COLUMNS[1:]], values, strict=True))
