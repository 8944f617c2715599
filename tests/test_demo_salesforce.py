"""The demo's Salesforce part, checked in the org itself (over HTTPS, with simple-salesforce).

One demo run per module on a sandbox the test owns, so the org can be inspected after
the demo is done; one CLI run with ``--keep`` reopens the kept org from its file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relcrm.cli import ORG_FILE, app
from relcrm.errors import ConfigurationError
from relcrm.models import FieldType, WriteOutcome
from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from relcrm.sync.crm_push import (
    FIELD_NAMES,
    FIELD_SET,
    SEGMENT,
    check_values,
    profile_values,
)
from relcrm.sync.demo import DemoResult, run_demo

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
COLUMNS = ", ".join(["Id", "Email", "LastModifiedDate", *sorted(FIELD_NAMES)])


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SalesforceSandbox, DemoResult]]:
    with running_sandbox() as sandbox:
        workdir = tmp_path_factory.mktemp("demo")
        yield sandbox, run_demo(workdir, persons=60, seed=7, now=NOW, sandbox=sandbox)


def org_rows(sandbox: SalesforceSandbox) -> dict[str, dict[str, Any]]:
    """Every Contact and Lead in the org, by lower-cased email."""
    sf = sf_client(sandbox)
    rows: dict[str, dict[str, Any]] = {}
    for name in ("Contact", "Lead"):
        for row in sf.query_all(f"SELECT {COLUMNS} FROM {name}")["records"]:
            row["object"] = name
            rows[str(row["Email"]).casefold()] = row
    return rows


def test_every_consenting_person_holds_the_fields_and_no_one_else(
    demo: tuple[SalesforceSandbox, DemoResult],
) -> None:
    sandbox, result = demo
    assert result.salesforce is not None
    profiles = {p.person_id: p for p in result.profiles}
    rows = org_rows(sandbox)
    written = Counter(w.id for w in sandbox.log.writes() if w.operation == "update")
    consenting = [p for p in result.persons if p.consent.granted]
    refused = [p for p in result.persons if not p.consent.granted]
    assert consenting and refused
    for person in consenting:
        row = rows[person.emails[0].casefold()]
        expected = profile_values(profiles[person.id])
        for name in FIELD_NAMES - {"relcrm_Scored_At__c"}:
            assert row[name] == expected[name], (person.id, name)
        assert row["relcrm_Scored_At__c"].startswith("2026-11-22T12:00:00.000")
        assert written[row["Id"]] == 1
    for person in refused:
        row = rows[person.emails[0].casefold()]
        assert row["Id"] not in written
        assert row[SEGMENT] is None and row["relcrm_Health__c"] is None
    push = result.salesforce.push
    assert sorted(push.skipped_no_consent) == sorted(p.id for p in refused)
    assert not set(push.matched) & {p.id for p in refused}  # not even looked up
    assert push.written == len(consenting) and not push.rejected


def test_leads_are_seeded_as_leads_and_matched_there(
    demo: tuple[SalesforceSandbox, DemoResult],
) -> None:
    sandbox, result = demo
    assert result.salesforce is not None
    leads = [
        p
        for p in result.persons
        if any(r.object == "Lead" for r in p.crm_records) and p.consent.granted
    ]
    assert leads and result.salesforce.seeded["Lead"] >= len(leads)
    rows = org_rows(sandbox)
    for person in leads:
        assert rows[person.emails[0].casefold()]["object"] == "Lead"
        assert result.salesforce.push.matched[person.id].object == "Lead"


def test_the_twins_differ_in_salesforce(demo: tuple[SalesforceSandbox, DemoResult]) -> None:
    _, result = demo
    assert result.salesforce is not None
    delighted, trapped = (result.salesforce.read_back[t] for t in result.twins)
    assert delighted[SEGMENT] == "delighted"
    assert trapped[SEGMENT] == "trapped_and_vocal"
    assert (delighted["relcrm_Churn_Risk__c"], trapped["relcrm_Churn_Risk__c"]) == (False, True)
    assert delighted["relcrm_Health__c"] > 80 > 20 > trapped["relcrm_Health__c"]
    assert "Keeps buying" in trapped["relcrm_Reasons__c"]


def test_the_plan_came_first_and_api_calls_are_counted(
    demo: tuple[SalesforceSandbox, DemoResult],
) -> None:
    _, result = demo
    sf = result.salesforce
    assert sf is not None
    for name in ("Contact", "Lead"):
        assert [s.name for s in sf.plans[name].create] == [s.name for s in FIELD_SET]
        assert sf.plans[name].conflicts == []
    # 56 records in two collection calls (one per object), two matching queries
    assert (sf.calls.matching, sf.calls.writing) == (2, 2)
    assert sf.limit_info.startswith("api-usage=")


def test_values_fit_their_fields(demo: tuple[SalesforceSandbox, DemoResult]) -> None:
    """Every value the demo's profiles produce is valid for its field's type and limits."""
    _, result = demo
    specs = {s.name: s for s in FIELD_SET}
    for profile in result.profiles:
        values = profile_values(profile)
        assert set(values) == FIELD_NAMES
        for name, value in values.items():
            spec = specs[name]
            if value is None:
                continue
            if spec.type is FieldType.PICKLIST:
                assert value in spec.picklist_values, (name, value)
            elif spec.type in (FieldType.TEXT, FieldType.LONG_TEXT):
                assert isinstance(value, str) and len(value) <= (spec.length or 255)
            elif spec.type is FieldType.CHECKBOX:
                assert isinstance(value, bool)
            elif spec.type is FieldType.NUMBER:
                assert isinstance(value, int | float) and not isinstance(value, bool)
                assert abs(value) < 10 ** ((spec.precision or 18) - (spec.scale or 0))


def test_fields_outside_the_field_set_are_refused() -> None:
    check_values({SEGMENT: "loyal"})
    with pytest.raises(ConfigurationError, match="Description"):
        check_values({SEGMENT: "loyal", "Description": "x"})


def test_cli_demo_keeps_the_org_and_a_second_run_changes_nothing_but_the_values(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--keep", str(tmp_path)], env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "plan (dry run) for Contact: create 11 fields" in first.stdout
    assert "without consent skipped" in first.stdout
    assert "read back with SOQL" in first.stdout
    again = runner.invoke(app, ["demo", "--keep", str(tmp_path)], env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert "plan (dry run) for Contact: nothing to do" in again.stdout
    assert "60 were there already" in again.stdout
    with running_sandbox(data_file=tmp_path / ORG_FILE) as sandbox:
        rows = org_rows(sandbox)
    assert len(rows) == 60  # nobody seeded twice
    assert sum(1 for r in rows.values() if r[SEGMENT] is not None) == 56


def test_demo_without_salesforce(tmp_path: Path) -> None:
    result = run_demo(tmp_path, persons=12, seed=1, now=NOW, salesforce=False)
    assert result.salesforce is None and len(result.profiles) == 12


def test_write_outcomes_are_reported_per_person(
    demo: tuple[SalesforceSandbox, DemoResult],
) -> None:
    _, result = demo
    assert result.salesforce is not None
    push = result.salesforce.push
    assert {r.person_id for r in push.results} == set(push.matched)
    assert all(r.outcome is WriteOutcome.WRITTEN for r in push.results)
    assert push.fields_written == len(FIELD_SET) * push.written
