"""`relcrm sandbox ...` as real subprocesses, for the CLI tests: start one, wait until it
says it is running, read what it printed, stop it with a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
RELCRM = [sys.executable, "-m", "relcrm"]
"""The ``relcrm`` command of the interpreter running the tests."""


def relcrm_env(**extra: str) -> dict[str, str]:
    """The environment for a ``relcrm`` subprocess: this venv's ``bin`` first on PATH (so
    ``relcrm`` is the one under test), no inherited store or CRM settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RELCRM_SALESFORCE_", "RELCRM_HUBSPOT_", "RELCRM_STORE"))
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def shell(line: str) -> list[str]:
    """A command line as the docs show it, run by bash in place of bash itself (so that
    a signal reaches relcrm)."""
    return ["bash", "-c", f"exec {line}"]


class SandboxProcess:
    """A ``relcrm sandbox ...`` running in the background, its output collected."""

    def __init__(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> None:
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env or relcrm_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @staticmethod
    def _read(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line.rstrip("\n"))

    def wait_until(self, done: Callable[[list[str]], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.lines):
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the readers drain the pipes
                raise AssertionError(
                    f"the sandbox exited with {self.process.returncode}:\n"
                    + "\n".join(self.lines + self.errors)
                )
            if time.monotonic() > deadline:
                raise AssertionError("the sandbox did not start:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def wait_running(self, timeout: float = 60) -> dict[str, str]:
        """Wait for the "is running" line and the lines printed with it; the
        ``label: value`` lines as a dict."""

        def done(lines: list[str]) -> bool:
            return any("is running" in line for line in lines) and any(
                line.startswith(("JWT signing key:", "rate limit:", "limits:")) for line in lines
            )

        self.wait_until(done, timeout)
        time.sleep(0.1)  # the notes come in the same write; let the reader take them
        labels: dict[str, str] = {}
        for line in self.lines:
            label, colon, value = line.partition(":")
            if colon and value.strip():
                labels.setdefault(label.strip(), value.strip())
        return labels

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``signum`` and wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the sandbox did not stop on a signal") from None
        for reader in self._readers:
            reader.join(5)
        return code
