"""``relcrm voice link`` and ``relcrm voice serve`` as an operator runs them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from relcrm.cli import app
from relcrm.store import Store
from tests.cli_sandboxes import RELCRM, relcrm_env
from tests.voice.conftest import KEY_NEW, KEY_OLD, PERSON, jane


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("KEYS", "BASE_URL", "LINK_TTL", "SCORE"):
        monkeypatch.delenv(f"RELCRM_VOICE_{name}", raising=False)
    path = tmp_path / "relcrm.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upsert_person(jane())
    return path


def _voice(*args: str) -> Result:
    return CliRunner().invoke(app, ["voice", *args])


def test_link_prints_a_signed_link_for_a_known_person(
    store_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELCRM_VOICE_KEYS", f"{KEY_NEW},{KEY_OLD}")
    monkeypatch.setenv("RELCRM_VOICE_BASE_URL", "https://feedback.example.com/voice/")
    printed = _voice("link", PERSON, "--store", str(store_file))
    assert printed.exit_code == 0, printed.output
    url = printed.stdout.strip()
    assert url.startswith("https://feedback.example.com/voice/feedback/")
    assert PERSON not in url and "jane" not in url and KEY_NEW not in printed.output

    before = datetime.now(UTC)
    as_json = _voice(
        "link",
        PERSON,
        "--store",
        str(store_file),
        "--purpose",
        "preferences",
        "--ttl",
        "2h",
        "--json",
    )
    record = json.loads(as_json.stdout)
    assert record["purpose"] == "preferences" and "/preferences/" in record["url"]
    expires = datetime.fromisoformat(record["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(hours=2) - timedelta(seconds=2) <= expires
    assert expires <= before + timedelta(hours=2, seconds=2)
    with Store.open(f"sqlite:///{store_file}") as store:
        assert [link.purpose for link in store.voice_links_of(PERSON)] == [
            "feedback",
            "preferences",
        ]


@pytest.mark.parametrize(
    ("args", "keys", "words"),
    [
        (["p-nobody"], KEY_NEW, "[voice.unknown_person] no person 'p-nobody'"),
        ([PERSON], "", "[voice.invalid_settings] no signing key"),
        ([PERSON], "too-short", "shorter than 32 characters"),
        ([PERSON, "--ttl", "soon"], KEY_NEW, "not a duration: 'soon'"),
    ],
)
def test_link_refuses_clearly(
    store_file: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], keys: str, words: str
) -> None:
    monkeypatch.setenv("RELCRM_VOICE_KEYS", keys)
    refused = _voice("link", *args, "--store", str(store_file))
    assert refused.exit_code == 2
    assert words in " ".join(refused.output.split())
    assert "Traceback" not in refused.output
    with Store.open(f"sqlite:///{store_file}") as store:
        assert store.voice_links_of(PERSON) == []


def test_link_needs_an_existing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELCRM_VOICE_KEYS", KEY_NEW)
    missing = _voice("link", PERSON, "--store", str(tmp_path / "nowhere.db"))
    assert missing.exit_code == 2 and "store.not_found" in missing.output
    assert not (tmp_path / "nowhere.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_behind_its_proxy_until_stopped(store_file: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = relcrm_env(RELCRM_VOICE_KEYS=KEY_NEW, RELCRM_VOICE_ANALYZER="none")
    link = subprocess.run(
        [*RELCRM, "voice", "link", PERSON, "--store", str(store_file)],
        env={**env, "RELCRM_VOICE_BASE_URL": f"http://127.0.0.1:{port}"},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    command = [*RELCRM, "voice", "serve", "--store", str(store_file), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--forwarded-allow-ips", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "relcrm voice serve did not start"
            time.sleep(0.1)
        page = httpx.get(link, headers={"x-forwarded-for": "203.0.113.7"})
        assert page.status_code == 200 and "How did we do?" in page.text
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=15)
    assert server.returncode == 0, errors
    assert "serving on http://127.0.0.1" in errors
    assert KEY_NEW not in errors and link.rsplit("/", 1)[-1] not in errors  # no token logged
