"""What an ops team reads besides the reports: logs, progress lines and metrics.

- :func:`configure_logging`: ``RELCRM_LOG_LEVEL`` / ``RELCRM_LOG_FORMAT`` (text or JSON
  lines on standard error, UTC ISO 8601 timestamps), with :class:`RedactingFilter` on
  every record: no email, phone, card, IBAN, credential or token reaches a log line.
- :class:`LineProgress`: progress as log lines (every 10 % or 30 s) where a progress bar
  cannot be drawn (cron, systemd, Kubernetes).
- :class:`FileConsole`: a rich console that does not wrap at 80 columns in a file.
- :func:`render_metrics`, :func:`write_metrics_file`, :func:`push_metrics`: a sync run's
  figures in the Prometheus text format, for node_exporter's textfile collector or a
  Pushgateway.

This package sits between the command line and the sync engine (see the import-linter
layers in pyproject.toml): it may use the stages' pure helpers (the verbatim redaction)
and is used by ``relcrm.cli``; the stages and the engine only call ``logging``.
"""

from relcrm.observability.console import FILE_WIDTH, FileConsole
from relcrm.observability.logs import (
    PROGRESS_LOGGER,
    JsonFormatter,
    LogFormat,
    TextFormatter,
    configure_logging,
    parse_format,
    parse_level,
)
from relcrm.observability.metrics import (
    MetricsError,
    MetricsFileError,
    MetricsPushError,
    RunMetrics,
    push_metrics,
    pushgateway_group_url,
    render_metrics,
    write_metrics_file,
)
from relcrm.observability.progress import LineProgress
from relcrm.observability.redaction import RedactingFilter, redact_log_text

__all__ = [
    "FILE_WIDTH",
    "PROGRESS_LOGGER",
    "FileConsole",
    "JsonFormatter",
    "LineProgress",
    "LogFormat",
    "MetricsError",
    "MetricsFileError",
    "MetricsPushError",
    "RedactingFilter",
    "RunMetrics",
    "TextFormatter",
    "configure_logging",
    "parse_format",
    "parse_level",
    "push_metrics",
    "pushgateway_group_url",
    "redact_log_text",
    "render_metrics",
    "write_metrics_file",
]
