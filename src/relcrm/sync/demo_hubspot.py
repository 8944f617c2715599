"""The demo's HubSpot part: the same profiles, the same field set, a second CRM.

It runs against the in-process HubSpot sandbox (a real HTTPS server) the way a deployment
runs against a portal: contacts already exist (seeded here as the portal's stand-in),
provisioning shows its dry-run plan before it creates the ``relcrm`` group and
properties, persons are matched by email, only consenting persons are written, and what
landed is read back through the official client, not through relcrm's connector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings, NotesReport
from relcrm.connectors.hubspot import ProvisionPlan as HubSpotPlan
from relcrm.connectors.hubspot.client import build_sdk
from relcrm.connectors.retry import RetryPolicy
from relcrm.models import Perception, Person, RelationshipProfile
from relcrm.sandbox.hubspot import HubSpotSandbox
from relcrm.sync.crm_push import (
    HUBSPOT,
    HUBSPOT_FIELD_SET,
    PushReport,
    provision_hubspot_field_set,
    push_profiles,
)
from relcrm.sync.history import perception_note

SEED_BATCH = 100
"""HubSpot batch endpoints take at most 100 inputs."""
CONTACTS = HUBSPOT.objects[0]


@dataclass
class HubSpotCalls:
    """API calls relcrm made, by phase, from the sandbox's request log."""

    provisioning: int = 0
    matching: int = 0
    writing: int = 0
    notes: int = 0

    @property
    def total(self) -> int:
        return self.provisioning + self.matching + self.writing + self.notes


@dataclass
class HubSpotDemo:
    """What the HubSpot part did, for printing and for tests."""

    base_url: str
    seeded: int
    plans: dict[str, HubSpotPlan]
    """The dry-run plan per object, made before anything changed."""
    applied: dict[str, HubSpotPlan]
    push: PushReport
    calls: HubSpotCalls
    rate_window: str
    """relcrm's own limiter at the end: requests in the rolling window / the portal's limit
    (learnt from the ``X-HubSpot-RateLimit-*`` headers)."""
    notes: NotesReport | None = None
    read_back: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Person id -> the contact's properties as the official client reads them (the twins)."""


def demo_settings(sandbox: HubSpotSandbox) -> HubSpotSettings:
    """Settings for the sandbox: its URL, its private-app token, its CA (never unverified)."""
    return HubSpotSettings(
        _env_file=None,
        access_token=SecretStr(sandbox.token),
        base_url=sandbox.base_url,
        ca_file=sandbox.ca_file,
    )


def hubspot_demo_connector(
    sandbox: HubSpotSandbox, *, policy: RetryPolicy | None = None
) -> HubSpotConnector:
    """The connector as a deployment builds it: settings -> official client, retries off."""
    return HubSpotConnector(demo_settings(sandbox), policy=policy)


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
    sdk: Any, push: PushReport, person_ids: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Some persons' contacts, read back with the official client (``batch/read``)."""
    owners = {
        ref.id: person_id
        for person_id in person_ids
        if (ref := push.matched.get(person_id)) is not None
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


def write_notes(
    connector: HubSpotConnector, push: PushReport, perceptions: Iterable[Perception]
) -> NotesReport:
    """History: a note per perception of each *written* person (consent was checked by
    the push; a person who was not written gets no note either)."""
    written = {r.person_id for r in push.results if r.outcome.value == "written"}
    notes = [
        perception_note(p, push.matched[p.person_id].id)
        for p in perceptions
        if p.person_id in written
    ]
    return connector.add_perception_notes(notes)


def hubspot_demo(
    sandbox: HubSpotSandbox,
    persons: Sequence[Person],
    profiles: Sequence[RelationshipProfile],
    *,
    show: Sequence[str] = (),
    perceptions: Iterable[Perception] | None = None,
) -> HubSpotDemo:
    """Seed the portal, provision the field set (plan, then apply), match, write, add the
    history notes (when ``perceptions`` are given), read the twins back."""
    sdk = build_sdk(demo_settings(sandbox))
    seeded = seed_portal(sdk, persons)
    connector = hubspot_demo_connector(sandbox)
    start = len(sandbox.log)
    plans = provision_hubspot_field_set(connector, dry_run=True)
    applied = provision_hubspot_field_set(connector)
    middle = len(sandbox.log)
    push = push_profiles(connector, persons, profiles, HUBSPOT)
    pushing = sandbox.log.calls()[middle:]
    matching = sum(1 for c in pushing if c.path.rstrip("/").endswith("/batch/read"))
    calls = HubSpotCalls(
        provisioning=middle - start, matching=matching, writing=len(pushing) - matching
    )
    notes = None
    if perceptions is not None:
        before = len(sandbox.log)
        notes = write_notes(connector, push, perceptions)
        calls.notes = len(sandbox.log) - before
    limiter = connector.client.limiter
    window = f"{limiter.in_window}/{limiter.max_per_window} per {limiter.window_s:g} s"
    twins = read_contacts(sdk, push, show, [s.name for s in HUBSPOT_FIELD_SET])
    return HubSpotDemo(
        base_url=sandbox.base_url,
        seeded=seeded,
        plans=plans,
        applied=applied,
        push=push,
        calls=calls,
        rate_window=window,
        notes=notes,
        read_back=twins,
    )
