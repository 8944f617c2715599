"""The connector contract suite on the Dataverse connector and its HTTPS sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from relcrm.connectors import Connector
from relcrm.connectors.dataverse import DataverseConnector, DataverseSettings
from relcrm.connectors.retry import RetryPolicy
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.ratelimit import ServiceLimits
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.dataverse.tasks import OWNER, REGARDING, USERS
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

THROTTLE = ServiceLimits(requests=2, window_s=10.0)
"""Inside ``throttled``: two requests per ten seconds (429 with Retry-After)."""

DAY_S = 86_400.0
"""The window of a spent quota: its Retry-After is far beyond the connector's pause."""

REP = USERS[1][0]
"""A sales rep of the environment (not the application user the connector acts as)."""


class DataverseAdapter(ConnectorAdapter[DataverseSandbox]):
    connector_class = DataverseConnector
    object_name = "contact"
    email_field = "emailaddress1"
    fallback_object = "lead"
    specs = contract_specs(
        lambda stem: f"relcrm_contract{stem}", DataverseConnector.declared_capabilities
    )

    def __init__(self) -> None:
        self.time = FollowedClock()

    def start(self) -> AbstractContextManager[DataverseSandbox]:
        return running_dataverse_sandbox(clock=self.time)

    def reset(self, server: DataverseSandbox, clock: ContractClock) -> None:
        self.time.follow(clock)
        server.reset()

    def settings(self, server: DataverseSandbox) -> BaseSettings:
        return DataverseSettings(
            _env_file=None,
            environment_url=server.environment_url,
            authority_url=server.authority_url,
            tenant_id=server.tenant_id,
            client_id=server.client_id,
            client_secret=SecretStr(server.client_secret),
            ca_file=server.ca_file,
            key_poll_s=1.0,
        )

    def connector(self, server: DataverseSandbox, clock: ContractClock) -> Connector:
        settings = self.settings(server)
        assert isinstance(settings, DataverseSettings)
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, record_attempts=3)
        return DataverseConnector(settings, policy=policy)

    def seed(
        self, server: DataverseSandbox, object_name: str, records: Sequence[SeedRecord]
    ) -> list[str]:
        rows = [{"emailaddress1": r.email, "lastname": r.last_name, **r.values} for r in records]
        return server.seed(object_name, rows)

    def seed_owner(self, server: DataverseSandbox, record_id: str) -> str:
        """Assigned in the environment itself, as an admin's reassignment leaves it."""
        with server.org.lock:
            server.org.records[self.object_name][record_id].values[OWNER] = REP
        return REP

    def read_task(self, server: DataverseSandbox, task_id: str) -> StoredTask:
        with server.org.lock:
            row = dict(server.org.records["task"][task_id].values)
        return StoredTask(
            subject=row.get("subject") or "",
            body=row.get("description") or "",
            owner=row.get(OWNER),
            record=row.get(REGARDING),
        )

    def delete_record(self, server: DataverseSandbox, record_id: str) -> None:
        with server.org.lock:
            del server.org.records[self.object_name][record_id]

    @contextmanager
    def throttled(self, server: DataverseSandbox, clock: ContractClock) -> Iterator[Throttle]:
        server.set_limits(THROTTLE)
        try:
            yield Throttle(calls=5, description="2 requests per 10 s (429, Retry-After)")
        finally:
            server.set_limits(server.default_limits)

    def expire_credentials(self, server: DataverseSandbox) -> None:
        server.expire_tokens()

    @contextmanager
    def quota_spent(self, server: DataverseSandbox, *, writes_left: int) -> Iterator[None]:
        server.set_limits(ServiceLimits(requests=writes_left, window_s=DAY_S))
        try:
            yield
        finally:
            server.set_limits(server.default_limits)


class TestDataverseContract(ConnectorContract):
    adapter = DataverseAdapter()
