"""Fault plans: slow answers, 503s, dropped connections, row locks, determinism."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError

from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox


def test_latency(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.set_faults(FaultPlan(latency_ms=150))
    started = time.monotonic()
    sf.query("SELECT Id FROM Contact")
    assert time.monotonic() - started >= 0.15


def test_unavailable_calls_answer_503(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.set_faults(FaultPlan(unavailable_calls=[2]))
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceGeneralError) as failure:
        sf.query("SELECT Id FROM Contact")
    assert failure.value.status == 503
    assert failure.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sf.query("SELECT Id FROM Contact")
    assert [c.fault for c in sf_sandbox.log.calls()] == [None, "unavailable", None]


def test_dropped_connection_is_a_connection_error(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1]))
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.create({"LastName": "lost"})
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0  # never processed
    assert sf_sandbox.log.calls()[0].status == 0


def test_drop_after_processing_writes_but_never_answers(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True))
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.create({"LastName": "ghost"})
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    assert len(sf_sandbox.log.writes()) == 1


def test_row_lock_on_chosen_records_clears_on_retry(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.set_faults(FaultPlan(record_failure_keys=["b@example.com"]))
    records = [
        {"attributes": {"type": "Contact"}, "LastName": n, "Email": f"{n}@example.com"}
        for n in ("a", "b", "c")
    ]
    first = sf.restful(
        "composite/sobjects/Contact/Email", method="PATCH", json={"records": records}
    )
    assert [r["success"] for r in first] == [True, False, True]
    assert first[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    retry = sf.restful(
        "composite/sobjects/Contact/Email", method="PATCH", json={"records": [records[1]]}
    )
    assert retry[0]["success"] is True and retry[0]["created"] is True
    assert set(sf_sandbox.log.write_counts("Contact").values()) == {1}


def test_rates_are_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[tuple[bool, bool]]:
        injector = FaultInjector(FaultPlan(seed=seed, unavailable_rate=0.3, drop_rate=0.1))
        return [(d.unavailable, d.drop) for d in (injector.next_call() for _ in range(200))]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    unavailable = sum(u for u, _ in pattern(7))
    assert 30 < unavailable < 90
    locks = FaultInjector(FaultPlan(seed=3, record_failure_rate=0.5))
    chosen = [locks.record_fails(f"id{i}") for i in range(100)]
    again = FaultInjector(FaultPlan(seed=3, record_failure_rate=0.5))
    assert chosen == [again.record_fails(f"id{i}") for i in range(100)]


def test_plan_loads_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(
        json.dumps(
            {
                "seed": 1,
                "latency_ms": 5,
                "unavailable_rate": 0.1,
                "record_failure_keys": ["x"],
                "session_expires_after": 10,
            }
        )
    )
    plan = FaultPlan.from_file(path)
    assert plan.session_expires_after == 10 and plan.latency_ms == 5
    path.write_text(json.dumps({"typo": 1}))
    with pytest.raises(ValueError):
        FaultPlan.from_file(path)


def test_auth_calls_are_spared_unless_asked(sf_sandbox: SalesforceSandbox) -> None:
    from relcrm.sandbox.pytest_support import sf_password_client

    sf_sandbox.reset()
    sf_sandbox.set_faults(FaultPlan(unavailable_calls=[1]))
    client = sf_password_client(sf_sandbox)  # the login is call 0: not faulted
    with pytest.raises(SalesforceGeneralError):
        client.query("SELECT Id FROM User")
    sf_sandbox.set_faults(None)
