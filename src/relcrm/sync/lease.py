"""One writer per target: a run holds the target's lease while it writes.

A second ``relcrm sync`` on the same target (a cron job that overlapped, an operator
retrying by hand) finds the lease held and waits (``wait``) or stops with
:class:`~relcrm.errors.TargetBusyError`, writing nothing. The holder renews the lease from
a heartbeat thread; if its process is killed, the lease expires after ``ttl`` and the next
run takes it over and resumes the killed run. A run whose lease was taken from it (it
stalled longer than ``ttl``) stops before its next batch with
:class:`~relcrm.errors.LeaseLostError`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from relcrm.errors import LeaseLostError, StoreError, TargetBusyError
from relcrm.store import Store
from relcrm.store.leases import Acquired, Lease, holder_id

logger = logging.getLogger(__name__)


class Holder(Protocol):
    """What the engine asks of whatever lets it write (a target lease, a partition
    hold): before every write, raise if it is no longer ours."""

    def check(self) -> None: ...


def target_lease_name(target: str) -> str:
    return f"target:{target}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LeasePolicy:
    """How long a lease lives without a heartbeat, how often it is renewed, and how long
    to wait for a busy target. ``sleep`` and ``clock`` are injectable for tests."""

    ttl: timedelta = timedelta(seconds=90)
    heartbeat: timedelta = timedelta(seconds=15)
    wait: timedelta | None = None
    """How long to wait for a busy target; None (the default) does not wait."""
    poll: timedelta = timedelta(seconds=2)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    def __post_init__(self) -> None:
        if self.heartbeat >= self.ttl:
            raise ValueError("the heartbeat must come well within the lease's ttl")


class TargetLease:
    """Hold ``name`` in ``store`` for the duration of a ``with`` block."""

    def __init__(
        self, store: Store, name: str, policy: LeasePolicy | None = None, holder: str | None = None
    ) -> None:
        self.store = store
        self.name = name
        self.policy = policy or LeasePolicy()
        self.holder = holder or holder_id()
        self.acquired: Acquired | None = None
        self.waited_s = 0.0
        self.release_on_exit = True
        """False leaves the lease to expire rather than giving it back: a worker of a
        shared run that others are still writing."""
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def took_over(self) -> Lease | None:
        """The expired lease this one replaced (its run was killed), if any."""
        return self.acquired.took_over if self.acquired is not None else None

    def __enter__(self) -> TargetLease:
        policy = self.policy
        started = time.monotonic()
        deadline = None if policy.wait is None else started + policy.wait.total_seconds()
        while True:
            acquired = self.store.acquire_lease(
                self.name, self.holder, ttl=policy.ttl, now=policy.clock()
            )
            if acquired.ok:
                break
            held = acquired.held_by
            if deadline is None or time.monotonic() >= deadline:
                self.waited_s = time.monotonic() - started
                raise TargetBusyError(_busy_message(self.name, held, policy.clock()))
            logger.info("%s is busy; waiting for its lease", self.name)
            policy.sleep(policy.poll.total_seconds())
        self.waited_s = time.monotonic() - started
        self.acquired = acquired
        if acquired.took_over is not None:
            logger.warning(
                "took over %s from %s, whose lease expired at %s",
                self.name,
                acquired.took_over.holder,
                acquired.took_over.expires_at.isoformat(),
            )
        self._thread = threading.Thread(target=self._beat, name=f"lease {self.name}", daemon=True)
        self._thread.start()
        return self

    def set_run(self, run_id: str) -> None:
        """Say which run holds the lease (shown to a run that finds the target busy)."""
        self.store.set_lease_run(self.name, self.holder, run_id)

    def check(self) -> None:
        """Raise :class:`LeaseLostError` if the lease is no longer ours: call it before
        every write."""
        if self._lost.is_set():
            raise LeaseLostError(
                f"the lease on {self.name} expired while this run stalled, and another run "
                "took it; this run stopped before writing again"
            )

    def _beat(self) -> None:
        interval = self.policy.heartbeat.total_seconds()
        while not self._stop.wait(interval):
            try:
                ours = self.store.renew_lease(
                    self.name, self.holder, ttl=self.policy.ttl, now=self.policy.clock()
                )
            except StoreError as error:  # the store is unreachable: try again next beat
                logger.warning("could not renew the lease on %s: %s", self.name, error.message)
                continue
            if not ours:
                self._lost.set()
                return

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.release_on_exit and not self._lost.is_set():
            self.store.release_lease(self.name, self.holder)


def _busy_message(name: str, held: Lease | None, now: datetime) -> str:
    if held is None:  # released and taken again between two looks: rare, still busy
        return f"{name} is held by another run"
    run = f", run {held.run_id}" if held.run_id else ""
    seconds = max(0, int((now - held.heartbeat_at).total_seconds()))
    since = held.acquired_at.isoformat(timespec="seconds")
    expires = held.expires_at.isoformat(timespec="seconds")
    return (
        f"{name} is held by {held.holder}{run} since {since} "
        f"(last heartbeat {seconds} s ago, expires {expires})"
    )


__all__ = ["Holder", "LeasePolicy", "TargetLease", "target_lease_name"]
