"""Upserts by external id: writes that name a key instead of a record go to
``PATCH composite/sobjects/{SObject}/{ExternalIdField}`` (or a Bulk API 2.0 upsert job),
against the Salesforce sandbox over TLS through simple-salesforce."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

import pytest

from relcrm.connectors.salesforce.connector import CAPABILITIES
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, FieldWrite, RecordKey, WriteOutcome
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox
from tests.connectors.support import BAND, HEALTH, connector, write_for

KEY = "Relcrm_Person_Id__c"
PERSON_ID = FieldSpec(
    name=KEY, label="relcrm Person Id", type=FieldType.TEXT, length=64, external_id=True
)
PLAIN = FieldSpec(name="Relcrm_Plain__c", label="Plain", type=FieldType.TEXT, length=64)
UPSERT_PATH = f"/composite/sobjects/Contact/{KEY}"


def keyed(person: str, create: dict[str, Any] | None = None, **values: Any) -> FieldWrite:
    return FieldWrite(
        person_id=person,
        values=values,
        key=RecordKey(field=KEY, value=person),
        create_values=create or {},
    )


def ready(sf_sandbox: SalesforceSandbox, **kwargs: Any) -> Any:
    conn = connector(sf_sandbox, **kwargs)
    conn.provision("Contact", [BAND, HEALTH, PERSON_ID, PLAIN])
    conn.describe("Contact")  # logged in; the calls below are the writes'
    sf_sandbox.log.clear()
    return conn


def existing(sf: Any, sf_sandbox: SalesforceSandbox, *persons: str) -> dict[str, str]:
    """Contacts the org already holds, each with its person's id in the external id (made
    by another app: the request log forgets them)."""
    records = [
        {"attributes": {"type": "Contact"}, "LastName": f"Known {p}", KEY: p} for p in persons
    ]
    answer = sf.restful("composite/sobjects", method="POST", json={"records": records})
    sf_sandbox.log.clear()
    return {p: a["id"] for p, a in zip(persons, answer, strict=True)}


def contacts_by_key(sf: Any) -> dict[str, list[dict[str, Any]]]:
    rows = sf.query_all(f"SELECT Id, LastName, Relcrm_Health__c, {KEY} FROM Contact")["records"]
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get(KEY):
            found.setdefault(row[KEY], []).append(row)
    return found


def paths(sf_sandbox: SalesforceSandbox) -> list[str]:
    return [f"{c.method} {c.path.split('/services/data/')[-1]}" for c in sf_sandbox.log.calls()]


def test_salesforce_declares_upserts_by_external_id() -> None:
    assert CAPABILITIES.upsert_by_external_id and CAPABILITIES.supports_upsert


def test_keyed_writes_update_by_external_id_and_create_the_missing(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    ids = existing(sf, sf_sandbox, "p1", "p2")
    results = conn.write(
        "Contact",
        [
            keyed("p1", Relcrm_Health__c=71),
            keyed("p2", Relcrm_Health__c=72),
            keyed("p3", {"LastName": "[not provided]"}, Relcrm_Health__c=73),
        ],
    )
    calls = paths(sf_sandbox)
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN] * 3
    assert [r.created for r in results[:2]] == [False, False]
    assert [r.record_id for r in results[:2]] == [ids["p1"], ids["p2"]]
    # p3 was new: the first upsert could not create it without its LastName, the second,
    # with the values meant only for new records, did
    assert results[2].created is True and results[2].record_id
    held = contacts_by_key(sf)
    assert {k: len(v) for k, v in held.items()} == {"p1": 1, "p2": 1, "p3": 1}
    assert [held[p][0]["Relcrm_Health__c"] for p in ("p1", "p2", "p3")] == [71, 72, 73]
    assert held["p1"][0]["LastName"] == "Known p1"  # create_values never reach a record
    assert held["p3"][0]["LastName"] == "[not provided]"
    assert all("/query" not in c for c in calls), calls  # nothing matched first
    assert calls.count(f"PATCH {calls[0].split(' ', 1)[1]}") == 2
    assert calls[0].endswith(UPSERT_PATH)
    first = sf_sandbox.log.calls()[0]
    assert {(w.operation, w.key, w.success) for w in first.writes} == {
        ("upsert", "p1", True),
        ("upsert", "p2", True),
        ("upsert", "p3", False),
    }


def test_a_record_the_org_cannot_create_is_rejected_with_its_code(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    existing(sf, sf_sandbox, "p1")
    results = conn.write(
        "Contact", [keyed("p1", Relcrm_Health__c=60), keyed("p2", Relcrm_Health__c=61)]
    )
    assert len(sf_sandbox.log.calls()) == 1  # no create_values: no second call
    assert results[0].outcome is WriteOutcome.WRITTEN
    assert results[1].outcome is WriteOutcome.REJECTED
    assert results[1].error_code == "REQUIRED_FIELD_MISSING"
    assert "LastName" in (results[1].error_message or "")
    assert results[1].record_id is None and results[1].created is None
    assert set(contacts_by_key(sf)) == {"p1"}


def test_one_bad_record_is_rejected_alone_and_its_value_is_not_quoted(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    existing(sf, sf_sandbox, "p1", "p2", "p3")
    results = conn.write(
        "Contact",
        [
            keyed("p1", Relcrm_Band__c="Steady"),
            keyed("p2", Relcrm_Band__c="Ecstatically devoted"),
            keyed("p3", Relcrm_Band__c="Thriving"),
        ],
    )
    assert [r.outcome for r in results] == [
        WriteOutcome.WRITTEN,
        WriteOutcome.REJECTED,
        WriteOutcome.WRITTEN,
    ]
    bad = results[1]
    assert bad.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert bad.error_message and "Ecstatically" not in bad.error_message
    assert "Relcrm_Band__c" in bad.error_message
    assert "p2" not in bad.error_message


def test_updates_by_id_and_upserts_share_a_write_but_not_a_call(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    ids = existing(sf, sf_sandbox, "p1", "p2")
    results = conn.write(
        "Contact",
        [write_for("p1", ids["p1"], Relcrm_Health__c=10), keyed("p2", Relcrm_Health__c=20)],
    )
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN] * 2
    assert results[0].created is None and results[1].created is False
    assert sorted(c.rsplit("/v", 1)[-1].split("/", 1)[-1] for c in paths(sf_sandbox)) == [
        "composite/sobjects",
        f"composite/sobjects/Contact/{KEY}",
    ]


def test_an_upsert_carried_out_but_unanswered_is_read_back_by_external_id(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    existing(sf, sf_sandbox, *(f"p{i}" for i in range(5)))
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True))
    create = {"LastName": "[not provided]"}
    results = conn.write("Contact", [keyed(f"p{i}", create, Relcrm_Health__c=i) for i in range(10)])
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    # the first call updated p0..p4 (its answer was lost); they are found by their
    # external id and not sent again; p5..p9 (refused: no LastName) are created once
    held = contacts_by_key(sf)
    assert {k: len(v) for k, v in held.items()} == {f"p{i}": 1 for i in range(10)}
    assert [r.record_id for r in results] == [held[f"p{i}"][0]["Id"] for i in range(10)]
    upserts = [c for c in sf_sandbox.log.calls() if c.path.endswith(UPSERT_PATH)]
    # the lost call; the five not found, sent again and refused (no LastName); then the
    # five with the values meant for new records
    assert len(upserts) == 3
    assert [sum(1 for w in c.writes if w.success) for c in upserts[1:]] == [0, 5]
    queries = [unquote_plus(c.query or "") for c in sf_sandbox.log.calls()]
    assert any(f"WHERE {KEY} IN" in q for q in queries)  # read back by external id
    assert conn.writer.recovered == 5


def test_a_created_record_whose_answer_was_lost_is_not_created_twice(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    create = {"LastName": "[not provided]"}
    conn.write("Contact", [keyed("p0", create, Relcrm_Health__c=1)])  # p0 exists now
    sf_sandbox.log.clear()
    # p1's creation (the second upsert call) reaches the org; its answer does not
    sf_sandbox.set_faults(
        FaultPlan(drop_calls=[2], drop_after_processing=True, paths=[UPSERT_PATH])
    )
    results = conn.write(
        "Contact",
        [keyed("p0", create, Relcrm_Health__c=2), keyed("p1", create, Relcrm_Health__c=3)],
    )
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN] * 2
    held = contacts_by_key(sf)
    assert {k: len(v) for k, v in held.items()} == {"p0": 1, "p1": 1}
    assert results[1].record_id == held["p1"][0]["Id"]
    assert results[1].created is None  # found by the read-back: who created it is not known
    assert held["p0"][0]["Relcrm_Health__c"] == 2 and held["p1"][0]["Relcrm_Health__c"] == 3


def test_an_upsert_dropped_before_it_was_carried_out_is_sent_again_once(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    existing(sf, sf_sandbox, "p1", "p2")
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1]))
    results = conn.write(
        "Contact", [keyed("p1", Relcrm_Health__c=5), keyed("p2", Relcrm_Health__c=6)]
    )
    assert [r.created for r in results] == [False, False]
    assert sf_sandbox.log.write_counts("Contact").most_common(1)[0][1] == 1


def test_a_key_that_is_not_an_external_id_is_a_clear_error(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    write = FieldWrite(
        person_id="p1",
        values={"Relcrm_Health__c": 5},
        key=RecordKey(field="Relcrm_Plain__c", value="p1"),
    )
    with pytest.raises(ConfigurationError) as caught:
        conn.write("Contact", [write])
    assert caught.value.code == "connector.not_external_id"
    assert "Relcrm_Plain__c" in caught.value.message and "External ID" in caught.value.message
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0


def test_a_write_with_neither_record_nor_key_is_not_matched(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox)
    [result] = conn.write("Contact", [FieldWrite(person_id="p1", values={"Relcrm_Health__c": 1})])
    assert result.outcome is WriteOutcome.REJECTED and result.error_code == "NOT_MATCHED"
    assert not sf_sandbox.log.calls()


def test_above_the_bulk_threshold_an_upsert_job_is_used(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = ready(sf_sandbox, bulk_threshold=4, bulk_poll_s=0.01)
    existing(sf, sf_sandbox, "p0", "p1", "p2")
    create = {"LastName": "[not provided]"}
    writes = [keyed(f"p{i}", create, Relcrm_Health__c=i) for i in range(6)]
    writes.append(keyed("p6", create, Relcrm_Band__c="Unheard of"))
    results = conn.write("Contact", writes)
    jobs = [c for c in sf_sandbox.log.calls() if c.method == "POST" and c.path.endswith("/ingest")]
    assert len(jobs) == 1
    first = sf_sandbox.log.calls()[0]
    assert first.method == "POST" and first.path.endswith("/jobs/ingest")
    job_calls = [c for c in sf_sandbox.log.calls() if c.method == "JOB"]
    assert job_calls and "operation=upsert" in (job_calls[0].query or "")
    held = contacts_by_key(sf)
    assert [r.outcome for r in results[:6]] == [WriteOutcome.WRITTEN] * 6
    assert [r.created for r in results[:6]] == [False] * 3 + [True] * 3
    assert [r.record_id for r in results[:6]] == [held[f"p{i}"][0]["Id"] for i in range(6)]
    assert held["p0"][0]["LastName"] == "Known p0"
    assert results[6].outcome is WriteOutcome.REJECTED
    assert results[6].error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "Unheard" not in (results[6].error_message or "")
    assert {k: len(v) for k, v in held.items()} == {f"p{i}": 1 for i in range(6)}
