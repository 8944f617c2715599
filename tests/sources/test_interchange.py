"""The JSONL interchange format: strict per line, forgiving per file, exact round trips."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.models import VERBATIM_MAX_CHARS, Perception, Person, Preference
from relcrm.sources import (
    InterchangeItem,
    LineRejection,
    interchange_line,
    load_interchange,
    read_interchange,
    write_interchange,
)
from relcrm.testing import generate_bulk, generate_bulk_lines, generate_sample

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "interchange.jsonl"

PERSON: dict[str, Any] = {
    "type": "person",
    "id": "p-1",
    "display_name": "Siobhan O'Brien",
    "emails": ["siobhan.o'brien@example.com"],
    "consent": {"granted": True},
}
PERCEPTION: dict[str, Any] = {
    "type": "perception",
    "person_id": "p-1",
    "occurred_at": "2026-11-01T10:00:00Z",
    "channel": "survey",
    "nps": {"value": 9},
    "valence": 0.6,
    "emotions": {"joy": 0.5},
    "verbatim": "Quick and friendly.",
    "confidence": 0.6,
    "provenance": {"source_system": "qualtrics", "source_record_id": "R_1"},
}


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def perception(**changes: Any) -> str:
    record = {**PERCEPTION, **changes}
    return line({key: value for key, value in record.items() if value is not None})


def write_lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text("".join(text + newline for text in lines), encoding="utf-8", newline="")
    return path


BAD_LINES: list[tuple[str, str, str, str | None]] = [
    # (case, line, field named in the error, value quoted in the error)
    ("invalid JSON", '{"type": "perception", "person_id": "p-1",', "(record)", None),
    ("trailing comma", '{"type": "person",}', "(record)", None),
    ("naive datetime", perception(occurred_at="2026-11-01T10:00:00"), "occurred_at", None),
    ("NPS 11", perception(nps={"value": 11}), "nps.value", "11"),
    ("CSAT 0 on 1-5", perception(csat={"value": 0}), "csat", None),
    ("unknown emotion", perception(emotions={"rage": 0.5}), "emotions.rage", "0.5"),
    ("intensity 1.5", perception(emotions={"anger": 1.5}), "emotions.anger", "1.5"),
    ("missing person_id", perception(person_id=None), "person_id", None),
    ("1 MB verbatim", perception(verbatim="x" * 1_000_000), "verbatim", None),
    ("unknown type", line({**PERSON, "type": "lead"}), "type", "'lead'"),
    ("missing type", line({k: v for k, v in PERSON.items() if k != "type"}), "type", None),
    ("not an object", "[1, 2, 3]", "(record)", "[1, 2, 3]"),
    ("CES without version or direction", perception(ces={"value": 3}), "ces", "{'value': 3}"),
    ("unknown field", perception(sentiment=0.4), "sentiment", "0.4"),
    ("wrong id", perception(id="pc_000"), "(record)", None),
]


@pytest.mark.parametrize(
    ("bad", "field", "value"),
    [case[1:] for case in BAD_LINES],
    ids=[case[0] for case in BAD_LINES],
)
def test_a_bad_line_is_rejected_with_its_number_and_field(
    tmp_path: Path, bad: str, field: str, value: str | None
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [line(PERSON), bad, perception()])

    results = list(read_interchange(path))

    assert [type(r) for r in results] == [InterchangeItem, LineRejection, InterchangeItem]
    rejection = results[1]
    assert isinstance(rejection, LineRejection)
    assert rejection.line == 2
    assert isinstance(rejection.error, InvalidRecordError)
    assert rejection.error.record == "line 2"
    assert rejection.error.code == "input.invalid_record"
    fields = [problem.field for problem in rejection.problems]
    assert field in fields
    assert str(rejection).startswith("line 2: ")
    assert field in str(rejection)
    if value is not None:
        assert any(problem.value == value for problem in rejection.problems)
    assert len(str(rejection.error)) < 1000  # a 1 MB value is shortened, not echoed


def test_one_file_with_every_kind_of_bad_line_keeps_loading(tmp_path: Path) -> None:
    good = [
        line(PERSON),
        perception(),
        perception(provenance={"source_system": "q", "source_record_id": "2"}),
    ]
    lines = [good[0], *(case[1] for case in BAD_LINES), "", good[1], "   ", good[2]]
    path = write_lines(tmp_path / "mixed.jsonl", lines)

    loaded = load_interchange(path)

    assert [p.id for p in loaded.persons] == ["p-1"]
    assert len(loaded.perceptions) == 2
    assert [r.line for r in loaded.rejections] == list(range(2, 2 + len(BAD_LINES)))
    assert not loaded.ok


def test_every_field_problem_of_a_line_is_reported(tmp_path: Path) -> None:
    bad = perception(
        occurred_at="2026-11-01T10:00:00", nps={"value": 11}, emotions={"joy": 1.5, "rage": 1}
    )
    [rejection] = list(read_interchange([bad]))
    assert isinstance(rejection, LineRejection)
    assert {p.field for p in rejection.problems} >= {
        "occurred_at",
        "nps.value",
        "emotions.joy",
        "emotions.rage",
    }
    assert rejection.kind == "perception"


def test_the_verbatim_limit_is_in_the_message(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "big.jsonl", [perception(verbatim="é" * 1_000_000)])
    [rejection] = list(read_interchange(path))
    assert isinstance(rejection, LineRejection)
    assert f"at most {VERBATIM_MAX_CHARS}" in str(rejection)
    assert "(1000002 chars)" in str(rejection)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    content = "\r\n".join([line(PERSON), "", perception()]) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))

    from_path = load_interchange(path)
    with path.open(encoding="utf-8-sig", newline="") as text_stream:
        from_text = load_interchange(text_stream)
    with path.open("rb") as byte_stream:
        from_bytes = load_interchange(byte_stream)
    from_str_lines = load_interchange(path.read_text(encoding="utf-8").splitlines())

    for loaded in (from_path, from_text, from_bytes, from_str_lines):
        assert loaded.ok, [str(r) for r in loaded.rejections]
        assert [p.id for p in loaded.persons] == ["p-1"]
        assert len(loaded.perceptions) == 1


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "gaps.jsonl", ["", line(PERSON), "", "", "{oops"])
    results = list(read_interchange(path))
    assert [r.line for r in results] == [2, 5]


def test_invalid_utf8_rejects_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        line(PERSON).encode() + b"\n" + perception(verbatim="caf\u00e9").encode("latin-1") + b"\n"
        + perception(provenance={"source_system": "q", "source_record_id": "9"}).encode() + b"\n"
    )  # fmt: skip
    results = list(read_interchange(path))
    assert [type(r).__name__ for r in results] == [
        "InterchangeItem",
        "LineRejection",
        "InterchangeItem",
    ]
    assert "UTF-8" in str(results[1])


def test_a_line_over_the_size_limit_is_skipped_unread(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "huge.jsonl", [line(PERSON), "x" * 5000, perception()])
    results = list(read_interchange(path, max_line_bytes=1000))
    assert [r.line for r in results if isinstance(r, LineRejection)] == [2]
    assert len([r for r in results if isinstance(r, InterchangeItem)]) == 2


def test_type_anywhere_and_type_first_read_the_same(tmp_path: Path) -> None:
    record = {k: v for k, v in PERCEPTION.items() if k != "type"}
    first = line({"type": "perception", **record})
    last = line({**record, "type": "perception"})
    compact = json.dumps({"type": "perception", **record}, separators=(",", ":"))
    items = list(read_interchange([first, last, compact]))
    assert all(isinstance(item, InterchangeItem) for item in items)
    records = [item.record for item in items if isinstance(item, InterchangeItem)]
    assert records[0] == records[1] == records[2]


def test_a_second_type_reads_the_same_wherever_the_first_one_is() -> None:
    """As for any key written twice, the last "type" is the one read, whether or not the
    line starts with one (the shortcut for lines that do used to refuse the second)."""
    first = '{"type":"person","id":"p1","type":"person"}'
    later = '{"id":"p1","type":"person","type":"person"}'
    items = list(read_interchange([first, later]))
    assert all(isinstance(item, InterchangeItem) for item in items), items
    assert [item.record for item in items if isinstance(item, InterchangeItem)] == [
        Person(id="p1"),
        Person(id="p1"),
    ]
    changed = list(read_interchange(['{"type":"person","id":"p1","type":"preference"}']))
    assert isinstance(changed[0], LineRejection) and changed[0].kind == "preference"


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2028", "\x1c", "\x0b"])
def test_a_line_starting_with_space_json_does_not_know_is_not_json(space: str) -> None:
    """Only JSON's own white space (space, tab, CR, LF) may come before the object."""
    good = '{"type":"person","id":"p1"}'
    (item,) = read_interchange([space + good])
    assert isinstance(item, LineRejection)
    assert "not valid JSON" in str(item)
    assert all(isinstance(i, InterchangeItem) for i in read_interchange([" \t" + good]))


def test_preference_lines_are_read(tmp_path: Path) -> None:
    preference = {
        "type": "preference",
        "person_id": "p-1",
        "kind": "channel",
        "value": "email",
        "stated_at": "2026-10-01T09:00:00Z",
        "provenance": {"source_system": "salesforce", "source_record_id": "pref-1"},
    }
    [item] = list(read_interchange([line(preference)]))
    assert isinstance(item, InterchangeItem)
    assert isinstance(item.record, Preference)
    assert item.kind == "preference"


def test_write_then_read_round_trips_exactly(tmp_path: Path) -> None:
    sample = generate_sample(persons=16, seed=3, now=NOW)
    records = list(sample.records())
    path = tmp_path / "sample.jsonl"

    assert write_interchange(records, path) == len(records)
    loaded = load_interchange(path)

    assert loaded.ok
    assert loaded.records() == records
    again = tmp_path / "again.jsonl"
    write_interchange(loaded.records(), again)
    assert again.read_bytes() == path.read_bytes()


def test_written_lines_put_type_first_and_leave_out_derived_ids() -> None:
    sample = generate_sample(persons=4, seed=1, now=NOW)
    stream = io.StringIO()
    write_interchange([sample.persons[0], sample.perceptions[0]], stream)
    person_line, perception_line = stream.getvalue().splitlines()
    assert person_line.startswith('{"type":"person",')
    assert perception_line.startswith('{"type":"perception",')
    assert '"id"' not in perception_line.split('"provenance"')[0]
    assert "consent" in person_line  # non-default values are kept


def test_line_separators_inside_text_are_escaped() -> None:
    record = Perception.model_validate(
        {**{k: v for k, v in PERCEPTION.items() if k != "type"}, "verbatim": "a\u2028b\u0085c"}
    )
    text = interchange_line(record)
    assert len(text.splitlines()) == 1
    [item] = list(read_interchange(text.splitlines()))
    assert isinstance(item, InterchangeItem)
    assert item.record == record


def test_writing_to_a_path_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("old\n", encoding="utf-8")
    person = Person.model_validate({k: v for k, v in PERSON.items() if k != "type"})

    def records() -> Any:
        yield person
        raise RuntimeError("source broke halfway")

    with pytest.raises(RuntimeError):
        write_interchange(records(), path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_the_example_file_loads_without_rejection() -> None:
    loaded = load_interchange(EXAMPLE)
    assert loaded.ok, [str(r) for r in loaded.rejections]
    assert len(loaded.persons) >= 3
    assert len(loaded.perceptions) >= 5
    assert {p.channel.value for p in loaded.perceptions} >= {"survey", "support", "social"}


def test_bulk_lines_read_back_as_the_bulk_models(tmp_path: Path) -> None:
    args: dict[str, Any] = {"persons": 30, "perceptions_per_person": 5, "seed": 11, "now": NOW}
    path = tmp_path / "bulk.jsonl"
    path.write_text("".join(generate_bulk_lines(**args)), encoding="utf-8")
    loaded = load_interchange(path)
    assert loaded.ok, [str(r) for r in loaded.rejections[:3]]
    assert [*loaded.persons, *loaded.perceptions] == sorted(
        generate_bulk(**args), key=lambda r: isinstance(r, Perception)
    )


def test_a_string_is_a_path_not_content() -> None:
    with pytest.raises(FileNotFoundError):
        list(read_interchange(line(PERSON)))
    with pytest.raises(TypeError):
        list(read_interchange(line(PERSON).encode()))  # type: ignore[arg-type]


def test_the_documented_example_loads_and_the_documented_output_matches() -> None:
    doc = (EXAMPLE.parents[1] / "docs" / "interchange.md").read_text(encoding="utf-8")
    example = doc.split("## A full example")[1].split("```json")[1].split("```")[0]
    compact = doc.split("compactly")[1].split("```json")[1].split("```")[0].strip()
    loaded = load_interchange(example.strip().splitlines())
    assert loaded.ok, [str(r) for r in loaded.rejections]
    assert compact in {interchange_line(p) for p in loaded.perceptions}
