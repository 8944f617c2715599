"""`relcrm sandbox ...` starts a real server, says how to reach it, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests


@pytest.mark.parametrize(
    ("crm", "url_label", "probe"),
    [
        ("salesforce", "instance URL:", "/services/data/"),
        ("hubspot", "base URL:", "/crm/v3/properties/contacts"),
    ],
)
def test_sandbox_command_serves_until_interrupted(crm: str, url_label: str, probe: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from relcrm.cli import main; main()", "sandbox", crm],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        for line in process.stdout:
            label, _, value = line.partition(":")
            lines[label.strip()] = value.strip()
            if "CA file" in lines and url_label.rstrip(":") in lines:
                break
        base = lines[url_label.rstrip(":")]
        answer = requests.get(base + probe, verify=lines["CA file"], timeout=10)
        assert answer.status_code in (200, 401)  # reachable over verified TLS
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
