"""Salesforce sandbox fixtures: an org's contacts and leads seeded as the records it
already holds (plain REST, bypassing relcrm on purpose), the connector as a deployment
builds it (password flow, the sandbox's own CA), and SOQL read-back.

Tests, benchmarks, ``relcrm sandbox salesforce --contacts`` and the demo share them, so
they live here rather than in the demo: none of it is needed to sync a real org.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.salesforce import (
    AuthFlow,
    SalesforceConnector,
    SalesforceSettings,
    soql_quote,
)
from relcrm.connectors.salesforce.writer import BULK_THRESHOLD
from relcrm.models import Person, RecordRef
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session
from relcrm.testing.errors import DemoOrgError

CRM_OBJECTS = ("Contact", "Lead")
"""The objects that hold people: Contact first, Lead for those who are not customers yet."""

NO_COMPANY = "[not provided]"
"""Lead.Company is required; B2C orgs conventionally fill it with this."""


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


def salesforce_connector(
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
    rest: OrgRest,
    records: Mapping[str, RecordRef],
    person_ids: Sequence[str],
    fields: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Some persons' records with ``fields``, as a SOQL query returns them."""
    columns = ", ".join(["Id", "FirstName", "LastName", "Email", *fields])
    found: dict[str, dict[str, Any]] = {}
    for name in CRM_OBJECTS:
        owners = {
            ref.id: person_id
            for person_id in person_ids
            if (ref := records.get(person_id)) is not None and ref.object == name
        }
        if not owners:
            continue
        ids = ", ".join(soql_quote(i) for i in sorted(owners))
        for row in rest.query(f"SELECT {columns} FROM {name} WHERE Id IN ({ids})"):
            row.pop("attributes", None)
            found[owners[str(row["Id"])]] = row
    return found


def contact_ids_by_email(rest: OrgRest) -> dict[str, str]:
    """The org's Contacts by lower-cased email (cases are raised by contacts)."""
    return {
        str(row["Email"]).casefold(): str(row["Id"])
        for row in rest.query("SELECT Id, Email FROM Contact WHERE Email != null")
    }


__all__ = [
    "CRM_OBJECTS",
    "NO_COMPANY",
    "DemoOrgError",
    "OrgRest",
    "contact_ids_by_email",
    "crm_object_of",
    "read_back",
    "salesforce_connector",
    "seed_org",
    "seed_record",
]
