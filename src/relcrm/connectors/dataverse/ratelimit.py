"""The client side of Dataverse's service protection limit: at most ``max_requests`` per
rolling ``window_s`` (6,000 per 300 s per user by default), so a long run paces itself
instead of meeting 429s. The server's ``Retry-After`` still rules when it speaks (the
retry policy honours it); this only keeps relcrm from asking for one.

``clock`` and ``sleep`` come from the connector's retry policy, so tests never wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class RequestWindow:
    """A rolling window of request times; :meth:`acquire` waits for a free slot."""

    def __init__(
        self,
        max_requests: int,
        window_s: float,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.max_requests = max(1, max_requests)
        self.window_s = window_s
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_s = 0.0
        """Seconds spent waiting for a slot so far."""

    def acquire(self) -> None:
        """Take a slot, waiting (``sleep``) until the oldest request leaves the window."""
        while True:
            with self._lock:
                now = self.clock()
                while self._sent and self._sent[0] <= now - self.window_s:
                    self._sent.popleft()
                if len(self._sent) < self.max_requests:
                    self._sent.append(now)
                    return
                wait = max(self._sent[0] + self.window_s - now, 0.001)
            self.waited_s += wait
            self.sleep(wait)
            with self._lock:
                if self.clock() < now + wait and self._sent:
                    # the sleep did not move the clock (an injected one in tests): the
                    # wait counts as done, the oldest request has left the window
                    self._sent.popleft()
