"""`relcrm sandbox dataverse --write-config DIR --contacts FILE`, then the admin and ops
commands on the targets file it wrote, with the shipped dataverse-contact and
dataverse-lead mappings; what the environment holds is read through its Web API, with the
app registration the sandbox wrote (issue 12)."""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from relcrm.mapping import load_shipped
from relcrm.sync.config import load_config
from tests.admin.crm_cli import World, dotenv, plan_apply_check, run, secrets_absent, sync_twice
from tests.admin.crm_cli import world as world

pytestmark = pytest.mark.slow

CRM = "dataverse"
FIELDS = sorted(load_shipped("dataverse-contact").field_names())
FORMATTED = "@OData.Community.Display.V1.FormattedValue"


def environment(
    world: World, fields: list[str], tables: tuple[str, ...] = ("contact", "lead")
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record of ``tables`` with ``fields``, by table and lower-cased email, choices
    as their labels: the Web API as any client reads it (client credentials, the CA the
    sandbox wrote)."""
    parsed = tomllib.loads(world.config.read_text(encoding="utf-8"))
    (target,) = [t for t in parsed["targets"] if t["connector"] == "dataverse"]
    settings = target["settings"]
    secret = dotenv(world.folder / target["secrets_file"])["RELCRM_DATAVERSE_CLIENT_SECRET"]
    context = ssl.create_default_context(cafile=str(world.folder / settings["ca_file"]))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    with httpx.Client(verify=context, trust_env=False, timeout=30) as http:
        token = http.post(
            f"{settings['authority_url']}/{settings['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": settings["client_id"],
                "client_secret": secret,
                "scope": f"{settings['environment_url']}/.default",
            },
        ).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"',
        }
        for table in tables:
            url: str | None = f"{settings['environment_url']}/api/data/v9.2/{table}s"
            params: dict[str, str] | None = {"$select": ",".join(["emailaddress1", *fields])}
            rows: dict[str, dict[str, Any]] = {}
            while url:
                page = http.get(url, params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                for row in body["value"]:
                    values = {
                        name: row.get(name + FORMATTED)
                        if isinstance(row.get(name), int) and not isinstance(row.get(name), bool)
                        else row.get(name)
                        for name in fields
                    }
                    rows[str(row["emailaddress1"]).casefold()] = values
                url, params = body.get("@odata.nextLink"), None
            found[table] = rows
    return found


def assert_holds_profiles(world: World, rows: dict[str, dict[str, Any]], emails: set[str]) -> None:
    """The records of ``emails`` hold what ``relcrm profile`` computed for their persons."""
    for email in emails:
        row, profile = rows[email], world.profiles[email]
        assert row["relcrm_segment"] == profile["segment"], email
        assert row["relcrm_health_band"] == profile["band"], email
        assert row["relcrm_archetype"] == profile["archetype"], email
        assert row["relcrm_health"] == pytest.approx(profile["health"], abs=0.05), email
        assert row["relcrm_needs_outreach"] is profile["needs_outreach"], email
        assert row["relcrm_churn_risk"] is profile["churn_risk"], email
        assert row["relcrm_reasons"] and row["relcrm_scored_at"], email


def test_write_config_names_the_sandbox(world: World) -> None:
    config = load_config(world.config)
    (target,) = config.targets
    assert (target.name, target.connector, target.mapping.target) == (
        "dataverse-contact",
        "dataverse",
        "dataverse-contact",
    )
    printed = "\n".join(world.sandbox.lines)
    assert f"environment URL: {target.settings['environment_url']}" in printed
    assert "seeded from sample.jsonl" in printed
    secret = dotenv(world.folder / "dataverse.env")["RELCRM_DATAVERSE_CLIENT_SECRET"]
    assert secret and secret not in world.config.read_text(encoding="utf-8")
    held = environment(world, [])
    assert set(held["lead"]) == world.leads  # seeded: the sample's leads as leads
    assert set(held["contact"]) | world.leads == world.consenting | world.refusing


def test_contact_mapping_plan_apply_check_sync(world: World) -> None:
    plan_apply_check(world.config, "dataverse-contact", ["contact", "lead"])
    report = sync_twice(world.config, len(world.consenting))
    assert report["counts"]["skipped_no_consent"] == len(world.refusing)
    held = environment(world, FIELDS)
    everyone = {**held["contact"], **held["lead"]}
    assert_holds_profiles(world, everyone, world.consenting)
    assert all(everyone[e]["relcrm_segment"] is None for e in world.refusing)
    assert {e for e in world.consenting if e in held["lead"]} == world.consenting & world.leads
    secrets_absent(world, run("sync", "--config", str(world.config)).output)


def test_lead_mapping_plan_apply_check_sync(world: World) -> None:
    config = world.target_copy("dataverse-lead")
    assert [t.mapping.target for t in load_config(config).targets] == ["dataverse-lead"]
    plan_apply_check(config, "dataverse-lead", ["lead"])
    consenting_leads = world.consenting & world.leads
    report = sync_twice(config, len(consenting_leads))
    assert report["counts"]["unmatched"] == len(world.consenting - world.leads)
    held = environment(world, FIELDS, ("lead",))
    assert_holds_profiles(world, held["lead"], consenting_leads)
    assert all(held["lead"][e]["relcrm_segment"] is None for e in world.leads - world.consenting)
    contact = run("mapping", "check", "--config", str(world.config))
    assert contact.exit_code == 1, contact.output  # nothing was created on contact


@pytest.mark.parametrize("spec", ["lots", "0/300s"])
def test_a_bad_rate_limit_is_a_message(spec: str, tmp_path: Path) -> None:
    done = run("sandbox", "dataverse", "--rate-limit", spec)
    assert done.exit_code == 2, done.output
    assert "rate limit" in done.output and "sandbox.bad_rate_limit" in done.output
