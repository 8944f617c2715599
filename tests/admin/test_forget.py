"""relcrm forget / relcrm audit over both real sandboxes and a real SQLite store.

Each test syncs a small sample into both CRMs through the targets file (as an ops job
does), then forgets one person, and reads the CRMs back through the official clients
(simple-salesforce, hubspot-api-client) and the store back through SQLite itself.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
from relcrm.connectors.retry import RetryPolicy
from relcrm.mapping import load_shipped
from relcrm.models import Person
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.store import Store
from relcrm.store.audit import PERSON_TABLES
from relcrm.sync.config import load_config
from relcrm.sync.forget import TargetStatus, UnknownPersonError, forget
from tests.admin.conftest import populate

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]
SF_FIELDS = sorted(load_shipped("salesforce-contact").field_names())
HS_FIELDS = sorted(load_shipped("hubspot-contact").field_names())


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def report_of(result: Result) -> dict[str, Any]:
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("{")]
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def store_url(config: Path) -> str:
    return f"sqlite:///{config.parent / 'relcrm.db'}"


def prepare(config: Path, sandboxes: Sandboxes) -> list[Person]:
    """A small sample synced to both CRMs; the persons written come back."""
    persons = populate(config, sandboxes, persons=12, now=NOW)
    synced = run("sync", "--config", str(config))
    assert synced.exit_code == 0, synced.output
    return persons


def records_of(config: Path, person_id: str) -> dict[str, tuple[str, str]]:
    with Store.open(store_url(config)) as store:
        return {
            target: tuple(store.known_records(target, [person_id])[person_id])  # type: ignore[misc]
            for target in ("sf-contact", "hs-contact")
        }


def crm_values(sandboxes: Sandboxes, records: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """relcrm's fields in both records, read back with the official clients."""
    sf, hs = sandboxes
    sf_object, sf_id = records["sf-contact"]
    row = getattr(sf_client(sf), sf_object).get(sf_id)
    found = {name: row.get(name) for name in SF_FIELDS if name in row}
    contact = hs_client_for(hs).crm.contacts.basic_api.get_by_id(
        records["hs-contact"][1], properties=HS_FIELDS
    )
    found.update({name: contact.properties.get(name) for name in HS_FIELDS})
    return found


def empty(values: dict[str, Any]) -> bool:
    """Every field empty: a Salesforce checkbox cannot be null, so emptied it reads False."""
    return all(value is None or value == "" or value is False for value in values.values())


def traces(db: Path, *needles: str) -> list[tuple[str, str]]:
    """(table, needle) for every cell of every table that names one of ``needles``."""
    patterns = {n: re.compile(rf"(?<![\w.@+-]){re.escape(n)}(?![\w-])", re.I) for n in needles}
    found: list[tuple[str, str]] = []
    with sqlite3.connect(db) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    text = str(cell)
                    found.extend((table, n) for n, p in patterns.items() if p.search(text))
    return found


def audit_rows(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM audit_log ORDER BY id")]


def test_forget_by_email_clears_both_crms_and_leaves_no_trace(
    config: Path, sandboxes: Sandboxes
) -> None:
    persons = prepare(config, sandboxes)
    jane, other = persons[0], persons[1]
    records = records_of(config, jane.id)
    before = crm_values(sandboxes, records)
    assert not empty(before), before
    other_records = records_of(config, other.id)

    done = run("forget", jane.emails[0].upper(), "--config", str(config), "--json")

    assert done.exit_code == 0, done.output
    report = report_of(done)
    assert report["erased"] and report["outcome"] == "erased"
    assert report["targets_cleared"] == ["hs-contact", "sf-contact"]
    assert report["rows_erased"]["persons"] == 1 and report["rows_erased"]["sync_records"] == 2
    after = crm_values(sandboxes, records)
    assert set(after) == set(before) and empty(after), after
    assert not empty(crm_values(sandboxes, other_records))  # nobody else was touched

    db = config.parent / "relcrm.db"
    needles = [jane.id, *jane.emails, *jane.phones, *(rid for _, rid in records.values())]
    assert traces(db, *needles) == []
    with Store.open(store_url(config)) as store:
        assert not any(store.person_footprint(jane.id).values())
        assert store.get_person(other.id) is not None

    (entry,) = audit_rows(db)
    whole = json.dumps(entry, default=str).lower()
    for secret in [*needles, jane.display_name or "", *(jane.display_name or "").split()]:
        assert secret.lower() not in whole, secret
    assert entry["action"] == "forget" and entry["outcome"] == "erased"
    counts = json.loads(entry["counts"])
    assert counts["rows"]["perceptions"] >= 1
    assert counts["targets"] == {"cleared": ["hs-contact", "sf-contact"]}

    again = run("forget", jane.emails[0], "--config", str(config))
    assert again.exit_code == 2, again.output
    assert "no person" in again.output
    assert len(audit_rows(db)) == 1  # an unknown identity leaves no entry

    listed = run("audit", "--config", str(config), "--json")
    assert listed.exit_code == 0
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [entry["id"]]
    mine = run("audit", "--config", str(config), "--person-id", jane.id, "--json")
    assert json.loads(mine.stdout)["subject"] == entry["subject"]
    assert run("audit", "--config", str(config), "--person-id", other.id).stdout.strip() == (
        "no audit entries"
    )
    by_id = run("forget", "--person-id", jane.id, "--config", str(config))
    assert by_id.exit_code == 2 and f"audit entry #{entry['id']}" in by_id.output


def test_forget_by_crm_record_id_and_a_target_missing_from_the_file(
    config: Path, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    persons = prepare(config, sandboxes)
    jane, joe = persons[2], persons[3]
    sf_object, sf_id = records_of(config, jane.id)["sf-contact"]

    done = run("forget", f"salesforce/{sf_object}/{sf_id}", "--config", str(config), "--json")
    assert done.exit_code == 0, done.output
    assert report_of(done)["person_id"] == jane.id
    with Store.open(store_url(config)) as store:
        assert store.get_person(jane.id) is None

    # A targets file without the HubSpot target: relcrm cannot clear what it wrote there.
    sf_only = tmp_path / "sf-only.toml"
    text = config.read_text(encoding="utf-8")
    sf_only.write_text(text[: text.index('[[targets]]\nname = "hs-contact"')], "utf-8")
    joe_records = records_of(config, joe.id)
    kept = run("forget", joe.emails[0], "--config", str(sf_only))
    assert kept.exit_code == 1, kept.output
    assert "hs-contact" in kept.output and "NOT erased" in kept.output
    with Store.open(store_url(config)) as store:
        kept_person = store.get_person(joe.id)
        assert kept_person is not None  # kept: run again with the full file
        assert not kept_person.consent.granted  # but no sync may write them again
    values = crm_values(sandboxes, joe_records)
    assert empty({name: values[name] for name in SF_FIELDS if name in values})
    assert not empty({name: values[name] for name in HS_FIELDS})

    erased = run("forget", joe.emails[0], "--config", str(sf_only), "--store-only")
    assert erased.exit_code == 0, erased.output
    assert "clear them by hand" in erased.output
    assert f"hs-contact: contacts {joe_records['hs-contact'][1]}" in erased.output
    db = config.parent / "relcrm.db"
    assert [row["outcome"] for row in audit_rows(db)] == ["erased", "kept", "erased_store_only"]
    assert traces(db, joe.id, *joe.emails) == []


def test_an_unreachable_crm_keeps_the_store_until_store_only(
    config: Path, sandboxes: Sandboxes
) -> None:
    persons = prepare(config, sandboxes)
    jane = persons[4]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    _, hs = sandboxes
    text = config.read_text(encoding="utf-8")
    down_url = f'https://127.0.0.1:{closed_port}"\nretry_attempts = 1  # fail fast'
    config.write_text(text.replace(f'{hs.base_url}"', down_url), "utf-8")

    down = run("forget", jane.emails[0], "--config", str(config), "--json")

    assert down.exit_code == 3, down.output
    report = report_of(down)
    assert not report["erased"] and report["targets_failed"] == ["hs-contact"]
    assert report["targets_cleared"] == ["sf-contact"]
    assert hs.token not in down.output
    with Store.open(store_url(config)) as store:
        assert store.get_person(jane.id) is not None
        assert store.find_person("email", jane.emails[0]) == jane.id

    erased = run("forget", jane.emails[0], "--config", str(config), "--store-only", "--json")
    assert erased.exit_code == 0, erased.output
    report = report_of(erased)
    assert report["erased"] and report["outcome"] == "erased_store_only"
    assert {t["target"] for t in report["targets"] if t["still_holds_fields"]} == {
        "hs-contact",
        "sf-contact",
    }
    with Store.open(store_url(config)) as store:
        assert not any(store.person_footprint(jane.id).values())


def test_the_library_api_by_phone_with_a_connector_of_ones_own(
    config: Path, sandboxes: Sandboxes
) -> None:
    persons = prepare(config, sandboxes)
    jane = next(p for p in persons if p.phones and p.emails)
    records = records_of(config, jane.id)
    _, hs = sandboxes
    loaded = load_config(config)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = HubSpotConnector(
        HubSpotSettings(
            _env_file=None,
            access_token=hs.token,  # type: ignore[arg-type]
            base_url=f"https://127.0.0.1:{closed_port}",
            ca_file=hs.ca_file,
        ),
        policy=RetryPolicy(attempts=1),
    )

    with Store.open(store_url(config)) as store:
        dry = forget(store, "phone", jane.phones[0], config=loaded, dry_run=True)
        assert {t.status for t in dry.targets} == {TargetStatus.DRY_RUN}
        assert dry.audit_id is None and store.audit_entries() == []

        failed = forget(
            store,
            "phone",
            jane.phones[0],
            config=loaded,
            connectors={"hs-contact": unreachable},
            now=NOW - timedelta(hours=1),
        )
        assert failed.exit_code == 3 and not failed.erased
        assert failed.targets_failed == ["hs-contact"]
        assert store.get_person(jane.id) is not None

        report = forget(store, "phone", jane.phones[0], config=loaded, now=NOW)
        assert report.exit_code == 0 and report.erased and report.person_id == jane.id
        assert report.targets_cleared == ["hs-contact", "sf-contact"]
        assert report.rows_erased["identities"] >= 2
        entries = store.audit_entries()
        assert [e.id for e in entries] == [report.audit_id, failed.audit_id]
        assert entries[0].at == NOW and entries[0].subject == store.audit_subject(jane.id)
        assert entries[0].counts["rows"] == report.rows_erased
        assert jane.id not in json.dumps([e.to_json() for e in entries])
        assert set(report.rows_erased) <= set(PERSON_TABLES)
        try:
            forget(store, "phone", jane.phones[0], config=loaded)
        except UnknownPersonError as error:
            assert error.code == "forget.unknown_identity"
        else:
            raise AssertionError("a forgotten person was found again")
    assert empty(crm_values(sandboxes, records))
