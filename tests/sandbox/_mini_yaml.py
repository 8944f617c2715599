"""A tiny YAML subset reader, used only because PyYAML is not a project dependency.

It reads what the recorded cassettes use and nothing more: block mappings and sequences,
anchors (``&id001``) and aliases (``*id001``), plain scalars, single- and double-quoted
scalars over several lines (with escapes and escaped line breaks), and folded block
scalars (``>``, ``>-``). Folded blocks are joined with newlines, which is equivalent for
the JSON bodies they hold. Prefer ``yaml.safe_load`` when PyYAML is installed.
"""

from __future__ import annotations

import re
from typing import Any

_KEY_RE = re.compile(r"^([A-Za-z_][\w\-]*):(?: (.*)|)$")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "/": "/",
    " ": " ",
    "0": "\0",
    "b": "\b",
    "f": "\f",
    "e": "\x1b",
    "a": "\a",
    "v": "\v",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
    "\t": "\t",
}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class _Reader:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.i = 0
        self.anchors: dict[str, Any] = {}

    def skip_blank(self) -> None:
        while self.i < len(self.lines) and (
            not self.lines[self.i].strip() or self.lines[self.i].lstrip().startswith("#")
        ):
            self.i += 1

    def block(self, indent: int) -> Any:
        self.skip_blank()
        stripped = self.lines[self.i].strip()
        if stripped == "-" or stripped.startswith("- "):
            return self.sequence(indent)
        if stripped[0] in "'\"":
            self.i += 1
            return self.quoted(stripped)
        return self.mapping(indent, None)

    def next_indent(self) -> int:
        self.skip_blank()
        return _indent(self.lines[self.i]) if self.i < len(self.lines) else -1

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while True:
            self.skip_blank()
            if self.i >= len(self.lines):
                return items
            line = self.lines[self.i]
            stripped = line.strip()
            if _indent(line) != indent or not (stripped == "-" or stripped.startswith("- ")):
                return items
            rest = stripped[1:].lstrip()
            column = indent + len(stripped) - len(rest)
            self.i += 1
            items.append(self.inline(rest, column, indent, in_sequence=True))

    def mapping(self, indent: int, first: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        pending = first
        while True:
            if pending is None:
                self.skip_blank()
                if self.i >= len(self.lines) or _indent(self.lines[self.i]) != indent:
                    return result
                text = self.lines[self.i].strip()
                if text.startswith("- "):
                    return result
                self.i += 1
            else:
                text, pending = pending, None
            match = _KEY_RE.match(text)
            if match is None:
                raise ValueError(f"line {self.i}: cannot read {text!r}")
            key, rest = match.group(1), (match.group(2) or "").strip()
            result[key] = self.inline(rest, indent + len(key) + 2, indent, in_sequence=False)

    def inline(self, rest: str, column: int, parent: int, *, in_sequence: bool) -> Any:
        anchor = None
        if rest.startswith("&"):
            anchor, _, rest = rest.partition(" ")
            anchor = anchor[1:]
            rest = rest.strip()
        if rest == "":
            deeper = self.next_indent()
            value = self.block(deeper) if deeper > parent else None
        elif rest.startswith("*"):
            value = self.anchors[rest[1:].strip()]
        elif in_sequence and _KEY_RE.match(rest) and not rest.startswith(("'", '"')):
            value = self.mapping(column, rest)
        elif rest[0] in "'\"":
            value = self.quoted(rest)
        elif rest in (">", ">-", "|", "|-"):
            value = self.block_scalar(rest, parent)
        else:
            value = self.plain(rest)
        if anchor is not None:
            self.anchors[anchor] = value
        return value

    @staticmethod
    def plain(text: str) -> Any:
        if text in ("null", "~"):
            return None
        if text in ("true", "false"):
            return text == "true"
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return text

    def quoted(self, first: str) -> str:
        quote = first[0]
        parts = [first[1:]]
        while True:  # scan each line once, so long scalars stay linear
            end = self._closing(parts[-1], quote)
            if end >= 0:
                break
            parts.append(self.lines[self.i])
            self.i += 1
        raw = "\n".join(parts)
        body = raw[: len(raw) - len(parts[-1]) + end]
        return self._double(body) if quote == '"' else self._fold(body.replace("''", "'"))

    @staticmethod
    def _closing(part: str, quote: str) -> int:
        """Index of the closing quote in ``part``, or -1 (a trailing backslash escapes the
        line break, so the next line starts fresh)."""
        j = 0
        while j < len(part):
            char = part[j]
            if quote == '"' and char == "\\":
                j += 2
                continue
            if char == quote:
                if quote == "'" and part[j + 1 : j + 2] == "'":
                    j += 2
                    continue
                return j
            j += 1
        return -1

    @staticmethod
    def _fold(text: str) -> str:
        lines = text.split("\n")
        out = lines[0].rstrip(" ")
        blank = 0
        for line in lines[1:]:
            if not line.strip():
                blank += 1
                continue
            out += ("\n" * blank if blank else " ") + line.strip()
            blank = 0
        return out

    def _double(self, body: str) -> str:
        out: list[str] = []
        j = 0
        while j < len(body):
            char = body[j]
            if char == "\\":
                nxt = body[j + 1]
                if nxt == "\n":
                    j += 2
                    while j < len(body) and body[j] in " \t":
                        j += 1
                    continue
                if nxt in ("x", "u", "U"):
                    width = {"x": 2, "u": 4, "U": 8}[nxt]
                    out.append(chr(int(body[j + 2 : j + 2 + width], 16)))
                    j += 2 + width
                    continue
                out.append(_ESCAPES[nxt])
                j += 2
                continue
            if char == "\n":
                while out and out[-1] in " \t":
                    out.pop()
                blank = 0
                j += 1
                while True:
                    while j < len(body) and body[j] in " \t":
                        j += 1
                    if j < len(body) and body[j] == "\n":
                        blank += 1
                        j += 1
                        continue
                    break
                out.append("\n" * blank if blank else " ")
                continue
            out.append(char)
            j += 1
        return "".join(out)

    def block_scalar(self, style: str, parent: int) -> str:
        collected: list[str] = []
        content = -1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and _indent(line) <= parent:
                break
            if line.strip() and content < 0:
                content = _indent(line)
            collected.append(line[content:] if content >= 0 else "")
            self.i += 1
        text = "\n".join(collected).rstrip("\n")
        return text if style.endswith("-") else text + "\n"


def load(text: str) -> Any:
    """Parse a YAML document written in the subset described above."""
    reader = _Reader(text)
    reader.skip_blank()
    return reader.block(reader.next_indent())
