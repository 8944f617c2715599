"""Benchmark: one sync target written by 1, 2 and 4 workers (``relcrm sync --partitions``),
on Salesforce and on HubSpot. ``benchmarks/sync.py --workers 1,2,4`` runs this.

The world (not timed): bulk synthetic persons ingested and profiled into a store (a
SQLite file in a temporary folder, or ``--store-url`` such as a PostgreSQL database,
which should be empty), a Contact per person in both sandboxes, the shipped mappings'
fields provisioned, and a first sync by one process so every person is matched to their
records. The sandboxes answer each request after ``--latency-ms`` (a real CRM is a
network away) and run in this process; HubSpot keeps its real rate limit (100 requests
per 10 s, Free/Starter), which all workers share: there the limit is the ceiling.

Then, per target and worker count, timed: ``relcrm sync --full --partitions P`` started
P times at once as separate processes, re-sending every consenting person's mapped
values. The table gives the wall time from the first start to the last exit, records per
second, the speed-up over one worker, the API calls (the sandbox's request log; HubSpot's
429 answers included) and how many records were written more than once (must be 0). The
speed-up is bounded by the machine (2 cores here, shared with the sandboxes and the
store's server) and by SQLite's single write lock; compare the ratios of one run, on one
machine. Not a timed test.

Figures of 2026-12-05 (10,000 persons, 9,518 written per run, latency 300 ms, 2 cores):

    store       target      1 worker      2 workers        4 workers        twice
    SQLite      salesforce  446 rec/s     773 (1.73x)      1,033 (2.31x)    0
    SQLite      hubspot     257 rec/s     470 (1.83x)        676 (2.64x)    0
    PostgreSQL  salesforce  386 rec/s     711 (1.84x)        933 (2.42x)    0
    PostgreSQL  hubspot     239 rec/s     440 (1.84x)        673 (2.81x)    0

With 8 workers on PostgreSQL: Salesforce 748 rec/s (1.92x), HubSpot 530 (2.23x): on two
cores shared with the sandboxes the CPU is the ceiling before HubSpot's rate limit is
(100 requests per 10 s allow 1,000 records/s; 4 workers used 7.5 requests/s).

    python benchmarks/sync.py --workers 1,2,4            # 10,000 persons, SQLite
    python benchmarks/sync_workers.py --persons 2000 --workers 1,2
    python benchmarks/sync_workers.py --store-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from _sync_world import build_store, seed_hubspot, seed_salesforce

from relcrm.mapping import load_shipped
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot import RateLimits, running_hubspot_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import OrgConfig, SalesforceSandbox, running_sandbox
from relcrm.sync.fields import apply_fields
from relcrm.testing.hubspot import hubspot_connector
from relcrm.testing.salesforce import salesforce_connector

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HS_LIMIT, HS_WINDOW_MS = 100, 10_000


def targets_file(folder: Path, sf: SalesforceSandbox, hs: HubSpotSandbox, store_url: str) -> Path:
    path = folder / "relcrm.toml"
    path.write_text(
        f"""[store]
url = "{store_url}"

[[targets]]
name = "salesforce"
connector = "salesforce"
mapping = "salesforce-contact"

[targets.settings]
instance_url = "{sf.instance_url}"
ca_file = "{sf.ca_file}"
username = "{sf.username}"
api_version = "{sf.api_version}"

[[targets]]
name = "hubspot"
connector = "hubspot"
mapping = "hubspot-contact"

[targets.settings]
base_url = "{hs.base_url}"
ca_file = "{hs.ca_file}"
""",
        encoding="utf-8",
    )
    return path


def sync_processes(config: Path, target: str, workers: int, env: dict[str, str]) -> list[int]:
    """Start ``workers`` workers at once (one plain sync when 0); their exit codes."""
    extra = ["--partitions", str(workers)] if workers else []
    command = [sys.executable, "-m", "relcrm", "sync", "--config", str(config), "-t", target]
    started = [
        subprocess.Popen(
            [*command, *(["--full"] if workers else []), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(max(1, workers))
    ]
    codes = []
    for process in started:
        _, stderr = process.communicate()
        if process.returncode:
            print(stderr[-2000:], file=sys.stderr)
        codes.append(process.returncode)
    return codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma separated")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=300,
        help="added to every answer (a real org takes longer to update 200 records)",
    )
    parser.add_argument("--store-url", default=None, help="an empty store [default: SQLite]")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.workers.split(",")]
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; the sandbox "
        f"runs in this process; latency {args.latency_ms} ms per answer",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="relcrm-workers-bench-") as scratch:
        folder = Path(scratch)
        world = build_store(folder, args.persons, 1, args.seed, NOW, url=args.store_url)
        store_kind = world.url.split(":", 1)[0].split("+", 1)[0]
        print(
            f"store: {store_kind}, {world.persons:,} persons ({world.consenting:,} consenting "
            f"with an email); built and profiled in "
            f"{world.build_s + world.ingest_s + world.profile_s:.1f} s (not counted)",
            flush=True,
        )
        with (
            running_sandbox(config=OrgConfig(api_daily_limit=10**9)) as sf,
            running_hubspot_sandbox(rate_limit=RateLimits(max_per_window=10**9, daily=10**9)) as hs,
        ):
            seed_salesforce(sf, world.url, "inproc")
            seed_hubspot(hs, world.url, "inproc")
            apply_fields(salesforce_connector(sf), load_shipped("salesforce-contact"))
            apply_fields(hubspot_connector(hs), load_shipped("hubspot-contact"))
            config = targets_file(folder, sf, hs, world.url)
            env = os.environ.copy() | {
                "RELCRM_SALESFORCE_SESSION_ID": sf.session_id,
                "RELCRM_HUBSPOT_ACCESS_TOKEN": hs.token,
            }
            for target in ("salesforce", "hubspot"):
                started = time.perf_counter()
                assert sync_processes(config, target, 0, env) == [0], "the first sync failed"
                print(
                    f"{target}: first sync (one process, matches everyone; not counted): "
                    f"{time.perf_counter() - started:.1f} s",
                    flush=True,
                )
            for sandbox in (sf, hs):
                sandbox.set_faults(FaultPlan(latency_ms=args.latency_ms))
            hs.set_rate_limits(RateLimits(max_per_window=HS_LIMIT, window_ms=HS_WINDOW_MS))
            print(
                f"{'target':<11} {'workers':>7} {'wall s':>8} {'records/s':>10} "
                f"{'speed-up':>9} {'API calls':>10} {'written':>8} {'twice':>6}"
            )
            for target, sandbox in (("salesforce", sf), ("hubspot", hs)):
                base: float | None = None
                for workers in counts:
                    sandbox.log.clear()
                    time.sleep(HS_WINDOW_MS / 1000)  # a fresh rate-limit window each time
                    started = time.perf_counter()
                    codes = sync_processes(config, target, workers, env)
                    wall = time.perf_counter() - started
                    writes = Counter(
                        w.id for w in sandbox.log.writes() if w.operation in ("update", "upsert")
                    )
                    twice = sum(1 for n in writes.values() if n > 1)
                    rate = len(writes) / wall
                    base = base or rate
                    print(
                        f"{target:<11} {workers:>7} {wall:>8.1f} {rate:>10.0f} "
                        f"{rate / base:>8.2f}x {len(sandbox.log):>10} {len(writes):>8} "
                        f"{twice:>6}" + ("" if set(codes) == {0} else f"  exit codes {codes}"),
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
