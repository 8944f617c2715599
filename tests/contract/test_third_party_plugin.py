"""A connector installed as its own package (examples/connector_plugin) is found through
its entry point and passes the contract suite, with nothing in relcrm touched: the
package is installed offline into a folder of its own and used from a fresh interpreter
whose path includes that folder."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from relcrm.connectors import available_connectors

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "connector_plugin"
MIN_PASSED = 12
"""Checks TinyCRM's connector must pass (its optional features aside)."""


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_a_plugin_package_passes_the_contract(tmp_path: Path) -> None:
    target = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_NO_INDEX"] = "1"  # offline: nothing may be downloaded
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        env,
        tmp_path,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "examplecrm" not in available_connectors(), "relcrm itself does not know it"

    env["PYTHONPATH"] = str(target)
    listed = _run(
        [sys.executable, "-c", "import relcrm.connectors as c; print(c.available_connectors())"],
        env,
        tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    assert "'examplecrm'" in listed.stdout

    report = tmp_path / "report.xml"
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_contract.py").write_bytes((PLUGIN / "tests" / "test_contract.py").read_bytes())
    ran = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            f"--junitxml={report}",
            str(tests),
        ],
        env,
        tmp_path,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = [
        "skipped" if case.find("skipped") is not None else "passed"
        for case in cases
        if case.find("failure") is None and case.find("error") is None
    ]
    assert outcomes.count("passed") >= MIN_PASSED, outcomes
    assert outcomes.count("skipped") < outcomes.count("passed")
