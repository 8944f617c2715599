"""The demo's HubSpot part, checked in the portal itself (over HTTPS, with hubspot-api-client).

One demo run per module on a sandbox the test owns, so the portal can be inspected after
the demo is done; CLI runs check ``--no-hubspot`` and ``--no-salesforce``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.connectors.hubspot.notes import markers_in
from relcrm.models import FieldType
from relcrm.sandbox.hubspot import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.store import Store
from relcrm.sync.crm_push import (
    ATTRIBUTES,
    FIELD_SET,
    HUBSPOT,
    HUBSPOT_FIELD_NAMES,
    HUBSPOT_FIELD_SET,
    SALESFORCE,
    profile_values,
)
from relcrm.sync.demo import DemoResult, run_demo
from relcrm.sync.history import note_text, valence_band

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubSpotSandbox, DemoResult]]:
    with running_hubspot_sandbox() as sandbox:
        workdir = tmp_path_factory.mktemp("demo-hs")
        result = run_demo(
            workdir, persons=60, seed=7, now=NOW, salesforce=False, hubspot_sandbox=sandbox
        )
        yield sandbox, result


def contacts(sandbox: HubSpotSandbox) -> dict[str, dict[str, Any]]:
    """Every contact with relcrm's properties, by lower-cased email, via the official client."""
    client = hs_client_for(sandbox)
    rows: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(
            limit=100, after=after, properties=["email", *sorted(HUBSPOT_FIELD_NAMES)]
        )
        for record in page.results:
            rows[str(record.properties["email"]).casefold()] = {
                "id": str(record.id),
                **record.properties,
            }
        if page.paging is None:
            return rows
        after = page.paging.next.after


def hubspot_text(value: Any) -> str | None:
    """What HubSpot reads back for a value relcrm sent (strings; numbers plain)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_consenting_contact_holds_the_properties_and_no_one_else(
    demo: tuple[HubSpotSandbox, DemoResult],
) -> None:
    sandbox, result = demo
    assert result.hubspot is not None and result.salesforce is None
    profiles = {p.person_id: p for p in result.profiles}
    rows = contacts(sandbox)
    written = sandbox.log.write_counts("contacts")
    consenting = [p for p in result.persons if p.consent.granted]
    refused = [p for p in result.persons if not p.consent.granted]
    assert consenting and refused
    for person in consenting:
        row = rows[person.emails[0].casefold()]
        expected = profile_values(profiles[person.id], HUBSPOT)
        for name in HUBSPOT_FIELD_NAMES - {"relcrm_scored_at"}:
            assert row[name] == hubspot_text(expected[name]), (person.id, name)
        assert row["relcrm_scored_at"].startswith("2026-11-22T12:00:00")
        assert written[row["id"]] == 2  # seeded once, written once
    for person in refused:
        row = rows[person.emails[0].casefold()]
        assert written[row["id"]] == 1  # seeded, never written
        assert all(row.get(name) is None for name in HUBSPOT_FIELD_NAMES)
    push = result.hubspot.push
    assert sorted(push.skipped_no_consent) == sorted(p.id for p in refused)
    assert not set(push.matched) & {p.id for p in refused}  # not even looked up
    assert push.written == len(consenting) and not push.rejected


def test_only_field_set_properties_were_written(demo: tuple[HubSpotSandbox, DemoResult]) -> None:
    sandbox, result = demo
    assert result.hubspot is not None
    records = list(sandbox.portal.records["contacts"].values())
    written_ids = {ref.id for ref in result.hubspot.push.matched.values()}
    untouched = {k for r in records if r.id not in written_ids for k in r.properties}
    for record in records:
        if record.id in written_ids:
            extra = set(record.properties) - untouched
            # an absent NPS is sent as "" (a clear), which stores nothing
            assert HUBSPOT_FIELD_NAMES - {"relcrm_last_nps"} <= extra <= HUBSPOT_FIELD_NAMES


def test_the_twins_differ_in_hubspot(demo: tuple[HubSpotSandbox, DemoResult]) -> None:
    _, result = demo
    assert result.hubspot is not None
    delighted, trapped = (result.hubspot.read_back[t] for t in result.twins)
    assert delighted["relcrm_segment"] == "delighted"
    assert trapped["relcrm_segment"] == "trapped_and_vocal"
    assert (delighted["relcrm_churn_risk"], trapped["relcrm_churn_risk"]) == ("false", "true")
    assert float(delighted["relcrm_health"]) > 80 > 20 > float(trapped["relcrm_health"])
    assert "Keeps buying" in trapped["relcrm_reasons"]


def test_the_plan_came_first_and_calls_are_counted(
    demo: tuple[HubSpotSandbox, DemoResult],
) -> None:
    _, result = demo
    hs = result.hubspot
    assert hs is not None and hs.seeded == 60
    plan = hs.plans["contacts"]
    assert plan.create_group and not plan.conflicts
    assert [s.name for s in plan.create] == [s.name for s in HUBSPOT_FIELD_SET]
    assert len(hs.applied["contacts"].create) == len(HUBSPOT_FIELD_SET)
    # 56 contacts: one batch/read to match, one property listing + one batch/update to write
    assert (hs.calls.matching, hs.calls.writing) == (1, 2)


def test_history_notes_one_per_perception_without_verbatims(
    demo: tuple[HubSpotSandbox, DemoResult],
) -> None:
    sandbox, result = demo
    hs = result.hubspot
    assert hs is not None and hs.notes is not None and not hs.notes.rejected
    with Store.open(result.store_url) as store:
        by_person = {p.id: found for p, found in store.iter_person_perceptions()}
    consenting = {p.id for p in result.persons if p.consent.granted}
    expected = {pc.id for pid in consenting for pc in by_person[pid]}
    assert set(hs.notes.created) == expected
    verbatims = [pc.verbatim for found in by_person.values() for pc in found if pc.verbatim]
    notes = list(sandbox.portal.records["notes"].values())
    markers = Counter(m for n in notes for m in markers_in(n.properties["hs_note_body"]))
    assert set(markers) == expected and set(markers.values()) == {1}
    bodies = " ".join(n.properties["hs_note_body"] for n in notes)
    assert verbatims and not any(v in bodies for v in verbatims if len(v) > 20)


def test_one_attribute_list_two_namings() -> None:
    assert len(FIELD_SET) == len(HUBSPOT_FIELD_SET) == len(ATTRIBUTES)
    for sf, hs, attribute in zip(FIELD_SET, HUBSPOT_FIELD_SET, ATTRIBUTES, strict=True):
        assert (sf.type, sf.picklist_values) == (hs.type, hs.picklist_values)
        assert sf.name == SALESFORCE.naming(attribute) and hs.name == HUBSPOT.naming(attribute)
    assert SALESFORCE.field_name("health") == "relcrm_Health__c"
    assert HUBSPOT.field_name("health") == "relcrm_health"
    assert HUBSPOT.field_name("last_nps") == "relcrm_last_nps"
    assert {s.type for s in HUBSPOT_FIELD_SET} >= {FieldType.PICKLIST, FieldType.DATETIME}


def test_note_text_says_how_not_what() -> None:
    assert valence_band(0.6) == "positive" and valence_band(-0.6) == "negative"
    assert valence_band(0.0) == "neutral" and valence_band(None) == "unscored"


def test_cli_demo_hubspot_only_and_without_hubspot(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    only = runner.invoke(app, ["demo", "--no-salesforce", "--keep", str(tmp_path)], env=env)
    assert only.exit_code == 0, only.output
    assert "Salesforce sandbox" not in only.stdout
    assert "plan (dry run) for contacts: create the relcrm property group, create 11" in only.stdout
    assert "wrote 56 contacts" in only.stdout and "notes created" in only.stdout
    assert "read back with hubspot-api-client" in only.stdout
    without = runner.invoke(
        app, ["demo", "--no-hubspot", "--no-salesforce", "--persons", "12"], env=env
    )
    assert without.exit_code == 0, without.output
    assert "HubSpot" not in without.stdout


def test_note_text_has_no_verbatim(demo: tuple[HubSpotSandbox, DemoResult]) -> None:
    _, result = demo
    with Store.open(result.store_url) as store:
        perception = next(pc for _, found in store.iter_person_perceptions() for pc in found)
    text = note_text(perception)
    assert text.split(" · ")[0] == perception.channel.value
    assert text.endswith(perception.occurred_at.date().isoformat())
    assert perception.verbatim is None or perception.verbatim not in text
