"""Pytest fixtures and a plain HTTP client for tests that talk to the Zoho sandbox.

Import the fixtures into a ``conftest.py``::

    from relcrm.sandbox.zoho.pytest_support import zoho, zoho_sandbox  # noqa: F401

``zoho_sandbox`` runs one HTTPS sandbox per test module; ``zoho`` resets it before each
test and hands it out. :func:`zoho_http` is an ``httpx.Client`` that trusts the sandbox's
CA (and nothing from the environment), and :func:`access_token` gets a token the way a
client does, through the token endpoint.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from relcrm.sandbox.zoho.server import ZohoSandbox, running_zoho_sandbox


def zoho_http(sandbox: ZohoSandbox, *, timeout: float = 10.0) -> httpx.Client:
    """An HTTP client on the sandbox, verifying TLS against the sandbox's CA only."""
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    return httpx.Client(base_url=sandbox.base_url, verify=context, trust_env=False, timeout=timeout)


def access_token(sandbox: ZohoSandbox, http: httpx.Client, refresh_token: str | None = None) -> str:
    """A fresh access token from the refresh-token grant."""
    answer = http.post(
        "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "refresh_token": refresh_token or sandbox.refresh_token,
        },
    ).json()
    return str(answer["access_token"])


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}"}


@pytest.fixture(scope="module")
def zoho_sandbox() -> Iterator[ZohoSandbox]:
    """One Zoho sandbox for the whole test module."""
    with running_zoho_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def zoho(zoho_sandbox: ZohoSandbox) -> ZohoSandbox:
    """The module's sandbox, reset: fresh org, calm faults, default limits, empty log."""
    zoho_sandbox.reset()
    return zoho_sandbox
