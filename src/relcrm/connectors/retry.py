"""The one retry policy every connector uses (built on tenacity).

Connectors translate their CRM's errors into :mod:`relcrm.connectors.errors` first; the
policy then decides on those classes alone, so every CRM gets the same behaviour:

- :class:`~relcrm.connectors.errors.TransientError`: wait and retry, honouring the CRM's
  ``Retry-After`` when it sent one, otherwise exponential backoff;
- :class:`~relcrm.connectors.errors.SessionExpired`: log in again (``refresh``) and retry
  at once, a bounded number of times;
- anything else (quota, credentials, permissions, bad request): raised at once, because
  retrying cannot help.

A second helper, :meth:`RetryPolicy.retry_items`, re-sends only the records of a batch
that failed transiently (a row lock), so records that were written are never sent twice.

The SDKs' own retries stay off so that nothing retries twice. ``sleep`` is injectable:
tests pass a recorder and never wait.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from relcrm.connectors.errors import SessionExpired, TransientError

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


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


class _Pending(Exception):
    """Internal: some items of a batch are still retryable."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; immutable, derive variants with :meth:`with_`.

    ``attempts`` counts every try including the first; ``session_refreshes`` bounds the
    re-logins per call so a token that stays invalid cannot loop forever.
    """

    attempts: int = 5
    initial_wait: float = 0.5
    multiplier: float = 2.0
    max_wait: float = 60.0
    session_refreshes: int = 2
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def with_(self, **changes: Any) -> RetryPolicy:
        """A copy with some settings changed (``policy.with_(attempts=2)``)."""
        return replace(self, **changes)

    def _retrying(self, retry: Callable[[BaseException], bool], **kwargs: Any) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_retry_after(self.initial_wait, self.multiplier, self.max_wait),
            retry=retry_if_exception(retry),
            sleep=self.sleep,
            reraise=True,
            **kwargs,
        )

    def call(self, fn: Callable[[], T], *, refresh: Callable[[], None] | None = None) -> T:
        """Run ``fn``, retrying transient failures and refreshing an expired session.

        Without ``refresh`` (a fixed session id) an expired session is raised as it is.
        """
        refreshes_left = self.session_refreshes

        def should_retry(error: BaseException) -> bool:
            nonlocal refreshes_left
            if isinstance(error, SessionExpired):
                if refresh is None or refreshes_left <= 0:
                    return False
                refreshes_left -= 1
                return True
            return isinstance(error, TransientError)

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            expired = outcome is not None and isinstance(outcome.exception(), SessionExpired)
            if refresh is not None and expired:
                refresh()

        return self._retrying(should_retry, before_sleep=before_sleep)(fn)

    def retry_items(
        self,
        items: Sequence[I],
        send: Callable[[Sequence[I]], Sequence[R]],
        is_retryable: Callable[[R], bool],
    ) -> list[R]:
        """Send ``items``; re-send only those whose result is retryable, with backoff.

        ``send`` returns one result per item, in order. After the last attempt the
        retryable results are returned as they are, so the caller can report them.
        """
        results: list[R | None] = [None] * len(items)
        pending = list(range(len(items)))

        def attempt() -> None:
            nonlocal pending
            answered = send([items[i] for i in pending])
            if len(answered) != len(pending):
                raise ValueError("send must return one result per item")
            for index, result in zip(pending, answered, strict=True):
                results[index] = result
            pending = [i for i, r in zip(pending, answered, strict=True) if is_retryable(r)]
            if pending:
                raise _Pending

        if items:
            with contextlib.suppress(_Pending):  # out of attempts: report what is left
                self._retrying(lambda e: isinstance(e, _Pending))(attempt)
        return [r for r in results if r is not None]
