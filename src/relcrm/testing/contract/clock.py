"""Time the contract suite controls, so that no check ever waits for real.

A connector's retry policy, its rate limiter and its token clock take a ``sleep`` and a
``clock`` (:class:`relcrm.connectors.retry.RetryPolicy`); the adapter builds the connector
with :meth:`ContractClock.sleep` and :meth:`ContractClock.monotonic`. A sleep returns at
once and moves the clock forward by what was asked.

A test server that keeps time (a rate window, a token's age, a concurrency slot) follows
the same clock: the adapter hands it :meth:`monotonic`, or registers its ``advance`` with
:meth:`listen`, or asks for a callback once the clock has moved far enough (:meth:`after`:
"refuse every call until the client has waited 5 s"). So a connector that waits out a 429
gets through at once, and one that does not wait (or waits with ``time.sleep``, which
this clock does not see) keeps being refused: the suite tells them apart without waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

START = 1_000_000.0
"""Where the clock starts: far from zero, so "now minus a window" is never negative."""


@dataclass
class _Alarm:
    due: float
    callback: Callable[[], None]


class ContractClock:
    """A monotonic clock that only moves when something sleeps on it. Thread-safe."""

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._alarms: list[_Alarm] = []
        self._listeners: list[Callable[[float], None]] = []
        self.sleeps: list[float] = []
        """Every sleep asked for, in order (zero-length ones included)."""

    def __repr__(self) -> str:
        return f"ContractClock(slept={self.slept:.3f})"

    def monotonic(self) -> float:
        """Now, in seconds (pass as a connector's or a server's ``clock``)."""
        with self._lock:
            return self._now

    @property
    def slept(self) -> float:
        """Seconds slept so far."""
        with self._lock:
            return sum(self.sleeps)

    def sleep(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` at once (pass as a connector's ``sleep``);
        then tell the listeners and fire the alarms that became due."""
        wait = max(float(seconds), 0.0)
        with self._lock:
            self.sleeps.append(wait)
            self._now += wait
            now = self._now
            due = [alarm for alarm in self._alarms if alarm.due <= now]
            self._alarms = [alarm for alarm in self._alarms if alarm.due > now]
            listeners = list(self._listeners)
        for listener in listeners:
            listener(wait)
        for alarm in due:
            alarm.callback()

    def advance(self, seconds: float) -> None:
        """Move the clock as a sleep would (a test's own passing of time)."""
        self.sleep(seconds)

    def listen(self, listener: Callable[[float], None]) -> None:
        """Call ``listener(seconds)`` after every sleep: for a test server whose own clock
        moves with ``advance(seconds)``."""
        with self._lock:
            self._listeners.append(listener)

    def after(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the clock has moved ``delay`` seconds past now (at the
        sleep that gets it there): "the storm ends once the client has waited"."""
        with self._lock:
            alarm = _Alarm(self._now + max(delay, 0.0), callback)
            if delay > 0:
                self._alarms.append(alarm)
        if delay <= 0:
            callback()


__all__ = ["START", "ContractClock"]
