"""The demo's store, built once for the report tests through the library the demo uses
(:func:`relcrm.demo.run_demo`, with its own sandboxes), and its report written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relcrm.demo import DemoResult, run_demo
from relcrm.report import RelationshipReport, ReportOptions, write_report
from relcrm.store import Store

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoReport:
    demo: DemoResult
    html: Path
    report: RelationshipReport


@pytest.fixture(scope="package")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoReport]:
    workdir = tmp_path_factory.mktemp("demo")
    demo = run_demo(workdir, persons=60, seed=7, now=NOW)
    html = workdir / "report.html"
    with Store.open(demo.store_url) as store:
        report = write_report(store, html, ReportOptions(generated_at=NOW))
    yield DemoReport(demo, html, report)
