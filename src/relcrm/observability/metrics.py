"""A sync run's figures in the Prometheus text format: a textfile-collector file or a push.

A scheduled ``relcrm sync`` is a batch job: Prometheus cannot scrape it while it runs, so
its figures are left where Prometheus looks:

- :func:`write_metrics_file` writes them atomically (temporary file, then rename) to a
  ``.prom`` file in node_exporter's textfile-collector directory;
- :func:`push_metrics` PUTs them to a Pushgateway, one group per target
  (``/metrics/job/relcrm/target/<target>``), replacing that target's previous run.

Every family is a gauge that describes the **last** run of a target, labelled with the
target and the run's status (``succeeded``, ``partial``, ``failed``, ``paused``, ...)::

    # HELP relcrm_sync_persons Persons per outcome in the last sync run of a target.
    # TYPE relcrm_sync_persons gauge
    relcrm_sync_persons{target="hs-contact",status="succeeded",outcome="written"} 1180

The input is plain (:class:`RunMetrics`: a mapping of counts, API calls, seconds), so
this module needs nothing from the sync engine; :meth:`RunMetrics.of` reads a
``SyncReport`` or anything with the same attributes.
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import quote

import httpx

from relcrm.errors import ExitCode, RelcrmError

__all__ = [
    "CONTENT_TYPE",
    "PERSON_OUTCOMES",
    "MetricsError",
    "MetricsFileError",
    "MetricsPushError",
    "RunMetrics",
    "SyncRunLike",
    "push_metrics",
    "pushgateway_group_url",
    "render_metrics",
    "write_metrics_file",
]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of the Prometheus text exposition format."""

PERSON_OUTCOMES: Final[tuple[str, ...]] = (
    "selected",
    "written",
    "cleared",
    "unchanged",
    "rejected",
    "failed",
    "unmatched",
    "ambiguous",
    "skipped_no_consent",
)
"""Outcomes always present (0 when the run had none), so a series never vanishes from a
dashboard because a count was zero. Any other count of the run is exported too."""

FIELD_PREFIX: Final = "fields_"
"""Counts named ``fields_*`` count fields (``fields_sent``), not persons."""


class MetricsError(RelcrmError):
    """The run's figures could not be delivered; the run itself is not affected."""

    code = "metrics.failed"


class MetricsFileError(MetricsError):
    """The textfile-collector file could not be written."""

    code = "metrics.file_not_written"
    default_hint = "check that the directory exists and relcrm may write to it"
    exit_code = ExitCode.CONFIG


class MetricsPushError(MetricsError):
    """The Pushgateway could not be reached or refused the push."""

    code = "metrics.push_failed"
    default_hint = "check the Pushgateway URL and that it is up; the run's report is unaffected"
    exit_code = ExitCode.CONNECT


class CountsLike(Protocol):
    """A run's counts: ``relcrm.sync.counts.RunCounts`` has it."""

    def as_dict(self, *, nonzero: bool = False) -> dict[str, int]: ...


class SyncRunLike(Protocol):
    """What :meth:`RunMetrics.of` reads: ``relcrm.sync.engine.SyncReport`` has it (this
    package sits below the sync engine, so it names the shape, not the class)."""

    @property
    def target(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def counts(self) -> CountsLike: ...
    @property
    def api_calls(self) -> int: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def lease_wait_s(self) -> float: ...


@dataclass(frozen=True)
class RunMetrics:
    """One target's run, as the metrics show it."""

    target: str
    status: str
    counts: Mapping[str, int] = field(default_factory=dict)
    api_calls: int = 0
    duration_s: float = 0.0
    lease_wait_s: float = 0.0
    """Seconds the run waited for another run's lease on the target (``--wait``)."""
    finished_at: datetime | None = None
    """When the run ended; the time of rendering if None."""

    def __post_init__(self) -> None:
        if not self.target:
            raise ValueError("a run's metrics need its target's name")

    @classmethod
    def of(cls, report: SyncRunLike, *, finished_at: datetime | None = None) -> RunMetrics:
        """The metrics of a sync report (``status`` None, a stopped run, becomes
        ``stopped``; a dry run, ``dry_run``)."""
        status = "dry_run" if report.dry_run else report.status or "stopped"
        return cls(
            target=report.target,
            status=status,
            counts=report.counts.as_dict(),
            api_calls=report.api_calls,
            duration_s=report.duration_s,
            lease_wait_s=report.lease_wait_s,
            finished_at=finished_at,
        )


# ----------------------------------------------------------------------------- render


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(number: float) -> str:
    if isinstance(number, bool):
        return "1" if number else "0"
    if isinstance(number, int):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(float(number))


@dataclass
class _Family:
    name: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} gauge"]
        for labels, value in self.samples:
            text = ",".join(f'{key}="{_escape_label(item)}"' for key, item in labels.items())
            out.append(
                f"{self.name}{{{text}}} {_value(value)}" if text else f"{self.name} {_value(value)}"
            )
        return out


def _families(runs: Sequence[RunMetrics], *, now: datetime, with_target: bool) -> list[_Family]:
    persons = _Family(
        "relcrm_sync_persons", "Persons per outcome in the last sync run of a target."
    )
    fields = _Family("relcrm_sync_fields", "Fields per outcome in the last sync run of a target.")
    calls = _Family("relcrm_sync_api_calls", "CRM API calls made by the last sync run of a target.")
    duration = _Family(
        "relcrm_sync_duration_seconds", "How long the last sync run of a target took."
    )
    lease = _Family(
        "relcrm_sync_lease_wait_seconds",
        "Seconds the last sync run of a target waited for another run's lease.",
    )
    finished = _Family(
        "relcrm_sync_last_run_timestamp_seconds",
        "When the last sync run of a target ended (Unix time).",
    )
    for run in runs:
        base = (
            {"target": run.target, "status": run.status} if with_target else {"status": run.status}
        )
        names = list(PERSON_OUTCOMES) + sorted(set(run.counts) - set(PERSON_OUTCOMES))
        for name in names:
            value = run.counts.get(name, 0)
            if name.startswith(FIELD_PREFIX):
                fields.samples.append(({**base, "outcome": name[len(FIELD_PREFIX) :]}, value))
            else:
                persons.samples.append(({**base, "outcome": name}, value))
        calls.samples.append((base, run.api_calls))
        duration.samples.append((base, run.duration_s))
        lease.samples.append((base, run.lease_wait_s))
        ended = run.finished_at or now
        if ended.tzinfo is None:
            raise ValueError("finished_at needs a time zone")
        finished.samples.append((base, round(ended.timestamp(), 3)))
    return [family for family in (persons, fields, calls, duration, lease, finished)]


def render_metrics(runs: Iterable[RunMetrics], *, now: datetime | None = None) -> str:
    """The runs' figures in the Prometheus text exposition format (version 0.0.4).

    One block per metric family (HELP, TYPE, then a sample per run), labelled with
    ``target`` and ``status``. ``now`` stands for the end of runs without
    ``finished_at``. Two runs of one target would make duplicate series: ValueError.
    """
    listed = list(runs)
    targets = [run.target for run in listed]
    duplicates = sorted({name for name in targets if targets.count(name) > 1})
    if duplicates:
        raise ValueError(f"one run per target: {', '.join(duplicates)} given more than once")
    families = _families(listed, now=now or datetime.now(UTC), with_target=True)
    return "".join(line + "\n" for family in families for line in family.lines())


# ------------------------------------------------------------------------------ file


def write_metrics_file(
    path: str | os.PathLike[str], runs: Iterable[RunMetrics], *, now: datetime | None = None
) -> Path:
    """Write :func:`render_metrics` to ``path`` atomically, readable by node_exporter.

    The text goes to a hidden temporary file in the same directory (node_exporter reads
    only ``*.prom`` files), is flushed to disk, made world-readable (0644: the collector
    often runs as another user) and renamed over ``path``, so a scrape sees the old file
    or the new one, never half of one. The file holds these runs only: give each
    scheduled invocation its own file (``relcrm-<target>.prom``) so that one does not
    replace another's. Raises MetricsFileError.
    """
    target = Path(path)
    text = render_metrics(runs, now=now)
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise MetricsFileError(
            f"cannot write the metrics file {target}: {error.strerror or error}"
        ) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return target


# ------------------------------------------------------------------------------ push


def _path_value(value: str) -> str:
    """A grouping-key value as a URL path segment; base64 (``@base64``) when it holds a
    ``/`` or is empty, as the Pushgateway requires."""
    if value and "/" not in value:
        return quote(value, safe="")
    return base64.urlsafe_b64encode(value.encode()).decode() or "="


def _path_key(name: str, value: str) -> str:
    encoded = _path_value(value)
    suffix = "@base64" if not value or "/" in value else ""
    return f"{name}{suffix}/{encoded}"


def pushgateway_group_url(base_url: str, target: str, *, job: str = "relcrm") -> str:
    """``<base>/metrics/job/<job>/target/<target>``: the group a target's run replaces."""
    base = base_url.rstrip("/")
    return f"{base}/metrics/{_path_key('job', job)}/{_path_key('target', target)}"


def _shown(url: str) -> str:
    """A URL for a message: without any user:password."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


def push_metrics(
    base_url: str,
    runs: Iterable[RunMetrics],
    *,
    job: str = "relcrm",
    client: httpx.Client | None = None,
    timeout_s: float = 10.0,
    now: datetime | None = None,
) -> list[str]:
    """PUT each run's figures to a Pushgateway, one group per target; returns the group
    URLs (without credentials).

    A PUT replaces everything the group held, so a target's series are those of its
    last run. The ``target`` label comes from the group (``job`` too), not from the
    pushed text, as the Pushgateway requires. Credentials in the URL
    (``https://user:password@host``) are sent as basic auth and never shown in messages;
    ``client`` may carry others (headers, a CA). Every target is tried; if any fails,
    MetricsPushError names them all.
    """
    listed = list(runs)
    render_metrics(listed, now=now)  # the same checks as a file (one run per target)
    moment = now or datetime.now(UTC)
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    pushed: list[str] = []
    failures: list[str] = []
    try:
        for run in listed:
            families = _families([run], now=moment, with_target=False)
            body = "".join(line + "\n" for family in families for line in family.lines())
            url = pushgateway_group_url(base_url, run.target, job=job)
            try:
                answer = http.put(
                    url, content=body.encode(), headers={"Content-Type": CONTENT_TYPE}
                )
            except httpx.HTTPError as error:
                failures.append(
                    f"{run.target}: cannot reach {_shown(url)} ({type(error).__name__})"
                )
                continue
            if answer.status_code >= 300:
                reason = " ".join(answer.text.split())[:200]
                failures.append(f"{run.target}: {answer.status_code} from {_shown(url)}: {reason}")
                continue
            pushed.append(_shown(url))
    finally:
        if own:
            http.close()
    if failures:
        raise MetricsPushError("Pushgateway push failed for " + "; ".join(failures))
    return pushed
