"""The connector contract suite on the Salesforce connector and its HTTPS sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pydantic_settings import BaseSettings

from relcrm.connectors import Connector
from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings
from relcrm.models import FieldValue
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.pytest_support import sf_client
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session
from relcrm.sandbox.salesforce.server import running_sandbox
from relcrm.sandbox.salesforce.tasks import add_sales_user
from relcrm.testing.contract import (
    ConnectorAdapter,
    ConnectorContract,
    ContractClock,
    SeedRecord,
    StoredTask,
    Throttle,
    contract_specs,
)

STORM_S = 5
"""Retry-After of the throttled sandbox's 503s: the storm passes once the client waited."""


class SalesforceAdapter(ConnectorAdapter[SalesforceSandbox]):
    connector_class = SalesforceConnector
    object_name = "Contact"
    email_field = "Email"
    fallback_object = "Lead"
    specs = contract_specs(
        lambda stem: f"Contract_{stem.title()}__c", SalesforceConnector.declared_capabilities
    )

    def start(self) -> AbstractContextManager[SalesforceSandbox]:
        return running_sandbox()

    def reset(self, server: SalesforceSandbox, clock: ContractClock) -> None:
        server.reset()  # the org keeps no time a client must wait on

    def settings(self, server: SalesforceSandbox) -> BaseSettings:
        return SalesforceSettings(
            _env_file=None,
            auth_flow=AuthFlow.SESSION_ID,
            instance_url=server.instance_url,
            session_id=server.session_id,
            ca_file=server.ca_file,
        )

    def connector(self, server: SalesforceSandbox, clock: ContractClock) -> Connector:
        settings = SalesforceSettings(
            _env_file=None,
            auth_flow=AuthFlow.PASSWORD,
            username=server.username,
            password=server.password,
            security_token=server.security_token,
        )
        session = loopback_session(server.instance_url, server.ca_file)
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, record_attempts=3)
        return SalesforceConnector(settings, session=session, policy=policy)

    def seed(
        self, server: SalesforceSandbox, object_name: str, records: Sequence[SeedRecord]
    ) -> list[str]:
        rows = []
        for record in records:
            row: dict[str, Any] = {
                "attributes": {"type": object_name},
                "LastName": record.last_name,
                "Email": record.email,
                **record.values,
            }
            if object_name == "Lead":
                row["Company"] = "Contract Ltd"
            rows.append(row)
        ids: list[str] = []
        client = sf_client(server)
        for start in range(0, len(rows), 200):
            chunk = rows[start : start + 200]
            answer = client.restful("composite/sobjects", method="POST", json={"records": chunk})
            assert all(item["success"] for item in answer), answer
            ids.extend(item["id"] for item in answer)
        return ids

    def create_values(self, record: SeedRecord) -> dict[str, FieldValue]:
        return {"LastName": record.last_name, "Email": record.email}

    @contextmanager
    def throttled(self, server: SalesforceSandbox, clock: ContractClock) -> Iterator[Throttle]:
        """Salesforce sets no request rate; what a client must wait out is the 503 storm
        with ``Retry-After`` (the sandbox's fault plan) that ends once it has waited."""

        def storm() -> None:
            server.set_faults(
                FaultPlan(unavailable_rate=1.0, retry_after_s=STORM_S, paths=["/composite/"])
            )
            clock.after(STORM_S, calm)

        def calm() -> None:
            server.set_faults(None)

        storm()
        try:
            yield Throttle(calls=1, description=f"503 with Retry-After: {STORM_S}")
        finally:
            calm()

    def expire_credentials(self, server: SalesforceSandbox) -> None:
        server.org.expire_sessions()

    @contextmanager
    def quota_spent(self, server: SalesforceSandbox, *, writes_left: int) -> Iterator[None]:
        config = server.org.config
        daily = config.api_daily_limit
        config.api_daily_limit = server.org.api_usage + writes_left
        try:
            yield
        finally:
            config.api_daily_limit = daily

    def seed_case(self, server: SalesforceSandbox, record_id: str, subject: str) -> str:
        answer = sf_client(server).Case.create(
            {"ContactId": record_id, "Subject": subject, "Origin": "Email", "Status": "New"}
        )
        return str(answer["id"])

    def seed_owner(self, server: SalesforceSandbox, record_id: str) -> str:
        rep = add_sales_user(server.org, "Rosa", "Rep")
        sf_client(server).Contact.update(record_id, {"OwnerId": rep})
        return rep

    def read_task(self, server: SalesforceSandbox, task_id: str) -> StoredTask:
        row = sf_client(server).Task.get(task_id)
        return StoredTask(
            subject=row.get("Subject") or "",
            body=row.get("Description") or "",
            owner=row.get("OwnerId"),
            record=row.get("WhoId"),
        )

    def delete_record(self, server: SalesforceSandbox, record_id: str) -> None:
        sf_client(server).Contact.delete(record_id)


class TestSalesforceContract(ConnectorContract):
    adapter = SalesforceAdapter()
