"""The part of OData v4.0 query syntax integrations use: ``$filter``, ``$select``, ``$top``.

``$filter`` takes comparisons (``eq ne gt ge lt le``) of a column with a literal, ``and``,
``or``, ``not`` and parentheses, ``contains``/``startswith``/``endswith``, and Dataverse's
``Microsoft.Dynamics.CRM.In(PropertyName='col',PropertyValues=['a','b'])`` query function
[doc: query-data-web-api, "Filter rows"; Web API query function reference]. Literals are
strings in single quotes (a quote inside is doubled: ``'o''brien@example.com'``), numbers,
GUIDs (unquoted), ``true``, ``false`` and ``null``. String comparisons ignore case, as
Dataverse's SQL collation does, so ``emailaddress1 eq 'A@B.COM'`` finds ``a@b.com``.

A column the table does not have is refused with Dataverse's ``0x80060888`` "Could not find
a property named …"; a syntax error with an OData "Syntax error at position N" message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from relcrm.sandbox.dataverse import errors as E

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[(),=\[\]])
    """,
    re.VERBOSE,
)

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
STRING_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})
IN_FUNCTION = "Microsoft.Dynamics.CRM.In"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise E.query_error(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def literal(token: Token, source: str) -> Any:
    """The Python value of a literal token."""
    if token.kind == "string":
        return token.text[1:-1].replace("''", "'")
    if token.kind == "guid":
        return token.text.lower()
    if token.kind == "number":
        raw = token.text.rstrip("mMdDfFlL")
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if token.kind == "name" and token.text in ("true", "false"):
        return token.text == "true"
    if token.kind == "name" and token.text == "null":
        return None
    raise E.query_error(f"Syntax error at position {token.at} in '{source}'.")


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def compare(op: str, left: Any, right: Any) -> bool:
    """``left op right`` the way Dataverse compares: text without case, null only equal
    to null."""
    a, b = _norm(left), _norm(right)
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None:
        return False
    try:
        if op == "gt":
            return bool(a > b)
        if op == "ge":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        return bool(a <= b)
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str, entity: str, columns: frozenset[str]) -> None:
        self.text = text
        self.entity = entity
        self.columns = columns
        self.tokens = tokenize(text)
        self.pos = 0

    def error(self) -> E.DvError:
        at = self.tokens[self.pos].at if self.pos < len(self.tokens) else len(self.text)
        return E.query_error(f"Syntax error at position {at} in '{self.text}'.")

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise self.error()
        self.pos += 1
        return token

    def column(self, token: Token) -> str:
        if token.kind != "name":
            raise self.error()
        if token.text not in self.columns:
            raise E.property_not_found(self.entity, token.text)
        return token.text

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise self.error()
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while (token := self.peek()) is not None and token.text == "or":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while (token := self.peek()) is not None and token.text == "and":
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def not_expr(self) -> Predicate:
        token = self.peek()
        if token is not None and token.text == "not":
            self.take()
            inner = self.not_expr()
            return lambda r: not inner(r)
        return self.primary()

    def primary(self) -> Predicate:
        token = self.take()
        if token.text == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if token.text == IN_FUNCTION:
            return self.in_function()
        if token.text in STRING_FUNCTIONS:
            return self.string_function(token.text)
        name = self.column(token)
        op = self.take()
        if op.text not in COMPARISONS:
            raise self.error()
        value = literal(self.take(), self.text)
        return lambda r: compare(op.text, r.get(name), value)

    def string_function(self, function: str) -> Predicate:
        self.take("(")
        name = self.column(self.take())
        self.take(",")
        value = literal(self.take(), self.text)
        self.take(")")
        if not isinstance(value, str):
            raise self.error()
        needle = value.casefold()

        def check(record: Record) -> bool:
            held = record.get(name)
            if not isinstance(held, str):
                return False
            text = held.casefold()
            if function == "contains":
                return needle in text
            if function == "startswith":
                return text.startswith(needle)
            return text.endswith(needle)

        return check

    def in_function(self) -> Predicate:
        self.take("(")
        self.take("PropertyName")
        self.take("=")
        name_token = self.take()
        if name_token.kind != "string":
            raise self.error()
        name = literal(name_token, self.text)
        if name not in self.columns:
            raise E.property_not_found(self.entity, str(name))
        self.take(",")
        self.take("PropertyValues")
        self.take("=")
        self.take("[")
        values: list[Any] = []
        while True:
            values.append(_norm(literal(self.take(), self.text)))
            separator = self.take()
            if separator.text == "]":
                break
            if separator.text != ",":
                raise self.error()
        self.take(")")
        wanted = set(values)
        return lambda r: _norm(r.get(name)) in wanted


def parse_filter(text: str, entity: str, columns: frozenset[str]) -> Predicate:
    """A predicate over a record's values (logical name -> stored value)."""
    if not text.strip():
        raise E.query_error(f"Syntax error at position 0 in '{text}'.")
    return _Parser(text, entity, columns).parse()


def parse_select(text: str | None, entity: str, columns: frozenset[str]) -> list[str] | None:
    """The columns ``$select`` names (None: every column)."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in columns:
            raise E.property_not_found(entity, name)
    return names


def parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise E.query_error(f"Invalid value '{text}' for $top query option found.") from None
    if value < 0:
        raise E.query_error(f"Invalid value '{text}' for $top query option found.")
    return value


def parse_key(text: str) -> dict[str, Any] | str:
    """The key inside ``contacts(…)``: a GUID (the primary key) or ``name='value'`` pairs
    (an alternate key)."""
    raw = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", raw):
        return raw.lower()
    tokens = tokenize(raw)
    pairs: dict[str, Any] = {}
    pos = 0
    while pos < len(tokens):
        if pos + 2 >= len(tokens) or tokens[pos].kind != "name" or tokens[pos + 1].text != "=":
            raise E.query_error(f"Bad Request - Error in query syntax: '{raw}'.")
        pairs[tokens[pos].text] = literal(tokens[pos + 2], raw)
        pos += 3
        if pos < len(tokens):
            if tokens[pos].text != ",":
                raise E.query_error(f"Bad Request - Error in query syntax: '{raw}'.")
            pos += 1
    if not pairs:
        raise E.query_error(f"Bad Request - Error in query syntax: '{raw}'.")
    return pairs
