"""The error table and fault handling, over real sockets against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from relcrm.connectors.errors import (
    Action,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    SessionExpired,
    TransientError,
)
from relcrm.connectors.salesforce import ERROR_TABLE
from relcrm.connectors.salesforce.errors import parse_retry_after, rule_for
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox
from tests.connectors.support import Sleeps, connector


@pytest.mark.parametrize(
    ("code", "status", "action"),
    [
        ("UNABLE_TO_LOCK_ROW", 400, Action.RETRY),
        ("SERVER_UNAVAILABLE", 503, Action.RETRY),
        (None, 502, Action.RETRY),
        ("INVALID_SESSION_ID", 401, Action.REFRESH_SESSION),
        ("REQUEST_LIMIT_EXCEEDED", 403, Action.PAUSE),
        ("INSUFFICIENT_ACCESS", 403, Action.STOP),
        ("INVALID_LOGIN", 500, Action.STOP),
        ("STRING_TOO_LONG", 400, Action.REJECT_RECORD),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 400, Action.REJECT_RECORD),
        ("DUPLICATE_EXTERNAL_ID", 400, Action.REJECT_RECORD),
    ],
)
def test_code_decides_before_status(code: str | None, status: int, action: Action) -> None:
    assert rule_for(code, status).action is action


def test_table_stops_name_the_error_to_raise() -> None:
    assert ERROR_TABLE["REQUEST_LIMIT_EXCEEDED"].stop_with is QuotaExhausted
    assert ERROR_TABLE["INSUFFICIENT_ACCESS_OR_READONLY"].stop_with is PermissionDenied


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:45 GMT", now=now) == 45.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_503_is_retried(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sleeps = Sleeps()
    conn = connector(sf_sandbox, sleeps=sleeps)
    sf_sandbox.set_faults(FaultPlan(unavailable_calls=[1, 2]))
    assert conn.describe("Contact")
    assert [c.fault for c in sf_sandbox.log.calls() if c.fault] == ["unavailable"] * 2
    assert len(sleeps.calls) == 2


def test_dropped_connection_is_retried(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    conn = connector(sf_sandbox)
    sf_sandbox.set_faults(FaultPlan(drop_calls=[1]))
    assert conn.describe("Contact")
    assert sf_sandbox.log.statuses()[0] == 1


def test_503s_that_never_end_raise_a_transient_error(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = connector(sf_sandbox)
    conn.describe("Contact")  # log in first
    sf_sandbox.set_faults(FaultPlan(unavailable_rate=1.0))
    with pytest.raises(TransientError) as failure:
        conn.describe("Contact")
    assert failure.value.vendor_code == "SERVER_UNAVAILABLE"
    faulted = [c for c in sf_sandbox.log.calls() if c.fault == "unavailable"]
    assert len(faulted) == conn.client.policy.attempts  # tried exactly as often as allowed


def test_quota_exhaustion_raises_quota_exhausted_without_retrying(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    sleeps = Sleeps()
    conn = connector(sf_sandbox, sleeps=sleeps)
    conn.describe("Contact")
    sf_sandbox.org.api_usage = sf_sandbox.org.config.api_daily_limit
    calls_before = len(sf_sandbox.log.calls())
    with pytest.raises(QuotaExhausted) as failure:
        conn.describe("Contact")
    assert failure.value.vendor_code == "REQUEST_LIMIT_EXCEEDED"
    assert failure.value.code == "connector.quota_exhausted"
    assert len(sf_sandbox.log.calls()) == calls_before + 1 and sleeps.calls == []


def test_bad_request_stops(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    conn = connector(sf_sandbox)
    with pytest.raises(RequestRejected) as failure:
        conn.client.call("bad query", lambda s: s.query("SELEKT Id FROM Contact"))
    assert failure.value.vendor_code == "MALFORMED_QUERY"


def test_session_expired_is_a_connector_error_class() -> None:
    assert SessionExpired("x").code == "connector.session_expired"
