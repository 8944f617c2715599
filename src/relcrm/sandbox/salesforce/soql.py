"""A SOQL subset: parser and evaluator over the emulated org.

Supported: ``SELECT`` of fields, parent paths (``Account.Name``), child subqueries
(``(SELECT Name FROM Opportunities)``), ``COUNT()``/``COUNT(f)``, ``FIELDS(ALL|STANDARD|
CUSTOM)``; ``WHERE`` with ``= != <> < > <= >= LIKE IN NOT IN``, semi-joins, ``AND OR NOT``,
parentheses, ``null``, strings with SOQL escapes, numbers, booleans, date and datetime
literals and the common date functions (``TODAY``, ``LAST_N_DAYS:n``...); ``ORDER BY``
(``ASC|DESC``, ``NULLS FIRST|LAST``); ``LIMIT``; ``OFFSET``.

Errors have the real codes and message layout (``INVALID_FIELD`` with the caret line and
"ERROR at Row:1:Column:N", ``MALFORMED_QUERY``, ``INVALID_TYPE``), because users test
their own queries against this.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.ids import to18
from relcrm.sandbox.salesforce.schema import TEXT_TYPES, FieldDef, ObjectDef

MAX_OFFSET = 2000

# ----------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][\w.]*(?::\d+)?)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _unescape(body: str, pos: int, query: str) -> str:
    """Decode a SOQL string literal body; ``\\%`` and ``\\_`` stay escaped for LIKE."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("%", "_"):
            out.append("\\" + nxt)
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise SfError(
                "MALFORMED_QUERY",
                f"Invalid string literal '{body}'. Illegal character sequence '\\{nxt}' in"
                " string literal.",
            )
    return "".join(out)


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN_RE.match(query, pos)
        if match is None:
            raise _error_at(query, pos, "MALFORMED_QUERY", f"unexpected token: '{query[pos]}'")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def _error_at(query: str, pos: int, code: str, text: str) -> SfError:
    """An error whose message points at ``pos`` the way Salesforce's parser does."""
    before = query[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end != -1 else len(query)]
    column = pos - line_start + 1
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{text}"
    return SfError(code, message)


# ----------------------------------------------------------------------------- AST


@dataclass
class FieldPath:
    parts: list[str]
    pos: int
    alias: str | None = None


@dataclass
class Count:
    field: FieldPath | None
    pos: int
    alias: str | None = None


@dataclass
class FieldsMacro:
    which: str  # ALL | STANDARD | CUSTOM
    pos: int


@dataclass
class SubQuery:
    query: Query
    pos: int


@dataclass
class Literal:
    value: Any
    kind: str  # string | number | boolean | null | date | datetime | datefunc
    pos: int


@dataclass
class Comparison:
    path: FieldPath
    op: str
    value: Literal | list[Literal] | Query


@dataclass
class BoolOp:
    op: str  # AND | OR
    items: list[Condition]


@dataclass
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass
class OrderItem:
    path: FieldPath
    ascending: bool = True
    nulls_first: bool | None = None


@dataclass
class Query:
    select: list[FieldPath | Count | FieldsMacro | SubQuery]
    object_name: str
    object_pos: int
    where: Condition | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""


_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "GROUP",
    "HAVING",
    "FOR",
    "WITH",
    "USING",
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers
    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SfError("MALFORMED_QUERY", "unexpected end of query")
        self.i += 1
        return tok

    def at_keyword(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "ident" and tok.upper in words

    def at_punct(self, char: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == char

    def at_ident(self) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "ident"

    def expect_keyword(self, word: str) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != "ident" or tok.upper != word:
            self.fail(tok)
        return self.next()

    def expect_punct(self, char: str) -> Token:
        tok = self.peek()
        if tok is None or tok.text != char:
            self.fail(tok)
        return self.next()

    def fail(self, tok: Token | None) -> None:
        if tok is None:
            raise SfError("MALFORMED_QUERY", "unexpected end of query")
        raise _error_at(self.text, tok.pos, "MALFORMED_QUERY", f"unexpected token: '{tok.text}'")

    # -- grammar
    def parse(self) -> Query:
        query = self.query()
        if self.peek() is not None:
            self.fail(self.peek())
        return query

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        select: list[FieldPath | Count | FieldsMacro | SubQuery] = [self.select_item()]
        while self.at_punct(","):
            self.next()
            select.append(self.select_item())
        self.expect_keyword("FROM")
        obj = self.next()
        if obj.kind != "ident" or obj.upper in _KEYWORDS:
            self.fail(obj)
        query = Query(select=select, object_name=obj.text, object_pos=obj.pos, text=self.text)
        if self.at_ident() and not self.at_keyword(
            "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "FOR", "WITH", "USING"
        ):
            self.next()  # an alias for the object; accepted and ignored
        if self.at_keyword("WHERE"):
            self.next()
            query.where = self.condition()
        if self.at_keyword("GROUP", "HAVING", "WITH", "USING", "FOR"):
            tok = self.peek()
            assert tok is not None
            raise _error_at(
                self.text,
                tok.pos,
                "MALFORMED_QUERY",
                f"the sandbox does not support '{tok.text}' clauses",
            )
        if self.at_keyword("ORDER"):
            self.next()
            self.expect_keyword("BY")
            query.order.append(self.order_item())
            while self.at_punct(","):
                self.next()
                query.order.append(self.order_item())
        if self.at_keyword("LIMIT"):
            self.next()
            query.limit = self.integer()
        if self.at_keyword("OFFSET"):
            self.next()
            query.offset = self.integer()
        return query

    def integer(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not tok.text.lstrip("-").isdigit():
            self.fail(tok)
        return int(tok.text)

    def select_item(self) -> FieldPath | Count | FieldsMacro | SubQuery:
        tok = self.next()
        if tok.text == "(":
            inner = self.query()
            self.expect_punct(")")
            return SubQuery(inner, tok.pos)
        if tok.kind != "ident" or tok.upper in _KEYWORDS:
            self.fail(tok)
        nxt = self.peek()
        if tok.upper == "COUNT" and nxt is not None and nxt.text == "(":
            self.next()
            target: FieldPath | None = None
            if not self.at_punct(")"):
                arg = self.next()
                target = FieldPath(arg.text.split("."), arg.pos)
            self.expect_punct(")")
            count = Count(target, tok.pos)
            if self.at_ident() and not self.at_keyword("FROM"):
                count.alias = self.next().text
            return count
        if tok.upper == "FIELDS" and nxt is not None and nxt.text == "(":
            self.next()
            which = self.next()
            if which.upper not in ("ALL", "STANDARD", "CUSTOM"):
                self.fail(which)
            self.expect_punct(")")
            return FieldsMacro(which.upper, tok.pos)
        return FieldPath(tok.text.split("."), tok.pos)

    def order_item(self) -> OrderItem:
        tok = self.next()
        if tok.kind != "ident":
            self.fail(tok)
        item = OrderItem(FieldPath(tok.text.split("."), tok.pos))
        if self.at_keyword("ASC", "DESC"):
            item.ascending = self.next().upper == "ASC"
        if self.at_keyword("NULLS"):
            self.next()
            which = self.next()
            if which.upper not in ("FIRST", "LAST"):
                self.fail(which)
            item.nulls_first = which.upper == "FIRST"
        return item

    def condition(self) -> Condition:
        items = [self.conjunction()]
        while self.at_keyword("OR"):
            self.next()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("OR", items)

    def conjunction(self) -> Condition:
        items = [self.unary()]
        while self.at_keyword("AND"):
            self.next()
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("AND", items)

    def unary(self) -> Condition:
        if self.at_keyword("NOT"):
            self.next()
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.next()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.next()
        if tok.kind != "ident" or tok.upper in _KEYWORDS:
            self.fail(tok)
        path = FieldPath(tok.text.split("."), tok.pos)
        op_tok = self.next()
        if op_tok.kind == "op":
            return Comparison(path, "!=" if op_tok.text == "<>" else op_tok.text, self.literal())
        if op_tok.kind == "ident" and op_tok.upper == "LIKE":
            return Comparison(path, "LIKE", self.literal())
        negate = False
        if op_tok.kind == "ident" and op_tok.upper == "NOT" and self.at_keyword("IN"):
            negate = True
            op_tok = self.next()
        if op_tok.kind == "ident" and op_tok.upper == "IN":
            self.expect_punct("(")
            if self.at_keyword("SELECT"):
                inner = self.query()
                self.expect_punct(")")
                return Comparison(path, "NOT IN" if negate else "IN", inner)
            values = [self.literal()]
            while self.at_punct(","):
                self.next()
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(path, "NOT IN" if negate else "IN", values)
        self.fail(op_tok)
        raise AssertionError  # unreachable

    def literal(self) -> Literal:
        tok = self.next()
        if tok.kind == "string":
            return Literal(_unescape(tok.text[1:-1], tok.pos, self.text), "string", tok.pos)
        if tok.kind == "number":
            value: Any = float(tok.text) if "." in tok.text else int(tok.text)
            return Literal(value, "number", tok.pos)
        if tok.kind == "date":
            return Literal(tok.text, "date", tok.pos)
        if tok.kind == "datetime":
            return Literal(parse_datetime(tok.text), "datetime", tok.pos)
        if tok.kind == "ident":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                return Literal(word == "TRUE", "boolean", tok.pos)
            if word == "NULL":
                return Literal(None, "null", tok.pos)
            if _date_function(word) is not None:
                return Literal(word, "datefunc", tok.pos)
        self.fail(tok)
        raise AssertionError  # unreachable


def parse(text: str) -> Query:
    """Parse a SOQL query, or raise :class:`SfError` (MALFORMED_QUERY)."""
    return _Parser(text).parse()


# ----------------------------------------------------------------------------- values


def parse_datetime(text: str) -> dt.datetime:
    """Parse the datetime forms Salesforce accepts (``Z``, ``+hh:mm``, ``+hhmm``, millis)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.fullmatch(r"(.*[+-]\d{2})(\d{2})", value)
    if match and ":" not in value[-5:]:
        value = f"{match.group(1)}:{match.group(2)}"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    """Salesforce's datetime rendering: ``2024-01-31T09:30:00.000+0000``."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _date_function(word: str) -> tuple[dt.date, dt.date] | None:
    """The [start, end) range of a date literal such as TODAY or LAST_N_DAYS:7."""
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    fixed = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_YEAR": (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "LAST_YEAR": (dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)),
    }
    if word in fixed:
        return fixed[word]
    match = re.fullmatch(r"(LAST|NEXT)_N_DAYS:(\d+)", word)
    if match:
        n = int(match.group(2))
        if match.group(1) == "LAST":
            return (today - n * day, today + day)
        return (today + day, today + (n + 1) * day)
    return None


# ----------------------------------------------------------------------------- catalog


class Catalog(Protocol):
    """What the evaluator needs from the org, already filtered for the calling user."""

    def object_def(self, name: str) -> ObjectDef | None: ...

    def visible_field(self, obj: ObjectDef, name: str) -> FieldDef | None: ...

    def visible_fields(self, obj: ObjectDef) -> list[FieldDef]: ...

    def rows(self, obj: ObjectDef, include_deleted: bool) -> Iterable[dict[str, Any]]: ...

    def get_row(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None: ...

    def child_relationship(
        self, parent: ObjectDef, name: str
    ) -> tuple[ObjectDef, FieldDef] | None: ...

    def record_url(self, obj: ObjectDef, record_id: str) -> str: ...


@dataclass
class Resolved:
    """A field path resolved to the chain of reference fields and the final field."""

    hops: list[FieldDef]
    target: FieldDef
    names: list[str]  # canonical names for the output keys (relationship names, field)


def _no_such_column(query: Query, path: FieldPath, obj: ObjectDef) -> SfError:
    return _error_at(
        query.text,
        path.pos,
        "INVALID_FIELD",
        f"No such column '{path.parts[-1]}' on entity '{obj.name}'. If you are attempting to"
        " use a custom field, be sure to append the '__c' after the custom field name. Please"
        " reference your WSDL or the describe call for the appropriate names.",
    )


def _resolve(catalog: Catalog, query: Query, obj: ObjectDef, path: FieldPath) -> Resolved:
    parts = list(path.parts)
    if len(parts) > 1 and parts[0].lower() == obj.name.lower():
        parts = parts[1:]  # "Contact.Email" FROM Contact
    hops: list[FieldDef] = []
    names: list[str] = []
    current = obj
    for rel in parts[:-1]:
        ref = next(
            (
                f
                for f in catalog.visible_fields(current)
                if f.type == "reference"
                and f.relationship_name
                and f.relationship_name.lower() == rel.lower()
            ),
            None,
        )
        target_obj = catalog.object_def(ref.reference_to[0]) if ref and ref.reference_to else None
        if ref is None or target_obj is None:
            raise _error_at(
                query.text,
                path.pos,
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel}' in field path. If you are attempting to"
                " use a custom relationship, be sure to append the '__r' after the custom"
                " relationship name. Please reference your WSDL or the describe call for the"
                " appropriate names.",
            )
        hops.append(ref)
        names.append(ref.relationship_name or rel)
        current = target_obj
    final = catalog.visible_field(current, parts[-1])
    if final is None:
        raise _no_such_column(query, FieldPath(parts, path.pos), current)
    names.append(final.name)
    return Resolved(hops, final, names)


def _value_of(catalog: Catalog, row: dict[str, Any], resolved: Resolved) -> Any:
    current: dict[str, Any] | None = row
    for hop in resolved.hops:
        assert current is not None
        ref_id = current.get(hop.name)
        found = catalog.get_row(ref_id) if ref_id else None
        if found is None:
            return None
        current = found[1]
    assert current is not None
    return current.get(resolved.target.name)


# ----------------------------------------------------------------------------- compare


def _norm(target: FieldDef, value: Any) -> Any:
    """Bring a stored value or literal into a comparable form for ``target``'s type."""
    if value is None:
        return None
    t = target.type
    if t in ("id", "reference"):
        return to18(str(value))
    if t in TEXT_TYPES:
        return str(value).lower()
    if t == "datetime":
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            if len(value) == 10:
                return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            return parse_datetime(value)
    if t == "date" and isinstance(value, dt.datetime):
        return value.date().isoformat()
    if t in ("double", "percent", "currency", "int") and not isinstance(value, bool):
        return float(value)
    return value


def _check_literal(query: Query, target: FieldDef, lit: Literal) -> None:
    t = target.type
    if lit.kind == "null":
        return
    numeric = t in ("double", "percent", "currency", "int")
    bad = (
        (numeric and lit.kind != "number")
        or (t == "boolean" and lit.kind != "boolean")
        or (t == "date" and lit.kind not in ("date", "datefunc"))
        or (t == "datetime" and lit.kind not in ("datetime", "datefunc"))
        or ((t in TEXT_TYPES or t in ("id", "reference")) and lit.kind != "string")
    )
    if bad:
        expected = {"int": "integer", "datetime": "dateTime"}.get(t, t)
        if t in TEXT_TYPES or t in ("id", "reference"):
            expected = "string" if t in TEXT_TYPES else t
            hint = "should be enclosed in quotes"
        else:
            hint = "should not be enclosed in quotes"
        raise _error_at(
            query.text,
            lit.pos,
            "INVALID_QUERY_FILTER_OPERATOR" if lit.kind == "boolean" else "MALFORMED_QUERY",
            f"value of filter criterion for field '{target.name}' must be of type {expected}"
            f" and {hint}",
        )


def _like(pattern: str, value: str) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), value, re.IGNORECASE | re.DOTALL) is not None


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == ">":
            return bool(left > right)
        if op == "<=":
            return bool(left <= right)
        if op == ">=":
            return bool(left >= right)
    except TypeError:
        return False
    raise AssertionError(op)


def _compare_range(op: str, target: FieldDef, value: Any, word: str) -> bool:
    span = _date_function(word)
    assert span is not None
    if value is None:
        return op == "!="
    if target.type == "datetime":
        start: Any = dt.datetime.combine(span[0], dt.time(), dt.UTC)
        end: Any = dt.datetime.combine(span[1], dt.time(), dt.UTC)
    else:
        start, end = span[0].isoformat(), span[1].isoformat()
    inside = bool(start <= value < end)
    return {
        "=": inside,
        "!=": not inside,
        "<": bool(value < start),
        "<=": bool(value < end),
        ">": bool(value >= end),
        ">=": bool(value >= start),
    }[op]


# ----------------------------------------------------------------------------- evaluation


@dataclass
class Result:
    """Rows of a query, already projected into Salesforce's JSON shape."""

    records: list[dict[str, Any]]
    total_size: int


class Evaluator:
    """Runs a parsed query against a :class:`Catalog`."""

    def __init__(self, catalog: Catalog, *, include_deleted: bool = False) -> None:
        self.catalog = catalog
        self.include_deleted = include_deleted

    def run(self, query: Query) -> Result:
        obj = self.catalog.object_def(query.object_name)
        if obj is None or not obj.queryable:
            raise _error_at(
                query.text,
                query.object_pos,
                "INVALID_TYPE",
                f"sObject type '{query.object_name}' is not supported. If you are attempting to"
                " use a custom object, be sure to append the '__c' after the entity name. Please"
                " reference your WSDL or the describe call for the appropriate names.",
            )
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SfError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        return self._select(query, obj, self.catalog.rows(obj, self.include_deleted))

    def _select(self, query: Query, obj: ObjectDef, source: Iterable[dict[str, Any]]) -> Result:
        projector = self._projector(query, obj)
        predicate = self._predicate(query, obj, query.where)
        rows = [r for r in source if predicate(r)]
        rows = self._sorted(query, obj, rows)
        if query.offset:
            rows = rows[query.offset :]
        if query.limit is not None:
            rows = rows[: query.limit]
        counts = [s for s in query.select if isinstance(s, Count)]
        if counts:
            if len(query.select) != len(counts):
                raise SfError(
                    "MALFORMED_QUERY",
                    "Field must be grouped or aggregated: the sandbox supports COUNT() alone",
                )
            if len(counts) == 1 and counts[0].field is None:
                return Result([], len(rows))
            record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for n, count in enumerate(counts):
                if count.field is None:
                    raise SfError("MALFORMED_QUERY", "COUNT() cannot be combined with aggregates")
                resolved = _resolve(self.catalog, query, obj, count.field)
                value = sum(1 for r in rows if _value_of(self.catalog, r, resolved) is not None)
                record[count.alias or f"expr{n}"] = value
            return Result([record], 1)
        return Result([projector(r) for r in rows], len(rows))

    # -- projection
    def _projector(
        self, query: Query, obj: ObjectDef
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        items: list[tuple[str, Any]] = []
        for item in query.select:
            if isinstance(item, FieldsMacro):
                if item.which == "ALL" and (query.limit is None or query.limit > 200):
                    raise SfError(
                        "MALFORMED_QUERY",
                        "The SOQL FIELDS function must have a LIMIT of at most 200",
                    )
                for f in self.catalog.visible_fields(obj):
                    if item.which == "ALL" or (item.which == "CUSTOM") == f.custom:
                        items.append(("field", Resolved([], f, [f.name])))
            elif isinstance(item, FieldPath):
                items.append(("field", _resolve(self.catalog, query, obj, item)))
            elif isinstance(item, SubQuery):
                rel = self.catalog.child_relationship(obj, item.query.object_name)
                if rel is None:
                    raise _error_at(
                        query.text,
                        item.query.object_pos + item.pos,
                        "INVALID_TYPE",
                        f"Didn't understand relationship '{item.query.object_name}' in FROM"
                        " part of query call. If you are attempting to use a custom relationship,"
                        " be sure to append the '__r' after the custom relationship name. Please"
                        " reference your WSDL or the describe call for the appropriate names.",
                    )
                items.append(("child", (item.query, rel)))
        catalog = self.catalog

        def project(row: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {
                "attributes": {"type": obj.name, "url": catalog.record_url(obj, row["Id"])}
            }
            for kind, spec in items:
                if kind == "field":
                    self._put(out, row, spec)
                else:
                    child_query, (child_obj, fk) = spec
                    out[child_query.object_name] = self._children(child_query, child_obj, fk, row)
            return out

        return project

    def _put(self, out: dict[str, Any], row: dict[str, Any], resolved: Resolved) -> None:
        """Write one (possibly dotted) field into the nested output record."""
        current_out = out
        current_row: dict[str, Any] | None = row
        for hop, name in zip(resolved.hops, resolved.names, strict=False):
            ref_id = current_row.get(hop.name) if current_row else None
            found = self.catalog.get_row(ref_id) if ref_id else None
            if found is None:
                current_out.setdefault(name, None)
                return
            parent_obj, parent_row = found
            nested = current_out.get(name)
            if not isinstance(nested, dict):
                nested = {
                    "attributes": {
                        "type": parent_obj.name,
                        "url": self.catalog.record_url(parent_obj, parent_row["Id"]),
                    }
                }
                current_out[name] = nested
            current_out = nested
            current_row = parent_row
        assert current_row is not None
        current_out[resolved.target.name] = current_row.get(resolved.target.name)

    def _children(
        self, child_query: Query, child_obj: ObjectDef, fk: FieldDef, parent: dict[str, Any]
    ) -> dict[str, Any] | None:
        parent_id = parent["Id"]
        rows = [
            r
            for r in self.catalog.rows(child_obj, self.include_deleted)
            if r.get(fk.name) == parent_id
        ]
        inner = Query(
            select=child_query.select,
            object_name=child_obj.name,
            object_pos=child_query.object_pos,
            where=child_query.where,
            order=child_query.order,
            limit=child_query.limit,
            offset=child_query.offset,
            text=child_query.text,
        )
        records = self._select(inner, child_obj, rows).records
        if not records:
            return None  # real orgs answer null, not an empty list, for no child rows
        return {"totalSize": len(records), "done": True, "records": records}

    # -- filtering
    def _predicate(
        self, query: Query, obj: ObjectDef, cond: Condition | None
    ) -> Callable[[dict[str, Any]], bool]:
        if cond is None:
            return lambda row: True
        if isinstance(cond, BoolOp):
            parts = [self._predicate(query, obj, c) for c in cond.items]
            if cond.op == "AND":
                return lambda row: all(p(row) for p in parts)
            return lambda row: any(p(row) for p in parts)
        if isinstance(cond, Not):
            inner = self._predicate(query, obj, cond.item)
            return lambda row: not inner(row)
        resolved = _resolve(self.catalog, query, obj, cond.path)
        target = resolved.target
        catalog = self.catalog
        op = cond.op
        if isinstance(cond.value, Query):
            sub = cond.value
            if len(sub.select) != 1 or not isinstance(sub.select[0], FieldPath):
                raise SfError("MALFORMED_QUERY", "a semi-join selects exactly one field")
            sub_obj = catalog.object_def(sub.object_name)
            if sub_obj is None:
                raise SfError("INVALID_TYPE", f"sObject type '{sub.object_name}' is not supported.")
            sub_field = _resolve(catalog, sub, sub_obj, sub.select[0])
            sub_pred = self._predicate(sub, sub_obj, sub.where)
            allowed = {
                _norm(target, _value_of(catalog, r, sub_field))
                for r in catalog.rows(sub_obj, False)
                if sub_pred(r)
            }
            allowed.discard(None)
            negate = op == "NOT IN"
            return lambda row: (
                (_norm(target, _value_of(catalog, row, resolved)) in allowed) != negate
            )
        if isinstance(cond.value, list):
            for lit in cond.value:
                _check_literal(query, target, lit)
            wanted = {_norm(target, lit.value) for lit in cond.value}
            negate = op == "NOT IN"
            return lambda row: (
                (_norm(target, _value_of(catalog, row, resolved)) in wanted) != negate
            )
        lit = cond.value
        if op == "LIKE":
            if lit.kind != "string":
                raise _error_at(
                    query.text, lit.pos, "MALFORMED_QUERY", "LIKE needs a string literal"
                )
            pattern = str(lit.value)

            def like(row: dict[str, Any]) -> bool:
                value = _value_of(catalog, row, resolved)
                return value is not None and _like(pattern, str(value))

            return like
        _check_literal(query, target, lit)
        if lit.kind == "datefunc":
            word = str(lit.value)
            return lambda row: _compare_range(
                op, target, _norm(target, _value_of(catalog, row, resolved)), word
            )
        if lit.kind == "null" and op not in ("=", "!="):
            raise _error_at(
                query.text, lit.pos, "MALFORMED_QUERY", f"invalid operator on null: '{op}'"
            )
        right = _norm(target, lit.value)
        return lambda row: _compare(op, _norm(target, _value_of(catalog, row, resolved)), right)

    # -- ordering
    def _sorted(
        self, query: Query, obj: ObjectDef, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if not query.order:
            return rows
        keys = [(_resolve(self.catalog, query, obj, o.path), o) for o in query.order]

        def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
            for resolved, item in keys:
                va = _norm(resolved.target, _value_of(self.catalog, a, resolved))
                vb = _norm(resolved.target, _value_of(self.catalog, b, resolved))
                if va == vb:
                    continue
                nulls_first = item.nulls_first if item.nulls_first is not None else item.ascending
                if va is None:
                    return -1 if nulls_first else 1
                if vb is None:
                    return 1 if nulls_first else -1
                result = -1 if va < vb else 1
                return result if item.ascending else -result
            return 0

        return sorted(rows, key=functools.cmp_to_key(cmp))
