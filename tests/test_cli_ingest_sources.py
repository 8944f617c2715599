"""``relcrm ingest`` on survey exports and social posts, end to end on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from relcrm.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def test_survey_is_guessed_from_a_csv_and_reingest_changes_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "s.db")
    args = [
        "ingest",
        str(EXAMPLES / "survey-qualtrics.csv"),
        "--columns",
        str(EXAMPLES / "survey-columns-qualtrics.toml"),
        "--store",
        store,
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["format"] == "survey"
    assert (summary["persons"], summary["perceptions_new"], summary["skipped"]) == (2, 2, 1)
    assert summary["redacted"] == {"phone": 1}
    assert "qualtrics export" in result.stderr
    again = json.loads(runner.invoke(app, args).stdout)
    assert (again["persons"], again["perceptions_new"], again["perceptions_already_known"]) == (
        0,
        0,
        2,
    )


def test_rejected_rows_are_reported_and_exit_1(tmp_path: Path) -> None:
    export = tmp_path / "plain.csv"
    text = (EXAMPLES / "survey-plain.csv").read_text(encoding="utf-8")
    export.write_text(text + "r-1003;2026-11-05 12:00;cust-1003;9;Too high;yes;delivery\n")
    result = runner.invoke(
        app,
        [
            "ingest",
            str(export),
            "--format",
            "survey",
            "--columns",
            str(EXAMPLES / "survey-columns-plain.toml"),
            "--store",
            str(tmp_path / "s.db"),
        ],
    )
    assert result.exit_code == 1
    assert "row 4: csat: CSAT 9 is outside its scale 1-5" in result.stderr
    assert "2 new perceptions" in result.stdout


def test_a_survey_without_its_mapping_is_a_configuration_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", str(EXAMPLES / "survey-plain.csv"), "--store", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 2
    assert "--columns" in result.stderr


def test_a_mapping_without_time_zone_is_a_configuration_error(tmp_path: Path) -> None:
    columns = tmp_path / "cols.toml"
    text = (EXAMPLES / "survey-columns-plain.toml").read_text()
    columns.write_text(text.replace('time_zone = "Europe/Paris"', ""))
    result = runner.invoke(
        app,
        [
            "ingest",
            str(EXAMPLES / "survey-plain.csv"),
            "--columns",
            str(columns),
            "--store",
            str(tmp_path / "s.db"),
        ],
    )
    assert result.exit_code == 2
    assert "time_zone" in result.stderr


def test_social_posts_with_and_without_a_handle_map(tmp_path: Path) -> None:
    store = str(tmp_path / "s.db")
    posts = tmp_path / "social.jsonl"
    shutil.copy(EXAMPLES / "social.jsonl", posts)
    base = ["ingest", str(posts), "--format", "social", "--store", store, "--json"]
    first = runner.invoke(app, base)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["unresolved"] == 3
    second = runner.invoke(app, [*base, "--handles", str(EXAMPLES / "handles.csv")])
    summary = json.loads(second.stdout)
    assert (summary["perceptions_new"], summary["unresolved"], summary["held_resolved"]) == (
        2,
        1,
        2,
    )


def test_jsonl_stays_interchange_by_default(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ingest",
            str(EXAMPLES / "interchange.jsonl"),
            "--store",
            str(tmp_path / "s.db"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert "format" not in summary and summary["rejected"] == 0
