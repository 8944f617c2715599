"""``RELCRM_LOG_LEVEL``, ``--log-format text|json``, UTC timestamps and levels."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from relcrm.errors import ConfigurationError
from relcrm.observability import PROGRESS_LOGGER, configure_logging, parse_level

TEXT_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) (?P<logger>[\w.]+): "
    r"(?P<message>.*)$"
)


def _recent(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.tzinfo is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


def test_text_lines_carry_a_utc_timestamp_the_level_and_the_logger() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    logging.getLogger("relcrm.sync.engine").info("sync %s succeeded", "hs-contact")
    logging.getLogger("relcrm.sync.engine").debug("not shown at INFO")
    (line,) = stream.getvalue().splitlines()
    match = TEXT_LINE.match(line)
    assert match, line
    assert match["level"] == "INFO" and match["logger"] == "relcrm.sync.engine"
    assert match["message"] == "sync hs-contact succeeded"
    assert _recent(match["time"])


def test_json_lines_are_one_object_each() -> None:
    stream = io.StringIO()
    configure_logging("warning", "JSON", stream=stream)
    logger = logging.getLogger("relcrm.sync.lease")
    logger.info("hidden")
    logger.warning("took over %s", "sf-contact", extra={"target": "sf-contact"})
    logger.error("two\nlines")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "relcrm.sync.lease"
    assert first["message"] == "took over sf-contact" and first["target"] == "sf-contact"
    assert first["time"].endswith("Z") and _recent(first["time"])
    assert second["message"] == "two\nlines"  # a multi-line message stays one JSON line


def test_the_environment_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELCRM_LOG_LEVEL", "debug")
    monkeypatch.setenv("RELCRM_LOG_FORMAT", "json")
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("relcrm.store").debug("opened")
    assert json.loads(stream.getvalue())["level"] == "DEBUG"
    assert logging.getLogger().level == logging.DEBUG
    # Arguments win over the environment.
    configure_logging("ERROR", "text", stream=stream)
    assert logging.getLogger().level == logging.ERROR


def test_configuring_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", "text", stream=first)
    configure_logging("INFO", "text", stream=second)
    logging.getLogger("relcrm").warning("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_progress_lines_show_up_to_warning_and_not_above() -> None:
    configure_logging("WARNING", "text", stream=io.StringIO())
    assert logging.getLogger(PROGRESS_LOGGER).isEnabledFor(logging.INFO)
    assert not logging.getLogger("relcrm.sync").isEnabledFor(logging.INFO)
    configure_logging("ERROR", "text", stream=io.StringIO())
    assert not logging.getLogger(PROGRESS_LOGGER).isEnabledFor(logging.INFO)


@pytest.mark.parametrize(
    ("given", "level"), [("info", 20), ("WARN", 30), (" Error ", 40), ("5", 5)]
)
def test_levels_by_name_or_number(given: str, level: int) -> None:
    assert parse_level(given) == level


def test_unknown_level_or_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown log level 'loud'"):
        configure_logging("loud", "text")
    with pytest.raises(ConfigurationError, match="unknown log format 'xml'"):
        configure_logging("INFO", "xml")


# ------------------------------------------------------------------------- the command


def _sample(tmp_path: Path) -> Path:
    runner = CliRunner()
    sample = tmp_path / "sample.jsonl"
    result = runner.invoke(app, ["sample", "--persons", "12", "--out", str(sample)])
    assert result.exit_code == 0, result.output
    return sample


def test_cli_log_format_json_makes_every_stderr_line_json(tmp_path: Path) -> None:
    sample = _sample(tmp_path)
    store = f"sqlite:///{tmp_path}/relcrm.db"
    result = CliRunner().invoke(
        app,
        ["--log-format", "json", "--log-level", "INFO", "ingest", str(sample), "--store", store],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    done = [line for line in lines if line["logger"] == PROGRESS_LOGGER]
    assert done[-1]["progress"]["state"] == "done"
    assert "persons" in result.stdout  # the summary stays on stdout


def test_cli_honours_relcrm_log_level(tmp_path: Path) -> None:
    sample = _sample(tmp_path)
    store = f"sqlite:///{tmp_path}/relcrm.db"
    quiet = CliRunner().invoke(
        app, ["ingest", str(sample), "--store", store], env={"RELCRM_LOG_LEVEL": "ERROR"}
    )
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""  # not even the progress line
    chatty = CliRunner().invoke(
        app, ["ingest", str(sample), "--store", store], env={"RELCRM_LOG_LEVEL": "INFO"}
    )
    assert chatty.exit_code == 0, chatty.output
    assert TEXT_LINE.match(chatty.stderr.splitlines()[-1])


def test_cli_refuses_an_unknown_level_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["--log-level", "loud", "version"])
    assert result.exit_code == 2
    assert "unknown log level 'loud'" in result.stderr
    bad_env = CliRunner().invoke(app, ["version"], env={"RELCRM_LOG_FORMAT": "xml"})
    assert bad_env.exit_code == 2 and "unknown log format 'xml'" in bad_env.stderr


def test_a_real_process_logs_to_stderr_only(tmp_path: Path) -> None:
    """The installed command, not a test runner: stdout a file, stderr a pipe."""
    sample = _sample(tmp_path)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from relcrm.cli import main; main()",
            "--log-format",
            "json",
            "ingest",
            str(sample),
            "--store",
            f"sqlite:///{tmp_path}/relcrm.db",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["persons"] == 12
    (line,) = completed.stderr.splitlines()
    record = json.loads(line)
    assert record["logger"] == PROGRESS_LOGGER and record["level"] == "INFO"
    assert record["message"].startswith("ingesting: done,")
