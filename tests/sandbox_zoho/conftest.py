"""Fixtures for the Zoho sandbox tests: one HTTPS sandbox per module, reset per test, and
an httpx client that trusts its CA."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relcrm.sandbox.zoho.pytest_support import access_token, zoho, zoho_http, zoho_sandbox
from relcrm.sandbox.zoho.server import ZohoSandbox

__all__ = ["api", "http", "token", "zoho", "zoho_sandbox"]


@pytest.fixture
def http(zoho: ZohoSandbox) -> Iterator[httpx.Client]:
    with zoho_http(zoho) as client:
        yield client


@pytest.fixture
def token(zoho: ZohoSandbox, http: httpx.Client) -> str:
    return access_token(zoho, http)


@pytest.fixture
def api(http: httpx.Client, token: str) -> httpx.Client:
    """The client with the access token on every call."""
    http.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return http
