"""The one retry policy every connector uses (built on tenacity).

Connectors translate their CRM's errors into :mod:`relcrm.connectors.errors` first; the
policy then decides on those classes alone, so every CRM gets the same behaviour:

- :class:`~relcrm.connectors.errors.TransientError`: wait and retry, honouring the CRM's
  ``Retry-After`` when it sent one, otherwise exponential backoff. A failure after which
  the CRM may have carried the request out (``maybe_applied``: a connection dropped after
  sending, a read timeout) is not sent again blindly when the caller says so
  (``resend_uncertain=False``): writers read the records back first (see below);
- :class:`~relcrm.connectors.errors.SessionExpired`: log in again (``refresh``) and retry
  at once, a bounded number of times;
- anything else (quota, credentials, permissions, bad request): raised at once, because
  retrying cannot help.

:meth:`RetryPolicy.retry_items` writes a batch's items (in one or several calls) and then
re-sends only the items whose result is retryable (a row lock), all of a write's failed
items together, one wait per round: written records are never sent twice, one failing
record never makes its batch be sent again, and a record that still fails after
``record_attempts`` tries is reported as it is (the sync engine dead-letters it). Items of
a call that failed with ``maybe_applied`` are read back (``recover``) before they are sent
again, and only those whose values did not arrive are re-sent; that round waits at least
the ``Retry-After`` the failure asked for (a Zoho 500, say).

Every wait is taken from the policy's :class:`RetryBudget`, so the total backoff of a run
is bounded: once it is spent, a call that still fails is raised at once and a record that
still fails is reported at once, instead of making every later batch wait again.

The SDKs' own retries stay off so that nothing retries twice. ``sleep`` and ``clock`` are
injectable: tests pass a recorder and never wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, retry_if_exception_type
from tenacity.wait import wait_base

from relcrm.connectors.errors import SessionExpired, TransientError, VendorError

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")

DEFAULT_BUDGET_S = 120.0
"""Backoff a connector may spend waiting in one run unless configured otherwise."""

DEFAULT_RECORD_ATTEMPTS = 3
"""Tries per record (the first included) that connectors built from settings give a
record the CRM failed transiently (``UNABLE_TO_LOCK_ROW``) before it is reported."""


class wait_retry_after(wait_base):
    """Wait what the server asked for (``Retry-After``), else exponential backoff.

    A :class:`SessionExpired` needs no wait: the fresh login is the fix.
    """

    def __init__(self, initial: float, multiplier: float, maximum: float) -> None:
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, SessionExpired):
            return 0.0
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            return float(retry_after)
        return backoff(retry_state.attempt_number, self.initial, self.multiplier, self.maximum)


def backoff(attempt: int, initial: float, multiplier: float, maximum: float) -> float:
    """Exponential backoff for the wait after attempt number ``attempt`` (1-based)."""
    return float(min(maximum, initial * multiplier ** max(attempt - 1, 0)))


class RetryBudget:
    """The total time one connector may spend in backoff waits during a run.

    Every wait of every call of the policies that share it (``policy.with_`` keeps it) is
    taken from it; a wait that does not fit in what is left is not taken, and the policy
    gives up instead: a call that still fails is raised, a record that still fails is
    reported retryable. A connector built for a run starts with a full budget;
    :meth:`reset` starts over for a connector that is reused. Thread-safe.
    """

    def __init__(self, total_s: float = DEFAULT_BUDGET_S) -> None:
        if total_s < 0:
            raise ValueError(f"a retry budget cannot be negative, got {total_s}")
        self.total_s = float(total_s)
        self._spent = 0.0
        self._lock = threading.Lock()
        self.refused = 0
        """Waits refused because they did not fit (each one ended some retrying early)."""

    def __repr__(self) -> str:
        return f"RetryBudget(total_s={self.total_s}, spent_s={self.spent_s:.3f})"

    @property
    def spent_s(self) -> float:
        with self._lock:
            return self._spent

    @property
    def remaining_s(self) -> float:
        with self._lock:
            return max(self.total_s - self._spent, 0.0)

    @property
    def exhausted(self) -> bool:
        """True once a wait was refused."""
        with self._lock:
            return self.refused > 0

    def take(self, seconds: float) -> bool:
        """Book a wait of ``seconds``; False (nothing booked) when it does not fit."""
        if seconds <= 0:
            return True
        with self._lock:
            if self._spent + seconds > self.total_s + 1e-9:
                self.refused += 1
                return False
            self._spent += seconds
            return True

    def reset(self) -> None:
        """A full budget again (a reused connector starting another run)."""
        with self._lock:
            self._spent = 0.0
            self.refused = 0


class _Pending(Exception):
    """Internal: some items of a batch are still to be sent again."""


@dataclass
class _Rounds:
    """Bookkeeping of one :meth:`RetryPolicy.retry_items` call."""

    tries: dict[int, int] = field(default_factory=dict)
    """Sends per item position (a record-level failure counts one)."""
    drops: dict[int, int] = field(default_factory=dict)
    """Uncertain call failures per item position."""
    uncertain: set[int] = field(default_factory=set)
    """Positions whose last send may have been carried out: read back before re-sending."""
    again: list[int] = field(default_factory=list)
    """Positions whose result is retryable and that have tries left."""
    last_error: TransientError | None = None
    asked_s: float = 0.0
    """The longest ``Retry-After`` the round's uncertain failures asked for: the next
    round (its read-back first) waits at least that."""
    failed_at: float = 0.0
    waits: dict[int, float] = field(default_factory=dict)


def _sequential(fn: Callable[[Sequence[Any]], None], batches: Sequence[Sequence[Any]]) -> None:
    for batch in batches:
        fn(batch)


BatchRunner = Callable[[Callable[[Sequence[Any]], None], Sequence[Sequence[Any]]], None]
"""Runs ``fn`` on every batch (in turn, or on a pool of threads); raises the first error."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; immutable, derive variants with :meth:`with_`.

    ``attempts`` counts every try of a call including the first; ``record_attempts`` the
    tries of one record the CRM failed transiently (``None``: as ``attempts``);
    ``session_refreshes`` bounds the re-logins per call so a token that stays invalid
    cannot loop forever; ``budget`` bounds the backoff of a whole run (shared by the
    copies :meth:`with_` makes).
    """

    attempts: int = 5
    initial_wait: float = 0.5
    multiplier: float = 2.0
    max_wait: float = 60.0
    session_refreshes: int = 2
    record_attempts: int | None = None
    budget: RetryBudget = field(default_factory=RetryBudget, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def with_(self, **changes: Any) -> RetryPolicy:
        """A copy with some settings changed (``policy.with_(attempts=2)``)."""
        return replace(self, **changes)

    @property
    def record_tries(self) -> int:
        """Tries per record for record-level transient failures."""
        return max(1, self.record_attempts if self.record_attempts is not None else self.attempts)

    # ------------------------------------------------------------------ calls

    def _wait_for(self, retry_state: RetryCallState) -> float:
        return wait_retry_after(self.initial_wait, self.multiplier, self.max_wait)(retry_state)

    def _stop(self, retry_state: RetryCallState) -> bool:
        """Out of attempts, or the next wait does not fit in the run's budget."""
        if retry_state.attempt_number >= self.attempts:
            return True
        if self.budget.take(self._wait_for(retry_state)):
            return False
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, VendorError) and "retry budget" not in error.message:
            error.message = f"{error.message} (the run's retry budget is spent)"
        return True

    def _retrying(self, retry: Callable[[BaseException], bool], **kwargs: Any) -> Retrying:
        return Retrying(
            stop=self._stop,
            wait=self._wait_for,
            retry=retry_if_exception(retry),
            sleep=self.sleep,
            reraise=True,
            **kwargs,
        )

    def call(
        self,
        fn: Callable[[], T],
        *,
        refresh: Callable[[], None] | None = None,
        resend_uncertain: bool = True,
    ) -> T:
        """Run ``fn``, retrying transient failures and refreshing an expired session.

        Without ``refresh`` (a fixed session id) an expired session is raised as it is.
        With ``resend_uncertain=False`` (a write that must not arrive twice) a transient
        failure after which the CRM may have done the work is raised at once, for the
        caller to read back before it sends again.
        """
        refreshes_left = self.session_refreshes

        def should_retry(error: BaseException) -> bool:
            nonlocal refreshes_left
            if isinstance(error, SessionExpired):
                if refresh is None or refreshes_left <= 0:
                    return False
                refreshes_left -= 1
                return True
            if isinstance(error, TransientError):
                return resend_uncertain or not error.maybe_applied
            return False

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            expired = outcome is not None and isinstance(outcome.exception(), SessionExpired)
            if refresh is not None and expired:
                refresh()

        return self._retrying(should_retry, before_sleep=before_sleep)(fn)

    # ------------------------------------------------------------------ items

    def retry_items(
        self,
        items: Sequence[I],
        send: Callable[[Sequence[I]], Sequence[R]],
        is_retryable: Callable[[R], bool],
        *,
        batches: Callable[[Sequence[I]], Sequence[Sequence[I]]] | None = None,
        recover: Callable[[Sequence[I]], Sequence[R | None]] | None = None,
        into: dict[int, R] | None = None,
        run: BatchRunner | None = None,
    ) -> list[R]:
        """Send ``items``; re-send only those whose result is retryable, with backoff.

        - ``send`` sends one batch (one call) and returns one result per item, in order;
          it may raise a :class:`VendorError` whose ``partial`` holds the results of the
          batch's first items;
        - ``batches`` splits the items to send in a round into calls (the same item
          objects; default: one call); ``run`` runs ``send`` over them (default: in turn);
        - ``recover`` reads back the items of a call that failed with ``maybe_applied``:
          one result per item, for those whose values the CRM holds, else None; only the
          others are sent again. Without it such a failure is raised;
        - ``into`` (position -> result) receives every result as it arrives, so a caller
          still knows what was written when an error (a spent quota) ends the batch.

        A record still failing after ``record_attempts`` tries, or once the budget is
        spent, is returned with its retryable result, so the caller can report it. Items
        whose fate stays unknown (the CRM keeps dropping the connection and cannot be
        read back) make the last such error be raised.
        """
        results: dict[int, R] = into if into is not None else {}
        positions = {id(item): pos for pos, item in enumerate(items)}
        split = batches or (lambda part: [part])
        runner = run or _sequential
        lock = threading.Lock()
        rounds = _Rounds(again=list(range(len(items))))
        record_tries = self.record_tries

        def settle(where: Sequence[int], answered: Sequence[R]) -> None:
            with lock:
                for pos, result in zip(where, answered, strict=False):
                    results[pos] = result

        def send_one(batch: Sequence[I]) -> None:
            where = [positions[id(item)] for item in batch]
            with lock:
                for pos in where:
                    rounds.tries[pos] = rounds.tries.get(pos, 0) + 1
            try:
                answered = send(batch)
            except TransientError as exc:
                settle(where, exc.partial)
                if not exc.maybe_applied or recover is None:
                    raise
                with lock:
                    for pos in where[len(exc.partial) :]:
                        rounds.uncertain.add(pos)
                        rounds.drops[pos] = rounds.drops.get(pos, 0) + 1
                    rounds.last_error = exc
                    rounds.asked_s = max(rounds.asked_s, exc.retry_after or 0.0)
                return
            except VendorError as exc:
                settle(where, exc.partial)
                raise
            if len(answered) != len(batch):
                raise ValueError("send must return one result per item")
            settle(where, answered)

        def read_back() -> None:
            """Settle the uncertain items whose values the CRM holds."""
            if not rounds.uncertain or recover is None:
                return
            unsure = sorted(rounds.uncertain)
            found = recover([items[p] for p in unsure])
            if len(found) != len(unsure):
                raise ValueError("recover must return one entry per item")
            with lock:
                for pos, result in zip(unsure, found, strict=True):
                    if result is not None:
                        results[pos] = result
                        rounds.uncertain.discard(pos)

        def one_round() -> None:
            read_back()
            todo = sorted(set(rounds.again) | rounds.uncertain)
            rounds.uncertain.clear()
            rounds.asked_s = 0.0
            if todo:
                runner(send_one, split([items[p] for p in todo]))
            rounds.failed_at = self.clock()
            rounds.again = [
                p
                for p in todo
                if p not in rounds.uncertain
                and p in results
                and is_retryable(results[p])
                and rounds.tries.get(p, 0) < record_tries
            ]
            if rounds.again or rounds.uncertain:
                raise _Pending

        def round_wait(state: RetryCallState) -> float:
            attempt = state.attempt_number
            if attempt not in rounds.waits:
                wanted = backoff(attempt, self.initial_wait, self.multiplier, self.max_wait)
                wanted = max(wanted, rounds.asked_s)
                waited = self.clock() - rounds.failed_at  # other calls sent since count
                rounds.waits[attempt] = max(wanted - waited, 0.0)
            return rounds.waits[attempt]

        def stop(state: RetryCallState) -> bool:
            if any(rounds.drops.get(p, 0) >= self.attempts for p in rounds.uncertain):
                return True
            return not self.budget.take(round_wait(state))

        if items:
            retrying = Retrying(
                stop=stop,
                wait=round_wait,
                retry=retry_if_exception_type(_Pending),
                sleep=self.sleep,
                reraise=True,
            )
            try:
                retrying(one_round)
            except _Pending:  # out of tries or budget: settle what can be, report the rest
                read_back()
                if rounds.uncertain:
                    assert rounds.last_error is not None
                    raise rounds.last_error from None
        return [results[p] for p in range(len(items))]


__all__ = [
    "DEFAULT_BUDGET_S",
    "DEFAULT_RECORD_ATTEMPTS",
    "BatchRunner",
    "RetryBudget",
    "RetryPolicy",
    "backoff",
    "wait_retry_after",
]
