"""`relcrm profile --engine spark` as a process: profiles saved in the store, equal to the
reference engine's, and the profiles table written with --out; without PySpark or Java
it stops with a catalogued error that says what to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from relcrm.cli import app
from tests.profile_columnar.compare import same
from tests.profile_spark.conftest import require_spark, require_sqlglot

runner = CliRunner()
CLOCK = "2026-11-22T12:00:00Z"


def _store(tmp_path: Path, persons: int) -> str:
    sample = tmp_path / "sample.jsonl"
    store = str(tmp_path / "relcrm.db")
    made = runner.invoke(
        app, ["sample", "--out", str(sample), "--persons", str(persons), "--now", CLOCK]
    )
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["ingest", str(sample), "--store", store]).exit_code == 0
    return store


def _relcrm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relcrm", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )


def _saved(store: str) -> dict[str, dict[str, Any]]:
    """The profiles the store holds (``--json`` after profiling)."""
    result = runner.invoke(
        app, ["profile", "--store", store, "--json", "--as-of", CLOCK, "--engine", "reference"]
    )
    assert result.exit_code == 0, result.output
    return {p["person_id"]: p for p in map(json.loads, result.stdout.splitlines())}


def test_the_cli_saves_the_reference_profiles(tmp_path: Path) -> None:
    require_spark()
    store = _store(tmp_path, 40)
    reference = _saved(store)
    out = tmp_path / "profiles.parquet"
    done = _relcrm(
        "profile", "--store", store, "--engine", "spark", "--as-of", CLOCK, "--json",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    printed = {p["person_id"]: p for p in map(json.loads, done.stdout.splitlines())}
    assert len(reference) == 40
    assert printed.keys() == reference.keys()
    for person_id, expected in reference.items():
        assert same(printed[person_id], expected), person_id
    assert printed["twin-trapped"]["segment"] == "trapped_and_vocal"

    # The profiles table: one row a person, the whole profile as JSON.
    import duckdb

    rows = duckdb.sql(
        f"SELECT person_id, segment, profile FROM read_parquet('{out}/*.parquet')"
    ).fetchall()
    assert {row[0] for row in rows} == reference.keys()
    for person_id, segment, profile in rows:
        assert segment == reference[person_id]["segment"]
        assert same(json.loads(profile), reference[person_id])

    # ... which another store (where relcrm sync runs) imports without Spark.
    other = tmp_path / "other"
    other.mkdir()
    elsewhere = _store(other, 40)
    imported = runner.invoke(
        app, ["profile", "--store", elsewhere, "--import-profiles", str(out), "--json"]
    )
    assert imported.exit_code == 0, imported.output
    again = {p["person_id"]: p for p in map(json.loads, imported.stdout.splitlines())}
    assert again.keys() == reference.keys()
    assert all(same(again[k], reference[k]) for k in reference)


def test_options_are_checked_before_anything_runs(tmp_path: Path) -> None:
    store = _store(tmp_path, 3)
    alone = runner.invoke(
        app, ["profile", "--store", store, "--engine", "spark", "--perceptions", "x.parquet"]
    )
    assert alone.exit_code == 2
    assert "config.invalid" in alone.output
    stray = runner.invoke(app, ["profile", "--store", store, "--out", "x"])
    assert stray.exit_code == 2
    assert "--engine spark" in stray.output
    missing = runner.invoke(
        app, ["profile", "--store", store, "--import-profiles", str(tmp_path / "none")]
    )
    assert missing.exit_code == 2
    assert "profile.input_invalid" in missing.output


def test_the_sql_is_emitted_for_a_dialect() -> None:
    require_sqlglot()
    done = runner.invoke(app, ["profile", "--emit-sql", "spark", "--as-of", CLOCK])
    assert done.exit_code == 0, done.output
    assert done.stdout.count("-- relcrm profile recipe:") == 3
    assert "AGGREGATE(" in done.stdout
    assert "FSUM" not in done.stdout
    unknown = runner.invoke(app, ["profile", "--emit-sql", "oracle", "--as-of", CLOCK])
    assert unknown.exit_code == 2
    assert "profile.transpile_failed" in unknown.output


def _refused(tmp_path: Path, env: dict[str, str], *prefix: str) -> str:
    store = _store(tmp_path, 3)
    args = ["profile", "--store", store, "--engine", "spark", "--as-of", CLOCK]
    if prefix:
        script = "\n".join([*prefix, "from relcrm.cli import app", f"app({args!r})"])
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
            check=False, env=env,
        )  # fmt: skip
    else:
        done = _relcrm(*args, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_without_java_it_says_what_to_install(tmp_path: Path) -> None:
    """No JAVA_HOME and no java on PATH (an empty folder as PATH)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(empty)
    said = _refused(tmp_path, env)
    assert "profile.spark_unavailable" in said
    assert "Java" in said
    assert "openjdk-17-jre-headless" in said
    assert "relcrm[spark]" in said


def test_without_pyspark_it_says_what_to_install(tmp_path: Path) -> None:
    said = _refused(tmp_path, dict(os.environ), "import sys; sys.modules['pyspark'] = None")
    assert "profile.spark_unavailable" in said
    assert "PySpark" in said
    assert "relcrm[spark]" in said


def test_parquet_inputs_in_this_process_reuse_its_session(tmp_path: Path, spark: Any) -> None:
    """--perceptions/--persons: Spark reads Parquet (here, the store's own rows written
    out); in a process that already has a session (a notebook, a job), that one is used
    and left running."""
    from relcrm.profile.columnar.spark import write_parquet_inputs
    from relcrm.store import Store

    store = _store(tmp_path, 12)
    reference = _saved(store)
    with Store.open(f"sqlite:///{store}") as opened:
        people, said = opened.persons_and_perceptions_json()
    where = write_parquet_inputs(people, said, tmp_path / "in")
    done = runner.invoke(
        app,
        [
            "profile", "--store", store, "--engine", "spark", "--as-of", CLOCK, "--json",
            "--perceptions", where.perceptions, "--persons", where.persons,
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    printed = {p["person_id"]: p for p in map(json.loads, done.stdout.splitlines())}
    assert printed.keys() == reference.keys()
    assert all(same(printed[k], reference[k]) for k in reference)
    assert spark.sparkContext._jsc is not None  # still running
    assert spark.range(3).count() == 3
