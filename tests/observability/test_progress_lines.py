"""Progress lines where no bar can be drawn: every 10 %, every 30 s, and a last line."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.observability import PROGRESS_LOGGER, LineProgress, configure_logging


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("WARNING", "text", stream=stream)
    return stream


def _messages(stream: io.StringIO) -> list[str]:
    return [line.split(f"{PROGRESS_LOGGER}: ", 1)[1] for line in stream.getvalue().splitlines()]


def test_a_line_every_ten_percent_and_a_last_one(lines: io.StringIO) -> None:
    clock = Clock()
    with LineProgress("profiling", clock=clock) as progress:
        task = progress.add_task("profile", total=1000)
        for _ in range(100):
            clock.now += 2.0  # 200 s for 1000 items
            progress.advance(task, 10)
    messages = _messages(lines)
    assert messages[0] == "profiling: 100 of 1,000 (10%), 20.0 s, 5/s"
    assert messages[4] == "profiling: 500 of 1,000 (50%), 100.0 s, 5/s"
    # 10 % .. 90 %, then the last line (100 % is left to it).
    assert len(messages) == 10
    assert messages[-1] == "profiling: done, 1,000 of 1,000 (100%), 200.0 s, 5/s"


def test_a_fast_run_writes_its_last_line_only(lines: io.StringIO) -> None:
    clock = Clock()
    with LineProgress("profiling", clock=clock) as progress:
        task = progress.add_task("profile", total=60)
        for _ in range(60):
            clock.now += 0.005
            progress.advance(task)
    assert _messages(lines) == ["profiling: done, 60 of 60 (100%), 0.3 s, 200/s"]


def test_a_step_reached_too_soon_is_written_once_the_gap_has_passed(lines: io.StringIO) -> None:
    clock = Clock()
    with LineProgress("ingesting", clock=clock, min_gap_s=5) as progress:
        task = progress.add_task("ingest", total=100)
        progress.advance(task, 30)  # 30 % at once: too soon
        clock.now += 6
        progress.advance(task, 1)  # 31 %: the step is written now
        clock.now += 1
        progress.advance(task, 1)  # still step 3: nothing
    assert _messages(lines)[:-1] == ["ingesting: 31 of 100 (31%), 6.0 s, 5/s"]


def test_without_a_total_a_line_every_interval(lines: io.StringIO) -> None:
    clock = Clock()
    with LineProgress("ingesting", clock=clock, interval_s=30) as progress:
        task = progress.add_task("ingest", total=None)
        for _ in range(12):
            clock.now += 10
            progress.advance(task, 500)
    assert _messages(lines) == [
        "ingesting: 1,500 so far, 30.0 s, 50/s",
        "ingesting: 3,000 so far, 60.0 s, 50/s",
        "ingesting: 4,500 so far, 90.0 s, 50/s",
        "ingesting: 6,000 so far, 120.0 s, 50/s",
        "ingesting: done, 6,000, 120.0 s, 50/s",
    ]


def test_a_bar_like_update_with_fields_as_the_sync_command_uses(lines: io.StringIO) -> None:
    """The sync command's bar calls update(task, completed=..., written=...)."""
    clock = Clock()
    with LineProgress(clock=clock) as progress:
        task = progress.add_task("sync hs-contact", total=400, written=0)
        for read in range(100, 500, 100):
            clock.now += 5
            progress.update(task, completed=read, written=read - 3)
    messages = _messages(lines)
    assert messages[0] == "sync hs-contact: 100 of 400 (25%), written 97, 5.0 s, 20/s"
    assert messages[-1] == "sync hs-contact: done, 400 of 400 (100%), written 397, 20.0 s, 20/s"


def test_a_block_left_by_an_error_says_stopped(lines: io.StringIO) -> None:
    clock = Clock()
    with pytest.raises(RuntimeError), LineProgress("profiling", clock=clock) as progress:
        task = progress.add_task("profile", total=10)
        progress.advance(task, 4)
        raise RuntimeError("store gone")
    assert _messages(lines) == ["profiling: stopped, 4 of 10 (40%), 0.0 s"]


def test_json_lines_carry_the_figures() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", "json", stream=stream)
    clock = Clock()
    with LineProgress("profiling", clock=clock) as progress:
        task = progress.add_task("profile", total=8)
        clock.now += 2
        progress.advance(task, 8)
    (record,) = (json.loads(line) for line in stream.getvalue().splitlines())
    assert record["level"] == "INFO" and record["logger"] == PROGRESS_LOGGER
    assert record["progress"] == {
        "task": "profiling",
        "completed": 8,
        "total": 8,
        "percent": 100.0,
        "elapsed_s": 2.0,
        "state": "done",
    }


def test_silent_above_warning() -> None:
    stream = io.StringIO()
    configure_logging("ERROR", "text", stream=stream)
    with LineProgress("profiling") as progress:
        progress.advance(progress.add_task("profile", total=3), 3)
    assert stream.getvalue() == ""


def test_a_logger_of_your_own() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tests.progress")
    logger.addHandler(Keep())
    logger.setLevel(logging.INFO)
    logger.propagate = False
    with LineProgress("copying", logger=logger) as progress:
        progress.advance(progress.add_task("copy", total=2), 2)
    assert [r.getMessage().split(",")[0] for r in records] == ["copying: done"]


# ------------------------------------------------------------------------- the command


def test_ingest_and_profile_write_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    runner = CliRunner()  # its streams are not terminals
    sample = tmp_path / "sample.jsonl"
    assert runner.invoke(app, ["sample", "--persons", "15", "--out", str(sample)]).exit_code == 0
    store = ["--store", f"sqlite:///{tmp_path}/relcrm.db"]
    ingested = runner.invoke(app, ["ingest", str(sample), *store])
    assert ingested.exit_code == 0, ingested.output
    assert "relcrm.progress: ingesting: done, " in ingested.stderr
    profiled = runner.invoke(app, ["profile", *store])
    assert profiled.exit_code == 0, profiled.output
    assert "relcrm.progress: profiling: done, 15 of 15 (100%)" in profiled.stderr
    assert "\x1b[" not in profiled.stderr  # no terminal control sequences
