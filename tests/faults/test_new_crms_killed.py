"""A ``relcrm sync`` process killed with SIGKILL mid-run against the Dataverse and the Zoho
sandbox, then run again: every record is written exactly once (issue 12).

The sandbox runs in this process (a thread), the sync in a child process started as a
deployment starts it (a targets file, the secrets in the environment, the shipped
mapping); the sandbox answers each call 100 ms late and carries each write out at once
but answers it 600 ms later: the kill lands in that window, so the CRM holds values the
killed run never heard of (the store marked those persons in flight), and the run after
it must read them back rather than write them again.
The sandbox's request log counts the writes each record received across both
processes. Mirrors tests/admin/test_shared_run_workers.py for Salesforce.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from relcrm.models import Person
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.zoho.server import ZohoSandbox
from relcrm.store import Store
from tests.faults.world import WRITE_METHODS, WRITE_PATHS, Sandbox, Waits, build_world

LATENCY_MS = 100
HELD_MS = 600
"""How long a write's answer is held back after the CRM carried it out: the kill lands
in this window."""
TARGET = "killed"
RELCRM_SYNC = (sys.executable, "-m", "relcrm", "sync")
SYNC_OPTIONS = ("--batch-size", "4", "--json")


def targets_file(
    folder: Path, crm: str, sandbox: Sandbox, store: Path
) -> tuple[Path, dict[str, str]]:
    """A targets file for the sandbox (no secret in it) and the secrets' variables."""
    if isinstance(sandbox, DataverseSandbox):
        settings = {
            "environment_url": sandbox.environment_url,
            "authority_url": sandbox.authority_url,
            "tenant_id": sandbox.tenant_id,
            "client_id": sandbox.client_id,
            "ca_file": str(sandbox.ca_file),
        }
        secrets = {"RELCRM_DATAVERSE_CLIENT_SECRET": sandbox.client_secret}
    else:
        assert isinstance(sandbox, ZohoSandbox)
        settings = {**sandbox.target_settings(), "ca_file": str(sandbox.ca_file)}
        secrets = sandbox.target_secrets()
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    path = folder / "relcrm.toml"
    path.write_text(
        f"""[store]
url = "sqlite:///{store}"

[[targets]]
name = "{TARGET}"
connector = "{crm}"
mapping = "{crm}-contact"

[targets.settings]
{lines}
""",
        encoding="utf-8",
    )
    return path, secrets


def start_sync(config: Path, secrets: dict[str, str], *options: str) -> subprocess.Popen[str]:
    """``relcrm sync`` of the target in a process of its own; the target's lease lives 3 s
    without a heartbeat, so a run after a killed one waits seconds, not minutes."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RELCRM_")}
    environment |= {"RELCRM_LEASE_TTL_S": "3", "RELCRM_LEASE_HEARTBEAT_S": "0.5"}
    return subprocess.Popen(
        [*RELCRM_SYNC, "--config", str(config), "-t", TARGET, *SYNC_OPTIONS, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment | secrets,
    )


def weather(crm: str) -> FaultPlan:
    """Every call answered late; every write carried out at once and answered later."""
    return FaultPlan(
        latency_ms=LATENCY_MS,
        paths=WRITE_PATHS[crm],
        slow_calls=list(range(1, 500)),
        slow_ms=HELD_MS,
    )


def kill_during_a_write(process: subprocess.Popen[str], sandbox: Sandbox, crm: str) -> int:
    """SIGKILL the process while the CRM holds back its answer to a write it has carried
    out (the second write or later); the records written by then."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        done = [
            c
            for c in sandbox.log.calls()
            if c.method == WRITE_METHODS[crm] and c.writes and c.fault == "slow"
        ]
        if len(done) >= 2:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
            return len(sandbox.log.writes())
        time.sleep(0.002)
    raise AssertionError("the sync was never caught in the middle of a write")


@pytest.mark.parametrize("crm", ["dataverse", "zoho"])
def test_a_killed_sync_is_run_again_and_writes_each_record_once(
    crm: str,
    dataverse_sandbox: DataverseSandbox,
    zoho_sandbox: ZohoSandbox,
    sample: tuple[Path, list[Person]],
    tmp_path: Path,
) -> None:
    sandbox: Sandbox = dataverse_sandbox if crm == "dataverse" else zoho_sandbox
    template, persons = sample
    world = build_world(crm, sandbox, template, persons, tmp_path, waits=Waits())
    expected = len(world.expected)
    world.store.close()  # the processes open it
    store = tmp_path / "relcrm.db"
    config, secrets = targets_file(tmp_path, crm, sandbox, store)
    sandbox.set_faults(weather(crm))
    try:
        victim = start_sync(config, secrets)
        before_kill = kill_during_a_write(victim, sandbox, crm)
        assert victim.returncode == -signal.SIGKILL
        assert 0 < before_kill < expected

        sandbox.set_faults(None)  # calm again: the next run has only the kill to mend
        again = start_sync(config, secrets, "--wait", "60")  # for the dead run's lease
        stdout, stderr = again.communicate(timeout=180)
    finally:
        sandbox.set_faults(None)
    assert again.returncode == 0, stderr
    (report,) = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert report["status"] == "succeeded" and report["resumed"], report

    writes = Counter(w.id for w in sandbox.log.writes() if w.operation in ("update", "upsert"))
    assert len(writes) == expected and set(writes.values()) == {1}, writes.most_common(3)
    with Store.open(f"sqlite:///{store}") as opened:
        assert opened.open_dead_letters(TARGET) == []
        pushed = opened.field_fingerprints(TARGET, [p.id for p in world.expected])
        assert len(pushed) == expected  # the store knows of every write: none pending
