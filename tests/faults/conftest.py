"""Fixtures for the fault matrix: one sandbox of each CRM and one profiled sample store for
the whole suite, and the matrix's table printed at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relcrm.models import Person
from relcrm.sandbox.hubspot import running_hubspot_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox, running_sandbox
from tests.faults.world import sample_store

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
