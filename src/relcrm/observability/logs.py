"""Logging for the ``relcrm`` command: levels, text or JSON lines, UTC timestamps, redaction.

The library itself only calls ``logging.getLogger(__name__)``; the command (or a script)
calls :func:`configure_logging` once. Every line goes to standard error (standard output
stays for reports and ``--json``), carries an ISO 8601 UTC timestamp and its level, and
passes :class:`~relcrm.observability.redaction.RedactingFilter` first.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TextIO

from pydantic import ValidationError

from relcrm.errors import ConfigurationError
from relcrm.observability.redaction import RedactingFilter, extra_fields
from relcrm.settings import RelcrmSettings

__all__ = [
    "PROGRESS_LOGGER",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configure_logging",
    "parse_format",
    "parse_level",
    "utc_timestamp",
]

PROGRESS_LOGGER: Final = "relcrm.progress"
"""The logger progress lines are written to (INFO records; see :class:`LineProgress`)."""

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogFormat(StrEnum):
    """How log lines look: ``text`` for people, ``json`` (one object a line) for machines."""

    TEXT = "text"
    JSON = "json"


def utc_timestamp(created: float) -> str:
    """``2026-11-22T06:00:01.123Z``: ISO 8601, UTC, milliseconds."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-11-22T06:00:01.123Z WARNING relcrm.sync.engine: message``, then any traceback."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, the record's
    ``extra=`` fields, and ``exception`` / ``stack`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            payload.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners and
    ``contextlib.redirect_stderr`` replace it after logging was configured)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def parse_level(value: str | int) -> int:
    """A level name (any case) or number as a ``logging`` level; ConfigurationError if
    it is neither."""
    if isinstance(value, int):
        return value
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    if text == "WARN":
        text = "WARNING"
    if text not in LEVELS:
        raise ConfigurationError(
            f"unknown log level {value!r}",
            hint=f"use one of {', '.join(LEVELS)}, in --log-level or RELCRM_LOG_LEVEL",
        )
    return int(logging.getLevelName(text))


def parse_format(value: str | LogFormat) -> LogFormat:
    """``text`` or ``json`` (any case); ConfigurationError otherwise."""
    try:
        return LogFormat(str(value).strip().lower())
    except ValueError:
        raise ConfigurationError(
            f"unknown log format {value!r}",
            hint="use text or json, in --log-format or RELCRM_LOG_FORMAT",
        ) from None


def _settings() -> RelcrmSettings:
    try:
        return RelcrmSettings()
    except ValidationError as error:
        names = sorted({f"RELCRM_{str(e['loc'][0]).upper()}" for e in error.errors() if e["loc"]})
        raise ConfigurationError(
            f"invalid setting: {', '.join(names) or 'RELCRM_*'}",
            hint="fix the environment variable or its line in .env",
        ) from None


def configure_logging(
    level: str | int | None = None,
    log_format: str | LogFormat | None = None,
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send log records to standard error (or ``stream``), formatted and redacted.

    ``level`` and ``log_format`` default to ``RELCRM_LOG_LEVEL`` (WARNING) and
    ``RELCRM_LOG_FORMAT`` (text). The level applies to the root logger, so the HTTP
    libraries' records (httpx logs each request at INFO) follow it too. Progress lines
    (logger ``relcrm.progress``, INFO) are shown at every level up to WARNING; set
    ERROR or CRITICAL to silence them.

    Calling it again replaces the handler it installed before, never adds a second one.
    Returns the handler. Raises ConfigurationError for an unknown level or format.
    """
    if level is None or log_format is None:
        settings = _settings()
        level = settings.log_level if level is None else level
        log_format = settings.log_format if log_format is None else log_format
    resolved_level = parse_level(level)
    resolved_format = parse_format(log_format)
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if resolved_format is LogFormat.JSON else TextFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(resolved_level)
    progress = logging.getLogger(PROGRESS_LOGGER)
    progress.setLevel(logging.INFO if resolved_level <= logging.WARNING else resolved_level)
    return handler


_HANDLER_NAME: Final = "relcrm"
