"""The catalogue of error codes (relcrm.error_codes) is complete and docs/errors.md lists it
(issue 11).

The source is read with :mod:`ast`, so a code added anywhere in ``src/relcrm`` without an
entry fails here, naming the file and line; an entry whose code no module uses any more
fails too. What counts as a code:

- ``code = "..."`` (or ``code: str = "..."``) in a class body, and ``code="..."`` as a
  keyword argument: always, when the class or the called name is a relcrm error class;
  otherwise only when the literal has the shape of a code (``area.name``);
- ``error_code="..."`` keyword arguments and assignments to ``error_code`` (``report.error_code
  = "..."``, or one element of a tuple assignment) whose literal has the shape of a code:
  the codes relcrm itself sets on reports and results. The CRMs' own codes (``NOT_MATCHED``,
  ``INVALID_OPTION``) are not relcrm codes and are left out by their shape.

A value may be a literal, a literal in either branch of ``x if c else "..."`` / ``x or
"..."``, or the name of a module-level string constant of the same module. A code built
at run time (an f-string) cannot be pinned by a catalogue and is refused: build codes
from literals (none is built at run time today). Passing on another error's code
(``report.error_code = exc.code``) is fine: that code is catalogued where it is defined.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import relcrm
from relcrm.error_codes import CODES, ENTRIES, REPORT, CodeEntry, catalogue, describe
from relcrm.errors import ExitCode, RelcrmError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "relcrm"
DOC = ROOT / "docs" / "errors.md"
SHAPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
"""``area.name``: lower case, one dot."""

SKIPPED_MODULES = frozenset({"relcrm.__main__"})
"""Modules not imported to find the error classes: ``python -m relcrm`` runs the CLI when
imported. (relcrm.sandbox imports without side effects: servers start only when asked.)"""


# --------------------------------------------------------------------------- the classes


def _import_all() -> None:
    for module in pkgutil.walk_packages(relcrm.__path__, "relcrm."):
        if module.name not in SKIPPED_MODULES:
            importlib.import_module(module.name)


def _subclasses(cls: type[RelcrmError]) -> Iterator[type[RelcrmError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _error_classes() -> list[type[RelcrmError]]:
    """RelcrmError and every subclass relcrm defines (not those of tests or plugins)."""
    _import_all()
    found: set[type[RelcrmError]] = {RelcrmError, *_subclasses(RelcrmError)}
    own = [cls for cls in found if cls.__module__.split(".")[0] == "relcrm"]
    return sorted(own, key=lambda cls: (cls.__module__, cls.__qualname__))


ERROR_CLASSES = _error_classes()
BY_NAME: dict[str, type[RelcrmError]] = {cls.__name__: cls for cls in ERROR_CLASSES}


def test_error_class_names_are_unique() -> None:
    """The catalogue names classes by name; two with one name would be ambiguous."""
    assert len(BY_NAME) == len(ERROR_CLASSES), sorted(
        f"{cls.__module__}.{cls.__qualname__}" for cls in ERROR_CLASSES
    )


# --------------------------------------------------------------------------- the source


@dataclass(frozen=True)
class Found:
    """A code found in the source: where, and what carries it (an error class's name,
    :data:`REPORT` for a report or result, or another callable's name)."""

    code: str
    where: str
    carrier: str


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return "?"


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


class _Scanner:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.relative = path.relative_to(ROOT).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.constants = self._module_constants()
        self.found: list[Found] = []
        self.problems: list[str] = []

    def _module_constants(self) -> dict[str, str]:
        constants: dict[str, str] = {}
        for node in self.tree.body:
            value = getattr(node, "value", None)
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                continue
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = value.value
        return constants

    def _literals(self, value: ast.expr | None) -> Iterator[str]:
        """The strings ``value`` can be without running anything; an f-string is a problem."""
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield value.value
        elif isinstance(value, ast.IfExp):
            yield from self._literals(value.body)
            yield from self._literals(value.orelse)
        elif isinstance(value, ast.BoolOp):
            for item in value.values:
                yield from self._literals(item)
        elif isinstance(value, ast.Name) and value.id in self.constants:
            yield self.constants[value.id]
        elif isinstance(value, ast.JoinedStr):
            self.problems.append(
                f"{self.relative}:{value.lineno}: a code built at run time "
                f"({ast.unparse(value)}); build codes from literals so the catalogue can "
                "pin them"
            )

    def _add(self, value: ast.expr | None, node: ast.AST, carrier: str) -> None:
        for literal in self._literals(value):
            if carrier in BY_NAME or SHAPE.match(literal):
                where = f"{self.relative}:{getattr(node, 'lineno', 0)}"
                self.found.append(Found(literal, where, carrier))

    def scan(self) -> _Scanner:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef):
                self._class_body(node)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        self._add(keyword.value, keyword.value, _callee(node))
                    elif keyword.arg == "error_code":
                        self._add(keyword.value, keyword.value, REPORT)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assignment(target, node.value, node)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._assignment(node.target, node.value, node)
        return self

    def _class_body(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if isinstance(item, ast.Assign):
                targets = item.targets
            elif isinstance(item, ast.AnnAssign) and item.value is not None:
                targets = [item.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                assert item.value is not None
                self._add(item.value, item, node.name)

    def _assignment(self, target: ast.expr, value: ast.expr, node: ast.AST) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for one, other in zip(target.elts, value.elts, strict=False):
                self._assignment(one, other, node)
        elif _target_name(target) == "error_code":
            self._add(value, node, REPORT)


def _scan_source() -> tuple[list[Found], list[str]]:
    found: list[Found] = []
    problems: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        scanner = _Scanner(path).scan()
        found.extend(scanner.found)
        problems.extend(scanner.problems)
    return found, problems


FOUND, DYNAMIC = _scan_source()


def test_the_scan_finds_codes() -> None:
    """The scan itself works: it sees class codes, keyword codes and report codes."""
    codes = {found.code for found in FOUND}
    assert {"run.target_busy", "config.invalid_targets", "sync.nobody_matched"} <= codes
    assert len(codes) >= 60


def test_no_code_is_built_at_run_time() -> None:
    assert not DYNAMIC, "\n".join(DYNAMIC)


def test_every_code_in_the_source_is_catalogued() -> None:
    missing = [
        f"{found.code} (found in {found.where}, carried by {found.carrier})"
        for found in FOUND
        if found.code not in CODES
    ]
    assert not missing, (
        "not in relcrm.error_codes (add an entry and a row to docs/errors.md):\n"
        + "\n".join(missing)
    )


def test_every_catalogued_code_is_in_the_source() -> None:
    used = {found.code for found in FOUND}
    stale = sorted(set(CODES) - used)
    assert not stale, (
        "catalogued but used nowhere in src/relcrm (remove the entry from relcrm.error_codes "
        "and its row from docs/errors.md): " + ", ".join(stale)
    )


def test_codes_in_the_source_name_their_catalogued_class_and_exit_code() -> None:
    """A code raised with an error class is catalogued under that class, with its exit code."""
    wrong: list[str] = []
    for found in FOUND:
        entry, cls = CODES.get(found.code), BY_NAME.get(found.carrier)
        if entry is None or cls is None:
            continue  # reported above; or a report's code, or passed through a helper
        if entry.exception != found.carrier:
            wrong.append(
                f"{found.code} ({found.where}) is raised as {found.carrier}, "
                f"catalogued as {entry.exception}"
            )
        if entry.exit_code is not cls.exit_code:
            wrong.append(
                f"{found.code} ({found.where}): {found.carrier} exits with "
                f"{cls.exit_code!r}, catalogued with {entry.exit_code!r}"
            )
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- the classes


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_class_has_an_exit_code_and_a_catalogued_code(
    cls: type[RelcrmError],
) -> None:
    name = f"{cls.__module__}.{cls.__qualname__}"
    assert isinstance(cls.exit_code, ExitCode), f"{name}.exit_code is not an ExitCode"
    entry = describe(cls.code)
    assert entry is not None, f"{name}.code {cls.code!r} is not in relcrm.error_codes"
    assert entry.exit_code is cls.exit_code, (
        f"{name} exits with {cls.exit_code!r}; relcrm.error_codes says {cls.code} "
        f"exits with {entry.exit_code!r}"
    )
    if "code" in vars(cls):  # its own code, not its parent's
        assert entry.exception == cls.__name__, (
            f"{name} defines {cls.code}, catalogued as carried by {entry.exception}"
        )


def test_every_catalogued_class_exists_with_that_exit_code() -> None:
    wrong: list[str] = []
    for entry in ENTRIES:
        if entry.exception == REPORT:
            continue
        cls = BY_NAME.get(entry.exception)
        if cls is None:
            wrong.append(f"{entry.code}: no relcrm error class named {entry.exception}")
        elif cls.exit_code is not entry.exit_code:
            wrong.append(
                f"{entry.code}: {entry.exception} exits with {cls.exit_code!r}, "
                f"catalogued with {entry.exit_code!r}"
            )
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- the catalogue


def test_codes_are_unique_dotted_lower_case() -> None:
    codes = [entry.code for entry in ENTRIES]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    assert not twice, f"catalogued twice: {', '.join(twice)}"
    malformed = [code for code in codes if not SHAPE.match(code)]
    assert not malformed, f"not area.name in lower case: {', '.join(malformed)}"
    assert list(CODES) == codes
    assert all(CODES[code].code == code for code in CODES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.code)
def test_each_entry_says_what_it_means_and_what_to_do(entry: CodeEntry) -> None:
    assert isinstance(entry.exit_code, ExitCode)
    for text in (entry.meaning, entry.action):
        assert text.strip() and "\n" not in text and "|" not in text, (
            f"{entry.code}: meaning and action are one line each, without '|'"
        )


def test_lookup() -> None:
    entry = describe("run.target_busy")
    assert entry is not None
    assert entry.exit_code is ExitCode.BUSY
    assert entry.area == "run"
    assert describe("no.such_code") is None
    assert catalogue() == ENTRIES
    assert describe("sync.nobody_matched") == CodeEntry(
        "sync.nobody_matched",
        REPORT,
        ExitCode.REJECTED,
        CODES["sync.nobody_matched"].meaning,
        CODES["sync.nobody_matched"].action,
    )


def test_entries_are_grouped_by_area() -> None:
    """Each area's entries are together, as docs/errors.md shows them."""
    areas = [entry.area for entry in ENTRIES]
    seen: list[str] = []
    for area in areas:
        if not seen or seen[-1] != area:
            assert area not in seen, f"the {area} entries are split up in relcrm.error_codes"
            seen.append(area)


# --------------------------------------------------------------------------- the page

ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(\d)\b[^|]*\|[^|]*\|[^|]*\|\s*$")
HEADING = re.compile(r"^###\s+`?([a-z]+)`?")


def _documented() -> list[tuple[str, int, str | None, int]]:
    """(code, exit code, the ### heading's area above it, line number) for each row."""
    rows: list[tuple[str, int, str | None, int]] = []
    area: str | None = None
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        heading = HEADING.match(line)
        if heading:
            area = heading.group(1)
        elif line.startswith("## "):
            area = None
        row = ROW.match(line)
        if row and SHAPE.match(row.group(1)):
            rows.append((row.group(1), int(row.group(2)), area, number))
    return rows


def test_the_page_lists_exactly_the_catalogued_codes() -> None:
    rows = _documented()
    listed = [code for code, _, _, _ in rows]
    twice = sorted({code for code in listed if listed.count(code) > 1})
    assert not twice, f"docs/errors.md lists these twice: {', '.join(twice)}"
    missing = [code for code in CODES if code not in listed]
    assert not missing, f"docs/errors.md does not list: {', '.join(missing)}"
    extra = [f"{code} (line {n})" for code, _, _, n in rows if code not in CODES]
    assert not extra, f"docs/errors.md lists codes relcrm does not have: {', '.join(extra)}"


def test_the_page_gives_each_code_its_exit_code_under_its_area() -> None:
    wrong: list[str] = []
    for code, exit_code, area, number in _documented():
        entry = CODES.get(code)
        if entry is None:
            continue
        if exit_code != entry.exit_code:
            wrong.append(
                f"line {number}: {code} exits with {int(entry.exit_code)}, not {exit_code}"
            )
        if area != entry.area:
            wrong.append(f"line {number}: {code} is under ### {area}, not ### {entry.area}")
    assert not wrong, "docs/errors.md:\n" + "\n".join(wrong)


def test_the_page_is_linked_from_the_readme_and_ops() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "ops.md"):
        text = page.read_text(encoding="utf-8")
        assert "errors.md" in text, f"{page.name} does not link docs/errors.md"
