"""The scheduling recipes of docs/ops.md (issue 11): the systemd units, the Kubernetes
manifest and the Dockerfile in examples/orchestration/, and the crontab line on the page.

No container engine or cluster runs here, so what can be checked is checked: each file
parses as what it is; the fields that matter are there; the relcrm command line in each
is one relcrm accepts (given to the real CLI); the targets file in the ConfigMap loads
with relcrm's own loader; ``systemd-analyze verify`` passes on the units where it is
installed; the files the Dockerfile copies exist.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import relcrm
from relcrm.cli import app
from relcrm.sources.survey_columns import parse_survey_columns

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "orchestration"
OPS = ROOT / "docs" / "ops.md"
FILES = ("relcrm.service", "relcrm.timer", "cronjob.yaml", "Dockerfile", "dagster_job.py")


def relcrm_accepts(args: list[str], tmp_path: Path) -> None:
    """``relcrm ARGS`` parses, and gets as far as reading its targets file: the command
    and every option exist and take the values given (a limit such as ``5%`` included).
    The targets file is swapped for one that does not exist, so nothing runs."""
    assert args[0] == "run" and "--config" in args, args
    swapped = list(args)
    swapped[swapped.index("--config") + 1] = str(tmp_path / "absent.toml")
    result = CliRunner().invoke(app, swapped)
    assert result.exit_code == 2, result.output
    assert "config.invalid_targets" in result.output and "absent.toml" in result.output, (
        result.output
    )


def relcrm_args(words: list[str]) -> list[str]:
    """The arguments of ``relcrm run`` in a command line (up to a shell operator)."""
    start = next(
        i
        for i, word in enumerate(words[:-1])
        if Path(word).name == "relcrm" and words[i + 1] == "run"
    )
    args: list[str] = []
    for word in words[start + 1 :]:
        if word in ("&&", "||", ";", "|", ">", ">>", "<", "&"):
            break
        args.append(word)
    return args


# --------------------------------------------------------------------------- systemd


def unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file: its sections, each a list of (key, value) (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, equals, value = line.partition("=")
        assert equals and key.strip() and not line.endswith("\\"), f"{path.name}: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def test_the_service_is_a_oneshot_relcrm_run_with_its_secrets_in_a_file(tmp_path: Path) -> None:
    service = unit(FOLDER / "relcrm.service")
    assert set(service) == {"Unit", "Service"}
    body = service["Service"]
    assert values(body, "Type") == ["oneshot"]
    assert values(body, "EnvironmentFile") == ["/etc/relcrm/relcrm.env"]
    assert values(body, "User") == ["relcrm"]
    environment = dict(value.split("=", 1) for value in values(body, "Environment"))
    assert environment["RELCRM_LOG_FORMAT"] == "json"
    assert environment["RELCRM_METRICS_FILE"].endswith(".prom")
    # exit codes: 5 (another run holds a target) is no failure; only 3 is worth a restart
    assert values(body, "SuccessExitStatus") == ["5"]
    assert values(body, "Restart") == ["on-failure"]
    assert values(body, "RestartPreventExitStatus")[0].split() == ["1", "2", "4"]
    (exec_start,) = values(body, "ExecStart")
    words = shlex.split(exec_start)
    assert words[0].startswith("/") and Path(words[0]).name == "relcrm"
    relcrm_accepts(relcrm_args(words), tmp_path)
    assert "--json" in words and "--wait" in words
    # no secret in the unit itself: they are in the EnvironmentFile
    assert not re.search(r"(?i)(password|token|secret)=\S", exec_start + str(environment))


def test_the_timer_starts_the_service_daily_and_catches_up() -> None:
    timer = unit(FOLDER / "relcrm.timer")
    assert set(timer) == {"Unit", "Timer", "Install"}
    assert values(timer["Timer"], "OnCalendar") == ["*-*-* 06:00:00 UTC"]
    assert values(timer["Timer"], "Persistent") == ["true"]
    assert values(timer["Install"], "WantedBy") == ["timers.target"]
    assert values(timer["Timer"], "Unit") in ([], ["relcrm.service"])  # same name: implied


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    relcrm_bin = Path(sys.executable).parent / "relcrm"
    assert relcrm_bin.exists()
    # verify checks that ExecStart's program exists: point it at this venv's relcrm
    text = (FOLDER / "relcrm.service").read_text(encoding="utf-8")
    (tmp_path / "relcrm.service").write_text(
        text.replace("/opt/relcrm/bin/relcrm", str(relcrm_bin)), encoding="utf-8"
    )
    shutil.copy(FOLDER / "relcrm.timer", tmp_path / "relcrm.timer")
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "relcrm.service"), str(tmp_path / "relcrm.timer")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # it exits 0 on unknown keys and bad values, but names them: both must be clean
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    calendar = subprocess.run(
        [analyze, "calendar", "*-*-* 06:00:00 UTC"], capture_output=True, text=True, timeout=60
    )
    assert calendar.returncode == 0, calendar.stderr


# --------------------------------------------------------------------------- Kubernetes


def manifests() -> dict[str, dict[str, Any]]:
    documents = list(yaml.safe_load_all((FOLDER / "cronjob.yaml").read_text(encoding="utf-8")))
    return {document["kind"]: document for document in documents if document}


def test_the_cronjob_runs_one_at_a_time_and_maps_the_exit_codes(tmp_path: Path) -> None:
    cronjob = manifests()["CronJob"]
    assert cronjob["apiVersion"] == "batch/v1"
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    fields = spec["schedule"].split()
    assert len(fields) == 5 and all(re.fullmatch(r"[\d*/,-]+", f) for f in fields), fields
    job = spec["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # podFailurePolicy requires it
    (fail_at_once,) = [r for r in job["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    assert fail_at_once["onExitCodes"]["operator"] == "In"
    assert sorted(fail_at_once["onExitCodes"]["values"]) == [1, 2, 4]  # 3 and 5: tried again
    assert job["backoffLimit"] >= 1
    (container,) = pod["containers"]
    assert fail_at_once["onExitCodes"]["containerName"] == container["name"]
    relcrm_accepts([str(arg) for arg in container["args"]], tmp_path)
    assert "--json" in container["args"]


def test_the_cronjob_takes_secrets_from_secrets_and_the_store_from_postgresql() -> None:
    pod = manifests()["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["RELCRM_LOG_FORMAT"]["value"] == "json"
    assert env["RELCRM_STORE_URL"]["value"].startswith("postgresql+psycopg://")
    assert (
        "@" in env["RELCRM_STORE_URL"]["value"]
        and ":" not in (env["RELCRM_STORE_URL"]["value"].split("://", 1)[1].split("@", 1)[0])
    ), "no password in the URL: PGPASSWORD comes from a Secret"
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
    assert env["RELCRM_PUSHGATEWAY_URL"]["value"].startswith("http")
    for item in env.values():  # every value given in clear is not a secret
        if "value" in item:
            assert not re.search(r"(?i)password|token|secret", item["name"]), item
    (secret,) = container["envFrom"]
    comment = (FOLDER / "cronjob.yaml").read_text(encoding="utf-8")
    name = secret["secretRef"]["name"]
    assert f"create secret generic {name}" in comment  # the docs make the Secret it names
    # the pod runs as the image's user, not as root, on a read-only root filesystem
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == dockerfile_uid()
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounted = {mount["name"] for mount in container["volumeMounts"]}
    assert mounted == {volume["name"] for volume in pod["volumes"]}


def test_the_configmap_holds_a_targets_file_relcrm_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configmap = manifests()["ConfigMap"]
    pod = manifests()["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (config_volume,) = [v for v in pod["volumes"] if "configMap" in v]
    assert config_volume["configMap"]["name"] == configmap["metadata"]["name"]
    for name, text in configmap["data"].items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (container,) = pod["containers"]
    args = container["args"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == config_volume["name"])
    assert args[args.index("--config") + 1] == f"{mount['mountPath']}/relcrm.toml"

    loaded = relcrm.load_config(tmp_path / "relcrm.toml")

    assert loaded.store_url is None  # no [store]: RELCRM_STORE_URL decides
    assert [t.name for t in loaded.targets] == ["sf-contact", "hs-contact"]
    formats = [source.format for source in loaded.resolved_sources()]
    assert formats == ["interchange", "survey", "cases"]
    parse_survey_columns(configmap["data"]["survey-columns.toml"])
    paths = [s.path for s in loaded.sources if s.path is not None]
    incoming = next(m for m in container["volumeMounts"] if m["name"] == "incoming")
    assert all(path.startswith(incoming["mountPath"] + "/") for path in paths), paths


# --------------------------------------------------------------------------- Docker

INSTRUCTIONS = frozenset(
    {
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
        "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    }
)  # fmt: skip


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (keyword, arguments), continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (FOLDER / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue  # comments (also between continuation lines) and blank lines
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        pending = ""
        instructions.append((keyword, rest.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            found.append([])
        assert found, "the first instruction must be FROM"
        found[-1].append((keyword, rest))
    return found


def dockerfile_uid() -> int:
    (user,) = [rest for keyword, rest in stages()[-1] if keyword == "USER"]
    return int(user.split(":")[0])


def test_the_dockerfile_is_well_formed() -> None:
    text = (FOLDER / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("# syntax=docker/dockerfile:1\n")
    for keyword, rest in dockerfile():
        assert keyword in INSTRUCTIONS, f"unknown instruction {keyword}"
        assert rest, f"{keyword} without arguments"
    names: list[str] = []
    for stage in stages():
        (base,) = [rest for keyword, rest in stage if keyword == "FROM"]
        image, *alias = base.split()
        assert image == "python:3.11-slim"
        if alias:
            assert alias[0].upper() == "AS" and len(alias) == 2
            names.append(alias[1])
        for keyword, rest in stage:
            if keyword == "COPY":
                *flags_and_sources, _destination = rest.split()
                flags = [f for f in flags_and_sources if f.startswith("--")]
                sources = [s for s in flags_and_sources if not s.startswith("--")]
                if any(f.startswith("--from=") for f in flags):
                    assert flags[0].removeprefix("--from=") in names  # an earlier stage
                else:  # the build context is the repository's root
                    for source in sources:
                        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            if keyword in ("ENTRYPOINT", "CMD"):
                assert isinstance(json.loads(rest), list), f"{keyword} in exec form"


def test_the_image_runs_relcrm_as_an_unprivileged_user(tmp_path: Path) -> None:
    final = dict(stages()[-1])
    assert dockerfile_uid() != 0 and final["USER"].split(":")[0] not in ("root", "0")
    assert json.loads(final["ENTRYPOINT"]) == ["relcrm"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "relcrm" in pyproject["project"]["scripts"]
    relcrm_accepts(json.loads(final["CMD"]), tmp_path)
    builds = " ".join(rest for keyword, rest in stages()[0] if keyword == "RUN")
    extras = re.findall(r"\.\[(\w+)\]", builds)
    assert extras and set(extras) <= set(pyproject["project"]["optional-dependencies"])
    installs = " ".join(rest for keyword, rest in stages()[-1] if keyword == "RUN")
    assert "pip install" in installs and "relcrm" in installs
    assert f"--uid {dockerfile_uid()}" in installs


# --------------------------------------------------------------------------- the page


def scheduling_section() -> str:
    text = OPS.read_text(encoding="utf-8")
    start = text.index("\n## Scheduling\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_page_names_every_file() -> None:
    section = scheduling_section()
    for name in FILES:
        assert f"examples/orchestration/{name}" in section, name


def test_the_crontab_line_runs_relcrm_run(tmp_path: Path) -> None:
    (block,) = re.findall(r"```crontab\n(.*?)```", scheduling_section(), re.DOTALL)
    entries = [
        line
        for line in block.splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert entries
    for entry in entries:
        schedule, command = entry.split()[:5], entry.split(None, 5)[5]
        assert all(re.fullmatch(r"[\d*/,-]+", field) for field in schedule), entry
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        assert "flock" not in words  # the target leases make overlapping runs safe
        relcrm_accepts(relcrm_args(words), tmp_path)
