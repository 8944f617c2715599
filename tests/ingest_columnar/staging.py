"""Staging a chunk and checking it against the per-line path, line by line."""

from __future__ import annotations

from typing import Any

from relcrm.models import Perception
from relcrm.sources.dates import DateRange
from relcrm.sources.interchange import (
    InterchangeItem,
    LineRejection,
    decode_line,
    parse_interchange_line,
)
from relcrm.sources.interchange_columnar import Staged, stage_perceptions
from relcrm.store.segments.columns import segment_row
from tests.ingest_columnar.lines import same_values


def per_line(first: int, raws: list[bytes | None], dates: DateRange) -> dict[int, object]:
    """What the per-line path makes of each non-blank line: a Perception, another
    record, or a rejection (as ``parse_chunk`` reads the chunk)."""
    result: dict[int, object] = {}
    for number, raw in enumerate(raws, start=first):
        if raw is None:
            result[number] = "too long"
            continue
        text = decode_line(raw, number)
        if isinstance(text, LineRejection):
            result[number] = text
            continue
        item = parse_interchange_line(text, number, dates=dates)
        if item is None:
            continue
        result[number] = item.record if isinstance(item, InterchangeItem) else item
    return result


def staged_rows(connection: Any, table: str) -> dict[int, tuple[Any, ...]]:
    rows = connection.execute(f"SELECT * FROM {table} ORDER BY line").fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def check_chunk(
    connection: Any, first: int, raws: list[bytes | None], dates: DateRange
) -> tuple[Staged, dict[int, tuple[Any, ...]]]:
    """Stage the chunk and assert the invariant: each staged row is exactly what pydantic
    stores for its line; every non-blank line is staged or handed back, once."""
    staged = stage_perceptions(connection, first, raws, "staged", dates=dates)
    rows = staged_rows(connection, "staged")
    expected = per_line(first, raws, dates)
    assert staged.rows == len(rows)
    assert staged.other_lines == sorted(staged.other_lines)
    assert len(set(staged.other_lines)) == len(staged.other_lines)
    assert not set(rows) & set(staged.other_lines)
    assert set(rows) | set(staged.other_lines) == set(expected), (
        sorted(set(rows) | set(staged.other_lines)),
        sorted(expected),
    )
    for line, row in rows.items():
        record = expected[line]
        assert isinstance(record, Perception), (line, raws[line - first], record)
        want = segment_row(record)
        assert same_values(row, want), (raws[line - first], row, want)
    return staged, rows
