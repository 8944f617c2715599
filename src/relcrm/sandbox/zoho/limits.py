"""Zoho CRM's API limits: credits over a rolling 24 hours, and concurrent calls per app.

From Zoho's API-limits pages (v8 "API Limits and Credits", and the Kaizen #93 and #203
posts of Zoho's developer team):

- every call costs credits; most cost 1, insert, update and upsert cost 1 for every 10
  records (so 100 records cost 10), convert lead 5; the window is a rolling 24 hours: the
  credits of a call are free again 24 hours after it;
- the credits of an org are ``50,000 + licences x (250 | 500 | 1,000 | 2,000) + add-ons``
  for Standard, Professional, Enterprise, Ultimate, capped at 100,000, 3,000,000,
  5,000,000 and unlimited; the Free edition has 5,000;
- concurrency (calls in progress at one time, per app and org): Free 5, Standard 10,
  Professional 15, Enterprise 20, Ultimate 25; resource-intensive calls (search, and
  insert/update/upsert of more than 10 records, among others) also share a
  sub-concurrency limit of 10;
- going over either answers 429 ``TOO_MANY_REQUESTS``; no ``Retry-After`` is documented;
  ``X-API-CREDITS-REMAINING`` is sent once half of the credits are used.

Refused calls cost nothing here (whether Zoho charges them is not documented). The clock is
injectable (:class:`SandboxClock`), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Edition = Literal["free", "standard", "professional", "enterprise", "ultimate"]

DAY_S = 86_400.0
CONCURRENCY: dict[str, int] = {
    "free": 5,
    "standard": 10,
    "professional": 15,
    "enterprise": 20,
    "ultimate": 25,
}
SUB_CONCURRENCY = 10
_PER_LICENCE: dict[str, int] = {
    "standard": 250,
    "professional": 500,
    "enterprise": 1000,
    "ultimate": 2000,
}
_CAP: dict[str, int | None] = {
    "free": 5000,
    "standard": 100_000,
    "professional": 3_000_000,
    "enterprise": 5_000_000,
    "ultimate": None,
}
RECORDS_PER_CREDIT = 10


def edition_credits(edition: str, licences: int = 1, add_on: int = 0) -> int | None:
    """The credits per 24 hours of an org (None: unlimited)."""
    if edition == "free":
        return 5000
    allowed = 50_000 + licences * _PER_LICENCE[edition] + add_on
    cap = _CAP[edition]
    return allowed if cap is None else min(allowed, cap)


def write_credits(records: int) -> int:
    """Credits of an insert, update or upsert of ``records`` records."""
    return max(1, math.ceil(records / RECORDS_PER_CREDIT))


class SandboxClock:
    """Monotonic time plus an offset tests can advance (token expiry, the credit window)."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class LimitsConfig:
    """An org's limits: edition and licences, or explicit figures."""

    edition: Edition = "enterprise"
    licences: int = 10
    credits: int | None = None
    """Credits per 24 hours; None: from the edition and licences."""
    concurrency: int | None = None
    """Calls in progress at one time per app; None: the edition's."""
    sub_concurrency: int = SUB_CONCURRENCY

    def credit_limit(self) -> int | None:
        return (
            self.credits
            if self.credits is not None
            else edition_credits(self.edition, self.licences)
        )

    def concurrency_limit(self) -> int:
        return self.concurrency if self.concurrency is not None else CONCURRENCY[self.edition]


@dataclass
class _AppUsage:
    in_flight: int = 0
    heavy_in_flight: int = 0
    peak: int = 0


@dataclass
class Refusal:
    """Why a call was refused (429)."""

    reason: Literal["concurrency", "sub_concurrency", "credits"]


@dataclass
class Limits:
    """Credits and concurrency of one org; thread-safe."""

    config: LimitsConfig = field(default_factory=LimitsConfig)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _spent: deque[tuple[float, int]] = field(default_factory=deque, repr=False)
    _apps: dict[str, _AppUsage] = field(default_factory=dict, repr=False)
    refused: dict[str, int] = field(default_factory=dict)
    """429s answered, per reason."""

    def reset(self) -> None:
        """No credits spent, nothing in flight, no refusals counted."""
        with self._lock:
            self._spent.clear()
            self._apps.clear()
            self.refused.clear()

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - DAY_S:
            self._spent.popleft()

    def used(self) -> int:
        """Credits spent in the last 24 hours."""
        with self._lock:
            self._expire(self.clock())
            return sum(c for _, c in self._spent)

    def remaining(self) -> int | None:
        limit = self.config.credit_limit()
        return None if limit is None else max(limit - self.used(), 0)

    def spend(self, credits: int) -> None:
        """Book ``credits`` (seeding and tests; calls book through :meth:`enter`)."""
        with self._lock:
            self._spent.append((self.clock(), credits))

    def peak(self, app: str) -> int:
        """The most calls of ``app`` that were in progress at once."""
        with self._lock:
            usage = self._apps.get(app)
            return usage.peak if usage is not None else 0

    def enter(self, app: str, credits: int, *, heavy: bool) -> Refusal | None:
        """Admit one call of ``app`` costing ``credits`` (or say why not)."""
        with self._lock:
            usage = self._apps.setdefault(app, _AppUsage())
            refusal: Refusal | None = None
            if usage.in_flight >= self.config.concurrency_limit():
                refusal = Refusal("concurrency")
            elif heavy and usage.heavy_in_flight >= self.config.sub_concurrency:
                refusal = Refusal("sub_concurrency")
            else:
                now = self.clock()
                self._expire(now)
                limit = self.config.credit_limit()
                if limit is not None and sum(c for _, c in self._spent) + credits > limit:
                    refusal = Refusal("credits")
                else:
                    self._spent.append((now, credits))
            if refusal is not None:
                self.refused[refusal.reason] = self.refused.get(refusal.reason, 0) + 1
                return refusal
            usage.in_flight += 1
            usage.heavy_in_flight += heavy
            usage.peak = max(usage.peak, usage.in_flight)
            return None

    def leave(self, app: str, *, heavy: bool) -> None:
        with self._lock:
            usage = self._apps.setdefault(app, _AppUsage())
            usage.in_flight = max(usage.in_flight - 1, 0)
            if heavy:
                usage.heavy_in_flight = max(usage.heavy_in_flight - 1, 0)

    @contextlib.contextmanager
    def occupy(self, app: str, calls: int = 1, *, heavy: bool = False) -> Iterator[None]:
        """Hold ``calls`` concurrency slots of ``app`` (another integration of the same
        app is busy; ``heavy``: with resource-intensive calls): tests make the next call
        meet the limit without racing threads."""
        with self._lock:
            usage = self._apps.setdefault(app, _AppUsage())
            usage.in_flight += calls
            usage.heavy_in_flight += calls if heavy else 0
        try:
            yield
        finally:
            with self._lock:
                usage.in_flight = max(usage.in_flight - calls, 0)
                if heavy:
                    usage.heavy_in_flight = max(usage.heavy_in_flight - calls, 0)

    def headers(self) -> dict[str, str]:
        """``X-API-CREDITS-REMAINING`` once half of the credits are used."""
        limit = self.config.credit_limit()
        if limit is None:
            return {}
        remaining = self.remaining()
        assert remaining is not None
        if limit - remaining >= limit / 2:
            return {"X-API-CREDITS-REMAINING": str(remaining)}
        return {}
