"""A small world for the fault matrix: a few dozen persons ingested and profiled into a
store, the same persons already in the CRM (Contacts and Leads in Salesforce, contacts in
HubSpot), relcrm's fields provisioned, and a connector built as a deployment builds it
(settings, the official client, relcrm's policy) except that its waits are recorded, not
slept. Then faults are switched on, the real sync engine runs, and the sandbox's request
log and the store say, per person, what happened.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from relcrm.connectors import Connector
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings, RateLimiter
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings
from relcrm.mapping import Mapping, load_shipped
from relcrm.models import Person
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.engine import SyncEngine, SyncReport
from relcrm.sync.fields import apply_fields
from relcrm.testing.hubspot import seed_portal
from relcrm.testing.salesforce import OrgRest, seed_org
from relcrm.testing.synthetic import generate_sample

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
PERSONS = 40
TARGET = "faults"
WRITE_PATHS = {"salesforce": "/composite/sobjects", "hubspot": "/batch/update"}
"""The path of each connector's write call (the fault plans' ``paths``)."""

Sandbox = SalesforceSandbox | HubSpotSandbox


class Waits:
    """The policy's sleep and clock: waits are recorded and advance the clock, instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds


def sample_store(folder: Path) -> tuple[Path, list[Person]]:
    """The sample ingested and profiled once; each world copies the store file."""
    sample = generate_sample(persons=PERSONS, seed=23, now=NOW)
    path = folder / "sample.jsonl"
    write_interchange(sample.records(), path)
    database = folder / "template.db"
    with Store.open(f"sqlite:///{database}") as store:
        ingest_interchange(path, store)
        list(profile_store(store, NOW))
    return database, list(sample.persons)


def policy_for(waits: Waits, *, budget_s: float = 60.0, attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(
        attempts=attempts,
        record_attempts=3,
        budget=RetryBudget(budget_s),
        sleep=waits.sleep,
        clock=waits,
    )


def salesforce_connector(
    sandbox: SalesforceSandbox, policy: RetryPolicy, *, timeout_s: float = 30.0
) -> SalesforceConnector:
    settings = SalesforceSettings(
        _env_file=None,
        auth_flow=AuthFlow.PASSWORD,
        username=sandbox.username,
        password=SecretStr(sandbox.password),
        security_token=SecretStr(sandbox.security_token),
        api_version=sandbox.api_version,
        timeout_s=timeout_s,
    )
    session = loopback_session(sandbox.instance_url, sandbox.ca_file)
    return SalesforceConnector(settings, session=session, policy=policy)


def hubspot_connector(
    sandbox: HubSpotSandbox,
    policy: RetryPolicy,
    *,
    timeout_s: float = 30.0,
    limiter: RateLimiter | None = None,
) -> HubSpotConnector:
    settings = HubSpotSettings(
        _env_file=None,
        access_token=SecretStr(sandbox.token),
        base_url=sandbox.base_url,
        ca_file=sandbox.ca_file,
        timeout_s=timeout_s,
    )
    return HubSpotConnector(settings, policy=policy, limiter=limiter)


@dataclass
class Outcome:
    """Per person, what the CRM and the store say after the runs of a scenario."""

    expected: int
    once: int
    twice: int
    lost: list[str]
    dead: int
    codes: Counter[str]
    twice_records: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "once": self.once,
            "twice": self.twice,
            "lost": len(self.lost),
            "dead-lettered": self.dead,
            "reasons": dict(self.codes),
        }


@dataclass
class World:
    crm: str
    sandbox: Sandbox
    store: Store
    connector: Connector
    mapping: Mapping
    persons: list[Person]
    waits: Waits

    def engine(self, **options: Any) -> SyncEngine:
        return SyncEngine(
            self.store, self.connector, self.mapping, target=TARGET, now=lambda: NOW, **options
        )

    def run(self, **options: Any) -> SyncReport:
        batch_size = options.pop("batch_size", None)
        return self.engine(batch_size=batch_size).run(**options)

    @property
    def write_path(self) -> str:
        return WRITE_PATHS[self.crm]

    @property
    def expected(self) -> list[Person]:
        """The persons every scenario must write: consenting, with an email the CRM has."""
        return [p for p in self.persons if p.consent.granted and p.emails]

    def writes(self) -> Counter[str]:
        """Record id -> successful writes of it (every run of the scenario so far)."""
        return Counter(
            w.id or "" for w in self.sandbox.log.writes() if w.operation in ("update", "upsert")
        )

    def outcome(self) -> Outcome:
        ids = [p.id for p in self.expected]
        records = self.store.known_records(TARGET, ids)
        writes = self.writes()
        letters = {letter.person_id: letter for letter in self.store.open_dead_letters(TARGET)}
        counts = {p: writes[records[p].record_id] if p in records else 0 for p in ids}
        lost = [p for p, n in counts.items() if n == 0 and p not in letters]
        return Outcome(
            expected=len(ids),
            once=sum(1 for n in counts.values() if n == 1),
            twice=sum(1 for n in counts.values() if n >= 2),
            lost=lost,
            dead=len(letters),
            codes=Counter(letter.error_code for letter in letters.values()),
            twice_records=[p for p, n in counts.items() if n >= 2],
        )


def build_world(
    crm: str,
    sandbox: Sandbox,
    template: Path,
    persons: list[Person],
    folder: Path,
    *,
    connector: Connector | None = None,
    waits: Waits | None = None,
) -> World:
    """A fresh CRM (reset, seeded, fields provisioned) and a copy of the sample's store."""
    database = folder / "relcrm.db"
    shutil.copy(template, database)
    store = Store.open(f"sqlite:///{database}")
    waits = waits or Waits()
    if isinstance(sandbox, SalesforceSandbox):
        sandbox.reset()
        seed_org(OrgRest(sandbox), persons)
        connector = connector or salesforce_connector(sandbox, policy_for(waits))
        mapping = load_shipped("salesforce-contact")
        apply_fields(connector, mapping)  # and on the Lead fallback
    else:
        sandbox.reset()
        seed_portal(hubspot_connector(sandbox, policy_for(waits)).client.sdk, persons)
        connector = connector or hubspot_connector(sandbox, policy_for(waits))
        mapping = load_shipped("hubspot-contact")
        apply_fields(connector, mapping)
    sandbox.log.clear()
    return World(crm, sandbox, store, connector, mapping, persons, waits)
