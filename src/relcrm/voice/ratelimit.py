"""Rate limits per link and per client address, in memory, with an injectable clock.

A sliding window: each key keeps the times of its recent requests, and a request over
the limit is refused with the seconds until the oldest one leaves the window (the
``Retry-After`` of the 429 page). In memory, so each server process counts on its own:
one process behind the proxy is the intended set-up (docs/voice.md). Keys that go quiet
are dropped, so the memory stays bounded by the traffic of one window.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from relcrm.voice.links import Clock, utc_now

MAX_KEYS = 100_000
"""Keys remembered at most; past it, the quiet ones are swept at once."""


class SlidingWindowLimiter:
    """At most ``limit`` requests per key in any ``window``."""

    def __init__(self, limit: int, window: timedelta, *, clock: Clock = utc_now) -> None:
        if limit <= 0 or window <= timedelta(0):
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()
        self._last_sweep: datetime | None = None

    def hit(self, key: str) -> int | None:
        """Count a request for ``key``: None when allowed, else the whole seconds to wait
        (at least 1). A refused request is not counted."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            times = self._hits.setdefault(key, deque())
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                wait = (times[0] + self.window - now).total_seconds()
                return max(1, math.ceil(wait))
            times.append(now)
            return None

    def _sweep(self, now: datetime) -> None:
        due = self._last_sweep is None or now - self._last_sweep >= self.window
        if not due and len(self._hits) < MAX_KEYS:
            return
        self._last_sweep = now
        quiet = [k for k, t in self._hits.items() if not t or now - t[-1] >= self.window]
        for key in quiet:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


__all__ = ["SlidingWindowLimiter"]
