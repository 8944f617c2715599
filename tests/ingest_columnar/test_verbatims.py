"""Redaction and analysis of a staged table equal the per-line path, counts included."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.analyze import DEFAULT, DEFAULT_ANALYZER, RedactionConfig
from relcrm.models import Perception
from relcrm.sources.interchange import DEFAULT_MAX_LINE_BYTES
from relcrm.store.segments.columns import segment_row
from relcrm.sync.analysis import analyzer_for, text_to_analyze, with_analysis
from relcrm.sync.ingest_chunks import _redacted, parse_chunk
from relcrm.sync.ingest_verbatims import analyse_staged, redact_staged
from tests.ingest_columnar.conftest import DATES, duckdb
from tests.ingest_columnar.lines import bench_lines, same_values
from tests.ingest_columnar.staging import check_chunk, per_line, staged_rows

VERBATIMS = [
    "Charged twice again and nobody answers.",
    "Mail me at jo@example.com or call +1 415 555 0100, jo@example.com again",
    "Card 4111 1111 1111 1111 was charged, IBAN GB82 WEST 1234 5698 7654 32.",
    "Reset link https://example.com/reset?token=abcdef0123456789abcdef",
    "Great, another outage. Love this service.",
    "Thanks, that fixed it quickly. ann@example.org",
    "Café fermé, très déçu 😞",
]


def _line(number: int, verbatim: str, extra: str) -> str:
    escaped = verbatim.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'{{"type":"perception","person_id":"p{number % 7}","occurred_at":'
        f'"2026-03-0{1 + number % 9}T10:00:00Z","channel":"support","verbatim":"{escaped}"'
        f'{extra},"provenance":{{"source_system":"s","source_record_id":"r{number}"}}}}'
    )


extras = st.sampled_from(
    [
        "",
        "",
        ',"valence":-0.5',
        ',"arousal":0.9',
        ',"arousal":0.0,"flags":{"trapped":true}',
        ',"emotions":{"joy":1.0},"confidence":0.2',
        ',"provenance_note":1',  # not staged: the per-line path rejects it
    ]
)


def expected_rows(
    first: int, raws: list[bytes | None], config: RedactionConfig, analyzer: str | None
) -> dict[int, tuple[Any, ...]]:
    """Each perception line as parse_chunk turns it: redacted, then analysed."""
    rows: dict[int, tuple[Any, ...]] = {}
    for line, record in per_line(first, raws, DATES).items():
        if not isinstance(record, Perception):
            continue
        perception = _redacted(record, {}, config)
        if analyzer is not None and (text := text_to_analyze(perception)) is not None:
            perception = with_analysis(perception, analyzer_for(analyzer)(text))
        rows[line] = segment_row(perception)
    return rows


def check(raws: list[bytes | None], config: RedactionConfig, analyzer: str | None) -> None:
    with duckdb.connect() as connection:
        staged, _ = check_chunk(connection, 1, raws, DATES)
        counts = redact_staged(connection, "staged", config)
        analysed = analyse_staged(connection, "staged", analyzer) if analyzer else []
        rows = staged_rows(connection, "staged")
    want = expected_rows(1, raws, config, analyzer)
    for line, row in rows.items():
        assert same_values(row, want[line]), (line, row, want[line])
    # the per-line path itself, on the staged lines only
    per_line_path = parse_chunk(
        (1, [raw if n in rows else b"\n" for n, raw in enumerate(raws, 1)]),
        DEFAULT_MAX_LINE_BYTES,
        "segment",
        config,
        analyzer,
    )
    assert counts == per_line_path.redactions
    assert analysed == per_line_path.analyzed_lines
    assert sorted(rows) == per_line_path.perception_lines
    assert staged.rows == len(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.tuples(st.integers(0, len(VERBATIMS) - 1), extras), min_size=1, max_size=30),
    analyse=st.booleans(),
)
def test_redaction_and_analysis_equal_the_per_line_path(
    picks: list[tuple[int, str]], analyse: bool
) -> None:
    raws: list[bytes | None] = [
        (_line(n, VERBATIMS[pick], extra) + "\n").encode() for n, (pick, extra) in enumerate(picks)
    ]
    check(raws, DEFAULT, DEFAULT_ANALYZER if analyse else None)


def test_redaction_counts_each_perception_not_each_text() -> None:
    raws: list[bytes | None] = [(_line(n, VERBATIMS[1], "") + "\n").encode() for n in range(5)]
    with duckdb.connect() as connection:
        check_chunk(connection, 1, raws, DATES)
        counts = redact_staged(connection, "staged", DEFAULT)
        texts = connection.execute("SELECT DISTINCT verbatim FROM staged").fetchall()
    assert counts == {"email": 10, "phone": 5}
    assert len(texts) == 1 and "@" not in texts[0][0]


def test_a_redaction_config_is_honoured() -> None:
    config = RedactionConfig(emails=False)
    raws: list[bytes | None] = [(_line(n, v, "") + "\n").encode() for n, v in enumerate(VERBATIMS)]
    check(raws, config, DEFAULT_ANALYZER)


def test_the_benchmark_lines_redact_and_analyse_as_the_per_line_path() -> None:
    lines = bench_lines(30)
    # the same bodies without their valence, so the analyzer reads them
    lines += [line.replace('"valence":', '"arousal":') for line in lines if '"valence":-' in line]
    check([(line + "\n").encode() for line in lines], DEFAULT, DEFAULT_ANALYZER)


def test_a_table_without_verbatims_is_left_alone() -> None:
    raws: list[bytes | None] = [line.encode() + b"\n" for line in bench_lines(2)[:3]]
    with duckdb.connect() as connection:
        check_chunk(connection, 1, raws, DATES)
        before = connection.execute("SELECT * FROM staged ORDER BY line").fetchall()
        assert redact_staged(connection, "staged") == {}
        assert analyse_staged(connection, "staged", DEFAULT_ANALYZER) == []
        assert connection.execute("SELECT * FROM staged ORDER BY line").fetchall() == before
