"""The retry budget and per-record retries (issue 11, #9): pure tests, no server, no waiting.

A record that keeps failing must not make every batch wait through the whole backoff:
it is retried alone a bounded number of times and then reported, and the total backoff
of a run is bounded by the policy's budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from relcrm.connectors.errors import QuotaExhausted, TransientError
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from tests.connectors.support import Sleeps


class Clock:
    """A clock that only moves when the injected sleep sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_budget_books_waits_until_it_is_spent() -> None:
    budget = RetryBudget(3.0)
    assert budget.take(1.0) and budget.take(2.0)
    assert not budget.take(0.5) and budget.exhausted
    assert budget.take(0.0)  # no wait is always allowed
    assert budget.spent_s == 3.0 and budget.remaining_s == 0.0
    budget.reset()
    assert budget.remaining_s == 3.0 and not budget.exhausted
    with pytest.raises(ValueError):
        RetryBudget(-1)


def test_a_call_gives_up_once_the_next_wait_does_not_fit_in_the_budget() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=10, sleep=clock.sleep, clock=clock, budget=RetryBudget(1.5))
    calls: list[int] = []

    def always_down() -> None:
        calls.append(1)
        raise TransientError("503", vendor_code="SERVER_UNAVAILABLE")

    with pytest.raises(TransientError, match="retry budget is spent"):
        policy.call(always_down)
    assert clock.sleeps == [0.5, 1.0]  # 0.5 + 1.0 fit in 1.5 s, the next 2.0 does not
    assert len(calls) == 3
    # the budget is the run's: later calls do not wait at all
    calls.clear()
    with pytest.raises(TransientError):
        policy.call(always_down)
    assert len(calls) == 1 and clock.sleeps == [0.5, 1.0]


def test_variants_share_one_budget() -> None:
    policy = RetryPolicy(budget=RetryBudget(1.0))
    assert policy.with_(attempts=2).budget is policy.budget


def test_an_uncertain_failure_is_not_resent_blindly_when_the_caller_says_so() -> None:
    sleeps = Sleeps()
    calls: list[int] = []

    def dropped_after_sending() -> None:
        calls.append(1)
        raise TransientError("dropped", vendor_code="CONNECTION_DROPPED", maybe_applied=True)

    with pytest.raises(TransientError):
        RetryPolicy(sleep=sleeps).call(dropped_after_sending, resend_uncertain=False)
    assert len(calls) == 1 and sleeps.calls == []
    calls.clear()
    with pytest.raises(TransientError):  # a read may be sent again
        RetryPolicy(sleep=sleeps, attempts=3).call(dropped_after_sending)
    assert len(calls) == 3


def test_a_record_that_keeps_failing_is_reported_after_its_tries_not_waited_for_forever() -> None:
    clock = Clock()
    policy = RetryPolicy(
        attempts=5, record_attempts=3, sleep=clock.sleep, clock=clock, budget=RetryBudget(60)
    )
    sent: list[list[str]] = []

    def send(items: Sequence[str]) -> list[tuple[str, bool]]:
        sent.append(list(items))
        return [(item, item != "stuck") for item in items]

    results = policy.retry_items(["a", "stuck", "b"], send, lambda r: not r[1])
    assert results == [("a", True), ("stuck", False), ("b", True)]
    assert sent == [["a", "stuck", "b"], ["stuck"], ["stuck"]]  # only the failed one again
    assert clock.sleeps == [0.5, 1.0]  # record_attempts=3: two short waits, then reported


def test_with_the_budget_spent_failing_records_are_reported_at_once() -> None:
    clock = Clock()
    policy = RetryPolicy(record_attempts=3, sleep=clock.sleep, clock=clock, budget=RetryBudget(2))

    def send(items: Sequence[str]) -> list[tuple[str, bool]]:
        return [(item, not item.startswith("stuck")) for item in items]

    # 2% of the records keep failing, one in each of 20 batches: the old policy waited
    # 0.5 + 1 + 2 + 4 s in every batch; now the run waits at most its budget in total
    for batch in range(20):
        results = policy.retry_items(
            [f"ok{batch}-{i}" for i in range(49)] + [f"stuck{batch}"], send, lambda r: not r[1]
        )
        assert sum(not ok for _, ok in results) == 1
    assert sum(clock.sleeps) <= 2.0
    assert policy.budget.exhausted


def test_failed_records_of_several_calls_are_retried_together_after_one_wait() -> None:
    clock = Clock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock)
    failing = {"a2": 1, "b7": 1}
    sent: list[list[str]] = []

    def send(items: Sequence[str]) -> list[tuple[str, bool]]:
        sent.append(list(items))
        out = []
        for item in items:
            left = failing.get(item, 0)
            failing[item] = left - 1
            out.append((item, left <= 0))
        return out

    def by_object(part: Sequence[str]) -> list[list[str]]:  # a Contact call, a Lead call
        return [group for k in "ab" if (group := [i for i in part if i[0] == k])]

    items = [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(10)]
    results = policy.retry_items(items, send, lambda r: not r[1], batches=by_object)
    assert all(ok for _, ok in results)
    assert sent == [items[:5], items[5:], ["a2"], ["b7"]]  # each object in its own call
    assert clock.sleeps == [0.5]  # one wait for the whole write, not one per call


def test_results_reach_the_caller_even_when_a_later_round_raises() -> None:
    """Issue 11, #8: 190 records written in the first round must be reported as written
    when the round that retries the other 10 fails on a spent quota."""
    items = [f"r{i}" for i in range(200)]
    rounds: list[int] = []

    def send(part: Sequence[str]) -> list[tuple[str, bool]]:
        rounds.append(len(part))
        if len(rounds) == 2:
            raise QuotaExhausted("spent", vendor_code="REQUEST_LIMIT_EXCEEDED")
        return [(item, not item.endswith("7")) for item in part]

    into: dict[int, tuple[str, bool]] = {}
    with pytest.raises(QuotaExhausted):
        RetryPolicy(sleep=Sleeps()).retry_items(items, send, lambda r: not r[1], into=into)
    assert rounds == [200, 20]
    assert sum(ok for _, ok in into.values()) == 180 and len(into) == 200


def test_an_unanswered_call_is_read_back_and_only_what_did_not_arrive_is_sent_again() -> None:
    clock = Clock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock)
    crm: dict[str, int] = {}
    sent: list[list[str]] = []
    read: list[list[str]] = []

    def send(part: Sequence[str]) -> list[str]:
        sent.append(list(part))
        if len(sent) == 1:
            for item in part[:3]:  # the CRM wrote the first three, then the line dropped
                crm[item] = crm.get(item, 0) + 1
            raise TransientError("dropped", maybe_applied=True)
        for item in part:
            crm[item] = crm.get(item, 0) + 1
        return ["written"] * len(part)

    def recover(part: Sequence[str]) -> list[str | None]:
        read.append(list(part))
        return ["written" if item in crm else None for item in part]

    items = ["a", "b", "c", "d", "e"]
    results = policy.retry_items(items, send, lambda r: False, recover=recover)
    assert results == ["written"] * 5
    assert sent == [items, ["d", "e"]] and read == [items]
    assert set(crm.values()) == {1}  # every record written exactly once
    assert clock.sleeps == [0.5]  # the wait comes before the read-back


def test_records_whose_fate_stays_unknown_raise_after_a_last_read_back() -> None:
    policy = RetryPolicy(attempts=3, sleep=Sleeps())

    def send(part: Sequence[str]) -> list[str]:
        raise TransientError("dropped", maybe_applied=True)

    reads: list[list[str]] = []

    def recover(part: Sequence[str]) -> list[str | None]:
        reads.append(list(part))
        return ["written" if item == "a" else None for item in part]

    into: dict[int, str] = {}
    with pytest.raises(TransientError) as failure:
        policy.retry_items(["a", "b"], send, lambda r: False, recover=recover, into=into)
    assert failure.value.maybe_applied
    assert into == {0: "written"}  # what the read-back found is reported
    assert len(reads) == 3  # before attempts 2 and 3, and a last one before giving up


def test_connectors_take_their_policy_from_settings_and_refill_it_per_run() -> None:
    from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
    from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings

    salesforce = SalesforceConnector(
        SalesforceSettings(
            _env_file=None,
            auth_flow=AuthFlow.SESSION_ID,
            instance_url="https://example.my.salesforce.com",
            session_id="00D!x",
            retry_budget_s=7,
            record_retry_attempts=2,
            timeout_s=9,
        )
    )
    hubspot = HubSpotConnector(
        HubSpotSettings(_env_file=None, access_token="pat-x", retry_budget_s=5, timeout_s=4)
    )
    assert salesforce.client.policy.budget.total_s == 7
    assert salesforce.client.policy.record_tries == 2
    assert salesforce.client.session._relcrm_timeout == 9  # type: ignore[attr-defined]
    assert hubspot.client.policy.budget.total_s == 5
    assert hubspot.client.policy.record_tries == 3
    for connector in (salesforce, hubspot):
        budget = connector.client.policy.budget
        assert budget.take(budget.total_s) and budget.remaining_s == 0
        connector.begin_run()
        assert budget.remaining_s == budget.total_s
