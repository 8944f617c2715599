"""Dataverse sandbox fixtures: an environment's contacts and leads seeded as the records it
already holds, the connector as a deployment builds it (client credentials, the sandbox's
own CA), and records read back through the plain Web API.

Tests, ``relcrm sandbox dataverse --contacts`` and the demo share them, so they live here
rather than in the demo: none of it is needed to sync a real environment.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from relcrm.connectors.dataverse import DataverseConnector, DataverseSettings
from relcrm.connectors.dataverse.describe import ENTITY_SETS, PRIMARY_IDS
from relcrm.connectors.dataverse.query import chunks, in_filter
from relcrm.connectors.retry import RetryPolicy
from relcrm.models import Person, RecordRef
from relcrm.sandbox.dataverse.seeding import seed_persons
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.testing.errors import DemoOrgError

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
"""The annotation Dataverse adds beside a choice column's integer value: its label."""


def dataverse_settings(sandbox: DataverseSandbox, **overrides: Any) -> DataverseSettings:
    """Settings for the sandbox: its environment and authority URL, its app registration,
    its CA (TLS verification stays on) and its service protection limit."""
    limits = sandbox.protection.limits
    values: dict[str, Any] = {
        "environment_url": sandbox.environment_url,
        "authority_url": sandbox.authority_url,
        "tenant_id": sandbox.tenant_id,
        "client_id": sandbox.client_id,
        "client_secret": SecretStr(sandbox.client_secret),
        "ca_file": sandbox.ca_file,
        "rate_limit_max": limits.requests,
        "rate_limit_window_s": limits.window_s,
        "key_poll_s": 0.5,  # the sandbox activates keys at once: no need to wait 5 s
    }
    values.update(overrides)
    return DataverseSettings(_env_file=None, **values)


def dataverse_connector(
    sandbox: DataverseSandbox, *, policy: RetryPolicy | None = None
) -> DataverseConnector:
    """The connector as a deployment builds it: settings -> httpx trusting the CA."""
    return DataverseConnector(dataverse_settings(sandbox), policy=policy)


def seed_environment(sandbox: DataverseSandbox, persons: Iterable[Person]) -> dict[str, int]:
    """A contact (or a lead, for a person a source knows as one) per person with an email
    the environment does not hold yet; ``{"contact": n, "lead": m}`` created. In-process,
    not through the Web API: these records are the CRM's history, not anyone's writes."""
    return seed_persons(sandbox.org, [p for p in persons if p.emails])


def _token(sandbox: DataverseSandbox, http: httpx.Client) -> str:
    answer = http.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "scope": sandbox.scope,
        },
    )
    if answer.status_code != 200:
        raise DemoOrgError(f"the token endpoint answered {answer.status_code}")
    return str(answer.json()["access_token"])


def _labelled(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A row's columns with each choice's label instead of its integer value."""
    values: dict[str, Any] = {}
    for name in names:
        value = row.get(name)
        label = row.get(name + FORMATTED)
        choice = isinstance(value, int) and not isinstance(value, bool)
        values[name] = label if choice and label is not None else value
    return values


def read_back(
    sandbox: DataverseSandbox,
    records: Mapping[str, RecordRef],
    person_ids: Sequence[str],
    fields: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Some persons' records with ``fields`` (choices as their labels), as the Web API
    returns them to any client: an OData query per table, bypassing relcrm's connector."""
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(verify=context, trust_env=False, timeout=30.0) as http:
        headers = {
            "Authorization": f"Bearer {_token(sandbox, http)}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "Prefer": f'odata.include-annotations="{FORMATTED[1:]}"',
        }
        for table, entity_set in ENTITY_SETS.items():
            pk = PRIMARY_IDS[table]
            owners = {
                ref.id.lower(): person_id
                for person_id in person_ids
                if (ref := records.get(person_id)) is not None and ref.object == table
            }
            for chunk in chunks(sorted(owners)):
                params = {
                    "$select": ",".join([pk, "emailaddress1", *fields]),
                    "$filter": in_filter(pk, chunk),
                }
                answer = http.get(f"{sandbox.api_url}{entity_set}", params=params, headers=headers)
                if answer.status_code != 200:
                    raise DemoOrgError(
                        f"GET {entity_set} answered {answer.status_code}: {answer.text[:300]}"
                    )
                for row in answer.json().get("value", []):
                    person_id = owners[str(row[pk]).lower()]
                    found[person_id] = {"id": row[pk], **_labelled(row, ["emailaddress1", *fields])}
    return found


__all__ = [
    "dataverse_connector",
    "dataverse_settings",
    "read_back",
    "seed_environment",
]
