"""The world of ``benchmarks/sync.py``: a large store of profiled persons, four CRMs that
already hold a record per person, and the day's changes. Nothing here is timed as sync.

- data: :func:`relcrm.testing.synthetic.generate_bulk_lines` (95 % of persons consent,
  every person has one email) -> ``ingest_interchange`` -> ``profile_all``;
- seeding: straight into the sandboxes' in-process state (``Org`` views, ``Portal``
  batches; no HTTP, no request log, no rate limit), or over HTTP as another app would
  (sObject Collections 200 a call; HubSpot batch create 100 a call with the limit lifted);
  Dataverse and Zoho are seeded in process only (their sandboxes' own seeders: a contact
  per person, no request log, no limit spent);
- connectors for Dataverse and Zoho built as a deployment builds them (settings with the
  sandbox's CA, relcrm's default retry policy: real waits);
- the day's changes: an NPS answer far from each chosen person's health, then those
  persons (only) profiled again as of the next day.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from relcrm.connectors.dataverse import DataverseConnector, DataverseSettings
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.models import (
    Channel,
    NpsScore,
    Perception,
    Person,
    Provenance,
    RelationshipProfile,
)
from relcrm.profile import build_profile
from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox.dataverse.seeding import seed_persons as seed_dataverse_persons
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.zoho.seed import seed_persons as seed_zoho_persons
from relcrm.sandbox.zoho.server import ZohoSandbox
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_all
from relcrm.testing.salesforce import OrgRest
from relcrm.testing.synthetic import generate_bulk_lines

SeedMode = Literal["inproc", "http"]
SF_SEED_CHUNK = 200
"""Records per sObject Collections call (the API's maximum)."""
HS_SEED_BATCH = 100
"""Inputs per HubSpot batch create (the API's maximum)."""


@dataclass
class BuiltStore:
    """What building the store took, and what it holds."""

    url: str
    persons: int
    perceptions: int
    consenting: int
    build_s: float
    ingest_s: float
    profile_s: float


def build_store(
    folder: Path,
    persons: int,
    per_person: int,
    seed: int,
    now: datetime,
    url: str | None = None,
) -> BuiltStore:
    """Write the bulk file, ingest it into ``url`` (by default ``folder/relcrm.db``) and
    profile everyone."""
    data = folder / "bulk.jsonl"
    started = time.perf_counter()
    with data.open("w", encoding="utf-8", newline="\n") as out:
        for line in generate_bulk_lines(
            persons=persons, perceptions_per_person=per_person, seed=seed, now=now
        ):
            out.write(line)
    build_s = time.perf_counter() - started
    url = url or f"sqlite:///{folder / 'relcrm.db'}"
    with Store.open(url) as store:
        started = time.perf_counter()
        report = ingest_interchange(data, store)
        ingest_s = time.perf_counter() - started
        if not report.ok:
            raise RuntimeError(f"ingest rejected records: {report.rejections[:3]}")
    data.unlink()
    started = time.perf_counter()
    profile_all(url, now)
    profile_s = time.perf_counter() - started
    consenting = sum(1 for p in iter_persons(url) if p.consent.granted and p.emails)
    return BuiltStore(
        url, report.persons, report.perceptions_new, consenting, build_s, ingest_s, profile_s
    )


def iter_persons(url: str) -> Iterator[Person]:
    """Every stored person, by id (a page at a time)."""
    with Store.open(url) as store:
        yield from store.iter_persons()


def _names(person: Person) -> tuple[str, str]:
    first, _, last = (person.display_name or "").strip().partition(" ")
    return ("", first or person.id) if not last else (first, last)


def contact_record(person: Person) -> dict[str, Any]:
    """The Contact an org already holds for ``person``: names and first email."""
    first, last = _names(person)
    record: dict[str, Any] = {"LastName": last[:80], "Email": person.emails[0]}
    if first:
        record["FirstName"] = first[:40]
    return record


def contact_properties(person: Person) -> dict[str, str]:
    """The HubSpot contact a portal already holds for ``person``: names and first email."""
    first, last = _names(person)
    properties = {"email": person.emails[0], "lastname": last}
    if first:
        properties["firstname"] = first
    return properties


def _chunks(persons: Iterator[Person], size: int) -> Iterator[list[Person]]:
    while chunk := list(islice(persons, size)):
        yield chunk


def seed_salesforce(sandbox: SalesforceSandbox, url: str, mode: SeedMode) -> int:
    """A Contact per person with an email (names, first email), as the org already holds
    them; how many were created. ``inproc`` writes through the org's own validated
    ``create`` (what a REST create runs, minus HTTP); ``http`` uses sObject Collections."""
    created = 0
    if mode == "http":
        rest = OrgRest(sandbox)
        for chunk in _chunks(iter_persons(url), SF_SEED_CHUNK * 10):
            records = [contact_record(p) for p in chunk if p.emails]
            created += rest.create("Contact", records)
        return created
    view = sandbox.org.view()
    for person in iter_persons(url):
        if person.emails:
            view.create("Contact", contact_record(person))
            created += 1
    return created


def _ignore(_: RecordWrite) -> None:
    return None


def seed_hubspot(sandbox: HubSpotSandbox, url: str, mode: SeedMode) -> int:
    """A contact per person with an email; how many were created. ``inproc`` calls the
    portal's own batch create (100 a batch, as the API); ``http`` goes through the
    official client with the sandbox's rate limit lifted, then restores it."""
    if mode == "http":
        limits = sandbox.limiter.limits
        sandbox.set_rate_limits(RateLimits(max_per_window=10**9, daily=10**9))
        try:
            sdk = hs_client_for(sandbox)
            created = 0
            for chunk in _chunks(iter_persons(url), HS_SEED_BATCH):
                inputs = [
                    {"properties": contact_properties(p), "associations": []}
                    for p in chunk
                    if p.emails
                ]
                answer = sdk.crm.contacts.batch_api.create({"inputs": inputs})
                created += len(answer.results or [])
            return created
        finally:
            sandbox.set_rate_limits(limits)
    created = 0
    for chunk in _chunks(iter_persons(url), HS_SEED_BATCH):
        inputs = [
            {"properties": contact_properties(p), "associations": []} for p in chunk if p.emails
        ]
        if inputs:
            outcome = sandbox.portal.batch_create("contacts", {"inputs": inputs}, _ignore)
            created += len(outcome.results)
    return created


def seed_dataverse(sandbox: DataverseSandbox, url: str) -> int:
    """A contact per person with an email, through the environment's own validated create
    (what a Web API create runs, minus HTTP); how many were created."""
    return sum(seed_dataverse_persons(sandbox.org, iter_persons(url)).values())


def seed_zoho(sandbox: ZohoSandbox, url: str) -> int:
    """A Contact per person with an email, through the org's own insert (no HTTP, no
    credits); how many were created."""
    return sum(seed_zoho_persons(sandbox.org, iter_persons(url)).values())


def dataverse_connector(sandbox: DataverseSandbox) -> DataverseConnector:
    """The connector as a targets file builds it: the app registration's client
    credentials, the sandbox's CA, the default batch size (500) and retry policy."""
    settings = DataverseSettings(
        _env_file=None,
        environment_url=sandbox.environment_url,
        authority_url=sandbox.authority_url,
        tenant_id=sandbox.tenant_id,
        client_id=sandbox.client_id,
        client_secret=SecretStr(sandbox.client_secret),
        ca_file=sandbox.ca_file,
    )
    return DataverseConnector(settings)


def zoho_connector(sandbox: ZohoSandbox) -> ZohoConnector:
    """The connector as a targets file builds it: the OAuth client and refresh token, the
    sandbox's CA, the edition's concurrency, the default retry policy."""
    settings = ZohoSettings(
        _env_file=None,
        accounts_url=sandbox.accounts_url,
        client_id=SecretStr(sandbox.client_id),
        client_secret=SecretStr(sandbox.client_secret),
        refresh_token=SecretStr(sandbox.refresh_token),
        ca_file=sandbox.ca_file,
    )
    return ZohoConnector(settings)


@dataclass
class DayChanges:
    """The day's changes: who got a new answer, and how many profiles moved."""

    changed: list[str]
    health_moved: int
    segment_moved: int
    seconds: float


def change_persons(
    url: str, share: float, seed: int, answered_at: datetime, day: datetime
) -> DayChanges:
    """Give ``share`` of the persons (chosen at random, consent or not) an NPS answer far
    from their health (0 if healthy, else 10), then profile those persons again as of
    ``day``; the other profiles are left as they were (an incremental profiler)."""
    started = time.perf_counter()
    with Store.open(url) as store:
        ids = [p.id for p in store.iter_persons()]
        picked = sorted(random.Random(seed).sample(range(len(ids)), round(len(ids) * share)))
        before = {ids[i]: store.get_profile(ids[i]) for i in picked}
        answers = [
            Perception(
                person_id=ids[i],
                occurred_at=answered_at,
                channel=Channel.SURVEY,
                nps=NpsScore(value=_far_answer(before[ids[i]])),
                provenance=Provenance(source_system="bench", source_record_id=f"daily-{ids[i]}"),
            )
            for i in picked
        ]
        store.add_perceptions(answers)
        fresh = []
        for i in picked:
            after = ids[i - 1] if i else None
            for person, said in store.iter_person_perceptions(1, after=after, until=ids[i]):
                fresh.append(build_profile(person, said, day))
        store.save_profiles(fresh)
    health = sum(1 for p in fresh if (old := before[p.person_id]) is None or old.health != p.health)
    segment = sum(
        1 for p in fresh if (old := before[p.person_id]) is None or old.segment != p.segment
    )
    return DayChanges([ids[i] for i in picked], health, segment, time.perf_counter() - started)


def _far_answer(profile: RelationshipProfile | None) -> int:
    return 0 if profile is None or profile.health > 50 else 10
