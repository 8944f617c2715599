"""The ingest gives the same store and the same report however it is split: in chunks of
any size, parsed here or in worker processes. Real SQLite files, real processes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import relcrm.sync.ingest as ingest
from relcrm.errors import FieldProblem, InvalidRecordError
from relcrm.models import Perception, Person, Preference
from relcrm.sources.interchange import LineRejection, interchange_line, read_interchange
from relcrm.store import Store
from relcrm.store.store import perception_row, person_row
from relcrm.sync import IngestReport, ingest_interchange
from relcrm.sync.ingest_chunks import parse_chunk, raw_chunks
from tests.helpers import nps, person, text


def _preference(person_id: str, record: str) -> Preference:
    return Preference.model_validate(
        {
            "person_id": person_id,
            "kind": "channel",
            "value": "email",
            "stated_at": "2026-10-01T09:00:00+00:00",
            "provenance": {"source_system": "test", "source_record_id": record},
        }
    )


def _line(record: Person | Perception | Preference) -> str:
    return interchange_line(record)


def _messy_lines() -> list[str]:
    """Every case the ingest distinguishes, spread so that small chunks split them."""
    late = nps(3, 9, person_id="late", record="late-1")
    twin = person("twin").model_copy(update={"emails": ("p1@example.com",)})
    lines = [
        _line(person("p1")),
        _line(nps(1, 10, record="a")),
        _line(text(2, -0.5, {"anger": 0.7}, record="b", verbatim="Charged twice.")),
        "",
        _line(late),  # its person comes later in the file
        '{"type": "perception", "person_id": "p1", "nps": {"value": 11}}',
        "{not json",
        '{"type": "customer", "id": "x"}',
        _line(nps(1, 10, record="a")),  # a duplicate of line 2
        _line(twin),  # p1's email: an identity conflict
        _line(nps(1, 3, person_id="twin", record="t-1")),  # so its person never exists
        _line(nps(1, 3, person_id="ghost", record="g-1")),
        _line(_preference("p1", "pf-1")),
        _line(_preference("ghost", "pf-2")),
        _line(_preference("late", "pf-3")),
    ]
    for number in range(2, 12):
        pid = f"p{number}"
        lines.append(_line(person(pid)))
        lines.extend(_line(nps(day, day % 11, person_id=pid)) for day in range(1, 6))
    lines.append(_line(person("late")))
    lines.append(_line(person("p3", loyalty=0.5)))  # p3 again, changed
    lines.append(_line(nps(1, 10, person_id="late", record="late-2")))
    # The same record again (known by now). Had it other content, which version is kept
    # would depend on whether line 5 waited, as it always has: the first write wins.
    lines.append(_line(late))
    return lines


def _write(path: Path, lines: list[str], *, bom: bool = False, extra: bytes = b"") -> Path:
    data = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    path.write_bytes(data.encode() + extra)
    return path


def _contents(store_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row that an ingest decides (not the time a person was written)."""
    queries = {
        "persons": "SELECT id, data FROM persons ORDER BY id",
        "identities": "SELECT kind, value, person_id FROM identities ORDER BY kind, value",
        "perceptions": "SELECT id, person_id, occurred_at, channel, source_system, data "
        "FROM perceptions ORDER BY id",
        "preferences": "SELECT id, person_id, kind, stated_at, data FROM preferences ORDER BY id",
    }
    connection = sqlite3.connect(store_path)
    try:
        return {name: connection.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        connection.close()


def _summary(report: IngestReport, *, ordered: bool = True) -> dict[str, Any]:
    rejections = [
        (error.message, error.hint, error.problems, error.code) for error in report.rejections
    ]
    return {
        "persons": report.persons,
        "perceptions_new": report.perceptions_new,
        "perceptions_known": report.perceptions_known,
        "preferences": report.preferences,
        "rejections": rejections if ordered else sorted(rejections, key=repr),
    }


def _run(
    tmp_path: Path, name: str, source: Path, **options: Any
) -> tuple[IngestReport, IngestReport, dict[str, list[tuple[Any, ...]]]]:
    """Ingest twice into a fresh store; the reports and the store's rows."""
    database = tmp_path / f"{name}.db"
    with Store.open(f"sqlite:///{database}") as store:
        first = ingest_interchange(source, store, **options)
        second = ingest_interchange(source, store, **options)
    return first, second, _contents(database)


def _reference_ingest(path: Path, store: Store) -> IngestReport:
    """The ingest as it was before it was split into parse and write (one chunk), kept
    here as the yardstick for counts and for which lines are rejected and why."""
    report = IngestReport(source=str(path))
    persons: list[tuple[int, Person]] = []
    linked: list[tuple[int, Perception | Preference]] = []
    for item in read_interchange(path):
        if isinstance(item, LineRejection):
            report.rejections.append(item.error)
        elif isinstance(item.record, Person):
            persons.append((item.line, item.record))
        else:
            linked.append((item.line, item.record))
    lines = {id(record): line for line, record in persons}
    _, rejected = store.upsert_persons_reporting(record for _, record in persons)
    report.persons += len(persons) - len(rejected)
    for record, error in rejected:
        where = f"line {lines[id(record)]} (person {record.id})"
        report.rejections.append(InvalidRecordError(where, error.problems))
    unknown = store.unknown_person_ids({record.person_id for _, record in linked})
    ready = [record for _, record in linked if record.person_id not in unknown]
    perceptions = [r for r in ready if isinstance(r, Perception)]
    new = store.add_perceptions(perceptions)
    report.perceptions_new += new
    report.perceptions_known += len(perceptions) - new
    report.preferences += store.add_preferences([r for r in ready if isinstance(r, Preference)])
    for line, record in linked:
        if record.person_id in unknown:
            name = (
                f"perception {record.id}"
                if isinstance(record, Perception)
                else f"preference {record.kind.value}"
            )
            report.rejections.append(
                InvalidRecordError(
                    f"line {line} ({name})",
                    [
                        FieldProblem(
                            "person_id",
                            "no person with this id in the file or the store",
                            repr(record.person_id),
                        )
                    ],
                    hint="add a person line for it, or fix the id",
                )
            )
    return report


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return _write(tmp_path / "messy.jsonl", _messy_lines(), bom=True, extra=b"\xff\xfe oops\n")


def test_the_messy_file_gives_what_the_old_ingest_gave(tmp_path: Path, messy: Path) -> None:
    report, again, contents = _run(tmp_path, "new", messy, workers=1)
    database = tmp_path / "reference.db"
    with Store.open(f"sqlite:///{database}") as store:
        reference = _reference_ingest(messy, store)
    old = _summary(reference)
    new = _summary(report)
    assert sorted(new.pop("rejections"), key=repr) == sorted(old.pop("rejections"), key=repr)
    assert new == old
    assert contents == _contents(database)
    assert (report.persons, report.perceptions_new, report.perceptions_known) == (13, 54, 2)
    assert report.preferences == 2
    assert again.perceptions_new == 0 and again.preferences == 0
    assert again.perceptions_known == report.perceptions_new + report.perceptions_known


def test_rejections_name_the_line_and_the_field(tmp_path: Path, messy: Path) -> None:
    report, _, _ = _run(tmp_path, "s", messy, workers=1)
    messages = [error.message for error in report.rejections]
    assert any(m.startswith("line 6:") and "nps.value" in m for m in messages)
    assert any(m.startswith("line 7:") and "not valid JSON" in m for m in messages)
    assert any(m.startswith("line 8:") and "type" in m for m in messages)
    assert any(m.startswith("line 10 (person twin)") and "email" in m for m in messages)
    assert any(m.startswith("line 11 (perception") and "person_id" in m for m in messages)
    assert any(m.startswith("line 12 (perception") and "'ghost'" in m for m in messages)
    assert any(m.startswith("line 14 (preference channel)") for m in messages)
    last = len(_messy_lines()) + 1
    assert any(m.startswith(f"line {last}:") and "UTF-8" in m for m in messages)
    assert len(messages) == 8


@pytest.mark.parametrize("chunk_lines", [1, 3, 7, 50_000])
def test_chunk_size_changes_nothing(tmp_path: Path, messy: Path, chunk_lines: int) -> None:
    whole = _run(tmp_path, "whole", messy, workers=1)
    split = _run(tmp_path, f"split{chunk_lines}", messy, workers=1, chunk_lines=chunk_lines)
    # Rejections come per chunk (bad lines, then conflicts), so only their order may differ.
    assert [_summary(r, ordered=False) for r in split[:2]] == [
        _summary(r, ordered=False) for r in whole[:2]
    ]
    assert split[2] == whole[2]


def test_worker_processes_give_the_same_store_and_report(tmp_path: Path, messy: Path) -> None:
    here = _run(tmp_path, "here", messy, workers=1, chunk_lines=4)
    calls: list[int] = []
    pooled = _run(tmp_path, "pooled", messy, workers=2, chunk_lines=4, progress=calls.append)
    assert [_summary(r) for r in pooled[:2]] == [_summary(r) for r in here[:2]]
    assert pooled[2] == here[2]
    assert sum(calls) == 2 * (len(_messy_lines()) - 4)  # valid records, in both runs


def test_a_large_file_uses_workers_by_default_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _messy_lines() * 1  # the bad lines, then many good ones past the size limit
    for number in range(300):
        pid = f"bulk{number:04d}"
        lines.append(_line(person(pid)))
        lines.extend(
            _line(text(day, 0.3, {"joy": 0.5}, person_id=pid, verbatim="x" * 700))
            for day in range(1, 11)
        )
    source = _write(tmp_path / "large.jsonl", lines)
    assert source.stat().st_size > 2 * 1024 * 1024
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 2 * 1024 * 1024)  # not 16 MB of test data
    calls: list[int] = []

    def two_workers() -> int:
        calls.append(2)
        return 2

    monkeypatch.setattr(ingest, "default_ingest_workers", two_workers)
    default = _run(tmp_path, "default", source)
    here = _run(tmp_path, "here", source, workers=1)
    assert [_summary(r) for r in default[:2]] == [_summary(r) for r in here[:2]]
    assert default[2] == here[2]
    assert default[0].perceptions_new == 54 + 3000
    assert calls == [2, 2]  # both ingests of the default run used workers


def test_a_store_error_stops_the_workers(tmp_path: Path, messy: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.close()
        with pytest.raises(Exception, match="closed"):
            ingest_interchange(messy, store, workers=2, chunk_lines=2)


def test_bad_arguments_are_refused(tmp_path: Path, messy: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        with pytest.raises(ValueError, match="workers"):
            ingest_interchange(messy, store, workers=0)
        with pytest.raises(ValueError, match="lines_per_chunk"):
            ingest_interchange(messy, store, workers=1, chunk_lines=0)


def test_rows_are_what_the_store_builds_and_round_trip(tmp_path: Path, messy: Path) -> None:
    parsed = [parse_chunk(chunk, 1 << 20, "sqlite_text") for chunk in raw_chunks(messy, 5, 1 << 20)]
    rows = [row for chunk in parsed for row in chunk.perception_rows]
    lines = [line for chunk in parsed for line in chunk.perception_lines]
    people = [row for chunk in parsed for _, row in chunk.persons]
    assert len(rows) == len(lines) == 58 and len(people) == 14
    for row in rows:
        perception = Perception.model_validate_json(row[5])
        assert perception_row(perception, sqlite_text=True) == row
    for row in people:
        assert person_row(Person.model_validate_json(row.data)) == row


def test_rows_of_an_unknown_person_are_refused_by_the_store(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.upsert_person(person("p1"))
        good = perception_row(nps(1, 9, record="ok"), sqlite_text=True)
        bad = perception_row(nps(1, 9, person_id="nobody", record="x"), sqlite_text=True)
        assert store.add_perception_rows([good]) == 1
        assert store.add_perception_rows([good]) == 0
        with pytest.raises(InvalidRecordError, match="perception pc_") as caught:
            store.add_perception_rows([bad, good])
        assert caught.value.problems[0].field == "person_id"
        assert store.count_perceptions() == 1


def test_person_rows_report_conflicts_like_persons(tmp_path: Path) -> None:
    twin = person("twin").model_copy(update={"emails": ("p1@example.com",)})
    batch = [person("p1"), twin, person("p2")]
    results = []
    for name in ("models", "rows"):
        with Store.open(f"sqlite:///{tmp_path / name}.db") as store:
            if name == "models":
                written, rejected = store.upsert_persons_reporting(batch)
                errors = [(p.id, e.message, e.problems) for p, e in rejected]
            else:
                written, refused = store.upsert_person_rows_reporting(map(person_row, batch))
                errors = [(r.id, e.message, e.problems) for r, e in refused]
            results.append((written, errors, [p.id for p in store.iter_persons()]))
    assert results[0] == results[1]
    assert results[0][0] == 2 and results[0][1][0][0] == "twin"


def test_the_good_lines_of_the_messy_file_are_records() -> None:
    # Guard for the fixture itself: the good lines stay good as the models evolve.
    good = [line for line in _messy_lines() if line and not line.startswith(("{not", '{"type": '))]
    for line in good:
        assert json.loads(line)["type"] in {"person", "perception", "preference"}
