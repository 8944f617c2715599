"""Pytest fixtures and a raw HTTP client for tests that talk to the Dataverse sandbox.

Import the fixtures into a ``conftest.py``::

    from relcrm.sandbox.dataverse.pytest_support import dv, dv_sandbox  # noqa: F401

``dv_sandbox`` runs one HTTPS sandbox per test module; ``dv`` resets it before each test
(records, custom columns, faults, limits, log). :func:`dv_client_for` hands out an
``httpx.Client`` on the Web API that trusts the sandbox's CA and carries a bearer token
obtained with the client-credentials flow, as any Dataverse client would.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from relcrm.sandbox.dataverse.server import DataverseSandbox, running_dataverse_sandbox

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


def tls_context(sandbox: DataverseSandbox) -> ssl.SSLContext:
    """A context that trusts the sandbox's CA (and nothing else); verification stays on."""
    return ssl.create_default_context(cafile=str(sandbox.ca_file))


def token_for(
    sandbox: DataverseSandbox, *, client_id: str | None = None, client_secret: str | None = None
) -> str:
    """An access token from the sandbox's token endpoint (client credentials)."""
    with httpx.Client(verify=tls_context(sandbox), trust_env=False) as http:
        answer = http.post(
            sandbox.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id or sandbox.client_id,
                "client_secret": client_secret or sandbox.client_secret,
                "scope": sandbox.scope,
            },
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


def dv_client_for(
    sandbox: DataverseSandbox, *, token: str | None = None, **kwargs: object
) -> httpx.Client:
    """An ``httpx.Client`` on ``{base}/api/data/v9.2/`` with the OData headers and a token."""
    headers = {**ODATA_HEADERS, "Authorization": f"Bearer {token or token_for(sandbox)}"}
    return httpx.Client(
        base_url=sandbox.api_url,
        headers=headers,
        verify=tls_context(sandbox),
        trust_env=False,
        timeout=30.0,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def dv_sandbox() -> Iterator[DataverseSandbox]:
    """One Dataverse sandbox for the whole test module."""
    with running_dataverse_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def dv(dv_sandbox: DataverseSandbox) -> DataverseSandbox:
    """The module's sandbox, reset: standard columns, no records, calm, default limits."""
    dv_sandbox.reset()
    return dv_sandbox
