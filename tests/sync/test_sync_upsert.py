"""Syncing by external id into Salesforce, with and without ``match.create_missing``.

A small world: sample persons ingested and profiled into a store, half of the consenting
ones already in the org as Contacts holding their relcrm id in an External ID field, the
shipped Contact mapping matching by that field. Then the engine runs against the sandbox
over TLS, and the request log, the org and the store say what happened.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from relcrm.connectors import Connector
from relcrm.errors import ConfigurationError
from relcrm.mapping import InvalidMappingError, Mapping, load_shipped, mapping_from
from relcrm.mapping.capabilities import require_supported
from relcrm.models import FieldSpec, FieldType, FieldWrite, Person, WriteResult
from relcrm.sandbox.pytest_support import sf_sandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.engine import MappingMismatchError, SyncEngine
from relcrm.sync.fields import ProblemKind, apply_fields, check_mapping
from relcrm.testing.salesforce import NO_COMPANY, OrgRest, salesforce_connector
from relcrm.testing.synthetic import generate_sample
from tests.sync.test_sync_engine import NOW

__all__ = ["sf_sandbox"]

KEY = "relcrm_Person_Id__c"
PERSON_ID = FieldSpec(
    name=KEY, label="relcrm Person Id", type=FieldType.TEXT, length=64, external_id=True
)
UPSERT_PATH = f"/composite/sobjects/Contact/{KEY}"
UPDATE_PATH = "/composite/sobjects"
TARGET = "sf-upsert"
NEW_RECORD = {"LastName": NO_COMPANY}


def keyed_mapping(*, create: bool = True, create_values: bool = True, by: str = KEY) -> Mapping:
    data: dict[str, Any] = load_shipped("salesforce-contact").model_dump(
        mode="json", exclude_none=True
    )
    match: dict[str, Any] = {"by": by}
    if create:
        match["create_missing"] = True
        if create_values:
            match["create_values"] = dict(NEW_RECORD)
    data["match"] = match
    return mapping_from(data, origin="<test>")


@dataclass
class World:
    sandbox: SalesforceSandbox
    store: Store
    connector: Connector
    rest: OrgRest
    consenting: list[Person]
    known: dict[str, str]
    """person id -> Contact Id of the persons the org held before the run."""

    def engine(self, mapping: Mapping, **options: Any) -> SyncEngine:
        return SyncEngine(
            self.store, self.connector, mapping, target=TARGET, now=lambda: NOW, **options
        )

    def contacts(self) -> dict[str, list[dict[str, Any]]]:
        """The org's Contacts by the relcrm id they hold."""
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self.rest.query(
            f"SELECT Id, LastName, relcrm_Health__c, {KEY} FROM Contact WHERE {KEY} != null"
        ):
            found.setdefault(row[KEY], []).append(row)
        return found

    def paths(self) -> Counter[str]:
        """``METHOD path`` of the calls since the log was cleared (version left out)."""
        return Counter(
            f"{c.method} /{c.path.split('/services/data/')[-1].split('/', 1)[-1]}"
            for c in self.sandbox.log.calls()
        )

    def queries(self) -> list[str]:
        return [unquote_plus(c.query or "") for c in self.sandbox.log.calls() if "/query" in c.path]

    def successful_writes(self) -> Counter[str]:
        return self.sandbox.log.write_counts("Contact")


@pytest.fixture
def world(sf_sandbox: SalesforceSandbox, tmp_path: Path, store_url: str) -> Iterator[World]:
    sample = generate_sample(persons=24, seed=11, now=NOW)
    path = tmp_path / "sample.jsonl"
    write_interchange(sample.records(), path)
    store = Store.open(store_url)
    ingest_interchange(path, store)
    list(profile_store(store, NOW))
    sf_sandbox.reset()
    connector = salesforce_connector(sf_sandbox)
    connector.provision("Contact", [PERSON_ID])
    apply_fields(connector, keyed_mapping())
    rest = OrgRest(sf_sandbox)
    consenting = [p for p in sample.persons if p.consent.granted and p.emails]
    half = consenting[::2]
    rest.create("Contact", [{"LastName": f"Known {i}", KEY: p.id} for i, p in enumerate(half)])
    known = {str(r[KEY]): str(r["Id"]) for r in rest.query(f"SELECT Id, {KEY} FROM Contact")}
    sf_sandbox.log.clear()
    try:
        yield World(sf_sandbox, store, connector, rest, consenting, known)
    finally:
        store.close()


def test_without_create_missing_persons_are_matched_then_updated_by_id(world: World) -> None:
    report = world.engine(keyed_mapping(create=False)).run()
    assert report.counts["written"] == len(world.known) > 3, json.dumps(report.to_json())
    assert report.counts["unmatched"] == len(world.consenting) - len(world.known)
    assert report.status == "succeeded"
    paths = world.paths()
    assert f"PATCH {UPSERT_PATH}" not in paths and paths[f"PATCH {UPDATE_PATH}"] >= 1
    assert any(f"FROM Contact WHERE {KEY} IN" in q for q in world.queries())
    assert set(world.contacts()) == set(world.known)  # nothing created
    assert set(world.successful_writes()) == set(world.known.values())


def test_create_missing_upserts_by_external_id_and_creates_the_rest(world: World) -> None:
    report = world.engine(keyed_mapping()).run()
    everyone = {p.id for p in world.consenting}
    assert report.status == "succeeded", json.dumps(report.to_json())
    assert report.counts["written"] == len(everyone) and report.counts["unmatched"] == 0
    paths = world.paths()
    assert paths[f"PATCH {UPSERT_PATH}"] >= 1 and f"PATCH {UPDATE_PATH}" not in paths
    assert not any(f"WHERE {KEY} IN" in q for q in world.queries())  # no matching first
    held = world.contacts()
    assert {k: len(v) for k, v in held.items()} == dict.fromkeys(everyone, 1)
    assert all(held[p][0]["Id"] == record for p, record in world.known.items())
    assert all(held[p][0]["LastName"].startswith("Known") for p in world.known)
    assert all(held[p][0]["LastName"] == NO_COMPANY for p in everyone - set(world.known))
    assert all(row[0]["relcrm_Health__c"] is not None for row in held.values())
    remembered = world.store.known_records(TARGET, sorted(everyone))
    assert {p: r.record_id for p, r in remembered.items()} == {
        p: rows[0]["Id"] for p, rows in held.items()
    }


def test_created_records_are_updated_by_id_on_the_next_run_not_created_again(
    world: World,
) -> None:
    mapping = keyed_mapping()
    world.engine(mapping).run()
    held = world.contacts()
    world.sandbox.log.clear()

    again = world.engine(mapping).run(full=True)

    assert again.status == "succeeded" and again.counts["written"] == len(world.consenting)
    paths = world.paths()
    assert f"PATCH {UPSERT_PATH}" not in paths and paths[f"PATCH {UPDATE_PATH}"] >= 1
    assert world.contacts() == held  # the same records, none created
    assert set(world.successful_writes().values()) == {1}
    assert set(world.successful_writes()) == {rows[0]["Id"] for rows in held.values()}


def test_a_record_the_org_will_not_create_is_rejected_alone(world: World) -> None:
    report = world.engine(keyed_mapping(create_values=False)).run()
    new = {p.id for p in world.consenting} - set(world.known)
    assert report.status == "partial"
    assert report.counts["written"] == len(world.known)
    assert report.counts["rejected"] == len(new)
    assert {r.error_code for r in report.rejections} == {"REQUIRED_FIELD_MISSING"}
    assert all(r.record_id is None for r in report.rejections)
    letters = world.store.open_dead_letters(TARGET)
    assert {d.person_id for d in letters} == new
    assert set(world.contacts()) == set(world.known)
    assert not world.store.known_records(TARGET, sorted(new))


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


def test_a_run_killed_after_its_upserts_reached_the_crm_creates_nothing_twice(
    world: World,
) -> None:
    mapping = keyed_mapping()
    dying = _DiesAfterWriting(world.connector, dies_at=2)
    engine = SyncEngine(world.store, dying, mapping, target=TARGET, batch_size=5)  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        engine.run()
    assert sum(len(rows) for rows in world.contacts().values()) == len(world.known) + sum(
        1 for p in world.consenting[:10] if p.id not in world.known
    )

    resumed = world.engine(mapping, batch_size=5).run()

    assert resumed.resumed and resumed.status == "succeeded", json.dumps(resumed.to_json())
    assert resumed.counts["recovered"] == 5
    held = world.contacts()
    assert {k: len(v) for k, v in held.items()} == {p.id: 1 for p in world.consenting}
    assert set(world.successful_writes().values()) == {1}  # no record written twice
    remembered = world.store.known_records(TARGET, [p.id for p in world.consenting])
    assert len(remembered) == len(world.consenting)


def test_a_match_key_that_is_not_an_external_id_stops_the_run_before_it_writes(
    world: World,
) -> None:
    mapping = keyed_mapping(by="Email")
    with pytest.raises(MappingMismatchError) as caught:
        world.engine(mapping).run()
    assert "match.by: Email is not an external id field of Contact" in caught.value.message
    assert not world.sandbox.log.writes()


# --------------------------------------------------------------------------- the mapping


def _described(*, external: bool) -> list[FieldSpec]:
    mapping = keyed_mapping()
    specs = [item.spec() for item in mapping.fields]
    return [*specs, PERSON_ID.model_copy(update={"external_id": external})]


def test_mapping_check_wants_the_match_key_to_be_an_external_id() -> None:
    mapping = keyed_mapping()
    assert check_mapping(mapping, _described(external=True)) == []
    [plain] = check_mapping(mapping, _described(external=False))
    assert (plain.field, plain.kind) == ("match.by", ProblemKind.MATCH_KEY)
    assert "is not an external id field of Contact" in plain.problem
    assert "External ID" in plain.fix
    [missing] = check_mapping(mapping, _described(external=True)[:-1])
    assert missing.kind is ProblemKind.MATCH_KEY and "is not a field of Contact" in missing.problem
    email = load_shipped("salesforce-contact")  # matching by email needs no such field
    assert not [p for p in check_mapping(email, []) if p.kind is ProblemKind.MATCH_KEY]


@pytest.mark.parametrize(
    ("match", "where"),
    [
        ({"by": "email", "create_missing": True}, "match.create_missing"),
        ({"by": KEY, "create_values": {"LastName": "x"}}, "match.create_values"),
        (
            {"by": KEY, "create_missing": True, "create_values": {KEY: "x"}},
            f"match.create_values.{KEY}",
        ),
        (
            {"by": KEY, "create_missing": True, "create_values": {"relcrm_health__c": 1}},
            "match.create_values.relcrm_health__c",
        ),
    ],
)
def test_creation_options_that_cannot_work_are_refused_on_load(
    match: dict[str, Any], where: str
) -> None:
    data = load_shipped("salesforce-contact").model_dump(mode="json", exclude_none=True)
    data["match"] = match
    with pytest.raises(InvalidMappingError) as caught:
        mapping_from(data)
    assert where in caught.value.message


def test_a_connector_that_cannot_upsert_refuses_create_missing() -> None:
    from relcrm.connectors.hubspot.connector import CAPABILITIES as HUBSPOT

    data = load_shipped("hubspot-contact").model_dump(mode="json", exclude_none=True)
    data["match"] = {"by": "relcrm_person_id", "create_missing": True}
    with pytest.raises(ConfigurationError) as caught:
        require_supported(mapping_from(data), HUBSPOT)
    assert "match.create_missing" in caught.value.message
    assert "upsert_by_external_id = false" in caught.value.message
