"""The two perception layouts give every reader the same answers on the same data."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from relcrm.store import Store
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _two_stores(tmp_path: Path) -> tuple[Store, Store]:
    sample = generate_sample(persons=80, seed=11, now=NOW)
    table = Store.open(f"sqlite:///{tmp_path / 'table.db'}")
    segments = Store.open(f"sqlite:///{tmp_path / 'segments.db'}")
    segments.use_perception_segments()
    for store in (table, segments):
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
    return table, segments


def test_the_report_reads_the_same_figures(tmp_path: Path) -> None:
    table, segments = _two_stores(tmp_path)
    with table, segments:
        assert segments.perception_layout == "segments"
        for since, until in ((None, None), (NOW - timedelta(days=60), NOW - timedelta(days=5))):
            left, left_answers = table.perception_figures(since=since, until=until)
            right, right_answers = segments.perception_figures(since=since, until=until)
            assert [c.channel for c in left] == [c.channel for c in right]
            for a, b in zip(left, right, strict=True):
                assert (a.perceptions, a.valence_count) == (b.perceptions, b.valence_count)
                assert math.isclose(a.valence_sum, b.valence_sum, abs_tol=1e-9)
                for key, value in a.emotion_sums.items():
                    assert math.isclose(value, b.emotion_sums[key], abs_tol=1e-9)
            assert left_answers == right_answers
        ids = [p.id for p, _ in table.iter_person_perceptions()][::7]
        assert table.perceptions_of_persons(ids) == segments.perceptions_of_persons(ids)


def test_iteration_and_ranges_are_the_same(tmp_path: Path) -> None:
    table, segments = _two_stores(tmp_path)
    with table, segments:
        assert table.count_perceptions() == segments.count_perceptions() > 0
        assert list(table.iter_person_perceptions(batch_size=7)) == list(
            segments.iter_person_perceptions(batch_size=7)
        )
        for after, until in segments.person_id_ranges(3):
            assert list(table.iter_person_perceptions(after=after, until=until)) == list(
                segments.iter_person_perceptions(after=after, until=until)
            )
        people, said = table.persons_and_perceptions_json()
        people_too, said_too = segments.persons_and_perceptions_json()
        assert people == people_too
        assert sorted(said) == sorted(said_too)


def test_spark_gets_the_same_inputs_from_segments_as_from_the_table(tmp_path: Path) -> None:
    import duckdb

    from relcrm.profile.columnar.spark import write_parquet_inputs, write_segment_inputs

    table, segments = _two_stores(tmp_path)
    with table, segments:
        people, said = table.persons_and_perceptions_json()
        from_table = write_parquet_inputs(people, said, tmp_path / "from-table")
        assert segments.perception_segments is not None
        from_segments = write_segment_inputs(
            people, segments.perception_segments.scan(), tmp_path / "from-segments"
        )
    connection = duckdb.connect()
    for name in ("persons", "perceptions"):
        left = connection.execute(
            f"SELECT * FROM read_parquet('{getattr(from_table, name)}') ORDER BY ALL"
        )
        columns = [d[0] for d in left.description]
        rows = left.fetchall()
        right = connection.execute(
            f"SELECT {', '.join(columns)} FROM read_parquet('{getattr(from_segments, name)}') "
            "ORDER BY ALL"
        ).fetchall()
        assert rows and rows == right
