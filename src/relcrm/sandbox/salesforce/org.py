"""The emulated org: schema, records, users, sessions, permission sets and limits.

One :class:`Org` holds everything a real org would; handlers in ``app.py`` only translate
HTTP to these methods. Reads and writes go through an :class:`OrgView` bound to the
calling user, because field-level security decides what that user may see and write
(a field created through the Tooling API is invisible until a permission set grants it).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox.salesforce import cases, tasks
from relcrm.sandbox.salesforce import errors as E
from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.ids import IdFactory, counter_of, looks_like_id, to18
from relcrm.sandbox.salesforce.schema import (
    NUMBER_TYPES,
    TEXT_TYPES,
    FieldDef,
    ObjectDef,
    custom_field_object,
    custom_object,
    standard_objects,
)
from relcrm.sandbox.salesforce.soql import format_datetime, parse_datetime

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DEFAULT_VERSION = "59.0"
QUERY_BATCH = 2000
MIN_QUERY_BATCH = 200


def now() -> str:
    return format_datetime(dt.datetime.now(dt.UTC))


@dataclass
class Session:
    """An access token: who it belongs to and how many API calls it has served."""

    token: str
    user_id: str
    calls: int = 0
    expired: bool = False


@dataclass
class Cursor:
    """A query locator: the remaining rows of a query, served page by page."""

    records: list[dict[str, Any]]
    batch: int


@dataclass
class OrgConfig:
    """The org's identity, credentials and limits."""

    username: str = "integration@relcrm-sandbox.example"
    password: str = "sandbox-password"
    security_token: str = "SANDBOXTOKEN123"
    consumer_key: str = "3MVG9sandbox.consumer.key"
    consumer_secret: str = "sandbox-consumer-secret"
    api_daily_limit: int = 15000
    org_name: str = "relcrm sandbox"
    jwt_public_key_pem: bytes | None = None
    require_security_token: bool = True


@dataclass
class UndoEntry:
    object_name: str
    record_id: str
    before: dict[str, Any] | None


@dataclass
class Transaction:
    """Undo journal for all-or-none batches."""

    entries: list[UndoEntry] = field(default_factory=list)


class Org:
    """All state of one emulated org. Thread-safe through one re-entrant lock."""

    def __init__(
        self,
        config: OrgConfig | None = None,
        *,
        faults: FaultInjector | None = None,
        instance_url: str = "https://127.0.0.1",
        data_file: Path | None = None,
    ) -> None:
        self.config = config or OrgConfig()
        self.faults = faults or FaultInjector()
        self.instance_url = instance_url
        self.lock = threading.RLock()
        self.ids = IdFactory()
        self.objects: dict[str, ObjectDef] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.index: dict[str, str] = {}  # record id -> object name
        self.tooling_objects: dict[str, ObjectDef] = {}
        self.custom_fields: dict[str, dict[str, Any]] = {}  # tooling CustomField rows by id
        self.sessions: dict[str, Session] = {}
        self.cursors: dict[str, Cursor] = {}
        self.api_usage = 0
        self._tx: Transaction | None = None
        self._case_number = 1000
        self._dirty = False
        self.org_id = self.ids.new("00D")
        for obj in standard_objects():
            self._register(obj)
        cf = custom_field_object()
        self.tooling_objects[cf.name.lower()] = cf
        self.user_id = self._seed_system_rows()
        self.store = SnapshotStore(data_file) if data_file is not None else None
        if self.store is not None and self.store.exists():
            self.restore(self.store.load())
        self._initial = self.snapshot()

    # ------------------------------------------------------------------ schema

    def _register(self, obj: ObjectDef) -> None:
        self.objects[obj.name.lower()] = obj
        self.records.setdefault(obj.name, {})

    def object_def(self, name: str) -> ObjectDef | None:
        return self.objects.get(name.lower())

    def add_custom_object(self, name: str, label: str, plural: str | None = None) -> ObjectDef:
        """Define a custom object (``Survey__c``) with its standard fields."""
        if not name.endswith("__c"):
            raise ValueError("custom object names end in __c")
        with self.lock:
            prefix = f"a0{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[len(self.objects) % 26]}"
            obj = custom_object(name, label, plural or f"{label}s", prefix)
            self._register(obj)
            self._dirty = True
            return obj

    def add_field(self, object_name: str, fdef: FieldDef) -> FieldDef:
        """Add a field that already has field-level security (as if deployed with a profile)."""
        obj = self.require_object(object_name)
        with self.lock:
            obj.add(fdef)
            self._dirty = True
        return fdef

    def require_object(self, name: str) -> ObjectDef:
        obj = self.object_def(name)
        if obj is None:
            raise E.not_found()
        return obj

    def _seed_system_rows(self) -> str:
        stamp = now()
        user_id = self.ids.new("005")
        self._put_row(
            "User",
            user_id,
            {
                "Id": user_id,
                "Username": self.config.username,
                "LastName": "Integration",
                "FirstName": "Sandbox",
                "Name": "Sandbox Integration",
                "Email": self.config.username.lower(),
                "Alias": "integ",
                "IsActive": True,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "CreatedById": user_id,
                "LastModifiedDate": stamp,
                "LastModifiedById": user_id,
                "SystemModstamp": stamp,
            },
        )
        self._put_row(
            "Organization",
            self.org_id,
            {
                "Id": self.org_id,
                "Name": self.config.org_name,
                "IsSandbox": True,
                "OrganizationType": "Developer Edition",
                "InstanceName": "SBX1",
                "IsDeleted": False,
                "CreatedDate": stamp,
                "CreatedById": user_id,
                "LastModifiedDate": stamp,
                "LastModifiedById": user_id,
                "SystemModstamp": stamp,
            },
        )
        return user_id

    def _put_row(self, object_name: str, record_id: str, row: dict[str, Any]) -> None:
        if self._tx is not None:
            before = self.records[object_name].get(record_id)
            self._tx.entries.append(
                UndoEntry(object_name, record_id, copy.deepcopy(before) if before else None)
            )
        self.records[object_name][record_id] = row
        self.index[record_id] = object_name
        self._dirty = True

    def _drop_row(self, object_name: str, record_id: str) -> None:
        if self._tx is not None:
            before = self.records[object_name].get(record_id)
            self._tx.entries.append(
                UndoEntry(object_name, record_id, copy.deepcopy(before) if before else None)
            )
        self.records[object_name].pop(record_id, None)
        self.index.pop(record_id, None)
        self._dirty = True

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Collect undo entries; the caller calls :meth:`rollback` to undo them."""
        with self.lock:
            outer = self._tx
            tx = Transaction()
            self._tx = tx
            try:
                yield tx
            finally:
                self._tx = outer

    def rollback(self, tx: Transaction) -> None:
        with self.lock:
            for entry in reversed(tx.entries):
                if entry.before is None:
                    self.records[entry.object_name].pop(entry.record_id, None)
                    self.index.pop(entry.record_id, None)
                else:
                    self.records[entry.object_name][entry.record_id] = entry.before
                    self.index[entry.record_id] = entry.object_name
            tx.entries.clear()

    # ------------------------------------------------------------------ sessions & limits

    def new_session(self, user_id: str | None = None) -> str:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(64)}"
        with self.lock:
            self.sessions[token] = Session(token, user_id or self.user_id)
        return token

    def check_session(self, token: str | None) -> Session:
        """The session for a bearer token, counting the call; 401 if unknown or expired."""
        with self.lock:
            session = self.sessions.get(token or "")
            if session is None or session.expired:
                raise E.invalid_session()
            limit = self.faults.plan.session_expires_after
            if limit is not None and session.calls >= limit:
                session.expired = True
                raise E.invalid_session()
            session.calls += 1
            return session

    def expire_sessions(self) -> None:
        """Make every current token invalid (clients must log in again)."""
        with self.lock:
            for session in self.sessions.values():
                session.expired = True

    def count_api_call(self) -> None:
        """Spend one call of the daily budget; 403 REQUEST_LIMIT_EXCEEDED once it is gone."""
        with self.lock:
            if self.api_usage >= self.config.api_daily_limit:
                raise E.request_limit_exceeded()
            self.api_usage += 1

    def limit_header(self) -> str:
        return f"api-usage={self.api_usage}/{self.config.api_daily_limit}"

    def limits(self) -> dict[str, dict[str, int]]:
        """The body of ``GET limits/`` (the entries integrations read)."""
        daily = self.config.api_daily_limit

        def entry(maximum: int, used: int = 0) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(maximum - used, 0)}

        return {
            "ActiveScratchOrgs": entry(3),
            "DailyApiRequests": entry(daily, self.api_usage),
            "DailyAsyncApexExecutions": entry(250000),
            "DailyBulkApiBatches": entry(15000),
            "DailyBulkV2QueryFileStorageMB": entry(976562),
            "DailyBulkV2QueryJobs": entry(10000),
            "DataStorageMB": entry(5),
            "FileStorageMB": entry(20),
            "HourlyODataCallout": entry(20000),
            "SingleEmail": entry(15),
        }

    # ------------------------------------------------------------------ field-level security

    def permission_sets_of(self, user_id: str) -> set[str]:
        return {
            row["PermissionSetId"]
            for row in self.records["PermissionSetAssignment"].values()
            if row.get("AssigneeId") == user_id and not row.get("IsDeleted")
        }

    def field_access(self, user_id: str, obj: ObjectDef, fdef: FieldDef) -> tuple[bool, bool]:
        """(read, edit) for the user; fields made through Tooling need a granting permset."""
        if not fdef.requires_fls:
            return True, True
        sets = self.permission_sets_of(user_id)
        wanted = f"{obj.name}.{fdef.name}".lower()
        read = edit = False
        for row in self.records["FieldPermissions"].values():
            if row.get("ParentId") in sets and str(row.get("Field", "")).lower() == wanted:
                read = read or bool(row.get("PermissionsRead"))
                edit = edit or bool(row.get("PermissionsEdit"))
        return read, edit and read

    def view(self, user_id: str | None = None, *, include_deleted: bool = False) -> OrgView:
        return OrgView(self, user_id or self.user_id, include_deleted=include_deleted)

    # ------------------------------------------------------------------ query cursors

    def open_cursor(self, records: list[dict[str, Any]], batch: int) -> str:
        locator = self.ids.new("01g")
        with self.lock:
            self.cursors[locator] = Cursor(records, batch)
        return locator

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to rebuild the org, as JSON-able data."""
        with self.lock:
            return copy.deepcopy(
                {
                    "objects": {
                        name: {
                            "name": obj.name,
                            "label": obj.label,
                            "plural": obj.label_plural,
                            "prefix": obj.key_prefix,
                            "custom": obj.custom,
                            "fields": [f.__dict__ for f in obj.fields.values() if f.custom],
                        }
                        for name, obj in self.objects.items()
                    },
                    "records": self.records,
                    "custom_fields": self.custom_fields,
                    "case_number": self._case_number,
                    "api_usage": self.api_usage,
                }
            )

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the org's schema additions and records with a snapshot's."""
        with self.lock:
            self.objects = {}
            self.records = {}
            for obj in standard_objects():
                self._register(obj)
            for key, spec in data["objects"].items():
                known = self.objects.get(key)
                if known is None:
                    known = custom_object(
                        spec["name"], spec["label"], spec["plural"], spec["prefix"]
                    )
                    self._register(known)
                obj = known
                for raw in spec["fields"]:
                    raw = dict(raw)
                    for tup in ("picklist", "reference_to"):
                        raw[tup] = tuple(raw.get(tup) or ())
                    obj.add(FieldDef(**raw))
            self.records = {name: dict(rows) for name, rows in data["records"].items()}
            for obj in self.objects.values():
                self.records.setdefault(obj.name, {})
            self.index = {rid: name for name, rows in self.records.items() for rid in rows}
            self.custom_fields = dict(data.get("custom_fields", {}))
            self._case_number = int(data.get("case_number", 1000))
            self.api_usage = int(data.get("api_usage", 0))
            highest = max((counter_of(rid) for rid in self.index), default=0)
            highest = max([highest, *(counter_of(cid) for cid in self.custom_fields)])
            self.ids.bump(highest + 1)
            users = [r for r in self.records.get("User", {}).values()]
            if users:
                self.user_id = users[0]["Id"]
            orgs = list(self.records.get("Organization", {}))
            if orgs:
                self.org_id = orgs[0]
            self._dirty = True

    def reset(self) -> None:
        """Back to the state the org had when it was created (schema, records, usage)."""
        with self.lock:
            self.restore(self._initial)
            self.sessions = {k: v for k, v in self.sessions.items() if not v.expired}
            for session in self.sessions.values():
                session.calls = 0
            self.cursors.clear()
            self.api_usage = 0

    def save_if_dirty(self) -> None:
        if self.store is None or not self._dirty:
            return
        with self.lock:
            data = self.snapshot()
            self._dirty = False
        self.store.save(data)

    # ------------------------------------------------------------------ write helpers

    def next_case_number(self) -> str:
        self._case_number += 1
        return f"{self._case_number:08d}"


class SnapshotStore:
    """Keeps org snapshots in a SQLite file (stdlib sqlite3), one row per part."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        if not self.path.exists():
            return False
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS snapshot (part TEXT PRIMARY KEY, data TEXT)")
            count: int = db.execute("SELECT COUNT(*) FROM snapshot").fetchone()[0]
            return count > 0

    def load(self) -> dict[str, Any]:
        with sqlite3.connect(self.path) as db:
            rows = db.execute("SELECT part, data FROM snapshot").fetchall()
        return {part: json.loads(data) for part, data in rows}

    def save(self, data: dict[str, Any]) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS snapshot (part TEXT PRIMARY KEY, data TEXT)")
            db.executemany(
                "INSERT OR REPLACE INTO snapshot (part, data) VALUES (?, ?)",
                [(part, json.dumps(value)) for part, value in data.items()],
            )


# ====================================================================== the user's view


@dataclass
class WriteOutcome:
    """What one record write did."""

    id: str
    created: bool


class OrgView:
    """The org as one user sees it: the SOQL catalog, and validated writes."""

    def __init__(self, org: Org, user_id: str, *, include_deleted: bool = False) -> None:
        self.org = org
        self.user_id = user_id
        self.include_deleted = include_deleted
        self.version = DEFAULT_VERSION

    # ---------------------------------------------------------------- catalog protocol

    def object_def(self, name: str) -> ObjectDef | None:
        return self.org.object_def(name)

    def visible_field(self, obj: ObjectDef, name: str) -> FieldDef | None:
        fdef = obj.field_ci(name)
        if fdef is None or not self.org.field_access(self.user_id, obj, fdef)[0]:
            return None
        return fdef

    def visible_fields(self, obj: ObjectDef) -> list[FieldDef]:
        return [f for f in obj.fields.values() if self.org.field_access(self.user_id, obj, f)[0]]

    def rows(self, obj: ObjectDef, include_deleted: bool) -> Iterable[dict[str, Any]]:
        rows = self.org.records.get(obj.name, {}).values()
        if include_deleted:
            return list(rows)
        return [r for r in rows if not r.get("IsDeleted")]

    def get_row(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None:
        record_id = to18(str(record_id))
        name = self.org.index.get(record_id)
        if name is None:
            return None
        obj = self.org.objects[name.lower()]
        return obj, self.org.records[name][record_id]

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, FieldDef] | None:
        for obj in self.org.objects.values():
            for fdef in self.visible_fields(obj):
                if (
                    fdef.type == "reference"
                    and fdef.child_relationship
                    and fdef.child_relationship.lower() == name.lower()
                    and parent.name in fdef.reference_to
                ):
                    return obj, fdef
        return None

    def record_url(self, obj: ObjectDef, record_id: str) -> str:
        return f"/services/data/v{self.version}/sobjects/{obj.name}/{record_id}"

    def child_relationships(self, parent: ObjectDef) -> list[dict[str, Any]]:
        result = []
        for obj in self.org.objects.values():
            for fdef in self.visible_fields(obj):
                if fdef.type == "reference" and parent.name in fdef.reference_to:
                    result.append(
                        {
                            "cascadeDelete": False,
                            "childSObject": obj.name,
                            "deprecatedAndHidden": False,
                            "field": fdef.name,
                            "junctionIdListNames": [],
                            "junctionReferenceTo": [],
                            "relationshipName": fdef.child_relationship,
                            "restrictedDelete": False,
                        }
                    )
        return sorted(result, key=lambda r: (r["childSObject"], r["field"]))

    # ---------------------------------------------------------------- reads

    def get(
        self, object_name: str, record_id: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        obj = self.org.require_object(object_name)
        found = self.get_row(record_id)
        if found is None or found[0] is not obj or found[1].get("IsDeleted"):
            raise E.not_found()
        row = found[1]
        visible = self.visible_fields(obj)
        if fields:
            chosen = []
            for name in fields:
                fdef = self.visible_field(obj, name)
                if fdef is None:
                    raise SfError(
                        "INVALID_FIELD",
                        f"No such column '{name}' on entity '{obj.name}'. If you are attempting"
                        " to use a custom field, be sure to append the '__c' after the custom"
                        " field name. Please reference your WSDL or the describe call for the"
                        " appropriate names.",
                    )
                chosen.append(fdef)
            visible = chosen
        out: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": self.record_url(obj, row["Id"])}
        }
        for fdef in visible:
            out[fdef.name] = row.get(fdef.name)
        return out

    def find_by(self, obj: ObjectDef, fdef: FieldDef, value: Any) -> list[dict[str, Any]]:
        """Live rows whose ``fdef`` equals ``value`` (text compares case-insensitively)."""
        if fdef.type in ("id", "reference"):
            wanted: Any = to18(str(value))
            return [r for r in self.rows(obj, False) if r.get(fdef.name) == wanted]
        if fdef.is_text and not fdef.case_sensitive:
            wanted = str(value).lower()
            return [
                r
                for r in self.rows(obj, False)
                if r.get(fdef.name) is not None and str(r[fdef.name]).lower() == wanted
            ]
        return [r for r in self.rows(obj, False) if r.get(fdef.name) == value]

    # ---------------------------------------------------------------- validation

    def coerce(self, obj: ObjectDef, fdef: FieldDef, value: Any, *, csv: bool = False) -> Any:
        """Validate one value for one field and return it in stored form."""
        if value is None:
            if fdef.type == "boolean":
                return False
            if not fdef.nillable and fdef.name != "OwnerId":
                raise SfError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{fdef.name}]",
                    [fdef.name],
                )
            return None
        t = fdef.type

        def wrong_type() -> SfError:
            if csv:
                return SfError(
                    "INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{fdef.label}: value not of required type: {value}",
                    [fdef.name],
                )
            kind = (
                "VALUE_STRING"
                if isinstance(value, str)
                else (
                    "START_OBJECT"
                    if isinstance(value, dict)
                    else "START_ARRAY"
                    if isinstance(value, list)
                    else "VALUE_NUMBER_INT"
                )
            )
            shown = "{" if isinstance(value, dict) else "[" if isinstance(value, list) else value
            java = {
                "double": "double",
                "percent": "double",
                "currency": "double",
                "int": "int",
                "boolean": "boolean",
                "date": "date",
                "datetime": "datetime",
            }.get(t, "string")
            return E.json_parser_error(
                f"Cannot deserialize instance of {java} from {kind} value {shown} or request may"
                " be missing a required field at [line:1, column:2]"
            )

        if t in TEXT_TYPES or t in ("id", "reference"):
            if isinstance(value, (dict, list)):
                raise wrong_type()
            text = (
                value
                if isinstance(value, str)
                else (("true" if value else "false") if isinstance(value, bool) else str(value))
            )
            if t in ("id", "reference"):
                return self._reference(fdef, text)
            if t != "picklist" and fdef.length and len(text) > fdef.length:
                raise SfError(
                    "STRING_TOO_LONG",
                    f"{fdef.label}: data value too large: {text} (max length={fdef.length})",
                    [fdef.name],
                )
            if t == "email":
                if text == "":
                    return None
                if not EMAIL_RE.match(text):
                    raise SfError(
                        "INVALID_EMAIL_ADDRESS",
                        f"{fdef.label}: invalid email address: {text}",
                        [fdef.name],
                    )
                return text.lower()
            if t == "picklist" and fdef.restricted and text not in fdef.picklist:
                raise SfError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fdef.label}: bad value for restricted picklist field: {text}",
                    [fdef.name],
                )
            if t == "picklist" and fdef.length and len(text) > 255:
                raise SfError(
                    "STRING_TOO_LONG",
                    f"{fdef.label}: data value too large: {text} (max length=255)",
                    [fdef.name],
                )
            if t == "multipicklist" and fdef.restricted:
                for part in text.split(";"):
                    if part not in fdef.picklist:
                        raise SfError(
                            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                            f"{fdef.label}: bad value for restricted picklist field: {part}",
                            [fdef.name],
                        )
            return text if text != "" or t not in ("picklist",) else None
        if t == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise wrong_type()
        if t in NUMBER_TYPES:
            if isinstance(value, (bool, dict, list)):
                raise wrong_type()
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise wrong_type() from None
            if number != number or number in (float("inf"), float("-inf")):
                raise wrong_type()
            if t == "int":
                if number != int(number):
                    raise wrong_type()
                if len(str(abs(int(number)))) > (fdef.digits or 9):
                    raise SfError(
                        "NUMBER_OUTSIDE_VALID_RANGE",
                        f"{fdef.label}: value outside of valid range on numeric field: {value}",
                        [fdef.name],
                    )
                return int(number)
            integer_digits = (fdef.precision or 18) - fdef.scale
            rounded = round(number, fdef.scale)
            if abs(rounded) >= 10**integer_digits:
                raise SfError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"{fdef.label}: value outside of valid range on numeric field: {value}",
                    [fdef.name],
                )
            return float(rounded)
        if t == "date":
            if not isinstance(value, str):
                raise wrong_type()
            # REST takes YYYY-MM-DD only; Bulk CSV also takes a datetime and keeps its date.
            if len(value) != 10 and not (csv and "T" in value):
                raise wrong_type()
            try:
                return dt.date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                raise wrong_type() from None
        if t == "datetime":
            if not isinstance(value, str):
                raise wrong_type()
            try:
                if len(value) == 10:
                    return format_datetime(dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC))
                return format_datetime(parse_datetime(value))
            except ValueError:
                raise wrong_type() from None
        return value

    def _reference(self, fdef: FieldDef, text: str) -> str | None:
        if text == "":
            return None
        bad = SfError(
            "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {text}", [fdef.name]
        )
        if not looks_like_id(text):
            raise bad
        full = to18(text)
        targets = [self.org.object_def(t) for t in fdef.reference_to]
        prefixes = {t.key_prefix for t in targets if t is not None}
        if prefixes and full[:3] not in prefixes:
            raise bad
        if full not in self.org.index:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        target = self.org.records.get(self.org.index[full], {}).get(full)
        if target is not None and target.get("IsDeleted"):  # in the recycle bin
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", [fdef.name])
        return full

    def clean(
        self,
        obj: ObjectDef,
        data: dict[str, Any],
        *,
        creating: bool,
        csv: bool = False,
        skip: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Validate a write body and return the stored values; raises the first error."""
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "attributes" or key in skip:
                continue
            fdef = self.visible_field(obj, key)
            if fdef is None:
                raise E.no_such_column_write(key, obj.name)
            _, edit = self.org.field_access(self.user_id, obj, fdef)
            allowed = fdef.createable if creating else fdef.updateable
            if not (allowed and edit):
                raise SfError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security"
                    " settings of this field and verify that it is read/write for your profile"
                    " or permission set.",
                    [fdef.name],
                )
            if csv and value == "":
                continue  # empty CSV cells leave the field alone; "#N/A" nulls it
            if csv and value == "#N/A":
                value = None
            values[fdef.name] = self.coerce(obj, fdef, value, csv=csv)
        if creating:
            missing = [
                f.name
                for f in obj.fields.values()
                if f.required_on_create and values.get(f.name) in (None, "")
            ]
            if missing:
                raise SfError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
        return values

    # ---------------------------------------------------------------- writes

    def _lock_check(self, *keys: str | None) -> None:
        if self.org.faults.record_fails(*keys):
            raise E.unable_to_lock_row()

    def create(
        self,
        object_name: str,
        data: dict[str, Any],
        *,
        csv: bool = False,
        fault_key: str | None = None,
    ) -> str:
        obj = self.org.require_object(object_name)
        if not obj.createable:
            raise SfError(
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                f"entity type {obj.name} does not support insert",
            )
        with self.org.lock:
            values = self.clean(obj, data, creating=True, csv=csv)
            self._lock_check(fault_key or json.dumps(values, sort_keys=True, default=str))
            record_id = self.org.ids.new(obj.key_prefix)
            stamp = now()
            row: dict[str, Any] = {f.name: None for f in obj.fields.values()}
            for f in obj.fields.values():
                if f.type == "boolean":
                    row[f.name] = bool(f.default_value)
                if f.picklist_default:
                    row[f.name] = f.picklist_default
            row.update(values)
            row.update(
                {
                    "Id": record_id,
                    "IsDeleted": False,
                    "CreatedDate": stamp,
                    "CreatedById": self.user_id,
                    "LastModifiedDate": stamp,
                    "LastModifiedById": self.user_id,
                    "SystemModstamp": stamp,
                }
            )
            if "OwnerId" in obj.fields and not row.get("OwnerId"):
                row["OwnerId"] = self.user_id
            self._derive(obj, row, creating=True)
            self._check_unique(obj, row, record_id)
            self.org._put_row(obj.name, record_id, row)
            return record_id

    def update(
        self, object_name: str, record_id: str, data: dict[str, Any], *, csv: bool = False
    ) -> str:
        obj = self.org.require_object(object_name)
        with self.org.lock:
            found = self.get_row(record_id)
            if found is None or found[0] is not obj or found[1].get("IsDeleted"):
                raise SfError(
                    "ENTITY_IS_DELETED" if found and found[1].get("IsDeleted") else "NOT_FOUND",
                    "entity is deleted"
                    if found and found[1].get("IsDeleted")
                    else "The requested resource does not exist",
                    status=404,
                )
            if not obj.updateable:
                raise SfError(
                    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                    f"entity type {obj.name} does not support update",
                )
            values = self.clean(obj, data, creating=False, csv=csv, skip=("Id",))
            row = dict(found[1])
            self._lock_check(row["Id"])
            row.update(values)
            for f in obj.fields.values():
                if f.required_on_create and row.get(f.name) in (None, ""):
                    raise SfError(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{f.name}]",
                        [f.name],
                    )
            stamp = now()
            row.update(
                {
                    "LastModifiedDate": stamp,
                    "LastModifiedById": self.user_id,
                    "SystemModstamp": stamp,
                }
            )
            self._derive(obj, row, creating=False)
            self._check_unique(obj, row, row["Id"])
            if (
                obj.name == "FieldPermissions"
                and not row.get("PermissionsRead")
                and not row.get("PermissionsEdit")
            ):
                self.org._drop_row(obj.name, row["Id"])  # real orgs delete "no access" rows
                return str(row["Id"])
            self.org._put_row(obj.name, row["Id"], row)
            if obj.name == "Contact":
                cases.refresh_contact_copies(self.org, row)
            return str(row["Id"])

    def upsert(
        self,
        object_name: str,
        key_field: str,
        key_value: Any,
        data: dict[str, Any],
        *,
        csv: bool = False,
    ) -> WriteOutcome:
        """Insert or update by an external-id or idLookup field (``Id`` included)."""
        obj = self.org.require_object(object_name)
        fdef = self.visible_field(obj, key_field)
        if fdef is None or not (fdef.external_id or fdef.id_lookup):
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        with self.org.lock:
            if fdef.name == "Id":
                if key_value in (None, ""):
                    return WriteOutcome(self.create(obj.name, data, csv=csv), True)
                found = self.get_row(str(key_value))
                if found is None or found[0] is not obj:
                    raise SfError(
                        "NOT_FOUND",
                        f"Provided external ID field does not exist or is"
                        f" not accessible: {key_value}",
                        status=404,
                    )
                return WriteOutcome(self.update(obj.name, str(key_value), data, csv=csv), False)
            if key_value in (None, ""):
                raise SfError("MISSING_ARGUMENT", f"{fdef.name} not specified", [])
            matches = self.find_by(obj, fdef, key_value)
            body = {k: v for k, v in data.items() if k.lower() != fdef.name.lower()}
            if len(matches) > 1:
                ids = ", ".join(r["Id"] for r in matches)
                raise SfError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{fdef.label}: more than one record found for external id field: [{ids}]",
                    [fdef.name],
                    status=300,
                )
            if matches:
                self._lock_check(matches[0]["Id"], str(key_value))
                return WriteOutcome(self.update(obj.name, matches[0]["Id"], body, csv=csv), False)
            body[fdef.name] = key_value
            return WriteOutcome(
                self.create(obj.name, body, csv=csv, fault_key=str(key_value)), True
            )

    def delete(self, object_name: str, record_id: str) -> str:
        obj = self.org.require_object(object_name)
        with self.org.lock:
            found = self.get_row(record_id)
            if found is None or found[0] is not obj:
                raise E.not_found()
            if found[1].get("IsDeleted"):
                raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404)
            if not obj.deletable:
                raise SfError(
                    "INSUFFICIENT_ACCESS_OR_READONLY",
                    "insufficient access rights on object id",
                    status=403,
                )
            self._lock_check(found[1]["Id"])
            if obj.name in ("FieldPermissions", "PermissionSetAssignment", "PermissionSet"):
                self.org._drop_row(obj.name, found[1]["Id"])  # setup objects skip the bin
            else:
                row = dict(found[1])
                row["IsDeleted"] = True
                row["SystemModstamp"] = now()
                self.org._put_row(obj.name, row["Id"], row)
            return str(found[1]["Id"])

    # ---------------------------------------------------------------- object semantics

    def _derive(self, obj: ObjectDef, row: dict[str, Any], *, creating: bool) -> None:
        """Fields real orgs compute: names, case numbers, closed flags, setup-object rules."""
        name = obj.name
        if name in ("Contact", "Lead"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        elif name == "Case":
            cases.derive(self.org, row, creating=creating, stamp=now())
        elif name == "Task":
            tasks.derive(row)
        elif name == "Opportunity":
            stage = row.get("StageName") or ""
            row["IsClosed"] = stage.startswith("Closed")
            row["IsWon"] = stage == "Closed Won"
        elif name == "FieldPermissions":
            self._check_field_permission(row)
        elif name == "PermissionSetAssignment":
            if self.org.index.get(str(row.get("PermissionSetId"))) != "PermissionSet":
                raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            if self.org.index.get(str(row.get("AssigneeId"))) != "User":
                raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            for other in self.org.records["PermissionSetAssignment"].values():
                if (
                    other["Id"] != row["Id"]
                    and other.get("AssigneeId") == row.get("AssigneeId")
                    and other.get("PermissionSetId") == row.get("PermissionSetId")
                ):
                    raise SfError(
                        "DUPLICATE_VALUE",
                        "duplicate value found: AssigneeId duplicates value on record with id:"
                        f" {other['Id']}",
                        [],
                    )
        elif name == "PermissionSet":
            if (
                not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(row.get("Name") or ""))
                or "__" in str(row.get("Name"))
                or str(row.get("Name")).endswith("_")
            ):
                raise SfError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "The API Name can only contain underscores and alphanumeric characters. It"
                    " must be unique, begin with a letter, not include spaces, not end with an"
                    " underscore, and not contain two consecutive underscores.",
                    ["Name"],
                )
            for other in self.org.records["PermissionSet"].values():
                if (
                    other["Id"] != row["Id"]
                    and str(other.get("Name")).lower() == str(row.get("Name")).lower()
                ):
                    raise SfError(
                        "DUPLICATE_DEVELOPER_NAME",
                        f"The permission set name is already in use: {row.get('Name')}",
                        ["Name"],
                    )

    def _check_field_permission(self, row: dict[str, Any]) -> None:
        if self.org.index.get(str(row.get("ParentId"))) != "PermissionSet":
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        field_name = str(row.get("Field") or "")
        sobject = str(row.get("SobjectType") or "")
        obj_part, _, fld_part = field_name.partition(".")
        obj = self.org.object_def(obj_part)
        fdef = obj.field_ci(fld_part) if obj else None
        if obj is None or fdef is None or obj.name.lower() != sobject.lower():
            raise SfError(
                "INVALID_FIELD_FOR_INSERT_UPDATE" if obj else "INVALID_TYPE",
                f"Invalid field:{field_name}" if obj else f"Invalid SobjectType:{sobject}",
                ["Field"],
            )
        if row.get("PermissionsEdit") and not row.get("PermissionsRead"):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Permission Read Field is required when Edit Field is selected",
                ["PermissionsRead"],
            )
        if row.get("PermissionsEdit") and (fdef.required_on_create or not fdef.updateable):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Field {field_name} is not permissionable for Edit",
                ["Field"],
            )
        row["Field"] = f"{obj.name}.{fdef.name}"
        row["SobjectType"] = obj.name
        for other in self.org.records["FieldPermissions"].values():
            if (
                other["Id"] != row["Id"]
                and other.get("ParentId") == row.get("ParentId")
                and str(other.get("Field")).lower() == row["Field"].lower()
            ):
                raise SfError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: <unknown> duplicates value on record with id:"
                    f" {other['Id']}",
                    [],
                )

    def _check_unique(self, obj: ObjectDef, row: dict[str, Any], record_id: str) -> None:
        for fdef in obj.fields.values():
            if not fdef.unique or row.get(fdef.name) in (None, ""):
                continue
            for other in self.find_by(obj, fdef, row[fdef.name]):
                if other["Id"] != record_id:
                    raise SfError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {fdef.name} duplicates value on record with id:"
                        f" {other['Id']}",
                        [],
                    )
