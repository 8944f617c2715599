"""Issue 11, defects 5 and 6: CSV files that are almost right.

- One bad byte must not turn a whole UTF-8 export into mojibake ("TrÃ¨s dÃ©Ã§u"): the
  row holding it is rejected, naming its line, and the other rows load correctly
  decoded. Only a file that is consistently not UTF-8 is read as cp1252, and the notices
  say so.
- An unclosed quote must not swallow the rows after it: the row where the quote opened
  is rejected, naming that line, and reading goes on with the next line.
- A duplicated header is an error naming the duplicated column(s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.errors import ConfigurationError, InvalidRecordError
from relcrm.sources import (
    SourcedPerception,
    SourceItem,
    SurveyColumns,
    load_handle_map,
    open_survey,
)
from relcrm.sources.csv_reading import CSV_ERROR, csv_records, decode_bytes
from relcrm.store import Store
from relcrm.sync.ingest_sources import ingest_survey

runner = CliRunner()

COLUMNS = SurveyColumns.model_validate(
    {
        "survey": "s1",
        "flavour": "plain",
        "respondent": {"email": "email"},
        "response": {"id": "id", "time": "time", "time_zone": "Europe/Paris"},
        "questions": [{"column": "nps", "kind": "nps"}, {"column": "comment", "kind": "text"}],
    }
)
HEADER = "id,time,email,nps,comment\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def row(number: int, comment: str) -> str:
    return f"R_{number},2026-11-02 14:0{number}:00,p{number}@example.com,{number},{comment}\n"


def split(items: list[SourceItem]) -> tuple[list[SourcedPerception], list[InvalidRecordError]]:
    good = [i for i in items if isinstance(i, SourcedPerception)]
    bad = [i for i in items if isinstance(i, InvalidRecordError)]
    return good, bad


# -- defect 5: one bad byte ---------------------------------------------------------------


def utf8_file_with_one_bad_byte(tmp_path: Path) -> Path:
    data = (
        HEADER.encode()
        + row(1, "Très déçu").encode()
        + row(2, "Ça marche").encode()
        + row(3, "Tr").encode().replace(b"Tr\n", b"Tr\xe8s bien\n")  # one cp1252 byte
        + row(4, "Génial").encode()
    )
    path = tmp_path / "survey.csv"
    path.write_bytes(data)
    return path


def test_one_bad_byte_rejects_its_row_and_the_rest_is_utf8(tmp_path: Path) -> None:
    export = open_survey(utf8_file_with_one_bad_byte(tmp_path), COLUMNS)
    good, bad = split(list(export.items()))
    assert [g.perception.verbatim for g in good] == ["Très déçu", "Ça marche", "Génial"]
    assert len(bad) == 1
    assert bad[0].record == "row 4"
    assert [p.field for p in bad[0].problems] == ["comment"]
    problem = bad[0].problems[0].problem
    assert "line 4" in problem and "not valid utf-8" in problem and "0xE8" in problem
    assert "declare" in problem  # what to do about it
    notes = " ".join(export.notes)
    assert "utf-8" in notes and "cp1252" not in notes
    assert "1 byte" in notes


def test_relcrm_ingest_reports_the_bad_line_and_exits_1(tmp_path: Path) -> None:
    mapping = tmp_path / "cols.toml"
    mapping.write_text(
        'survey = "s1"\nflavour = "plain"\n[respondent]\nemail = "email"\n'
        '[response]\nid = "id"\ntime = "time"\ntime_zone = "Europe/Paris"\n'
        '[[questions]]\ncolumn = "nps"\nkind = "nps"\n'
        '[[questions]]\ncolumn = "comment"\nkind = "text"\n',
        encoding="utf-8",
    )
    path = utf8_file_with_one_bad_byte(tmp_path)
    args = ["ingest", str(path), "--columns", str(mapping), "--store", str(tmp_path / "s.db")]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["perceptions_new"] == 3
    assert "row 4: comment:" in result.stderr
    assert "Ã" not in result.output


def test_a_consistently_cp1252_file_is_read_as_cp1252_and_the_notices_say_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "survey.csv"
    path.write_bytes((HEADER + row(1, "Très déçu") + row(2, "5€")).encode("cp1252"))
    export = open_survey(path, COLUMNS)
    good, bad = split(list(export.items()))
    assert bad == []
    assert [g.perception.verbatim for g in good] == ["Très déçu", "5€"]
    assert "cp1252" in export.notes[0] and "not valid UTF-8" in export.notes[0]


def test_an_ascii_file_with_a_stray_cp1252_byte_reads_that_byte_as_cp1252(tmp_path: Path) -> None:
    # No valid UTF-8 sequence anywhere: the file is not UTF-8, and cp1252 reads the
    # ASCII rows exactly as UTF-8 would, so nothing can turn into mojibake.
    path = tmp_path / "survey.csv"
    path.write_bytes(HEADER.encode() + row(1, "ok").encode() + row(2, "caf\xe9").encode("cp1252"))
    good, bad = split(list(open_survey(path, COLUMNS).items()))
    assert bad == [] and good[1].perception.verbatim == "café"


def test_a_declared_utf8_with_one_bad_byte_rejects_that_row_only(tmp_path: Path) -> None:
    mapping = COLUMNS.model_copy(update={"encoding": "utf-8"})
    export = open_survey(utf8_file_with_one_bad_byte(tmp_path), mapping)
    good, bad = split(list(export.items()))
    assert len(good) == 3 and [b.record for b in bad] == ["row 4"]
    assert "declared" in export.notes[0]


def test_a_bad_byte_in_a_quoted_multiline_cell_names_its_own_line(tmp_path: Path) -> None:
    data = HEADER.encode() + b'R_1,2026-11-02 14:01:00,p1@example.com,9,"first\nsecond \xff"\n'
    path = tmp_path / "survey.csv"
    path.write_bytes(data + row(2, "Très bien").encode())
    good, bad = split(list(open_survey(path, COLUMNS).items()))
    assert [g.perception.verbatim for g in good] == ["Très bien"]
    assert bad[0].record == "row 2"
    assert "line 3" in bad[0].problems[0].problem


def test_utf16_without_a_byte_order_mark_is_detected() -> None:
    decoded = decode_bytes((HEADER + row(1, "Très bien")).encode("utf-16-le"))
    assert decoded.text.startswith("id,time") and "Très bien" in decoded.text
    assert decoded.encoding == "utf-16-le"
    assert decoded.bad_bytes == 0


def test_a_bad_byte_in_the_header_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_bytes(b"id,time,email,nps,comm\xe9nt\n" + row(1, "Très").encode())
    with pytest.raises(ConfigurationError, match="header") as caught:
        open_survey(path, COLUMNS)
    assert "line 1" in str(caught.value)


# -- defect 6: an unclosed quote, a duplicated header --------------------------------------


def test_an_unclosed_quote_is_rejected_on_its_line_and_the_rows_after_it_load(
    tmp_path: Path,
) -> None:
    path = tmp_path / "survey.csv"
    text = (
        HEADER
        + row(1, "Fine")
        + row(2, '"Broken, never closed')
        + row(3, "Good")
        + row(4, "Also good")
        + row(5, "Still good")
    )
    path.write_text(text, encoding="utf-8")
    good, bad = split(list(open_survey(path, COLUMNS).items()))
    assert [g.perception.provenance.source_record_id for g in good] == [
        "s1/R_1",
        "s1/R_3",
        "s1/R_4",
        "s1/R_5",
    ]
    assert len(bad) == 1 and bad[0].record.startswith("row 3")
    message = bad[0].message
    assert "quote opened on line 3" in message and "never closed" in message


def test_an_unclosed_quote_closed_by_a_later_quote_is_found_too(tmp_path: Path) -> None:
    # Row 3's quote is "closed" by the quote that opens row 6's comment: everything in
    # between became one cell. The rows in between are read again as rows.
    path = tmp_path / "survey.csv"
    text = (
        HEADER
        + row(1, "Fine")
        + row(2, '"Broken')
        + row(3, "Good")
        + row(4, "Also good")
        + row(5, '"Quoted, properly"')
    )
    path.write_text(text, encoding="utf-8")
    good, bad = split(list(open_survey(path, COLUMNS).items()))
    ids = [g.perception.provenance.source_record_id for g in good]
    assert ids == ["s1/R_1", "s1/R_3", "s1/R_4", "s1/R_5"]
    assert good[-1].perception.verbatim == "Quoted, properly"
    assert len(bad) == 1 and "quote opened on line 3" in bad[0].message


def test_legitimate_quoted_newlines_still_read_as_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(HEADER + row(1, '"one\ntwo, three"') + row(2, "next"), encoding="utf-8")
    good, bad = split(list(open_survey(path, COLUMNS).items()))
    assert bad == []
    assert [g.perception.verbatim for g in good] == ["one\ntwo, three", "next"]
    assert good[1].record == "row 3 (line 4)"


def test_csv_records_name_the_line_where_the_quote_opened() -> None:
    records = list(csv_records('a,b\n1,"x\n2,3\n4,5\n', ",", width=2))
    assert [r.cells for r in records[2:]] == [["2", "3"], ["4", "5"]]
    assert records[1].cells[0] == CSV_ERROR and "line 2" in records[1].cells[1]
    assert [(r.row, r.line) for r in records] == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_a_duplicated_header_is_an_error_naming_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(
        "id,time,email,nps,comment,nps,email\n"
        "R_1,2026-11-02 14:01:00,a@example.com,9,ok,3,b@example.com\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as caught:
        open_survey(path, COLUMNS)
    message = str(caught.value)
    assert "email" in message and "nps" in message and "columns 4 and 6" in message
    assert "rename" in message


def test_a_duplicated_header_stops_the_ingest_before_anything_is_written(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(HEADER.replace("id,", "comment,id,") + "x," + row(1, "x"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="'comment' twice"):
        ingest_survey(path, COLUMNS, store)
    assert store.count_persons() == 0


def test_a_duplicated_handle_map_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "handles.csv"
    path.write_text("platform,handle,email,email\nx,@a,a@example.com,b@example.com\n")
    with pytest.raises(ConfigurationError, match="email"):
        load_handle_map(path)


def test_an_unknown_declared_encoding_is_named_when_the_mapping_loads() -> None:
    from relcrm.sources import SurveyColumnsError
    from relcrm.sources.survey_columns import survey_columns_from

    with pytest.raises(SurveyColumnsError, match="encoding: unknown encoding 'latin-9x'"):
        survey_columns_from({**COLUMNS.model_dump(), "encoding": "latin-9x"}, origin="c.toml")
