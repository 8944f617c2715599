"""The admin commands against a sandbox started as a user starts it: ``relcrm sandbox CRM
--write-config DIR --contacts sample.jsonl`` in a subprocess, then ``relcrm ingest``,
``profile``, ``fields plan|apply``, ``mapping check`` and ``sync`` on the targets file it
wrote. Shared by the Dataverse and Zoho CLI tests; what each CRM holds is read by the test
itself, through the CRM's API with the credentials the sandbox wrote (never relcrm's
connector)."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.mapping import load_shipped
from tests.cli_sandboxes import RELCRM, SandboxProcess, relcrm_env

PERSONS = 40
SEED = 11


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def dotenv(path: Path) -> dict[str, str]:
    """A secrets file's ``NAME=value`` lines."""
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {p[0]: p[1] for p in pairs if len(p) == 2 and not p[0].startswith("#")}


@dataclass
class World:
    """A running sandbox, the folder it wrote its configuration into, and the store's
    view of the sample: profiles and consent by email."""

    folder: Path
    config: Path
    sandbox: SandboxProcess
    profiles: dict[str, dict[str, Any]]
    """Lower-cased email -> ``relcrm profile --json`` object."""
    consenting: set[str]
    refusing: set[str]
    leads: set[str]
    """Emails of the persons the sample knows as leads (seeded as leads)."""

    def target_copy(self, mapping: str) -> Path:
        """The sandbox's targets file with another shipped mapping (and target name), as
        an admin edits it; beside the original, so relative paths still resolve."""
        text = self.config.read_text(encoding="utf-8")
        text = re.sub(r'^(name|mapping) = "[^"]+"', rf'\1 = "{mapping}"', text, flags=re.M)
        copy = self.folder / f"{mapping}.toml"
        copy.write_text(text, encoding="utf-8")
        return copy


def _sample(folder: Path) -> tuple[set[str], set[str], set[str]]:
    sample = folder / "sample.jsonl"
    done = run("sample", "--out", str(sample), "--persons", str(PERSONS), "--seed", str(SEED))
    assert done.exit_code == 0, done.output
    consenting: set[str] = set()
    refusing: set[str] = set()
    leads: set[str] = set()
    for line in sample.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") != "person" or not record.get("emails"):
            continue
        email = str(record["emails"][0]).casefold()
        granted = (record.get("consent") or {}).get("granted")
        (consenting if granted else refusing).add(email)
        objects = {str(r.get("object", "")).lower() for r in record.get("crm_records") or []}
        if objects & {"lead", "leads"}:
            leads.add(email)
    return consenting, refusing, leads


@pytest.fixture
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """``relcrm sandbox <crm>`` (the test module's ``CRM``) started with ``--write-config``
    and ``--contacts``, and the sample ingested and profiled into the targets file's store."""
    crm: str = request.module.CRM
    for key in list(os.environ):
        if key.startswith(("RELCRM_DATAVERSE_", "RELCRM_ZOHO_", "RELCRM_STORE")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    consenting, refusing, leads = _sample(tmp_path)
    assert consenting & leads, "the sample should hold a consenting lead"
    assert leads and refusing, "the sample should hold leads and persons who refuse"
    folder = tmp_path / "conf"
    keys = tmp_path / "keys"
    keys.mkdir()
    process = SandboxProcess(
        [*RELCRM, "sandbox", crm, "--write-config", str(folder), "--contacts", "sample.jsonl"],
        cwd=tmp_path,
        env=relcrm_env(TMPDIR=str(keys)),
    )
    try:
        process.wait_until(lambda lines: any(line.startswith("try:") for line in lines))
        config = folder / "relcrm.toml"
        store = str(folder / "relcrm.db")
        assert run("ingest", "sample.jsonl", "--store", store).exit_code == 0
        profiled = run("profile", "--json", "--store", store)
        assert profiled.exit_code == 0, profiled.output
        by_id = {p["person_id"]: p for p in json_lines(profiled)}
        emails = _emails_by_person(tmp_path / "sample.jsonl")
        profiles = {emails[pid]: p for pid, p in by_id.items() if pid in emails}
        yield World(folder, config, process, profiles, consenting, refusing, leads)
    finally:
        assert process.stop(signal.SIGTERM) == 0
    assert list(keys.iterdir()) == []  # the sandbox deleted its keys


def _emails_by_person(sample: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in sample.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "person" and record.get("emails"):
            found[record["id"]] = str(record["emails"][0]).casefold()
    return found


def plan_apply_check(config: Path, mapping: str, created_on: list[str]) -> None:
    """``fields plan`` shows the shipped ``mapping``'s fields to create (and on which
    fallback objects), ``mapping check`` fails before ``fields apply`` and passes after
    it, and a second plan has nothing left to do."""
    count = len(load_shipped(mapping).field_names())
    plan = run("fields", "plan", "--config", str(config))
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.count("+ create relcrm_") == count, plan.output
    for other in created_on[1:]:
        assert f"on {other} (persons matched there are written too): create {count}" in plan.stdout
    before = run("mapping", "check", "--config", str(config))
    assert before.exit_code == 1, before.output  # connected; the fields are missing
    applied = run("fields", "apply", "--config", str(config))
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.count("+ created relcrm_") == count, applied.output
    after = run("mapping", "check", "--config", str(config))
    assert after.exit_code == 0, after.output
    again = run("fields", "plan", "--config", str(config))
    assert again.exit_code == 0 and "+ create" not in again.stdout, again.output


def sync_twice(config: Path, written: int) -> dict[str, Any]:
    """A first ``relcrm sync`` writes ``written`` persons; a second writes nothing.
    Returns the first run's report."""
    first = run("sync", "--config", str(config), "--json")
    assert first.exit_code == 0, first.output
    (report,) = json_lines(first)
    assert report["status"] == "succeeded", report
    assert report["counts"]["written"] == written, report
    assert report["api_calls"] > 0
    second = run("sync", "--config", str(config), "--json")
    assert second.exit_code == 0, second.output
    (again,) = json_lines(second)
    assert again["status"] == "succeeded", again
    assert again["counts"]["written"] == 0 and again["counts"]["fields_sent"] == 0, again
    assert again["counts"]["unchanged"] == written, again
    return dict(report)


def secrets_absent(world: World, output: str) -> None:
    """No secret of the sandbox's secrets file appears in ``output``."""
    (secrets_file,) = world.folder.glob("*.env")
    for value in dotenv(secrets_file).values():
        assert value not in output
