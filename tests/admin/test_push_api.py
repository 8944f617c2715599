"""A developer's push (issue 11): persons and profiles built in memory with
``build_profile`` go to the CRMs of a targets file without a file in between, through
the public API only."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

import relcrm
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, seed_org
from tests.admin.conftest import targets_file

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]


def test_profiles_built_in_memory_are_pushed_once(
    sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    sf, hs = sandboxes
    config = targets_file(tmp_path, sf, hs, store=store_url)
    sample = relcrm.generate_sample(persons=10, seed=8, now=NOW)
    seed_org(OrgRest(sf), sample.persons)
    seed_portal(hubspot_connector(hs).client.sdk, sample.persons)
    from typer.testing import CliRunner

    from relcrm.cli import app

    assert CliRunner().invoke(app, ["fields", "apply", "--config", str(config)]).exit_code == 0
    by_person: dict[str, list[relcrm.Perception]] = defaultdict(list)
    for perception in sample.perceptions:
        by_person[perception.person_id].append(perception)
    profiles = [relcrm.build_profile(p, by_person[p.id], NOW) for p in sample.persons]

    reports = relcrm.push_profiles(config, sample.persons, profiles)

    writable = [p for p in sample.persons if p.consent.granted and p.emails]
    assert [(r.target, r.counts["written"]) for r in reports] == [
        ("sf-contact", len(writable)),
        ("hs-contact", len(writable)),
    ]
    assert all(r.exit_code is relcrm.ExitCode.OK for r in reports)
    again = relcrm.push_profiles(config, sample.persons, profiles)
    assert [r.counts["written"] for r in again] == [0, 0]  # the store remembers


def test_a_profile_without_its_person_is_refused(sandboxes: Sandboxes, tmp_path: Path) -> None:
    config = targets_file(tmp_path, *sandboxes)
    sample = relcrm.generate_sample(persons=3, seed=8, now=NOW)
    profile = relcrm.build_profile(sample.persons[0], [], NOW)
    with pytest.raises(relcrm.ConfigurationError, match="without their person"):
        relcrm.push_profiles(config, [], [profile])


def test_profiling_saves_eagerly_and_returns_a_report(tmp_path: Path) -> None:
    sample = relcrm.generate_sample(persons=6, seed=8, now=NOW)
    with relcrm.open_store(f"sqlite:///{tmp_path / 'relcrm.db'}") as store:
        store.upsert_persons(sample.persons)
        store.add_perceptions(sample.perceptions)
        run = relcrm.profile_and_save(store, NOW)
        assert run.persons == 6 and sum(run.segments.values()) == 6
        assert len(list(store.iter_profiles())) == 6
