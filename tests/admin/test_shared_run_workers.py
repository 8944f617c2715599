"""Four ``relcrm sync --partitions 8`` workers on one target, one killed with SIGKILL
halfway (issue 11): the others take its partition over once its hold expires, and every
record is written exactly once. Real processes, real sandboxes (slowed down so the kill
lands mid-run), the store on SQLite and, when a server is named, PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.store import Store
from relcrm.store._tables import run_partitions
from relcrm.sync.lease import target_lease_name
from tests.admin.conftest import populate, targets_file

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


@pytest.fixture
def config(sandboxes: Sandboxes, tmp_path: Path, store_url: str) -> Path:
    return targets_file(tmp_path, *sandboxes, store=store_url)


def _worker(config: Path) -> subprocess.Popen[str]:
    env = os.environ.copy() | {"RELCRM_LEASE_TTL_S": "3", "RELCRM_LEASE_HEARTBEAT_S": "0.5"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relcrm",
            "sync",
            "--config",
            str(config),
            "-t",
            "sf-contact",
            "--partitions",
            "8",
            "--batch-size",
            "2",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _victim(store_url: str, workers: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """A worker holding a partition it has written part of (a checkpoint counted)."""
    pids = {worker.pid: worker for worker in workers}
    engine = create_engine(store_url.replace("sqlite:///", "sqlite:///", 1))
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(run_partitions.c.holder, run_partitions.c.counts).where(
                        run_partitions.c.status == "pending", run_partitions.c.holder.is_not(None)
                    )
                ).all()
            for row in rows:
                pid = int(row.holder.split(":")[1])
                if pid in pids and json.loads(row.counts).get("written"):
                    return pids[pid]
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("no worker was ever caught halfway through a partition")


def test_a_killed_worker_s_partition_is_finished_by_the_others(
    config: Path, sandboxes: Sandboxes, store_url: str
) -> None:
    sf, _ = sandboxes
    consenting = len(populate(config, sandboxes, persons=48, now=NOW))
    sf.log.clear()
    sf.set_faults(FaultPlan(latency_ms=250))

    workers = [_worker(config) for _ in range(4)]
    victim = _victim(store_url, workers)
    victim.send_signal(signal.SIGKILL)
    outcomes = {id(w): w.communicate(timeout=180) for w in workers}

    assert victim.returncode == -signal.SIGKILL
    survivors = [w for w in workers if w is not victim]
    reports = []
    for worker in survivors:
        stdout, stderr = outcomes[id(worker)]
        assert worker.returncode == 0, stderr
        (report,) = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        reports.append(report)
    finished = [r for r in reports if r["run_counts"] is not None]
    assert len(finished) == 1, reports
    assert finished[0]["status"] == "succeeded"
    assert finished[0]["run_counts"]["written"] == consenting
    assert len({r["run_id"] for r in reports}) == 1
    writes = Counter(w.id for w in sf.log.writes() if w.operation in ("update", "upsert"))
    assert len(writes) == consenting and set(writes.values()) == {1}  # each record once
    with Store.open(store_url) as store:
        (run,) = store.runs(target="sf-contact")
        assert run.status == "succeeded" and run.counts["written"] == consenting
        assert store.lease(target_lease_name("sf-contact")) is None  # the finisher gave it back
