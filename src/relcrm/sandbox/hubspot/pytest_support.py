"""Pytest fixtures and a client helper for tests that talk to the HubSpot sandbox.

Import the fixtures into a ``conftest.py``::

    from relcrm.sandbox.hubspot.pytest_support import hs_client, hs_sandbox  # noqa: F401

``hs_sandbox`` runs one HTTPS sandbox per test module; ``hs_client`` resets the portal
before each test and hands out an official ``hubspot.HubSpot`` client that trusts the
sandbox's CA, with the SDK's own retries off (relcrm's retry policy is the only one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot

from relcrm.sandbox.hubspot.server import HubSpotSandbox, running_hubspot_sandbox


def hs_client_for(sandbox: HubSpotSandbox, *, token: str | None = None, **kwargs: Any) -> Any:
    """An official client on the sandbox: its host, its CA, and no SDK retries."""
    options: dict[str, Any] = {
        "access_token": token or sandbox.token,
        "host": sandbox.base_url,
        "ssl_ca_cert": str(sandbox.ca_file),
        "retry": False,
    }
    options.update(kwargs)
    return HubSpot(**options)


@pytest.fixture(scope="module")
def hs_sandbox() -> Iterator[HubSpotSandbox]:
    """One HubSpot sandbox for the whole test module."""
    with running_hubspot_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def hs_client(hs_sandbox: HubSpotSandbox) -> Any:
    """A clean portal (records, schema, log, faults, limits reset) and a client on it."""
    hs_sandbox.reset()
    return hs_client_for(hs_sandbox)
