"""The demo end to end: checked in the CRMs themselves (over HTTPS, with their official
clients) and in the store, on sandboxes the test owns so they can be inspected after."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.analyze import DEFAULT_ANALYZER
from relcrm.cli import ORG_FILE, app
from relcrm.connectors.hubspot.client import build_sdk
from relcrm.demo import DemoResult, run_demo
from relcrm.mapping import load_shipped
from relcrm.sandbox.hubspot import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from relcrm.store import Store
from relcrm.sync.history import note_text, valence_band
from relcrm.testing.hubspot import hubspot_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SF_FIELDS = sorted(load_shipped("salesforce-contact").field_names())
HS_FIELDS = sorted(load_shipped("hubspot-contact").field_names())
Demo = tuple[SalesforceSandbox, HubSpotSandbox, DemoResult]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_sandbox() as sf, running_hubspot_sandbox() as hs:
        workdir = tmp_path_factory.mktemp("demo")
        result = run_demo(workdir, persons=60, seed=7, now=NOW, sandbox=sf, hubspot_sandbox=hs)
        yield sf, hs, result


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
    return {str(c.properties["email"]).casefold(): dict(c.properties) for c in page.results}


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


def test_only_mapped_fields_were_written(demo: Demo) -> None:
    _, hs, _ = demo
    written = {
        name
        for record in hs.portal.records["contacts"].values()
        for name in record.properties
        if name.startswith("relcrm")
    }
    assert written <= set(HS_FIELDS)


def test_the_twins_differ_in_both_crms(demo: Demo) -> None:
    _, _, result = demo
    for part, segment, outreach, no, yes in (
        (result.salesforce, "relcrm_Segment__c", "relcrm_Needs_Outreach__c", False, True),
        (result.hubspot, "relcrm_segment", "relcrm_needs_outreach", "false", "true"),
    ):
        assert part is not None
        delighted, trapped = (part.read_back[t] for t in result.twins)
        assert (delighted[segment], trapped[segment]) == ("delighted", "trapped_and_vocal")
        # Issue 10: a human should call the trapped twin now, not the delighted one.
        assert (delighted[outreach], trapped[outreach]) == (no, yes)


def test_plan_then_apply_then_sync_then_only_the_change(demo: Demo) -> None:
    _, _, result = demo
    assert result.changed is not None
    for part in result.crms:
        assert len(part.plan.create) == 12 and len(part.applied.created) == 12
        assert not part.applied.problems
        assert part.first.counts["written"] == 56 and part.first.status == "succeeded"
        assert part.second is not None and part.second.counts["written"] == 1
        assert 1 <= part.second.counts["fields_sent"] < 11
        assert part.second.counts["unchanged"] == 55
        # The change (one write, perhaps one match), plus the preflight's describe of each
        # object the mapping writes (Contact, and Lead as Salesforce's fallback).
        assert part.mapping is not None
        described = 1 + len(part.mapping.match.fallback)
        assert part.second.api_calls <= 2 + described
    assert result.salesforce is not None and result.salesforce.plan.changes  # Lead fallback
    assert any("on Lead" in change for change in result.salesforce.plan.changes)


def test_sources_arrive_through_their_real_formats(demo: Demo) -> None:
    _, _, result = demo
    assert result.survey.perceptions_new > 30 and not result.survey.rejections
    assert result.social.perceptions_new >= 3 and result.social.unresolved == 1
    for part in result.crms:
        assert part.cases is not None and part.cases.perceptions_new >= 10
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
    assert "fields plan (read only): create 12 fields on Contact" in first.stdout
    assert "56 persons written" in first.stdout
    assert "one person changes their mind" in first.stdout
    assert "Salesforce: 1 person written" in first.stdout
    assert "needs a human now:" in first.stdout  # the trapped twin
    again = runner.invoke(app, ["demo", "--keep", str(tmp_path), "--no-hubspot"], env=env)
    assert again.exit_code == 0, again.output
    assert "fields plan (read only): create 0 fields on Contact" in again.stdout
    with running_sandbox(data_file=tmp_path / ORG_FILE) as sandbox:
        rows = org_rows(sandbox)
        cases = sf_client(sandbox).query_all("SELECT Id FROM Case")["totalSize"]
    assert len(rows) == 60  # nobody seeded twice
    assert sum(1 for r in rows.values() if r["relcrm_Segment__c"] is not None) == 56
    assert 30 <= cases <= 43  # every support story once (a Lead cannot raise a case)


def test_cli_demo_without_crms(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--no-hubspot", "--no-salesforce", "--persons", "12"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "HubSpot" not in result.stdout and "Salesforce" not in result.stdout
    direct = run_demo(tmp_path, persons=12, seed=1, now=NOW, salesforce=False, hubspot=False)
    assert direct.crms == [] and len(direct.profiles) == 12
