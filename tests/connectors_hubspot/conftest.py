"""Fixtures: one HTTPS HubSpot sandbox per module, and a connector on it built the way
production builds it (settings -> official client with retries off)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from relcrm.connectors.hubspot import HubSpotConnector, HubSpotSettings, RateLimiter
from relcrm.connectors.retry import RetryPolicy
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.pytest_support import hs_client, hs_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox

__all__ = ["connector", "connector_for", "hs_client", "hs_sandbox", "sleeps"]


def settings_for(sandbox: HubSpotSandbox, token: str | None = None) -> HubSpotSettings:
    return HubSpotSettings(
        access_token=token or sandbox.token,
        base_url=sandbox.base_url,
        ca_file=sandbox.ca_file,
    )


def connector_for(
    sandbox: HubSpotSandbox,
    *,
    token: str | None = None,
    sleeps: list[float] | None = None,
    limiter: RateLimiter | None = None,
    **kwargs: Any,
) -> HubSpotConnector:
    """A connector on the sandbox whose retry policy records its waits instead of sleeping."""
    record = sleeps if sleeps is not None else []
    policy = RetryPolicy(sleep=record.append)
    return HubSpotConnector(settings_for(sandbox, token), policy=policy, limiter=limiter, **kwargs)


@pytest.fixture(autouse=True)
def _default_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that tighten the sandbox's rate limits get the defaults back afterwards
    (``reset`` forgets usage, not limits)."""
    yield
    if "hs_sandbox" in request.fixturenames:
        sandbox: HubSpotSandbox = request.getfixturevalue("hs_sandbox")
        sandbox.set_rate_limits(RateLimits())


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connector(hs_client: Any, hs_sandbox: HubSpotSandbox, sleeps: list[float]) -> HubSpotConnector:
    """A clean portal (``hs_client`` resets it) and a connector on it."""
    return connector_for(hs_sandbox, sleeps=sleeps)
