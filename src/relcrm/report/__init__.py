"""The relationship report: one self-contained HTML page (inline SVG, no script, no network)
of how customers feel, from the store; and the same figures as data.

- :func:`build_report`: the figures (:class:`RelationshipReport`), for Python and ``--json``;
- :func:`render_html`: the page for them;
- :func:`write_report`: both, into a file (what ``relcrm report`` and the demo call).
"""

from __future__ import annotations

import os
from pathlib import Path

from relcrm.errors import ConfigurationError
from relcrm.report.build import build_report
from relcrm.report.html import render_html
from relcrm.report.model import Quadrant, RelationshipReport
from relcrm.report.options import ReportOptions, parse_since
from relcrm.store import Store


def write_report(
    store: Store, path: str | os.PathLike[str], options: ReportOptions | None = None
) -> RelationshipReport:
    """Build the report of ``store`` and write it as HTML to ``path``; return its figures.

    Raises :class:`ConfigurationError` (``report.write_failed``) when the file cannot be
    written.
    """
    report = build_report(store, options)
    page = render_html(report)
    target = Path(path)
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"cannot write the report to {target}: {error.strerror or error}",
            code="report.write_failed",
            hint=(
                "choose another output path (--out, or --report in relcrm demo), "
                "in a folder that exists and you may write to"
            ),
        ) from error
    return report


__all__ = [
    "Quadrant",
    "RelationshipReport",
    "ReportOptions",
    "build_report",
    "parse_since",
    "render_html",
    "write_report",
]
