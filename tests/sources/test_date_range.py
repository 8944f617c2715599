"""Issue 11, defect 3: an extreme but valid timestamp must not lose the whole ingest.

``9999-12-31T23:59:59-05:00`` and ``0001-01-01T00:30:00+01:00`` are valid ISO 8601, but
they cannot be converted to UTC (year 10000, year 0), and the store converts every
date to UTC: the ingest died with an ``OverflowError`` and nothing was stored. Every
source now rejects a date outside a plausible range per line, row or case, naming the
record, the field and the range, and the rest goes on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.errors import InvalidRecordError
from relcrm.models import Perception, Person, SupportCase
from relcrm.sources import LineRejection, SurveyColumns, load_interchange, read_survey
from relcrm.sources.dates import DateRange, date_range_from_environment
from relcrm.store import Store
from relcrm.sync.ingest import ingest_interchange
from relcrm.sync.ingest_sources import ingest_cases, ingest_social, ingest_survey

runner = CliRunner()

TOO_LATE = "9999-12-31T23:59:59-05:00"  # year 10000 in UTC
TOO_EARLY = "0001-01-01T00:30:00+01:00"  # year 0 in UTC
GOOD = "2026-11-02T14:05:00Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def perception_line(record: str, occurred_at: str, person: str = "cust-1") -> str:
    return json.dumps(
        {
            "type": "perception",
            "person_id": person,
            "occurred_at": occurred_at,
            "channel": "survey",
            "nps": {"value": 9},
            "provenance": {"source_system": "qualtrics", "source_record_id": record},
        }
    )


def interchange_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps({"type": "person", "id": "cust-1", "emails": ["jane@example.com"]}),
        perception_line("R_1", TOO_LATE),  # line 2
        perception_line("R_2", TOO_EARLY),  # line 3
        perception_line("R_3", GOOD),  # line 4
        json.dumps(  # line 5: every dated field of a person is checked
            {
                "type": "person",
                "id": "cust-2",
                "consent": {"granted": True, "updated_at": TOO_LATE},
                "facts": {"customer_since": "1969-12-31T23:00:00Z", "last_purchase_at": GOOD},
            }
        ),
        json.dumps(  # line 6
            {
                "type": "preference",
                "person_id": "cust-1",
                "kind": "channel",
                "value": "email",
                "stated_at": TOO_EARLY,
                "provenance": {"source_system": "qualtrics", "source_record_id": "R_3"},
            }
        ),
        perception_line("R_4", "2026-11-03T10:00:00+01:00"),  # line 7
    ]
    path = tmp_path / "extreme.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_interchange_rejects_extreme_dates_per_line_naming_field_and_range(
    tmp_path: Path,
) -> None:
    loaded = load_interchange(interchange_file(tmp_path))
    assert [p.provenance.source_record_id for p in loaded.perceptions] == ["R_3", "R_4"]
    by_line = {r.line: r for r in loaded.rejections}
    assert sorted(by_line) == [2, 3, 5, 6]
    late = str(by_line[2].error)
    assert late.startswith("[input.invalid_record] line 2: occurred_at: ")
    assert "after the latest plausible date" in late and "RELCRM_LATEST_DATE" in late
    early = str(by_line[3].error)
    assert "line 3: occurred_at: " in early
    assert "before the earliest plausible date 1970-01-01" in early
    assert "RELCRM_EARLIEST_DATE" in early
    person_fields = [p.field for p in by_line[5].problems]
    assert person_fields == ["consent.updated_at", "facts.customer_since"]
    assert [p.field for p in by_line[6].problems] == ["stated_at"]
    assert by_line[6].kind == "preference"


def test_relcrm_ingest_stores_the_rest_of_a_file_with_extreme_dates(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = runner.invoke(
        app, ["ingest", str(interchange_file(tmp_path)), "--store", str(db), "--json"]
    )
    assert result.exit_code == 1, result.output  # rejected lines, not a crash
    summary = json.loads(result.stdout)
    assert (summary["persons"], summary["perceptions_new"], summary["rejected"]) == (1, 2, 4)
    assert "line 2: occurred_at" in result.stderr
    with Store.open(f"sqlite:///{db}") as opened:
        assert opened.count_perceptions() == 2


def test_ingest_interchange_in_worker_processes_takes_the_range_from_the_environment(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.jsonl"
    lines = [
        json.dumps({"type": "person", "id": "cust-1", "emails": ["jane@example.com"]}),
        perception_line("R_1", "1965-06-01T12:00:00Z"),
        perception_line("R_2", TOO_LATE),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("RELCRM_EARLIEST_DATE", "1960-01-01")
    report = ingest_interchange(path, store, workers=2, chunk_lines=1)
    assert report.perceptions_new == 1
    assert [e.record for e in report.rejections] == ["line 3"]


def test_the_range_is_a_parameter_and_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    line = perception_line("R_1", "1965-06-01T12:00:00Z")
    assert load_interchange([line]).rejections  # before 1970 by default
    wide = DateRange(earliest=datetime(1900, 1, 1, tzinfo=UTC))
    assert load_interchange([line], dates=wide).ok
    monkeypatch.setenv("RELCRM_EARLIEST_DATE", "1960-01-01T00:00:00Z")
    monkeypatch.setenv("RELCRM_LATEST_DATE", "2030-01-01")
    configured = date_range_from_environment()
    assert configured.earliest == datetime(1960, 1, 1, tzinfo=UTC)
    assert configured.latest == datetime(2030, 1, 1, tzinfo=UTC)
    assert load_interchange([line]).ok
    monkeypatch.delenv("RELCRM_LATEST_DATE")
    monkeypatch.setenv("RELCRM_MAX_DAYS_AHEAD", "30")
    ahead = date_range_from_environment()
    now = datetime.now(UTC)
    assert ahead.bounds(now) == (datetime(1960, 1, 1, tzinfo=UTC), now + timedelta(days=30))


def test_a_bad_range_setting_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from relcrm.errors import ConfigurationError

    monkeypatch.setenv("RELCRM_EARLIEST_DATE", "last tuesday")
    with pytest.raises(ConfigurationError, match="RELCRM_EARLIEST_DATE"):
        date_range_from_environment()
    with pytest.raises(ValueError, match="earliest"):
        DateRange(
            earliest=datetime(2030, 1, 1, tzinfo=UTC), latest=datetime(2020, 1, 1, tzinfo=UTC)
        )


def test_a_date_just_ahead_is_accepted_and_two_days_ahead_is_not() -> None:
    now = datetime.now(UTC)
    soon = perception_line("R_1", (now + timedelta(hours=12)).isoformat())
    later = perception_line("R_2", (now + timedelta(days=2)).isoformat())
    loaded = load_interchange([soon, later])
    assert [r.line for r in loaded.rejections] == [2]
    assert "one day ahead of now" in str(loaded.rejections[0].error)


# -- survey exports -----------------------------------------------------------------------

SURVEY = SurveyColumns.model_validate(
    {
        "survey": "s1",
        "flavour": "plain",
        "respondent": {"email": "email"},
        "response": {"id": "id", "time": "time", "time_zone": "Europe/Paris"},
        "questions": [{"column": "nps", "kind": "nps"}],
        "consent": {"column": "consent"},
    }
)


def survey_file(tmp_path: Path, times: list[str]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "time", "email", "nps", "consent"])
    for number, time in enumerate(times, start=1):
        writer.writerow([f"R_{number}", time, f"p{number}@example.com", "9", "yes"])
    path = tmp_path / "survey.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_survey_rows_with_extreme_times_are_rejected_and_the_rest_is_stored(
    tmp_path: Path, store: Store
) -> None:
    times = [TOO_LATE, TOO_EARLY, "0001-01-01 00:30:00", "9999-12-31 23:59:59", GOOD]
    path = survey_file(tmp_path, times)
    report = ingest_survey(path, SURVEY, store)
    assert report.perceptions_new == 1 and report.persons == 1
    assert [e.record for e in report.rejections] == ["row 2", "row 3", "row 4", "row 5"]
    for error in report.rejections:
        assert [p.field for p in error.problems] == ["time"]
        assert "plausible date" in error.message
    assert "after the latest plausible date" in report.rejections[0].message
    assert "before the earliest plausible date" in report.rejections[1].message


def test_survey_reader_takes_the_range_as_a_parameter(tmp_path: Path) -> None:
    path = survey_file(tmp_path, ["1965-06-01 12:00:00"])
    items = list(read_survey(path, SURVEY))
    assert isinstance(items[0], InvalidRecordError)
    wide = DateRange(earliest=datetime(1900, 1, 1, tzinfo=UTC))
    items = list(read_survey(path, SURVEY, dates=wide))
    assert not isinstance(items[0], InvalidRecordError)


# -- social posts and support cases -------------------------------------------------------


def test_social_posts_with_extreme_times_are_rejected_per_line(
    tmp_path: Path, store: Store
) -> None:
    def post(number: int, time: str) -> str:
        return json.dumps(
            {
                "platform": "x",
                "handle": "@jane",
                "text": "Love it",
                "time": time,
                "post_id": str(number),
                "public": True,
            }
        )

    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join([post(1, TOO_LATE), post(2, TOO_EARLY), post(3, GOOD)]) + "\n")
    handles = tmp_path / "handles.csv"
    handles.write_text("platform,handle,email\nx,@jane,jane@example.com\n", encoding="utf-8")
    report = ingest_social(path, store, handles)
    assert report.perceptions_new == 1
    assert [e.record for e in report.rejections] == ["line 1", "line 2"]
    assert all(e.problems[0].field == "time" for e in report.rejections)


def case(**fields: Any) -> SupportCase:
    base: dict[str, Any] = {
        "system": "salesforce",
        "object": "Case",
        "id": "500xx0000001",
        "subject": "Charged twice",
        "created_at": GOOD,
        "requester_email": "jane@example.com",
    }
    return SupportCase.model_validate({**base, **fields})


def test_cases_with_extreme_dates_are_rejected_naming_the_case(store: Store) -> None:
    store.upsert_person(Person(id="cust-1", emails=("jane@example.com",)))
    cases = [
        case(id="500A", created_at=TOO_EARLY),
        case(id="500B", closed_at=TOO_LATE, closed=True),
        case(id="500C", modified_at=TOO_LATE),
        case(id="500D"),
    ]
    report = ingest_cases(cases, store)
    assert report.perceptions_new == 1
    assert [e.record for e in report.rejections] == [
        "case salesforce/Case/500A",
        "case salesforce/Case/500B",
        "case salesforce/Case/500C",
    ]
    fields = [e.problems[0].field for e in report.rejections]
    assert fields == ["created_at", "closed_at", "modified_at"]


# -- the models: no path reaches the store with a date it cannot convert ------------------


@pytest.mark.parametrize("moment", [TOO_LATE, TOO_EARLY])
def test_models_refuse_dates_that_cannot_be_converted_to_utc(moment: str) -> None:
    data = json.loads(perception_line("R_1", moment))
    del data["type"]
    with pytest.raises(ValidationError, match="occurred_at") as caught:
        Perception.model_validate(data)
    assert "UTC" in str(caught.value)
    with pytest.raises(ValidationError, match=r"consent\.updated_at"):
        Person.model_validate({"id": "p1", "consent": {"granted": True, "updated_at": moment}})
    with pytest.raises(ValidationError, match=r"facts\.last_purchase_at"):
        Person.model_validate({"id": "p1", "facts": {"last_purchase_at": moment}})
    # Far from "plausible", but representable: the models leave plausibility to sources.
    Perception.model_validate({**data, "occurred_at": "1900-01-01T00:00:00Z"})


def test_the_rejection_says_what_to_do(tmp_path: Path) -> None:
    loaded = load_interchange([perception_line("R_1", TOO_LATE)])
    rejection = loaded.rejections[0]
    assert isinstance(rejection, LineRejection)
    problem = rejection.problems[0]
    assert problem.field == "occurred_at"
    assert problem.value == repr(TOO_LATE)
