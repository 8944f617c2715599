"""The Python examples in README.md and docs/ run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = [
    pytest.param(code, id=f"{path.name}#{number}")
    for path in DOCUMENTS
    for number, code in enumerate(BLOCK.findall(path.read_text(encoding="utf-8")), start=1)
]


@pytest.mark.parametrize("code", EXAMPLES)
def test_example_runs(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples name files as seen from the repository root
    saved = dict(os.environ)  # an example may set a secret, as a deployment would
    try:
        exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_there_are_examples() -> None:
    assert EXAMPLES


IMPORT = re.compile(r"^\s*(?:from\s+(relcrm[\w.]*)\s+import|import\s+(relcrm[\w.]*))", re.MULTILINE)
OPS_DOCUMENTS = ("ops.md", "admin.md")
OPS_MODULES = ("relcrm", "relcrm.observability", "relcrm.sandbox", "relcrm.testing")
"""What the ops and admin examples may import: the public API (``relcrm.__all__``), the
metrics helpers, and the sandboxes with their set-up (seeding a sandbox CRM: the fixtures
of ``relcrm.testing``)."""


def _imports(code: str) -> list[str]:
    return [match.group(1) or match.group(2) for match in IMPORT.finditer(code)]


def test_no_example_imports_a_private_module() -> None:
    for path in DOCUMENTS:
        for code in BLOCK.findall(path.read_text(encoding="utf-8")):
            for module in _imports(code):
                assert not any(part.startswith("_") for part in module.split(".")), (
                    f"{path.name} imports {module}"
                )


def test_ops_and_admin_examples_use_the_public_api() -> None:
    for path in DOCUMENTS:
        if path.name not in OPS_DOCUMENTS:
            continue
        for code in BLOCK.findall(path.read_text(encoding="utf-8")):
            for module in _imports(code):
                assert module == "relcrm" or module.startswith(OPS_MODULES[1:]), (
                    f"{path.name} imports {module}: export what it needs from relcrm"
                )
