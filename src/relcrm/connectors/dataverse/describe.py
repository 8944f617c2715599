"""Dataverse column definitions -> relcrm's :class:`FieldSpec`, and the per-table schema the
writer and the reader format values by.

A table's columns come from ``EntityDefinitions(LogicalName='contact')/Attributes`` (every
attribute with its derived type's properties: ``MaxLength``, ``MinValue``/``MaxValue``,
``Precision``, ``Format``), the choice columns' options from the typed cast path
``…/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet`` (the
only place the Web API returns them), and the alternate keys from ``…/Keys``: three calls
per table, cached for the connector's life (provisioning forgets them).

Types: String -> text (``MaxLength``), Memo -> long text, Integer/BigInt -> number with
scale 0, Decimal/Double/Money -> number (``Precision`` is Dataverse's word for the digits
after the point: relcrm's scale), Boolean -> checkbox, DateTime -> date when its format is
``DateOnly`` else datetime, Picklist/State/Status -> picklist (restricted: Dataverse
refuses a value that is not an option's). Lookups, owners, GUIDs and the like are not
listed: relcrm never writes them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from relcrm.models import FieldSpec, FieldType

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient

ENTITY_SETS: dict[str, str] = {"contact": "contacts", "lead": "leads"}
PRIMARY_IDS: dict[str, str] = {"contact": "contactid", "lead": "leadid"}
TABLE_ALIASES: dict[str, str] = {
    **{name: name for name in ENTITY_SETS},
    **{plural: name for name, plural in ENTITY_SETS.items()},
}
"""``contact``, ``contacts`` -> ``contact``: mappings and record references may use the
logical name or the entity set name."""
OPTION_KINDS = frozenset({"Picklist", "State", "Status"})
NUMBER_KINDS = frozenset({"Integer", "BigInt", "Decimal", "Double", "Money"})


def label_of(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return None
    user = raw.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label"):
        return str(user["Label"])
    for item in raw.get("LocalizedLabels") or []:
        if isinstance(item, dict) and item.get("Label"):
            return str(item["Label"])
    return None


@dataclass(frozen=True)
class Column:
    """What the writer and reader need to know about one column."""

    name: str
    kind: str
    label: str
    custom: bool = False
    updateable: bool = True
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    precision: int | None = None
    date_only: bool = False
    options: tuple[tuple[int, str], ...] = ()
    external_id: bool = False

    @property
    def values_by_label(self) -> dict[str, int]:
        return {text: value for value, text in self.options}

    @property
    def labels_by_value(self) -> dict[int, str]:
        return dict(self.options)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def column_of(item: dict[str, Any]) -> Column:
    """A column from one attribute definition (the Web API's JSON)."""
    kind = str(item.get("AttributeType") or "")
    name = str(item.get("LogicalName") or "")
    date_format = str(item.get("Format") or "")
    behavior = str((item.get("DateTimeBehavior") or {}).get("Value") or "")
    return Column(
        name=name,
        kind=kind,
        label=label_of(item.get("DisplayName")) or name,
        custom=bool(item.get("IsCustomAttribute")),
        updateable=bool(item.get("IsValidForUpdate", True)),
        max_length=item.get("MaxLength") if isinstance(item.get("MaxLength"), int) else None,
        min_value=_number(item.get("MinValue")),
        max_value=_number(item.get("MaxValue")),
        precision=item.get("Precision") if isinstance(item.get("Precision"), int) else None,
        date_only=kind == "DateTime" and (date_format == "DateOnly" or behavior == "DateOnly"),
    )


def _digits(value: float | None) -> int | None:
    if value is None:
        return None
    return max(len(str(int(abs(value)))), 1)


def field_type_of(column: Column) -> FieldType | None:
    kind = column.kind
    if kind == "String":
        return FieldType.TEXT
    if kind == "Memo":
        return FieldType.LONG_TEXT
    if kind in NUMBER_KINDS:
        return FieldType.NUMBER
    if kind == "Boolean":
        return FieldType.CHECKBOX
    if kind == "DateTime":
        return FieldType.DATE if column.date_only else FieldType.DATETIME
    if kind in OPTION_KINDS:
        return FieldType.PICKLIST
    return None


def field_spec(column: Column) -> FieldSpec | None:
    """One column as a :class:`FieldSpec` (None for kinds relcrm does not write)."""
    kind = field_type_of(column)
    if kind is None:
        return None
    precision: int | None = None
    scale: int | None = None
    if kind is FieldType.NUMBER:
        scale = 0 if column.kind in ("Integer", "BigInt") else (column.precision or 0)
        whole = _digits(max(abs(column.min_value or 0), abs(column.max_value or 0)) or None)
        precision = (whole + scale) if whole is not None else None
    return FieldSpec(
        name=column.name,
        label=column.label,
        type=kind,
        length=column.max_length if kind in (FieldType.TEXT, FieldType.LONG_TEXT) else None,
        precision=precision,
        scale=scale,
        picklist_values=tuple(text for _, text in column.options),
        restricted=kind is FieldType.PICKLIST,
        updateable=column.updateable,
        custom=column.custom,
        external_id=column.external_id,
    )


@dataclass(frozen=True)
class KeyInfo:
    """An alternate key and its index status."""

    name: str
    columns: tuple[str, ...]
    status: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> KeyInfo:
        return cls(
            name=str(item.get("LogicalName") or ""),
            columns=tuple(str(c) for c in item.get("KeyAttributes") or []),
            status=str(item.get("EntityKeyIndexStatus") or "Pending"),
        )


def attributes_path(object_name: str) -> str:
    return f"EntityDefinitions(LogicalName='{object_name}')/Attributes"


def keys_path(object_name: str) -> str:
    return f"EntityDefinitions(LogicalName='{object_name}')/Keys"


@dataclass
class Schema:
    """Columns per table, read once and cached (thread-safe)."""

    client: DataverseClient
    _tables: dict[str, dict[str, Column]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self, object_name: str) -> list[KeyInfo]:
        body = self.client.get_json(keys_path(object_name), what=f"list {object_name} keys")
        return [KeyInfo.of(item) for item in body.get("value") or []]

    def columns(self, object_name: str, *, refresh: bool = False) -> dict[str, Column]:
        with self._lock:
            if refresh or object_name not in self._tables:
                self._tables[object_name] = self._read(object_name)
            return self._tables[object_name]

    def forget(self) -> None:
        with self._lock:
            self._tables.clear()

    def _read(self, object_name: str) -> dict[str, Column]:
        what = f"describe {object_name}"
        body = self.client.get_json(attributes_path(object_name), what=what)
        columns = {c.name: c for c in (column_of(item) for item in body.get("value") or [])}
        options = self.client.get_json(
            f"{attributes_path(object_name)}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            what=f"read {object_name} choices",
            params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
        )
        for item in options.get("value") or []:
            name = str(item.get("LogicalName") or "")
            found = columns.get(name)
            if found is None:
                continue
            pairs = tuple(
                (int(option["Value"]), label_of(option.get("Label")) or str(option["Value"]))
                for option in (item.get("OptionSet") or {}).get("Options") or []
                if isinstance(option, dict) and isinstance(option.get("Value"), int)
            )
            columns[name] = replace(found, options=pairs)
        for key in self.keys(object_name):
            if key.status == "Active" and len(key.columns) == 1 and key.columns[0] in columns:
                found = columns[key.columns[0]]
                columns[found.name] = replace(found, external_id=True)
        return columns
