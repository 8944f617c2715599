"""relcrm sync / runs / dead-letters over both real sandboxes, as an ops job runs them."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.hubspot.tickets import seed_tickets
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.cases import seed_cases
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.testing.hubspot import hubspot_connector
from relcrm.testing.salesforce import OrgRest
from relcrm.testing.synthetic import generate_sample
from tests.admin.conftest import populate, targets_file

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


@pytest.fixture
def config(sandboxes: Sandboxes, tmp_path: Path, store_url: str) -> Path:
    """The targets file, its store on SQLite and (when available) PostgreSQL."""
    return targets_file(tmp_path, *sandboxes, store=store_url)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def prepare(config: Path, sandboxes: Sandboxes) -> int:
    """Both CRMs and the store ready for a first sync; how many persons consent."""
    return len(populate(config, sandboxes, persons=20, now=NOW))


def test_sync_twice_then_runs_and_dead_letters(
    config: Path, sandboxes: Sandboxes, store_url: str
) -> None:
    consenting = prepare(config, sandboxes)

    dry = run("sync", "--config", str(config), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert {r["target"]: r["counts"]["selected"] for r in lines(dry)} == {
        "sf-contact": consenting,
        "hs-contact": consenting,
    }
    assert all(r["counts"]["written"] == 0 and r["api_calls"] == 0 for r in lines(dry))

    first = run("sync", "--config", str(config), "--json")
    assert first.exit_code == 0, first.output
    assert [r["counts"]["written"] for r in lines(first)] == [consenting, consenting]
    assert all(r["status"] == "succeeded" and r["api_calls"] > 0 for r in lines(first))

    second = run("sync", "--config", str(config))
    assert second.exit_code == 0, second.output
    assert "relcrm sync" in second.stdout and "succeeded" in second.stdout

    history = lines(run("runs", "--config", str(config), "--json"))
    assert [h["status"] for h in history] == ["succeeded"] * 4
    assert sorted(h["counts"].get("written", 0) for h in history) == [
        0,
        0,
        consenting,
        consenting,
    ]
    assert "sf-contact" in run("runs", "--config", str(config)).stdout
    by_store = run("runs", "--store", store_url, "--json")
    assert len(lines(by_store)) == 4  # the store alone is enough to read the history

    assert run("dead-letters", "list", "--config", str(config), "--json").stdout == ""
    assert "no open dead letters" in run("dead-letters", "list", "--config", str(config)).stdout
    retried = run("dead-letters", "retry", "--config", str(config))
    assert retried.exit_code == 0 and "no open dead letters to retry" in retried.stdout


def test_limit_and_full(config: Path, sandboxes: Sandboxes) -> None:
    consenting = prepare(config, sandboxes)
    limited = run("sync", "--config", str(config), "-t", "hs-contact", "--limit", "3", "--json")
    assert [r["counts"]["written"] for r in lines(limited)] == [3]
    rest = run("sync", "--config", str(config), "-t", "hs-contact", "--json")
    assert [r["counts"]["written"] for r in lines(rest)] == [consenting - 3]
    full = run("sync", "--config", str(config), "-t", "hs-contact", "--full", "--json")
    assert [r["counts"]["written"] for r in lines(full)] == [consenting]


def test_unreachable_crm_exits_3_and_bad_config_exits_2(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sf, hs = sandboxes
    path = targets_file(
        tmp_path, sf, hs, extra="retry_attempts = 1  # fail fast\n", store=store_url
    )
    text = path.read_text(encoding="utf-8").replace(hs.base_url, f"https://127.0.0.1:{closed_port}")
    path.write_text(text, encoding="utf-8")
    sample = generate_sample(persons=6, seed=1, now=NOW)
    write_interchange(sample.records(), tmp_path / "sample.jsonl")
    with Store.open(store_url) as store:
        ingest_interchange(tmp_path / "sample.jsonl", store)
        list(profile_store(store, NOW))

    down = run("sync", "--config", str(path), "-t", "hs-contact", "--json")
    assert down.exit_code == 3, down.output
    (report,) = lines(down)
    assert report["status"] == "failed" and report["message"]
    assert hs.token not in down.output and sf.session_id not in down.output

    bad = run("sync", "--config", str(path), "-t", "no-such-target")
    assert bad.exit_code == 2 and "no-such-target" in bad.output


def test_ingest_cases_from_both_crms(config: Path, sandboxes: Sandboxes) -> None:
    prepare(config, sandboxes)
    sf, hs = sandboxes
    contacts = [r["Id"] for r in OrgRest(sf).query("SELECT Id FROM Contact")]
    seed_cases(sf.org, contacts, count=9, seed=2, now=NOW)
    hs_contacts = [
        str(c.id)
        for c in hubspot_connector(hs).client.sdk.crm.contacts.basic_api.get_page(limit=50).results
    ]
    seed_tickets(hs.portal, hs_contacts, count=7, seed=2, now=NOW)

    first = run("ingest", "--format", "cases", "--config", str(config), "--json")
    assert first.exit_code == 0, first.output
    reports = {r["source"]: r for r in lines(first)}
    assert reports["sf-contact cases"]["perceptions_new"] == 9
    assert reports["hs-contact cases"]["perceptions_new"] == 7
    assert all(r["analyzed"] == r["perceptions_new"] for r in reports.values())

    again = run("ingest", "--format", "cases", "--config", str(config), "--json")
    assert [r["perceptions_new"] for r in lines(again)] == [0, 0]
    assert run("ingest", "--format", "cases").exit_code == 2  # which CRMs? --config
