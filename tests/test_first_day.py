"""First-day polish (issue 11): `relcrm init`, `relcrm sandbox ... --write-config`,
`--version`, flags without `<bool>`, no stray `relcrm.db`, a busy port, the sandboxes'
keys removed on SIGTERM, and the LICENSE."""

from __future__ import annotations

import json
import re
import signal
import socket
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from relcrm import __version__
from relcrm.cli import app
from relcrm.cli.init_command import Crm, targets_template
from relcrm.sandbox._server import PortUnavailableError
from relcrm.sandbox.hubspot import running_hubspot_sandbox
from relcrm.sync.config import allowed_settings, build_connector, load_config
from tests.cli_sandboxes import RELCRM, SandboxProcess, relcrm_env

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.output


# --------------------------------------------------------------------------- --version


def test_version_option_and_command_print_the_version() -> None:
    for args in (["--version"], ["version"]):
        code, output = invoke(*args)
        assert code == 0, output
        assert output.strip() == __version__


def test_version_option_works_as_installed() -> None:
    done = subprocess.run(
        [*RELCRM, "--version"], capture_output=True, text=True, env=relcrm_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == __version__


# --------------------------------------------------------------------------- --help


def _command_paths() -> Iterator[list[str]]:
    root = typer.main.get_command(app)

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(root, [])


COMMAND_PATHS = list(_command_paths())


@pytest.mark.parametrize(
    "path", COMMAND_PATHS, ids=[" ".join(p) or "relcrm" for p in COMMAND_PATHS]
)
def test_help_shows_no_type_for_flags(path: list[str]) -> None:
    code, output = invoke(*path, "--help")
    assert code == 0, output
    assert "<bool>" not in output
    assert re.search(r"--help\s+Show this message", output), output


def test_help_still_shows_the_types_of_options_that_take_values() -> None:
    code, output = invoke("ingest", "--help")
    assert code == 0
    assert "<path>" in output  # --columns FILE
    assert re.search(r"--json\s+One JSON object", output)  # a flag: no type column
    code, output = invoke("demo", "--help")
    assert re.search(r"--salesforce\s+--no-salesforce\s+Also sync", output), output


def test_every_command_is_in_the_walk() -> None:
    names = {" ".join(path) for path in COMMAND_PATHS}
    for expected in ("init", "sandbox salesforce", "sandbox hubspot", "dead-letters list"):
        assert expected in names


# --------------------------------------------------------------------------- no stray store

HUBSPOT_TARGETS = """\
[store]
url = "{store}"

[[targets]]
name = "hs"
connector = "hubspot"
mapping = "hubspot-contact"

[targets.settings]
base_url = "https://127.0.0.1:9"
retry_attempts = 1
"""
"""A targets file whose CRM is nowhere (port 9 refuses): a command that reaches for it
fails with exit 3 after having decided whether to open the store."""


def _targets(folder: Path, store: str = "missing.db") -> Path:
    path = folder / "relcrm.toml"
    path.write_text(HUBSPOT_TARGETS.format(store=store), encoding="utf-8")
    return path


STORE_READING = [
    ["profile"],
    ["runs"],
    ["dead-letters", "list"],
    ["audit"],
    ["forget", "--person-id", "p1", "--store-only"],
]


@pytest.mark.parametrize("command", STORE_READING, ids=" ".join)
def test_store_reading_commands_do_not_create_a_store(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELCRM_STORE_URL", raising=False)
    code, output = invoke(*command)  # the default, ./relcrm.db
    assert code == 2, output
    assert f"no store at {tmp_path / 'relcrm.db'}" in output
    assert "store.not_found" in output
    assert list(tmp_path.iterdir()) == []

    elsewhere = tmp_path / "sub" / "state.db"
    code, output = invoke(*command, "--store", str(elsewhere))
    assert code == 2 and f"no store at {elsewhere}" in output
    code, output = invoke(*command, env={"RELCRM_STORE_URL": f"sqlite:///{elsewhere}"})
    assert code == 2 and f"no store at {elsewhere}" in output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["runs"], ["dead-letters", "list"], ["audit"]], ids=" ".join)
def test_the_targets_files_store_is_checked_too(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = _targets(tmp_path)
    code, output = invoke(*command, "--config", str(config))
    assert code == 2, output
    assert f"no store at {tmp_path / 'missing.db'}" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relcrm.toml"]


def test_dead_letters_retry_needs_an_existing_store(tmp_path: Path) -> None:
    config = _targets(tmp_path)
    code, output = invoke("dead-letters", "retry", "--config", str(config))
    assert code == 2 and "no store at" in output
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("command", [["mapping", "check"], ["fields", "plan"]], ids=" ".join)
def test_admin_commands_never_open_the_store(command: list[str], tmp_path: Path) -> None:
    config = _targets(tmp_path)
    token = {"RELCRM_HUBSPOT_ACCESS_TOKEN": "pat-test"}
    code, output = invoke(*command, "--config", str(config), env=token)
    assert code == 3, output  # nobody listens on port 9: cannot connect
    assert not (tmp_path / "missing.db").exists()


def test_an_existing_store_is_read_as_before(tmp_path: Path) -> None:
    store = tmp_path / "relcrm.db"
    person = json.dumps({"type": "person", "id": "p1", "emails": ["p1@example.com"]})
    (tmp_path / "one.jsonl").write_text(person + "\n", encoding="utf-8")
    assert invoke("ingest", str(tmp_path / "one.jsonl"), "--store", str(store))[0] == 0
    for command in STORE_READING[:4]:
        code, output = invoke(*command, "--store", str(store))
        assert code == 0, (command, output)
    code, output = invoke("runs", "--config", str(_targets(tmp_path, store="relcrm.db")))
    assert code == 0 and "no runs yet" in output


def test_other_databases_are_not_second_guessed() -> None:
    from relcrm.cli import sqlite_file

    assert sqlite_file("sqlite:///relcrm.db") == Path("relcrm.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://relcrm@db/relcrm") is None


# --------------------------------------------------------------------------- relcrm init

KEY = re.compile(r"^(#\s?)?([a-z_]+)\s*=")
"""A key of the targets file, live or commented out (environment variables, in capitals,
are examples inside descriptions)."""


def test_init_writes_a_targets_file_that_loads(tmp_path: Path) -> None:
    out = tmp_path / "relcrm.toml"
    code, output = invoke("init", "--out", str(out))
    assert code == 0, output
    config = load_config(out)
    assert [t.name for t in config.targets] == ["salesforce-contact", "hubspot-contact"]
    assert config.store_url == f"sqlite:///{tmp_path / 'relcrm.db'}"
    assert out.read_text(encoding="utf-8") == targets_template()


def test_every_key_of_the_template_says_what_it_does() -> None:
    lines = targets_template().splitlines()
    keys = 0
    for number, line in enumerate(lines):
        match = KEY.match(line)
        if match is None:
            continue
        keys += 1
        previous = lines[number - 1] if number else ""
        described_above = previous.startswith("#") and KEY.match(previous) is None
        described_here = not match.group(1) and "#" in line.split("=", 1)[1]
        assert described_above or described_here, f"line {number + 1}: {line!r}"
    assert keys > 20


@pytest.mark.parametrize("connector", sorted(crm.value for crm in Crm))
def test_the_template_names_every_setting_a_connector_takes(connector: str) -> None:
    text = targets_template()
    for key in allowed_settings(connector):
        assert re.search(rf"^#? ?{key} = ", text, re.MULTILINE), f"{connector}: {key}"


def test_the_commented_out_keys_are_valid_when_uncommented(tmp_path: Path) -> None:
    text = re.sub(r"^# ([a-z_]+ = .+)$", r"\1", targets_template(), flags=re.MULTILINE)
    (tmp_path / "salesforce.env").write_text("", encoding="utf-8")
    (tmp_path / "hubspot.env").write_text("", encoding="utf-8")
    path = tmp_path / "relcrm.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    salesforce = config.select("salesforce-contact")[0]
    assert {"auth_flow", "consumer_key", "instance_url", "user_id"} <= set(salesforce.settings)


def test_init_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "relcrm.toml"
    out.write_text("# mine\n", encoding="utf-8")
    code, output = invoke("init", "--out", str(out))
    assert code == 2
    assert "exists" in output and "--force" in output
    assert out.read_text(encoding="utf-8") == "# mine\n"
    code, _ = invoke("init", "--out", str(out), "--force", "--crm", "hubspot")
    assert code == 0
    assert [t.connector for t in load_config(out).targets] == ["hubspot"]


def test_init_writes_relcrm_toml_in_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "--crm", "salesforce")[0] == 0
    assert [t.connector for t in load_config(tmp_path / "relcrm.toml").targets] == ["salesforce"]


# --------------------------------------------------------------------------- sandbox files


def _sample(folder: Path) -> Path:
    sample = folder / "sample.jsonl"
    code, output = invoke("sample", "--out", str(sample), "--persons", "12", "--seed", "3")
    assert code == 0, output
    return sample


def test_write_config_makes_a_ready_targets_file_for_both_sandboxes(tmp_path: Path) -> None:
    sample = _sample(tmp_path)
    folder = tmp_path / "conf"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = relcrm_env(TMPDIR=str(temp))
    common = ["--write-config", str(folder), "--contacts", str(sample)]
    salesforce = SandboxProcess([*RELCRM, "sandbox", "salesforce", *common], cwd=tmp_path, env=env)
    try:
        sf_printed = salesforce.wait_running()
        hubspot = SandboxProcess([*RELCRM, "sandbox", "hubspot", *common], cwd=tmp_path, env=env)
        try:
            hs_printed = hubspot.wait_running()
            assert "seeded from" in "\n".join(salesforce.lines + hubspot.lines)

            config = load_config(folder / "relcrm.toml")
            assert [t.name for t in config.targets] == ["salesforce-contact", "hubspot-contact"]
            sf_target, hs_target = config.targets
            assert sf_target.settings["instance_url"] == sf_printed["instance URL"]
            assert hs_target.settings["base_url"] == hs_printed["base URL"]
            assert config.store_url == f"sqlite:///{folder / 'relcrm.db'}"
            for target, variable in (
                (sf_target, "RELCRM_SALESFORCE_SESSION_ID"),
                (hs_target, "RELCRM_HUBSPOT_ACCESS_TOKEN"),
            ):
                assert target.secrets_file is not None
                secrets = target.secrets_file.read_text(encoding="utf-8")
                assert re.search(rf"^{variable}=\S+$", secrets, re.MULTILINE)
                assert stat.S_IMODE(target.secrets_file.stat().st_mode) == 0o600
            text = (folder / "relcrm.toml").read_text(encoding="utf-8")
            assert (
                sf_printed["session id"] not in text and hs_printed["private-app token"] not in text
            )

            # the connectors built from the files reach the sandboxes (TLS verified)
            for target in config.targets:
                described = build_connector(target).describe(target.mapping.object)
                assert described  # the CRM's fields, over HTTPS with the copied CA
            code, output = invoke("mapping", "check", "--config", str(folder / "relcrm.toml"))
            assert code == 1, output  # connected: only the fields are missing
            code, output = invoke("fields", "apply", "--config", str(folder / "relcrm.toml"))
            assert code == 0, output
        finally:
            assert hubspot.stop() == 0
    finally:
        assert salesforce.stop() == 0
    assert list(temp.iterdir()) == []  # no key left behind


def test_write_config_leaves_a_users_targets_file_alone(tmp_path: Path) -> None:
    mine = tmp_path / "relcrm.toml"
    mine.write_text("# my production targets\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run(
        [*RELCRM, "sandbox", "hubspot", "--write-config", str(tmp_path)],
        capture_output=True,
        text=True,
        env=relcrm_env(TMPDIR=str(temp)),
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "was not written by a sandbox" in done.stderr
    assert "Traceback" not in done.stderr
    assert mine.read_text(encoding="utf-8") == "# my production targets\n"
    assert list(temp.iterdir()) == []


def test_write_config_replaces_its_own_target_and_keeps_the_others(tmp_path: Path) -> None:
    from relcrm.cli.sandbox_command import SandboxTarget, write_config

    ca = tmp_path / "ca.pem"
    ca.write_text("not really a CA\n", encoding="utf-8")

    def target(connector: str, port: int) -> SandboxTarget:
        return SandboxTarget(
            connector=connector,
            name=f"{connector}-contact",
            mapping=f"{connector}-contact",
            settings={
                "base_url" if connector == "hubspot" else "instance_url": f"https://x:{port}"
            },
            secrets={f"RELCRM_{connector.upper()}_X": "s"},
            ca_file=ca,
        )

    folder = tmp_path / "conf"
    write_config(folder, target("hubspot", 1))
    write_config(folder, target("salesforce", 2))
    write_config(folder, target("hubspot", 3))
    parsed = tomllib.loads((folder / "relcrm.toml").read_text(encoding="utf-8"))
    urls = [
        t["settings"].get("base_url") or t["settings"]["instance_url"] for t in parsed["targets"]
    ]
    assert urls == ["https://x:2", "https://x:3"]


def test_contacts_must_be_a_file_of_persons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = invoke("sandbox", "hubspot", "--contacts", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "no such file" in output
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not json\n", encoding="utf-8")
    keys = tmp_path / "tmp"
    keys.mkdir()
    monkeypatch.setenv("TMPDIR", str(keys))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    code, output = invoke("sandbox", "hubspot", "--contacts", str(garbage))
    assert code == 2, output
    assert "no person could be read" in output
    assert list(keys.iterdir()) == []  # started, refused the file, stopped: no key left


def test_a_bad_rate_limit_or_fault_plan_is_a_message(tmp_path: Path) -> None:
    code, output = invoke("sandbox", "hubspot", "--rate-limit", "lots")
    assert code == 2 and "rate limit" in output
    plan = tmp_path / "plan.json"
    plan.write_text('{"seed": "seven"}', encoding="utf-8")
    code, output = invoke("sandbox", "salesforce", "--faults", str(plan))
    assert code == 2 and "not a fault plan" in output


# --------------------------------------------------------------------------- busy port


@pytest.fixture
def busy_port() -> Iterator[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_a_busy_port_is_a_message_and_exit_code_2(crm: str, busy_port: int, tmp_path: Path) -> None:
    done = subprocess.run(
        [*RELCRM, "sandbox", crm, "--port", str(busy_port)],
        capture_output=True,
        text=True,
        env=relcrm_env(TMPDIR=str(tmp_path)),
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"port {busy_port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr  # the way out
    assert "Traceback" not in done.stderr and "OSError" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # the keys made before binding are gone


def test_a_busy_port_from_python_raises_a_relcrm_error(
    busy_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with (
        pytest.raises(PortUnavailableError, match="already in use"),
        running_hubspot_sandbox(port=busy_port),
    ):
        pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- keys on SIGTERM


@pytest.mark.parametrize(
    ("crm", "key_label", "signum"),
    [
        ("salesforce", "JWT signing key", signal.SIGTERM),
        ("hubspot", "CA file", signal.SIGTERM),
        ("salesforce", "JWT signing key", signal.SIGHUP),
        ("hubspot", "CA file", signal.SIGINT),
    ],
    ids=["salesforce-SIGTERM", "hubspot-SIGTERM", "salesforce-SIGHUP", "hubspot-SIGINT"],
)
def test_the_sandboxes_keys_are_removed_when_stopped(
    crm: str, key_label: str, signum: int, tmp_path: Path
) -> None:
    sandbox = SandboxProcess(
        [*RELCRM, "sandbox", crm], cwd=tmp_path, env=relcrm_env(TMPDIR=str(tmp_path))
    )
    try:
        printed = sandbox.wait_running()
    except BaseException:
        sandbox.stop(signal.SIGKILL)
        raise
    key_dir = Path(printed[key_label]).parent
    assert key_dir.parent == tmp_path
    assert (key_dir / "server-key.pem").is_file()
    assert "BEGIN" in (key_dir / "server-key.pem").read_text(encoding="utf-8")
    assert sandbox.stop(signum) == 0, sandbox.errors
    assert not key_dir.exists()
    assert list(tmp_path.iterdir()) == []
    assert not any("Traceback" in line for line in sandbox.errors), sandbox.errors


def test_a_demo_stopped_by_sigterm_leaves_no_key(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*RELCRM, "demo", "--persons", "12"],
        env=relcrm_env(TMPDIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("relcrm-tls-*/server-key.pem")):
            assert process.poll() is None, "the demo ended before its sandboxes started"
            assert time.monotonic() < deadline, "no sandbox started"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, errors
    assert "interrupted" in errors and "Traceback" not in errors
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- LICENSE


def test_the_apache_license_ships() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    # hatchling puts files matching LICEN[CS]E* into the wheel's .dist-info/licenses/
    # unless license-files says otherwise
    patterns = project.get("license-files", ["LICEN[CS]E*"])
    assert any(Path("LICENSE").match(pattern) for pattern in patterns)


def test_the_wheel_carries_the_license(tmp_path: Path) -> None:
    builders = pytest.importorskip("hatchling.builders.wheel", reason="hatchling not installed")
    import zipfile

    wheel = next(iter(builders.WheelBuilder(str(ROOT)).build(directory=str(tmp_path))))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    assert "relcrm/cli/templates/targets-head.toml" in names
