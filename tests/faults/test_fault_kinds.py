"""The fault kinds added for the matrix: how a drop ends (``drop_mode``), answers held
back past a client's timeout (``slow_calls``), and faults aimed at one kind of call
(``paths``). Raw HTTP through requests, so what a client sees is what is tested."""

from __future__ import annotations

import time

import pytest
import requests

from relcrm.sandbox._faults import FaultInjector, FaultPlan
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session


def _session(sandbox: SalesforceSandbox) -> tuple[requests.Session, str]:
    session = loopback_session(sandbox.instance_url, sandbox.ca_file)
    session.headers["Authorization"] = f"Bearer {sandbox.session_id}"
    return session, f"{sandbox.instance_url}/services/data/v{sandbox.api_version}"


@pytest.mark.parametrize(
    ("mode", "seen"),
    [
        ("close", requests.exceptions.ConnectionError),
        ("reset", requests.exceptions.ConnectionError),
        ("tls", requests.exceptions.SSLError),
    ],
)
def test_a_drop_ends_as_the_mode_says(
    salesforce_sandbox: SalesforceSandbox, mode: str, seen: type[Exception]
) -> None:
    salesforce_sandbox.reset()
    session, base = _session(salesforce_sandbox)
    salesforce_sandbox.set_faults(FaultPlan(drop_calls=[1], drop_mode=mode))  # type: ignore[arg-type]
    with pytest.raises(seen):
        session.get(f"{base}/limits/", timeout=5)
    assert session.get(f"{base}/limits/", timeout=5).status_code == 200
    salesforce_sandbox.set_faults(None)


def test_a_slow_answer_is_processed_at_once_and_answered_late(
    salesforce_sandbox: SalesforceSandbox,
) -> None:
    salesforce_sandbox.reset()
    session, base = _session(salesforce_sandbox)
    salesforce_sandbox.set_faults(FaultPlan(slow_calls=[1], slow_ms=2000))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(
            f"{base}/sobjects/Contact/",
            json={"LastName": "Slow", "Email": "slow@example.com"},
            timeout=0.2,
        )
    assert time.monotonic() - started < 1.5  # gave up long before the answer (margin for a busy CI)
    rows = session.get(
        f"{base}/query/", params={"q": "SELECT Id FROM Contact WHERE LastName = 'Slow'"}
    ).json()
    assert rows["totalSize"] == 1  # the work was done although the client gave up
    assert salesforce_sandbox.log.calls()[0].fault == "slow"
    salesforce_sandbox.set_faults(None)


def test_paths_aim_the_faults_and_number_only_the_calls_they_select() -> None:
    injector = FaultInjector(FaultPlan(paths=["/composite/sobjects"], drop_calls=[2]))
    fates = [
        injector.next_call(path=path).drop
        for path in ("/query", "/composite/sobjects", "/query", "/composite/sobjects", "/x")
    ]
    assert fates == [False, False, False, True, False]
    assert not FaultInjector(FaultPlan(drop_calls=[1])).next_call(is_auth=True).drop
