"""`relcrm sandbox zoho --write-config DIR --contacts FILE`, then the admin and ops commands
on the targets file it wrote, with the shipped zoho-contact and zoho-lead mappings; what
the org holds is read through the CRM API, with the OAuth client and refresh token the
sandbox wrote (issue 12)."""

from __future__ import annotations

import ssl
import tomllib
from typing import Any

import httpx
import pytest

from relcrm.mapping import load_shipped
from relcrm.sync.config import load_config
from tests.admin.crm_cli import World, dotenv, plan_apply_check, run, secrets_absent, sync_twice
from tests.admin.crm_cli import world as world

pytestmark = pytest.mark.slow

CRM = "zoho"
FIELDS = sorted(load_shipped("zoho-contact").field_names())


def org(
    world: World, fields: list[str], modules: tuple[str, ...] = ("Contacts", "Leads")
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record of ``modules`` with ``fields``, by module and lower-cased email: the
    CRM API as any client reads it (a refresh-token grant, the CA the sandbox wrote)."""
    parsed = tomllib.loads(world.config.read_text(encoding="utf-8"))
    (target,) = [t for t in parsed["targets"] if t["connector"] == "zoho"]
    settings = target["settings"]
    secrets = dotenv(world.folder / target["secrets_file"])
    context = ssl.create_default_context(cafile=str(world.folder / settings["ca_file"]))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    with httpx.Client(verify=context, trust_env=False, timeout=30) as http:
        token = http.post(
            f"{settings['accounts_url']}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": secrets["RELCRM_ZOHO_CLIENT_ID"],
                "client_secret": secrets["RELCRM_ZOHO_CLIENT_SECRET"],
                "refresh_token": secrets["RELCRM_ZOHO_REFRESH_TOKEN"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Zoho-oauthtoken {token}"}
        for module in modules:
            rows: dict[str, dict[str, Any]] = {}
            page, more = 1, True
            while more:
                answer = http.get(
                    f"{settings['api_domain']}/crm/v8/{module}",
                    params={"fields": ",".join(["Email", *fields]), "page": str(page)},
                    headers=headers,
                )
                if answer.status_code == 204:  # no records
                    break
                assert answer.status_code == 200, answer.text
                body = answer.json()
                for row in body["data"]:
                    rows[str(row["Email"]).casefold()] = {name: row.get(name) for name in fields}
                page, more = page + 1, bool(body["info"]["more_records"])
            found[module] = rows
    return found


def assert_holds_profiles(world: World, rows: dict[str, dict[str, Any]], emails: set[str]) -> None:
    """The records of ``emails`` hold what ``relcrm profile`` computed for their persons."""
    for email in emails:
        row, profile = rows[email], world.profiles[email]
        assert row["relcrm_Segment"] == profile["segment"], email
        assert row["relcrm_Health_Band"] == profile["band"], email
        assert row["relcrm_Archetype"] == profile["archetype"], email
        assert row["relcrm_Health"] == pytest.approx(profile["health"], abs=0.05), email
        assert row["relcrm_Needs_Outreach"] is profile["needs_outreach"], email
        assert row["relcrm_Churn_Risk"] is profile["churn_risk"], email
        assert row["relcrm_Reasons"] and row["relcrm_Scored_At"], email


def test_write_config_names_the_sandbox(world: World) -> None:
    config = load_config(world.config)
    (target,) = config.targets
    assert (target.name, target.connector, target.mapping.target) == (
        "zoho-contact",
        "zoho",
        "zoho-contact",
    )
    assert target.settings["edition"] == "enterprise"
    printed = "\n".join(world.sandbox.lines)
    assert f"API domain:    {target.settings['api_domain']}" in printed
    assert "seeded from sample.jsonl" in printed
    secrets = dotenv(world.folder / "zoho.env")
    assert set(secrets) == {
        "RELCRM_ZOHO_CLIENT_ID",
        "RELCRM_ZOHO_CLIENT_SECRET",
        "RELCRM_ZOHO_REFRESH_TOKEN",
    }
    text = world.config.read_text(encoding="utf-8")
    assert all(value not in text for value in secrets.values())
    held = org(world, [])
    assert set(held["Leads"]) == world.leads  # seeded: the sample's leads as Leads
    assert set(held["Contacts"]) | world.leads == world.consenting | world.refusing


def test_contact_mapping_plan_apply_check_sync(world: World) -> None:
    plan_apply_check(world.config, "zoho-contact", ["Contacts", "Leads"])
    report = sync_twice(world.config, len(world.consenting))
    assert report["counts"]["skipped_no_consent"] == len(world.refusing)
    held = org(world, FIELDS)
    everyone = {**held["Contacts"], **held["Leads"]}
    assert_holds_profiles(world, everyone, world.consenting)
    assert all(everyone[e]["relcrm_Segment"] is None for e in world.refusing)
    assert {e for e in world.consenting if e in held["Leads"]} == world.consenting & world.leads
    secrets_absent(world, run("sync", "--config", str(world.config)).output)


def test_lead_mapping_plan_apply_check_sync(world: World) -> None:
    config = world.target_copy("zoho-lead")
    assert [t.mapping.target for t in load_config(config).targets] == ["zoho-lead"]
    plan_apply_check(config, "zoho-lead", ["Leads"])
    consenting_leads = world.consenting & world.leads
    report = sync_twice(config, len(consenting_leads))
    assert report["counts"]["unmatched"] == len(world.consenting - world.leads)
    held = org(world, FIELDS, ("Leads",))
    assert_holds_profiles(world, held["Leads"], consenting_leads)
    assert all(held["Leads"][e]["relcrm_Segment"] is None for e in world.leads - world.consenting)
    contact = run("mapping", "check", "--config", str(world.config))
    assert contact.exit_code == 1, contact.output  # nothing was created on Contacts


@pytest.mark.parametrize(
    ("option", "value"), [("--edition", "platinum"), ("--credits", "0"), ("--licences", "0")]
)
def test_bad_limits_are_a_usage_error(option: str, value: str) -> None:
    done = run("sandbox", "zoho", option, value)
    assert done.exit_code == 2, done.output
    assert option in done.output
