"""Several workers writing one target together: a shared run split into partitions.

A large daily run on one target can be shared by several processes (on one host or
many, against one PostgreSQL store): ``relcrm sync --partitions N`` started on each.
The persons are split into N partitions by a stable hash of their id; each worker claims
a partition nobody holds, writes it (checkpointing as a single run does) and claims the
next, until none is left. Each person is in one partition and each partition has one
holder at a time, so nobody is written twice.

The workers hold the target's lease together, under one shared holder name, so a
single ``relcrm sync`` on that target finds it busy (and a worker finds a target held by
a single run busy). The first worker to arrive pulls consent from the CRM and splits the
run; the others wait for the split. A killed worker stops renewing its partition; once
its hold expires (the lease ttl) another worker takes the partition over and resumes it
from its checkpoints, reading back the batch it had in flight. The worker that finishes
the last partition closes the run with the counts of every partition.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from relcrm.errors import ConfigurationError, LeaseLostError, StoreError
from relcrm.store.leases import holder_id
from relcrm.store.partitions import Claim
from relcrm.sync.consent_pull import pull_consent
from relcrm.sync.counts import RunCounts
from relcrm.sync.engine import (
    MappingMismatchError,
    ProgressCallback,
    SyncEngine,
    SyncReport,
)
from relcrm.sync.lease import Holder, LeasePolicy, TargetLease, target_lease_name

logger = logging.getLogger(__name__)

SHARED_HOLDER = "shared-run"
"""The holder name every worker of a shared run takes the target's lease under."""

MAX_PARTITIONS = 256
LOOK_AGAIN_S = 0.25
"""How often a worker with nothing to claim looks again (at most ``policy.poll``): for the
split by the first worker, or for a partition whose worker was killed."""


class PartitionHold:
    """A worker's hold on one partition for a ``with`` block, renewed from a heartbeat
    thread; ``check()`` raises once another worker took it (this one stalled too long)."""

    def __init__(self, engine: SyncEngine, claim: Claim, worker: str) -> None:
        self.store = engine.store
        self.policy: LeasePolicy = engine.lease_policy
        self.claim = claim
        self.worker = worker
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"partition {claim.partition}", daemon=True
        )

    def __enter__(self) -> PartitionHold:
        self._thread.start()
        return self

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLostError(
                f"partition {self.claim.partition} of run {self.claim.run_id} expired while "
                "this worker stalled, and another worker took it; this one stopped before "
                "writing again"
            )

    def _beat(self) -> None:
        interval = self.policy.heartbeat.total_seconds()
        while not self._stop.wait(interval):
            try:
                ours = self.store.renew_partition(
                    self.claim, self.worker, ttl=self.policy.ttl, now=self.policy.clock()
                )
            except StoreError as error:
                logger.warning("could not renew partition %d: %s", self.claim.partition, error)
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
        self._thread.join()


class _Both:
    """Writing needs the target's shared lease and the partition's hold."""

    def __init__(self, *holders: Holder) -> None:
        self.holders = holders

    def check(self) -> None:
        for holder in self.holders:
            holder.check()


def run_shared(
    engine: SyncEngine,
    partitions: int,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """Work on the shared run of ``engine``'s target, split into ``partitions``, until no
    partition is left; the report counts this worker's partitions (and the whole run's in
    ``run_counts`` when this worker finished it).

    Every worker of one run must be given the same ``partitions``. Raises
    :class:`~relcrm.errors.TargetBusyError` if a single run holds the target (as long as
    ``engine.lease_policy.wait`` allows) and
    :class:`~relcrm.sync.engine.MappingMismatchError` before writing if the mapping does
    not fit the CRM (the run is then closed as failed).
    """
    if not 1 <= partitions <= MAX_PARTITIONS:
        raise ConfigurationError(
            f"--partitions must be between 1 and {MAX_PARTITIONS}, got {partitions}",
            code="sync.bad_partitions",
        )
    started = time.monotonic()
    store, policy, target = engine.store, engine.lease_policy, engine.target
    worker = holder_id()
    report = SyncReport(target=target, run_id=None, partitions=[])
    engine.connector.begin_run()
    calls_before = engine.connector.api_calls
    lease_name = target_lease_name(target)
    with TargetLease(store, lease_name, policy, holder=SHARED_HOLDER) as lease:
        lease.release_on_exit = False
        report.lease_wait_s = lease.waited_s
        run_id = _prepared_run(engine, lease, partitions, report)
        report.run_id = run_id
        lease.set_run(run_id)
        stopped = False
        while not stopped:
            # The lease is checked before every write, not here: once the last partition
            # is done its finisher gives the lease back while the others are still looking.
            claim = store.claim_partition(run_id, worker, ttl=policy.ttl, now=policy.clock())
            if claim is None:
                if not store.partitions_left(run_id) or store.running_run_of(target) != run_id:
                    break
                # Others hold the rest: wait, to take over one whose worker was killed.
                policy.sleep(min(policy.poll.total_seconds(), LOOK_AGAIN_S))
                continue
            stopped = _work_on(engine, claim, worker, lease, report, full, progress)
        if not stopped:
            closed = store.finish_shared_run(run_id, now=policy.clock())
            if closed is not None:
                report.status, run_counts, _ = closed
                report.run_counts = RunCounts.from_stored(run_counts)
                lease.release_on_exit = True
                logger.info("shared run %s on %s finished: %s", run_id, target, report.status)
            else:
                report.status = "partial" if _rejected(report) else "succeeded"
        elif not store.live_holders(run_id, now=policy.clock()):
            lease.release_on_exit = True
    report.api_calls = engine.connector.api_calls - calls_before
    report.duration_s = time.monotonic() - started
    return report


def _prepared_run(
    engine: SyncEngine, lease: TargetLease, partitions: int, report: SyncReport
) -> str:
    """The shared run to work on, split into partitions. The first worker starts (or
    resumes) it, pulls consent and splits it; a worker that joined waits for the split,
    and does it itself if the first worker died before it was done."""
    store, policy, target = engine.store, engine.lease_policy, engine.target
    assert lease.acquired is not None
    if lease.acquired.joined:
        deadline = time.monotonic() + policy.ttl.total_seconds()
        while time.monotonic() < deadline:
            run_id = store.running_run_of(target)
            count = None if run_id is None else store.partition_count(run_id)
            if run_id is not None and count is not None:
                if count != partitions:
                    store.create_partitions(run_id, partitions)  # raises: counts differ
                report.resumed = True
                return run_id
            policy.sleep(min(policy.poll.total_seconds(), LOOK_AGAIN_S))
        logger.warning("the worker that started the shared run on %s stopped; going on", target)
    run_id, created = store.start_or_join_shared_run(target, lease.name, now=policy.clock())
    report.resumed = not created
    if engine.mapping.consent is not None and store.partition_count(run_id) is None:
        pulled = pull_consent(
            store, engine.connector, engine.mapping, target=target, now=policy.clock()
        )
        report.counts["consent_granted"] += len(pulled.granted)
        report.counts["consent_withdrawn"] += len(pulled.withdrawn)
    store.create_partitions(run_id, partitions)
    return run_id


def _work_on(
    engine: SyncEngine,
    claim: Claim,
    worker: str,
    lease: TargetLease,
    report: SyncReport,
    full: bool,
    progress: ProgressCallback | None,
) -> bool:
    """Write one partition; True if the run must stop (the CRM refused, quota ran out)."""
    store, policy = engine.store, engine.lease_policy
    if claim.taken_over:
        logger.warning(
            "taking over partition %d of run %s from a worker that stopped",
            claim.partition,
            claim.run_id,
        )
    with PartitionHold(engine, claim, worker) as hold:
        try:
            part = engine.run_partition(
                claim, _Both(lease, hold), worker=worker, full=full, progress=progress
            )
        except MappingMismatchError:
            store.release_partition(claim, worker)
            store.stop_shared_run(
                claim.run_id, "failed", "the mapping does not fit the CRM", now=policy.clock()
            )
            raise
        except BaseException:
            store.release_partition(claim, worker)  # another worker resumes it
            raise
    report.counts.add(part.counts)
    report.resumed = report.resumed or part.resumed
    report.rejections.extend(part.rejections[: max(0, 10 - len(report.rejections))])
    report.unmatched.extend(part.unmatched[: max(0, 10 - len(report.unmatched))])
    report.withheld.extend(part.withheld[: max(0, 10 - len(report.withheld))])
    if part.status in ("failed", "paused"):
        store.release_partition(claim, worker)
        store.stop_shared_run(claim.run_id, part.status, part.message or "", now=policy.clock())
        report.status, report.message, report.error_code = (
            part.status,
            part.message,
            part.error_code,
        )
        return True
    stored = part.counts.as_dict(nonzero=True)
    if not store.finish_partition(claim, worker, stored, part.api_calls):
        raise LeaseLostError(
            f"partition {claim.partition} of run {claim.run_id} was taken over before this "
            "worker finished it"
        )
    assert report.partitions is not None
    report.partitions.append(claim.partition)
    return False


def _rejected(report: SyncReport) -> bool:
    return bool(report.counts["rejected"] or report.counts["failed"])


__all__ = ["MAX_PARTITIONS", "SHARED_HOLDER", "PartitionHold", "run_shared"]
