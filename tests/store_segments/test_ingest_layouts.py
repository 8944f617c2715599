"""The columnar ingest (a segments store) gives the table layout's report and records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relcrm.models import Person
from relcrm.store import Store
from relcrm.sync import IngestReport, ingest_columnar, ingest_interchange
from relcrm.sync.forget import forget
from tests.helpers import nps, person, text
from tests.postgres import SERVER_URL, fresh_database
from tests.sync.test_ingest_parallel import _line, _messy_lines, _summary, _write

ANALYZER = "relcrm-linear"
ERASED = datetime(2026, 12, 1, tzinfo=UTC)


def _ingest(url: str, source: Path, *, segments: bool, **options: Any) -> list[IngestReport]:
    with Store.open(url) as store:
        if segments:
            store.use_perception_segments()
        return [ingest_interchange(source, store, **options) for _ in range(2)]


def _stored(url: str) -> tuple[list[Any], list[Any], list[Any]]:
    with Store.open(url) as store:
        pairs = list(store.iter_person_perceptions())
        people = [p.model_dump() for p, _ in pairs]
        said = [[x.model_dump() for x in xs] for _, xs in pairs]
        preferences = [store.preferences_of(p.id) for p, _ in pairs]
    return people, said, preferences


def _both(tmp_path: Path, source: Path, **options: Any) -> None:
    table_url = f"sqlite:///{tmp_path / 'table.db'}"
    segments_url = f"sqlite:///{tmp_path / 'segments.db'}"
    table = _ingest(table_url, source, segments=False, **options)
    columns = _ingest(segments_url, source, segments=True, **options)
    for left, right in zip(table, columns, strict=True):
        ordered = _summary(left, ordered=False)
        assert _summary(right, ordered=False) == ordered
        assert (left.redactions, left.analyzed, left.forgotten) == (
            right.redactions,
            right.analyzed,
            right.forgotten,
        )
    assert _stored(table_url) == _stored(segments_url)


@pytest.mark.parametrize("chunk_lines", [3, 50_000])
def test_the_messy_file_gives_the_same_report_and_records(tmp_path: Path, chunk_lines: int) -> None:
    source = _write(tmp_path / "messy.jsonl", _messy_lines(), bom=True, extra=b"\xff\xfe oops\n")
    _both(tmp_path, source, chunk_lines=chunk_lines)


def _perception_line(record: str, extra: str) -> str:
    return (
        '{"type":"perception","person_id":"p1","occurred_at":"2026-01-02T03:04:05Z",'
        f'"channel":"survey",{extra}"provenance":{{"source_system":"s",'
        f'"source_record_id":"{record}"}}}}'
    )


@pytest.mark.parametrize("chunk_lines", [2, 50_000])
def test_lines_a_fuzzer_found_give_the_same_report_and_records(
    tmp_path: Path, chunk_lines: int
) -> None:
    """Lines on which the layouts once differed: a trailing comma before a tab or CR
    (DuckDB reads it, pydantic does not), a CSAT or CES scale end beyond 32 bits (the
    segments' column; it stopped the whole ingest), an emotion of -0.0 (the table kept
    0.0), a CES version that is a list (a TypeError in both)."""
    lines = [
        '{"type":"person","id":"p1"}',
        _perception_line("comma-tab", '"nps":{"value":7},')[:-1] + ",\t}",
        _perception_line("comma-cr", '"nps":{"value":7,\r},'),
        _perception_line("huge-csat", '"csat":{"value":1,"scale_min":0,"scale_max":3000000000},'),
        _perception_line(
            "huge-ces",
            '"ces":{"value":1,"scale_min":1,"scale_max":99999999999999999999,"direction":"ease"},',
        ),
        _perception_line(
            "wide-csat", '"csat":{"value":1,"scale_min":-1000000,"scale_max":1000000},'
        ),
        _perception_line("zero", '"nps":{"value":7},"emotions":{"joy":-0.0,"fear":0.5},'),
        _perception_line("ces-list", '"ces":{"value":1,"version":[]},'),
        _perception_line("fine", '"nps":{"value":9},'),
    ]
    source = _write(tmp_path / "found.jsonl", lines)
    _both(tmp_path, source, chunk_lines=chunk_lines)
    with Store.open(f"sqlite:///{tmp_path / 'segments.db'}") as store:
        said = {
            p.provenance.source_record_id: p
            for _, perceptions in store.iter_person_perceptions()
            for p in perceptions
        }
    assert sorted(said) == ["fine", "wide-csat", "zero"]
    assert str(said["zero"].emotions.joy) == "0.0"


def test_verbatims_are_redacted_and_analysed_the_same(tmp_path: Path) -> None:
    lines = [_line(person(f"v{n}")) for n in range(4)]
    said = [
        "Call me on +44 7700 900123 or write to ann@example.com, nobody answers.",
        "Charged twice again and nobody answers.",
        "Thanks, that fixed it quickly.",
    ]
    for number in range(24):
        record = text(
            1 + number % 20, 0.0, {}, person_id=f"v{number % 4}", record=f"t{number}"
        ).model_copy(update={"verbatim": said[number % 3], "valence": None, "confidence": None})
        lines.append(_line(record))
    lines.append(_line(nps(2, 7, person_id="v1", record="n1")))
    source = _write(tmp_path / "verbatims.jsonl", lines)
    _both(tmp_path, source, analyzer=ANALYZER)


def test_forgotten_persons_stay_forgotten(tmp_path: Path) -> None:
    lines = [_line(person("gone")), _line(person("kept"))]
    lines += [_line(nps(day, 3, person_id="gone", record=f"g{day}")) for day in range(1, 4)]
    lines += [_line(nps(day, 9, person_id="kept", record=f"k{day}")) for day in range(1, 4)]
    source = _write(tmp_path / "people.jsonl", lines)
    urls = {}
    for name, segments in (("table", False), ("segments", True)):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        with Store.open(url) as store:
            if segments:
                store.use_perception_segments()
            ingest_interchange(source, store)
            forget(store, "person_id", "gone", store_only=True, now=ERASED)
            again = ingest_interchange(source, store)
            assert again.forgotten == 4
            assert store.count_perceptions() == 3
            assert store.get_person("gone") is None
        urls[name] = (url, _summary(again, ordered=False))
    assert urls["table"][1] == urls["segments"][1]
    assert _stored(urls["table"][0]) == _stored(urls["segments"][0])


def test_the_benchmark_lines_take_the_columnar_path(tmp_path: Path) -> None:
    lines = [_line(Person(id="b1"))]
    lines += [_line(nps(day, day % 11, person_id="b1", record=f"b{day}")) for day in range(1, 28)]
    source = _write(tmp_path / "bench.jsonl", lines)
    url = f"sqlite:///{tmp_path / 'seg.db'}"
    with Store.open(url) as store:
        store.use_perception_segments()
        report = ingest_interchange(source, store)
        assert report.perceptions_new == 27
        segments = store.perception_segments
        assert segments is not None
        assert len(segments.manifest().segments) == 1  # one append for the whole file


@pytest.mark.skipif(not SERVER_URL, reason="needs RELCRM_TEST_POSTGRES_URL")
def test_a_postgresql_store_with_segments_ingests_as_sqlite_does(tmp_path: Path) -> None:
    source = _write(tmp_path / "messy.jsonl", _messy_lines(), bom=True, extra=b"\xff\xfe oops\n")
    table_url = f"sqlite:///{tmp_path / 'table.db'}"
    expected = _ingest(table_url, source, segments=False)
    with fresh_database() as url:
        with Store.open(url) as store:
            store.use_perception_segments(tmp_path / "shared-segments")
            got = [ingest_interchange(source, store) for _ in range(2)]
        for left, right in zip(expected, got, strict=True):
            assert _summary(right, ordered=False) == _summary(left, ordered=False)
        assert _stored(url) == _stored(table_url)


def test_appends_in_a_second_thread_keep_the_table_layouts_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append every few perceptions: each runs in the writer's second thread while
    later chunks are staged, after the one before it (the first line of an id wins across
    appends, as across the table's transactions)."""
    monkeypatch.setattr(ingest_columnar, "SEGMENT_FLUSH_ROWS", 3)
    source = _write(tmp_path / "messy.jsonl", _messy_lines())
    _both(tmp_path, source, chunk_lines=4)
    with Store.open(f"sqlite:///{tmp_path / 'segments.db'}") as store:
        segments = store.perception_segments
        assert segments is not None
        assert len(segments.manifest().segments) > 2
