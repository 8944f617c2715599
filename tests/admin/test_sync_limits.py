"""What an ops team sees beyond the counts (issue 11): persons no CRM record matched are
listed, a run where nobody matched is not "succeeded", limits on unmatched and rejected
records turn a run into exit 1, and the run's figures reach a Prometheus textfile."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.limits import Limit, RunLimits
from relcrm.testing.salesforce import OrgRest, seed_org
from relcrm.testing.synthetic import generate_sample
from tests.admin.conftest import targets_file

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def reports(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _world(tmp_path: Path, sandboxes: Sandboxes, store_url: str, in_crm: int | None) -> list[str]:
    """A profiled sample in the store; the first ``in_crm`` of them (all when None) in the
    Salesforce org; the fields applied. Returns the ids a sync would write."""
    config = targets_file(tmp_path, *sandboxes, store=store_url)
    sample = generate_sample(persons=16, seed=5, now=NOW)
    write_interchange(sample.records(), tmp_path / "sample.jsonl")
    with Store.open(store_url) as store:
        ingest_interchange(tmp_path / "sample.jsonl", store)
        list(profile_store(store, NOW))
    writable = [p for p in sample.persons if p.consent.granted and p.emails]
    chosen = writable if in_crm is None else writable[:in_crm]
    seed_org(OrgRest(sandboxes[0]), chosen)
    applied = run("fields", "apply", "--config", str(config), "-t", "sf-contact")
    assert applied.exit_code == 0, applied.output
    return [p.id for p in writable]


def test_unmatched_persons_are_listed_and_a_limit_makes_the_run_exit_1(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    writable = _world(tmp_path, sandboxes, store_url, in_crm=5)
    config = str(tmp_path / "relcrm.toml")
    missing = sorted(writable[5:])

    result = run("sync", "--config", config, "-t", "sf-contact", "--max-unmatched", "10%", "--json")

    assert result.exit_code == 1, result.output
    (report,) = reports(result)
    assert report["status"] == "succeeded" and report["counts"]["written"] == 5
    assert report["counts"]["unmatched"] == len(missing)
    assert sorted(report["unmatched"]) == missing[: len(report["unmatched"])]
    assert "matched no record (limit 10%)" in report["threshold_breach"]
    listed = run("unmatched", "--config", config, "--json")
    assert listed.exit_code == 0, listed.output
    assert sorted(r["person_id"] for r in reports(listed) if r["target"] == "sf-contact") == missing
    text = run("unmatched", "--config", config, "-t", "sf-contact")
    assert f"sf-contact: {len(missing)} unmatched" in text.stdout
    # Generous limits: the same run is a success for the scheduler.
    again = run("sync", "--config", config, "-t", "sf-contact", "--max-unmatched", "50", "--json")
    assert again.exit_code == 0 and reports(again)[0]["threshold_breach"] is None


def test_a_run_where_nobody_matched_is_not_succeeded(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    writable = _world(tmp_path, sandboxes, store_url, in_crm=0)
    result = run("sync", "--config", str(tmp_path / "relcrm.toml"), "-t", "sf-contact", "--json")
    assert result.exit_code == 1, result.output
    (report,) = reports(result)
    assert report["status"] == "partial" and report["error_code"] == "sync.nobody_matched"
    assert report["counts"]["unmatched"] == len(writable) and report["counts"]["written"] == 0


def test_the_runs_figures_reach_a_prometheus_textfile(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    writable = _world(tmp_path, sandboxes, store_url, in_crm=None)
    metrics = tmp_path / "metrics" / "relcrm.prom"
    metrics.parent.mkdir()
    result = run(
        "sync", "--config", str(tmp_path / "relcrm.toml"), "-t", "sf-contact",
        "--metrics-file", str(metrics),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = metrics.read_text(encoding="utf-8")
    assert "# TYPE relcrm_sync_persons gauge" in text
    assert (
        f'relcrm_sync_persons{{target="sf-contact",status="succeeded",outcome="written"}} '
        f"{len(writable)}" in text
    )
    assert 'relcrm_sync_api_calls{target="sf-contact"' in text


@pytest.mark.parametrize(
    ("text", "count", "base", "exceeded"),
    [("5", 5, 100, False), ("5", 6, 100, True), ("5%", 5, 100, False), ("5%", 6, 100, True)],
)
def test_limits_are_counts_or_shares(text: str, count: int, base: int, exceeded: bool) -> None:
    assert Limit.parse(text, "--max-unmatched").exceeded(count, base) is exceeded


def test_a_bad_limit_is_a_configuration_error(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    config = targets_file(tmp_path, *sandboxes, store=store_url)
    result = run("sync", "--config", str(config), "--max-rejected", "120%")
    assert result.exit_code == 2 and "--max-rejected" in result.output
    assert RunLimits.parse(None, "3").rejected == Limit(3, False)
