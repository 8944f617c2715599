"""Survey exports as tools write them: flavours, encodings, delimiters, broken rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.errors import ConfigurationError, InvalidRecordError
from relcrm.sources import (
    SkippedRecord,
    SourcedPerception,
    SourceItem,
    SurveyColumns,
    SurveyColumnsError,
    load_survey_columns,
    open_survey,
    parse_survey_columns,
    read_survey,
    survey_columns_json_schema,
)
from relcrm.sources.survey_columns import Flavour

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

PLAIN_COLUMNS: dict[str, Any] = {
    "survey": "s1",
    "flavour": "plain",
    "respondent": {"email": "email"},
    "response": {"id": "id", "time": "time", "time_zone": "Europe/London"},
    "questions": [
        {"column": "nps", "kind": "nps"},
        {"column": "comment", "kind": "text"},
    ],
    "consent": {"column": "consent"},
}
HEADER = ["id", "time", "email", "nps", "comment", "consent"]


def columns(**changes: Any) -> SurveyColumns:
    return SurveyColumns.model_validate({**PLAIN_COLUMNS, **changes})


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def split(items: list[SourceItem]) -> tuple[list[SourcedPerception], list[str], list[str]]:
    """Perceptions, rejection messages, skipped record names."""
    good = [i for i in items if isinstance(i, SourcedPerception)]
    bad = [i.message for i in items if isinstance(i, InvalidRecordError)]
    skipped = [i.record for i in items if isinstance(i, SkippedRecord)]
    return good, bad, skipped


ROW = ["R_1", "2026-11-02 14:05:00", "jane@example.com", "9", "Lovely.", "yes"]


# -- the three flavours ------------------------------------------------------------------


def test_qualtrics_export_with_its_three_header_rows() -> None:
    export = open_survey(
        EXAMPLES / "survey-qualtrics.csv",
        load_survey_columns(EXAMPLES / "survey-columns-qualtrics.toml"),
    )
    assert export.flavour is Flavour.QUALTRICS
    good, bad, skipped = split(list(export.items()))
    assert bad == []
    assert skipped == ["row 6 (line 7)"]  # an entirely empty answer: counted, not an error
    first = good[0].perception
    assert first.nps is not None and first.nps.value == 10 and first.nps.kind == "relational"
    assert first.csat is not None and first.csat.value == 5
    assert first.verbatim == "Maria sorted it out in five minutes.\nBrilliant."  # quoted newline
    assert first.provenance.source_system == "qualtrics"
    assert first.provenance.source_record_id == "onboarding-2026/R_3kX9pQ2mZ8vL1aB"
    # A naive export time, read in the declared zone (London is on GMT in November).
    assert first.occurred_at.astimezone(UTC) == datetime(2026, 11, 2, 14, 5, 31, tzinfo=UTC)
    assert good[0].identities[0].value == "siobhan.o'brien@example.com"  # a quote is legal
    assert good[0].consent is not None and good[0].consent.granted
    assert good[1].consent is not None and not good[1].consent.granted
    assert good[1].record == "row 5 (line 6)"  # row 4's cell spans two lines


def test_surveymonkey_export_with_question_and_sub_answer_rows() -> None:
    export = open_survey(
        EXAMPLES / "survey-surveymonkey.csv",
        load_survey_columns(EXAMPLES / "survey-columns-surveymonkey.toml"),
    )
    assert export.flavour is Flavour.SURVEYMONKEY
    good, bad, _ = split(list(export.items()))
    assert bad == []
    assert [g.perception.nps.value for g in good if g.perception.nps] == [9, 4]
    second = good[1].perception
    assert second.ces is not None and second.ces.version == "2.0" and second.ces.value == 2
    assert second.verbatim is not None and "other providers" in second.verbatim
    # 09:15 in New York is 14:15 UTC in November.
    assert second.occurred_at.astimezone(UTC) == datetime(2026, 11, 3, 14, 15, 42, tzinfo=UTC)


def test_plain_export_with_semicolons_and_decimal_commas() -> None:
    export = open_survey(
        EXAMPLES / "survey-plain.csv", load_survey_columns(EXAMPLES / "survey-columns-plain.toml")
    )
    good, bad, _ = split(list(export.items()))
    assert bad == []
    assert "semicolon-delimited" in export.notes[0]
    assert good[0].perception.csat is not None and good[0].perception.csat.value == 4.5
    assert good[0].perception.person_id == "cust-1001"
    assert good[0].perception.topic == "delivery"
    assert good[0].perception.provenance.source_system == "webform"


def test_auto_detects_the_flavour() -> None:
    for name, flavour in (
        ("qualtrics", Flavour.QUALTRICS),
        ("surveymonkey", Flavour.SURVEYMONKEY),
        ("plain", Flavour.PLAIN),
    ):
        mapping = load_survey_columns(EXAMPLES / f"survey-columns-{name}.toml")
        auto = mapping.model_copy(update={"flavour": Flavour.AUTO})
        assert open_survey(EXAMPLES / f"survey-{name}.csv", auto).flavour is flavour


# -- encodings and delimiters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8": a byte-order mark
        ("utf-16", "utf-16"),  # Excel's "Unicode text": UTF-16 with a BOM
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, said: str) -> None:
    row = [*ROW[:4], "Très bien, merci — ça marche.", "yes"]
    path = write_csv(tmp_path / "s.csv", [row], encoding=encoding)
    export = open_survey(path, columns())
    good, bad, _ = split(list(export.items()))
    assert bad == []
    assert good[0].perception.verbatim == "Très bien, merci — ça marche."
    assert said in export.notes[0]


def test_cp1252_is_the_fallback_when_utf8_fails_and_the_report_says_so(tmp_path: Path) -> None:
    row = [*ROW[:4], "Très bien — 5€", "yes"]
    path = write_csv(tmp_path / "s.csv", [row], encoding="cp1252")
    export = open_survey(path, columns())
    good, _, _ = split(list(export.items()))
    assert good[0].perception.verbatim == "Très bien — 5€"
    assert "cp1252" in export.notes[0] and "not valid UTF-8" in export.notes[0]


def test_a_declared_encoding_is_used_and_a_wrong_one_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [[*ROW[:4], "Très bien", "yes"]], encoding="cp1252")
    good, _, _ = split(list(read_survey(path, columns(encoding="cp1252"))))
    assert good[0].perception.verbatim == "Très bien"
    with pytest.raises(ConfigurationError, match="not valid utf-8"):
        open_survey(path, columns(encoding="utf-8"))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    row = [*ROW[:4], "Good, but slow; very slow.", "yes"]
    path = write_csv(tmp_path / "s.csv", [row, row], delimiter=delimiter)
    good, bad, _ = split(list(read_survey(path, columns())))
    assert bad == []
    assert good[0].perception.verbatim == "Good, but slow; very slow."


# -- broken rows -------------------------------------------------------------------------


def test_bad_rows_are_rejected_by_row_and_column_and_the_rest_goes_on(tmp_path: Path) -> None:
    rows = [
        ROW,
        ["R_2", "2026-11-02 14:06:00", "tom@example.com", "11", "Nope", "yes"],  # NPS 11
        ["R_3", "02/11/2026", "ann@example.com", "7", "", ""],  # a bad date
        ["R_4", "2026-11-02 14:08:00", "bob@example.com", "8"],  # too few cells
        ["R_5", "2026-11-02 14:09:00", "eve@example.com", "8", "ok", "yes", "surplus"],
        ["R_6", "2026-11-02 14:10:00", "not-an-email", "5", "", ""],
        ["R_7", "2026-11-02 14:11:00", "max@example.com", "8", "x" * 40_000, "maybe"],
        ["R_8", "2026-11-02 14:12:00", "liz@example.com", "", "", ""],  # nothing answered
        ["", "", "", "", "", ""],
        ["R_9", "2026-11-02 14:13:00", "o'brien@example.com", "10", "Great", "1"],
    ]
    good, bad, skipped = split(list(read_survey(write_csv(tmp_path / "s.csv", rows), columns())))
    assert [g.record for g in good] == ["row 2", "row 11"]
    assert good[1].identities[0].value == "o'brien@example.com"
    assert bad[0].startswith("row 3: nps: ") and "less than or equal to 10" in bad[0]
    assert bad[1].startswith("row 4: time: not a time in the format ISO 8601")
    assert bad[2].startswith("row 5: (row): has 4 cells where the header has 6")
    assert bad[3].startswith("row 6: (row): has 7 cells")
    assert bad[4].startswith("row 7: email: not an email address")
    assert bad[5].startswith("row 8: ")
    assert "comment: answer is 40,000 characters; a verbatim is at most 10,000" in bad[5]
    assert "consent: not a yes/no answer" in bad[5]  # every bad field of the row is named
    assert skipped == ["row 9", "row 10"]


def test_extra_empty_cells_are_tolerated(tmp_path: Path) -> None:
    good, bad, _ = split(
        list(read_survey(write_csv(tmp_path / "s.csv", [[*ROW, "", ""]]), columns()))
    )
    assert bad == [] and len(good) == 1


def test_a_second_question_of_a_kind_makes_its_own_perception(tmp_path: Path) -> None:
    header = [*HEADER, "comment2"]
    mapping = columns(
        questions=[
            {"column": "nps", "kind": "nps"},
            {"column": "comment", "kind": "text"},
            {"column": "comment2", "kind": "text"},
        ]
    )
    path = write_csv(tmp_path / "s.csv", [[*ROW, "And another thing."]], header=header)
    good, _, _ = split(list(read_survey(path, mapping)))
    ids = [g.perception.provenance.source_record_id for g in good]
    assert ids == ["s1/R_1", "s1/R_1/comment2"]
    assert good[1].perception.nps is None and good[1].perception.verbatim == "And another thing."


def test_naive_times_take_the_declared_zone_and_offsets_are_kept(tmp_path: Path) -> None:
    rows = [ROW, ["R_2", "2026-07-02T14:05:00+02:00", *ROW[2:]]]
    mapping = columns(response={"id": "id", "time": "time", "time_zone": "America/Chicago"})
    good, _, _ = split(list(read_survey(write_csv(tmp_path / "s.csv", rows), mapping)))
    assert good[0].perception.occurred_at.astimezone(UTC).hour == 20  # CST is UTC-6
    assert good[1].perception.occurred_at.astimezone(UTC).hour == 12


# -- the mapping -------------------------------------------------------------------------


def test_a_missing_time_zone_is_a_configuration_error() -> None:
    text = (EXAMPLES / "survey-columns-plain.toml").read_text()
    text = text.replace('time_zone = "Europe/Paris"\n', "")
    with pytest.raises(SurveyColumnsError) as caught:
        parse_survey_columns(text, origin="cols.toml")
    assert "response.time_zone" in str(caught.value)
    assert "declare the time zone" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"respondent": {}}, "exactly one respondent column"),
        ({"questions": [{"column": "x", "kind": "ces"}]}, "needs its version"),
        ({"questions": [{"column": "x", "kind": "csat", "scale_min": 5, "scale_max": 1}]}, "must"),
        ({"response": {"id": "i", "time": "t", "time_zone": "Mars/Base"}}, "unknown time zone"),
        ({"questionz": []}, "unknown field"),
    ],
)
def test_bad_mappings_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    from relcrm.sources.survey_columns import survey_columns_from

    with pytest.raises(SurveyColumnsError, match=message):
        survey_columns_from({**PLAIN_COLUMNS, **change})


def test_a_mapped_column_missing_from_the_file_stops_before_any_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [ROW])
    mapping = columns(questions=[{"column": "Q9", "kind": "nps"}])
    with pytest.raises(SurveyColumnsError, match="Q9: no such column"):
        open_survey(path, mapping)


def test_the_mapping_publishes_a_json_schema() -> None:
    schema = survey_columns_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"survey", "respondent", "response", "questions"} <= set(schema["required"])


# -- properties --------------------------------------------------------------------------

_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
).filter(lambda text: text.strip() == text and text != "")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    comment=_cell,
    nps=st.integers(0, 10),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_any_answer_text_round_trips_through_a_csv(
    tmp_path: Path, comment: str, nps: int, delimiter: str, encoding: str
) -> None:
    row = ["R_1", "2026-11-02 14:05:00", "jane@example.com", str(nps), comment, "yes"]
    path = write_csv(tmp_path / "rt.csv", [row, row], delimiter=delimiter, encoding=encoding)
    good, bad, _ = split(list(read_survey(path, columns(delimiter=delimiter))))
    assert bad == []
    assert [g.perception.verbatim for g in good] == [comment, comment]
    assert good[0].perception.nps is not None and good[0].perception.nps.value == nps
    assert good[0].perception.id == good[1].perception.id  # a duplicated row: same perception
