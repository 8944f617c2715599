"""The sync engine end to end, against both sandboxes over real sockets.

Each test builds a small world: sample persons ingested and profiled into a store (SQLite,
and PostgreSQL when ``RELCRM_TEST_POSTGRES_URL`` names a server: see tests/postgres.py),
the same persons already in the CRM (as a real org or portal would hold them), the
shipped mapping's fields provisioned. Then the engine runs, and the sandbox's request
log and the store say what happened.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relcrm.connectors import Connector
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.errors import ConfigurationError
from relcrm.mapping import ConsentField, Mapping, load_shipped, mapping_from
from relcrm.models import (
    Channel,
    Consent,
    FieldSpec,
    FieldType,
    FieldWrite,
    NpsScore,
    Perception,
    Person,
    Provenance,
    WriteOutcome,
    WriteResult,
)
from relcrm.sandbox.hubspot.pytest_support import hs_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.pytest_support import sf_sandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.engine import ROW_KEY, StopRun, SyncEngine, SyncProgress
from relcrm.sync.fields import apply_fields
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, salesforce_connector, seed_org
from relcrm.testing.synthetic import generate_sample

__all__ = ["hs_sandbox", "sf_sandbox"]

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
PERSONS = 24
Sandbox = SalesforceSandbox | HubSpotSandbox


@dataclass
class World:
    crm: str
    sandbox: Sandbox
    store: Store
    connector: Connector
    mapping: Mapping
    persons: list[Person]

    def engine(self, mapping: Mapping | None = None, **options: object) -> SyncEngine:
        return SyncEngine(
            self.store,
            self.connector,
            mapping or self.mapping,
            target=f"{self.crm}-test",
            now=lambda: NOW,
            **options,  # type: ignore[arg-type]
        )

    def written_records(self) -> Counter[str]:
        """Record id -> successful update writes of it, from the sandbox's request log."""
        return Counter(
            w.id or "" for w in self.sandbox.log.writes() if w.operation in ("update", "upsert")
        )

    def reprofile(self) -> None:
        list(profile_store(self.store, NOW))

    @property
    def consenting(self) -> list[Person]:
        return [p for p in self.persons if p.consent.granted and p.emails]


@pytest.fixture(params=["salesforce", "hubspot"])
def world(
    request: pytest.FixtureRequest,
    sf_sandbox: SalesforceSandbox,
    hs_sandbox: HubSpotSandbox,
    tmp_path: Path,
    store_url: str,
) -> Iterator[World]:
    sample = generate_sample(persons=PERSONS, seed=11, now=NOW)
    path = tmp_path / "sample.jsonl"
    write_interchange(sample.records(), path)
    store = Store.open(store_url)
    ingest_interchange(path, store)
    list(profile_store(store, NOW))
    connector: Connector
    sandbox: Sandbox
    if request.param == "salesforce":
        sf_sandbox.reset()
        sandbox = sf_sandbox
        seed_org(OrgRest(sf_sandbox), sample.persons)
        connector = salesforce_connector(sf_sandbox)
        mapping = load_shipped("salesforce-contact")
    else:
        hs_sandbox.reset()
        sandbox = hs_sandbox
        hs = hubspot_connector(hs_sandbox)
        seed_portal(hs.client.sdk, sample.persons)
        connector = hs
        mapping = load_shipped("hubspot-contact")
    apply_fields(connector, mapping)
    sandbox.log.clear()
    try:
        yield World(request.param, sandbox, store, connector, mapping, list(sample.persons))
    finally:
        store.close()


def test_first_sync_writes_everyone_consenting_and_the_second_writes_nothing(
    world: World,
) -> None:
    first = world.engine().run()
    assert first.status == "succeeded", json.dumps(first.to_json())
    assert first.counts["written"] == len(world.consenting) > 10
    assert first.counts["skipped_no_consent"] == PERSONS - len(world.consenting)
    assert set(world.written_records().values()) == {1}
    assert len(world.written_records()) == len(world.consenting)

    world.sandbox.log.clear()
    second = world.engine().run()
    assert second.status == "succeeded"
    assert second.counts["written"] == 0
    assert second.counts["unchanged"] == len(world.consenting)
    assert world.sandbox.log.writes() == []
    # the records are remembered: the second run neither matched nor wrote
    assert second.api_calls <= 1, [c.path for c in world.sandbox.log.calls()]
    assert [r.status for r in world.store.runs(target=f"{world.crm}-test")] == [
        "succeeded",
        "succeeded",
    ]


def test_one_changed_perception_sends_only_that_persons_changed_fields(world: World) -> None:
    world.engine().run()
    person = world.consenting[0]
    before = world.store.get_profile(person.id)
    assert before is not None
    world.store.add_perceptions(
        [
            Perception(
                person_id=person.id,
                occurred_at=NOW - timedelta(hours=1),
                channel=Channel.SURVEY,
                nps=NpsScore(value=0 if before.health > 50 else 10),
                provenance=Provenance(source_system="test", source_record_id="changed-1"),
            )
        ]
    )
    world.reprofile()
    after = world.store.get_profile(person.id)
    assert after is not None and after.health != before.health
    world.sandbox.log.clear()

    report = world.engine().run()

    assert report.counts["written"] == 1
    assert report.counts["unchanged"] == len(world.consenting) - 1
    assert 1 <= report.counts["fields_sent"] < len(world.mapping.fields)
    assert len(world.sandbox.log.writes()) == 1
    pushed = world.store.field_fingerprints(f"{world.crm}-test", [person.id])[person.id]
    assert set(pushed) - {ROW_KEY} == world.mapping.field_names()


def test_consent_withdrawn_clears_the_fields_once(world: World) -> None:
    world.engine().run()
    person = world.consenting[1]
    world.store.upsert_person(
        person.model_copy(update={"consent": Consent(granted=False, updated_at=NOW)})
    )
    world.sandbox.log.clear()

    report = world.engine().run()

    assert report.counts["cleared"] == 1 and report.counts["written"] == 0
    assert len(world.sandbox.log.writes()) == 1
    assert world.store.cleared(f"{world.crm}-test", [person.id]) == {person.id}
    world.sandbox.log.clear()
    again = world.engine().run()
    assert again.counts["cleared"] == 0 and world.sandbox.log.writes() == []


def test_a_run_stopped_after_k_batches_resumes_and_writes_every_record_once(
    world: World,
) -> None:
    batches: list[int] = []

    def stop_after_two(progress: SyncProgress) -> None:
        if progress.batch and progress.batch not in batches:
            batches.append(progress.batch)
            if len(batches) == 2:
                raise StopRun

    stopped = world.engine(batch_size=5).run(full=True, progress=stop_after_two)
    assert stopped.status is None and stopped.counts["written"] == 10
    assert world.store.unfinished_run(f"{world.crm}-test") is not None

    resumed = world.engine(batch_size=5).run(full=True)

    assert resumed.resumed and resumed.status == "succeeded"
    assert resumed.counts["written"] == len(world.consenting)  # the whole run's count
    assert resumed.counts["considered"] == PERSONS  # nobody counted twice
    assert resumed.counts["selected"] == len(world.consenting)
    assert resumed.counts["skipped_no_consent"] == PERSONS - len(world.consenting)
    written = world.written_records()
    assert len(written) == len(world.consenting)
    assert set(written.values()) == {1}, written


def test_a_restricted_picklist_rejection_is_dead_lettered_and_retried_after_the_fix(
    world: World,
) -> None:
    segment = next(f for f in world.mapping.fields if f.source == "segment")
    pushed = world.engine().run()  # fields as mapped: everything goes through
    assert pushed.status == "succeeded"
    used = Counter(
        p.segment.value for p in world.store.iter_profiles() if p.person_id in _ids(world)
    )
    victim = used.most_common(1)[0][0]
    # The admin narrows the CRM's restricted picklist: the victim value is gone there,
    # while the mapping still lists it.
    narrowed = tuple(v for v in segment.picklist if v != victim)
    spec: FieldSpec = segment.spec().model_copy(update={"picklist_values": narrowed})
    _replace_field(world, spec)
    world.store.forget_target_state(f"{world.crm}-test")
    world.sandbox.log.clear()

    # The preflight would stop this run before its first write (see the next test);
    # without it, the CRM rejects the victims one by one.
    report = world.engine(preflight=False).run()

    assert report.status == "partial" and report.exit_code == 1
    assert report.counts["rejected"] == used[victim]
    letters = world.store.open_dead_letters(f"{world.crm}-test")
    assert len(letters) == used[victim]
    assert all(letter.error_code for letter in letters)
    assert all(segment.name in letter.fields for letter in letters)

    # The fix: map the value onto one the CRM has.
    fixed_field = segment.model_copy(update={"picklist": narrowed, "values": {victim: narrowed[0]}})
    fixed = world.mapping.model_copy(
        update={"fields": tuple(fixed_field if f is segment else f for f in world.mapping.fields)}
    )
    retried = world.engine(fixed).run(only=[letter.person_id for letter in letters])

    assert retried.status == "succeeded", retried.to_json()
    assert retried.counts["written"] == used[victim]
    assert world.store.open_dead_letters(f"{world.crm}-test") == []


def test_a_mapping_that_no_longer_fits_stops_the_run_before_its_first_write(
    world: World,
) -> None:
    """Issue 11: the run checks the mapping against the CRM before writing, and stops with
    the lines ``relcrm mapping check`` prints, instead of collecting a rejection a person."""
    from relcrm.sync.engine import MappingMismatchError

    segment = next(f for f in world.mapping.fields if f.source == "segment")
    narrowed = tuple(v for v in segment.picklist if v != "loyal")
    _replace_field(world, segment.spec().model_copy(update={"picklist_values": narrowed}))
    world.sandbox.log.clear()

    with pytest.raises(MappingMismatchError) as stopped:
        world.engine().run()

    assert stopped.value.exit_code == 2 and stopped.value.code == "sync.mapping_mismatch"
    assert f"{segment.name}: the CRM's restricted picklist lacks loyal" in stopped.value.message
    assert world.sandbox.log.writes() == []
    (run,) = world.store.runs(target=f"{world.crm}-test")
    assert run.status == "failed" and world.store.open_dead_letters(f"{world.crm}-test") == []


def _ids(world: World) -> set[str]:
    return {p.id for p in world.consenting}


def _replace_field(world: World, spec: FieldSpec) -> None:
    """Narrow a provisioned picklist in the CRM as an admin would: HubSpot through its
    properties API (the official client); Salesforce in the org itself (Setup), since the
    sandbox's Tooling API creates fields but does not edit them."""
    if isinstance(world.sandbox, SalesforceSandbox):
        obj = world.sandbox.org.object_def(world.mapping.object)
        assert obj is not None
        name = next(n for n in obj.fields if n.lower() == spec.name.lower())
        obj.fields[name].picklist = spec.picklist_values
    else:
        assert isinstance(world.connector, HubSpotConnector)
        options = [
            {"label": v, "value": v, "displayOrder": i, "hidden": False}
            for i, v in enumerate(spec.picklist_values)
        ]
        world.connector.client.sdk.crm.properties.core_api.update(
            world.mapping.object, spec.name, {"options": options}
        )
        world.connector.writer.forget_schema()


class _DiesAfterWriting:
    """The real connector, in a process that dies right after its ``dies_at``-th write
    reached the CRM and before the engine could record the answer."""

    def __init__(self, connector: Connector, dies_at: int) -> None:
        self._connector = connector
        self._writes = 0
        self._dies_at = dies_at

    def __getattr__(self, name: str) -> object:
        return getattr(self._connector, name)

    def write(self, object_name: str, writes: list[FieldWrite]) -> list[WriteResult]:
        results = self._connector.write(object_name, writes)
        self._writes += 1
        if self._writes == self._dies_at:
            raise SystemExit("killed")
        return results


def test_a_run_killed_while_a_batch_was_in_flight_does_not_write_it_twice(
    world: World,
) -> None:
    dying = _DiesAfterWriting(world.connector, dies_at=2)
    engine = SyncEngine(
        world.store,
        dying,
        world.mapping,
        target=f"{world.crm}-test",
        batch_size=5,  # type: ignore[arg-type]
    )
    with pytest.raises(SystemExit):
        engine.run()
    assert len(world.written_records()) == 10  # two batches reached the CRM, one recorded

    resumed = world.engine(batch_size=5).run()

    assert resumed.resumed and resumed.status == "succeeded", resumed.to_json()
    assert resumed.counts["recovered"] == 5
    written = world.written_records()
    assert len(written) == len(world.consenting)
    assert set(written.values()) == {1}, written
    pushed = world.store.field_fingerprints(f"{world.crm}-test", [p.id for p in world.consenting])
    assert len(pushed) == len(world.consenting)


def test_consent_kept_in_a_crm_field_is_followed(world: World) -> None:
    world.engine().run()
    consent_field = "relcrm_Consent__c" if world.crm == "salesforce" else "relcrm_consent"
    spec = FieldSpec(name=consent_field, label="Feedback consent", type=FieldType.CHECKBOX)
    for object_name in (world.mapping.object, *world.mapping.match.fallback):
        world.connector.provision(object_name, [spec])
    if isinstance(world.connector, HubSpotConnector):
        world.connector.writer.forget_schema()
    target = f"{world.crm}-test"
    everyone = [p for p in world.persons if p.emails]
    found = world.connector.find_records(
        world.mapping.object,
        {p.id: list(p.emails) for p in everyone},
        fallback=("Lead",) if world.crm == "salesforce" else (),
    )
    withdrawing = world.consenting[2]
    refusing = next(p for p in everyone if not p.consent.granted)
    setup = [
        FieldWrite(
            person_id=p.id,
            record=found.matched[p.id],
            values={consent_field: p.id != withdrawing.id},
        )
        for p in everyone
    ]
    assert all(
        r.outcome is WriteOutcome.WRITTEN
        for r in world.connector.write(world.mapping.object, setup)
    )
    followed = world.mapping.model_copy(update={"consent": ConsentField(field=consent_field)})
    world.sandbox.log.clear()

    report = world.engine(followed).run()

    assert report.counts["consent_withdrawn"] == 1 and report.counts["cleared"] == 1
    assert report.counts["consent_granted"] == PERSONS - len(world.consenting)
    assert report.counts["written"] == PERSONS - len(world.consenting)
    stored = world.store.get_person(withdrawing.id)
    assert stored is not None and not stored.consent.granted
    assert stored.consent.source is not None and consent_field in stored.consent.source
    now_granted = world.store.get_person(refusing.id)
    assert now_granted is not None and now_granted.consent.granted
    assert world.store.cleared(target, [withdrawing.id]) == {withdrawing.id}
    # The consent field itself is read, never written by the sync.
    assert consent_field not in followed.field_names()


def test_logs_hold_no_secrets_and_no_verbatims(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        report = world.engine().run()
    assert report.counts["written"] > 0 and caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records) + repr(report.to_json())
    sandbox = world.sandbox
    secrets = (
        [sandbox.session_id, sandbox.password, sandbox.security_token]
        if isinstance(sandbox, SalesforceSandbox)
        else [sandbox.token]
    )
    assert not [s for s in secrets if s in logged]
    verbatims = [
        p.verbatim
        for _, found in world.store.iter_person_perceptions()
        for p in found
        if p.verbatim and len(p.verbatim) > 20
    ]
    assert verbatims and not [v for v in verbatims if v in logged]


def test_unchanged_rows_are_skipped_until_person_profile_or_mapping_change(
    world: World,
) -> None:
    world.engine().run()
    target = f"{world.crm}-test"
    ids = [p.id for p in world.consenting]
    before = world.store.field_fingerprints(target, ids)
    assert all(ROW_KEY in fields for fields in before.values())

    # Another mapping (a new value map) re-decides everyone; the values are the same, so
    # nothing is written, and the new state is remembered.
    first_field = world.mapping.fields[0]
    relabelled = world.mapping.model_copy(
        update={
            "fields": (
                first_field.model_copy(update={"label": "Health (0-100)"}),
                *world.mapping.fields[1:],
            )
        }
    )
    world.sandbox.log.clear()
    report = world.engine(relabelled).run()
    assert report.counts["written"] == 0 and world.sandbox.log.writes() == []
    after = world.store.field_fingerprints(target, ids)
    assert all(after[i][ROW_KEY] != before[i][ROW_KEY] for i in ids)
    assert all(
        {k: v for k, v in after[i].items() if k != ROW_KEY}
        == {k: v for k, v in before[i].items() if k != ROW_KEY}
        for i in ids
    )


def test_no_mapped_field_may_start_with_the_reserved_hash() -> None:
    mapping = load_shipped("hubspot-contact")
    data = mapping.model_dump()
    data["fields"][0]["name"] = "#row"
    with pytest.raises(ConfigurationError, match="fields"):
        mapping_from(data)  # how mapping files are read: problems named per key
