"""The connector contract suite on the Zoho CRM connector and its HTTPS sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from relcrm.connectors import Connector
from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.models import FieldType, FieldValue
from relcrm.sandbox.zoho.limits import write_credits
from relcrm.sandbox.zoho.seed import seed_records
from relcrm.sandbox.zoho.server import ZohoSandbox, running_zoho_sandbox
from relcrm.sandbox.zoho.tasks import USERS
from relcrm.testing.contract import (
    REFUSED_TOKEN,
    ConnectorAdapter,
    ConnectorContract,
    ContractClock,
    SeedRecord,
    StoredTask,
    Throttle,
    contract_specs,
)

BUSY_S = 3.0
"""How long the throttled org refuses every call (429 concurrency) on the check's clock."""

REP = USERS[1][0]
"""A sales rep of the org (not the integration user the sandbox's tokens act as)."""


class ZohoAdapter(ConnectorAdapter[ZohoSandbox]):
    connector_class = ZohoConnector
    object_name = "Contacts"
    email_field = "Email"
    fallback_object = "Leads"
    specs = contract_specs(
        lambda stem: f"relcrm_Contract_{stem.title()}", ZohoConnector.declared_capabilities
    )

    def start(self) -> AbstractContextManager[ZohoSandbox]:
        return running_zoho_sandbox()

    def reset(self, server: ZohoSandbox, clock: ContractClock) -> None:
        server.reset()
        clock.listen(server.advance)  # tokens age and the credit window slides as it sleeps

    def settings(self, server: ZohoSandbox) -> BaseSettings:
        return ZohoSettings(
            _env_file=None,
            accounts_url=server.accounts_url,
            client_id=SecretStr(server.client_id),
            client_secret=SecretStr(server.client_secret),
            refresh_token=SecretStr(server.refresh_token),
            ca_file=server.ca_file,
        )

    def connector(self, server: ZohoSandbox, clock: ContractClock) -> Connector:
        settings = self.settings(server)
        assert isinstance(settings, ZohoSettings)
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, record_attempts=3)
        return ZohoConnector(settings, policy=policy, clock=clock.monotonic)

    def seed(
        self, server: ZohoSandbox, object_name: str, records: Sequence[SeedRecord]
    ) -> list[str]:
        rows = [{"Email": r.email, "Last_Name": r.last_name, **r.values} for r in records]
        return seed_records(server.org, object_name, rows)

    def refused_value(self) -> tuple[str, FieldValue]:
        """Zoho stores an option outside a picklist as it is sent; it refuses text longer
        than its field (``INVALID_DATA``)."""
        text = next(s for s in self.specs if s.type is FieldType.TEXT and not s.external_id)
        assert text.length is not None
        return text.name, REFUSED_TOKEN + "x" * text.length

    def create_values(self, record: SeedRecord) -> dict[str, FieldValue]:
        return {"Last_Name": record.last_name, "Email": record.email}

    def seed_owner(self, server: ZohoSandbox, record_id: str) -> str:
        """Reassigned in the org itself (no API call, no credits), as an admin would."""
        update = {"data": [{"id": record_id, "Owner": {"id": REP}}]}
        outcome = server.org.update(self.object_name, update)
        assert [r.get("code") for r in outcome.results] == ["SUCCESS"], outcome.results
        return REP

    def read_task(self, server: ZohoSandbox, task_id: str) -> StoredTask:
        row = server.org.values_of("Tasks", task_id)
        owner, who = row.get("Owner") or {}, row.get("Who_Id") or row.get("What_Id") or {}
        return StoredTask(
            subject=row.get("Subject") or "",
            body=row.get("Description") or "",
            owner=owner.get("id"),
            record=who.get("id"),
        )

    def delete_record(self, server: ZohoSandbox, record_id: str) -> None:
        with server.org.lock:
            del server.org.records[self.object_name][record_id]

    @contextmanager
    def throttled(self, server: ZohoSandbox, clock: ContractClock) -> Iterator[Throttle]:
        """Zoho sets no request rate; it refuses calls beyond the app's concurrency (429)
        until others finish. Here every call is refused until the client has waited."""
        limits = server.limits.config

        def calm() -> None:
            server.limits.config = limits

        server.limits.config = replace(limits, concurrency=0)
        clock.after(BUSY_S, calm)
        try:
            yield Throttle(calls=2, description=f"429 concurrency for {BUSY_S:g} s")
        finally:
            calm()

    def expire_credentials(self, server: ZohoSandbox) -> None:
        server.expire_tokens()

    @contextmanager
    def quota_spent(self, server: ZohoSandbox, *, writes_left: int) -> Iterator[None]:
        limits = server.limits.config
        per_call = ZohoConnector.declared_capabilities.max_batch_size
        credits = server.limits.used() + writes_left * write_credits(per_call)
        server.limits.config = replace(limits, credits=credits)
        try:
            yield
        finally:
            server.limits.config = limits


class TestZohoContract(ConnectorContract):
    adapter = ZohoAdapter()
