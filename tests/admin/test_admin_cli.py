"""relcrm mapping check / fields plan / fields apply, over both real sandboxes.

The targets file is a real file; secrets come from the environment; the sandboxes'
request logs prove what was (not) written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.models import FieldSpec
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sync.config import build_connector, load_config

runner = CliRunner()
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result


def check(config: Path, target: str | None = None) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """Exit code and each target's problems (from --json)."""
    extra = ["--target", target] if target else []
    result = run("mapping", "check", "--config", str(config), "--json", *extra)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, {line["target"]: line["problems"] for line in lines}


def writes(sandboxes: Sandboxes) -> list[str]:
    return [
        f"{c.method} {c.path}"
        for sandbox in sandboxes
        for c in sandbox.log.calls()
        if c.method != "GET"
    ]


def provision_variant(config: Path, target: str, name: str, **change: Any) -> None:
    """Create one mapped field in the CRM, through the connector, differing from the
    mapping by ``change`` (too short, fewer picklist values...)."""
    (item,) = load_config(config).select(target)
    spec: FieldSpec = next(s for s in item.mapping.field_specs() if s.name == name)
    build_connector(item).provision(item.mapping.object, [spec.model_copy(update=change)])


def test_the_admin_workflow(config: Path, sandboxes: Sandboxes) -> None:
    code, problems = check(config)
    assert code == 1
    assert {p["kind"] for ps in problems.values() for p in ps} == {"missing"}
    assert len(problems["sf-contact"]) == len(problems["hs-contact"]) == 15

    for sandbox in sandboxes:
        sandbox.log.clear()
    plan = run("fields", "plan", "--config", str(config))
    assert plan.exit_code == 0, plan.output
    assert "+ create relcrm_Health__c number(5, 1)" in plan.stdout
    assert "+ create relcrm_health_band picklist [restricted: healthy, watch" in plan.stdout
    assert "create the relcrm permission set" in plan.stdout
    assert "create the relcrm property group" in plan.stdout
    assert writes(sandboxes) == []  # a plan reads only

    applied = run("fields", "apply", "--config", str(config), "--json")
    assert applied.exit_code == 0, applied.output
    created = {
        line["target"]: line["created"] for line in map(json.loads, applied.stdout.splitlines())
    }
    assert len(created["sf-contact"]) == len(created["hs-contact"]) == 15
    assert writes(sandboxes)

    for sandbox in sandboxes:
        sandbox.log.clear()
    again = run("fields", "apply", "--config", str(config))
    assert again.exit_code == 0 and again.stdout.count("nothing to create or change") == 2
    assert writes(sandboxes) == []  # the second apply creates nothing

    assert check(config) == (0, {"sf-contact": [], "hs-contact": []})
    human = run("mapping", "check", "--config", str(config), "--target", "hs-contact")
    assert (
        human.exit_code == 0 and "hs-contact" in human.stdout and "sf-contact" not in human.stdout
    )


def test_salesforce_too_short_missing_value_and_read_only(
    config: Path, sandboxes: Sandboxes
) -> None:
    provision_variant(config, "sf-contact", "relcrm_Dominant_Emotion__c", length=10)
    provision_variant(
        config, "sf-contact", "relcrm_Health_Band__c", picklist_values=("healthy", "watch")
    )

    code, problems = check(config, "sf-contact")
    by_field = {p["field"]: p for p in problems["sf-contact"]}
    assert code == 1
    assert by_field["relcrm_Dominant_Emotion__c"]["kind"] == "length"
    assert "holds 10 characters" in by_field["relcrm_Dominant_Emotion__c"]["problem"]
    assert by_field["relcrm_Health_Band__c"]["kind"] == "picklist"
    assert "at_risk, unknown" in by_field["relcrm_Health_Band__c"]["problem"]
    assert by_field["relcrm_Trend__c"]["kind"] == "missing"
    human = run("mapping", "check", "--config", str(config), "--target", "sf-contact")
    line = next(x for x in human.stdout.splitlines() if "relcrm_Dominant_Emotion__c" in x)
    assert "fix: raise the field's length to 20" in line

    plan = run("fields", "plan", "--config", str(config), "--target", "sf-contact").stdout
    assert "+ create relcrm_Trend__c" in plan
    assert "by hand: relcrm_Dominant_Emotion__c" in plan
    assert "by hand: relcrm_Health_Band__c" in plan  # Salesforce: options are not added

    applied = run("fields", "apply", "--config", str(config), "--target", "sf-contact")
    assert applied.exit_code == 1  # the grant is fixed; length and picklist remain
    code, problems = check(config, "sf-contact")
    assert {p["field"] for p in problems["sf-contact"]} == {
        "relcrm_Dominant_Emotion__c",
        "relcrm_Health_Band__c",
    }


def test_salesforce_read_only_field(config: Path, sandboxes: Sandboxes, tmp_path: Path) -> None:
    """A mapping onto a field the integration user cannot edit (CreatedDate).

    The sandbox's describe does not yet reflect a read-only field-level grant in
    ``updateable``, so a system read-only field stands in for one.
    """
    (tmp_path / "readonly.toml").write_text(
        'target = "ro"\nconnector = "salesforce"\nobject = "Contact"\n'
        '[[fields]]\nname = "CreatedDate"\nsource = "as_of"\ntype = "datetime"\n',
        encoding="utf-8",
    )
    text = config.read_text(encoding="utf-8").replace(
        'mapping = "salesforce-contact"', 'mapping = "readonly.toml"'
    )
    config.write_text(text, encoding="utf-8")
    code, problems = check(config, "sf-contact")
    assert code == 1 and [p["kind"] for p in problems["sf-contact"]] == ["read_only"]
    assert "edit access" in problems["sf-contact"][0]["fix"]
    plan = run("fields", "plan", "--config", str(config), "--target", "sf-contact").stdout
    assert "by hand: CreatedDate: is read-only" in plan


def test_hubspot_missing_option_is_added_and_read_only_is_reported(
    config: Path, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    provision_variant(
        config, "hs-contact", "relcrm_health_band", picklist_values=("healthy", "watch")
    )
    code, problems = check(config, "hs-contact")
    band = next(p for p in problems["hs-contact"] if p["field"] == "relcrm_health_band")
    assert code == 1 and band["kind"] == "picklist"
    plan = run("fields", "plan", "--config", str(config), "--target", "hs-contact").stdout
    assert "add options at_risk, unknown to relcrm_health_band" in plan
    assert run("fields", "apply", "--config", str(config), "--target", "hs-contact").exit_code == 0
    assert check(config, "hs-contact") == (0, {"hs-contact": []})

    # a mapping onto HubSpot's own read-only property
    (tmp_path / "readonly.toml").write_text(
        'target = "ro"\nconnector = "hubspot"\nobject = "contacts"\n'
        '[[fields]]\nname = "hs_object_id"\nsource = "health"\ntype = "number"\n'
        "precision = 5\nscale = 1\n",
        encoding="utf-8",
    )
    text = config.read_text(encoding="utf-8").replace(
        'mapping = "hubspot-contact"', 'mapping = "readonly.toml"'
    )
    config.write_text(text, encoding="utf-8")
    code, problems = check(config, "hs-contact")
    assert code == 1 and [p["kind"] for p in problems["hs-contact"]] == ["read_only"]
    plan = run("fields", "plan", "--config", str(config), "--target", "hs-contact").stdout
    assert "by hand: hs_object_id: is read-only" in plan


def test_mapping_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "mapping.schema.json"
    assert run("mapping", "schema", "--out", str(out)).exit_code == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema["title"] == "relcrm mapping" and "fields" in schema["properties"]
    assert json.loads(run("mapping", "schema").stdout) == schema


def test_exit_codes_for_config_and_credentials(
    config: Path, sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8") + 'password = "x"\n', encoding="utf-8")
    for command in (["mapping", "check"], ["fields", "plan"], ["fields", "apply"]):
        result = run(*command, "--config", str(bad))
        assert result.exit_code == 2, result.output
        assert "RELCRM_HUBSPOT_PASSWORD" in result.stderr
    assert run("mapping", "check", "--config", str(config), "--target", "x").exit_code == 2
    assert run("fields", "plan", "--config", str(tmp_path / "none.toml")).exit_code == 2

    monkeypatch.setenv("RELCRM_HUBSPOT_ACCESS_TOKEN", "pat-na1-wrong")
    result = run("mapping", "check", "--config", str(config), "--target", "hs-contact")
    assert result.exit_code == 3, result.output
    assert "pat-na1-wrong" not in result.output + result.stderr
    monkeypatch.setenv("RELCRM_SALESFORCE_SESSION_ID", "00Dwrong!session")
    result = run("fields", "plan", "--config", str(config), "--target", "sf-contact")
    assert result.exit_code == 3, result.output
    monkeypatch.delenv("RELCRM_SALESFORCE_SESSION_ID")
    result = run("mapping", "check", "--config", str(config), "--target", "sf-contact")
    assert result.exit_code == 2 and "no Salesforce credentials" in result.stderr
