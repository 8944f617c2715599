"""Leases in the store (schema version 7): one holder at a time, taken over only once
expired, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from relcrm.store import LATEST_VERSION, Store

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_a_free_lease_is_taken_and_a_held_one_is_refused(store: Store) -> None:
    assert store.schema_version() == LATEST_VERSION >= 7
    first = store.acquire_lease("target:crm", "a", ttl=TTL, now=T0, run_id="r1")
    assert first.ok and first.took_over is None
    second = store.acquire_lease("target:crm", "b", ttl=TTL, now=T0 + timedelta(seconds=30))
    assert not second.ok
    assert second.held_by is not None and second.held_by.holder == "a"
    assert second.held_by.run_id == "r1"
    assert store.acquire_lease("target:other", "b", ttl=TTL, now=T0).ok  # per target


def test_the_holder_renews_and_only_an_expired_lease_is_taken_over(store: Store) -> None:
    store.acquire_lease("target:crm", "a", ttl=TTL, now=T0)
    assert store.renew_lease("target:crm", "a", ttl=TTL, now=T0 + timedelta(seconds=50))
    # 100 s after T0 the renewed lease (until T0 + 110 s) still stands...
    assert not store.acquire_lease("target:crm", "b", ttl=TTL, now=T0 + timedelta(seconds=100)).ok
    # ...and once it expired, another holder takes it over and is told whose it was.
    taken = store.acquire_lease("target:crm", "b", ttl=TTL, now=T0 + timedelta(seconds=111))
    assert taken.ok and taken.took_over is not None and taken.took_over.holder == "a"
    # the old holder finds out when it next renews: it must stop writing
    assert not store.renew_lease("target:crm", "a", ttl=TTL, now=T0 + timedelta(seconds=112))
    assert not store.release_lease("target:crm", "a")
    assert store.release_lease("target:crm", "b")
    assert store.lease("target:crm") is None


def test_a_holder_may_take_its_own_lease_again(store: Store) -> None:
    store.acquire_lease("target:crm", "a", ttl=TTL, now=T0)
    again = store.acquire_lease("target:crm", "a", ttl=TTL, now=T0 + timedelta(seconds=5))
    assert again.ok and again.took_over is None


def test_racing_processes_never_both_win(store: Store) -> None:
    """Eight threads (their own connections) try at once: exactly one holds the lease."""
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(holder: str) -> None:
        barrier.wait()
        if store.acquire_lease("target:race", holder, ttl=TTL, now=T0).ok:
            winners.append(holder)

    threads = [threading.Thread(target=attempt, args=(f"h{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    held = store.lease("target:race")
    assert held is not None and held.holder == winners[0]


def test_leases_are_listed_by_prefix(store: Store) -> None:
    for name in ("target:a:part:1", "target:a:part:0", "target:b"):
        store.acquire_lease(name, "w", ttl=TTL, now=T0)
    assert [lease.name for lease in store.leases("target:a:")] == [
        "target:a:part:0",
        "target:a:part:1",
    ]
