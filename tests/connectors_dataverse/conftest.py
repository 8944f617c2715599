"""Fixtures: one HTTPS Dataverse sandbox per module (reset per test), and a connector on it
built the way production builds it (settings -> httpx with the sandbox's CA), whose retry
policy records its waits on a fake clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from relcrm.connectors.dataverse import DataverseConnector, DataverseSettings
from relcrm.connectors.retry import RetryPolicy
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.server import DataverseSandbox


class FakeClock:
    """A clock that a recorded ``sleep`` moves: waits take no time, but limits pass."""

    def __init__(self) -> None:
        self.now = 10_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def settings_for(sandbox: DataverseSandbox, **overrides: Any) -> DataverseSettings:
    values: dict[str, Any] = {
        "environment_url": sandbox.environment_url,
        "authority_url": sandbox.authority_url,
        "tenant_id": sandbox.tenant_id,
        "client_id": sandbox.client_id,
        "client_secret": SecretStr(sandbox.client_secret),
        "ca_file": sandbox.ca_file,
        "key_poll_s": 1.0,
    }
    values.update(overrides)
    return DataverseSettings(_env_file=None, **values)


def connector_for(
    sandbox: DataverseSandbox, clock: FakeClock, **overrides: Any
) -> DataverseConnector:
    policy = RetryPolicy(sleep=clock.sleep, clock=clock)
    return DataverseConnector(settings_for(sandbox, **overrides), policy=policy)


@pytest.fixture(scope="module")
def module_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def dv_sandbox(module_clock: FakeClock) -> Iterator[DataverseSandbox]:
    """One sandbox per module, on the module's fake clock (limits, token lifetimes)."""
    with running_dataverse_sandbox(clock=module_clock) as sandbox:
        yield sandbox


@pytest.fixture
def clock(module_clock: FakeClock) -> FakeClock:
    module_clock.sleeps.clear()
    return module_clock


@pytest.fixture
def dv(dv_sandbox: DataverseSandbox) -> DataverseSandbox:
    dv_sandbox.reset()
    return dv_sandbox


@pytest.fixture
def connector(dv: DataverseSandbox, clock: FakeClock) -> Iterator[DataverseConnector]:
    built = connector_for(dv, clock)
    yield built
    built.close()
