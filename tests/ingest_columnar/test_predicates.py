"""The staging's cheap predicates against the Python they stand for, on any input.

Each replaces something slower with a test of fewer characters (the first and last of a
value, a substring before a pattern, DuckDB's UTF-8 check instead of Python's): a
difference on one odd string would stage a line pydantic refuses, or the other way round.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.sources import interchange_columnar as columnar
from tests.ingest_columnar.conftest import DATES, duckdb

_CONNECTION = duckdb.connect()
"""One connection for every example (a new one each time would cost most of the test)."""

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

edges = st.sampled_from([*columnar.PYTHON_SPACES, "a", "é", "\u200b", "\x00", "😀", "\u0301"])
values = st.builds(
    lambda head, body, tail: head + body + tail,
    st.one_of(st.just(""), edges),
    st.text(max_size=12),
    st.one_of(st.just(""), edges),
)


@SETTINGS
@given(texts=st.lists(values, min_size=1, max_size=20), limit=st.integers(1, 12))
def test_a_clean_value_is_one_that_strip_leaves_alone(texts: list[str], limit: int) -> None:
    got = _column(columnar._clean("v", limit), texts)
    assert got == [1 <= len(t.encode()) <= limit and t == t.strip() for t in texts]


commas = st.text(alphabet=',} ]{[\t\r\n"a', max_size=12)


@SETTINGS
@given(texts=st.lists(commas, min_size=1, max_size=20))
def test_the_trailing_comma_test_is_the_pattern(texts: list[str]) -> None:
    got = _column(columnar._TRAILING_COMMA, texts, name="text")
    assert got == [re.search(r",[ \t\r\n]*[}\]]", t) is not None for t in texts]


json_ish = st.lists(
    st.sampled_from(["{", "}", "[", "]", ",", ":", '"a"', "1", " ", "\t", "\r", "\n"]),
    max_size=14,
).map("".join)


@SETTINGS
@given(texts=st.lists(json_ish, min_size=1, max_size=20))
def test_what_duckdb_reads_and_python_does_not_has_a_trailing_comma(texts: list[str]) -> None:
    """DuckDB's JSON reader takes a comma before a closing bracket, with any JSON white
    space between (a tab or CR once slipped past a spaces-only pattern); pydantic's
    refuses it. The pattern must catch every such text."""
    readable = _column("json_valid(text)", texts, name="text")
    flagged = _column(columnar._TRAILING_COMMA, texts, name="text")
    for text, duckdb_reads, caught in zip(texts, readable, flagged, strict=True):
        if duckdb_reads and not caught:
            json.loads(text)  # raises if Python refuses what DuckDB read


utf8ish = st.lists(
    st.one_of(
        st.binary(max_size=6),
        st.text(max_size=4).map(str.encode),
        st.sampled_from([b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xef\xbf\xbf"]),
    ),
    max_size=4,
).map(b"".join)


@SETTINGS
@given(raws=st.lists(utf8ish, min_size=1, max_size=20))
def test_a_line_is_read_as_python_reads_it(raws: list[bytes]) -> None:
    """DuckDB's UTF-8 check refuses exactly what Python's does (a refused line is not a
    candidate); what it accepts reads as the same text."""
    lines = [b'{"type":"perception"' + raw + b"\n" for raw in raws]
    chunk = {
        "line": numpy.arange(len(lines), dtype=numpy.int64),
        "raw": numpy.array(lines, dtype=object),
    }
    _CONNECTION.register("chunk", chunk)
    try:
        found = dict(_CONNECTION.execute(columnar._lines_sql("chunk")).fetchall())
    finally:
        _CONNECTION.unregister("chunk")
    expected = {}
    for number, raw in enumerate(lines):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if "\\u" not in text:
            expected[number] = text
    assert found == expected


def _column(expression: str, texts: list[str], name: str = "v") -> list[Any]:
    """``expression`` over ``texts`` as the column ``name``, in order."""
    _CONNECTION.execute(
        f"CREATE OR REPLACE TEMP TABLE t AS SELECT {name}, n FROM unnest(?::VARCHAR[]) "
        f"WITH ORDINALITY AS u({name}, n)",
        [texts],
    )
    rows = _CONNECTION.execute(f"SELECT {expression} FROM t ORDER BY n").fetchall()
    return [value for (value,) in rows]


def test_a_raw_line_holding_a_line_feed_is_left_to_the_per_line_path() -> None:
    """Never from ``raw_chunks``, but a chunk that holds one does not stage it."""
    line = (
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-01T10:00:00Z",'
        '"channel":"chat","valence":0.5,"provenance":{"source_system":"s","source_record_id":"%s"}}'
    )
    raws: list[bytes | None] = [
        ((line % "1").replace(",", ",\n", 1) + "\n").encode(),  # JSON, but two lines
        (line % "3" + "\n").encode(),
        (line % "4").encode(),
    ]
    staged = columnar.stage_perceptions(_CONNECTION, 7, raws, "staged_lf", dates=DATES)
    lines = _CONNECTION.execute("SELECT line FROM staged_lf ORDER BY line").fetchall()
    assert (staged.rows, lines, staged.other_lines) == (2, [(8,), (9,)], [7])
