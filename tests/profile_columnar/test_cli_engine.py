"""`relcrm profile --engine duckdb` saves the same profiles as the reference engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from relcrm.cli import app
from tests.profile_columnar.compare import same

runner = CliRunner()
CLOCK = "2026-11-22T12:00:00Z"


def _profiles(store: str, engine: str) -> dict[str, dict[str, Any]]:
    result = runner.invoke(
        app, ["profile", "--store", store, "--json", "--as-of", CLOCK, "--engine", engine]
    )
    assert result.exit_code == 0, result.output
    return {p["person_id"]: p for p in map(json.loads, result.stdout.splitlines())}


def test_both_engines_save_identical_profiles(tmp_path: Path, store_url: str) -> None:
    """On SQLite and on PostgreSQL: the store's JSON is read in bulk on both."""
    sample = tmp_path / "sample.jsonl"
    store = store_url
    made = runner.invoke(app, ["sample", "--out", str(sample), "--persons", "40", "--now", CLOCK])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["ingest", str(sample), "--store", store]).exit_code == 0

    columnar = _profiles(store, "duckdb")
    reference = _profiles(store, "reference")
    assert len(reference) == 40
    assert columnar.keys() == reference.keys()
    for person_id, expected in reference.items():
        assert same(columnar[person_id], expected), person_id
    assert columnar["twin-trapped"]["segment"] == "trapped_and_vocal"


def test_without_duckdb_the_engine_is_refused_with_its_code(tmp_path: Path) -> None:
    """A core install has no DuckDB: run the CLI in a process where it cannot be imported."""
    store = tmp_path / "relcrm.db"
    script = (
        "import sys; sys.modules['duckdb'] = None\n"
        "from relcrm.cli import app\n"
        f"app(['profile', '--store', {str(store)!r}, '--engine', 'duckdb', '--as-of', {CLOCK!r}])"
    )
    sample = tmp_path / "sample.jsonl"
    runner.invoke(app, ["sample", "--out", str(sample), "--persons", "5", "--now", CLOCK])
    runner.invoke(app, ["ingest", str(sample), "--store", str(store)])
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "profile.engine_unavailable" in done.stdout + done.stderr
