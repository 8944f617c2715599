"""Fixtures for the Dataverse sandbox tests: one HTTPS sandbox per module, reset per test,
and a raw httpx client on its Web API (there is no official client to test through: the
connector is built on httpx too)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relcrm.sandbox.dataverse.pytest_support import dv, dv_client_for, dv_sandbox
from relcrm.sandbox.dataverse.server import DataverseSandbox

__all__ = ["api", "dv", "dv_sandbox"]


@pytest.fixture
def api(dv: DataverseSandbox) -> Iterator[httpx.Client]:
    """A client with a fresh token on the reset sandbox."""
    with dv_client_for(dv) as client:
        yield client
