"""The demo end to end: checked in the CRMs themselves (over HTTPS, with their official
clients, or in the sandbox's own records) and in the store, on sandboxes the test owns so
they can be inspected after: Salesforce, HubSpot, Dataverse and Zoho CRM. Issue 13: one
follow-up task for the trapped twin's owner in Salesforce and HubSpot, the twin's stated
preferences in both, a mapping preview; issue 14: the report written at the end."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.cli import ORG_FILE, app
from relcrm.connectors.hubspot.client import build_sdk
from relcrm.demo import DemoResult, run_demo
from relcrm.demo.outreach import HUBSPOT_REP
from relcrm.mapping import load_shipped
from relcrm.sandbox.dataverse import DataverseSandbox, running_dataverse_sandbox
from relcrm.sandbox.hubspot import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from relcrm.sandbox.zoho import ZohoSandbox, running_zoho_sandbox
from relcrm.store import Store
from relcrm.sync.history import note_text, valence_band
from relcrm.sync.preview import FieldState
from relcrm.testing.hubspot import hubspot_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SF_FIELDS = sorted(load_shipped("salesforce-contact").field_names())
HS_FIELDS = sorted(load_shipped("hubspot-contact").field_names())
FIELD_COUNT = len(SF_FIELDS)
"""Every shipped contact mapping maps the same profile attributes."""
DESCRIBE_CALLS = {"Dataverse": 3}
"""Calls to read one object's schema (Dataverse: columns, choices, alternate keys); 1
elsewhere."""
Demo = tuple[SalesforceSandbox, HubSpotSandbox, DemoResult]


@dataclass
class Others:
    """The demo's Dataverse and Zoho sandboxes, to look into after the demo."""

    dataverse: DataverseSandbox
    zoho: ZohoSandbox


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, Others]]:
    with (
        running_sandbox() as sf,
        running_hubspot_sandbox() as hs,
        running_dataverse_sandbox() as dv,
        running_zoho_sandbox() as zo,
    ):
        workdir = tmp_path_factory.mktemp("demo")
        result = run_demo(
            workdir,
            persons=60,
            seed=7,
            now=NOW,
            sandbox=sf,
            hubspot_sandbox=hs,
            dataverse_sandbox=dv,
            zoho_sandbox=zo,
            report_file=workdir / "report.html",
        )
        yield (sf, hs, result), Others(dv, zo)


@pytest.fixture(scope="module")
def demo(sandboxes: tuple[Demo, Others]) -> Demo:
    return sandboxes[0]


@pytest.fixture(scope="module")
def others(sandboxes: tuple[Demo, Others]) -> Others:
    return sandboxes[1]


def org_rows(sandbox: SalesforceSandbox) -> dict[str, dict[str, Any]]:
    """Every Contact and Lead in the org, by lower-cased email."""
    sf = sf_client(sandbox)
    rows: dict[str, dict[str, Any]] = {}
    for name in ("Contact", "Lead"):
        columns = ", ".join(["Id", "Email", *SF_FIELDS])
        for row in sf.query_all(f"SELECT {columns} FROM {name}")["records"]:
            row["object"] = name
            rows[str(row["Email"]).casefold()] = row
    return rows


def portal_contacts(sandbox: HubSpotSandbox) -> dict[str, dict[str, Any]]:
    sdk = build_sdk(hubspot_settings(sandbox))
    page = sdk.crm.contacts.basic_api.get_page(limit=100, properties=["email", *HS_FIELDS])
    return {
        str(c.properties["email"]).casefold(): {**c.properties, "id": str(c.id)}
        for c in page.results
    }


def test_every_consenting_person_holds_the_fields_in_both_crms_and_no_one_else(
    demo: Demo,
) -> None:
    sf, hs, result = demo
    consenting = {p.emails[0].casefold() for p in result.persons if p.consent.granted}
    refusing = {p.emails[0].casefold() for p in result.persons if not p.consent.granted}
    assert len(consenting) == 56 and len(refusing) == 4
    rows = org_rows(sf)
    assert {e for e, r in rows.items() if r["relcrm_Segment__c"] is not None} == consenting
    assert {r["object"] for e, r in rows.items() if e in consenting} == {"Contact", "Lead"}
    contacts = portal_contacts(hs)
    assert {e for e, c in contacts.items() if c.get("relcrm_segment")} == consenting
    assert all(not contacts[e].get("relcrm_segment") for e in refusing)


def environment_rows(sandbox: DataverseSandbox) -> dict[str, dict[str, Any]]:
    """Every contact and lead the Dataverse environment holds, by lower-cased email."""
    with sandbox.org.lock:
        return {
            str(record.values["emailaddress1"]).casefold(): dict(record.values)
            for table in ("contact", "lead")
            for record in sandbox.org.records[table].values()
        }


def zoho_rows(sandbox: ZohoSandbox) -> dict[str, dict[str, Any]]:
    """Every Contact and Lead the Zoho org holds, by lower-cased email."""
    org = sandbox.org
    rows = (org.values_of(m, i) for m in ("Contacts", "Leads") for i in list(org.records[m]))
    return {str(values["Email"]).casefold(): values for values in rows}


def test_dataverse_and_zoho_hold_every_consenting_person_and_no_one_else(
    demo: Demo, others: Others
) -> None:
    _, _, result = demo
    consenting = {p.emails[0].casefold() for p in result.persons if p.consent.granted}
    for rows, segment, fields in (
        (environment_rows(others.dataverse), "relcrm_segment", "dataverse-contact"),
        (zoho_rows(others.zoho), "relcrm_Segment", "zoho-contact"),
    ):
        assert len(rows) == 60
        assert {e for e, r in rows.items() if r.get(segment) is not None} == consenting
        mapped = load_shipped(fields).field_names()
        written = {n for r in rows.values() for n, v in r.items() if n.startswith("relcrm")}
        assert written <= mapped  # only mapped fields
    leads = {e for e, r in zoho_rows(others.zoho).items() if "Company" in r}
    assert leads & consenting  # the fallback wrote the leads too


def test_only_mapped_fields_were_written(demo: Demo) -> None:
    _, hs, _ = demo
    written = {
        name
        for record in hs.portal.records["contacts"].values()
        for name in record.properties
        if name.startswith("relcrm")
    }
    assert written <= set(HS_FIELDS)


def test_the_twins_differ_in_every_crm(demo: Demo) -> None:
    _, _, result = demo
    assert [part.crm for part in result.crms] == ["Salesforce", "HubSpot", "Dataverse", "Zoho CRM"]
    for part, segment, outreach, no, yes in (
        (result.salesforce, "relcrm_Segment__c", "relcrm_Needs_Outreach__c", False, True),
        (result.hubspot, "relcrm_segment", "relcrm_needs_outreach", "false", "true"),
        (result.dataverse, "relcrm_segment", "relcrm_needs_outreach", False, True),
        (result.zoho, "relcrm_Segment", "relcrm_Needs_Outreach", False, True),
    ):
        assert part is not None
        delighted, trapped = (part.read_back[t] for t in result.twins)
        assert (delighted[segment], trapped[segment]) == ("delighted", "trapped_and_vocal")
        # Issue 10: a human should call the trapped twin now, not the delighted one.
        assert (delighted[outreach], trapped[outreach]) == (no, yes)


def test_plan_then_apply_then_sync_then_only_the_change(demo: Demo) -> None:
    _, _, result = demo
    assert result.changed is not None
    assert len(result.crms) == 4
    for part in result.crms:
        count = FIELD_COUNT
        assert len(part.plan.create) == count and len(part.applied.created) == count
        assert not part.applied.problems
        assert part.first.counts["written"] == 56 and part.first.status == "succeeded"
        assert part.second is not None and part.second.counts["written"] == 1
        assert 1 <= part.second.counts["fields_sent"] < count - 1
        assert part.second.counts["unchanged"] == 55
        # The change (one write, perhaps one match), plus the preflight's describe of each
        # object the mapping writes (Contact, and Lead as a fallback).
        assert part.mapping is not None
        objects = 1 + len(part.mapping.match.fallback)
        # Where the demo turns follow-up tasks on (Salesforce, HubSpot), one call more: the
        # task for the person who changed, who now needs outreach (issue 13).
        task = 1 if part.mapping.outreach.create_task else 0
        assert part.second.counts["tasks_created"] == task, part.crm
        limit = 2 + objects * DESCRIBE_CALLS.get(part.crm, 1) + task
        assert part.second.api_calls <= limit, part.crm
    for part, lead in (
        (result.salesforce, "Lead"),
        (result.dataverse, "lead"),
        (result.zoho, "Leads"),
    ):
        assert part is not None and part.plan.changes  # the lead fallback
        assert any(f"on {lead} " in change for change in part.plan.changes), part.plan.changes


def test_sources_arrive_through_their_real_formats(demo: Demo) -> None:
    _, _, result = demo
    assert result.survey.perceptions_new > 30 and not result.survey.rejections
    assert result.social.perceptions_new >= 3 and result.social.unresolved == 1
    for part in (result.salesforce, result.hubspot):  # the support desks
        assert part is not None and part.cases is not None and part.cases.perceptions_new >= 10
    assert all(part.cases is None for part in (result.dataverse, result.zoho) if part is not None)
    with Store.open(result.store_url) as store:
        perceptions = [p for _, found in store.iter_person_perceptions() for p in found]
    systems = Counter(p.provenance.source_system for p in perceptions)
    assert {"qualtrics", "salesforce", "hubspot"} <= set(systems)
    analyzed = [p for p in perceptions if p.provenance.analyzer == DEFAULT_ANALYZER]
    assert len(analyzed) > 40 and all(p.valence is not None for p in analyzed)


def test_history_notes_one_per_perception_without_verbatims(demo: Demo) -> None:
    _, hs, result = demo
    part = result.hubspot
    assert part is not None and part.notes is not None and not part.notes.rejected
    with Store.open(result.store_url) as store:
        by_person = {p.id: found for p, found in store.iter_person_perceptions()}
    written = set(part.records)
    expected = {pc.id for pid in written for pc in by_person[pid]} - {
        pc.id
        for pc in by_person[result.changed or ""]
        if "second-answer" in pc.provenance.source_record_id
    }
    assert set(part.notes.created) == expected
    notes = list(hs.portal.records["notes"].values())
    bodies = " ".join(n.properties["hs_note_body"] for n in notes)
    markers = Counter(re.findall(r"relcrm:perception:(\S+?)<", bodies))
    assert set(markers.values()) == {1}
    verbatims = [pc.verbatim for found in by_person.values() for pc in found if pc.verbatim]
    assert verbatims and not any(v in bodies for v in verbatims if len(v) > 20)


def test_note_text_says_how_not_what(demo: Demo) -> None:
    assert valence_band(0.6) == "positive" and valence_band(-0.6) == "negative"
    assert valence_band(0.0) == "neutral" and valence_band(None) == "unscored"
    _, _, result = demo
    with Store.open(result.store_url) as store:
        perception = next(pc for _, found in store.iter_person_perceptions() for pc in found)
    text = note_text(perception)
    assert text.split(" · ")[0] == perception.channel.value
    assert perception.verbatim is None or perception.verbatim not in text


def test_cli_demo_keeps_the_org_and_runs_again_on_it(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    first = runner.invoke(app, ["demo", "--keep", str(tmp_path), "--no-hubspot"], env=env)
    assert first.exit_code == 0, first.output
    assert f"fields plan (read only): create {FIELD_COUNT} fields on Contact" in first.stdout
    assert "56 persons written" in first.stdout
    assert "one person changes their mind" in first.stdout
    assert "Salesforce: 1 person written" in first.stdout
    assert "needs a human now:" in first.stdout  # the trapped twin
    report = tmp_path / "relcrm-demo-report.html"
    assert f"The relationship report: {report}" in first.stdout and report.is_file()
    again = runner.invoke(app, ["demo", "--keep", str(tmp_path), "--no-hubspot"], env=env)
    assert again.exit_code == 0, again.output
    assert "fields plan (read only): create 0 fields on Contact" in again.stdout
    with running_sandbox(data_file=tmp_path / ORG_FILE) as sandbox:
        rows = org_rows(sandbox)
        cases = sf_client(sandbox).query_all("SELECT Id FROM Case")["totalSize"]
        tasks = salesforce_tasks_by_who(sandbox)
    assert len(rows) == 60  # nobody seeded twice
    assert sum(1 for r in rows.values() if r["relcrm_Segment__c"] is not None) == 56
    assert 30 <= cases <= 43  # every support story once (a Lead cannot raise a case)
    # a second demo on the kept org and store creates no task twice
    assert tasks and all(len(found) == 1 for found in tasks.values())


def test_cli_demo_without_crms(tmp_path: Path) -> None:
    off = ["--no-hubspot", "--no-salesforce", "--no-dataverse", "--no-zoho"]
    report = tmp_path / "elsewhere.html"
    result = CliRunner().invoke(
        app,
        ["demo", *off, "--persons", "12", "--report", str(report)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for crm in ("HubSpot", "Salesforce", "Dataverse", "Zoho"):
        assert crm not in result.stdout
    assert "follow-up tasks" not in result.stdout and "mapping preview" not in result.stdout
    assert f"The relationship report: {report}" in result.stdout and report.is_file()
    direct = run_demo(
        tmp_path,
        persons=12,
        seed=1,
        now=NOW,
        salesforce=False,
        hubspot=False,
        dataverse=False,
        zoho=False,
    )
    assert direct.crms == [] and len(direct.profiles) == 12


def test_cli_demo_syncs_to_all_four_crms_in_under_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the report goes to the current directory
    started = time.monotonic()
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert took < 60, f"relcrm demo took {took:.1f} s"
    for crm in ("Salesforce", "HubSpot", "Dataverse", "Zoho CRM"):
        assert f"{crm} sandbox https://127.0.0.1:" in result.stdout
        assert f"  {crm}: 1 person written" in result.stdout  # the second sync
    assert result.stdout.count("56 persons written") == 4
    assert "the twins in Dataverse, read back:" in result.stdout
    assert "twin-trapped: relcrm_Segment = trapped_and_vocal" in result.stdout  # Zoho
    # Issue 13, in Salesforce and HubSpot: the trapped twin's task for its owner, none for
    # the delighted twin, the stated preference as each CRM stores it, and a preview.
    assert len(re.findall(r'twin-trapped: "Reach out: [^"]+" for Rosa Rep', result.stdout)) == 2
    assert result.stdout.count("twin-delighted: no task") == 2
    assert "twin-trapped's stated preferences, read back: relcrm_Preferred_Channel__c = phone" in (
        result.stdout
    )
    assert "relcrm_preferred_channel = phone, relcrm_topics = billing" in result.stdout
    assert re.search(r"relcrm mapping preview p-\d+ on salesforce-contact", result.stdout)
    assert re.search(r"the preview says \d+ fields will be sent", result.stdout)
    assert result.stdout.count("the twins still have 1, none twice") == 2
    # Issue 14: the demo ends by writing the report and printing its path.
    report = tmp_path / "relcrm-demo-report.html"
    assert result.stdout.rstrip().endswith(f"The relationship report: {report}")
    assert report.is_file()


def _twin_emails(result: DemoResult) -> tuple[str, str]:
    by_id = {p.id: p.emails[0].casefold() for p in result.persons}
    delighted, trapped = result.twins
    return by_id[delighted], by_id[trapped]


def salesforce_tasks_by_who(sandbox: SalesforceSandbox) -> dict[str, list[dict[str, Any]]]:
    """Every Task in the org, by the record it is on, read with simple-salesforce."""
    sf = sf_client(sandbox)
    tasks: dict[str, list[dict[str, Any]]] = {}
    soql = "SELECT Id, WhoId, Subject, Priority, IsClosed, Owner.Name FROM Task"
    for row in sf.query_all(soql)["records"]:
        tasks.setdefault(row["WhoId"], []).append(row)
    return tasks


def hubspot_tasks_of(sandbox: HubSpotSandbox, contact_id: str) -> list[dict[str, Any]]:
    """The tasks associated with a contact, read with the official client."""
    sdk = build_sdk(hubspot_settings(sandbox))
    links = sdk.crm.associations.v4.basic_api.get_page("contacts", contact_id, "tasks")
    names = ["hs_task_subject", "hs_task_priority", "hubspot_owner_id"]
    return [
        dict(sdk.crm.objects.basic_api.get_by_id("tasks", str(r.to_object_id), properties=names)
             .properties)
        for r in links.results
    ]  # fmt: skip


def test_one_task_for_the_trapped_twins_owner_in_salesforce_none_for_the_delighted(
    demo: Demo,
) -> None:
    sf, _, result = demo
    part = result.salesforce
    assert part is not None and part.mapping is not None and part.mapping.outreach.create_task
    rows = org_rows(sf)
    delighted, trapped = (rows[email]["Id"] for email in _twin_emails(result))
    tasks = salesforce_tasks_by_who(sf)
    assert delighted not in tasks
    [task] = tasks[trapped]
    assert task["Owner"]["Name"] == "Rosa Rep"  # the record's owner, not the integration user
    assert task["Subject"].startswith("Reach out: ") and task["Priority"] == "High"
    assert not task["IsClosed"]
    # One task per person who needs outreach: the first sync's, then the changed person's.
    created = (
        part.first.counts["tasks_created"] + (part.second or part.first).counts["tasks_created"]
    )
    assert sum(len(found) for found in tasks.values()) == created
    assert all(len(found) == 1 for found in tasks.values())  # nobody twice
    # What the demo printed is what the org holds, and the second sync left it alone.
    assert part.tasks is not None and part.tasks_after_second is not None
    shown = part.tasks[result.twins[1]]
    assert [(t.task_id, t.subject, t.owner) for t in shown] == [
        (task["Id"], task["Subject"], "Rosa Rep")
    ]
    assert part.tasks[result.twins[0]] == []
    for twin in result.twins:
        assert part.tasks_after_second[twin] == part.tasks[twin]
    assert len(part.tasks_after_second[result.changed or ""]) == 1


def test_one_task_for_the_trapped_twins_owner_in_hubspot_none_for_the_delighted(
    demo: Demo,
) -> None:
    _, hs, result = demo
    part = result.hubspot
    assert part is not None and part.tasks is not None and part.tasks_after_second is not None
    contacts = portal_contacts(hs)
    delighted_email, trapped_email = _twin_emails(result)
    delighted, trapped = (part.records[twin].id for twin in result.twins)
    assert (contacts[trapped_email]["id"], contacts[delighted_email]["id"]) == (trapped, delighted)
    assert hubspot_tasks_of(hs, delighted) == []
    [task] = hubspot_tasks_of(hs, trapped)
    assert task["hubspot_owner_id"] == HUBSPOT_REP and task["hs_task_priority"] == "HIGH"
    assert task["hs_task_subject"].startswith("Reach out: ")
    [shown] = part.tasks[result.twins[1]]
    assert (shown.subject, shown.owner) == (task["hs_task_subject"], "Rosa Rep")
    for twin in result.twins:
        assert part.tasks_after_second[twin] == part.tasks[twin]  # no task twice
    tasks = list(hs.portal.records["tasks"].values())
    first = part.first.counts["tasks_created"]
    assert part.second is not None and len(tasks) == first + part.second.counts["tasks_created"]


def test_the_trapped_twins_stated_preferences_are_in_both_crms(demo: Demo) -> None:
    sf, hs, result = demo
    delighted, trapped = _twin_emails(result)
    rows, contacts = org_rows(sf), portal_contacts(hs)
    assert rows[trapped]["relcrm_Preferred_Channel__c"] == "phone"
    assert rows[trapped]["relcrm_Topics__c"] == "billing"
    assert contacts[trapped]["relcrm_preferred_channel"] == "phone"
    assert contacts[trapped]["relcrm_topics"] == "billing"
    assert rows[delighted]["relcrm_Preferred_Channel__c"] is None  # said nothing
    assert not contacts[delighted].get("relcrm_preferred_channel")


def test_the_preview_said_what_the_second_sync_sent(demo: Demo) -> None:
    _, _, result = demo
    preview, part = result.preview, result.salesforce
    assert preview is not None and part is not None and part.second is not None
    assert (preview.person_id, preview.target) == (result.changed, part.target)
    sending = [f for f in preview.fields if f.state is FieldState.SEND]
    assert len(sending) == part.second.counts["fields_sent"]
    assert len(preview.fields) == FIELD_COUNT
    values = {f.field: f.value for f in preview.fields}
    assert values["relcrm_Last_NPS__c"] == 1 and values["relcrm_Needs_Outreach__c"] is True


def test_the_demo_ends_with_the_report(demo: Demo) -> None:
    _, _, result = demo
    assert result.report_file is not None and result.report_file.name == "report.html"
    page = result.report_file.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page
    assert "trapped" in page
