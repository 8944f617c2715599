"""No line wrapping at 80 columns when the output is a file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from relcrm.cli import app, err, out
from relcrm.observability import FILE_WIDTH, FileConsole
from relcrm.store import Store

LONG = "a reason that is longer than eighty columns, " * 4


@pytest.fixture(autouse=True)
def no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)


def _table() -> Table:
    table = Table()
    table.add_column("person")
    table.add_column("why")
    table.add_row("p-0042", LONG.strip())
    return table


def test_a_file_gets_whole_lines_and_whole_table_cells() -> None:
    stream = io.StringIO()
    console = FileConsole(file=stream, highlight=False)
    console.print(LONG.strip())
    console.print(_table())
    lines = stream.getvalue().splitlines()
    assert lines[0] == LONG.strip()
    assert any(LONG.strip() in line for line in lines[1:])  # the cell is on one line
    assert console.width == FILE_WIDTH and console.soft_wrap


def test_a_rule_in_a_file_stays_80_wide() -> None:
    stream = io.StringIO()
    FileConsole(file=stream).rule("relcrm demo")
    (line,) = stream.getvalue().splitlines()
    assert len(line) == 80 and "relcrm demo" in line


def test_a_terminal_wraps_as_usual() -> None:
    stream = io.StringIO()
    console = FileConsole(file=stream, force_terminal=True, width=40, color_system=None)
    console.print(LONG.strip())
    lines = stream.getvalue().splitlines()
    assert len(lines) > 1 and max(len(line) for line in lines) <= 40
    assert not console.soft_wrap


def test_columns_or_an_explicit_width_still_win(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FileConsole(file=io.StringIO(), width=100).width == 100
    monkeypatch.setenv("COLUMNS", "120")
    assert FileConsole(file=io.StringIO()).width == 120


def test_the_commands_consoles_do_not_wrap_when_redirected() -> None:
    assert isinstance(out, FileConsole) and isinstance(err, FileConsole)


def test_profile_table_in_a_file_keeps_each_reason_whole(tmp_path: Path) -> None:
    runner = CliRunner()
    sample = tmp_path / "sample.jsonl"
    store = f"sqlite:///{tmp_path}/relcrm.db"
    assert runner.invoke(app, ["sample", "--persons", "20", "--out", str(sample)]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(sample), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["profile", "--store", store, "--show", "20"])
    assert result.exit_code == 0, result.output
    with Store.open(store) as opened:
        first_reasons = [profile.reasons[0] for profile in opened.iter_profiles()]
    assert any(len(reason) > 60 for reason in first_reasons)
    for reason in first_reasons:
        assert reason in result.stdout  # not broken across lines
    assert max(len(line) for line in result.stdout.splitlines()) > 80


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_real_terminal_is_detected() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal:
        console = FileConsole(file=terminal)
        assert console.is_terminal and console.width != FILE_WIDTH
    os.close(leader)
