"""The connector contract suite on the HubSpot connector and its HTTPS sandbox."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from relcrm.connectors import Connector
from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings, RateLimiter
from relcrm.connectors.retry import RetryPolicy
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox, running_hubspot_sandbox
from relcrm.sandbox.hubspot.tasks import OWNERS
from relcrm.sandbox.hubspot.tickets import TICKET_TO_CONTACT
from relcrm.testing.contract import (
    ConnectorAdapter,
    ConnectorContract,
    ContractClock,
    SeedRecord,
    StoredTask,
    Throttle,
    contract_specs,
)
from tests.contract.clocks import FollowedClock

THROTTLE = RateLimits(max_per_window=2, window_ms=10_000)
"""Inside ``throttled``: two calls per ten seconds, so the third write must wait."""

REP = OWNERS[1][1]
"""The portal's sales rep (not the integration's own owner)."""
TASK_PROPERTIES = "hs_task_subject,hs_task_body,hubspot_owner_id"


class HubSpotAdapter(ConnectorAdapter[HubSpotSandbox]):
    connector_class = HubSpotConnector
    object_name = "contacts"
    email_field = "email"
    fallback_object = None
    specs = contract_specs(lambda stem: f"contract_{stem}", HubSpotConnector.declared_capabilities)

    def __init__(self) -> None:
        self.time = FollowedClock()

    def start(self) -> AbstractContextManager[HubSpotSandbox]:
        return running_hubspot_sandbox(clock=self.time)

    def reset(self, server: HubSpotSandbox, clock: ContractClock) -> None:
        self.time.follow(clock)
        server.reset()

    def settings(self, server: HubSpotSandbox) -> BaseSettings:
        return HubSpotSettings(
            _env_file=None,
            access_token=SecretStr(server.token),
            base_url=server.base_url,
            ca_file=server.ca_file,
        )

    def connector(self, server: HubSpotSandbox, clock: ContractClock) -> Connector:
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, record_attempts=3)
        limiter = RateLimiter(clock=clock.monotonic, sleep=clock.sleep)
        settings = self.settings(server)
        assert isinstance(settings, HubSpotSettings)
        return HubSpotConnector(settings, policy=policy, limiter=limiter)

    def seed(
        self, server: HubSpotSandbox, object_name: str, records: Sequence[SeedRecord]
    ) -> list[str]:
        inputs = [
            {"properties": {"email": r.email, "lastname": r.last_name, **_text(r.values)}}
            for r in records
        ]
        ids: list[str] = []
        for start in range(0, len(inputs), 100):
            answer = _post(
                server, f"/crm/v3/objects/{object_name}/batch/create", inputs[start : start + 100]
            )
            by_email = {item["properties"]["email"]: item["id"] for item in answer["results"]}
            ids.extend(by_email[r.email] for r in records[start : start + 100])
        return ids

    def seed_case(self, server: HubSpotSandbox, record_id: str, subject: str) -> str:
        to_contact = {
            "to": {"id": record_id},
            "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TICKET_TO_CONTACT}
            ],
        }
        ticket = {
            "properties": {"subject": subject, "hs_pipeline_stage": "1"},
            "associations": [to_contact],
        }
        answer = _post(server, "/crm/v3/objects/tickets/batch/create", [ticket])
        return str(answer["results"][0]["id"])

    def seed_owner(self, server: HubSpotSandbox, record_id: str) -> str:
        path = f"/crm/v3/objects/{self.object_name}/{record_id}"
        _call(server, "PATCH", path, json={"properties": {"hubspot_owner_id": REP}})
        return REP

    def read_task(self, server: HubSpotSandbox, task_id: str) -> StoredTask:
        task = _call(server, "GET", f"/crm/v3/objects/tasks/{task_id}?properties={TASK_PROPERTIES}")
        links = _call(server, "GET", f"/crm/v4/objects/tasks/{task_id}/associations/contacts")
        records = [str(link["toObjectId"]) for link in links["results"]]
        properties = task["properties"]
        return StoredTask(
            subject=properties.get("hs_task_subject") or "",
            body=_as_read(properties.get("hs_task_body") or ""),
            owner=properties.get("hubspot_owner_id"),
            record=records[0] if len(records) == 1 else None,
        )

    def delete_record(self, server: HubSpotSandbox, record_id: str) -> None:
        _call(server, "DELETE", f"/crm/v3/objects/{self.object_name}/{record_id}")

    @contextmanager
    def throttled(self, server: HubSpotSandbox, clock: ContractClock) -> Iterator[Throttle]:
        server.set_rate_limits(THROTTLE)
        try:
            yield Throttle(calls=5, description="2 requests per 10 s (429 TEN_SECONDLY_ROLLING)")
        finally:
            server.set_rate_limits(server.default_limits)

    def expire_credentials(self, server: HubSpotSandbox) -> None:
        """A private-app token does not expire, but an OAuth one does: HubSpot answers
        ``401 EXPIRED_AUTHENTICATION`` from the next call on."""
        server.set_faults(FaultPlan(session_expires_after=1))
        with server.portal.lock:
            server.portal.token_calls[server.token] = 1

    @contextmanager
    def quota_spent(self, server: HubSpotSandbox, *, writes_left: int) -> Iterator[None]:
        server.set_rate_limits(RateLimits(daily=writes_left))
        try:
            yield
        finally:
            server.set_rate_limits(server.default_limits)


def _post(server: HubSpotSandbox, path: str, inputs: list[dict[str, Any]]) -> Any:
    """A batch create through HubSpot's public API, as the portal's users' tools do."""
    return _call(server, "POST", path, json={"inputs": inputs})


def _call(server: HubSpotSandbox, method: str, path: str, json: Any = None) -> Any:
    """One call to HubSpot's public API, as the portal's users' tools make it."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.base_url, verify=context, trust_env=False) as http:
        answer = http.request(method, path, json=json, headers=headers)
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.json() if answer.content else None


def _as_read(body: str) -> str:
    """A task body (HTML, one ``<p>`` a line) as a person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def _text(values: Any) -> dict[str, str]:
    """HubSpot takes every property value as a string."""
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in values.items()
    }


class TestHubSpotContract(ConnectorContract):
    adapter = HubSpotAdapter()
