"""Fixtures for the fault matrix: one sandbox of each CRM and one profiled sample store for
the whole suite, and the matrix's table printed at the end of the run.

The Dataverse sandbox runs on :data:`dataverse_clock`, the clock its worlds' connectors
record their waits on: a ``Retry-After`` waited (instantly) moves the sandbox's service
protection window and token lifetimes as a real wait would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relcrm.models import Person
from relcrm.sandbox.dataverse import running_dataverse_sandbox
from relcrm.sandbox.dataverse.server import DataverseSandbox
from relcrm.sandbox.hubspot import running_hubspot_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from relcrm.sandbox.zoho.server import ZohoSandbox, running_zoho_sandbox
from tests.faults.world import Waits, sample_store

MATRIX: dict[tuple[str, str], dict[str, Any]] = {}
"""(fault, connector) -> the outcome row of its scenario, filled by the tests."""


@pytest.fixture(scope="session")
def salesforce_sandbox() -> Iterator[SalesforceSandbox]:
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def hubspot_sandbox() -> Iterator[HubSpotSandbox]:
    with running_hubspot_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def dataverse_clock() -> Waits:
    """The Dataverse sandbox's clock, shared with the waits of its worlds' connectors."""
    return Waits(start=10_000.0)


@pytest.fixture(scope="session")
def dataverse_sandbox(dataverse_clock: Waits) -> Iterator[DataverseSandbox]:
    with running_dataverse_sandbox(clock=dataverse_clock) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def zoho_sandbox() -> Iterator[ZohoSandbox]:
    with running_zoho_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Person]]:
    return sample_store(tmp_path_factory.mktemp("fault-sample"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MATRIX:
        return
    terminalreporter.section("fault matrix: records per outcome")
    header = f"{'fault':<28}{'connector':<12}{'once':>6}{'twice':>7}{'lost':>6}{'dead':>6}  reasons"
    terminalreporter.write_line(header)
    for (fault, crm), row in sorted(MATRIX.items()):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(row["reasons"].items())) or "-"
        terminalreporter.write_line(
            f"{fault:<28}{crm:<12}{row['once']:>6}{row['twice']:>7}{row['lost']:>6}"
            f"{row['dead-lettered']:>6}  {reasons}"
        )
