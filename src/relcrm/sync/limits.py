"""Thresholds an ops team sets on a run: how many unmatched persons or rejected records
it tolerates before the run counts as a failure for the scheduler (exit code 1).

A limit is a count (``25``) or a share of the persons the run was to write (``5%``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relcrm.errors import ConfigurationError, ExitCode
from relcrm.sync.engine import SyncReport

_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Limit:
    """At most ``value`` (a count), or ``value`` percent when ``percent``."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str, option: str) -> Limit:
        found = _LIMIT.match(text)
        if found is None or (found.group(2) and float(found.group(1)) > 100):
            raise ConfigurationError(
                f"{option} takes a count (25) or a percentage up to 100% (5%), got {text!r}",
                code="config.bad_limit",
            )
        return cls(float(found.group(1)), bool(found.group(2)))

    def exceeded(self, count: int, base: int) -> bool:
        if self.percent:
            return base > 0 and 100.0 * count / base > self.value
        return count > self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


@dataclass(frozen=True)
class RunLimits:
    """The thresholds of ``relcrm sync --max-unmatched / --max-rejected``."""

    unmatched: Limit | None = None
    rejected: Limit | None = None

    @classmethod
    def parse(cls, unmatched: str | None, rejected: str | None) -> RunLimits:
        return cls(
            Limit.parse(unmatched, "--max-unmatched") if unmatched is not None else None,
            Limit.parse(rejected, "--max-rejected") if rejected is not None else None,
        )

    def check(self, report: SyncReport) -> str | None:
        """Why ``report`` breaks a limit (and set its exit code to 1), or None."""
        counts = report.counts
        base = counts["selected"]
        reasons: list[str] = []
        unmatched = counts["unmatched"] + counts["ambiguous"]
        if self.unmatched is not None and self.unmatched.exceeded(unmatched, base):
            reasons.append(
                f"{unmatched} of {base} persons matched no record (limit {self.unmatched})"
            )
        rejected = counts["rejected"] + counts["failed"]
        if self.rejected is not None and self.rejected.exceeded(rejected, base):
            reasons.append(f"{rejected} of {base} records rejected (limit {self.rejected})")
        if not reasons:
            return None
        if report.stopped_by is None or report.stopped_by < ExitCode.REJECTED:
            report.stopped_by = max(report.exit_code, ExitCode.REJECTED)
        return "over the run's limits: " + "; ".join(reasons)


__all__ = ["Limit", "RunLimits"]
