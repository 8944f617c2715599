"""Partitions of a shared run: several workers writing one target, each taking a slice of
the persons at a time (schema version 8).

A shared run splits its persons into ``count`` partitions by a stable hash of their id.
Each partition is a row: pending until a worker finishes it, with the worker holding it
and when that hold expires (the worker renews it while it writes). A worker claims a
pending partition nobody holds, or one whose holder stopped renewing (killed), with
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (workers never wait on each other's
rows) and inside SQLite's single write lock elsewhere; either way two workers never hold
one partition. Counts are kept per partition and summed when the run finishes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from relcrm.errors import ConfigurationError
from relcrm.store._part import StorePart, to_utc
from relcrm.store._tables import checkpoints, leases, run_partitions, runs
from relcrm.store.sync_state import RunStatus


def partition_of(person_id: str, count: int) -> int:
    """The partition of ``person_id`` among ``count``: stable across processes and hosts."""
    digest = hashlib.blake2b(person_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


@dataclass(frozen=True)
class Claim:
    """A partition a worker holds."""

    run_id: str
    partition: int
    count: int
    taken_over: bool
    """Another worker held it before and stopped: resume it (checkpoints tell which of
    its persons are done)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """What earlier holders of the partition counted, as of their last checkpoint."""
    api_calls: int = 0


class PartitionStore(StorePart):
    """The partitions of shared runs."""

    def create_partitions(self, run_id: str, count: int) -> int:
        """Give run ``run_id`` its ``count`` pending partitions; 0 if another worker already
        did. A run split into another number of partitions is an error: its workers must
        agree on how to split it."""
        if count < 1:
            raise ValueError(f"a run has at least one partition, not {count}")
        with self._write() as connection:
            if connection.dialect.name == "postgresql":  # two workers splitting at once
                connection.execute(select(runs.c.id).where(runs.c.id == run_id).with_for_update())
            existing = connection.scalar(
                select(func.max(run_partitions.c.total)).where(run_partitions.c.run_id == run_id)
            )
            if existing is not None:
                if int(existing) != count:
                    raise ConfigurationError(
                        f"run {run_id} is split into {existing} partitions, not {count}",
                        hint=f"start every worker of this target with --partitions {existing}",
                        code="sync.partitions_mismatch",
                    )
                return 0
            connection.execute(
                insert(run_partitions),
                [
                    {
                        "run_id": run_id,
                        "partition": index,
                        "total": count,
                        "status": "pending",
                        "holder": None,
                        "expires_at": None,
                        "counts": "{}",
                        "api_calls": 0,
                    }
                    for index in range(count)
                ],
            )
        return count

    def partition_count(self, run_id: str) -> int | None:
        """How many partitions run ``run_id`` was split into; None if it is not shared."""
        with self._read() as connection:
            found = connection.scalar(
                select(func.max(run_partitions.c.total)).where(run_partitions.c.run_id == run_id)
            )
        return None if found is None else int(found)

    def claim_partition(
        self, run_id: str, holder: str, *, ttl: timedelta, now: datetime
    ) -> Claim | None:
        """Hold a pending partition of ``run_id`` that nobody holds (or whose holder's hold
        expired) until ``now + ttl``; None when none is left to take."""
        at = to_utc(now)
        still_running = select(runs.c.id).where(runs.c.id == run_id, runs.c.status == "running")
        free = and_(
            run_partitions.c.run_id == run_id,
            run_partitions.c.status == "pending",
            or_(run_partitions.c.holder.is_(None), run_partitions.c.expires_at <= at),
            still_running.exists(),
        )
        with self._write() as connection:
            query = (
                select(
                    run_partitions.c.partition,
                    run_partitions.c.total,
                    run_partitions.c.holder,
                    run_partitions.c.counts,
                    run_partitions.c.api_calls,
                )
                .where(free)
                .order_by(run_partitions.c.partition)
                .limit(1)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = connection.execute(query).first()
            if row is None:
                return None
            connection.execute(
                update(run_partitions)
                .where(
                    run_partitions.c.run_id == run_id, run_partitions.c.partition == row.partition
                )
                .values(holder=holder, expires_at=at + ttl)
            )
        counts = json.loads(row.counts or "{}")
        return Claim(
            run_id,
            row.partition,
            row.total,
            taken_over=row.holder is not None or bool(counts),
            counts=counts,
            api_calls=row.api_calls or 0,
        )

    def renew_partition(self, claim: Claim, holder: str, *, ttl: timedelta, now: datetime) -> bool:
        """Keep holding ``claim``; False if another worker took it (stop writing)."""
        with self._write() as connection:
            result = connection.execute(
                update(run_partitions)
                .where(
                    run_partitions.c.run_id == claim.run_id,
                    run_partitions.c.partition == claim.partition,
                    run_partitions.c.holder == holder,
                    run_partitions.c.status == "pending",
                )
                .values(expires_at=to_utc(now) + ttl)
            )
        return result.rowcount == 1

    def checkpoint_partition(
        self, claim: Claim, holder: str, counts: Mapping[str, int], api_calls: int
    ) -> bool:
        """Keep the partition's running counts (after each batch), so a worker that takes
        it over reports the whole partition."""
        with self._write() as connection:
            result = connection.execute(
                update(run_partitions)
                .where(
                    run_partitions.c.run_id == claim.run_id,
                    run_partitions.c.partition == claim.partition,
                    run_partitions.c.holder == holder,
                    run_partitions.c.status == "pending",
                )
                .values(counts=json.dumps(dict(counts), sort_keys=True), api_calls=api_calls)
            )
        return result.rowcount == 1

    def release_partition(self, claim: Claim, holder: str) -> bool:
        """Give ``claim`` back unfinished (the worker stopped early): any worker may take it
        at once, and resumes it from its checkpoints."""
        with self._write() as connection:
            result = connection.execute(
                update(run_partitions)
                .where(
                    run_partitions.c.run_id == claim.run_id,
                    run_partitions.c.partition == claim.partition,
                    run_partitions.c.holder == holder,
                    run_partitions.c.status == "pending",
                )
                .values(expires_at=None, holder=None)
            )
        return result.rowcount == 1

    def live_holders(self, run_id: str, *, now: datetime) -> int:
        """Partitions of ``run_id`` a worker holds now (pending, hold not expired)."""
        with self._read() as connection:
            found = connection.scalar(
                select(func.count())
                .select_from(run_partitions)
                .where(
                    run_partitions.c.run_id == run_id,
                    run_partitions.c.status == "pending",
                    run_partitions.c.expires_at > to_utc(now),
                )
            )
        return int(found or 0)

    def finish_partition(
        self, claim: Claim, holder: str, counts: Mapping[str, int], api_calls: int
    ) -> bool:
        """Mark ``claim`` done with its counts; False if it was not ours any more."""
        with self._write() as connection:
            result = connection.execute(
                update(run_partitions)
                .where(
                    run_partitions.c.run_id == claim.run_id,
                    run_partitions.c.partition == claim.partition,
                    run_partitions.c.holder == holder,
                )
                .values(
                    status="done",
                    expires_at=None,
                    counts=json.dumps(dict(counts), sort_keys=True),
                    api_calls=api_calls,
                )
            )
        return result.rowcount == 1

    def partitions_left(self, run_id: str) -> int:
        """Partitions of ``run_id`` not done yet (held or not)."""
        with self._read() as connection:
            found = connection.scalar(
                select(func.count())
                .select_from(run_partitions)
                .where(run_partitions.c.run_id == run_id, run_partitions.c.status == "pending")
            )
        return int(found or 0)

    def partition_totals(self, run_id: str) -> tuple[Counter[str], int]:
        """The run's counts and API calls, summed over its finished partitions."""
        totals: Counter[str] = Counter()
        calls = 0
        with self._read() as connection:
            rows = connection.execute(
                select(run_partitions.c.counts, run_partitions.c.api_calls).where(
                    run_partitions.c.run_id == run_id
                )
            )
            for row in rows:
                totals.update(json.loads(row.counts))
                calls += row.api_calls
        return totals, calls


class SharedRunStore(PartitionStore):
    """Starting, joining, failing and finishing a shared run, each in one transaction."""

    def start_or_join_shared_run(
        self, target: str, lease_name: str, *, now: datetime
    ) -> tuple[str, bool]:
        """The running run on ``target`` (creating one if there is none), and whether this
        call created it. A run left ``running`` by a killed worker, shared or single, is
        joined and resumed. Serialised on the target's lease row (PostgreSQL) or SQLite's
        write lock, so workers starting together join one run."""
        with self._write() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    select(leases.c.name).where(leases.c.name == lease_name).with_for_update()
                )
            row = connection.execute(
                select(runs.c.id)
                .where(runs.c.target == target, runs.c.status == "running")
                .order_by(runs.c.started_at.desc(), runs.c.id)
                .limit(1)
            ).first()
            if row is not None:
                return str(row.id), False
            run_id = uuid.uuid4().hex
            connection.execute(
                insert(runs).values(
                    id=run_id,
                    target=target,
                    started_at=to_utc(now),
                    finished_at=None,
                    status="running",
                    counts="{}",
                    api_calls=0,
                    message=None,
                )
            )
        return run_id, True

    def running_run_of(self, target: str) -> str | None:
        """The id of the run on ``target`` still marked running, if any."""
        with self._read() as connection:
            found = connection.scalar(
                select(runs.c.id)
                .where(runs.c.target == target, runs.c.status == "running")
                .order_by(runs.c.started_at.desc(), runs.c.id)
                .limit(1)
            )
        return None if found is None else str(found)

    def stop_shared_run(self, run_id: str, status: str, message: str, *, now: datetime) -> bool:
        """End ``run_id`` early (``failed``: the CRM refused the credentials; ``paused``:
        its quota ran out) with the counts of the partitions finished so far, so the
        other workers stop claiming. Its checkpoints stay; False if it had ended."""
        with self._write() as connection:
            totals, calls = self._totals(connection, run_id)
            result = connection.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(
                    status=status,
                    finished_at=to_utc(now),
                    counts=json.dumps({k: n for k, n in totals.items() if n}, sort_keys=True),
                    api_calls=calls,
                    message=message,
                )
            )
        return result.rowcount == 1

    def finish_shared_run(
        self, run_id: str, *, now: datetime
    ) -> tuple[RunStatus, Counter[str], int] | None:
        """Close ``run_id`` once every partition is done: its status and the summed counts
        and API calls. None if partitions are left or another worker closed it first."""
        with self._write() as connection:
            left = connection.scalar(
                select(func.count())
                .select_from(run_partitions)
                .where(run_partitions.c.run_id == run_id, run_partitions.c.status == "pending")
            )
            if left:
                return None
            totals, calls = self._totals(connection, run_id)
            status: RunStatus = "partial" if totals["rejected"] or totals["failed"] else "succeeded"
            result = connection.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(
                    status=status,
                    finished_at=to_utc(now),
                    counts=json.dumps({k: n for k, n in totals.items() if n}, sort_keys=True),
                    api_calls=calls,
                )
            )
            if result.rowcount != 1:
                return None
            if status == "succeeded":
                connection.execute(delete(checkpoints).where(checkpoints.c.run_id == run_id))
        return status, totals, calls

    @staticmethod
    def _totals(connection: Connection, run_id: str) -> tuple[Counter[str], int]:
        """The partitions' counts and calls, plus what the run had stored before it was
        split (a killed single worker's checkpointed totals)."""
        totals: Counter[str] = Counter()
        calls = 0
        before = connection.execute(
            select(runs.c.counts, runs.c.api_calls).where(runs.c.id == run_id)
        ).first()
        if before is not None:
            totals.update(json.loads(before.counts or "{}"))
            calls += before.api_calls or 0
        for row in connection.execute(
            select(run_partitions.c.counts, run_partitions.c.api_calls).where(
                run_partitions.c.run_id == run_id
            )
        ):
            totals.update(json.loads(row.counts))
            calls += row.api_calls
        return totals, calls
