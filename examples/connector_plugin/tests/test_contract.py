"""TinyCRM's connector against relcrm's connector contract, on its HTTPS test server."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from relcrm_example_crm.connector import ExampleCrmConnector, ExampleCrmSettings
from relcrm_example_crm.server import Limit, RunningCrm, running_tinycrm

from relcrm.connectors import Connector
from relcrm.connectors.retry import RetryPolicy
from relcrm.testing.contract import (
    ConnectorAdapter,
    ConnectorContract,
    ContractClock,
    SeedRecord,
    Throttle,
    contract_specs,
)


class CheckClock:
    """The server's time: the current check's clock (servers live for a test class)."""

    def __init__(self) -> None:
        self.clock: ContractClock | None = None

    def __call__(self) -> float:
        return self.clock.monotonic() if self.clock else time.monotonic()


class TinyCrmAdapter(ConnectorAdapter[RunningCrm]):
    connector_class = ExampleCrmConnector
    object_name = "people"
    email_field = "email"
    fallback_object = None
    specs = contract_specs(
        lambda stem: f"contract_{stem}", ExampleCrmConnector.declared_capabilities
    )

    def __init__(self) -> None:
        self.time = CheckClock()

    def start(self) -> AbstractContextManager[RunningCrm]:
        return running_tinycrm(clock=self.time)

    def reset(self, server: RunningCrm, clock: ContractClock) -> None:
        self.time.clock = clock
        server.crm.reset()

    def settings(self, server: RunningCrm) -> BaseSettings:
        return ExampleCrmSettings(
            _env_file=None,
            base_url=server.base_url,
            ca_file=server.ca_file,
            api_key=SecretStr(server.api_key),
        )

    def connector(self, server: RunningCrm, clock: ContractClock) -> Connector:
        settings = self.settings(server)
        assert isinstance(settings, ExampleCrmSettings)
        return ExampleCrmConnector(
            settings, policy=RetryPolicy(sleep=clock.sleep, clock=clock.monotonic)
        )

    def seed(
        self, server: RunningCrm, object_name: str, records: Sequence[SeedRecord]
    ) -> list[str]:
        return [server.crm.add_person(r.email, r.last_name, **r.values) for r in records]

    @contextmanager
    def throttled(self, server: RunningCrm, clock: ContractClock) -> Iterator[Throttle]:
        server.crm.limit = Limit(requests=2, window_s=10.0)
        try:
            yield Throttle(calls=5, description="2 requests per 10 s")
        finally:
            server.crm.limit = Limit()

    def expire_credentials(self, server: RunningCrm) -> None:
        server.crm.expire_sessions()

    @contextmanager
    def quota_spent(self, server: RunningCrm, *, writes_left: int) -> Iterator[None]:
        server.crm.quota = writes_left
        try:
            yield
        finally:
            server.crm.quota = None


class TestTinyCrmContract(ConnectorContract):
    adapter = TinyCrmAdapter()
