"""Issue 13, "done when": a link is issued (``relcrm voice link``), opened in Chromium,
answered with a low score, a comment and a channel preference; the next ``relcrm run``
(profile, then sync) writes the new preference and the changed profile fields to both
sandboxes, and creates one follow-up task in each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from typer.testing import CliRunner, Result

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.cli import app
from relcrm.mapping import shipped_mappings
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.store import Store
from relcrm.sync.analysis import analyzer_for
from relcrm.testing.hubspot import hubspot_connector
from relcrm.testing.salesforce import OrgRest, crm_object_of
from relcrm.voice import VoiceSettings, create_app, running_page
from tests.admin.conftest import hs_sandbox, populate, sandboxes, sf_sandbox
from tests.voice.browser import chromium
from tests.voice.conftest import KEY_NEW

__all__ = ["chromium", "hs_sandbox", "sandboxes", "sf_sandbox"]

Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]
COMMENT = (
    "I am furious. The outage cost us a week and nobody called back. "
    "We will cancel and switch to another provider."
)
SF_FIELDS = (
    "relcrm_Last_NPS__c",
    "relcrm_Health__c",
    "relcrm_Segment__c",
    "relcrm_Needs_Outreach__c",
    "relcrm_Preferred_Channel__c",
)
HS_FIELDS = (
    "relcrm_last_nps",
    "relcrm_health",
    "relcrm_segment",
    "relcrm_needs_outreach",
    "relcrm_preferred_channel",
)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _targets_file(folder: Path, sf: SalesforceSandbox, hs: HubSpotSandbox) -> Path:
    """Both shipped contact mappings, each with ``[outreach] create_task = true``."""
    for name in ("salesforce-contact", "hubspot-contact"):
        shipped = shipped_mappings()[name].read_text(encoding="utf-8")
        (folder / f"{name}.toml").write_text(
            shipped + "\n[outreach]\ncreate_task = true\n", encoding="utf-8"
        )
    path = folder / "relcrm.toml"
    path.write_text(
        f"""
[store]
url = "relcrm.db"

[[targets]]
name = "sf-contact"
connector = "salesforce"
mapping = "salesforce-contact.toml"

[targets.settings]
instance_url = "{sf.instance_url}"
ca_file = "{sf.ca_file}"
username = "{sf.username}"
api_version = "{sf.api_version}"

[[targets]]
name = "hs-contact"
connector = "hubspot"
mapping = "hubspot-contact.toml"

[targets.settings]
base_url = "{hs.base_url}"
ca_file = "{hs.ca_file}"
""",
        encoding="utf-8",
    )
    return path


def _run(config: Path, as_of: datetime) -> dict[str, Any]:
    result = _cli("run", "--config", str(config), "--as-of", as_of.isoformat(), "--json")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == report["exit_code"] == 0, result.output
    return report


def _salesforce(sf: SalesforceSandbox, record_id: str) -> dict[str, Any]:
    (row,) = OrgRest(sf).query(
        f"SELECT {', '.join(SF_FIELDS)} FROM Contact WHERE Id = '{record_id}'"
    )
    return dict(row)


def _hubspot(hs: HubSpotSandbox, record_id: str) -> dict[str, Any]:
    sdk = hubspot_connector(hs).client.sdk
    contact = sdk.crm.contacts.basic_api.get_by_id(record_id, properties=list(HS_FIELDS))
    return dict(contact.properties)


def _tasks(sf: SalesforceSandbox, hs: HubSpotSandbox, sf_id: str, hs_id: str) -> list[str]:
    """The open tasks on the person's records, one subject per task, Salesforce first."""
    found = [
        f"sf: {r['Subject']}"
        for r in sf.org.records.get("Task", {}).values()
        if r.get("WhoId") == sf_id and not r.get("IsDeleted")
    ]
    portal = hs.portal
    on_contact = {
        task for kind, task, other, other_id, _ in portal.associations
        if (kind, other) == ("tasks", "contacts") and other_id == hs_id
    }  # fmt: skip
    found += [
        f"hs: {t.properties['hs_task_subject']}"
        for t in portal.records.get("tasks", {}).values()
        if t.id in on_contact and not t.archived
    ]
    return found


@pytest.fixture
def voice_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELCRM_VOICE_KEYS", KEY_NEW)
    for name in ("SCORE", "LINK_TTL", "FORM_TTL", "LINK_RATE", "ADDRESS_RATE", "ANALYZER"):
        monkeypatch.delenv(f"RELCRM_VOICE_{name}", raising=False)


@pytest.mark.slow
def test_an_answer_on_the_page_reaches_both_crms_with_one_follow_up_task(
    sandboxes: Sandboxes,
    tmp_path: Path,
    chromium: webdriver.Chrome,
    voice_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sf, hs = sandboxes
    now = datetime.now(UTC).replace(microsecond=0)
    config = _targets_file(tmp_path, sf, hs)
    writable = populate(config, sandboxes, persons=12, now=now - timedelta(hours=1))
    _run(config, now - timedelta(minutes=30))  # every CRM up to date before the answer

    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        calm = [
            p
            for p in writable
            if crm_object_of(p) == "Contact"
            and (profile := store.get_profile(p.id)) is not None
            and not profile.needs_outreach
        ]
        person = calm[0]
        records = {r.target: r.record_id for r in store.remembered_records(person.id)}
    sf_id, hs_id = records["sf-contact"], records["hs-contact"]
    before = (_salesforce(sf, sf_id), _hubspot(hs, hs_id))
    assert before[0]["relcrm_Preferred_Channel__c"] != "phone"
    assert _tasks(sf, hs, sf_id, hs_id) == []

    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        create_page = create_app(store, VoiceSettings(), analyzer=analyzer_for(DEFAULT_ANALYZER))
        with running_page(create_page) as page:
            monkeypatch.setenv("RELCRM_VOICE_BASE_URL", page.base_url)
            issued = _cli("voice", "link", person.id, "--config", str(config), "--ttl", "2d")
            assert issued.exit_code == 0, issued.output
            url = issued.stdout.strip()
            assert url.startswith(page.base_url + "/feedback/") and person.id not in url

            chromium.get(url)
            chromium.find_element(By.CSS_SELECTOR, "label[for='score-1']").click()
            chromium.find_element(By.ID, "comment").send_keys(COMMENT)
            Select(chromium.find_element(By.ID, "channel")).select_by_value("phone")
            chromium.find_element(By.ID, "send").click()
            WebDriverWait(chromium, 15).until(lambda b: b.find_elements(By.ID, "thanks"))

    report = _run(config, datetime.now(UTC) + timedelta(minutes=1))
    assert {s["target"] for s in report["syncs"]} == {"sf-contact", "hs-contact"}

    sf_after, hs_after = _salesforce(sf, sf_id), _hubspot(hs, hs_id)
    assert sf_after["relcrm_Preferred_Channel__c"] == "phone"
    assert hs_after["relcrm_preferred_channel"] == "phone"
    assert sf_after["relcrm_Last_NPS__c"] == 1 and hs_after["relcrm_last_nps"] == "1"
    assert sf_after["relcrm_Health__c"] < before[0]["relcrm_Health__c"]
    assert float(hs_after["relcrm_health"]) < float(before[1]["relcrm_health"])
    assert sf_after["relcrm_Needs_Outreach__c"] is True
    assert hs_after["relcrm_needs_outreach"] == "true"
    tasks = _tasks(sf, hs, sf_id, hs_id)
    assert [t[:4] for t in tasks] == ["sf: ", "hs: "], tasks  # one follow-up in each CRM
    assert all("furious" not in t and person.id not in t for t in tasks)
