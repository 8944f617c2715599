"""What `relcrm sandbox dataverse|zoho --write-config` writes for a sandbox started with other
limits, and four sandboxes sharing one folder: every target kept, each loadable and each
connector built from the files reaching its sandbox (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.cli.sandbox_command import (
    dataverse_target,
    hubspot_target,
    salesforce_target,
    write_config,
    zoho_target,
)
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.hubspot import running_hubspot_sandbox
from relcrm.sandbox.salesforce import running_sandbox
from relcrm.sandbox.zoho import LimitsConfig, running_zoho_sandbox
from relcrm.sync.config import build_connector, load_config


def test_targets_carry_the_limits_the_sandboxes_enforce(tmp_path: Path) -> None:
    zoho_limits = LimitsConfig(edition="professional", licences=3, credits=900)
    with (
        running_dataverse_sandbox(rate_limit="100/10s") as dv,
        running_zoho_sandbox(limits=zoho_limits) as zo,
    ):
        dv_settings = dataverse_target(dv).settings
        assert (dv_settings["rate_limit_max"], dv_settings["rate_limit_window_s"]) == (100, 10.0)
        zo_target = zoho_target(zo)
        assert {k: zo_target.settings[k] for k in ("edition", "licences", "credits_per_day")} == {
            "edition": "professional",
            "licences": 3,
            "credits_per_day": 900,
        }
        write_config(tmp_path, dataverse_target(dv))
        write_config(tmp_path, zo_target)
        config = load_config(tmp_path / "relcrm.toml")
        built = {t.connector: build_connector(t) for t in config.targets}
        assert built["dataverse"].capabilities.rate_policy is not None
        assert built["dataverse"].capabilities.rate_policy.requests == 100
        assert built["zoho"].capabilities.rate_policy is not None
        assert built["zoho"].capabilities.rate_policy.requests == 900


def test_four_sandboxes_share_one_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    with (
        running_sandbox() as sf,
        running_hubspot_sandbox() as hs,
        running_dataverse_sandbox() as dv,
        running_zoho_sandbox() as zo,
    ):
        for target in (
            dataverse_target(dv),
            salesforce_target(sf),
            zoho_target(zo),
            hubspot_target(hs),
        ):
            write_config(tmp_path, target)
        config = load_config(tmp_path / "relcrm.toml")
        assert [t.name for t in config.targets] == [
            "zoho-contact",
            "salesforce-contact",
            "hubspot-contact",
            "dataverse-contact",
        ]
        for target in config.targets:
            assert target.secrets_file is not None and target.secrets_file.exists()
            assert build_connector(target).describe(target.mapping.object)  # over verified TLS
        check = CliRunner().invoke(app, ["mapping", "check", "--config", "relcrm.toml"])
        assert check.exit_code == 1, check.output  # all four reached; the fields are missing
        for name in ("zoho-contact", "salesforce-contact", "hubspot-contact", "dataverse-contact"):
            assert name in check.stdout
        # a restarted Dataverse sandbox replaces its own target only
        with running_dataverse_sandbox() as again:
            write_config(tmp_path, dataverse_target(again))
        urls = {
            t.connector: t.settings.get("environment_url")
            for t in load_config("relcrm.toml").targets
        }
        assert len(urls) == 4 and urls["dataverse"] == again.environment_url


def test_bad_files_for_the_new_sandboxes_are_messages(tmp_path: Path) -> None:
    runner = CliRunner()
    for crm in ("dataverse", "zoho"):
        missing = runner.invoke(app, ["sandbox", crm, "--faults", str(tmp_path / "no.json")])
        assert missing.exit_code == 2 and "no such file" in missing.output
        (tmp_path / "bad.json").write_text('{"unavailable_rate": "often"}', encoding="utf-8")
        bad = runner.invoke(app, ["sandbox", crm, "--faults", str(tmp_path / "bad.json")])
        assert bad.exit_code == 2 and "not a fault plan" in bad.output
        contacts = runner.invoke(app, ["sandbox", crm, "--contacts", str(tmp_path / "no.jsonl")])
        assert contacts.exit_code == 2 and "no such file" in contacts.output
