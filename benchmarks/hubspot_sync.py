"""Benchmark: 10,000 persons matched and written into the HubSpot sandbox through the
connector, with the sandbox limited to 100 requests per 10 s, against a plain
per-contact ``basic_api.update`` loop.

It prints the connector's requests, 429s and wall time, the theoretical minimum time for
that many requests under the limit, and the ratio; then the requests per person of the
plain loop (timed on a sample, since 10,000 single updates need ~1,000 s at this limit).

Run: ``python benchmarks/hubspot_sync.py [--persons N] [--sample N] [--workers N]``
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
)
from hubspot.crm.contacts.exceptions import ApiException

from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
from relcrm.models import FieldSpec, FieldType, FieldWrite, WriteOutcome
from relcrm.sandbox.hubspot import RateLimits, running_hubspot_sandbox
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox

LIMIT, WINDOW_S = 100, 10.0
SPECS = [
    FieldSpec(name="relcrm_health", label="Health", type=FieldType.NUMBER),
    FieldSpec(
        name="relcrm_band",
        label="Band",
        type=FieldType.PICKLIST,
        picklist_values=("Thriving", "Stable", "At risk"),
    ),
    FieldSpec(name="relcrm_as_of", label="As of", type=FieldType.DATETIME),
]


def minimum_time(requests: int, limit: int = LIMIT, window_s: float = WINDOW_S) -> float:
    """The least wall time ``requests`` calls can take under ``limit`` per rolling window:
    the first ``limit`` go at once, every further ``limit`` one window later."""
    return max(math.ceil(requests / limit) - 1, 0) * window_s


def seed(sandbox: HubSpotSandbox, persons: int) -> list[str]:
    """Pre-create the contacts with batch create (limits lifted while seeding)."""
    client = hs_client_for(sandbox)
    emails = [f"person{i:05d}@example.com" for i in range(persons)]
    for start in range(0, persons, 100):
        client.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(properties={"email": e}, associations=[])
                    for e in emails[start : start + 100]
                ]
            )
        )
    return emails


def plain_loop(sandbox: HubSpotSandbox, record_ids: list[str]) -> tuple[int, int, float]:
    """The naive way: one ``basic_api.update`` per contact, sleeping 1 s after a 429."""
    client: Any = hs_client_for(sandbox)
    requests = throttled = 0
    started = time.monotonic()
    for i, record_id in enumerate(record_ids):
        body = SimplePublicObjectInput(properties={"relcrm_health": str(i % 100)})
        while True:
            requests += 1
            try:
                client.crm.contacts.basic_api.update(record_id, body)
                break
            except ApiException as exc:
                if exc.status != 429:
                    raise
                throttled += 1
                time.sleep(1.0)
    return requests, throttled, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="persons for the plain loop")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    with running_hubspot_sandbox(rate_limit=RateLimits(max_per_window=10**9)) as sandbox:
        emails = seed(sandbox, args.persons)
        settings = HubSpotSettings(
            access_token=sandbox.token, base_url=sandbox.base_url, ca_file=sandbox.ca_file
        )
        HubSpotConnector(settings).provision("contacts", SPECS)

        sandbox.set_rate_limits(RateLimits(max_per_window=LIMIT, window_ms=int(WINDOW_S * 1000)))
        sandbox.log.clear()
        connector = HubSpotConnector(settings, workers=args.workers)
        started = time.monotonic()
        report = connector.match({f"p{i:05d}": [e] for i, e in enumerate(emails)})
        writes = [
            FieldWrite(
                person_id=person,
                record=ref,
                values={
                    "relcrm_health": i % 101,
                    "relcrm_band": ("Thriving", "Stable", "At risk")[i % 3],
                    "relcrm_as_of": "2024-05-01T10:40:00Z",
                },
            )
            for i, (person, ref) in enumerate(sorted(report.matched.items()))
        ]
        results = connector.write("contacts", writes)
        wall = time.monotonic() - started
        statuses = sandbox.log.statuses()
        requests = len(sandbox.log)
        written = sum(r.outcome is WriteOutcome.WRITTEN for r in results)
        floor = minimum_time(requests)

        print(f"HubSpot sandbox, limit {LIMIT} requests per {WINDOW_S:.0f} s")
        print(
            f"connector: {args.persons} persons, {len(report.matched)} matched, {written} written"
        )
        print(f"  requests            {requests} (schema 1, batch/read + batch/update rest)")
        print(f"  429s                {statuses.get(429, 0)}")
        print(f"  wall time           {wall:.1f} s")
        print(f"  theoretical minimum {floor:.1f} s for {requests} requests under the limit")
        print(f"  ratio               {wall / floor:.3f}" if floor else "  ratio n/a")
        print(f"  requests per person {requests / args.persons:.4f}")

        sample = [ref.id for _, ref in sorted(report.matched.items())][: args.sample]
        sandbox.limiter.reset()
        time.sleep(WINDOW_S)  # start the loop with a fresh window, as the connector did
        loop_requests, loop_429, loop_wall = plain_loop(sandbox, sample)
        per_person = loop_requests / len(sample)
        print(f"plain basic_api.update loop (SAMPLE of {len(sample)} persons, not all):")
        print(f"  requests            {loop_requests} ({per_person:.2f} per person)")
        print(f"  429s                {loop_429}")
        print(f"  wall time           {loop_wall:.1f} s for the sample")
        print(
            f"  extrapolated        {args.persons} persons -> "
            f"{args.persons * per_person:.0f} requests, "
            f"at least {minimum_time(args.persons):.0f} s under the limit"
        )


if __name__ == "__main__":
    main()
