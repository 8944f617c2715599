"""The one retry policy: pure tests, no server, no waiting."""

from __future__ import annotations

import pytest

from relcrm.connectors.errors import (
    AuthenticationFailed,
    QuotaExhausted,
    SessionExpired,
    TransientError,
)
from relcrm.connectors.retry import RetryPolicy, backoff
from tests.connectors.support import Sleeps


def flaky(failures: list[Exception], value: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return value

    return calls, fn


def test_transient_errors_are_retried_with_exponential_backoff() -> None:
    sleeps = Sleeps()
    calls, fn = flaky([TransientError("503"), TransientError("drop")])
    assert RetryPolicy(sleep=sleeps, initial_wait=0.5).call(fn) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 3
    assert sleeps.calls == [0.5, 1.0]


def test_retry_after_wins_over_backoff() -> None:
    sleeps = Sleeps()
    _, fn = flaky([TransientError("busy", retry_after=7)])
    RetryPolicy(sleep=sleeps).call(fn)  # type: ignore[arg-type]
    assert sleeps.calls == [7.0]


def test_gives_up_after_attempts_and_reraises_the_last_error() -> None:
    sleeps = Sleeps()
    calls, fn = flaky([TransientError(str(i)) for i in range(10)])
    with pytest.raises(TransientError, match="2"):
        RetryPolicy(sleep=sleeps, attempts=3).call(fn)  # type: ignore[arg-type]
    assert len(calls) == 3 and len(sleeps.calls) == 2


@pytest.mark.parametrize("error", [QuotaExhausted("spent"), AuthenticationFailed("bad")])
def test_pause_and_stop_errors_are_never_retried(error: Exception) -> None:
    sleeps = Sleeps()
    calls, fn = flaky([error])
    with pytest.raises(type(error)):
        RetryPolicy(sleep=sleeps).call(fn)  # type: ignore[arg-type]
    assert len(calls) == 1 and sleeps.calls == []


def test_expired_session_is_refreshed_then_retried_at_once() -> None:
    refreshed: list[int] = []
    sleeps = Sleeps()
    _, fn = flaky([SessionExpired("401")])
    assert RetryPolicy(sleep=sleeps).call(fn, refresh=lambda: refreshed.append(1)) == "ok"  # type: ignore[arg-type]
    assert refreshed == [1] and sleeps.calls == [0.0]


def test_session_refreshes_are_bounded_and_need_a_refresher() -> None:
    _, fn = flaky([SessionExpired(str(i)) for i in range(5)])
    with pytest.raises(SessionExpired):
        RetryPolicy(sleep=Sleeps(), session_refreshes=2).call(fn, refresh=lambda: None)  # type: ignore[arg-type]
    _, fn = flaky([SessionExpired("x")])
    with pytest.raises(SessionExpired):
        RetryPolicy(sleep=Sleeps()).call(fn)  # type: ignore[arg-type]


def test_retry_items_resends_only_the_failed_items() -> None:
    sent: list[list[str]] = []
    failing = {"b": 2, "d": 99}

    def send(items: object) -> list[tuple[str, bool]]:
        batch = list(items)  # type: ignore[call-overload]
        sent.append(batch)
        out = []
        for item in batch:
            left = failing.get(item, 0)
            failing[item] = left - 1
            out.append((item, left <= 0))
        return out

    sleeps = Sleeps()
    results = RetryPolicy(sleep=sleeps, attempts=4).retry_items(
        ["a", "b", "c", "d"], send, lambda r: not r[1]
    )
    assert sent == [["a", "b", "c", "d"], ["b", "d"], ["b", "d"], ["d"]]
    assert results == [("a", True), ("b", True), ("c", True), ("d", False)]
    assert len(sleeps.calls) == 3


def test_policy_is_composable() -> None:
    base = RetryPolicy(attempts=5)
    quick = base.with_(attempts=2, initial_wait=0.1)
    assert (base.attempts, quick.attempts, quick.initial_wait) == (5, 2, 0.1)
    assert backoff(4, 0.5, 2.0, 3.0) == 3.0
