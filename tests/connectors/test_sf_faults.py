"""Transport failures, uncertain writes, partial batches, failing records and value-free
messages, against the Salesforce sandbox through simple-salesforce (issue 11: #2, #8, #9,
#11, #12)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from relcrm.connectors.errors import ConnectionFailed, QuotaExhausted, TransientError
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings
from relcrm.connectors.salesforce.client import default_session
from relcrm.models import FieldSpec, FieldType, WriteOutcome
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox, loopback_session
from tests.connectors.support import (
    BAND,
    HEALTH,
    Sleeps,
    connector,
    make_contacts,
    settings_for,
    write_for,
)

REASONS = FieldSpec(name="Relcrm_Why__c", label="Why", type=FieldType.TEXT, length=40)
FEELING = "Feels trapped by the contract and furious about the outage last week"


class FakeClock:
    """A clock that moves only when the injected sleep sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def composite_calls(sf_sandbox: SalesforceSandbox) -> list[Any]:
    return [c for c in sf_sandbox.log.calls() if c.path.endswith("/composite/sobjects")]


def make_leads(sf: Any, count: int) -> list[str]:
    records = [
        {
            "attributes": {"type": "Lead"},
            "LastName": f"L{i}",
            "Company": "[not provided]",
            "Email": f"lead{i}@example.com",
        }
        for i in range(count)
    ]
    answer = sf.restful("composite/sobjects", method="POST", json={"records": records})
    return [r["id"] for r in answer]


def ready(sf_sandbox: SalesforceSandbox, *objects: str, **kwargs: Any) -> SalesforceConnector:
    conn = connector(sf_sandbox, **kwargs)
    for name in objects or ("Contact",):
        conn.provision(name, [BAND, HEALTH, REASONS])
    sf_sandbox.log.clear()
    return conn


@pytest.mark.parametrize("mode", ["close", "reset", "tls"])
def test_a_dropped_connection_of_any_kind_is_retried(
    sf: Any, sf_sandbox: SalesforceSandbox, mode: str
) -> None:
    conn = connector(sf_sandbox)
    conn.describe("Contact")  # log in first
    sf_sandbox.log.clear()
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1, 2], drop_mode=mode))  # type: ignore[arg-type]
    assert conn.describe("Contact")
    assert [c.fault for c in sf_sandbox.log.calls()][:3] == ["dropped", "dropped", None]


@pytest.mark.parametrize("mode", ["close", "reset", "tls"])
def test_a_write_carried_out_but_unanswered_is_read_back_not_sent_again(
    sf: Any, sf_sandbox: SalesforceSandbox, mode: str
) -> None:
    ids = make_contacts(sf, 30)
    conn = ready(sf_sandbox)
    conn.describe("Contact")  # warm: the read-back's describe is then cached
    sf_sandbox.log.clear()
    sf_sandbox.set_faults(
        FaultPlan(drop_calls=[1], drop_after_processing=True, drop_mode=mode)  # type: ignore[arg-type]
    )
    results = conn.write(
        "Contact",
        [
            write_for(f"p{i}", r, Relcrm_Health__c=i, Relcrm_Band__c="Steady")
            for i, r in enumerate(ids)
        ],
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    counts = sf_sandbox.log.write_counts("Contact")
    assert len(counts) == 30 and set(counts.values()) == {1}  # none written twice
    assert len(composite_calls(sf_sandbox)) == 1  # nothing had to be sent again
    assert any("/query" in c.path for c in sf_sandbox.log.calls())  # it was read back
    assert conn.writer.recovered == 30


def test_a_write_dropped_before_it_was_carried_out_is_sent_again_once(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 12)
    conn = ready(sf_sandbox)
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1]))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=40) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}
    assert [c.fault for c in composite_calls(sf_sandbox)] == ["dropped", None]


def test_a_read_timeout_after_the_org_did_the_work_is_read_back(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 8)
    settings = settings_for(sf_sandbox).model_copy(update={"timeout_s": 0.3})
    conn = ready(sf_sandbox, settings=settings)
    conn.describe("Contact")
    sf_sandbox.log.clear()
    sf_sandbox.set_faults(FaultPlan(slow_calls=[1], slow_ms=900))
    results = conn.write(
        "Contact", [write_for(f"p{i}", r, Relcrm_Health__c=11) for i, r in enumerate(ids)]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}
    assert [c.fault for c in composite_calls(sf_sandbox)] == ["slow"]


def test_an_untrusted_certificate_stops_at_once(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    settings = SalesforceSettings(
        _env_file=None,
        auth_flow=AuthFlow.SESSION_ID,
        instance_url=sf_sandbox.instance_url,
        session_id=sf_sandbox.session_id,
    )
    sleeps = Sleeps()
    session = default_session(settings)  # the system's CAs: the sandbox's is not among them
    session.trust_env = False
    conn = SalesforceConnector(settings, session=session, policy=RetryPolicy(sleep=sleeps))
    with pytest.raises(ConnectionFailed) as failure:
        conn.describe("Contact")
    assert failure.value.code == "connector.connection_failed"
    assert sleeps.calls == []  # retrying cannot help


def test_a_contact_and_lead_batch_reports_every_written_record_when_a_later_call_fails(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    """#8: 200 Contacts + 79 Leads; 10 Contacts are locked, and the quota runs out on the
    call that retries them. The 190 Contacts and 79 Leads written must come back as
    written (so the engine records them and never sends them again)."""
    contacts = make_contacts(sf, 200)
    leads = make_leads(sf, 79)
    conn = ready(sf_sandbox, "Contact", "Lead")
    conn.describe("Contact")  # logged in
    locked = contacts[5::20]
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=locked, record_failure_times=1))
    sf_sandbox.org.api_usage = sf_sandbox.org.config.api_daily_limit - 2  # two calls left
    writes = [write_for(f"c{i}", r, Relcrm_Health__c=5) for i, r in enumerate(contacts)]
    writes += [write_for(f"l{i}", r, "Lead", Relcrm_Health__c=6) for i, r in enumerate(leads)]

    with pytest.raises(QuotaExhausted) as failure:
        conn.write("Contact", writes)

    done = {r.person_id: r for r in failure.value.completed}
    written = {p for p, r in done.items() if r.outcome is WriteOutcome.WRITTEN}
    in_org = sf_sandbox.log.write_counts()
    assert len(written) == 190 + 79 == sum(in_org.values())
    assert {done[f"c{contacts.index(r)}"].outcome for r in locked} == {WriteOutcome.RETRYABLE}
    assert set(in_org.values()) == {1}


def test_failing_records_across_objects_are_retried_together_after_one_wait(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    contacts = make_contacts(sf, 5)
    leads = make_leads(sf, 5)
    sleeps = Sleeps()
    conn = ready(sf_sandbox, "Contact", "Lead", sleeps=sleeps)
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=[contacts[1], leads[3]]))
    writes = [write_for(f"c{i}", r, Relcrm_Health__c=1) for i, r in enumerate(contacts)]
    writes += [write_for(f"l{i}", r, "Lead", Relcrm_Health__c=2) for i, r in enumerate(leads)]
    results = conn.write("Contact", writes)
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert [len(c.writes) for c in composite_calls(sf_sandbox)] == [5, 5, 1, 1]
    assert len(sleeps.calls) == 1  # one wait for the write, not one per object


def test_a_record_that_keeps_failing_does_not_hold_every_batch(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    """#9: one record in each of 20 batches is locked for good. Each is tried
    ``record_attempts`` times and reported; the whole run waits at most its budget."""
    ids = make_contacts(sf, 400)
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock, record_attempts=3, budget=RetryBudget(4.0))
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    conn = SalesforceConnector(settings_for(sf_sandbox), session=session, policy=policy)
    conn.provision("Contact", [HEALTH])
    stuck = ids[7::20]
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=stuck, record_failure_times=0))
    sf_sandbox.log.clear()
    outcomes: Counter[WriteOutcome] = Counter()
    for start in range(0, 400, 20):  # the engine's batches
        batch = ids[start : start + 20]
        results = conn.write(
            "Contact",
            [write_for(f"p{start + i}", r, Relcrm_Health__c=3) for i, r in enumerate(batch)],
        )
        outcomes.update(r.outcome for r in results)
        failed = [r for r in results if r.outcome is not WriteOutcome.WRITTEN]
        assert [(r.record_id, r.error_code) for r in failed] == [
            (stuck[start // 20], "UNABLE_TO_LOCK_ROW")
        ]
    assert outcomes == {WriteOutcome.WRITTEN: 380, WriteOutcome.RETRYABLE: 20}
    # the old policy waited 0.5 + 1 + 2 + 4 s in each of the 20 batches (150 s)
    assert clock.sleeps == [0.5, 1.0, 0.5, 1.0, 0.5, 0.5] and sum(clock.sleeps) == 4.0
    failed_tries = [w for w in sf_sandbox.log.writes(successful_only=False) if not w.success]
    assert len(failed_tries) == 3 + 3 + 2 + 2 + 16  # then each stuck record is tried once
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}


def test_no_value_written_appears_in_any_result_or_error_message(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    """#11, through the real org: STRING_TOO_LONG, a restricted picklist, a number out of
    range; collections and Bulk API 2.0."""
    ids = make_contacts(sf, 12)
    for threshold in (2000, 5):
        conn = ready(sf_sandbox, bulk_threshold=threshold, bulk_poll_s=0.0)
        values = [
            {"Relcrm_Why__c": FEELING},
            {"Relcrm_Band__c": "Ecstatically trapped"},
            {"Relcrm_Health__c": 98765},
        ]
        writes = [write_for(f"p{i}", r, **values[i % 3]) for i, r in enumerate(ids)]
        results = conn.write("Contact", writes)
        assert {r.outcome for r in results} == {WriteOutcome.REJECTED}
        assert {r.error_code for r in results} == {
            "STRING_TOO_LONG",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "NUMBER_OUTSIDE_VALID_RANGE",
        }
        for result in results:
            message = result.error_message or ""
            assert message and not [v for v in (FEELING, "Ecstatically", "98765") if v in message]
        too_long = next(r for r in results if r.error_code == "STRING_TOO_LONG")
        assert "Why: data value too large (max length=40)" in (too_long.error_message or "")
        assert "Relcrm_Why__c" in (too_long.error_message or "")


def test_transport_failures_that_never_end_raise_a_transient_error(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    ids = make_contacts(sf, 3)
    conn = ready(sf_sandbox)
    conn.describe("Contact")
    sf_sandbox.set_faults(FaultPlan(drop_rate=1.0, drop_mode="tls"))
    with pytest.raises(TransientError) as failure:
        conn.write("Contact", [write_for("p", ids[0], Relcrm_Health__c=1)])
    assert failure.value.vendor_code == "CONNECTION_DROPPED"
    assert sf_sandbox.log.write_counts() == Counter()
