"""Fixtures for the admin commands: both sandboxes, and targets files pointing at them.

The targets files are real files in ``tmp_path``; the secrets (a Salesforce session id,
a HubSpot private-app token) come from the environment, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.models import Person
from relcrm.sandbox.hubspot.pytest_support import hs_sandbox
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.pytest_support import sf_sandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync import ingest_interchange, profile_store
from relcrm.sync.config import load_config
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, seed_org
from relcrm.testing.synthetic import generate_sample

__all__ = ["hs_sandbox", "sf_sandbox"]


def targets_file(
    folder: Path,
    sf: SalesforceSandbox,
    hs: HubSpotSandbox,
    extra: str = "",
    *,
    store: str = "relcrm.db",
) -> Path:
    """A targets file with the shipped Salesforce Contact and HubSpot contact mappings;
    its store is ``store`` (a URL, or a SQLite file beside the targets file)."""
    path = folder / "relcrm.toml"
    path.write_text(
        f"""
[store]
url = "{store}"

[[targets]]
name = "sf-contact"
connector = "salesforce"
mapping = "salesforce-contact"

[targets.settings]
instance_url = "{sf.instance_url}"
ca_file = "{sf.ca_file}"
username = "{sf.username}"
api_version = "{sf.api_version}"

[[targets]]
name = "hs-contact"
connector = "hubspot"
mapping = "hubspot-contact"

[targets.settings]
base_url = "{hs.base_url}"
ca_file = "{hs.ca_file}"
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def sandboxes(
    sf_sandbox: SalesforceSandbox,
    hs_sandbox: HubSpotSandbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[tuple[SalesforceSandbox, HubSpotSandbox]]:
    """Both sandboxes reset, their secrets in the environment, and nothing else of
    relcrm's in it (a developer's own RELCRM_* variables must not leak into tests)."""
    import os

    for key in list(os.environ):
        if key.startswith(("RELCRM_SALESFORCE_", "RELCRM_HUBSPOT_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    sf_sandbox.reset()
    hs_sandbox.reset()
    monkeypatch.setenv("RELCRM_SALESFORCE_SESSION_ID", sf_sandbox.session_id)
    monkeypatch.setenv("RELCRM_HUBSPOT_ACCESS_TOKEN", hs_sandbox.token)
    yield sf_sandbox, hs_sandbox


@pytest.fixture
def config(sandboxes: tuple[SalesforceSandbox, HubSpotSandbox], tmp_path: Path) -> Path:
    return targets_file(tmp_path, *sandboxes)


def populate(
    config: Path,
    sandboxes: tuple[SalesforceSandbox, HubSpotSandbox],
    *,
    persons: int,
    now: datetime,
) -> list[Person]:
    """A sample in the targets file's store (by default relcrm.db beside it), profiled, the same
    persons already in both CRMs (as a real org and portal hold them), and the mapped
    fields applied with ``relcrm fields apply``. Returns the persons who consent and have
    an email: those a sync writes."""
    sample = generate_sample(persons=persons, seed=5, now=now)
    path = config.parent / "sample.jsonl"
    write_interchange(sample.records(), path)
    store_url = load_config(config).store_url
    assert store_url is not None
    with Store.open(store_url) as store:
        ingest_interchange(path, store)
        list(profile_store(store, now))
    sf, hs = sandboxes
    seed_org(OrgRest(sf), sample.persons)
    seed_portal(hubspot_connector(hs).client.sdk, sample.persons)
    applied = CliRunner().invoke(app, ["fields", "apply", "--config", str(config)])
    assert applied.exit_code == 0, applied.output
    return [p for p in sample.persons if p.consent.granted and p.emails]
