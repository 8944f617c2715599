"""Benchmark: the sync engine on 100,000 persons against the Salesforce, HubSpot,
Dataverse and Zoho sandboxes: a first sync, then a daily sync after 2 % of the persons
changed, and what a full re-send would cost.

The world (not timed as sync): bulk synthetic persons (95 % consent, one email each,
``--per-person`` perceptions) ingested and profiled into a SQLite store in a temporary
folder; a Contact per person in the Salesforce sandbox and a contact per person in the
HubSpot sandbox (seeded in process by default, ``--seed-via http`` for the API path), and
a contact per person in the Dataverse and the Zoho sandboxes (in process); the shipped
mappings' fields provisioned with ``apply_fields``. ``--crms`` picks the CRMs.

Then, for each target, timed: (1) the first sync (matches by email, writes everyone who
consents); (2) a daily sync after 2 % of the persons got an NPS answer far from their
health and were profiled again as of the next day; (3) ``run(full=True)``, the re-send of
every mapped value (what a sync without fingerprints would cost every day). API calls are
the HTTP requests in the sandbox's request log (logins included, Bulk job steps that the
sandbox runs by itself excluded) next to the engine's own ``report.api_calls``.

Targets: Salesforce with the default REST collections (200 records a call) and with
``batch_size=10000`` (each batch over 2,000 records goes as one Bulk API 2.0 job); HubSpot
under its real rate limit (100 requests per 10 s, Free/Starter) unless ``--fast`` lifts
it. Under that limit the first sync of 100,000 persons needs about 1,900 requests (a
batch read and a batch update per 100 persons), so it cannot take less than ~190 s.
Dataverse with the connector's defaults (UpdateMultiple of 500 records, matching by
filtered reads of 50 e-mails) under its real service protection limit; Zoho with the
defaults (PUT of 100 records, one search per 10 e-mails, one call in flight) as an
Enterprise org with 10 licences.

The "limit min s" column is the least wall time the CRM's documented limit allows for the
calls the run made, had each call taken no time: HubSpot 100 requests per rolling 10 s
(Free/Starter); Dataverse 6,000 requests per user per sliding 300 s, so each further
6,000 requests wait 300 s (a ``$batch`` counts as one; the 20-minute execution-time limit
is not modelled here); Zoho sets no request rate, so the assumption is its two documented
limits: credits per rolling 24 hours (Enterprise, 10 licences: 50,000 + 10 x 1,000 =
60,000; a search or a read costs 1, a write 1 per 10 records, so each further 60,000
credits wait 24 h) and 20 calls in flight per app (the floor is calls / 20 x the
benchmark's latency per answer). Salesforce has only a daily request budget ("-"). The
Zoho rows' note gives the credits the run spent (the sandbox's own count).

The default is the issue's 100,000 persons; on this 2-core machine the whole run takes
about 20 minutes (2026-11-23: first syncs 264 s Salesforce REST, 216 s Bulk, 201 s
HubSpot; daily 2 % syncs 9-10 s with 10-20 calls; re-sends 76-119 s; peak ~1 GB). Most of a first
Salesforce sync goes to the *sandbox*: its SOQL evaluator answers each ``Email IN (...)``
matching query by scanning every Contact (``OrgView.rows`` + ``Evaluator._select``, ~85 ms
a query at 100,000), where a real org uses its Email index. ``--persons 5000`` takes
about a minute. Not a timed test: compare the figures of one run, on one machine.

Figures of 2026-12-05 (``--persons 2000 --fast``, 1,899 written, latency 20 ms, 2 cores,
all four sandboxes in this process; calls per written person, wall time, limit minimum):

    target            first sync                daily 2 % (38)         full re-send
    salesforce REST   32 calls 0.017  4.5 s  -  3 calls  0.6 s  -     12 calls 0.006 3.7 s
    salesforce Bulk   30 calls 0.016  4.9 s  -  3 calls  0.6 s  -     12 calls 0.006 2.9 s
    hubspot           40 calls 0.021  7.4 s  0  2 calls  0.6 s  0     20 calls 0.011 4.1 s
    dataverse         49 calls 0.026  4.5 s  0  7 calls  0.7 s  0     10 calls 0.005 2.6 s
    zoho             212 calls 0.112 17.6 s 0.2 3 calls  0.5 s  0     21 calls 0.011 3.8 s

Zoho's first sync is matching: 190 searches (10 e-mails each, Zoho's limit of criteria),
382 credits; its re-send 192 credits. Dataverse's 7 calls on the daily sync are 6 reads
of table metadata (the run's schema check of contact and lead) and 1 UpdateMultiple.
At 100,000 persons (95,000 written) the same shapes give Dataverse ~2,100 calls for a
first sync (1,900 reads, 190 writes: under one 6,000-request window, no limit wait) and
Zoho ~10,500 calls and ~19,000 credits (9,500 searches, 950 writes: within a day's
60,000; the concurrency floor at 20 ms is ~10 s, one call in flight as the connector
defaults to takes 20 times that).

    python benchmarks/sync.py                      # 100,000 persons, HubSpot rate-limited
    python benchmarks/sync.py --persons 5000       # a quick look
    python benchmarks/sync.py --fast               # HubSpot without its rate limit
    python benchmarks/sync.py --workers 1,2,4      # throughput per worker count
                                                   # (benchmarks/sync_workers.py)
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _sync_world import (
    SeedMode,
    build_store,
    change_persons,
    dataverse_connector,
    seed_dataverse,
    seed_hubspot,
    seed_salesforce,
    seed_zoho,
    zoho_connector,
)

from relcrm.connectors import Connector
from relcrm.mapping import Mapping, load_shipped
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox._requestlog import RequestLog
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.hubspot import RateLimits, running_hubspot_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import OrgConfig, SalesforceSandbox, running_sandbox
from relcrm.sandbox.zoho.limits import DAY_S, LimitsConfig
from relcrm.sandbox.zoho.server import ZohoSandbox, running_zoho_sandbox
from relcrm.store import Store
from relcrm.sync.engine import SyncEngine, SyncReport
from relcrm.sync.fields import apply_fields
from relcrm.testing.hubspot import hubspot_connector
from relcrm.testing.salesforce import salesforce_connector

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NEXT_DAY = NOW + timedelta(days=1)
SF_BULK_BATCH = 10_000
HS_LIMIT, HS_WINDOW_S = 100, 10.0
DV_LIMIT, DV_WINDOW_S = 6000, 300.0
"""Dataverse's service protection limit: requests per user per sliding 5 minutes."""
ZOHO_LIMITS = LimitsConfig(edition="enterprise", licences=10)
"""The Zoho org the benchmark assumes: Enterprise with 10 licences, 60,000 credits per
rolling 24 hours and 20 calls in flight per app."""
CRMS = ("salesforce", "hubspot", "dataverse", "zoho")
DEFAULT_PERSONS = 100_000
"""Lowered from the issue's 100,000 to fit ~15 minutes on 2 cores (see the docstring)."""
FIRST, DAILY, RESEND = "first sync", "daily 2%", "full re-send"

Sandbox = SalesforceSandbox | HubSpotSandbox | DataverseSandbox | ZohoSandbox
LimitMinimum = Callable[[int, int], float]
"""(API calls, Zoho credits) -> the least wall time the CRM's documented limit allows."""


@dataclass
class Row:
    """One timed run."""

    target: str
    phase: str
    written: int
    calls: int
    engine_calls: int
    wall_s: float
    throttled: int = 0
    note: str = ""
    kinds: Counter[str] = field(default_factory=Counter)
    limit_min_s: float | None = None
    """The least wall time the CRM's documented rate limit allows for ``calls``."""


@dataclass
class Target:
    """One sync target: a name in the store, its connector, mapping and batch size."""

    label: str
    name: str
    sandbox: Sandbox
    connector: Connector
    mapping: Mapping
    batch_size: int | None = None
    rate_limited: bool = False
    limit_min: LimitMinimum | None = None
    credits: Callable[[], int] | None = None
    """Credits the CRM has booked so far (Zoho), to print each run's."""

    def engine(self, store: Store, now: datetime) -> SyncEngine:
        return SyncEngine(
            store,
            self.connector,
            self.mapping,
            target=self.name,
            batch_size=self.batch_size,
            now=lambda: now,
        )


def call_kinds(log: RequestLog) -> Counter[str]:
    """The requests the sandbox answered, by kind: ``match`` (SOQL queries, batch reads,
    Dataverse's filtered reads of contacts and leads, Zoho's searches and reads),
    ``write`` (collections, Bulk ingest job calls, batch updates, UpdateMultiple and
    ``$batch``, Zoho's PUTs), ``other`` (login, tokens, describe, schema, metadata). Bulk
    job steps the sandbox runs by itself are not calls."""
    kinds: Counter[str] = Counter()
    for call in log.calls():
        if call.method == "JOB":
            continue
        path = call.path.rstrip("/")
        if (
            path.endswith(("/query", "/batch/read", "/search", "/contacts", "/leads"))
            or "/query/" in call.path
            or (call.method == "GET" and path.endswith(("/Contacts", "/Leads")))
        ):
            kinds["match"] += 1
        elif (
            "/composite/sobjects" in path
            or "/jobs/ingest" in path
            or "/batch/update" in path
            or path.endswith(("Multiple", "/$batch"))
            or call.method == "PUT"
        ):
            kinds["write"] += 1
        else:
            kinds["other"] += 1
    return kinds


def minimum_time(requests: int) -> float:
    """Least wall time ``requests`` calls take under HubSpot's rolling window."""
    return max(math.ceil(requests / HS_LIMIT) - 1, 0) * HS_WINDOW_S


def hubspot_minimum(requests: int, _: int) -> float:
    return minimum_time(requests)


def dataverse_minimum(requests: int, _: int) -> float:
    """Least wall time under 6,000 requests per user per sliding 300 s: every further
    6,000 requests wait for a window to pass."""
    return max(math.ceil(requests / DV_LIMIT) - 1, 0) * DV_WINDOW_S


def zoho_minimum(latency_s: float) -> LimitMinimum:
    """Zoho sets no request rate: a run is bounded by its credits (each further day's
    worth waits 24 hours for the rolling window) and by the app's concurrency (at most 20
    calls in flight, each answered after ``latency_s`` at best)."""
    budget = ZOHO_LIMITS.credit_limit() or 0
    in_flight = ZOHO_LIMITS.concurrency_limit()

    def minimum(requests: int, credits: int) -> float:
        days = max(math.ceil(credits / budget) - 1, 0) if budget else 0
        return max(days * DAY_S, math.ceil(requests / in_flight) * latency_s)

    return minimum


def fresh_window(target: Target) -> None:
    """Start a rate-limited run as a run a day later would: with an empty window."""
    if target.rate_limited:
        time.sleep(HS_WINDOW_S + 0.2)


def timed_run(target: Target, store: Store, phase: str, now: datetime, *, full: bool) -> Row:
    fresh_window(target)
    target.sandbox.log.clear()
    credits_before = target.credits() if target.credits is not None else 0
    started = time.perf_counter()
    report = target.engine(store, now).run(full=full)
    wall = time.perf_counter() - started
    check(report)
    kinds = call_kinds(target.sandbox.log)
    calls = kinds.total()
    credits = target.credits() - credits_before if target.credits is not None else 0
    throttled = target.sandbox.log.statuses().get(429, 0)
    note = f"min {minimum_time(calls):.0f} s under the limit" if target.rate_limited else ""
    if target.credits is not None:
        note = f"{credits:,} credits"
    row = Row(target.label, phase, written(report), calls, report.api_calls, wall, throttled, note)
    row.kinds = kinds
    row.limit_min_s = target.limit_min(calls, credits) if target.limit_min else None
    counts = report.counts
    print(
        f"  {target.label:<24} {phase:<13} written {row.written:>7,}  calls {calls:>6,}  "
        f"{wall:7.1f} s  (unchanged {counts['unchanged']:,}, no consent "
        f"{counts['skipped_no_consent']:,}, unmatched {counts['unmatched']:,})",
        flush=True,
    )
    return row


def written(report: SyncReport) -> int:
    return report.counts["written"] + report.counts["cleared"]


def check(report: SyncReport) -> None:
    if report.status != "succeeded":
        raise SystemExit(f"{report.target}: run {report.status}: {report.to_json()}")


def computed_resend(target: Target, consenting: int) -> Row:
    """HubSpot's full re-send without running it: one batch update per 100 persons (the
    records are remembered, so no matching), at best one window per 100 requests."""
    calls = math.ceil(consenting / HS_LIMIT)
    wall = minimum_time(calls) if target.rate_limited else float("nan")
    row = Row(target.label, RESEND, consenting, calls, calls, wall, note="computed, not run")
    row.kinds["write"] = calls
    row.limit_min_s = minimum_time(calls)
    return row


def dry_run_cost(target: Target, store: Store, now: datetime) -> tuple[float, int]:
    """The engine's own work for one run without any CRM call (a dry run): seconds and
    persons considered."""
    started = time.perf_counter()
    report = target.engine(store, now).run(dry_run=True)
    return time.perf_counter() - started, report.counts["considered"]


def provision(make: Callable[[], Connector], mapping: Mapping) -> None:
    """Provision with a connector of its own, so the timed one starts with no history."""
    apply_fields(make(), mapping)


def peak_memory_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def print_table(rows: list[Row]) -> None:
    resend = {r.target: r.calls for r in rows if r.phase == RESEND}
    header = (
        f"{'target':<24} {'phase':<13} {'written':>8} {'API calls':>9} {'match':>6} "
        f"{'write':>6} {'other':>5} {'engine':>7} "
        f"{'wall s':>8} {'limit min s':>11} {'calls/written':>13} {'daily/resend':>12} "
        f"{'429s':>5}  note"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        k = r.kinds
        per = f"{r.calls / r.written:.4f}" if r.written else "-"
        ratio = (
            f"{r.calls / resend[r.target]:.3f}" if r.phase == DAILY and r.target in resend else ""
        )
        wall = f"{r.wall_s:8.1f}" if not math.isnan(r.wall_s) else f"{'-':>8}"
        least = f"{r.limit_min_s:11.1f}" if r.limit_min_s is not None else f"{'-':>11}"
        print(
            f"{r.target:<24} {r.phase:<13} {r.written:>8,} {r.calls:>9,} {k['match']:>6,} "
            f"{k['write']:>6,} {k['other']:>5,} {r.engine_calls:>7,} "
            f"{wall} {least} {per:>13} {ratio:>12} {r.throttled:>5}  {r.note}"
        )


def seeded(label: str, seed: Callable[[], int]) -> None:
    """Seed a CRM (not counted) and say how long it took."""
    started = time.perf_counter()
    count = seed()
    print(f"seeded (not counted): {count:,} {label} in {time.perf_counter() - started:.1f} s")


def start_targets(
    stack: contextlib.ExitStack[bool | None], args: argparse.Namespace, url: str
) -> list[Target]:
    """Start the sandboxes ``--crms`` names (each closed with ``stack``), seed them with
    a record per person, provision the shipped mappings' fields, slow every answer by
    ``--latency-ms``, and give each its timed target(s)."""
    crms = {c.strip() for c in args.crms.split(",")}
    latency = FaultPlan(latency_ms=args.latency_ms)
    targets: list[Target] = []
    mode: SeedMode = args.seed_via
    if "salesforce" in crms:
        config = OrgConfig(api_daily_limit=50 * args.persons + 10_000)
        sf = stack.enter_context(running_sandbox(config=config))
        seeded(f"Salesforce contacts ({mode})", lambda: seed_salesforce(sf, url, mode))
        sf_mapping = load_shipped("salesforce-contact")
        provision(lambda: salesforce_connector(sf), sf_mapping)
        sf.set_faults(latency)
        targets.append(
            Target(
                "salesforce REST (200)", "salesforce-rest", sf, salesforce_connector(sf), sf_mapping
            )
        )
        targets.append(
            Target(
                f"salesforce Bulk ({SF_BULK_BATCH // 1000}k)",
                "salesforce-bulk",
                sf,
                salesforce_connector(sf, bulk_poll_s=args.bulk_poll_s),
                sf_mapping,
                batch_size=SF_BULK_BATCH,
            )
        )
    if "hubspot" in crms:
        lifted = RateLimits(max_per_window=10**9, daily=10**9)
        hs = stack.enter_context(running_hubspot_sandbox(rate_limit=lifted))
        seeded(f"HubSpot contacts ({mode})", lambda: seed_hubspot(hs, url, mode))
        hs_mapping = load_shipped("hubspot-contact")
        provision(lambda: hubspot_connector(hs), hs_mapping)
        hs.set_faults(latency)
        if not args.fast:
            hs.set_rate_limits(
                RateLimits(max_per_window=HS_LIMIT, window_ms=int(HS_WINDOW_S * 1000))
            )
        targets.append(
            Target(
                "hubspot (100)",
                "hubspot",
                hs,
                hubspot_connector(hs),
                hs_mapping,
                rate_limited=not args.fast,
                limit_min=hubspot_minimum,
            )
        )
    if "dataverse" in crms:
        dv = stack.enter_context(running_dataverse_sandbox())  # 6,000 requests / 300 s
        seeded("Dataverse contacts (inproc)", lambda: seed_dataverse(dv, url))
        dv_mapping = load_shipped("dataverse-contact")
        provision(lambda: dataverse_connector(dv), dv_mapping)
        dv.set_faults(latency)
        dv.set_limits(dv.default_limits)  # provisioning's requests forgotten
        targets.append(
            Target(
                "dataverse (500)",
                "dataverse",
                dv,
                dataverse_connector(dv),
                dv_mapping,
                limit_min=dataverse_minimum,
            )
        )
    if "zoho" in crms:
        zoho = stack.enter_context(running_zoho_sandbox(limits=ZOHO_LIMITS))
        seeded("Zoho contacts (inproc)", lambda: seed_zoho(zoho, url))
        zoho_mapping = load_shipped("zoho-contact")
        provision(lambda: zoho_connector(zoho), zoho_mapping)
        zoho.set_faults(latency)
        zoho.set_limits(ZOHO_LIMITS)  # provisioning's credits forgotten
        targets.append(
            Target(
                "zoho (100)",
                "zoho",
                zoho,
                zoho_connector(zoho),
                zoho_mapping,
                limit_min=zoho_minimum(args.latency_ms / 1000),
                credits=zoho.limits.used,
            )
        )
    return targets


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if any(a == "--workers" or a.startswith("--workers=") for a in arguments):
        import sync_workers  # several workers on one target: its own world and table

        return sync_workers.main(arguments)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
    parser.add_argument("--per-person", type=int, default=4, help="perceptions per person")
    parser.add_argument("--changed", type=float, default=0.02, help="share changed by day 2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=20, help="added to every answer")
    parser.add_argument(
        "--fast", action="store_true", help="lift HubSpot's rate limit (default: 100/10 s)"
    )
    parser.add_argument(
        "--hubspot-resend",
        choices=("run", "computed"),
        default="run",
        help="run HubSpot's full re-send, or compute its calls from the batch size",
    )
    parser.add_argument(
        "--seed-via",
        choices=("inproc", "http"),
        default="inproc",
        help="Salesforce and HubSpot (Dataverse and Zoho are seeded in process)",
    )
    parser.add_argument(
        "--crms", default=",".join(CRMS), help=f"the CRMs to run (default: {','.join(CRMS)})"
    )
    parser.add_argument("--bulk-poll-s", type=float, default=0.5, help="Bulk job poll interval")
    args = parser.parse_args(argv)
    seed_mode: SeedMode = args.seed_via
    limit = "none (--fast)" if args.fast else f"{HS_LIMIT} requests per {HS_WINDOW_S:.0f} s"

    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; the sandboxes "
        "run in this process (their request handling shares the GIL with the engine)"
    )
    if args.persons != 100_000:
        print(
            f"note: {args.persons:,} persons; the issue's size, 100,000, is the default "
            "(about 20 minutes here)"
        )
    print(
        f"options: persons {args.persons:,}, {args.per_person} perceptions each, changed "
        f"{args.changed:.0%}, latency {args.latency_ms} ms per answer, HubSpot rate limit "
        f"{limit}, HubSpot full re-send {args.hubspot_resend}, seeding {seed_mode}, "
        f"Salesforce Bulk batch {SF_BULK_BATCH:,} (poll {args.bulk_poll_s} s)",
        flush=True,
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="relcrm-sync-bench-") as scratch:
        world = build_store(Path(scratch), args.persons, args.per_person, args.seed, NOW)
        print(
            f"store: {world.persons:,} persons ({world.consenting:,} consenting with an "
            f"email), {world.perceptions:,} perceptions; built {world.build_s:.1f} s, "
            f"ingested {world.ingest_s:.1f} s, profiled {world.profile_s:.1f} s (not counted)",
            flush=True,
        )
        with contextlib.ExitStack() as stack:
            store = stack.enter_context(Store.open(world.url))
            targets = start_targets(stack, args, world.url)
            if not targets:
                raise SystemExit("no target: --crms names none of " + ", ".join(CRMS))
            print("runs:", flush=True)
            for target in targets:
                rows.append(timed_run(target, store, FIRST, NOW, full=False))

            changes = change_persons(
                world.url, args.changed, args.seed, NOW + timedelta(hours=20), NEXT_DAY
            )
            print(
                f"day 2: {len(changes.changed):,} persons got an NPS answer and were profiled "
                f"again ({changes.health_moved:,} health moved, {changes.segment_moved:,} "
                f"segment moved) in {changes.seconds:.1f} s (not counted)",
                flush=True,
            )
            dry_s, considered = dry_run_cost(targets[0], store, NEXT_DAY)
            for target in targets:
                rows.append(timed_run(target, store, DAILY, NEXT_DAY, full=False))
            for target in targets:
                if target.rate_limited and args.hubspot_resend == "computed":
                    rows.append(computed_resend(target, world.consenting))
                else:
                    rows.append(timed_run(target, store, RESEND, NEXT_DAY, full=True))

    print()
    print_table(rows)
    print()
    print(
        "written: persons whose fields were written; API calls: HTTP requests in the "
        "sandbox log (match: SOQL queries, batch reads, Dataverse's filtered reads, Zoho's "
        "searches; write: collections, Bulk job calls, batch updates, UpdateMultiple or "
        "$batch, Zoho's PUTs; other: login, tokens, describe, schema, metadata); engine: "
        "report.api_calls; limit min s: the least wall time the CRM's documented limit "
        "allows for those calls (HubSpot 100 requests / 10 s, Dataverse 6,000 / 300 s per "
        "user, Zoho credits per 24 h and 20 calls in flight; Salesforce: a daily budget "
        "only); daily/resend: the daily sync's calls over the full re-send's calls"
    )
    print(
        f"engine without the CRM (dry run of the daily sync, {targets[0].label} mapping): "
        f"{dry_s:.1f} s for {considered:,} persons = {dry_s / max(considered, 1) * 1e6:.0f} "
        "us per person (reading persons and profiles, fingerprints, decisions)"
    )
    print(f"peak memory: {peak_memory_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
