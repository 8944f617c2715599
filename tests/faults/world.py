"""A small world for the fault matrix: a few dozen persons ingested and profiled into a
store, the same persons already in the CRM (Contacts and Leads in Salesforce, Dataverse
and Zoho, contacts in HubSpot), relcrm's fields provisioned, and a connector built as a
deployment builds it (settings, the official client or httpx, relcrm's policy) except
that its waits are recorded, not slept (Dataverse's sandbox runs on the same clock, so a
recorded wait moves its service protection window and token lifetimes too). Then faults
are switched on, the real sync engine runs, and the sandbox's request log and the store
say, per person, what happened.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from relcrm.connectors import Connector
from relcrm.connectors.dataverse import DataverseConnector, DataverseSettings
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings, RateLimiter
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.mapping import Mapping, load_shipped
from relcrm.models import Person
from relcrm.sandbox.dataverse import ServiceLimits
from relcrm.sandbox.dataverse.seeding import seed_persons as seed_dataverse
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session
from relcrm.sandbox.zoho.limits import LimitsConfig
from relcrm.sandbox.zoho.seed import seed_persons as seed_zoho
from relcrm.sandbox.zoho.server import ZohoSandbox
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
CRMS = ("salesforce", "hubspot", "dataverse", "zoho")
WRITE_PATHS = {
    "salesforce": ["/composite/sobjects"],
    "hubspot": ["/batch/update"],
    "dataverse": ["UpdateMultiple", "$batch"],
    "zoho": ["/crm/v8/Contacts", "/crm/v8/Leads"],
}
"""The paths of each connector's write calls (the fault plans' ``paths``). Zoho writes
with ``PUT /crm/v8/{module}``, whose path its searches and read-backs extend, so a Zoho
plan numbers those calls too (a plan cannot select by method)."""
WRITE_METHODS = {"salesforce": "PATCH", "hubspot": "POST", "dataverse": "POST", "zoho": "PUT"}

Sandbox = SalesforceSandbox | HubSpotSandbox | DataverseSandbox | ZohoSandbox


class Waits:
    """The policy's sleep and clock: waits are recorded and advance the clock, instantly.
    ``on_sleep`` hooks run at each wait (what the world does while relcrm waits)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.calls: list[float] = []
        self.on_sleep: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds
        for hook in self.on_sleep:
            hook()

    def fresh(self) -> Waits:
        """The same clock with no waits recorded and no hooks (a new scenario)."""
        self.calls.clear()
        self.on_sleep.clear()
        return self


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


def dataverse_connector(
    sandbox: DataverseSandbox, policy: RetryPolicy, *, timeout_s: float = 30.0, **settings: Any
) -> DataverseConnector:
    """A connector from the settings a targets file gives, on the policy's sleep and clock."""
    values: dict[str, Any] = {
        "environment_url": sandbox.environment_url,
        "authority_url": sandbox.authority_url,
        "tenant_id": sandbox.tenant_id,
        "client_id": sandbox.client_id,
        "client_secret": SecretStr(sandbox.client_secret),
        "ca_file": sandbox.ca_file,
        "key_poll_s": 1.0,
        "timeout_s": timeout_s,
    }
    values.update(settings)
    return DataverseConnector(DataverseSettings(_env_file=None, **values), policy=policy)


def zoho_connector(
    sandbox: ZohoSandbox, policy: RetryPolicy, *, timeout_s: float = 30.0, **options: Any
) -> ZohoConnector:
    """A connector from the settings a deployment gives, on the policy's sleep."""
    settings = ZohoSettings(
        _env_file=None,
        accounts_url=sandbox.accounts_url,
        client_id=SecretStr(sandbox.client_id),
        client_secret=SecretStr(sandbox.client_secret),
        refresh_token=SecretStr(sandbox.refresh_token),
        ca_file=sandbox.ca_file,
        timeout_s=timeout_s,
    )
    return ZohoConnector(settings, policy=policy, **options)


def connector_for(crm: str, sandbox: Sandbox, waits: Waits, **options: Any) -> Connector:
    """A fresh connector of ``crm`` on ``sandbox`` (``options``: ``timeout_s``, ``policy``
    arguments of :func:`policy_for`, ...), its waits recorded on ``waits``."""
    policy = policy_for(waits, **options.pop("policy", {}))
    if isinstance(sandbox, SalesforceSandbox):
        return salesforce_connector(sandbox, policy, **options)
    if isinstance(sandbox, HubSpotSandbox):
        return hubspot_connector(sandbox, policy, **options)
    if isinstance(sandbox, DataverseSandbox):
        return dataverse_connector(sandbox, policy, **options)
    assert crm == "zoho"
    return zoho_connector(sandbox, policy, **options)


def exhaust_quota(sandbox: Sandbox) -> None:
    """Spend the CRM's quota: Salesforce's daily API requests, HubSpot's daily limit,
    Dataverse's service protection limit for an hour (its one request used), Zoho's
    credits of the rolling 24 hours."""
    if isinstance(sandbox, SalesforceSandbox):
        sandbox.org.api_usage = sandbox.org.config.api_daily_limit
    elif isinstance(sandbox, HubSpotSandbox):
        sandbox.set_rate_limits(RateLimits(daily=0))
    elif isinstance(sandbox, DataverseSandbox):
        sandbox.set_limits(ServiceLimits(requests=1, window_s=3600.0))
        assert sandbox.protection.check(sandbox.client_id).allowed  # the one request
    else:
        sandbox.set_limits(LimitsConfig(credits=0))


def restore_quota(sandbox: Sandbox) -> None:
    """The CRM's quota back, as its window has passed."""
    if isinstance(sandbox, SalesforceSandbox):
        sandbox.org.api_usage = 0
    elif isinstance(sandbox, HubSpotSandbox):
        sandbox.set_rate_limits(RateLimits())
    elif isinstance(sandbox, DataverseSandbox):  # its limits and Zoho's differ in type
        sandbox.set_limits(sandbox.default_limits)
    else:
        sandbox.set_limits(sandbox.default_limits)


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

    def connector_with(self, **options: Any) -> Connector:
        """Another connector on this world's sandbox and waits (``timeout_s``, ``policy``
        arguments of :func:`policy_for`, ...)."""
        return connector_for(self.crm, self.sandbox, self.waits, **options)

    @property
    def write_paths(self) -> list[str]:
        return WRITE_PATHS[self.crm]

    def dropped_writes(self) -> int:
        """Write calls whose connection the sandbox dropped."""
        method = WRITE_METHODS[self.crm]
        return sum(
            1
            for c in self.sandbox.log.calls()
            if c.fault and "dropped" in c.fault and c.method == method
        )

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
    sandbox.reset()
    if isinstance(sandbox, SalesforceSandbox):
        seed_org(OrgRest(sandbox), persons)
    elif isinstance(sandbox, HubSpotSandbox):
        seed_portal(hubspot_connector(sandbox, policy_for(waits)).client.sdk, persons)
    elif isinstance(sandbox, DataverseSandbox):
        seed_dataverse(sandbox.org, persons)
    else:
        seed_zoho(sandbox.org, persons)
    connector = connector or connector_for(crm, sandbox, waits)
    mapping = load_shipped(f"{crm}-contact")
    apply_fields(connector, mapping)  # and on the fallback object (Lead, lead, Leads)
    sandbox.log.clear()
    return World(crm, sandbox, store, connector, mapping, persons, waits)
