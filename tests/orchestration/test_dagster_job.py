"""examples/orchestration/dagster_job.py, executed by Dagster in process (issue 11): the real
library, both sandboxes over real sockets, a real store (SQLite, and PostgreSQL when a
server is named), as tests/admin/test_run_command.py drives ``relcrm run``."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sources.interchange import write_interchange
from relcrm.store import Store
from relcrm.sync.lease import LeasePolicy, TargetLease, target_lease_name
from relcrm.testing.hubspot import hubspot_connector, seed_portal
from relcrm.testing.salesforce import OrgRest, seed_org
from relcrm.testing.synthetic import generate_sample
from tests.admin.conftest import targets_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "orchestration" / "dagster_job.py"
NOW = "2026-11-01T12:00:00Z"
Sandboxes = tuple[SalesforceSandbox, HubSpotSandbox]

SOURCES = """
[[sources]]
name = "crm export"
format = "interchange"
path = "exports/*.jsonl"
"""


@pytest.fixture(scope="module")
def example() -> ModuleType:
    """The example file, loaded as Dagster's ``dagster dev -f`` would load it."""
    spec = importlib.util.spec_from_file_location("relcrm_dagster_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _writes(sandbox: SalesforceSandbox | HubSpotSandbox) -> Counter[str]:
    """Record writes the CRM accepted, per record id."""
    return Counter(w.id or "" for w in sandbox.log.writes() if w.operation in ("update", "upsert"))


def _deployment(sandboxes: Sandboxes, folder: Path, store_url: str, persons: int) -> Path:
    """A targets file with one interchange source, its CRMs holding the sample's people
    and relcrm's fields (as an admin leaves them); the sandboxes' logs cleared."""
    sf, hs = sandboxes
    config = targets_file(folder, sf, hs, store=store_url)
    config.write_text(config.read_text(encoding="utf-8") + SOURCES, encoding="utf-8")
    sample = generate_sample(persons=persons, seed=3, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    (folder / "exports").mkdir()
    write_interchange(sample.records(), folder / "exports" / "day1.jsonl")
    seed_org(OrgRest(sf), sample.persons)
    seed_portal(hubspot_connector(hs).client.sdk, sample.persons)
    applied = CliRunner().invoke(app, ["fields", "apply", "--config", str(config)])
    assert applied.exit_code == 0, applied.output
    sf.log.clear()
    hs.log.clear()
    return config


@pytest.fixture(scope="module")
def quick_retries(example: ModuleType) -> dg.JobDefinition:
    """The example's op with its retry policy but no delay: a retry the op asks for shows
    in the result at once (instead of 10 minutes later)."""

    @dg.job
    def relcrm_quick_retries() -> None:
        example.relcrm_run.with_retry_policy(dg.RetryPolicy(max_retries=2, delay=0))()

    return relcrm_quick_retries


def _run(
    example: ModuleType, job: dg.JobDefinition | None = None, **config: Any
) -> dg.ExecuteInProcessResult:
    run_config = dg.RunConfig(ops={"relcrm_run": example.RelcrmRunConfig(as_of=NOW, **config)})
    result: dg.ExecuteInProcessResult = (job or example.relcrm_daily).execute_in_process(
        run_config=run_config, raise_on_error=False
    )
    return result


def _output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (output,) = [e for e in result.events_for_node("relcrm_run") if e.is_successful_output]
    assert output.step_output_data is not None
    return {key: value.value for key, value in output.step_output_data.metadata.items()}


def _failure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    failure = result.failure_data_for_node("relcrm_run")
    assert failure is not None and failure.user_failure_data is not None
    return {key: value.value for key, value in failure.user_failure_data.metadata.items()}


def test_the_definitions_load(example: ModuleType) -> None:
    dg.Definitions.validate_loadable(example.defs)
    job = example.defs.resolve_job_def("relcrm_daily")
    assert job.name == "relcrm_daily"
    (schedule,) = example.defs.schedules
    assert schedule.cron_schedule == "0 6 * * *" and schedule.job_name == "relcrm_daily"


def test_the_job_ingests_profiles_and_syncs_each_person_once(
    example: ModuleType, sandboxes: Sandboxes, tmp_path: Path, store_url: str
) -> None:
    sf, hs = sandboxes
    config = _deployment(sandboxes, tmp_path, store_url, persons=12)
    metrics = tmp_path / "textfile" / "relcrm.prom"
    metrics.parent.mkdir()

    first = _run(example, config_path=str(config), metrics_file=str(metrics))

    assert first.success
    report = first.output_for_node("relcrm_run")
    assert report["exit_code"] == 0 and {s["target"] for s in report["syncs"]} == {
        "sf-contact",
        "hs-contact",
    }
    written = [s["counts"]["written"] for s in report["syncs"]]
    assert written[0] == written[1] > 3
    for sandbox in (sf, hs):  # each matched record written once, by this run
        writes = _writes(sandbox)
        assert len(writes) == written[0] and set(writes.values()) == {1}
    figures = _output_metadata(first)
    assert figures["exit_code"] == 0 and figures["persons_profiled"] >= 12
    assert figures["perceptions_new"] > 10 and figures["lines_rejected"] == 0
    assert figures["sf-contact/written"] == figures["hs-contact/written"] == written[0]
    assert "| sf-contact | succeeded |" in figures["syncs"]
    assert figures["report"] == report
    text = metrics.read_text(encoding="utf-8")  # the textfile collector's file
    assert (
        f'relcrm_sync_persons{{target="sf-contact",status="succeeded",outcome="written"}} '
        f"{written[0]}" in text
    )

    second = _run(example, config_path=str(config))

    assert second.success
    again = second.output_for_node("relcrm_run")
    assert [s["counts"]["written"] for s in again["syncs"]] == [0, 0]
    assert all(f["perceptions_new"] == 0 for s in again["sources"] for f in s["files"])
    for sandbox in (sf, hs):  # nothing sent a second time
        assert set(_writes(sandbox).values()) == {1}


def test_rejections_fail_the_run_unless_allowed(
    example: ModuleType,
    quick_retries: dg.JobDefinition,
    sandboxes: Sandboxes,
    tmp_path: Path,
    store_url: str,
) -> None:
    sf, _ = sandboxes
    config = _deployment(sandboxes, tmp_path, store_url, persons=6)
    with (tmp_path / "exports" / "day1.jsonl").open("a", encoding="utf-8") as lines:
        lines.write("this line is not JSON\n")

    failed = _run(example, quick_retries, config_path=str(config))

    assert not failed.success
    assert failed.retry_attempts_for_node("relcrm_run") == 0  # a retry would change nothing
    figures = _failure_metadata(failed)
    assert figures["exit_code"] == 1 and figures["lines_rejected"] == 1
    written = figures["sf-contact/written"]
    assert written > 0 and figures["report"]["syncs"][0]["status"] == "succeeded"
    assert len(_writes(sf)) == written  # the good lines went through all the same

    warned = _run(example, quick_retries, config_path=str(config), allow_rejections=True)

    assert warned.success
    figures = _output_metadata(warned)
    assert figures["exit_code"] == 1 and figures["sf-contact/written"] == 0
    assert set(_writes(sf).values()) == {1}


def test_a_busy_target_is_retried_then_fails_with_exit_code_5(
    example: ModuleType,
    quick_retries: dg.JobDefinition,
    sandboxes: Sandboxes,
    tmp_path: Path,
    store_url: str,
) -> None:
    config = _deployment(sandboxes, tmp_path, store_url, persons=4)

    with (
        Store.open(store_url) as store,
        TargetLease(store, target_lease_name("sf-contact"), LeasePolicy(), holder="elsewhere"),
    ):
        result = _run(example, quick_retries, config_path=str(config))

    assert not result.success
    assert result.retry_attempts_for_node("relcrm_run") == 2
    figures = _failure_metadata(result)
    assert figures["exit_code"] == 5
    by_target = {s["target"]: s for s in figures["report"]["syncs"]}
    assert by_target["sf-contact"]["error_code"] == "run.target_busy"
    assert by_target["hs-contact"]["exit_code"] == 0  # the other target went through


def test_a_configuration_error_fails_at_once(
    example: ModuleType, quick_retries: dg.JobDefinition, tmp_path: Path
) -> None:
    result = _run(example, quick_retries, config_path=str(tmp_path / "missing.toml"))

    assert not result.success and result.retry_attempts_for_node("relcrm_run") == 0
    figures = _failure_metadata(result)
    assert figures == {"exit_code": 2, "error_code": "config.invalid_targets"}
