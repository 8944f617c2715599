"""A clock a test server keeps for the whole test class while the contract suite hands
out a fresh :class:`ContractClock` per check."""

from __future__ import annotations

import time

from relcrm.testing.contract import ContractClock


class FollowedClock:
    """Callable time that reads the check's :class:`ContractClock` (real monotonic time
    until the first check follows one): pass it to a server started once per class."""

    def __init__(self) -> None:
        self._clock: ContractClock | None = None

    def follow(self, clock: ContractClock) -> None:
        self._clock = clock

    def __call__(self) -> float:
        return self._clock.monotonic() if self._clock is not None else time.monotonic()
