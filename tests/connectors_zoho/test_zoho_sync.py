"""The sync engine end to end on the Zoho sandbox with the shipped mapping: the persons a
real org would hold (Contacts, and Leads for the sample's leads) are matched by email,
Contacts first then Leads, and each consenting person is written once; a second run
writes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from relcrm.mapping import load_shipped
from relcrm.sandbox.zoho.seed import module_of, seed_persons
from relcrm.sandbox.zoho.server import ZohoSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.engine import SyncEngine
from relcrm.testing.synthetic import generate_sample
from tests.connectors_zoho.conftest import connector_for

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_a_sync_writes_each_consenting_person_once_and_a_second_writes_nothing(
    zoho: ZohoSandbox, tmp_path: Path
) -> None:
    sample = generate_sample(persons=20, seed=5, now=NOW)
    path = tmp_path / "sample.jsonl"
    write_interchange(sample.records(), path)
    created = seed_persons(zoho.org, sample.persons)
    assert created["Contacts"] > 0
    mapping = load_shipped("zoho-contact")
    connector = connector_for(zoho)
    for module in (mapping.object, *mapping.match.fallback):
        connector.provision(module, mapping.field_specs())
    zoho.log.clear()
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        ingest_interchange(path, store)
        list(profile_store(store, NOW))

        def run() -> object:
            engine = SyncEngine(store, connector, mapping, target="zoho-test", now=lambda: NOW)
            return engine.run()

        first = run()
        consenting = [p for p in sample.persons if p.consent.granted and p.emails]
        assert first.status == "succeeded", first.to_json()  # type: ignore[attr-defined]
        assert first.counts["written"] == len(consenting)  # type: ignore[attr-defined]
        counts = Counter(w.id for w in zoho.log.writes())
        assert set(counts.values()) == {1} and len(counts) == len(consenting)
        expected = {module_of(p) for p in consenting}
        assert {w.object for w in zoho.log.writes()} == expected  # Leads by fallback too
        zoho.log.clear()
        second = run()
        assert second.counts["written"] == 0  # type: ignore[attr-defined]
        assert zoho.log.writes() == []
