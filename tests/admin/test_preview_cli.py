"""``relcrm mapping preview`` and ``relcrm sync --dry-run`` as an admin runs them, over
both real sandboxes: what a sync would write per person and field, before and after it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from tests.admin.conftest import populate

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_preview_before_and_after_a_sync(config: Path, sandboxes: Sandboxes) -> None:
    consenting = populate(config, sandboxes, persons=12, now=NOW)
    person = consenting[0].id
    for sandbox in sandboxes:
        sandbox.log.clear()

    before = run("mapping", "preview", "--config", str(config), person, "ghost-1", "--json")
    assert before.exit_code == 2, before.output
    assert "no person 'ghost-1' in the store" in before.stderr
    assert "[sync.unknown_person]" in before.stderr
    records = lines(before)
    assert [(r["target"], r["person_id"], r["action"]) for r in records] == [
        ("sf-contact", person, "send"),
        ("hs-contact", person, "send"),
    ]
    for record in records:
        assert {f["state"] for f in record["fields"]} <= {"send", "withheld"}
        assert {f["last_written"] for f in record["fields"]} == {"never"}
        assert all(f["differs"] for f in record["fields"])
        by_source = {f["source"]: f for f in record["fields"]}
        assert {"preferences.channel", "preferences.topic", "health"} <= set(by_source)
    assert all(sandbox.log.calls() == [] for sandbox in sandboxes)  # the CRMs are not asked

    dry = run("sync", "--config", str(config), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert [r["status"] for r in lines(dry)] == ["dry run", "dry run"]

    synced = run("sync", "--config", str(config), "--json")
    assert synced.exit_code == 0, synced.output
    after = run(
        "mapping", "preview", "--config", str(config), "--target", "hs-contact", person, "--json"
    )
    assert after.exit_code == 0, after.output
    (record,) = lines(after)
    assert record["target"] == "hs-contact" and record["action"] == "unchanged"
    assert {f["state"] for f in record["fields"]} == {"unchanged"}
    assert not any(f["differs"] for f in record["fields"])

    human = run("mapping", "preview", "--config", str(config), "--target", "sf-contact", person)
    assert human.exit_code == 0, human.output
    assert f"sf-contact: {person} (unchanged)" in human.stdout
    assert "relcrm_Preferred_Channel__c" in human.stdout and "unchanged" in human.stdout
