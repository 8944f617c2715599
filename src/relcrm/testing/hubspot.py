"""HubSpot sandbox fixtures: a portal's contacts seeded as the records it already holds,
the connector as a deployment builds it, contacts read back through the official client
(not through relcrm's connector).

Tests, benchmarks, ``relcrm sandbox hubspot --contacts`` and the demo share them, so they
live here rather than in the demo: none of it is needed to sync a real portal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings
from relcrm.connectors.retry import RetryPolicy
from relcrm.models import Person, RecordRef
from relcrm.sandbox.hubspot import HubSpotSandbox

SEED_BATCH = 100
"""HubSpot batch endpoints take at most 100 inputs."""


def hubspot_settings(sandbox: HubSpotSandbox) -> HubSpotSettings:
    """Settings for the sandbox: its URL, its private-app token, its CA (never unverified)."""
    return HubSpotSettings(
        _env_file=None,
        access_token=SecretStr(sandbox.token),
        base_url=sandbox.base_url,
        ca_file=sandbox.ca_file,
    )


def hubspot_connector(
    sandbox: HubSpotSandbox, *, policy: RetryPolicy | None = None
) -> HubSpotConnector:
    """The connector as a deployment builds it: settings -> official client, retries off."""
    return HubSpotConnector(hubspot_settings(sandbox), policy=policy)


def contact_properties(person: Person) -> dict[str, str]:
    """The contact a portal would already hold for ``person``: names and first email."""
    first, _, last = (person.display_name or "").strip().partition(" ")
    if not last:
        first, last = "", first or person.id
    properties = {"email": person.emails[0], "lastname": last}
    if first:
        properties["firstname"] = first
    return properties


def seed_portal(sdk: Any, persons: Iterable[Person]) -> int:
    """Create a contact per person with an email, 100 a batch-create call, through the
    official client; how many were created. Bypasses relcrm on purpose: these contacts
    stand for what the portal already holds."""
    inputs = [
        {"properties": contact_properties(p), "associations": []} for p in persons if p.emails
    ]
    created = 0
    for start in range(0, len(inputs), SEED_BATCH):
        answer = sdk.crm.contacts.batch_api.create({"inputs": inputs[start : start + SEED_BATCH]})
        created += len(answer.results or [])
    return created


def read_contacts(
    sdk: Any, records: Mapping[str, RecordRef], person_ids: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Some persons' contacts, read back with the official client (``batch/read``)."""
    owners = {
        ref.id: person_id for person_id in person_ids if (ref := records.get(person_id)) is not None
    }
    if not owners:
        return {}
    answer = sdk.crm.contacts.batch_api.read(
        {
            "inputs": [{"id": i} for i in sorted(owners)],
            "properties": ["email", "firstname", "lastname", *names],
            "propertiesWithHistory": [],
        }
    )
    return {owners[str(r.id)]: {"id": str(r.id), **dict(r.properties)} for r in answer.results}


__all__ = [
    "SEED_BATCH",
    "contact_properties",
    "hubspot_connector",
    "hubspot_settings",
    "read_contacts",
    "seed_portal",
]
