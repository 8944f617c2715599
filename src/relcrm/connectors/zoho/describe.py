"""Zoho field metadata (``GET /crm/v8/settings/fields?module=``) -> relcrm's :class:`FieldSpec`.

Zoho describes a field by ``data_type`` (``text``, ``textarea``, ``integer``, ``double``,
``percent``, ``boolean``, ``date``, ``datetime``, ``picklist``...) with ``length`` (characters,
or digits for numbers), ``decimal_place``, ``pick_list_values`` (``actual_value`` is what
the API takes and gives; ``display_value`` what users see), ``read_only``/``field_read_only``,
``custom_field`` and ``unique`` (a unique field can key matching and upserts). Zoho keeps
no restricted picklists through the API (it stores values outside the list), so picklists
are described as open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from relcrm.models import FieldSpec, FieldType

_KINDS: dict[str, FieldType] = {
    "text": FieldType.TEXT,
    "email": FieldType.TEXT,
    "phone": FieldType.TEXT,
    "website": FieldType.TEXT,
    "autonumber": FieldType.TEXT,
    "textarea": FieldType.LONG_TEXT,
    "integer": FieldType.NUMBER,
    "bigint": FieldType.NUMBER,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.PERCENT,
    "boolean": FieldType.CHECKBOX,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
}
WRITABLE_KINDS = frozenset(_KINDS)
"""Data types relcrm can write (lookups, subforms, formulas and the like it cannot)."""


@dataclass(frozen=True)
class FieldInfo:
    """What the writer and reader need to know of one field."""

    api_name: str
    data_type: str
    id: str = ""
    length: int | None = None
    decimal_place: int | None = None
    unique: bool = False
    picklist: tuple[str, ...] = ()

    @property
    def kind(self) -> FieldType:
        return _KINDS.get(self.data_type, FieldType.TEXT)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def field_info(raw: Mapping[str, Any]) -> FieldInfo:
    values = raw.get("pick_list_values") or []
    picklist = tuple(
        str(v.get("actual_value") or v.get("display_value"))
        for v in values
        if isinstance(v, Mapping) and (v.get("actual_value") or v.get("display_value"))
    )
    unique = raw.get("unique")
    return FieldInfo(
        api_name=str(raw.get("api_name")),
        data_type=str(raw.get("data_type") or "text"),
        id=str(raw.get("id") or ""),
        length=_int(raw.get("length")),
        decimal_place=_int(raw.get("decimal_place")),
        unique=isinstance(unique, Mapping) and bool(unique),
        picklist=picklist,
    )


def field_spec(raw: Mapping[str, Any]) -> FieldSpec:
    """One field as a :class:`FieldSpec` (numbers: ``precision`` digits, ``scale`` after
    the point; text: ``length`` characters)."""
    info = field_info(raw)
    kind = info.kind
    numeric = kind in (FieldType.NUMBER, FieldType.PERCENT)
    scale = (info.decimal_place or 0) if info.data_type not in ("integer", "bigint") else 0
    read_only = bool(raw.get("read_only")) or bool(raw.get("field_read_only"))
    label = str(raw.get("field_label") or raw.get("display_label") or info.api_name)
    return FieldSpec(
        name=info.api_name,
        label=label,
        type=kind,
        length=info.length if kind in (FieldType.TEXT, FieldType.LONG_TEXT) else None,
        precision=info.length if numeric and info.length else None,
        scale=scale if numeric else None,
        picklist_values=info.picklist if kind is FieldType.PICKLIST else (),
        restricted=False,
        updateable=not read_only and info.data_type in WRITABLE_KINDS,
        custom=bool(raw.get("custom_field")),
        external_id=info.unique,
    )


def field_specs(fields: Iterable[Any]) -> list[FieldSpec]:
    """Every visible field, as specs, in Zoho's order."""
    return [
        field_spec(f)
        for f in fields
        if isinstance(f, Mapping) and f.get("api_name") and f.get("visible", True) is not False
    ]
