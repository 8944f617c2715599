"""The sync engine against the Dataverse sandbox with the shipped mappings: fields applied,
persons matched (contacts, then leads), a run stopped between batches resumed with every
record written once, and a second run writing nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relcrm.connectors.dataverse import DataverseConnector
from relcrm.mapping import load_shipped
from relcrm.models import Person
from relcrm.sandbox.dataverse.seeding import seed_persons
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.engine import StopRun, SyncEngine, SyncProgress
from relcrm.sync.fields import apply_fields, check_mapping, has_errors
from relcrm.testing.synthetic import generate_sample
from tests.connectors_dataverse.conftest import FakeClock, connector_for

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
PERSONS = 24


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, list[Person]]]:
    """A store with a synthetic sample ingested and profiled, and the sample's persons."""
    sample = generate_sample(persons=PERSONS, seed=11, now=NOW)
    path = tmp_path / "sample.jsonl"
    write_interchange(sample.records(), path)
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        ingest_interchange(path, opened)
        list(profile_store(opened, NOW))
        yield opened, list(sample.persons)


def _engine(store: Store, connector: DataverseConnector, **options: object) -> SyncEngine:
    mapping = load_shipped("dataverse-contact")
    return SyncEngine(store, connector, mapping, now=lambda: NOW, **options)  # type: ignore[arg-type]


def _updates(dv: DataverseSandbox) -> Counter[str]:
    return Counter(w.id or "" for w in dv.log.writes() if w.operation == "update")


def test_shipped_mappings_fit_after_fields_apply(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector = connector_for(dv, clock)
    for name in ("dataverse-contact", "dataverse-lead"):
        mapping = load_shipped(name)
        apply_fields(connector, mapping)
        problems = check_mapping(mapping, connector.describe(mapping.object))
        assert not has_errors(problems), [str(p) for p in problems]
    connector.close()


def test_a_stopped_sync_resumes_and_writes_each_record_once(
    dv: DataverseSandbox, clock: FakeClock, world: tuple[Store, list[Person]]
) -> None:
    store, persons = world
    created = seed_persons(dv.org, persons)
    assert created["contact"] > 0 and created["lead"] > 0
    connector = connector_for(dv, clock)
    apply_fields(connector, load_shipped("dataverse-contact"))
    dv.log.clear()
    batches: list[int] = []

    def stop_after_two(progress: SyncProgress) -> None:
        if progress.batch and progress.batch not in batches:
            batches.append(progress.batch)
            if len(batches) == 2:
                raise StopRun

    stopped = _engine(store, connector, batch_size=4).run(full=True, progress=stop_after_two)
    assert stopped.status is None and stopped.counts["written"] == 8
    resumed = _engine(store, connector, batch_size=4).run(full=True)
    assert resumed.resumed and resumed.status == "succeeded", resumed.to_json()
    written = _updates(dv)
    assert resumed.counts["written"] == len(written) > 8
    assert set(written.values()) == {1}
    assert {w.object for w in dv.log.writes()} == {"contact", "lead"}  # leads by fallback
    dv.log.clear()
    again = _engine(store, connector).run()
    assert again.status == "succeeded" and again.counts["written"] == 0
    assert dv.log.writes() == []
    connector.close()
