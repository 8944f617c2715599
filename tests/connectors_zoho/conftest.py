"""Fixtures: one HTTPS Zoho sandbox per module, reset per test, and a connector on it built
the way production builds it (settings -> httpx trusting the sandbox's CA), whose retry
policy records its waits instead of sleeping."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.models import FieldSpec
from relcrm.sandbox.zoho.pytest_support import zoho, zoho_sandbox
from relcrm.sandbox.zoho.server import ZohoSandbox

__all__ = ["connector", "connector_for", "settings_for", "sleeps", "zoho", "zoho_sandbox"]


def settings_for(sandbox: ZohoSandbox, **override: Any) -> ZohoSettings:
    values: dict[str, Any] = {
        "accounts_url": sandbox.accounts_url,
        "client_id": SecretStr(sandbox.client_id),
        "client_secret": SecretStr(sandbox.client_secret),
        "refresh_token": SecretStr(sandbox.refresh_token),
        "ca_file": sandbox.ca_file,
    }
    values.update(override)
    return ZohoSettings(_env_file=None, **values)  # type: ignore[call-arg]


def connector_for(
    sandbox: ZohoSandbox,
    *,
    sleeps: list[float] | None = None,
    settings: ZohoSettings | None = None,
    **kwargs: Any,
) -> ZohoConnector:
    """A connector on the sandbox whose retry policy records its waits instead of sleeping."""
    record = sleeps if sleeps is not None else []
    policy = RetryPolicy(sleep=record.append, record_attempts=3)
    return ZohoConnector(settings or settings_for(sandbox), policy=policy, **kwargs)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connector(zoho: ZohoSandbox, sleeps: list[float]) -> ZohoConnector:
    """A clean org (``zoho`` resets it) and a connector on it."""
    return connector_for(zoho, sleeps=sleeps)


def zoho_specs(name: str = "zoho-contact") -> list[FieldSpec]:
    from relcrm.mapping import load_shipped

    return list(load_shipped(name).field_specs())
