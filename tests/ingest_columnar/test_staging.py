"""stage_perceptions: a staged row is exactly what the per-line path stores, always."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.sources.dates import DateRange
from relcrm.sources.interchange_columnar import PYTHON_SPACES, STAGED_COLUMNS
from relcrm.store.segments.columns import SEGMENT_COLUMNS
from tests.ingest_columnar.conftest import DATES, duckdb
from tests.ingest_columnar.lines import (
    BENCH_BODIES,
    PERSON_LINE,
    PREFERENCE_LINE,
    bench_lines,
    perception_lines,
    raw_chunks,
)
from tests.ingest_columnar.staging import check_chunk

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_staged_table_has_the_segment_layout(connection: Any) -> None:
    assert STAGED_COLUMNS == SEGMENT_COLUMNS
    check_chunk(connection, 1, [PERSON_LINE.encode()], DATES)
    described = connection.execute("DESCRIBE staged").fetchall()
    assert [(name, kind) for name, kind, *_ in described] == [
        ("line", "BIGINT"),
        *SEGMENT_COLUMNS,
    ]


@SETTINGS
@given(chunk=raw_chunks(), first=st.integers(1, 10_000_000))
def test_any_chunk_is_staged_exactly_as_parsed(chunk: list[bytes | None], first: int) -> None:
    with duckdb.connect() as connection:
        check_chunk(connection, first, chunk, DATES)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(perception_lines(), min_size=1, max_size=40))
def test_perception_lines_are_staged_exactly_as_parsed(lines: list[str]) -> None:
    with duckdb.connect() as connection:
        check_chunk(connection, 1, [(line + "\n").encode() for line in lines], DATES)


def test_the_benchmark_lines_are_all_staged(connection: Any) -> None:
    lines = bench_lines(40)
    raws = [(line + "\n").encode() for line in lines]
    staged, rows = check_chunk(connection, 1, raws, DATES)
    perceptions = [n for n, line in enumerate(lines, 1) if '"type":"perception"' in line]
    assert sorted(rows) == perceptions
    assert staged.other_lines == [n for n, line in enumerate(lines, 1) if n not in rows]
    assert len(perceptions) == 360 and len(BENCH_BODIES) <= 360


def test_common_variants_of_the_common_shapes_are_staged(connection: Any) -> None:
    """Not only the benchmark's bytes: what write_interchange writes, spaces after
    separators, keys in any order, offsets, fractions, explicit CES scales."""
    lines = [
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-01T10:00:00.5+00:00",'
        '"channel":"chat","valence":-0.0,"provenance":{"source_system":"s","source_record_id":"1"}}',
        '{"person_id": "p1", "type": "perception", "occurred_at": "2026-01-01T10:00:00-05:30", '
        '"channel": "call", "ces": {"value": 6, "scale_min": 1, "scale_max": 7, '
        '"direction": "effort"}, "provenance": {"source_record_id": "2", "source_system": "s"}}',
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-01T10:00:00.000001Z",'
        '"channel":"web","csat":{"value":9.5,"scale_min":0,"scale_max":10},'
        '"nps":{"value":10,"kind":"relational"},"verbatim":"Caf\u00e9 \\"ok\\"\\n fine.",'
        '"provenance":{"source_system":"s","source_record_id":"3","analyzer":"a",'
        '"analyzer_version":"1"},"flags":{"sarcasm":true},"emotions":{"joy":1,"fear":0}}',
    ]
    staged, rows = check_chunk(connection, 5, [(line + "\n").encode() for line in lines], DATES)
    assert sorted(rows) == [5, 6, 7] and staged.other_lines == []


def test_lines_outside_the_date_range_go_to_the_per_line_path(connection: Any) -> None:
    line = (
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-01T00:30:00+01:00",'
        '"channel":"chat","valence":0.5,"provenance":{"source_system":"s","source_record_id":"1"}}'
    )
    raws = [(line + "\n").encode()]
    for earliest, staged_lines in (
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), [1]),  # the instant itself: inclusive
        (datetime(2025, 12, 31, 23, 30, 0, 1, tzinfo=UTC), []),
    ):
        dates = DateRange(earliest=earliest, latest=datetime(2030, 1, 1, tzinfo=UTC))
        _, rows = check_chunk(connection, 1, raws, dates)
        assert sorted(rows) == staged_lines


def test_blank_lines_are_neither_staged_nor_handed_back(connection: Any) -> None:
    raws: list[bytes | None] = [b"\n", b"  \r\n", "\u2003\n".encode(), b"\r\n", None, b"\xff\n"]
    raws += [(PREFERENCE_LINE + "\n").encode()]
    staged, rows = check_chunk(connection, 10, raws, DATES)
    assert rows == {}
    assert staged.other_lines == [14, 15, 16]


def test_the_edge_spaces_are_those_python_strips() -> None:
    every = {chr(code) for code in range(0x110000) if chr(code).isspace()}
    assert set(PYTHON_SPACES) == every


def test_a_chunk_without_perceptions_stages_nothing(connection: Any) -> None:
    raws: list[bytes | None] = [(PERSON_LINE + "\r\n").encode(), b"\n", b"{}"]
    staged, rows = check_chunk(connection, 3, raws, DATES)
    assert rows == {} and staged.other_lines == [3, 5]


def test_an_empty_chunk_stages_nothing(connection: Any) -> None:
    staged, rows = check_chunk(connection, 7, [], DATES)
    assert rows == {} and staged.other_lines == [] and staged.rows == 0


def test_a_provenance_value_with_escapes_keeps_its_id(connection: Any) -> None:
    """An escaped newline or quote inside a record id is staged, and hashed as decoded."""
    line = (
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-01T10:00:00Z",'
        '"channel":"chat","valence":0.5,"provenance":{"source_system":"s\\"x",'
        '"source_record_id":"a\\nb\\\\c\\td"}}'
    )
    _, rows = check_chunk(connection, 1, [(line + "\n").encode()], DATES)
    assert sorted(rows) == [1]


def test_staging_again_replaces_the_table_and_leaves_no_helper_table(connection: Any) -> None:
    """The staged table is rebuilt for each chunk (its rows in no particular order: the
    caller orders by line); the candidates table is dropped, even when nothing is staged."""
    lines = bench_lines(3)
    raws = [(line + "\n").encode() for line in lines]
    _, first = check_chunk(connection, 1, raws, DATES)
    _, second = check_chunk(connection, 100, [*raws[:5], b"not json\n"], DATES)
    assert len(first) == 27 and sorted(second) == [101, 102, 103, 104]
    _, third = check_chunk(connection, 1, [PERSON_LINE.encode()], DATES)
    assert third == {}
    tables = connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    assert tables == [("staged",)]
