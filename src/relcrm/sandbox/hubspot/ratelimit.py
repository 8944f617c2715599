"""Per-token rate limits: HubSpot's rolling ten-second window, the daily budget, and
search's own lower per-second limit.

The connector's limiter is judged by how close it gets to these limits without 429s, so
the sandbox keeps the window exactly (timestamps of accepted calls, not fixed buckets) and
reports it in the ``X-HubSpot-RateLimit-*`` headers the client reads.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimits:
    """The limits one token is held to (defaults: Free/Starter, 100 per 10 s, 250k a day)."""

    max_per_window: int = 100
    window_ms: int = 10_000
    daily: int = 250_000
    search_per_second: int = 5
    retry_after: bool = False
    """Send ``Retry-After`` on 429s (HubSpot does not document it consistently)."""

    @classmethod
    def parse(cls, spec: str | int | None, **kwargs: int | bool) -> RateLimits:
        """``"100/10s"``, ``"190/10s"``, ``"5/1s"`` or a bare count per 10 s."""
        if spec is None:
            return cls(**kwargs)  # type: ignore[arg-type]
        if isinstance(spec, int):
            return cls(max_per_window=spec, **kwargs)  # type: ignore[arg-type]
        match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+)\s*(ms|s)?)?\s*", spec)
        if match is None:
            raise ValueError(f"rate limit {spec!r}: expected COUNT/SECONDSs, e.g. 100/10s")
        count = int(match.group(1))
        window = int(match.group(2) or 10)
        window_ms = window if match.group(3) == "ms" else window * 1000
        return cls(max_per_window=count, window_ms=window_ms, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Decision:
    """Whether a call may go ahead, the headers to send, and the policy it broke."""

    allowed: bool
    headers: dict[str, str]
    policy: str | None = None
    retry_after_s: float = 0.0


@dataclass
class _Usage:
    window: deque[float] = field(default_factory=deque)
    second: deque[float] = field(default_factory=deque)
    search: deque[float] = field(default_factory=deque)
    day: int = 0
    day_key: int = 0


class RateLimiter:
    """Counts accepted calls per token; refused calls are not counted, as at HubSpot."""

    def __init__(
        self, limits: RateLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self.limits = limits or RateLimits()
        self._clock = clock
        self._usage: dict[str, _Usage] = {}

    def set_limits(self, limits: RateLimits) -> None:
        """Change the limits (usage so far is kept)."""
        with self._lock:
            self.limits = limits

    def reset(self) -> None:
        """Forget every token's usage."""
        with self._lock:
            self._usage.clear()

    def check(self, token: str, *, search: bool = False) -> Decision:
        """Count one call by ``token`` if the limits allow it."""
        lim = self.limits
        with self._lock:
            now = self._clock()
            usage = self._usage.setdefault(token, _Usage())
            day_key = int(time.time() // 86_400)
            if usage.day_key != day_key:
                usage.day, usage.day_key = 0, day_key
            window_s = lim.window_ms / 1000
            while usage.window and usage.window[0] <= now - window_s:
                usage.window.popleft()
            while usage.second and usage.second[0] <= now - 1.0:
                usage.second.popleft()
            while usage.search and usage.search[0] <= now - 1.0:
                usage.search.popleft()
            policy: str | None = None
            wait = 0.0
            if usage.day >= lim.daily:
                policy = "DAILY"
                wait = 86_400 - time.time() % 86_400
            elif search and len(usage.search) >= lim.search_per_second:
                policy = "SECONDLY"
                wait = usage.search[0] + 1.0 - now
            elif not search and len(usage.window) >= lim.max_per_window:
                policy = "TEN_SECONDLY_ROLLING"
                wait = usage.window[0] + window_s - now
            if policy is None:
                usage.day += 1
                if search:
                    usage.search.append(now)
                else:
                    usage.window.append(now)
                    usage.second.append(now)
            headers = self._headers(usage)
        return Decision(policy is None, headers, policy, max(wait, 0.0))

    def _headers(self, usage: _Usage) -> dict[str, str]:
        lim = self.limits
        secondly = max(1, lim.max_per_window * 1000 // max(lim.window_ms, 1))
        return {
            "X-HubSpot-RateLimit-Daily": str(lim.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(lim.daily - usage.day, 0)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(lim.window_ms),
            "X-HubSpot-RateLimit-Max": str(lim.max_per_window),
            "X-HubSpot-RateLimit-Remaining": str(max(lim.max_per_window - len(usage.window), 0)),
            "X-HubSpot-RateLimit-Secondly": str(secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(secondly - len(usage.second), 0)),
        }
