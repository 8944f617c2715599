"""Service protection limits, privileges and fault plans.

[doc: api-limits] 6,000 requests per user in a sliding 300-second window, then
``429 Too Many Requests`` with ``Retry-After`` in seconds, code ``0x80072322`` and the
message "Number of requests exceeded the limit of 6000 over time window of 300 seconds.";
the execution-time limit is ``0x80072321``; users are limited independently; a ``$batch``
is one request; ``x-ms-ratelimit-*`` headers tell what is left. The fault plan's 503s,
dropped connections and per-record failures (a SQL deadlock, rolled back) are the shared
ones every sandbox takes.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.pytest_support import dv_client_for, token_for
from relcrm.sandbox.dataverse.ratelimit import ServiceLimits
from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.sandbox_dataverse.helpers import error_of, seed_contacts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def timed(clock: FakeClock) -> Iterator[DataverseSandbox]:
    """A sandbox whose limits and token lifetimes run on a clock the test moves."""
    with running_dataverse_sandbox(clock=clock) as sandbox:
        yield sandbox


def test_429_carries_retry_after_and_the_documented_code(
    timed: DataverseSandbox, clock: FakeClock
) -> None:
    timed.reset()
    timed.set_limits("3/300s")
    with dv_client_for(timed) as api:
        answers = [api.get("WhoAmI") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["Retry-After"] == "300"
        assert error_of(refused) == (
            "0x80072322",
            "Number of requests exceeded the limit of 3 over time window of 300 seconds.",
        )
        assert answers[1].headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "1"
        clock.now += 120
        assert api.get("WhoAmI").headers["Retry-After"] == "180"  # the window slides
        clock.now += 180
        assert api.get("WhoAmI").status_code == 200


def test_the_default_limit_is_6000_per_300_seconds(dv: DataverseSandbox) -> None:
    assert dv.protection.limits == ServiceLimits(6000, 300.0, 1_200_000.0)


def test_each_user_is_limited_independently_and_a_batch_counts_once(
    timed: DataverseSandbox,
) -> None:
    timed.reset()
    timed.set_limits("2/300s")
    timed.add_app("33333333-0000-4000-8000-000000000003", "other-secret", ("read", "write"))
    with dv_client_for(timed) as api:
        boundary = "batch_1"
        part = (
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary"
            "\r\n\r\nGET /api/data/v9.2/WhoAmI HTTP/1.1\r\n\r\n\r\n"
        )
        body = (part * 5 + f"--{boundary}--\r\n").encode()
        headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
        assert api.post("$batch", content=body, headers=headers).status_code == 200
        assert api.get("WhoAmI").status_code == 200
        assert api.get("WhoAmI").status_code == 429
    other = token_for(
        timed, client_id="33333333-0000-4000-8000-000000000003", client_secret="other-secret"
    )
    with dv_client_for(timed, token=other) as api:
        assert api.get("WhoAmI").status_code == 200


def test_the_execution_time_limit_has_its_own_code(timed: DataverseSandbox) -> None:
    timed.reset()
    timed.set_limits(ServiceLimits(requests=6000, window_s=300, execution_ms=0.001))
    with dv_client_for(timed) as api:
        api.get("WhoAmI")
        refused = api.get("WhoAmI")
    assert refused.status_code == 429 and error_of(refused)[0] == "0x80072321"
    assert int(refused.headers["Retry-After"]) >= 1


def test_a_user_without_a_privilege_is_403(dv: DataverseSandbox) -> None:
    dv.add_app("44444444-0000-4000-8000-000000000004", "reader-secret", ("read",))
    (contact,) = seed_contacts(dv, "a@example.com")
    token = token_for(
        dv, client_id="44444444-0000-4000-8000-000000000004", client_secret="reader-secret"
    )
    with dv_client_for(dv, token=token) as api:
        assert api.get(f"contacts({contact})").status_code == 200
        refused = api.patch(f"contacts({contact})", json={"jobtitle": "x"})
    assert refused.status_code == 403
    code, message = error_of(refused)
    assert code == "0x80040220" and "is missing prvWriteContact privilege" in message


def test_the_fault_plans_503_carries_retry_after(dv: DataverseSandbox) -> None:
    dv.set_faults(FaultPlan(unavailable_calls=[1], retry_after_s=7, paths=["/api/data/"]))
    with dv_client_for(dv) as api:
        first, second = api.get("WhoAmI"), api.get("WhoAmI")
    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (503, "7", 200)


def test_a_record_failure_is_a_deadlock_and_rolls_the_call_back(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    ids = seed_contacts(dv, "a@example.com", "b@example.com")
    dv.set_faults(FaultPlan(record_failure_keys=[ids[1]], record_failure_times=1))
    targets = [
        {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": i, "jobtitle": "CFO"}
        for i in ids
    ]
    url = "contacts/Microsoft.Dynamics.CRM.UpdateMultiple"
    failed = api.post(url, json={"Targets": targets})
    assert failed.status_code == 500
    assert error_of(failed)[0] == "0x80044150" and "Sql Number: 1205" in error_of(failed)[1]
    assert dv.log.write_counts() == {}
    assert api.post(url, json={"Targets": targets}).status_code == 204  # the lock cleared
    assert dv.log.write_counts() == {ids[0]: 1, ids[1]: 1}


def test_a_connection_dropped_after_processing_kept_the_write(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    (contact,) = seed_contacts(dv, "a@example.com")
    dv.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True, paths=["contacts("]))
    with pytest.raises(httpx.TransportError):
        api.patch(f"contacts({contact})", json={"jobtitle": "CFO"}, headers={"If-Match": "*"})
    dv.set_faults(None)
    assert api.get(f"contacts({contact})").json()["jobtitle"] == "CFO"
    assert dv.log.write_counts() == {contact: 1}
