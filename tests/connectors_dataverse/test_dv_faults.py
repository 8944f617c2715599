"""The Dataverse connector under faults: service protection limits, expired tokens,
refused credentials and privileges, dropped connections, deadlocks and 503s. Waits are
recorded on a fake clock (the sandbox's limits run on the same clock), never slept."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from relcrm.connectors.dataverse import DataverseConnector
from relcrm.connectors.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    PermissionDenied,
    QuotaExhausted,
)
from relcrm.models import WriteOutcome
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.connectors_dataverse.conftest import FakeClock, connector_for
from tests.connectors_dataverse.helpers import GOOD, SPECS, seed, write_for


def _ready(
    dv: DataverseSandbox, clock: FakeClock, n: int, **overrides: object
) -> tuple[DataverseConnector, list[str]]:
    connector = connector_for(dv, clock, **overrides)
    connector.provision("contact", SPECS)
    connector.describe("contact")  # the schema is read before the limits tighten
    ids = seed(dv, "contact", *(f"p{i}@example.com" for i in range(n)))
    dv.log.clear()
    return connector, ids


def _writes(ids: list[str]) -> list:  # type: ignore[type-arg]
    return [write_for(f"p{i}", record, **GOOD) for i, record in enumerate(ids)]


def test_429_with_retry_after_is_honoured(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector, ids = _ready(dv, clock, 6, batch_size=1)
    clock.sleeps.clear()
    dv.set_limits("3/20s")
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert connector.client.rate_limited >= 1
    refused = [c for c in dv.log.calls() if c.status == 429]
    assert refused and clock.sleeps and all(0 < s <= 20 for s in clock.sleeps)
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    connector.close()


def test_a_limit_longer_than_the_run_may_wait_pauses_it(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 5, batch_size=1)
    clock.sleeps.clear()
    dv.set_limits("2/600s")
    with pytest.raises(QuotaExhausted) as caught:
        connector.write("contact", _writes(ids))
    error = caught.value
    assert error.vendor_code == "0x80072322" and (error.retry_after or 0) > 120
    assert [r.outcome for r in error.completed] == [WriteOutcome.WRITTEN] * 2
    assert clock.sleeps == []  # nothing waited: the run pauses and resumes later
    assert dv.log.write_counts("contact") == {ids[0]: 1, ids[1]: 1}
    connector.close()


def test_an_expired_token_is_renewed_and_the_call_repeated(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 2)
    connector.write("contact", _writes(ids[:1]))
    dv.expire_tokens()
    (result,) = connector.write("contact", _writes(ids[1:]))
    assert result.outcome is WriteOutcome.WRITTEN
    assert [c.status for c in dv.log.calls() if c.status == 401] == [401]
    assert connector.client.tokens.fetched == 2
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    connector.close()


def test_a_token_is_renewed_before_it_expires(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector, ids = _ready(dv, clock, 1)
    clock.now += 3599 - 60  # within the last two minutes of its hour
    connector.write("contact", _writes(ids))
    assert connector.client.tokens.fetched == 2
    assert not [c for c in dv.log.calls() if c.status == 401]
    connector.close()


def test_the_fault_plans_session_expiry_is_survived(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector, ids = _ready(dv, clock, 4, batch_size=1)
    dv.set_faults(FaultPlan(session_expires_after=2))
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    connector.close()


def test_wrong_credentials_stop_with_the_aadsts_code_and_no_secret(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector = connector_for(dv, clock, client_secret=SecretStr("not-the-secret-value"))
    with pytest.raises(AuthenticationFailed) as caught:
        connector.describe("contact")
    error = caught.value
    assert error.vendor_code == "AADSTS7000215"
    assert "not-the-secret-value" not in str(error) and "not-the-secret-value" not in repr(error)
    assert "RELCRM_DATAVERSE_CLIENT_SECRET" in (error.hint or "")
    connector.close()


def test_an_untrusted_certificate_is_a_connection_failure(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector = connector_for(dv, clock, ca_file=None)  # the system store: not the sandbox's CA
    with pytest.raises(ConnectionFailed):
        connector.describe("contact")
    connector.close()


def test_a_missing_privilege_stops_the_write_with_what_was_done(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 1)
    dv.add_app("66666666-0000-4000-8000-000000000006", "reader", ("read",))
    reader = connector_for(
        dv,
        clock,
        client_id="66666666-0000-4000-8000-000000000006",
        client_secret=SecretStr("reader"),
    )
    with pytest.raises(PermissionDenied) as caught:
        reader.write("contact", _writes(ids))
    assert caught.value.vendor_code == "0x80040220" and caught.value.completed == []
    connector.close()
    reader.close()


def test_a_dropped_connection_after_processing_is_read_back_not_resent(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 3)
    dv.set_faults(FaultPlan(drop_calls=[1], drop_after_processing=True, paths=["UpdateMultiple"]))
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert connector.writer.recovered == 3
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    calls = [(c.method, c.path.rsplit("/", 1)[-1], c.fault) for c in dv.log.calls()]
    assert calls == [
        ("POST", "Microsoft.Dynamics.CRM.UpdateMultiple", "dropped_after_processing"),
        ("GET", "contacts", None),  # the read-back
    ]
    connector.close()


def test_a_connection_dropped_before_processing_is_sent_again_once(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 3)
    dv.set_faults(FaultPlan(drop_calls=[1], paths=["UpdateMultiple"]))
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert connector.writer.recovered == 0
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    connector.close()


def test_a_deadlocked_record_is_retried_alone(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector, ids = _ready(dv, clock, 4)
    clock.sleeps.clear()
    dv.set_faults(FaultPlan(record_failure_keys=[ids[2]], record_failure_times=2))
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    sent = [c.path.rsplit("/", 1)[-1] for c in dv.log.calls() if c.method == "POST"]
    # all four (rolled back), then one by one (three written), then the locked one alone
    assert sent == [
        "Microsoft.Dynamics.CRM.UpdateMultiple",
        "$batch",
        "Microsoft.Dynamics.CRM.UpdateMultiple",
    ]
    assert len(clock.sleeps) == 1  # one backoff before the record was tried again
    connector.close()


def test_a_record_that_stays_locked_is_reported_retryable(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    connector, ids = _ready(dv, clock, 2)
    dv.set_faults(FaultPlan(record_failure_keys=[ids[0]], record_failure_times=0))
    first, second = connector.write("contact", _writes(ids))
    assert (first.outcome, first.error_code) == (WriteOutcome.RETRYABLE, "0x80044150")
    assert second.outcome is WriteOutcome.WRITTEN
    assert dv.log.write_counts("contact") == {ids[1]: 1}
    connector.close()


def test_503_waits_its_retry_after(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector, ids = _ready(dv, clock, 2)
    clock.sleeps.clear()
    dv.set_faults(FaultPlan(unavailable_calls=[1], retry_after_s=3, paths=["UpdateMultiple"]))
    results = connector.write("contact", _writes(ids))
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    assert clock.sleeps == [3.0]
    assert dv.log.write_counts("contact") == dict.fromkeys(ids, 1)
    connector.close()


def test_the_client_side_window_paces_requests_without_real_waits() -> None:
    from relcrm.connectors.dataverse.ratelimit import RequestWindow

    clock = FakeClock()
    window = RequestWindow(2, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        window.acquire()
    assert clock.sleeps == [10.0]
    recorded: list[float] = []  # a sleep that does not move the clock still gets through
    still = RequestWindow(1, 300.0, clock=lambda: 5.0, sleep=recorded.append)
    still.acquire()
    still.acquire()
    assert recorded == [300.0]
