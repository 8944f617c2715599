"""A client-side limiter for HubSpot's rolling window, shared by every thread of a client.

HubSpot counts requests per portal on a rolling window (100 or 190 per 10 s). Going over
costs a 429 and, when many threads hit it together, a storm of retries. So relcrm keeps
its own sliding window and waits *before* sending:

- a request counts from the moment it is sent (``in flight``) and, once answered, until
  ``window`` after its *answer* time: the server saw it no later than that, so relcrm's
  count is never lower than the server's;
- the ``X-HubSpot-RateLimit-Max``/``-Interval-Milliseconds`` headers replace the
  configured limit and window, and a ``-Remaining`` lower than relcrm's own count means
  someone else (another app of the portal) is spending the budget: the difference is
  booked as phantom requests so relcrm slows down too;
- a 429 closes the gate for everybody until one backoff has passed (``Retry-After`` if
  sent, else until relcrm's oldest request leaves the window): one wait, not a storm.

``clock`` and ``sleep`` are injectable so tests need not wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from relcrm.connectors.hubspot.errors import header

MIN_BACKOFF_S = 0.5
"""Floor of the wait after a 429 when neither ``Retry-After`` nor relcrm's own window
says how long: the window is full on the server, so an instant retry would fail too."""


class RateLimiter:
    """Thread-safe sliding-window limiter; :meth:`acquire` before, :meth:`release` after."""

    def __init__(
        self,
        max_per_window: int = 100,
        window_s: float = 10.0,
        *,
        margin_s: float = 0.05,
        adapt: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_s: float = 0.02,
    ) -> None:
        self.max_per_window = max_per_window
        self.window_s = window_s
        self.margin_s = margin_s
        self.adapt = adapt
        self._clock = clock
        self._sleep = sleep
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._done: deque[float] = deque()
        self._in_flight = 0
        self._blocked_until = 0.0
        self.waited_s = 0.0
        """Total time callers spent waiting in :meth:`acquire` (for reports)."""
        self.throttles = 0
        """How many 429s closed the gate."""

    # ------------------------------------------------------------------ internals

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s - self.margin_s
        while self._done and self._done[0] <= horizon:
            self._done.popleft()

    def _used(self) -> int:
        return self._in_flight + len(self._done)

    # ------------------------------------------------------------------ API

    def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it as in flight."""
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if self._blocked_until > now:
                    wait = self._blocked_until - now
                elif self._used() >= self.max_per_window:
                    if self._done:
                        wait = self._done[0] + self.window_s + self.margin_s - now
                    else:
                        wait = self._poll_s  # all in flight: wait for an answer
                else:
                    self._in_flight += 1
                    return
                wait = max(wait, self._poll_s / 10)
                self.waited_s += wait
            self._sleep(wait)

    def release(self, headers: Mapping[str, Any] | None = None) -> None:
        """The request was answered (or failed): move it from in flight to the window and
        learn from the rate-limit headers, if any."""
        with self._lock:
            now = self._clock()
            self._in_flight = max(self._in_flight - 1, 0)
            self._done.append(now)
            self._expire(now)
            if self.adapt and headers:
                self._learn(headers, now)

    def _learn(self, headers: Mapping[str, Any], now: float) -> None:
        limit = _int(header(headers, "X-HubSpot-RateLimit-Max"))
        interval = _int(header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds"))
        remaining = _int(header(headers, "X-HubSpot-RateLimit-Remaining"))
        if limit is not None and limit > 0:
            self.max_per_window = limit
        if interval is not None and interval > 0:
            self.window_s = interval / 1000
        if remaining is not None:
            expected = self.max_per_window - self._used()
            for _ in range(max(expected - remaining, 0)):
                self._done.append(now)

    def throttled(self, retry_after: float | None = None) -> float:
        """A 429 arrived: close the gate for everyone for one backoff; returns the wait.

        Several threads hitting the same 429 extend nothing: the gate closes once.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            if retry_after is not None:
                wait = retry_after
            elif self._done:
                wait = self._done[0] + self.window_s + self.margin_s - now
            else:
                wait = self.window_s / max(self.max_per_window, 1)
            wait = max(wait, MIN_BACKOFF_S) if retry_after is None else wait
            until = now + wait
            if until > self._blocked_until:
                if self._blocked_until <= now:
                    self.throttles += 1
                self._blocked_until = until
            return max(self._blocked_until - now, 0.0)

    @property
    def in_window(self) -> int:
        """Requests relcrm counts in the current window (in flight included)."""
        with self._lock:
            self._expire(self._clock())
            return self._used()


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
