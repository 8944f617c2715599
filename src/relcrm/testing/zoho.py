"""Zoho CRM sandbox fixtures: an org's Contacts and Leads seeded as the records it already
holds, the connector as a deployment builds it (refresh token, the sandbox's own CA), and
records read back through the plain CRM API.

Tests, ``relcrm sandbox zoho --contacts`` and the demo share them, so they live here rather
than in the demo: none of it is needed to sync a real org.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.models import Person, RecordRef
from relcrm.sandbox.zoho.seed import seed_persons
from relcrm.sandbox.zoho.server import ZohoSandbox
from relcrm.testing.errors import DemoOrgError

MODULES = ("Contacts", "Leads")
"""The modules that hold people: Contacts first, Leads for those who are not customers."""

READ_IDS = 100
"""Ids per ``GET /crm/v8/{module}?ids=`` (Zoho's maximum)."""


def zoho_settings(sandbox: ZohoSandbox, **overrides: Any) -> ZohoSettings:
    """Settings for the sandbox: its accounts server and API domain, its OAuth client and
    refresh token, its CA (TLS verification stays on) and its edition's limits."""
    limits = sandbox.limits.config
    values: dict[str, Any] = {
        **sandbox.target_settings(),
        "client_id": SecretStr(sandbox.client_id),
        "client_secret": SecretStr(sandbox.client_secret),
        "refresh_token": SecretStr(sandbox.refresh_token),
        "ca_file": sandbox.ca_file,
        "edition": limits.edition,
        "licences": limits.licences,
    }
    if limits.credits is not None:
        values["credits_per_day"] = limits.credits
    values.update(overrides)
    return ZohoSettings(_env_file=None, **values)


def zoho_connector(sandbox: ZohoSandbox, *, policy: RetryPolicy | None = None) -> ZohoConnector:
    """The connector as a deployment builds it: settings -> httpx trusting the CA."""
    return ZohoConnector(zoho_settings(sandbox), policy=policy)


def seed_org(sandbox: ZohoSandbox, persons: Iterable[Person]) -> dict[str, int]:
    """A Contact (or a Lead, for a person a source knows as one) per person with an email
    the org does not hold yet; ``{"Contacts": n, "Leads": m}`` created. In-process, without
    API calls or credits: these records are the CRM's history, not anyone's writes."""
    return seed_persons(sandbox.org, [p for p in persons if p.emails])


def _token(sandbox: ZohoSandbox, http: httpx.Client) -> str:
    answer = http.post(
        sandbox.token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.refresh_token,
        },
    )
    token = answer.json().get("access_token") if answer.status_code == 200 else None
    if not token:
        raise DemoOrgError(f"the token endpoint answered {answer.status_code}")
    return str(token)


def read_back(
    sandbox: ZohoSandbox,
    records: Mapping[str, RecordRef],
    person_ids: Sequence[str],
    fields: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Some persons' records with ``fields``, as ``GET /crm/v8/{module}?ids=`` returns them
    to any client, bypassing relcrm's connector."""
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(verify=context, trust_env=False, timeout=30.0) as http:
        headers = {"Authorization": f"Zoho-oauthtoken {_token(sandbox, http)}"}
        for module in MODULES:
            owners = {
                ref.id: person_id
                for person_id in person_ids
                if (ref := records.get(person_id)) is not None and ref.object == module
            }
            ids = sorted(owners)
            for start in range(0, len(ids), READ_IDS):
                params = {
                    "ids": ",".join(ids[start : start + READ_IDS]),
                    "fields": ",".join(["Email", *fields]),
                }
                answer = http.get(
                    f"{sandbox.api_domain}/crm/v8/{module}", params=params, headers=headers
                )
                if answer.status_code == 204:
                    continue
                if answer.status_code != 200:
                    raise DemoOrgError(
                        f"GET {module} answered {answer.status_code}: {answer.text[:300]}"
                    )
                for row in answer.json().get("data", []):
                    values = {name: row.get(name) for name in ["Email", *fields]}
                    found[owners[str(row["id"])]] = {"id": str(row["id"]), **values}
    return found


__all__ = [
    "MODULES",
    "read_back",
    "seed_org",
    "zoho_connector",
    "zoho_settings",
]
