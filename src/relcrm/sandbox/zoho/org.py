"""The sandbox org: its modules' fields and records, and every operation the API exposes,
with Zoho's per-record rules. Kept free of HTTP so the rules read in one place.

Multi-record calls (insert, update, upsert) answer one entry per record, in request order,
``{"code", "details", "message", "status"}`` (Zoho's v8 insert/update/upsert pages and
``zoho/crm-oas`` ``record.json``); a record's first problem is its answer. Upsert looks for
the existing record by ``duplicate_check_fields`` in the order given (default: the
module's system duplicate check, ``Email`` for Contacts and Leads, then unique custom
fields) and says ``"action": "insert"`` or ``"update"`` and the ``duplicate_field`` used.
When several records match an upsert's key the sandbox refuses the record with
``DUPLICATE_DATA`` (what Zoho does then is not documented). Search compares text
case-insensitively, as Zoho's search does; it is consistent at once, where Zoho's search
index can lag a few seconds behind writes (not emulated).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox.zoho import errors as E
from relcrm.sandbox.zoho import tasks
from relcrm.sandbox.zoho.schema import (
    API_NAME_MAX,
    API_NAME_RE,
    CREATABLE,
    DOUBLE_MAX_DECIMALS,
    DOUBLE_MAX_DIGITS,
    INTEGER_MAX_DIGITS,
    LABEL_MAX,
    MODULES,
    PERCENT_MAX_DIGITS,
    TEXT_MAX,
    TEXTAREA_SIZES,
    FieldDef,
    ValueProblem,
    accept,
    default_fields,
    parse_zone,
    render,
)

WriteSink = Callable[[RecordWrite], None]
MAX_RECORDS = 100
MAX_FIELDS_PER_CREATE = 5
MAX_CRITERIA = 10
MAX_IDS = 100
MAX_PER_PAGE = 200
SYSTEM_FIELDS = frozenset({"id", "Created_Time", "Modified_Time", "Owner"})
DUPLICATE_CHECK: dict[str, tuple[str, ...]] = {"Contacts": ("Email",), "Leads": ("Email",)}


@dataclass
class OrgConfig:
    """What the org is: its time zone, its user, and which modules it has."""

    time_zone: str = "+05:30"
    """The org's time zone: date-times are read back in it."""
    user_name: str = "relcrm sandbox"
    user_id: str = "3652397000000186017"
    user_email: str = "integration@example.com"
    modules: tuple[str, ...] = MODULES


@dataclass
class Record:
    id: str
    values: dict[str, Any]
    created: datetime
    modified: datetime


@dataclass
class Outcome:
    """Per-record answers of one multi-record call."""

    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> int:
        ok = sum(r["status"] == E.SUCCESS for r in self.results)
        if ok == len(self.results):
            return 200
        return 207 if ok else 400


class Org:
    """One Zoho CRM org's data; every operation runs under one lock."""

    def __init__(self, config: OrgConfig | None = None, faults: FaultInjector | None = None):
        self.config = config or OrgConfig()
        self.zone: tzinfo = parse_zone(self.config.time_zone)
        self.faults = faults or FaultInjector()
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """A fresh org: the standard fields, no custom ones, no records."""
        with self.lock:
            self.fields: dict[str, dict[str, FieldDef]] = {
                m: {f.api_name: f for f in default_fields(m)} for m in self.config.modules
            }
            self.records: dict[str, dict[str, Record]] = {m: {} for m in self.config.modules}
            self._ids = itertools.count(3_652_397_000_000_412_001)
            self._field_ids = itertools.count(3_652_397_000_000_090_001)

    # ------------------------------------------------------------------ helpers

    def module(self, name: str) -> str:
        """The module's API name as the org spells it, or ``INVALID_MODULE``."""
        for known in self.config.modules:
            if known.lower() == name.lower():
                return known
        raise E.invalid_module()

    def _now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def _user(self) -> dict[str, str]:
        return {
            "name": self.config.user_name,
            "id": self.config.user_id,
            "email": self.config.user_email,
        }

    def _details(self, record: Record) -> dict[str, Any]:
        return {
            "Modified_Time": render(None, record.modified, self.zone),
            "Modified_By": {"name": self.config.user_name, "id": self.config.user_id},
            "Created_Time": render(None, record.created, self.zone),
            "id": record.id,
            "Created_By": {"name": self.config.user_name, "id": self.config.user_id},
        }

    def record_json(
        self, module: str, record: Record, names: Iterable[str] | None
    ) -> dict[str, Any]:
        """A record as Get Records and Search answer it (``fields``: those only)."""
        specs = self.fields[module]
        wanted = list(names) if names is not None else [n for n in specs if n != "id"]
        out: dict[str, Any] = {"id": record.id}
        for name in wanted:
            if name == "id":
                continue
            if name == "Created_Time":
                out[name] = render(None, record.created, self.zone)
            elif name == "Modified_Time":
                out[name] = render(None, record.modified, self.zone)
            elif name == "Owner":
                out[name] = tasks.shown(record.values.get("Owner")) or self._user()
            elif name in specs:
                value = render(specs[name], record.values.get(name), self.zone)
                out[name] = tasks.shown(value)
        return out

    # ------------------------------------------------------------------ fields

    def list_fields(self, module: str) -> list[dict[str, Any]]:
        with self.lock:
            return [f.to_json() for f in self.fields[self.module(module)].values()]

    def _field_problem(
        self, module: str, index: int, raw: Any, taken: set[str], labels: set[str]
    ) -> tuple[FieldDef | None, dict[str, Any] | None]:
        path = f"$.fields[{index}]"
        if not isinstance(raw, dict):
            return None, E.invalid_data("fields", path)
        label = raw.get("field_label") or raw.get("display_label")
        if not isinstance(label, str) or not label.strip():
            return None, E.mandatory_missing("field_label", f"{path}.field_label")
        kind = raw.get("data_type")
        if not isinstance(kind, str):
            return None, E.mandatory_missing("data_type", f"{path}.data_type")
        if kind not in CREATABLE:
            return None, E.invalid_data("data_type", f"{path}.data_type")
        if len(label) > LABEL_MAX:
            return None, E.invalid_data(
                "field_label", f"{path}.field_label", maximum_length=LABEL_MAX
            )
        api_name = raw.get("api_name") or re.sub(r"\W+", "_", label.strip())
        if (
            not isinstance(api_name, str)
            or not API_NAME_RE.match(api_name)
            or len(api_name) > API_NAME_MAX
        ):
            return None, E.invalid_data("api_name", f"{path}.api_name")
        if api_name.lower() in taken:
            return None, E.duplicate_data("api_name", f"{path}.api_name")
        if label.strip().lower() in labels:
            return None, E.duplicate_data("field_label", f"{path}.field_label")
        spec = FieldDef(api_name=api_name, field_label=label.strip(), data_type=kind)
        spec.custom_field = True
        length = raw.get("length")
        limits = {
            "text": TEXT_MAX,
            "integer": INTEGER_MAX_DIGITS,
            "double": DOUBLE_MAX_DIGITS,
            "currency": DOUBLE_MAX_DIGITS,
            "percent": PERCENT_MAX_DIGITS,
        }
        if kind == "textarea":
            size = str((raw.get("textarea") or {}).get("type") or "small")
            if size not in TEXTAREA_SIZES:
                return None, E.invalid_data("textarea", f"{path}.textarea.type")
            spec.textarea_type = size
            spec.length = TEXTAREA_SIZES[size]
        elif kind in limits:
            cap = limits[kind]
            if length is None:
                length = cap
            if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= cap:
                return None, E.invalid_data("length", f"{path}.length", maximum_length=cap)
            spec.length = length
        if kind in ("double", "currency", "percent"):
            places = raw.get("decimal_place", 2)
            if (
                not isinstance(places, int)
                or isinstance(places, bool)
                or not 0 <= places <= DOUBLE_MAX_DECIMALS
                or (spec.length is not None and places >= spec.length)
            ):
                return None, E.invalid_data("decimal_place", f"{path}.decimal_place")
            spec.decimal_place = places
        if kind == "picklist":
            values = raw.get("pick_list_values")
            if not isinstance(values, list) or not values:
                return None, E.mandatory_missing("pick_list_values", f"{path}.pick_list_values")
            seen: list[str] = []
            for entry in values:
                actual = (entry or {}).get("actual_value") or (entry or {}).get("display_value")
                if not isinstance(actual, str) or not actual or actual in seen:
                    return None, E.invalid_data("pick_list_values", f"{path}.pick_list_values")
                seen.append(actual)
            spec.pick_list_values = seen
        unique = raw.get("unique")
        spec.unique = isinstance(unique, dict) and bool(unique)
        return spec, None

    def create_fields(self, module: str, body: Any) -> tuple[int, dict[str, Any]]:
        """``POST /settings/fields?module=``: all or nothing, 201 or 400, at most five."""
        with self.lock:
            module = self.module(module)
            raw = body.get("fields") if isinstance(body, dict) else None
            if not isinstance(raw, list) or not raw:
                raise E.ZohoError(
                    400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "fields"}
                )
            if len(raw) > MAX_FIELDS_PER_CREATE:
                raise E.limit_exceeded(MAX_FIELDS_PER_CREATE, "fields")
            taken = {name.lower() for name in self.fields[module]}
            labels = {f.field_label.lower() for f in self.fields[module].values()}
            made: list[FieldDef] = []
            problems: list[dict[str, Any]] = []
            for index, item in enumerate(raw):
                spec, problem = self._field_problem(module, index, item, taken, labels)
                if problem is not None:
                    problems.append(problem)
                    continue
                assert spec is not None
                taken.add(spec.api_name.lower())
                labels.add(spec.field_label.lower())
                made.append(spec)
            if problems:
                return 400, {"fields": problems}
            for spec in made:
                spec.id = str(next(self._field_ids))
                self.fields[module][spec.api_name] = spec
            return 201, {"fields": [E.success("field created", {"id": s.id}) for s in made]}

    def update_field(self, module: str, field_id: str, body: Any) -> dict[str, Any]:
        """``PATCH /settings/fields/{id}?module=``: the label, or picklist values added."""
        with self.lock:
            module = self.module(module)
            spec = next((f for f in self.fields[module].values() if f.id == field_id), None)
            if spec is None:
                raise E.ZohoError(
                    400,
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    {"resource_path_index": 3},
                )
            raw = body.get("fields") if isinstance(body, dict) else None
            if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
                raise E.invalid_body("expected one field in fields")
            item = raw[0]
            if "pick_list_values" in item:
                if spec.data_type != "picklist":
                    raise E.ZohoError(
                        400,
                        "INVALID_DATA",
                        "invalid data",
                        {"api_name": "pick_list_values", "json_path": "$.fields[0]"},
                    )
                for entry in item["pick_list_values"] or []:
                    actual = (entry or {}).get("actual_value") or (entry or {}).get("display_value")
                    if (entry or {}).get("_delete") and actual in spec.pick_list_values:
                        spec.pick_list_values.remove(actual)
                    elif isinstance(actual, str) and actual not in spec.pick_list_values:
                        spec.pick_list_values.append(actual)
            if isinstance(item.get("field_label"), str) and spec.custom_field:
                spec.field_label = item["field_label"]
            return {"fields": [E.success("field updated", {"id": spec.id})]}

    # ------------------------------------------------------------------ values

    def _values(
        self, module: str, index: int, raw: Mapping[str, Any], skip: Iterable[str] = ()
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The record's values as stored, or its first problem."""
        specs = self.fields[module]
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if name in skip or name.startswith("$"):
                continue
            path = f"$.data[{index}].{name}"
            spec = specs.get(name)
            if spec is None or spec.read_only:
                if name in SYSTEM_FIELDS and name != "Owner":
                    return None, E.invalid_data(name, path)
                if spec is None:
                    return None, E.invalid_data(name, path)
                continue
            try:
                if spec.data_type in ("ownerlookup", "lookup"):  # the id must name something
                    out[name] = tasks.lookup_value(self, spec, value, raw)
                    continue
                out[name] = accept(spec, value)
            except ValueProblem as problem:
                return None, E.invalid_data(name, path, **problem.details)
        return out, None

    def _unique_clash(
        self, module: str, index: int, values: Mapping[str, Any], own_id: str | None
    ) -> dict[str, Any] | None:
        for name, value in values.items():
            spec = self.fields[module].get(name)
            if spec is None or not spec.unique or value is None:
                continue
            for record in self.records[module].values():
                if record.id != own_id and _same(record.values.get(name), value):
                    return E.duplicate_data(name, f"$.data[{index}].{name}", record.id, module)
        return None

    def _fails(self, *keys: str | None) -> bool:
        return self.faults.record_fails(*keys)

    # ------------------------------------------------------------------ records

    def _check_count(self, items: Any) -> list[Any]:
        if not isinstance(items, list) or not items:
            raise E.ZohoError(
                400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data"}
            )
        if len(items) > MAX_RECORDS:
            raise E.limit_exceeded(MAX_RECORDS, "Record")
        return items

    def _insert_one(
        self, module: str, index: int, raw: Any, sink: WriteSink | None
    ) -> tuple[dict[str, Any], Record | None]:
        if not isinstance(raw, dict):
            return E.invalid_data("data", f"$.data[{index}]"), None
        values, problem = self._values(module, index, raw, skip=("id",))
        if problem is not None:
            return problem, None
        assert values is not None
        for spec in self.fields[module].values():
            if spec.system_mandatory and values.get(spec.api_name) in (None, ""):
                return E.mandatory_missing(spec.api_name, f"$.data[{index}].{spec.api_name}"), None
        clash = self._unique_clash(module, index, values, None)
        if clash is not None:
            return clash, None
        if self._fails(values.get("Email")):
            return E.record_locked(""), None
        now = self._now()
        record = Record(str(next(self._ids)), values, now, now)
        self.records[module][record.id] = record
        if sink is not None:
            sink(RecordWrite(module, "create", record.id, values.get("Email")))
        return E.success("record added", self._details(record)), record

    def insert(self, module: str, body: Any, sink: WriteSink | None = None) -> Outcome:
        with self.lock:
            module = self.module(module)
            items = self._check_count(body.get("data") if isinstance(body, dict) else None)
            outcome = Outcome()
            for index, raw in enumerate(items):
                result, _ = self._insert_one(module, index, raw, sink)
                outcome.results.append(result)
            return outcome

    def _update_one(
        self,
        module: str,
        index: int,
        record: Record,
        raw: Mapping[str, Any],
        op: str,
        sink: WriteSink | None,
    ) -> dict[str, Any]:
        values, problem = self._values(module, index, raw, skip=("id",))
        if problem is not None:
            return problem
        assert values is not None
        for name, value in values.items():
            spec = self.fields[module][name]
            if spec.system_mandatory and value in (None, ""):
                return E.mandatory_missing(name, f"$.data[{index}].{name}")
        clash = self._unique_clash(module, index, values, record.id)
        if clash is not None:
            return clash
        if self._fails(record.id, record.values.get("Email")):
            if sink is not None:
                sink(RecordWrite(module, op, record.id, record.values.get("Email"), False))
            return E.record_locked(record.id)
        record.values.update(values)
        record.modified = self._now()
        if sink is not None:
            sink(RecordWrite(module, op, record.id, record.values.get("Email")))
        return E.success("record updated", self._details(record))

    def update(self, module: str, body: Any, sink: WriteSink | None = None) -> Outcome:
        """``PUT /crm/v8/{module}``: records named by ``id``, at most 100."""
        with self.lock:
            module = self.module(module)
            items = self._check_count(body.get("data") if isinstance(body, dict) else None)
            outcome = Outcome()
            for index, raw in enumerate(items):
                if not isinstance(raw, dict) or not raw.get("id"):
                    outcome.results.append(E.mandatory_missing("id", f"$.data[{index}].id"))
                    continue
                record = self.records[module].get(str(raw["id"]))
                if record is None:
                    outcome.results.append(E.invalid_id(str(raw["id"]), f"$.data[{index}].id"))
                    continue
                outcome.results.append(self._update_one(module, index, record, raw, "update", sink))
            return outcome

    def _check_fields(self, module: str) -> tuple[str, ...]:
        unique = tuple(n for n, f in self.fields[module].items() if f.unique)
        return DUPLICATE_CHECK.get(module, ()) + unique

    def upsert(self, module: str, body: Any, sink: WriteSink | None = None) -> Outcome:
        """``POST /crm/v8/{module}/upsert``: update the record the duplicate-check fields
        find, insert one where none is found."""
        with self.lock:
            module = self.module(module)
            items = self._check_count(body.get("data") if isinstance(body, dict) else None)
            asked = body.get("duplicate_check_fields")
            if asked is not None:
                if not isinstance(asked, list) or not all(isinstance(a, str) for a in asked):
                    raise E.invalid_body("duplicate_check_fields must be a list of API names")
                unknown = [a for a in asked if a not in self.fields[module]]
                if unknown:
                    raise E.ZohoError(
                        400,
                        "INVALID_DATA",
                        "invalid data",
                        {"api_name": unknown[0], "json_path": "$.duplicate_check_fields"},
                    )
            order = tuple(asked) if asked else self._check_fields(module)
            outcome = Outcome()
            for index, raw in enumerate(items):
                if not isinstance(raw, dict):
                    outcome.results.append(E.invalid_data("data", f"$.data[{index}]"))
                    continue
                found: list[Record] = []
                used: str | None = None
                for name in order:
                    value = raw.get(name)
                    if value in (None, ""):
                        continue
                    found = [
                        r for r in self.records[module].values() if _same(r.values.get(name), value)
                    ]
                    if found:
                        used = name
                        break
                if len(found) > 1:
                    assert used is not None
                    outcome.results.append(
                        E.duplicate_data(used, f"$.data[{index}].{used}", found[0].id, module)
                    )
                    continue
                if found:
                    result = self._update_one(module, index, found[0], raw, "upsert", sink)
                    if result["status"] == E.SUCCESS:
                        result.update({"action": "update", "duplicate_field": used})
                else:
                    result, _record = self._insert_one(module, index, raw, sink)
                    if result["status"] == E.SUCCESS:
                        result.update({"action": "insert", "duplicate_field": None})
                outcome.results.append(result)
            return outcome

    def get(
        self, module: str, ids: list[str] | None, names: list[str] | None, page: int, per_page: int
    ) -> dict[str, Any] | None:
        """``GET /crm/v8/{module}``: by ``ids`` or a page; None when there is nothing."""
        with self.lock:
            module = self.module(module)
            if ids is not None:
                rows = [self.records[module][i] for i in ids if i in self.records[module]]
                if not rows:
                    return None
                data = [self.record_json(module, r, names) for r in rows]
                return {"data": data, "info": _info(len(data), 1, MAX_IDS, False)}
            rows = sorted(self.records[module].values(), key=lambda r: r.id)
            return self._page(module, rows, names, page, per_page)

    def _page(
        self, module: str, rows: list[Record], names: list[str] | None, page: int, per_page: int
    ) -> dict[str, Any] | None:
        start = (page - 1) * per_page
        chunk = rows[start : start + per_page]
        if not chunk:
            return None
        data = [self.record_json(module, r, names) for r in chunk]
        more = start + per_page < len(rows)
        return {"data": data, "info": _info(len(data), page, per_page, more)}

    def search(
        self,
        module: str,
        criteria: list[list[tuple[str, str, str]]] | None,
        email: str | None,
        names: list[str] | None,
        page: int,
        per_page: int,
    ) -> dict[str, Any] | None:
        """``GET /crm/v8/{module}/search``: by criteria (an OR of ANDs) or by ``email``."""
        with self.lock:
            module = self.module(module)
            specs = self.fields[module]
            rows: list[Record] = []
            for record in sorted(self.records[module].values(), key=lambda r: r.id):
                if email is not None:
                    hit = any(
                        _same(record.values.get(n), email)
                        for n, f in specs.items()
                        if f.data_type == "email"
                    )
                else:
                    assert criteria is not None
                    hit = any(
                        all(self._meets(module, record, c) for c in group) for group in criteria
                    )
                if hit:
                    rows.append(record)
            return self._page(module, rows, names, page, per_page)

    def _meets(self, module: str, record: Record, condition: tuple[str, str, str]) -> bool:
        name, operator, value = condition
        if name == "id":
            held: Any = record.id
        else:
            spec = self.fields[module].get(name)
            if spec is None:
                raise E.invalid_query(f"the field {name} does not exist")
            held = render(spec, record.values.get(name), self.zone)
            if isinstance(held, dict):  # a lookup matches by the id it holds
                held = held.get("id")
        if held is None:
            return False
        text = str(held).casefold()
        if operator == "equals":
            return text == value.casefold()
        if operator == "starts_with":
            return text.startswith(value.casefold())
        raise E.invalid_query(f"the operator {operator} is not supported")

    # ------------------------------------------------------------------ seeding

    def add_record(self, module: str, values: Mapping[str, Any]) -> str:
        """Create a record in-process (the records the org already holds); its id."""
        with self.lock:
            module = self.module(module)
            result, record = self._insert_one(module, 0, dict(values), None)
            if record is None:
                raise ValueError(f"cannot seed a {module} record: {result['code']}")
            return record.id

    def values_of(self, module: str, record_id: str) -> dict[str, Any]:
        """A record's values as the API renders them (tests read the org through it)."""
        with self.lock:
            module = self.module(module)
            record = self.records[module][record_id]
            return self.record_json(module, record, None)


def _same(held: Any, value: Any) -> bool:
    if held is None or value is None:
        return False
    if isinstance(held, str) and isinstance(value, str):
        return held.strip().casefold() == value.strip().casefold()
    return bool(held == value)


def _info(count: int, page: int, per_page: int, more: bool) -> dict[str, Any]:
    return {"per_page": per_page, "count": count, "page": page, "more_records": more}


Criteria = list[list[tuple[str, str, str]]]
"""An OR of ANDs of ``(field, operator, value)``."""


class _CriteriaParser:
    """``((Email:equals:a@x.com)or(Email:equals:b@x.com))`` -> :data:`Criteria`.

    Grammar: ``expr = term ("or" term)*``, ``term = factor ("and" factor)*``,
    ``factor = "(" expr ")" | "(" field ":" operator ":" value ")"``; a value escapes
    ``(``, ``)``, ``,`` and ``\\`` with a backslash, as Zoho's search asks.
    """

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.at = 0
        self.leaves = 0

    def fail(self, why: str) -> E.ZohoError:
        return E.invalid_query(why)

    def peek(self) -> str:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1
        return self.text[self.at] if self.at < len(self.text) else ""

    def word(self) -> str | None:
        self.peek()
        for word in ("and", "or"):
            if self.text[self.at : self.at + len(word)].lower() == word:
                self.at += len(word)
                return word
        return None

    def expr(self) -> Criteria:
        groups = self.term()
        while True:
            mark = self.at
            if self.word() == "or":
                groups = groups + self.term()
            else:
                self.at = mark
                return groups

    def term(self) -> Criteria:
        groups = self.factor()
        while True:
            mark = self.at
            if self.word() == "and":
                right = self.factor()
                groups = [a + b for a in groups for b in right]
            else:
                self.at = mark
                return groups

    def factor(self) -> Criteria:
        if self.peek() != "(":
            raise self.fail("expected (")
        self.at += 1
        if self.peek() == "(":
            inner = self.expr()
            if self.peek() != ")":
                raise self.fail("unbalanced parentheses")
            self.at += 1
            return inner
        name = self._until(":")
        operator = self._until(":")
        value = self._value()
        self.leaves += 1
        if not re.fullmatch(r"[A-Za-z0-9_$.]+", name) or not re.fullmatch(r"[a-z_]+", operator):
            raise self.fail("a criterion is not (field:operator:value)")
        return [[(name, operator, value)]]

    def _until(self, stop: str) -> str:
        end = self.text.find(stop, self.at)
        if end < 0:
            raise self.fail("a criterion is not (field:operator:value)")
        part = self.text[self.at : end].strip()
        self.at = end + 1
        return part

    def _value(self) -> str:
        out: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\" and self.at + 1 < len(self.text):
                out.append(self.text[self.at + 1])
                self.at += 2
                continue
            if char == ")":
                self.at += 1
                return "".join(out)
            out.append(char)
            self.at += 1
        raise self.fail("unbalanced parentheses")


def parse_criteria(text: str) -> Criteria:
    """The criteria of a search; at most 10 (Zoho's limit), else ``INVALID_QUERY``."""
    parser = _CriteriaParser(text)
    groups = parser.expr()
    if parser.peek():
        raise E.invalid_query("unexpected text after the criteria")
    if parser.leaves > MAX_CRITERIA:
        raise E.invalid_query(f"at most {MAX_CRITERIA} criteria are allowed")
    return groups
