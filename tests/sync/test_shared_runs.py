"""A run several workers share (relcrm sync --partitions N): every partition written by
one worker, every record once, a worker that stops resumed by another, and a shared run
and a single run never on one target at once. Real sandboxes, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from relcrm.connectors import Connector
from relcrm.errors import ConfigurationError, TargetBusyError
from relcrm.store import Store
from relcrm.store.leases import holder_id
from relcrm.store.partitions import partition_of
from relcrm.sync.engine import StopRun, SyncEngine, SyncProgress, SyncReport
from relcrm.sync.lease import LeasePolicy, target_lease_name
from relcrm.sync.workers import SHARED_HOLDER, run_shared
from relcrm.testing.hubspot import hubspot_connector
from relcrm.testing.salesforce import salesforce_connector
from tests.sync.test_sync_engine import NOW, World, hs_sandbox, sf_sandbox, world

__all__ = ["hs_sandbox", "sf_sandbox", "world"]


def _policy(seconds_later: float = 0) -> LeasePolicy:
    return LeasePolicy(
        ttl=timedelta(seconds=30),
        heartbeat=timedelta(seconds=10),
        poll=timedelta(seconds=0.05),
        clock=lambda: NOW + timedelta(seconds=seconds_later),
    )


def _connector(world: World) -> Connector:
    """A connector of its own, as another worker process would have."""
    if world.crm == "salesforce":
        return salesforce_connector(world.sandbox)  # type: ignore[arg-type]
    return hubspot_connector(world.sandbox)  # type: ignore[arg-type]


def _engine(world: World, store: Store, connector: Connector, **options: object) -> SyncEngine:
    return SyncEngine(
        store,
        connector,
        world.mapping,
        target=f"{world.crm}-test",
        now=lambda: NOW,
        batch_size=2,
        **options,  # type: ignore[arg-type]
    )


def test_one_worker_writes_every_partition_and_closes_the_run(world: World) -> None:
    report = run_shared(_engine(world, world.store, world.connector, lease_policy=_policy()), 4)
    assert report.status == "succeeded", report.to_json()
    assert sorted(report.partitions or []) == [0, 1, 2, 3]
    assert report.counts["written"] == len(world.consenting)
    assert report.run_counts is not None and report.run_counts["written"] == len(world.consenting)
    writes = world.written_records()
    assert len(writes) == len(world.consenting) and set(writes.values()) == {1}
    stored = world.store.run(report.run_id)  # type: ignore[arg-type]
    assert stored is not None and stored.status == "succeeded"
    assert stored.counts["written"] == len(world.consenting)
    assert world.store.lease(target_lease_name(f"{world.crm}-test")) is None  # given back

    again = run_shared(_engine(world, world.store, world.connector, lease_policy=_policy()), 4)
    assert again.status == "succeeded" and again.counts["written"] == 0


def test_workers_in_parallel_write_each_record_once(world: World, store_url: str) -> None:
    reports: list[SyncReport] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with Store.open(store_url) as store:
                engine = _engine(world, store, _connector(world), lease_policy=_policy())
                reports.append(run_shared(engine, 6))
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert len(reports) == 3
    done = [p for report in reports for p in report.partitions or []]
    assert sorted(done) == list(range(6))  # every partition once, by one worker
    assert sum(r.counts["written"] for r in reports) == len(world.consenting)
    finished = [r for r in reports if r.run_counts is not None]
    assert len(finished) == 1 and finished[0].run_counts["written"] == len(world.consenting)  # type: ignore[index]
    writes = world.written_records()
    assert len(writes) == len(world.consenting) and set(writes.values()) == {1}
    assert len({r.run_id for r in reports}) == 1


def test_a_worker_that_stops_leaves_its_partition_to_the_next(world: World) -> None:
    def stop_after_one_batch(event: SyncProgress) -> None:
        if event.batch >= 1:
            raise StopRun

    first = _engine(world, world.store, world.connector, lease_policy=_policy())
    with pytest.raises(StopRun):
        run_shared(first, 3, progress=stop_after_one_batch)
    name = target_lease_name(f"{world.crm}-test")
    held = world.store.lease(name)
    assert held is not None and held.holder == SHARED_HOLDER  # the others may still write

    # A single run cannot start while the shared run's lease lives...
    with pytest.raises(TargetBusyError):
        _engine(world, world.store, world.connector, lease_policy=_policy()).run()

    # ...and a worker started later takes the run over and finishes it.
    later = _engine(world, world.store, _connector(world), lease_policy=_policy(31))
    report = run_shared(later, 3)
    assert report.resumed and report.status == "succeeded", report.to_json()
    assert report.run_counts is not None
    assert report.run_counts["written"] == len(world.consenting)
    writes = world.written_records()
    assert len(writes) == len(world.consenting) and set(writes.values()) == {1}


def test_a_target_held_by_a_single_run_is_busy_for_workers(world: World) -> None:
    name = target_lease_name(f"{world.crm}-test")
    world.store.acquire_lease(name, holder_id(), ttl=timedelta(minutes=5), now=NOW)
    with pytest.raises(TargetBusyError):
        run_shared(_engine(world, world.store, world.connector, lease_policy=_policy()), 2)
    assert world.sandbox.log.writes() == []


def test_workers_must_agree_on_the_number_of_partitions(world: World) -> None:
    def stop(event: SyncProgress) -> None:
        raise StopRun

    with pytest.raises(StopRun):
        run_shared(
            _engine(world, world.store, world.connector, lease_policy=_policy()), 3, progress=stop
        )
    with pytest.raises(ConfigurationError) as mismatch:
        run_shared(_engine(world, world.store, world.connector, lease_policy=_policy(31)), 5)
    assert mismatch.value.code == "sync.partitions_mismatch"
    assert "--partitions 3" in str(mismatch.value)
    with pytest.raises(ConfigurationError) as bad:
        run_shared(_engine(world, world.store, world.connector, lease_policy=_policy()), 0)
    assert bad.value.code == "sync.bad_partitions"


def test_a_single_run_resumes_a_shared_run_and_counts_it_whole(world: World) -> None:
    def stop_in_second_partition(event: SyncProgress) -> None:
        if event.counts["written"] >= 3:
            raise StopRun

    with pytest.raises(StopRun):
        run_shared(
            _engine(world, world.store, world.connector, lease_policy=_policy()),
            2,
            progress=stop_in_second_partition,
        )
    single = _engine(world, world.store, world.connector, lease_policy=_policy(31)).run()
    assert single.resumed and single.status == "succeeded"
    writes = world.written_records()
    assert len(writes) == len(world.consenting) and set(writes.values()) == {1}


def test_partitions_are_stable_and_even() -> None:
    ids = [f"person-{n}" for n in range(4000)]
    sizes = Counter(partition_of(person_id, 8) for person_id in ids)
    assert set(sizes) == set(range(8))
    assert max(sizes.values()) < 1.15 * 4000 / 8
    assert partition_of("person-1", 8) == partition_of("person-1", 8)
