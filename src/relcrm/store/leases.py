"""Leases: which process may write to a target now, so two runs never send the same
records.

A lease is a row per name (``target:<name>``, or a target's partition for several
workers): its holder (a process), the run it serves, when it was taken, when its holder
last said it is alive (the heartbeat) and when it expires. Taking a lease succeeds only
when nobody holds it or its holder stopped renewing it (expired); the take is one atomic
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``, so two processes racing for it on
SQLite or PostgreSQL cannot both win.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import leases

LEASE_NAME_LENGTH = 200


def holder_id() -> str:
    """Who holds a lease: host, process and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Lease:
    """A lease as stored."""

    name: str
    holder: str
    run_id: str | None
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Acquired:
    """The outcome of taking a lease: ours (``lease``) or someone else's (``held_by``).

    ``took_over`` is the expired lease this one replaced, if any: its holder stopped (was
    killed, or lost its connection), so its run may be resumed.
    """

    lease: Lease | None
    held_by: Lease | None = None
    took_over: Lease | None = None
    joined: bool = False
    """The lease was live and already held under this holder name: several workers of one
    shared run take it under one name, and all but the first join it."""

    @property
    def ok(self) -> bool:
        return self.lease is not None


def _lease(row: object) -> Lease:
    return Lease(
        name=row.name,  # type: ignore[attr-defined]
        holder=row.holder,  # type: ignore[attr-defined]
        run_id=row.run_id,  # type: ignore[attr-defined]
        acquired_at=from_column(row.acquired_at),  # type: ignore[attr-defined]
        heartbeat_at=from_column(row.heartbeat_at),  # type: ignore[attr-defined]
        expires_at=from_column(row.expires_at),  # type: ignore[attr-defined]
    )


class LeaseStore(StorePart):
    """Leases in the store (schema version 7)."""

    def lease(self, name: str) -> Lease | None:
        """The lease called ``name``, live or expired, or None."""
        with self._read() as connection:
            row = connection.execute(select(leases).where(leases.c.name == name)).first()
        return None if row is None else _lease(row)

    def acquire_lease(
        self,
        name: str,
        holder: str,
        *,
        ttl: timedelta,
        now: datetime,
        run_id: str | None = None,
    ) -> Acquired:
        """Take ``name`` for ``holder`` until ``now + ttl`` if it is free, expired or
        already ours; otherwise report who holds it."""
        if len(name) > LEASE_NAME_LENGTH:
            raise ValueError(f"lease names are at most {LEASE_NAME_LENGTH} characters")
        at = to_utc(now)
        values = {
            "name": name,
            "holder": holder,
            "run_id": run_id,
            "acquired_at": at,
            "heartbeat_at": at,
            "expires_at": at + ttl,
        }
        with self._write() as connection:
            before = connection.execute(select(leases).where(leases.c.name == name)).first()
            insert = self._insert(leases)
            upsert = insert.on_conflict_do_update(
                index_elements=[leases.c.name],
                set_={
                    "holder": insert.excluded.holder,
                    "run_id": insert.excluded.run_id,
                    "acquired_at": insert.excluded.acquired_at,
                    "heartbeat_at": insert.excluded.heartbeat_at,
                    "expires_at": insert.excluded.expires_at,
                },
                where=(leases.c.expires_at <= at) | (leases.c.holder == holder),
            )
            taken = connection.execute(upsert.returning(leases.c.holder), values).first()
        previous = None if before is None else _lease(before)
        if taken is None:
            return Acquired(lease=None, held_by=previous)
        mine = Lease(name, holder, run_id, at, at, at + ttl)
        took_over = previous if previous is not None and previous.holder != holder else None
        joined = previous is not None and previous.holder == holder and not previous.expired(at)
        return Acquired(lease=mine, took_over=took_over, joined=joined)

    def renew_lease(self, name: str, holder: str, *, ttl: timedelta, now: datetime) -> bool:
        """Push ``holder``'s lease on ``name`` to ``now + ttl``; False when it is no longer
        ours (it expired and another process took it: stop writing)."""
        at = to_utc(now)
        with self._write() as connection:
            result = connection.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(heartbeat_at=at, expires_at=at + ttl)
            )
        return result.rowcount == 1

    def set_lease_run(self, name: str, holder: str, run_id: str) -> bool:
        """Record which run ``holder``'s lease serves (shown to whoever finds it held)."""
        with self._write() as connection:
            result = connection.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(run_id=run_id)
            )
        return result.rowcount == 1

    def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease back (only ``holder`` can); False if it was not theirs any more."""
        with self._write() as connection:
            result = connection.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )
        return result.rowcount == 1

    def leases(self, prefix: str = "") -> list[Lease]:
        """Every lease whose name starts with ``prefix``, by name."""
        query = select(leases).order_by(leases.c.name)
        if prefix:
            query = query.where(leases.c.name.startswith(prefix, autoescape=True))
        with self._read() as connection:
            return [_lease(row) for row in connection.execute(query)]
