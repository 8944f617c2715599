"""Reusable pytest fixtures and client helpers for tests that talk to the sandboxes.

Import the fixtures into a ``conftest.py``::

    from relcrm.sandbox.pytest_support import sf, sf_sandbox  # noqa: F401

``sf_sandbox`` runs one HTTPS Salesforce sandbox per test module (start-up is about 0.1 s,
but one server per module keeps suites fast); ``sf`` resets the org before each test and
hands out a simple-salesforce client that trusts the sandbox's CA.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce.api import Salesforce

from relcrm.sandbox.salesforce.server import SalesforceSandbox, running_sandbox
from relcrm.sandbox.salesforce.transport import loopback_session


def sf_client(sandbox: SalesforceSandbox, *, session_id: str | None = None, **kwargs: Any) -> Any:
    """A simple-salesforce client on the sandbox using a session id (no login call)."""
    session = loopback_session(sandbox.instance_url, sandbox.ca_file)
    return Salesforce(
        instance_url=sandbox.instance_url,
        session_id=session_id or sandbox.session_id,
        session=session,
        **kwargs,
    )


def sf_password_client(sandbox: SalesforceSandbox, **kwargs: Any) -> Any:
    """A simple-salesforce client that logs in with username, password and security token
    (the SOAP flow), reaching the sandbox through :class:`LoopbackAdapter`."""
    session = loopback_session(sandbox.instance_url, sandbox.ca_file)
    return Salesforce(
        username=sandbox.username,
        password=sandbox.password,
        security_token=sandbox.security_token,
        session=session,
        **kwargs,
    )


@pytest.fixture(scope="module")
def sf_sandbox() -> Iterator[SalesforceSandbox]:
    """One Salesforce sandbox for the whole test module."""
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sf(sf_sandbox: SalesforceSandbox) -> Any:
    """A clean org (records, schema, log, faults reset) and a session-id client on it."""
    sf_sandbox.reset()
    return sf_client(sf_sandbox)
