"""Rich consoles that do not wrap at 80 columns when the output is a file or a pipe.

rich sizes its output to the terminal, and to 80 columns when there is none: a report
redirected to a file, or collected by cron or Kubernetes, then has its long lines and
its tables' cells broken at column 80. :class:`FileConsole` is a
:class:`rich.console.Console` that, when it does not write to a terminal, is
:data:`FILE_WIDTH` columns wide (lines end where their text ends; tables are as wide as
their content) and soft-wraps (no line is broken). On a terminal it is rich's console as
usual. An explicit ``width=`` or the ``COLUMNS`` variable still wins.
"""

from __future__ import annotations

import os
from typing import Any, Final, Literal

from rich.console import Console, ConsoleDimensions
from rich.rule import Rule
from rich.style import Style
from rich.text import Text

__all__ = ["FILE_WIDTH", "RULE_WIDTH", "FileConsole"]

FILE_WIDTH: Final = 10_000
"""Columns of a console that writes to a file: wide enough never to break a line."""

RULE_WIDTH: Final = 80
"""A horizontal rule in a file is this wide, not :data:`FILE_WIDTH`."""


class FileConsole(Console):
    """A rich console that never wraps when its output is not a terminal.

    The check is made at each use, not once, so a console whose stream is replaced (a
    test runner capturing output) follows it.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._explicit_width = kwargs.get("width") is not None
        self._soft_wrap_asked = bool(kwargs.get("soft_wrap", False))
        super().__init__(**kwargs)

    def _unbounded(self) -> bool:
        if self._explicit_width or self.is_terminal:
            return False
        return not (os.environ.get("COLUMNS") or "").isdigit()

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._unbounded():
            return ConsoleDimensions(FILE_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        width, height = new_size
        self._width = width
        self._height = height
        self._explicit_width = True

    @property
    def soft_wrap(self) -> bool:
        return self._soft_wrap_asked or self._unbounded()

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._soft_wrap_asked = value

    def rule(
        self,
        title: str | Text = "",
        *,
        characters: str = "─",
        style: str | Style = "rule.line",
        align: Literal["left", "center", "right"] = "center",
    ) -> None:
        """A horizontal rule: the console's width on a terminal, 80 columns in a file."""
        rule = Rule(title=title, characters=characters, style=style, align=align)
        self.print(rule, width=RULE_WIDTH if self._unbounded() else None)
