"""``relcrm run``: the scheduler's one command (issue 11): ingest the targets file's
sources, profile, sync every target; one JSON report, one exit code."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, seed_org
from relcrm.testing.synthetic import generate_sample
from tests.admin.conftest import targets_file

NOW = "2026-11-01T12:00:00Z"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]

SOURCES = """
[[sources]]
name = "crm export"
format = "interchange"
path = "exports/*.jsonl"

[[sources]]
name = "nps survey"
format = "survey"
path = "surveys/*.csv"
columns = "survey-columns.toml"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_one_command_ingests_profiles_and_syncs_everything(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    sf, hs = sandboxes
    config = targets_file(tmp_path, sf, hs, store=store_url)
    config.write_text(config.read_text(encoding="utf-8") + SOURCES, encoding="utf-8")
    sample = generate_sample(persons=14, seed=3, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    (tmp_path / "exports").mkdir()
    write_interchange(sample.records(), tmp_path / "exports" / "day1.jsonl")
    (tmp_path / "surveys").mkdir()
    shutil.copy(EXAMPLES / "survey-plain.csv", tmp_path / "surveys" / "nps.csv")
    shutil.copy(EXAMPLES / "survey-columns-plain.toml", tmp_path / "survey-columns.toml")
    seed_org(OrgRest(sf), sample.persons)
    seed_portal(hubspot_connector(hs).client.sdk, sample.persons)
    assert run("fields", "apply", "--config", str(config)).exit_code == 0

    first = run("run", "--config", str(config), "--as-of", NOW, "--json")

    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert first.exit_code == report["exit_code"], first.output
    by_name = {source["source"]: source for source in report["sources"]}
    assert [f["file"].rsplit("/", 1)[-1] for f in by_name["crm export"]["files"]] == ["day1.jsonl"]
    assert by_name["crm export"]["files"][0]["perceptions_new"] > 20
    assert by_name["nps survey"]["files"][0]["perceptions_new"] > 0
    assert report["profile"]["persons"] >= 14
    writable = [p for p in sample.persons if p.consent.granted and p.emails]
    assert [s["counts"]["written"] for s in report["syncs"]] == [len(writable)] * 2
    assert {s["target"] for s in report["syncs"]} == {"sf-contact", "hs-contact"}

    again = run("run", "--config", str(config), "--as-of", NOW, "--json")
    second = json.loads(again.stdout.strip().splitlines()[-1])
    assert by_name["crm export"]["files"][0]["perceptions_new"] > 0
    assert all(f["perceptions_new"] == 0 for s in second["sources"] for f in s["files"])
    assert [s["counts"]["written"] for s in second["syncs"]] == [0, 0]

    text = run("run", "--config", str(config), "--as-of", NOW)
    assert text.exit_code == second["exit_code"], text.output
    assert "ingest crm export: 1 files" in text.stdout and "relcrm sync" in text.stdout


def test_a_source_that_cannot_be_read_is_reported_and_the_rest_goes_on(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    sf, hs = sandboxes
    config = targets_file(tmp_path, sf, hs, store=store_url)
    config.write_text(config.read_text(encoding="utf-8") + SOURCES, encoding="utf-8")
    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "broken.csv").write_text("not,the,columns\n1,2,3\n", "utf-8")
    shutil.copy(EXAMPLES / "survey-columns-plain.toml", tmp_path / "survey-columns.toml")

    result = run("run", "--config", str(config), "--as-of", NOW, "--json", "-t")  # bad flag
    assert result.exit_code == 2
    result = run("run", "--config", str(config), "--as-of", NOW, "--json")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    survey = next(s for s in report["sources"] if s["source"] == "nps survey")
    assert survey["error_code"] and survey["message"]
    assert result.exit_code == report["exit_code"] == 2
    assert len(report["syncs"]) == 2  # the targets were still synced


def test_a_source_needs_what_its_format_needs(sandboxes: Sandboxes, tmp_path: Path) -> None:
    config = targets_file(tmp_path, *sandboxes)
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[[sources]]\nformat = "survey"\npath = "x.csv"\n',
        encoding="utf-8",
    )
    result = run("run", "--config", str(config))
    assert result.exit_code == 2
    assert "sources[0].columns" in result.output
