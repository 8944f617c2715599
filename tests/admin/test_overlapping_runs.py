"""Two ``relcrm sync`` processes started together on one store (issue 11, defect 1).

They used to both take the target (the second adopted the first's live run as a killed
one), and every record was written twice. Now the first holds the target's lease: the
second exits 5 having written nothing, or waits with ``--wait`` and then finds nothing
left to write. Real processes, real sandboxes (slowed down so the runs overlap), the
store on SQLite and, when a server is named, PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.store import Store
from relcrm.sync.lease import target_lease_name
from tests.admin.conftest import populate, targets_file

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


@pytest.fixture
def config(sandboxes: Sandboxes, tmp_path: Path, store_url: str) -> Path:
    return targets_file(tmp_path, *sandboxes, store=store_url)


def _sync(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "relcrm", "sync", "--config", str(config), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _reports(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]]]:
    stdout, stderr = process.communicate(timeout=180)
    reports = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert reports, stderr
    return process.returncode, reports


def _writes(sandbox: SalesforceSandbox | HubSpotSandbox) -> Counter[str]:
    return Counter(w.id or "" for w in sandbox.log.writes() if w.operation in ("update", "upsert"))


def _overlapping(config: Path, store_url: str, *extra: str) -> list[subprocess.Popen[str]]:
    """Start one run, wait until it holds the target, then start the second."""
    first = _sync(config, "-t", "sf-contact", "--batch-size", "2", *extra)
    with Store.open(store_url) as store:
        deadline = time.monotonic() + 60
        while store.lease(target_lease_name("sf-contact")) is None:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never took the target"
            time.sleep(0.05)
    second = _sync(config, "-t", "sf-contact", "--batch-size", "2", *extra)
    return [first, second]


def test_the_second_run_exits_5_and_writes_nothing(
    config: Path, sandboxes: Sandboxes, store_url: str
) -> None:
    sf, _ = sandboxes
    consenting = len(populate(config, sandboxes, persons=16, now=NOW))
    sf.log.clear()
    sf.set_faults(FaultPlan(latency_ms=400))  # each batch takes a while: the runs overlap

    (code_a, (a,)), (code_b, (b,)) = map(_reports, _overlapping(config, store_url))

    assert (code_a, a["status"], a["counts"]["written"]) == (0, "succeeded", consenting)
    assert code_b == 5 and b["counts"]["written"] == 0 and b["error_code"] == "run.target_busy"
    assert "sf-contact" in b["message"] and "held by" in b["message"]
    writes = _writes(sf)
    assert len(writes) == consenting and set(writes.values()) == {1}  # each record once
    with Store.open(store_url) as store:
        assert [r.status for r in store.runs(target="sf-contact")] == ["succeeded"]
        assert store.lease(target_lease_name("sf-contact")) is None  # released


def test_with_wait_the_second_run_waits_then_finds_nothing_to_write(
    config: Path, sandboxes: Sandboxes, store_url: str
) -> None:
    sf, _ = sandboxes
    consenting = len(populate(config, sandboxes, persons=12, now=NOW))
    sf.log.clear()
    sf.set_faults(FaultPlan(latency_ms=400))

    results = [_reports(p) for p in _overlapping(config, store_url, "--wait", "120")]

    assert [code for code, _ in results] == [0, 0]
    written = sorted(report["counts"]["written"] for _, (report,) in results)
    assert written == [0, consenting]
    waited = [report for _, (report,) in results if report["counts"]["written"] == 0]
    assert waited[0]["lease_wait_s"] > 0 and waited[0]["counts"]["unchanged"] == consenting
    writes = _writes(sf)
    assert len(writes) == consenting and set(writes.values()) == {1}
