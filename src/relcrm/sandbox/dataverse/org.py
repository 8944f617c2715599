"""The sandbox's environment: tables, records, solutions and publishers, and every operation
the routes expose, with Dataverse's validation rules. Kept free of HTTP so the rules read in
one place; the routes parse, authorise and serialise.

Rules reproduced (sources in :mod:`relcrm.sandbox.dataverse.errors`):

- values are checked per column type: text length (``0x80044331``), whole-number and
  decimal ranges, option values (``0x8004431a``), JSON types (a string for a number is the
  OData layer's ``0x80048d19``), unknown columns; read-only columns (``createdon``,
  ``fullname``) are ignored on write, and ``fullname`` follows first and last name;
- ``UpdateMultiple`` and ``UpsertMultiple`` on a standard table are all-or-nothing: one bad
  target rolls the whole call back [doc: bulk-operations, "On Error behavior with standard
  tables"]; so is a ``$batch`` change set [doc: execute-batch-operations-using-web-api];
- an alternate key makes its columns unique once its index is Active (``0x80060892``), and
  records can then be addressed by it (``contacts(relcrm_personid='p1')``);
- new columns need the customization prefix of the solution's publisher
  (``MSCRM.SolutionUniqueName``; without the header the default publisher's ``new``)
  [doc: create-update-column-definitions-using-web-api; crm-api-facts §3];
- the fault plan's ``record_failure_keys`` fail those records with SQL's deadlock
  (``0x80044150``, HTTP 500): the transaction is rolled back, so a retry writes them.

Everything runs under one lock: uvicorn serves on one thread, but tests seed, reset and
inspect the environment from another.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox.dataverse import errors as E
from relcrm.sandbox.dataverse import metadata as M
from relcrm.sandbox.dataverse import tasks as T
from relcrm.sandbox.dataverse.metadata import Attribute, Entity, EntityKey

WriteSink = Callable[[RecordWrite], None]
SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$")
MAX_SCHEMA_NAME = 50
"""Attribute schema names relcrm keeps within [memory: Dataverse allows somewhat more]."""
MAX_KEYS = 10
"""Alternate keys per table [community: FakeXrmEasy's alternate-key constraint tests]."""
KEY_TYPES = frozenset({"String", "Integer", "Decimal", "DateTime", "Picklist"})
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Publisher:
    unique_name: str
    prefix: str
    option_value_prefix: int


@dataclass(frozen=True)
class Solution:
    unique_name: str
    publisher: Publisher


DEFAULT_PUBLISHER = Publisher("DefaultPublisher", "new", 10000)
RELCRM_PUBLISHER = Publisher("relcrm", "relcrm", 72700)


@dataclass
class OrgConfig:
    """What the environment is called and allows."""

    org_name: str = "relcrm-sandbox"
    solutions: dict[str, Solution] = field(
        default_factory=lambda: {
            "relcrm": Solution("relcrm", RELCRM_PUBLISHER),
            "Default": Solution("Default", DEFAULT_PUBLISHER),
        }
    )
    batch_limit: int = 1000
    """Requests per ``$batch`` [doc]."""
    page_size: int = 5000
    """Records per page of a query [doc: query-data-web-api]."""
    key_steps: tuple[str, ...] = M.KEY_STEPS
    """What a new alternate key's status reads, one read after another, until the last."""

    @property
    def resource(self) -> str:
        """The environment's URL as Entra ID names it (the token's audience)."""
        return f"https://{self.org_name}.crm.dynamics.com"


@dataclass
class Record:
    id: str
    values: dict[str, Any]
    version: int


def _now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@dataclass
class _Transaction:
    undo: list[tuple[str, str, Record | None]] = field(default_factory=list)
    writes: list[RecordWrite] = field(default_factory=list)


class Organization:
    """One Dataverse environment's data and metadata."""

    def __init__(self, config: OrgConfig | None = None, faults: FaultInjector | None = None):
        self.config = config or OrgConfig()
        self.faults = faults or FaultInjector()
        self.lock = threading.RLock()
        self.org_id = str(uuid.uuid4())
        self.business_unit_id = str(uuid.uuid4())
        self.token_calls: dict[str, int] = {}
        self._tx: _Transaction | None = None
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to a fresh environment: standard columns only, no records."""
        with self.lock:
            self.entities: dict[str, Entity] = M.default_entities()
            self.records: dict[str, dict[str, Record]] = {name: {} for name in self.entities}
            self._version = 1000
            self.token_calls.clear()

    def entity(self, name: str) -> Entity:
        found = self.entities.get(name)
        if found is None:
            raise E.segment_not_found(name)
        return found

    def entity_by_set(self, entity_set: str) -> Entity | None:
        for entity in self.entities.values():
            if entity.entity_set == entity_set:
                return entity
        return None

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    # -- transactions ------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, sink: WriteSink) -> Iterator[None]:
        """All writes inside succeed together or are rolled back together; the request log
        hears of the writes only once they are committed."""
        with self.lock:
            if self._tx is not None:  # nested: the outer transaction decides
                yield
                return
            tx = _Transaction()
            self._tx = tx
            try:
                yield
            except BaseException:
                for entity, record_id, old in reversed(tx.undo):
                    if old is None:
                        self.records[entity].pop(record_id, None)
                    else:
                        self.records[entity][record_id] = old
                raise
            finally:
                self._tx = None
            for write in tx.writes:
                sink(write)

    def _saving(self, entity: str, record_id: str) -> None:
        if self._tx is not None:
            old = self.records[entity].get(record_id)
            self._tx.undo.append((entity, record_id, copy.deepcopy(old)))

    def _emit(self, write: RecordWrite, sink: WriteSink) -> None:
        if self._tx is not None:
            self._tx.writes.append(write)
        else:
            sink(write)

    # -- values ------------------------------------------------------------------------

    def _coerce(self, entity: Entity, attribute: Attribute, raw: Any, record_id: str | None) -> Any:
        """The stored form of ``raw`` for ``attribute``, or the error Dataverse answers."""
        name, kind = attribute.logical_name, attribute.kind

        def payload(edm: str) -> E.DvError:
            shown = str(raw).lower() if isinstance(raw, bool) else raw
            return E.payload_error(
                entity.entity_set,
                f"Cannot convert the literal '{shown}' to the expected type '{edm}'.",
                record_id=record_id,
            )

        if raw is None:
            return None
        if kind in ("String", "Memo"):
            if not isinstance(raw, str):
                raise payload("Edm.String")
            if attribute.max_length is not None and len(raw) > attribute.max_length:
                raise E.length_exceeded(
                    name, entity.logical_name, attribute.max_length, record_id=record_id
                )
            return raw
        if kind in ("Integer", "BigInt"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise payload("Edm.Int32" if kind == "Integer" else "Edm.Int64")
            self._check_range(entity, attribute, raw, record_id)
            return raw
        if kind in ("Decimal", "Double", "Money"):
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise payload("Edm.Decimal" if kind != "Double" else "Edm.Double")
            if not math.isfinite(float(raw)):
                raise payload("Edm.Decimal")
            self._check_range(entity, attribute, raw, record_id)
            return round(float(raw), attribute.precision or 0) if kind != "Double" else float(raw)
        if kind == "Boolean":
            if not isinstance(raw, bool):
                raise payload("Edm.Boolean")
            return raw
        if kind == "DateTime":
            if not isinstance(raw, str):
                raise payload("Edm.DateTimeOffset")
            if attribute.date_format == "DateOnly":
                if not DATE_ONLY.match(raw):
                    raise payload("Edm.Date")
                try:
                    return date.fromisoformat(raw).isoformat()
                except ValueError:
                    raise payload("Edm.Date") from None
            try:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise payload("Edm.DateTimeOffset") from None
            if moment.tzinfo is None:
                raise payload("Edm.DateTimeOffset")
            moment = moment.astimezone(UTC).replace(microsecond=0)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if kind in M.OPTION_TYPES:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise payload("Edm.Int32")
            if not attribute.option_value(raw):
                accepted = ",".join(str(v) for v, _ in attribute.options)
                raise E.out_of_range(
                    raw, name, entity.logical_name, accepted, option=True, record_id=record_id
                )
            return raw
        raise payload("Edm.Guid")

    @staticmethod
    def _check_range(
        entity: Entity, attribute: Attribute, value: float | int, record_id: str | None
    ) -> None:
        low, high = attribute.min_value, attribute.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            raise E.out_of_range(
                value,
                attribute.logical_name,
                entity.logical_name,
                f"{low} to {high}",
                record_id=record_id,
            )

    def clean(
        self, entity: Entity, body: Mapping[str, Any], record_id: str | None, *, creating: bool
    ) -> dict[str, Any]:
        """The writable values of a body: annotations and read-only columns dropped,
        each value checked and converted."""
        clean: dict[str, Any] = {}
        binds: dict[str, Any] = {}
        for name, raw in body.items():
            if name.endswith("@odata.bind"):
                binds[name.removesuffix("@odata.bind")] = raw  # a lookup (tasks.lookups)
                continue
            if "@" in name:
                continue  # @odata.type and other annotations
            attribute = entity.attributes.get(name)
            if attribute is None:
                raise E.payload_error(
                    entity.entity_set,
                    f"The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM."
                    f"{entity.logical_name}'. Make sure to only use property names that are "
                    "defined by the type or mark the type as open type.",
                    record_id=record_id,
                )
            if attribute.primary_id:
                continue
            writable = attribute.valid_for_create if creating else attribute.valid_for_update
            if not writable:
                continue  # [memory] read-only columns are ignored, not refused
            clean[name] = self._coerce(entity, attribute, raw, record_id)
        clean.update(T.lookups(self, entity, binds, record_id, creating=creating))
        return clean

    # -- keys --------------------------------------------------------------------------

    def _key_tuple(self, key: EntityKey, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = tuple(_fold(values.get(name)) for name in key.key_attributes)
        return None if any(v is None for v in found) else found

    def _check_unique(self, entity: Entity, record_id: str, values: Mapping[str, Any]) -> None:
        for key in entity.keys.values():
            if not key.active:
                continue
            mine = self._key_tuple(key, values)
            if mine is None:
                continue
            for other in self.records[entity.logical_name].values():
                if other.id != record_id and self._key_tuple(key, other.values) == mine:
                    raise E.duplicate_key(record_id=record_id)

    def find_by_key(self, entity: Entity, pairs: Mapping[str, Any]) -> Record | None:
        """The record an alternate key names (the key must exist and be Active)."""
        names = set(pairs)
        if names == {entity.primary_id}:
            return self.records[entity.logical_name].get(str(pairs[entity.primary_id]).lower())
        for key in entity.keys.values():
            if set(key.key_attributes) == names:
                if not key.active:
                    raise E.key_not_active(key.logical_name)
                wanted = tuple(_fold(pairs[n]) for n in key.key_attributes)
                for record in self.records[entity.logical_name].values():
                    if self._key_tuple(key, record.values) == wanted:
                        return record
                return None
        listed = ",".join(sorted(names))
        raise E.query_error(
            f"The key attributes '{listed}' do not match any alternate key defined on "
            f"'{entity.logical_name}'."
        )

    # -- records -----------------------------------------------------------------------

    def _stamp(self, entity: Entity, values: dict[str, Any]) -> None:
        if "fullname" in entity.attributes:
            parts = [values.get("firstname"), values.get("lastname")]
            values["fullname"] = " ".join(p for p in parts if p) or None
        values["modifiedon"] = _now_text()
        T.derive(entity, values)

    def create(
        self,
        entity_name: str,
        body: Mapping[str, Any],
        sink: WriteSink,
        *,
        record_id: str | None = None,
        faults: bool = True,
    ) -> Record:
        """A new record (``POST contacts``, or an upsert that found nothing); ``faults``
        False spares it the fault plan (seeding)."""
        with self.lock:
            entity = self.entity(entity_name)
            new_id = (record_id or str(body.get(entity.primary_id) or uuid.uuid4())).lower()
            if new_id in self.records[entity_name]:
                raise E.DvError(412, "0x80040237", "Cannot insert duplicate key.", record_id=new_id)
            values = self.clean(entity, body, new_id, creating=True)
            if faults and self.faults.record_fails(new_id):
                sink(RecordWrite(entity_name, "create", new_id, success=False))
                raise E.sql_deadlock(record_id=new_id)
            full: dict[str, Any] = dict.fromkeys(
                (name for name in entity.attributes if name != entity.primary_id), None
            )
            full.update(values)
            full["createdon"] = _now_text()
            if full.get("statecode") is None:
                full["statecode"] = 0
            if full.get("statuscode") is None:
                full["statuscode"] = 1
            self._stamp(entity, full)
            self._check_unique(entity, new_id, full)
            self._saving(entity_name, new_id)
            record = Record(new_id, full, self._next_version())
            self.records[entity_name][new_id] = record
            self._emit(RecordWrite(entity_name, "create", new_id), sink)
            return record

    def update(
        self,
        entity_name: str,
        record_id: str,
        body: Mapping[str, Any],
        sink: WriteSink,
        *,
        upsert: bool = False,
        operation: str = "update",
    ) -> tuple[Record, bool]:
        """Update one record; with ``upsert`` a missing one is created (PATCH without
        ``If-Match: *``). Returns the record and whether it was created."""
        with self.lock:
            entity = self.entity(entity_name)
            key = record_id.lower()
            record = self.records[entity_name].get(key)
            if record is None:
                if upsert:
                    return self.create(entity_name, body, sink, record_id=key), True
                sink(RecordWrite(entity_name, operation, key, success=False))
                raise E.record_not_found(entity_name, key)
            try:
                values = self.clean(entity, body, key, creating=False)
                if self.faults.record_fails(key):
                    raise E.sql_deadlock(record_id=key)
                merged = {**record.values, **values}
                self._stamp(entity, merged)
                self._check_unique(entity, key, merged)
            except E.DvError:
                sink(RecordWrite(entity_name, operation, key, success=False))
                raise
            self._saving(entity_name, key)
            self.records[entity_name][key] = Record(key, merged, self._next_version())
            self._emit(RecordWrite(entity_name, operation, key), sink)
            return self.records[entity_name][key], False

    def targets(self, entity: Entity, body: Any) -> list[dict[str, Any]]:
        """The ``Targets`` of a bulk action, each typed as this table (``@odata.type``)."""
        targets = body.get("Targets") if isinstance(body, dict) else None
        if not isinstance(targets, list) or not targets:
            raise E.invalid_argument("Required field 'Targets' is missing or empty.")
        expected = f"Microsoft.Dynamics.CRM.{entity.logical_name}"
        for target in targets:
            if not isinstance(target, dict):
                raise E.invalid_argument("Each item of 'Targets' must be an entity.")
            odata_type = str(target.get("@odata.type") or "").lstrip("#")
            if odata_type != expected:
                raise E.payload_error(
                    entity.entity_set,
                    f"A type named '{odata_type or '(missing)'}' could not be resolved by the "
                    f"model; each target of this table needs '@odata.type': '{expected}'.",
                )
        return targets

    def update_multiple(self, entity_name: str, body: Any, sink: WriteSink) -> None:
        """``UpdateMultiple``: every target is updated, or none (a standard table)."""
        with self.lock:
            entity = self.entity(entity_name)
            targets = self.targets(entity, body)
            with self.transaction(sink):
                for target in targets:
                    record_id = target.get(entity.primary_id)
                    if not isinstance(record_id, str) or not record_id:
                        raise E.expected_guid()
                    self.update(entity_name, record_id, target, sink)

    def upsert_multiple(self, entity_name: str, body: Any, sink: WriteSink) -> None:
        """``UpsertMultiple``: each target by primary key or by an Active alternate key,
        created when absent; all or nothing."""
        with self.lock:
            entity = self.entity(entity_name)
            targets = self.targets(entity, body)
            with self.transaction(sink):
                for target in targets:
                    record_id = target.get(entity.primary_id)
                    if isinstance(record_id, str) and record_id:
                        self.update(
                            entity_name, record_id, target, sink, upsert=True, operation="upsert"
                        )
                        continue
                    found = None
                    for key in entity.keys.values():
                        pairs = {n: target.get(n) for n in key.key_attributes}
                        if all(v is not None for v in pairs.values()):
                            found = self.find_by_key(entity, pairs)
                            break
                    if found is None:
                        self.create(entity_name, target, sink)
                    else:
                        self.update(entity_name, found.id, target, sink, operation="upsert")

    def delete(self, entity_name: str, record_id: str, sink: WriteSink) -> None:
        with self.lock:
            key = record_id.lower()
            if key not in self.records[self.entity(entity_name).logical_name]:
                raise E.record_not_found(entity_name, key)
            self._saving(entity_name, key)
            del self.records[entity_name][key]
            self._emit(RecordWrite(entity_name, "delete", key), sink)

    def get(self, entity_name: str, record_id: str) -> Record:
        with self.lock:
            found = self.records[self.entity(entity_name).logical_name].get(record_id.lower())
            if found is None:
                raise E.record_not_found(entity_name, record_id.lower())
            return found

    def query(
        self,
        entity_name: str,
        predicate: Callable[[Mapping[str, Any]], bool] | None,
    ) -> list[Record]:
        with self.lock:
            entity = self.entity(entity_name)
            found = []
            for record in self.records[entity_name].values():
                values = {entity.primary_id: record.id, **record.values}
                if predicate is None or predicate(values):
                    found.append(record)
            return sorted(found, key=lambda r: (str(r.values.get("createdon")), r.id))

    def render(
        self,
        entity: Entity,
        record: Record,
        select: list[str] | None,
        *,
        annotations: bool = False,
    ) -> dict[str, Any]:
        """A record as the Web API returns it (``@odata.etag``, the primary key, columns)."""
        names = select if select is not None else list(record.values)
        out: dict[str, Any] = {"@odata.etag": f'W/"{record.version}"'}
        for name in names:
            if name == entity.primary_id:
                continue
            value = record.values.get(name)
            out[name] = value
            attribute = entity.attributes.get(name)
            if annotations and value is not None and attribute is not None:
                shown = self._formatted(attribute, value)
                if shown is not None:
                    out[f"{name}@OData.Community.Display.V1.FormattedValue"] = shown
        out[entity.primary_id] = record.id
        return out

    @staticmethod
    def _formatted(attribute: Attribute, value: Any) -> str | None:
        if attribute.kind in M.OPTION_TYPES:
            return next((text for v, text in attribute.options if v == value), None)
        if attribute.kind == "Boolean":
            return attribute.true_label if value else attribute.false_label
        return None

    # -- seeding -----------------------------------------------------------------------

    def seed(self, entity_name: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Create records as the ones the CRM already holds (not in the request log)."""
        ids: list[str] = []
        with self.lock:
            for row in rows:
                ids.append(self.create(entity_name, row, lambda write: None, faults=False).id)
        return ids

    # -- metadata ----------------------------------------------------------------------

    def solution(self, unique_name: str | None) -> Solution:
        name = unique_name or "Default"
        found = self.config.solutions.get(name)
        if found is None:
            raise E.DvError(
                404, "0x8004f005", f"The solution with unique name '{name}' does not exist."
            )
        return found

    def create_attribute(self, entity_name: str, body: Any, solution_name: str | None) -> Attribute:
        """``POST EntityDefinitions(LogicalName='contact')/Attributes``."""
        with self.lock:
            entity = self.entity(entity_name)
            solution = self.solution(solution_name)
            if not isinstance(body, dict):
                raise E.metadata_invalid("The attribute definition must be a JSON object.")
            odata_type = str(body.get("@odata.type") or "").lstrip("#").removeprefix(M.CRM)
            kind = M.CREATABLE.get(odata_type)
            if kind is None:
                raise E.metadata_invalid(
                    f"Attribute type '{odata_type or '(missing @odata.type)'}' cannot be created "
                    "through this request."
                )
            schema = body.get("SchemaName")
            if not isinstance(schema, str) or not SCHEMA_NAME.match(schema):
                raise E.metadata_invalid(
                    f"Invalid name for attribute {schema}. Custom attribute names must start "
                    "with a valid customization prefix."
                )
            prefix = schema.split("_", 1)[0]
            if prefix.casefold() != solution.publisher.prefix.casefold():
                raise E.metadata_invalid(
                    f"Invalid name for attribute {schema}.  Custom attribute names must start "
                    "with a valid customization prefix. The prefix for a solution component "
                    "should match the prefix that is specified for the publisher of the "
                    f"solution ('{solution.publisher.prefix}')."
                )
            if len(schema) > MAX_SCHEMA_NAME:
                raise E.metadata_invalid(
                    f"The schema name {schema} is longer than {MAX_SCHEMA_NAME} characters."
                )
            logical = schema.lower()
            if logical in entity.attributes:
                raise E.attribute_exists(schema)
            display = M.label_text(body.get("DisplayName"))
            if not display:
                raise E.metadata_invalid("The DisplayName of the attribute is required.")
            attribute = Attribute(
                logical,
                schema,
                kind,
                display,
                description=M.label_text(body.get("Description")) or "",
                custom=True,
                required=str((body.get("RequiredLevel") or {}).get("Value") or "None"),
            )
            self._shape(attribute, body, solution)
            return entity.add(attribute)

    def _shape(self, attribute: Attribute, body: dict[str, Any], solution: Solution) -> None:
        kind = attribute.kind

        def number(name: str, default: float | int) -> float | int:
            value = body.get(name, default)
            if value is None:
                return default
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise E.metadata_invalid(f"{name} must be a number.")
            return value

        if kind in ("String", "Memo"):
            limit = M.STRING_MAX if kind == "String" else M.MEMO_MAX
            length = body.get("MaxLength", 100 if kind == "String" else 2000)
            if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= limit:
                raise E.metadata_invalid(f"MaxLength must be between 1 and {limit}.")
            attribute.max_length = length
            if kind == "String":
                attribute.format_name = str((body.get("FormatName") or {}).get("Value") or "Text")
        elif kind == "Integer":
            low, high = number("MinValue", M.INT_MIN), number("MaxValue", M.INT_MAX)
            if not M.INT_MIN <= low <= high <= M.INT_MAX:
                raise E.metadata_invalid("MinValue and MaxValue must be whole numbers in range.")
            attribute.min_value, attribute.max_value = int(low), int(high)
        elif kind in ("Decimal", "Double"):
            precision = body.get("Precision", 2)
            if (
                isinstance(precision, bool)
                or not isinstance(precision, int)
                or not 0 <= precision <= M.DECIMAL_PRECISION_MAX
            ):
                raise E.metadata_invalid(
                    f"Precision must be between 0 and {M.DECIMAL_PRECISION_MAX}."
                )
            low = number("MinValue", -M.DECIMAL_LIMIT)
            high = number("MaxValue", M.DECIMAL_LIMIT)
            if not -M.DECIMAL_LIMIT <= low <= high <= M.DECIMAL_LIMIT:
                raise E.metadata_invalid("MinValue and MaxValue are out of the allowed range.")
            attribute.precision, attribute.min_value, attribute.max_value = precision, low, high
        elif kind == "Boolean":
            options = body.get("OptionSet") or {}
            attribute.true_label = (
                M.label_text((options.get("TrueOption") or {}).get("Label")) or "Yes"
            )
            attribute.false_label = (
                M.label_text((options.get("FalseOption") or {}).get("Label")) or "No"
            )
        elif kind == "DateTime":
            fmt = body.get("Format") or "DateAndTime"
            if fmt not in ("DateOnly", "DateAndTime"):
                raise E.metadata_invalid(f"Format '{fmt}' is not valid for a date and time column.")
            attribute.date_format = str(fmt)
            behavior = (body.get("DateTimeBehavior") or {}).get("Value")
            attribute.date_behavior = str(
                behavior or ("DateOnly" if fmt == "DateOnly" else "UserLocal")
            )
        elif kind == "Picklist":
            option_set = body.get("OptionSet")
            if not isinstance(option_set, dict):
                raise E.metadata_invalid("A choice column needs an OptionSet.")
            if option_set.get("IsGlobal"):
                raise E.metadata_invalid(
                    "Only Local option set can be created through the attribute create. "
                    "IsGlobal flag must be set to 'false'."
                )
            base = solution.publisher.option_value_prefix * 10_000
            for index, item in enumerate(option_set.get("Options") or []):
                text = M.label_text((item or {}).get("Label"))
                if not text:
                    raise E.metadata_invalid("Each option needs a Label.")
                value = (item or {}).get("Value")
                if value is None:
                    value = base + index
                if isinstance(value, bool) or not isinstance(value, int):
                    raise E.metadata_invalid("An option's Value must be a whole number.")
                if attribute.option_value(value):
                    raise E.metadata_invalid(f"The option value {value} is used twice.")
                attribute.options.append((value, text))
            if not attribute.options:
                raise E.metadata_invalid("A choice column needs at least one option.")

    def insert_option_value(self, body: Any) -> int:
        """The ``InsertOptionValue`` action: add an option to a local choice column."""
        with self.lock:
            if not isinstance(body, dict):
                raise E.invalid_argument("The request body must be a JSON object.")
            entity = self.entity(str(body.get("EntityLogicalName") or ""))
            name = str(body.get("AttributeLogicalName") or "")
            attribute = entity.attributes.get(name)
            if attribute is None or attribute.kind != "Picklist":
                raise E.invalid_argument(
                    f"Could not find a choice column named '{name}' on '{entity.logical_name}'."
                )
            text = M.label_text(body.get("Label"))
            if not text:
                raise E.invalid_argument("Label is required.")
            solution = self.solution(body.get("SolutionUniqueName"))
            value = body.get("Value")
            if value is None:
                base = solution.publisher.option_value_prefix * 10_000
                value = max([base - 1, *(v for v, _ in attribute.options)]) + 1
            if isinstance(value, bool) or not isinstance(value, int):
                raise E.invalid_argument("Value must be a whole number.")
            if attribute.option_value(value):
                raise E.invalid_argument(f"The option value {value} already exists.")
            attribute.options.append((value, text))
            return value

    def create_key(self, entity_name: str, body: Any, solution_name: str | None) -> EntityKey:
        """``POST EntityDefinitions(LogicalName='contact')/Keys``: the key is created at
        once, its index in the background (Pending, InProgress, then Active or Failed)."""
        with self.lock:
            entity = self.entity(entity_name)
            solution = self.solution(solution_name)
            if not isinstance(body, dict):
                raise E.metadata_invalid("The key definition must be a JSON object.")
            schema = body.get("SchemaName")
            if not isinstance(schema, str) or not SCHEMA_NAME.match(schema):
                raise E.metadata_invalid(f"Invalid schema name for the key: {schema}.")
            if schema.split("_", 1)[0].casefold() != solution.publisher.prefix.casefold():
                raise E.metadata_invalid(
                    f"Invalid name for key {schema}. The prefix should match the prefix of the "
                    f"publisher of the solution ('{solution.publisher.prefix}')."
                )
            logical = schema.lower()
            if logical in entity.keys:
                raise E.DvError(
                    400,
                    "0x80044363",
                    f"The schema name {schema} for type EntityKey is not unique.",
                )
            if len(entity.keys) >= MAX_KEYS:
                raise E.metadata_invalid(f"A table can have at most {MAX_KEYS} alternate keys.")
            columns = body.get("KeyAttributes")
            if not isinstance(columns, list) or not columns:
                raise E.metadata_invalid("KeyAttributes must name at least one column.")
            for column in columns:
                attribute = entity.attributes.get(str(column))
                if attribute is None or attribute.kind not in KEY_TYPES:
                    raise E.metadata_invalid(
                        f"'{column}' cannot be part of an alternate key (it is missing, or of a "
                        "type a key cannot use)."
                    )
            key = EntityKey(
                logical,
                schema,
                M.label_text(body.get("DisplayName")) or schema,
                tuple(str(c) for c in columns),
                steps=self.config.key_steps,
            )
            entity.keys[logical] = key
            return key

    def observe_key(self, entity: Entity, key: EntityKey) -> None:
        """A client read the key's status: its index job moves one step on (the next read
        shows it); when it would become Active, duplicate values in the columns make it
        Failed instead."""
        with self.lock:
            if key.failed or key.active:
                return
            key.reads += 1
            if key.active:
                seen: set[tuple[Any, ...]] = set()
                for record in self.records[entity.logical_name].values():
                    value = self._key_tuple(key, record.values)
                    if value is None:
                        continue
                    if value in seen:
                        key.failed = True
                        return
                    seen.add(value)

    def activate_keys(self) -> None:
        """Finish every pending index job now (a test that does not poll)."""
        with self.lock:
            for entity in self.entities.values():
                for key in entity.keys.values():
                    while not (key.active or key.failed):
                        self.observe_key(entity, key)
