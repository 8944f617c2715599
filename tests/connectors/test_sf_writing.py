"""Writing through sObject Collections and Bulk API 2.0, with per-record outcomes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from relcrm.connectors.errors import QuotaExhausted
from relcrm.connectors.salesforce import CAPABILITIES
from relcrm.models import FieldType, FieldWrite, WriteOutcome, value_holds
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox
from tests.connectors.support import (
    BAND,
    HEALTH,
    SPECS,
    Sleeps,
    connector,
    make_contacts,
    write_for,
)


def health_writes(ids: list[str], health: int) -> list[FieldWrite]:
    return [write_for(f"p{i}", r, Relcrm_Health__c=health) for i, r in enumerate(ids)]


def collection_calls(sf_sandbox: SalesforceSandbox) -> list[Any]:
    return [c for c in sf_sandbox.log.calls() if c.path.endswith("/composite/sobjects")]


def provisioned(sf_sandbox: SalesforceSandbox, **kwargs: Any) -> Any:
    conn = connector(sf_sandbox, **kwargs)
    conn.provision("Contact", [BAND, HEALTH])
    sf_sandbox.log.clear()
    return conn


def test_capabilities_are_data() -> None:
    assert CAPABILITIES.max_batch_size == 200 and CAPABILITIES.bulk_threshold == 2000
    assert CAPABILITIES.max_field_name_length == 40
    assert (CAPABILITIES.max_text_length, CAPABILITIES.max_long_text_length) == (255, 131072)
    assert CAPABILITIES.field_types == frozenset(FieldType)


def test_batches_of_200_and_one_bad_picklist_value_rejects_only_its_record(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 250)
    conn = provisioned(sf_sandbox)
    writes = [
        write_for(f"p{i}", rid, Relcrm_Band__c="Thriving", Relcrm_Health__c=i % 100)
        for i, rid in enumerate(ids)
    ]
    writes[7] = write_for("p7", ids[7], Relcrm_Band__c="Ecstatic", Relcrm_Health__c=7)
    results = conn.write("Contact", writes)
    assert [r.person_id for r in results] == [w.person_id for w in writes]
    assert Counter(r.outcome for r in results) == {
        WriteOutcome.WRITTEN: 249,
        WriteOutcome.REJECTED: 1,
    }
    assert results[7].error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    message = results[7].error_message or ""
    assert "bad value for restricted picklist field" in message and "Relcrm_Band__c" in message
    assert "Ecstatic" not in message  # CRM messages never carry the values (issue 11, #11)
    assert len(collection_calls(sf_sandbox)) == 2
    assert sf.Contact.get(ids[8])["Relcrm_Band__c"] == "Thriving"
    assert sf.Contact.get(ids[7])["Relcrm_Band__c"] is None


def test_row_locks_retry_only_the_failed_records_and_each_is_written_once(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 10)
    sleeps = Sleeps()
    conn = provisioned(sf_sandbox, sleeps=sleeps)
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=[ids[2], ids[5]], record_failure_times=2))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=50) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    calls = collection_calls(sf_sandbox)
    assert [len(c.writes) for c in calls] == [10, 2, 2]
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}
    assert len(sleeps.calls) == 2


def test_a_lock_that_never_clears_is_reported_retryable(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 3)
    conn = provisioned(sf_sandbox)
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=[ids[1]], record_failure_times=0))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=1) for i, r in enumerate(ids)]
    )
    assert [r.outcome for r in results] == [
        WriteOutcome.WRITTEN,
        WriteOutcome.RETRYABLE,
        WriteOutcome.WRITTEN,
    ]
    assert results[1].error_code == "UNABLE_TO_LOCK_ROW"


def test_expired_session_and_faults_mid_run_lose_nothing_and_write_once(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 600)
    conn = provisioned(sf_sandbox)
    sf_sandbox.set_faults(FaultPlan(session_expires_after=2, unavailable_calls=[2], drop_calls=[4]))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=9) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    counts = sf_sandbox.log.write_counts("Contact")
    assert len(counts) == 600 and set(counts.values()) == {1}
    assert conn.client.logins >= 2
    faults = {c.fault for c in sf_sandbox.log.calls()}
    assert {"unavailable", "dropped"} <= faults
    assert sf_sandbox.log.statuses()[401] >= 1


def test_quota_exhausted_mid_run_stops_cleanly_with_what_was_done(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 450)
    conn = provisioned(sf_sandbox)
    sf_sandbox.org.api_usage = sf_sandbox.org.config.api_daily_limit - 1
    with pytest.raises(QuotaExhausted) as failure:
        conn.write(
            "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=3) for i, r in enumerate(ids)]
        )
    done = failure.value.completed
    assert len(done) == 200 and {r.outcome for r in done} == {WriteOutcome.WRITTEN}
    assert len(sf_sandbox.log.write_counts("Contact")) == 200


def test_unmatched_writes_are_rejected_not_sent(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    conn = provisioned(sf_sandbox)
    results = conn.write("Contact", [FieldWrite(person_id="p", values={"Relcrm_Health__c": 1})])
    assert results[0].outcome is WriteOutcome.REJECTED and results[0].error_code == "NOT_MATCHED"
    assert collection_calls(sf_sandbox) == []


def test_bulk_above_the_threshold_maps_failed_rows_back(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 30)
    conn = provisioned(sf_sandbox, bulk_threshold=10, bulk_poll_s=0.0)
    writes = [
        write_for(f"p{i}", rid, Relcrm_Band__c="Steady", Relcrm_Health__c=None if i == 3 else i)
        for i, rid in enumerate(ids)
    ]
    writes[12] = write_for("p12", ids[12], Relcrm_Band__c="Nope", Relcrm_Health__c=1)
    results = conn.write("Contact", writes)
    assert [r.person_id for r in results] == [w.person_id for w in writes]
    rejected = [r for r in results if r.outcome is WriteOutcome.REJECTED]
    assert [(r.person_id, r.record_id) for r in rejected] == [("p12", ids[12])]
    assert rejected[0].error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sum(r.outcome is WriteOutcome.WRITTEN for r in results) == 29
    assert collection_calls(sf_sandbox) == []
    assert any("/jobs/ingest" in c.path for c in sf_sandbox.log.calls())
    assert sf.Contact.get(ids[4])["Relcrm_Health__c"] == 4
    assert sf.Contact.get(ids[3])["Relcrm_Health__c"] is None


def test_bulk_row_locks_are_retried_through_collections(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 20)
    conn = provisioned(sf_sandbox, bulk_threshold=10, bulk_poll_s=0.0)
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=[ids[5]]))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=2) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert [len(c.writes) for c in collection_calls(sf_sandbox)] == [1]
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}


def test_the_connector_satisfies_the_protocol(sf_sandbox: SalesforceSandbox) -> None:
    from relcrm.connectors import Connector

    assert isinstance(connector(sf_sandbox), Connector)


def test_values_are_read_back_normalised(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    """Salesforce answers with JSON numbers and ``+0000`` datetimes; read_values hands back
    neutral values (issue 12), which hold what was sent by relcrm's one comparison."""
    (rid,) = make_contacts(sf, 1)
    conn = connector(sf_sandbox)
    conn.provision("Contact", SPECS)
    sent = {
        "Relcrm_Band__c": "At risk",
        "Relcrm_Health__c": 72,
        "Relcrm_Share__c": 12.35,
        "Relcrm_Advocate__c": True,
        "Relcrm_Last_NPS__c": "2024-05-01",
        "Relcrm_As_Of__c": "2024-05-01T10:40:00.000Z",
        "Relcrm_Attitude__c": None,
    }
    assert conn.write("Contact", [write_for("p", rid, **sent)])[0].outcome is WriteOutcome.WRITTEN
    got = conn.read_values("Contact", [rid], list(sent))
    assert got == {
        rid: {
            "Relcrm_Band__c": "At risk",
            "Relcrm_Health__c": 72,
            "Relcrm_Share__c": 12.35,
            "Relcrm_Advocate__c": True,
            "Relcrm_Last_NPS__c": date(2024, 5, 1),
            "Relcrm_As_Of__c": datetime(2024, 5, 1, 10, 40, tzinfo=UTC),
            "Relcrm_Attitude__c": None,
        }
    }
    assert type(got[rid]["Relcrm_Health__c"]) is int  # a number(3, 0) comes back whole
    specs = {spec.name: spec for spec in SPECS}
    for name, value in sent.items():
        spec = specs[name]
        assert value_holds(spec.type, value, got[rid][name], scale=spec.scale), name
