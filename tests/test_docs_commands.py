"""Every shell command in README.md and docs/*.md runs as pasted (issue 11).

The commands are the lines of ```bash blocks and the ``$ `` lines of ```console blocks.
Each page runs in a temporary folder of its own, with bash, through the ``relcrm`` of
this environment, in order, and each command must end with exit code 0 (or the code
:data:`EXPECTED_EXIT` gives, with the reason).

- A page that starts the sandboxes with ``--write-config`` (README.md, sandboxes.md)
  starts from an empty folder: its lines make everything they need.
- The other pages describe a deployment in use, so their folder holds one, made with
  the CLI itself: both sandboxes started with ``--write-config .`` and
  ``--contacts sample.jsonl`` (so ``relcrm.toml`` and its secrets files are theirs),
  the sample ingested, profiled and synced (fields applied), Jane (the docs' example
  person, jane@example.com) among them, and a survey export with its column mapping
  under the names the docs use (``survey-export.csv``, ``survey-columns.toml``, and
  ``export.jsonl``: the sample again, Jane still in it).
- ``relcrm sandbox ...`` lines start servers that run until stopped: they are started in
  the background, the page goes on once they say they are running, and they are stopped
  with SIGTERM when the page is done (exit code 0).
- Lines that do not run relcrm (installing, training, setting up PostgreSQL) are left
  out; :func:`test_no_relcrm_command_is_left_out` checks that this is all they are.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relcrm.cli import app
from tests.cli_sandboxes import RELCRM, VENV_BIN, SandboxProcess, relcrm_env, shell

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(bash|console|sh|shell)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

SHELL_WORDS = frozenset({"relcrm", "echo", "printf", "cat", "cd", "mkdir", "ls", "head", "export"})
"""What a command line may run besides relcrm and still be run here (a pipe into relcrm,
a folder to work in). A line running anything else installs or trains: left out."""

EXPECTED_EXIT: dict[tuple[str, str], tuple[int, str]] = {
    ("ops.md", "relcrm ingest export.jsonl"): (
        1,
        "the page shows Jane, forgotten above, refused at the next ingest: a rejected "
        "line is exit code 1",
    ),
    ("ops.md", "relcrm forget jane@example.com --config relcrm.toml --store-only"): (
        2,
        "the page shows it as the alternative to the forget above it, which already "
        "erased Jane: an identity that names nobody exits with 2",
    ),
}
"""(page, command) -> (exit code, why) where a command as pasted does not end with 0."""

KNOWN_BROKEN: dict[tuple[str, str], str] = {
    (
        "sources.md",
        "relcrm ingest --format cases --config relcrm.toml [--target NAME] "
        "[--since 2026-11-01T00:00:00Z]",
    ): "a synopsis, not a command: bash passes '[--target' on as a file name",
}
"""Commands of pages this test's authors do not maintain that cannot run as written; each
must fail (a command here that starts to work fails the test: take it out)."""

JANE = [
    {
        "type": "person",
        "id": "p-jane",
        "display_name": "Jane Example",
        "emails": ["jane@example.com"],
        "consent": {"granted": True, "source": "signup form"},
    },
    {
        "type": "perception",
        "person_id": "p-jane",
        "occurred_at": "2026-10-02T14:00:00Z",
        "channel": "survey",
        "nps": {"value": 3},
        "provenance": {"source_system": "qualtrics", "source_record_id": "R_jane"},
    },
]


@dataclass(frozen=True)
class Command:
    page: str
    line: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.page, self.line)


def commands_of(text: str) -> Iterator[str]:
    """The command lines of a page's shell blocks, continuation lines joined."""
    for language, body in FENCE.findall(text):
        pending = ""
        for raw in body.splitlines():
            if language == "console":
                if not raw.startswith("$ ") and not pending:
                    continue  # the output shown
                raw = raw.removeprefix("$ ")
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1].rstrip() + " "
                continue
            pending = ""
            if line and not line.startswith("#"):
                yield line


ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _segments(line: str) -> list[list[str]]:
    """The simple commands of a line, each without its leading ``VAR=value`` words."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in ("|", "||", "&&", ";", "&"):
            segments.append([])
        elif segments[-1] or not ASSIGNMENT.match(token):
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def runs_here(line: str) -> bool:
    """A relcrm command line (maybe fed by echo); not an install or a training run."""
    segments = _segments(line)
    words = [segment[0] for segment in segments]
    return "relcrm" in words and all(word in SHELL_WORDS for word in words)


def is_server(line: str) -> bool:
    return _segments(line)[0][:2] == ["relcrm", "sandbox"]


def starts_from_nothing(commands: list[Command]) -> bool:
    """A page that starts sandboxes with ``--write-config`` makes its own world (README,
    sandboxes.md); the others describe a deployment in use."""
    return any(is_server(c.line) and "--write-config" in c.line for c in commands)


def page_commands(path: Path) -> list[Command]:
    return [Command(path.name, line) for line in commands_of(path.read_text(encoding="utf-8"))]


PAGES = [path for path in DOCUMENTS if any(runs_here(c.line) for c in page_commands(path))]


# --------------------------------------------------------------------------- the world


def _relcrm(*args: str) -> None:
    """A command for the set-up, run in this process (quicker than a new one each)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"relcrm {' '.join(args)}:\n{result.output}"


def _deployment(folder: Path) -> list[SandboxProcess]:
    """The folder of a deployment in use, as the pages other than README describe it."""
    sample = folder / "sample.jsonl"
    _relcrm("sample", "--out", str(sample), "--persons", "24")
    with sample.open("a", encoding="utf-8") as lines:
        lines.writelines(json.dumps(record) + "\n" for record in JANE)
    shutil.copyfile(sample, folder / "export.jsonl")  # next week's export, Jane still in it
    start = ["--write-config", ".", "--contacts", "sample.jsonl"]
    sandboxes = [
        SandboxProcess([*RELCRM, "sandbox", crm, *start], cwd=folder)
        for crm in ("salesforce", "hubspot")
    ]
    try:
        for sandbox in sandboxes:
            sandbox.wait_running()
        config = str(folder / "relcrm.toml")
        _relcrm("ingest", str(sample), "--store", str(folder / "relcrm.db"))
        _relcrm("profile", "--store", str(folder / "relcrm.db"))
        _relcrm("fields", "apply", "--config", config)
        _relcrm("sync", "--config", config)
    except BaseException:
        for sandbox in sandboxes:
            sandbox.stop(signal.SIGKILL)
        raise
    shutil.copyfile(ROOT / "examples" / "survey-qualtrics.csv", folder / "survey-export.csv")
    shutil.copyfile(
        ROOT / "examples" / "survey-columns-qualtrics.toml", folder / "survey-columns.toml"
    )
    return sandboxes


# --------------------------------------------------------------------------- the test


def _run(command: Command, folder: Path) -> str | None:
    """Run one command; what went wrong, or None."""
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command.line],
        cwd=folder,
        env=relcrm_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    expected, _ = EXPECTED_EXIT.get(command.key, (0, ""))
    broken = command.key in KNOWN_BROKEN
    if broken and done.returncode == 0:
        return "works now: take it out of KNOWN_BROKEN"
    if broken or done.returncode == expected:
        return None
    return (
        f"exit code {done.returncode}, expected {expected}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_on_the_page_runs(page: Path, tmp_path: Path) -> None:
    assert shutil.which("relcrm", path=str(VENV_BIN)), "relcrm is not installed in this venv"
    commands = page_commands(page)
    servers = [] if starts_from_nothing(commands) else _deployment(tmp_path)
    failures: list[str] = []
    try:
        for command in commands:
            if not runs_here(command.line):
                continue
            if is_server(command.line):
                server = SandboxProcess(shell(command.line), cwd=tmp_path)
                servers.append(server)
                try:
                    server.wait_running()
                except AssertionError as error:
                    failures.append(f"{command.line}\n{error}")
                continue
            problem = _run(command, tmp_path)
            if problem is not None:
                failures.append(f"{command.line}\n{problem}")
    finally:
        for server in servers:
            code = server.stop(signal.SIGTERM)
            if code != 0:
                failures.append(f"a sandbox exited with {code} on SIGTERM:\n{server.errors}")
    assert not failures, "\n\n".join(failures)


def test_the_pages_have_commands_and_the_tables_name_real_ones() -> None:
    every = {c.key for path in DOCUMENTS for c in page_commands(path)}
    assert len(every) > 30
    assert {path.name for path in PAGES} >= {"README.md", "admin.md", "ops.md", "sandboxes.md"}
    for key in [*EXPECTED_EXIT, *KNOWN_BROKEN]:
        assert key in every, f"no longer on the page: {key}"


def test_no_relcrm_command_is_left_out() -> None:
    """Left out are the lines that install, train, or set up PostgreSQL: none that starts
    with relcrm (a relcrm line mixed with another program would be)."""
    for path in DOCUMENTS:
        for command in page_commands(path):
            if not runs_here(command.line):
                segments = _segments(command.line)
                assert segments[0][0] != "relcrm", command


def test_the_command_reader() -> None:
    text = (
        "```console\n$ relcrm runs --config relcrm.toml --last 5\n2026-11-22  output\n```\n"
        "```bash\nrelcrm sample \\\n  --out s.jsonl   # comment\n# a comment line\n```\n"
        "```python\nrelcrm = 1\n```\n"
    )
    assert list(commands_of(text)) == [
        "relcrm runs --config relcrm.toml --last 5",
        "relcrm sample --out s.jsonl   # comment",
    ]
    assert runs_here('echo "Great, another outage." | relcrm analyze - --json')
    assert runs_here("RELCRM_LOG_FORMAT=json relcrm sync --config relcrm.toml")
    assert not runs_here("sudo -u postgres psql -c 'CREATE ROLE relcrm'")
    assert not runs_here("python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/relcrm")
    assert not runs_here("pip install -e '.[train]' && python tools/train_analyzer.py")
    assert is_server("relcrm sandbox hubspot --write-config .   # in its own terminal")
    assert not is_server("relcrm sandboxes")
