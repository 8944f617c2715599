"""A sync run's figures in the Prometheus text format: rendered, written, pushed."""

from __future__ import annotations

import base64
import os
import re
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relcrm.errors import ExitCode
from relcrm.observability import (
    MetricsFileError,
    MetricsPushError,
    RunMetrics,
    push_metrics,
    pushgateway_group_url,
    render_metrics,
    write_metrics_file,
)
from relcrm.sync.counts import RunCounts
from relcrm.sync.engine import SyncReport

ENDED = datetime(2026, 11, 22, 6, 0, 9, tzinfo=UTC)

SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*)\})?'
    r" (?P<value>\S+)$"
)
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\\n]|\\.)*)"')


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A strict reader of the text format: every family announced by HELP then TYPE
    before its samples, each family in one block, no series twice."""
    assert text.endswith("\n")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    seen: set[str] = set()
    current: str | None = None
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in seen, f"{name} announced twice"
            seen.add(name)
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name == current and kind == "gauge"
            typed.add(name)
        else:
            match = SAMPLE.match(line)
            assert match, line
            assert match["name"] == current and current in typed, line
            labels = frozenset(
                (key, value.encode().decode("unicode_escape"))
                for key, value in LABEL.findall(match["labels"] or "")
            )
            key = (match["name"], labels)
            assert key not in samples, f"duplicate series {key}"
            samples[key] = float(match["value"])
    return samples


def series(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def _run(target: str = "hs-contact", **counts: int) -> RunMetrics:
    return RunMetrics(
        target=target,
        status="partial",
        counts={"written": 1180, "rejected": 2, "unmatched": 7, "fields_sent": 9000, **counts},
        api_calls=9,
        duration_s=8.125,
        lease_wait_s=1.5,
        finished_at=ENDED,
    )


def test_a_run_rendered_with_help_type_and_labels() -> None:
    text = render_metrics([_run()])
    assert text.startswith(
        "# HELP relcrm_sync_persons Persons per outcome in the last sync run of a target.\n"
        "# TYPE relcrm_sync_persons gauge\n"
    )
    assert (
        'relcrm_sync_persons{target="hs-contact",status="partial",outcome="written"} 1180\n' in text
    )
    samples = parse(text)
    labels = {"target": "hs-contact", "status": "partial"}
    assert samples[series("relcrm_sync_persons", **labels, outcome="rejected")] == 2
    assert samples[series("relcrm_sync_persons", **labels, outcome="unmatched")] == 7
    # Outcomes the run did not have are 0, not missing.
    assert samples[series("relcrm_sync_persons", **labels, outcome="failed")] == 0
    assert samples[series("relcrm_sync_fields", **labels, outcome="sent")] == 9000
    assert samples[series("relcrm_sync_api_calls", **labels)] == 9
    assert samples[series("relcrm_sync_duration_seconds", **labels)] == 8.125
    assert samples[series("relcrm_sync_lease_wait_seconds", **labels)] == 1.5
    assert samples[series("relcrm_sync_last_run_timestamp_seconds", **labels)] == (
        ENDED.timestamp()
    )


def test_several_targets_share_one_block_per_family() -> None:
    text = render_metrics([_run("hs-contact"), _run("sf-contact", recovered=3)])
    assert text.count("# TYPE relcrm_sync_api_calls gauge") == 1
    samples = parse(text)
    assert (
        samples[
            series(
                "relcrm_sync_persons", target="sf-contact", status="partial", outcome="recovered"
            )
        ]
        == 3
    )
    with pytest.raises(ValueError, match="one run per target"):
        render_metrics([_run("hs-contact"), _run("hs-contact")])


def test_label_values_are_escaped() -> None:
    odd = 'team "A"\\north\nwing'
    samples = parse(render_metrics([_run(odd)]))
    assert series("relcrm_sync_api_calls", target=odd, status="partial") in samples


def test_a_sync_report_is_read_as_it_is() -> None:
    report = SyncReport(
        target="sf-contact",
        run_id="3f9a0c1e7b2d4a65b1c2d3e4f5a6b7c8",
        status="succeeded",
        counts=RunCounts(selected=56, written=54, unmatched=2),
        api_calls=4,
        duration_s=2.5,
    )
    metrics = RunMetrics.of(report, finished_at=ENDED)
    assert metrics.status == "succeeded" and metrics.counts["written"] == 54
    samples = parse(render_metrics([metrics]))
    labels = {"target": "sf-contact", "status": "succeeded"}
    assert samples[series("relcrm_sync_persons", **labels, outcome="unmatched")] == 2
    assert samples[series("relcrm_sync_api_calls", **labels)] == 4
    stopped = RunMetrics.of(SyncReport(target="sf-contact", run_id=None))
    assert stopped.status == "stopped"
    dry = RunMetrics.of(SyncReport(target="sf-contact", run_id=None, dry_run=True))
    assert dry.status == "dry_run"


# ------------------------------------------------------------------- textfile collector


def test_the_file_is_written_whole_and_readable_by_the_collector(tmp_path: Path) -> None:
    path = tmp_path / "relcrm.prom"
    written = write_metrics_file(path, [_run()])
    assert written == path
    assert path.read_text(encoding="utf-8") == render_metrics([_run()])
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relcrm.prom"]  # no temp left


def test_a_reader_never_sees_half_a_file(tmp_path: Path) -> None:
    """node_exporter may read while relcrm writes: every read is one whole version."""
    path = tmp_path / "relcrm.prom"
    small = [_run("a")]
    large = [_run(f"target-{n}") for n in range(200)]
    versions = {render_metrics(small), render_metrics(large)}
    write_metrics_file(path, small)
    stop = threading.Event()
    seen: list[str] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(path.read_text(encoding="utf-8"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(60):
            write_metrics_file(path, large if n % 2 else small)
    finally:
        stop.set()
        reader.join()
    assert seen and set(seen) <= versions


def test_a_directory_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsFileError) as caught:
        write_metrics_file(tmp_path / "missing" / "relcrm.prom", [_run()])
    assert "missing/relcrm.prom" in caught.value.message
    assert caught.value.exit_code is ExitCode.CONFIG
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_a_read_only_directory_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "collector"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(MetricsFileError):
            write_metrics_file(folder / "relcrm.prom", [_run()])
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


# ------------------------------------------------------------------------- Pushgateway


@dataclass
class Gateway:
    """A tiny Pushgateway on 127.0.0.1: keeps what each PUT sent, answers as told."""

    url: str
    received: list[tuple[str, str, dict[str, str], str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            state.received.append((self.command, self.path, dict(self.headers), body))
            if any(part in self.path for part in state.refuse):
                answer = b"pushed metrics are invalid or inconsistent with existing metrics"
                self.send_response(400)
            else:
                answer = b""
                self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_each_target_is_put_into_its_own_group(gateway: Gateway) -> None:
    pushed = push_metrics(gateway.url, [_run("hs-contact"), _run("sf-contact")])
    assert pushed == [
        f"{gateway.url}/metrics/job/relcrm/target/hs-contact",
        f"{gateway.url}/metrics/job/relcrm/target/sf-contact",
    ]
    (method, path, headers, body), second = gateway.received
    assert method == "PUT" and path == "/metrics/job/relcrm/target/hs-contact"
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = parse(body)
    # The target comes from the group, so the pushed text does not repeat it.
    assert samples[series("relcrm_sync_persons", status="partial", outcome="written")] == 1180
    assert samples[series("relcrm_sync_api_calls", status="partial")] == 9
    assert "target=" not in body and "job=" not in body
    assert second[1] == "/metrics/job/relcrm/target/sf-contact"


def test_a_target_with_a_slash_goes_base64(gateway: Gateway) -> None:
    push_metrics(gateway.url + "/", [_run("eu/hs-contact")])
    ((_, path, _, _),) = gateway.received
    encoded = base64.urlsafe_b64encode(b"eu/hs-contact").decode()
    assert path == f"/metrics/job/relcrm/target@base64/{encoded}"
    assert pushgateway_group_url("http://pg:9091/", "a b") == (
        "http://pg:9091/metrics/job/relcrm/target/a%20b"
    )


def test_a_refused_target_is_reported_and_the_others_still_pushed(gateway: Gateway) -> None:
    gateway.refuse.add("hs-contact")
    with pytest.raises(MetricsPushError) as caught:
        push_metrics(gateway.url, [_run("hs-contact"), _run("sf-contact")])
    assert "hs-contact: 400" in caught.value.message
    assert "inconsistent with existing metrics" in caught.value.message
    assert "sf-contact" not in caught.value.message
    assert [path for _, path, _, _ in gateway.received][-1].endswith("/target/sf-contact")
    assert caught.value.exit_code is ExitCode.CONNECT


def test_credentials_in_the_url_are_sent_but_never_shown(gateway: Gateway) -> None:
    with_credentials = gateway.url.replace("http://", "http://ops:s3cret-pw@")
    pushed = push_metrics(with_credentials, [_run()])
    ((_, _, headers, _),) = gateway.received
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"ops:s3cret-pw").decode()
    assert "s3cret" not in pushed[0]
    gateway.refuse.add("hs-contact")
    with pytest.raises(MetricsPushError) as caught:
        push_metrics(with_credentials, [_run()])
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_a_gateway_that_is_not_there() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MetricsPushError, match="hs-contact: cannot reach"):
        push_metrics(f"http://127.0.0.1:{port}", [_run()], timeout_s=2)
