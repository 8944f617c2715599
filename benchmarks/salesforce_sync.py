"""Benchmark: write 10,000 persons' profiles into the Salesforce sandbox at 20 ms latency.

Compares, in one run and on one org, the connector's two write paths with what an
integration written by hand usually does:

- connector, REST: ``composite/sobjects`` updates, 200 records a call;
- connector, Bulk API 2.0: one ingest job (create, upload, complete, poll, results);
- plain loop: ``sf.Contact.update(id, {...})`` with simple-salesforce, one call a record.

Every path writes the same field set (shipped ``salesforce-contact`` mapping) with values from
real profiles. The plain loop is timed on ``--plain`` records (1,000 by default, about
25 s at 20 ms) and extrapolated to ``--persons``, labelled as such; ``--plain 10000``
times it in full. Matching by email is timed apart: the plain loop is given the Ids.
Not a timed test: compare the figures of one run, on one machine.

    python benchmarks/salesforce_sync.py                    # 10,000 persons, 20 ms
    python benchmarks/salesforce_sync.py --plain 10000      # the plain loop in full (~4 min)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simple_salesforce.api import Salesforce

from relcrm.connectors.salesforce import SalesforceConnector
from relcrm.demo import run_demo
from relcrm.mapping import load_shipped, values_for
from relcrm.models import FieldWrite, WriteOutcome
from relcrm.sandbox.salesforce import (
    OrgConfig,
    SalesforceSandbox,
    loopback_session,
    running_sandbox,
)
from relcrm.testing.salesforce import salesforce_connector

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def plain_client(sandbox: SalesforceSandbox) -> Any:
    """simple-salesforce as a hand-written integration would use it (session id login)."""
    return Salesforce(
        instance_url=sandbox.instance_url,
        session_id=sandbox.session_id,
        session=loopback_session(sandbox.instance_url, sandbox.ca_file),
        version=sandbox.api_version,
    )


def seed_contacts(sf: Any, count: int) -> tuple[list[str], list[str]]:
    """``count`` contacts, 200 a call; their ids and emails, in order."""
    ids: list[str] = []
    emails = [f"bench{i:05d}@example.com" for i in range(count)]
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Contact"}, "LastName": f"Bench {i}", "Email": emails[i]}
            for i in range(start, min(start + 200, count))
        ]
        answer = sf.restful("composite/sobjects", method="POST", json={"records": records})
        ids.extend(r["id"] for r in answer)
    return ids, emails


def sample_values(count: int) -> list[dict[str, Any]]:
    """Field values of ``count`` persons, cycling through the demo sample's real profiles."""
    with tempfile.TemporaryDirectory() as scratch:
        profiles = run_demo(
            Path(scratch), persons=60, seed=7, now=NOW, salesforce=False, hubspot=False
        ).profiles
    mapping = load_shipped("salesforce-contact")
    pool = [values_for(p, mapping).values for p in profiles]
    return [pool[i % len(pool)] for i in range(count)]


def timed_write(
    sandbox: SalesforceSandbox, connector: SalesforceConnector, writes: list[FieldWrite]
) -> tuple[float, int, Counter[WriteOutcome]]:
    """(seconds, API calls, outcomes) of one connector write."""
    sandbox.log.clear()
    start = time.perf_counter()
    results = connector.write("Contact", writes)
    seconds = time.perf_counter() - start
    return seconds, len(sandbox.log), Counter(r.outcome for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument(
        "--plain", type=int, default=1_000, help="records to time the plain loop on"
    )
    parser.add_argument(
        "--bulk-poll-s", type=float, default=0.5, help="Bulk job status poll interval"
    )
    args = parser.parse_args(argv)
    persons: int = args.persons
    plain_n = min(args.plain, persons)

    print(f"{persons:,} persons, sandbox latency {args.latency_ms} ms per call", flush=True)
    values = sample_values(persons)
    config = OrgConfig(api_daily_limit=10 * persons + 10_000)
    with running_sandbox(latency_ms=args.latency_ms, config=config) as sandbox:
        sf = plain_client(sandbox)
        start = time.perf_counter()
        ids, emails = seed_contacts(sf, persons)
        print(f"seeded {len(ids):,} contacts in {time.perf_counter() - start:.1f} s (not counted)")

        rest = salesforce_connector(sandbox, bulk_threshold=persons + 1)  # collections only
        rest.provision("Contact", load_shipped("salesforce-contact").field_specs())
        bulk = salesforce_connector(
            sandbox, bulk_threshold=1, bulk_poll_s=args.bulk_poll_s
        )  # Bulk only

        sandbox.log.clear()
        start = time.perf_counter()
        match = rest.match({f"b{i:05d}": [e] for i, e in enumerate(emails)})
        match_s, match_calls = time.perf_counter() - start, len(sandbox.log)
        assert len(match.matched) == persons, "every seeded contact should be matched"
        writes = [
            FieldWrite(person_id=person_id, record=record, values=values[i])
            for i, (person_id, record) in enumerate(sorted(match.matched.items()))
        ]

        rows: list[tuple[str, float, int, str]] = []
        rest_s, rest_calls, rest_out = timed_write(sandbox, rest, writes)
        rows.append(("connector, REST (collections of 200)", rest_s, rest_calls, "measured"))
        bulk_s, bulk_calls, bulk_out = timed_write(sandbox, bulk, writes)
        rows.append(("connector, Bulk API 2.0", bulk_s, bulk_calls, "measured"))
        for label, outcomes in (("REST", rest_out), ("Bulk", bulk_out)):
            assert outcomes == {WriteOutcome.WRITTEN: persons}, (label, outcomes)

        sandbox.log.clear()
        start = time.perf_counter()
        for record_id, person_values in zip(ids[:plain_n], values, strict=False):
            sf.Contact.update(record_id, person_values)
        plain_measured = time.perf_counter() - start
        plain_calls = len(sandbox.log)
        scale = persons / plain_n
        plain_s = plain_measured * scale
        how = (
            "measured"
            if plain_n == persons
            else f"extrapolated from {plain_n:,} records ({plain_measured:.1f} s)"
        )
        rows.append(("plain sf.Contact.update loop", plain_s, round(plain_calls * scale), how))
        check = sf.Contact.get(ids[0])
        assert check["relcrm_Segment__c"] == values[0]["relcrm_Segment__c"]

    print(
        f"matching by email (connector, batched SOQL IN): {match_calls} calls, "
        f"{match_s:.2f} s (not included below; the plain loop was given the Ids)\n"
    )
    width = max(len(r[0]) for r in rows)
    header = ("wall s", "calls", "calls/person", "plain / this")
    print(f"{'path':<{width}}  {header[0]:>8}  {header[1]:>6}  {header[2]:>12}  {header[3]:>12}")
    for label, seconds, calls, how in rows:
        print(
            f"{label:<{width}}  {seconds:8.1f}  {calls:6,}  {calls / persons:12.4f}  "
            f"{plain_s / seconds:11.1f}x  {how}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
