"""Dataverse's service protection limits, per user, over a sliding five-minute window.

[doc: learn.microsoft.com/power-apps/developer/data-platform/api-limits] Two limits are
evaluated over the preceding 300 seconds: 6,000 requests (``0x80072322``, "Number of
requests exceeded the limit of 6000 over time window of 300 seconds.") and 1,200,000 ms of
combined execution time (``0x80072321``). Both answer ``429 Too Many Requests`` with
``Retry-After`` in seconds; each authenticated user is limited independently (an
application user too). Responses carry ``x-ms-ratelimit-burst-remaining-xrm-requests`` and
``x-ms-ratelimit-time-remaining-xrm-requests``. A ``$batch`` counts as one request (the
documented way around the request limit, not around the execution-time limit).

Not reproduced: the 52-concurrent-requests limit (``0x80072326``; the sandbox serves one
request at a time), per-web-server counting, and the way repeated demanding sending
lengthens ``Retry-After``. The clock is injectable, so a test that "waits" ``Retry-After``
by advancing a fake clock sees the window move exactly as a real wait would.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from relcrm.sandbox.dataverse import errors as E


@dataclass(frozen=True)
class ServiceLimits:
    """Requests and execution time allowed per user within ``window_s``."""

    requests: int = 6000
    window_s: float = 300.0
    execution_ms: float = 1_200_000.0

    @classmethod
    def parse(cls, spec: str | int | None) -> ServiceLimits:
        """``"6000/300s"``, ``"100/10s"`` or a bare request count per 300 s."""
        if spec is None:
            return cls()
        if isinstance(spec, int):
            return cls(requests=spec)
        match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+(?:\.\d+)?)\s*(ms|s)?)?\s*", spec)
        if match is None:
            raise ValueError(f"rate limit {spec!r}: expected COUNT/SECONDSs, e.g. 6000/300s")
        window = float(match.group(2) or 300)
        if match.group(3) == "ms":
            window /= 1000
        return cls(requests=int(match.group(1)), window_s=window)


@dataclass
class _Usage:
    calls: deque[float] = field(default_factory=deque)
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (at, ms)


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go ahead, the headers to send, the error if not."""

    allowed: bool
    headers: dict[str, str]
    error: E.DvError | None = None


class ServiceProtection:
    """Counts accepted requests and their execution time per user; refused requests are
    not counted."""

    def __init__(
        self, limits: ServiceLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ServiceLimits()
        self.clock = clock
        self._usage: dict[str, _Usage] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def set_limits(self, limits: ServiceLimits) -> None:
        with self._lock:
            self.limits = limits
            self._usage.clear()

    def reset(self) -> None:
        with self._lock:
            self._usage.clear()
            self.refused = 0

    def _trim(self, usage: _Usage, now: float) -> None:
        start = now - self.limits.window_s
        while usage.calls and usage.calls[0] <= start:
            usage.calls.popleft()
        while usage.spent and usage.spent[0][0] <= start:
            usage.spent.popleft()

    def _headers(self, usage: _Usage) -> dict[str, str]:
        spent = sum(ms for _, ms in usage.spent)
        time_left = max(self.limits.execution_ms - spent, 0)
        return {
            "x-ms-ratelimit-burst-remaining-xrm-requests": str(
                max(self.limits.requests - len(usage.calls), 0)
            ),
            "x-ms-ratelimit-time-remaining-xrm-requests": f"{time_left:.2f}",
        }

    def check(self, user: str) -> Verdict:
        """Count one request by ``user`` if the limits allow it."""
        lim = self.limits
        with self._lock:
            now = self.clock()
            usage = self._usage.setdefault(user, _Usage())
            self._trim(usage, now)
            error: E.DvError | None = None
            if len(usage.calls) >= lim.requests:
                # no request allowed at all (a spent allowance): a whole window to wait
                wait = (usage.calls[0] if usage.calls else now) + lim.window_s - now
                error = E.throttled(
                    E.REQUESTS_EXCEEDED,
                    f"Number of requests exceeded the limit of {lim.requests} over time window "
                    f"of {lim.window_s:g} seconds.",
                    max(1, math.ceil(wait)),
                )
            elif sum(ms for _, ms in usage.spent) >= lim.execution_ms:
                wait = usage.spent[0][0] + lim.window_s - now
                error = E.throttled(
                    E.EXECUTION_TIME_EXCEEDED,
                    f"Combined execution time of incoming requests exceeded limit of "
                    f"{lim.execution_ms:,.0f} milliseconds over time window of "
                    f"{lim.window_s:g} seconds. Decrease number of concurrent requests or "
                    "reduce the duration of requests and try again later.",
                    max(1, math.ceil(wait)),
                )
            if error is None:
                usage.calls.append(now)
            else:
                self.refused += 1
            headers = self._headers(usage)
        if error is not None:
            error.headers.update(headers)
            return Verdict(False, headers, error)
        return Verdict(True, headers)

    def spend(self, user: str, ms: float) -> None:
        """Book the execution time of a request ``user`` made."""
        with self._lock:
            usage = self._usage.setdefault(user, _Usage())
            usage.spent.append((self.clock(), ms))
