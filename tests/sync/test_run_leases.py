"""A run holds its target's lease: a killed run is resumed only once its lease expired,
a live one is never adopted, and a run whose lease was taken stops before writing again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relcrm.errors import LeaseLostError, TargetBusyError
from relcrm.store.leases import holder_id
from relcrm.sync.engine import StopRun, SyncProgress
from relcrm.sync.lease import LeasePolicy, target_lease_name
from tests.sync.test_sync_engine import NOW, World, hs_sandbox, sf_sandbox, world

__all__ = ["hs_sandbox", "sf_sandbox", "world"]

FAST = LeasePolicy(ttl=timedelta(seconds=30), heartbeat=timedelta(seconds=10), clock=lambda: NOW)


def _stop_after(batches: int) -> object:
    def progress(event: SyncProgress) -> None:
        if event.batch >= batches:
            raise StopRun

    return progress


def test_a_live_run_is_never_adopted_and_an_expired_one_is_resumed(world: World) -> None:
    target = f"{world.crm}-test"
    name = target_lease_name(target)
    # A run that was killed after two batches, its lease still fresh (its process may
    # well be alive: a stalled network, a slow CRM).
    killed = world.engine(batch_size=3).run(progress=_stop_after(2))  # type: ignore[arg-type]
    assert killed.status is None and killed.run_id is not None
    world.store.acquire_lease(name, "other-host:1:abc", ttl=timedelta(seconds=90), now=NOW)
    world.sandbox.log.clear()

    with pytest.raises(TargetBusyError) as busy:
        world.engine(lease_policy=FAST).run()
    assert busy.value.exit_code == 5 and "other-host:1:abc" in busy.value.message
    assert world.sandbox.log.writes() == []  # nothing written while the target is held
    assert world.store.run(killed.run_id).status == "running"  # type: ignore[union-attr]

    # Once the lease expired, the next run takes it over and resumes the killed run.
    later = LeasePolicy(
        ttl=timedelta(seconds=30),
        heartbeat=timedelta(seconds=10),
        clock=lambda: NOW + timedelta(seconds=91),
    )
    resumed = world.engine(lease_policy=later).run()
    assert resumed.resumed and resumed.run_id == killed.run_id
    assert resumed.status == "succeeded"
    writes = world.written_records()
    assert set(writes.values()) == {1}
    assert len(writes) == len(world.consenting) - 6  # the first two batches were done
    assert world.store.lease(name) is None


def test_waiting_for_a_busy_target_gives_up_after_the_wait(world: World) -> None:
    name = target_lease_name(f"{world.crm}-test")
    world.store.acquire_lease(name, holder_id(), ttl=timedelta(hours=1), now=NOW)
    slept: list[float] = []
    policy = LeasePolicy(
        ttl=timedelta(seconds=30),
        heartbeat=timedelta(seconds=10),
        clock=lambda: NOW,
        wait=timedelta(seconds=0.3),
        poll=timedelta(seconds=0.1),
        sleep=lambda s: slept.append(s) or __import__("time").sleep(s),  # type: ignore[func-returns-value]
    )
    with pytest.raises(TargetBusyError):
        world.engine(lease_policy=policy).run()
    assert slept and world.sandbox.log.writes() == []


def test_a_run_whose_lease_was_taken_stops_before_its_next_batch(world: World) -> None:
    target = f"{world.crm}-test"
    name = target_lease_name(target)
    engine = world.engine(batch_size=2, lease_policy=FAST)

    def steal_after_first_batch(event: SyncProgress) -> None:
        if event.batch == 1:
            lease = world.store.lease(name)
            assert lease is not None
            # the lease expires (a long stall) and another run takes the target...
            world.store.release_lease(name, lease.holder)
            world.store.acquire_lease(name, "thief:2:def", ttl=timedelta(hours=1), now=NOW)
            # ...which this run's next heartbeat finds out
            assert engine._lease is not None
            engine._lease._lost.set()

    with pytest.raises(LeaseLostError):
        engine.run(progress=steal_after_first_batch)
    assert sum(world.written_records().values()) == 2  # the first batch only
    held = world.store.lease(name)
    assert held is not None and held.holder == "thief:2:def"  # not released by the loser


def test_a_dead_letter_closes_when_the_crm_turns_out_to_hold_the_values(world: World) -> None:
    """Issue 11, defect 10: a person whose values the CRM already holds (their row is
    unchanged since the last confirmed write) used to keep their open dead letter for
    ever, because the unchanged-row shortcut skipped the settling; the next sync (and a
    retry) now closes it."""
    from relcrm.store.sync_state import FailedWrite

    target = f"{world.crm}-test"
    world.engine().run()
    person = world.consenting[0]
    world.store.add_dead_letters(
        target,
        [FailedWrite(person.id, {}, "UNABLE_TO_LOCK_ROW", "record locked")],
        at=NOW,
    )
    assert [letter.person_id for letter in world.store.open_dead_letters(target)] == [person.id]

    again = world.engine().run()

    assert again.counts["written"] == 0 and again.counts["unchanged"] == len(world.consenting)
    assert world.store.open_dead_letters(target) == []


def test_a_run_the_crm_stopped_leaves_its_batch_to_be_read_back(world: World) -> None:
    """Issue 11, #12: a run the CRM stopped (503s, a spent quota) may have had its last
    batch processed without hearing so. The next run reads that batch back first and does
    not send again what the CRM already holds, even on a full re-send."""
    target = f"{world.crm}-test"
    first = world.engine().run()
    assert first.status == "succeeded"
    stopped_in_flight = sorted(p.id for p in world.consenting)[:3]
    # A second later than the first run: runs that start at one instant have no order.
    later = NOW + timedelta(seconds=1)
    run_id = world.store.start_run(target, at=later)
    world.store.mark_in_flight(run_id, stopped_in_flight)
    world.store.finish_run(run_id, "failed", {}, 0, "the CRM stopped answering", at=later)
    world.sandbox.log.clear()

    resent = world.engine().run(full=True)

    assert resent.status == "succeeded" and resent.counts.recovered == 3
    writes = world.written_records()
    assert len(writes) == len(world.consenting) - 3 and set(writes.values()) == {1}
