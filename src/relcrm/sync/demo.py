"""The demo: synthetic data -> ingest -> profiles -> Salesforce and HubSpot, on a store and
CRMs of its own (the HubSpot part is in :mod:`relcrm.sync.demo_hubspot`).

The Salesforce part runs against the in-process sandbox (a real HTTPS server), so the
demo shows the whole path a real deployment takes: provisioning with a dry-run plan
first, matching by email, consent-gated writes, and the values read back with SOQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.salesforce import (
    AuthFlow,
    ProvisionPlan,
    SalesforceConnector,
    SalesforceSettings,
    soql_quote,
)
from relcrm.connectors.salesforce.writer import BULK_THRESHOLD
from relcrm.errors import ConnectorError
from relcrm.models import Perception, Person, RelationshipProfile
from relcrm.sandbox.hubspot import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session, running_sandbox
from relcrm.sources.interchange import write_interchange
from relcrm.sources.synthetic import generate_sample
from relcrm.store import Store
from relcrm.sync.crm_push import (
    CRM_OBJECTS,
    FIELD_SET,
    PushReport,
    provision_field_set,
    push_profiles,
)
from relcrm.sync.demo_hubspot import HubSpotDemo, hubspot_demo
from relcrm.sync.ingest import IngestReport, ingest_interchange
from relcrm.sync.profiling import ProfileRun, profile_store

NO_COMPANY = "[not provided]"
"""Lead.Company is required; B2C orgs conventionally fill it with this."""


class DemoOrgError(ConnectorError):
    """The demo's own calls to the sandbox (seeding, read-back) failed."""

    code = "demo.org"
    default_hint = "run the demo again; if it persists, report it with the output above"


@dataclass
class CallCounts:
    """API calls relcrm made, by phase, from the sandbox's request log."""

    provisioning: int = 0
    matching: int = 0
    writing: int = 0

    @property
    def total(self) -> int:
        return self.provisioning + self.matching + self.writing


@dataclass
class SalesforceDemo:
    """What the Salesforce part did, for printing and for tests."""

    instance_url: str
    seeded: dict[str, int]
    already_in_org: int
    plans: dict[str, ProvisionPlan]
    """The dry-run plan per object, made before anything changed."""
    applied: dict[str, ProvisionPlan]
    push: PushReport
    calls: CallCounts
    limit_info: str
    """``Sforce-Limit-Info`` of the last answer, e.g. ``api-usage=142/15000``."""
    read_back: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Person id -> the record as a SOQL query returns it (the twins)."""


@dataclass
class DemoResult:
    """What each stage did; a CRM part is ``None`` when it was turned off."""

    sample_file: Path
    store_url: str
    ingest: IngestReport
    run: ProfileRun
    profiles: list[RelationshipProfile]
    twins: tuple[str, str]
    persons: tuple[Person, ...] = ()
    salesforce: SalesforceDemo | None = None
    hubspot: HubSpotDemo | None = None


class OrgRest:
    """Plain REST calls as another app in the org would make them.

    Seeding and reading back deliberately bypass relcrm's connector: the seeded records
    stand for what the org already holds, and the read-back proves what is really there.
    """

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        self.instance_url = sandbox.instance_url
        self.base = f"{sandbox.instance_url}/services/data/v{sandbox.api_version}"
        self.session = loopback_session(sandbox.instance_url, sandbox.ca_file)
        self.session.headers["Authorization"] = f"Bearer {sandbox.session_id}"
        self.limit_info = ""

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, url, timeout=60, **kwargs)
        self.limit_info = answer.headers.get("Sforce-Limit-Info", self.limit_info)
        if answer.status_code >= 300:
            raise DemoOrgError(f"{method} {url} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a SOQL query, following ``nextRecordsUrl``."""
        page = self._call("GET", f"{self.base}/query/", params={"q": soql})
        rows = list(page["records"])
        while page.get("nextRecordsUrl"):
            page = self._call("GET", self.instance_url + page["nextRecordsUrl"])
            rows.extend(page["records"])
        return rows

    def create(self, object_name: str, records: Sequence[dict[str, Any]]) -> int:
        """Create records through sObject Collections (200 a call); how many were created."""
        created = 0
        for start in range(0, len(records), 200):
            body = {
                "allOrNone": True,
                "records": [
                    {"attributes": {"type": object_name}, **r} for r in records[start : start + 200]
                ],
            }
            answers = self._call("POST", f"{self.base}/composite/sobjects", json=body)
            created += sum(1 for a in answers if a.get("success"))
        return created


def describe_plan(plan: ProvisionPlan) -> str:
    """A provisioning plan in one line, for the admin to read before anything changes."""
    steps = [f"create {len(plan.create)} fields", f"grant read/edit on {len(plan.grant)}"]
    if plan.create_permission_set:
        steps.append("create the relcrm permission set")
    if plan.assign_permission_set:
        steps.append("assign it to the integration user")
    if plan.conflicts:
        steps.append("conflicts (left alone): " + "; ".join(plan.conflicts))
    return "nothing to do" if plan.empty and not plan.conflicts else ", ".join(steps)


def crm_object_of(person: Person) -> str:
    """Lead for persons the sources know as a Salesforce lead, else Contact."""
    for record in person.crm_records:
        if record.system.lower() == "salesforce" and record.object.lower() == "lead":
            return "Lead"
    return "Contact"


def seed_record(person: Person, object_name: str) -> dict[str, Any]:
    """The record an org would already hold for ``person`` (names, first email)."""
    first, _, last = (person.display_name or "").strip().partition(" ")
    if not last:
        first, last = "", first or person.id
    record: dict[str, Any] = {"LastName": last[:80], "Email": person.emails[0]}
    if first:
        record["FirstName"] = first[:40]
    if object_name == "Lead":
        record["Company"] = NO_COMPANY
    return record


def seed_org(rest: OrgRest, persons: Sequence[Person]) -> tuple[dict[str, int], int]:
    """Create a Contact or Lead per person with an email, unless its email is there already
    (so a kept org can be run again). Returns (created per object, already there)."""
    present = {
        str(row["Email"]).casefold()
        for name in CRM_OBJECTS
        for row in rest.query(f"SELECT Email FROM {name} WHERE Email != null")
    }
    wanted: dict[str, list[dict[str, Any]]] = {name: [] for name in CRM_OBJECTS}
    already = 0
    for person in persons:
        if not person.emails:
            continue
        if person.emails[0].casefold() in present:
            already += 1
            continue
        name = crm_object_of(person)
        wanted[name].append(seed_record(person, name))
    return {name: rest.create(name, records) for name, records in wanted.items()}, already


def demo_connector(
    sandbox: SalesforceSandbox,
    *,
    policy: RetryPolicy | None = None,
    bulk_threshold: int = BULK_THRESHOLD,
    bulk_poll_s: float = 2.0,
) -> SalesforceConnector:
    """A connector that logs in to the sandbox with username, password and token, as a
    deployment would (the benchmark reuses it with other write thresholds)."""
    settings = SalesforceSettings(
        _env_file=None,
        auth_flow=AuthFlow.PASSWORD,
        username=sandbox.username,
        password=SecretStr(sandbox.password),
        security_token=SecretStr(sandbox.security_token),
        api_version=sandbox.api_version,
    )
    session = loopback_session(sandbox.instance_url, sandbox.ca_file)
    return SalesforceConnector(
        settings,
        session=session,
        policy=policy,
        bulk_threshold=bulk_threshold,
        bulk_poll_s=bulk_poll_s,
    )


def read_back(
    rest: OrgRest, push: PushReport, person_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The field set of some persons' records, as a SOQL query returns them."""
    columns = ", ".join(["Id", "FirstName", "LastName", "Email", *(s.name for s in FIELD_SET)])
    found: dict[str, dict[str, Any]] = {}
    for name in CRM_OBJECTS:
        owners = {
            ref.id: person_id
            for person_id in person_ids
            if (ref := push.matched.get(person_id)) is not None and ref.object == name
        }
        if not owners:
            continue
        ids = ", ".join(soql_quote(i) for i in sorted(owners))
        for row in rest.query(f"SELECT {columns} FROM {name} WHERE Id IN ({ids})"):
            row.pop("attributes", None)
            found[owners[str(row["Id"])]] = row
    return found


def salesforce_demo(
    sandbox: SalesforceSandbox,
    persons: Sequence[Person],
    profiles: Sequence[RelationshipProfile],
    *,
    show: Sequence[str] = (),
) -> SalesforceDemo:
    """Seed the org, provision the field set (plan, then apply), match, write, read back."""
    rest = OrgRest(sandbox)
    seeded, already = seed_org(rest, persons)
    connector = demo_connector(sandbox)
    start = len(sandbox.log)
    plans = provision_field_set(connector, dry_run=True)
    applied = provision_field_set(connector)
    middle = len(sandbox.log)
    push = push_profiles(connector, persons, profiles)
    pushing = sandbox.log.calls()[middle:]
    matching = sum(1 for c in pushing if c.path.rstrip("/").endswith("/query"))
    calls = CallCounts(
        provisioning=middle - start, matching=matching, writing=len(pushing) - matching
    )
    twins = read_back(rest, push, show)
    return SalesforceDemo(
        instance_url=sandbox.instance_url,
        seeded=seeded,
        already_in_org=already,
        plans=plans,
        applied=applied,
        push=push,
        calls=calls,
        limit_info=rest.limit_info,
        read_back=twins,
    )


@contextmanager
def _sandbox(
    given: SalesforceSandbox | None, data_file: Path | None
) -> Iterator[SalesforceSandbox]:
    if given is not None:
        yield given
        return
    with running_sandbox(data_file=data_file) as started:
        yield started


@contextmanager
def _hubspot_sandbox(given: HubSpotSandbox | None) -> Iterator[HubSpotSandbox]:
    if given is not None:
        yield given
        return
    with running_hubspot_sandbox() as started:
        yield started


def run_demo(
    workdir: Path,
    *,
    persons: int,
    seed: int,
    now: datetime,
    salesforce: bool = True,
    sandbox: SalesforceSandbox | None = None,
    org_file: Path | None = None,
    hubspot: bool = True,
    hubspot_sandbox: HubSpotSandbox | None = None,
    hubspot_notes: bool = True,
) -> DemoResult:
    """Write a sample file into ``workdir``, ingest it into a fresh store there, profile it,
    and write the profiles into a Salesforce sandbox (``salesforce``) and a HubSpot
    sandbox (``hubspot``; with ``hubspot_notes``, one history note per perception too).

    Each sandbox is started here unless one is given (tests pass theirs to inspect the
    CRM afterwards); ``org_file`` keeps the started org's records in a SQLite file. The
    HubSpot portal lives in memory only: the sandbox has no file to keep it in.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(persons=persons, seed=seed, now=now)
    sample_file = workdir / "sample.jsonl"
    write_interchange(sample.records(), sample_file)
    store_url = f"sqlite:///{workdir / 'relcrm.db'}"
    with Store.open(store_url) as store:
        report = ingest_interchange(sample_file, store)
        run = ProfileRun(as_of=now)
        profiles = list(profile_store(store, now, run=run))
        perceptions: list[Perception] = (
            [p for _, found in store.iter_person_perceptions() for p in found]
            if hubspot and hubspot_notes
            else []
        )
    result = DemoResult(
        sample_file=sample_file,
        store_url=store_url,
        ingest=report,
        run=run,
        profiles=profiles,
        twins=sample.twins,
        persons=sample.persons,
    )
    if salesforce:
        with _sandbox(sandbox, org_file) as org:
            result.salesforce = salesforce_demo(org, sample.persons, profiles, show=sample.twins)
    if hubspot:
        with _hubspot_sandbox(hubspot_sandbox) as portal:
            result.hubspot = hubspot_demo(
                portal,
                sample.persons,
                profiles,
                show=sample.twins,
                perceptions=perceptions if hubspot_notes else None,
            )
    return result
