"""Salesforce describe results as relcrm's vendor-neutral :class:`FieldSpec`.

Only the types relcrm can write are mapped; the rest (ids, references, addresses...) are
left out, because a mapping may never target them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relcrm.models import FieldSpec, FieldType

SF_TYPES: dict[str, FieldType] = {
    "string": FieldType.TEXT,
    "email": FieldType.TEXT,
    "phone": FieldType.TEXT,
    "url": FieldType.TEXT,
    "double": FieldType.NUMBER,
    "int": FieldType.NUMBER,
    "long": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.PERCENT,
    "boolean": FieldType.CHECKBOX,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.MULTI_PICKLIST,
}
"""Salesforce field ``type`` -> relcrm type; ``textarea`` is decided by length."""

LONG_TEXT_FROM = 256
"""A textarea longer than this is a Long Text Area (plain ``TextArea`` is 255)."""


def field_type(field: Mapping[str, Any]) -> FieldType | None:
    """relcrm's type for one describe field, or None when relcrm cannot write it."""
    kind = str(field.get("type", ""))
    if kind == "textarea":
        length = int(field.get("length") or 0)
        return FieldType.LONG_TEXT if length >= LONG_TEXT_FROM else FieldType.TEXT
    return SF_TYPES.get(kind)


def field_spec(field: Mapping[str, Any]) -> FieldSpec | None:
    """One describe field as a :class:`FieldSpec` (None for types relcrm does not write)."""
    kind = field_type(field)
    if kind is None:
        return None
    picklist = kind in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)
    text_like = picklist or kind in (FieldType.TEXT, FieldType.LONG_TEXT)
    numeric = kind in (FieldType.NUMBER, FieldType.PERCENT)
    length = int(field.get("length") or 0) if text_like else 0
    precision = int(field.get("precision") or 0) if numeric else 0
    values = tuple(
        str(v["value"])
        for v in field.get("picklistValues") or ()
        if isinstance(v, Mapping) and v.get("active", True) and v.get("value") is not None
    )
    return FieldSpec(
        name=str(field["name"]),
        label=str(field.get("label") or field["name"]),
        type=kind,
        length=length or None,
        precision=precision or None,
        scale=int(field.get("scale") or 0) if numeric else None,
        picklist_values=values if picklist else (),
        restricted=bool(field.get("restrictedPicklist")),
        updateable=bool(field.get("updateable")),
        custom=bool(field.get("custom")),
        external_id=bool(field.get("externalId")),
    )


def field_specs(describe: Mapping[str, Any]) -> list[FieldSpec]:
    """Every writable-type field of an sObject describe, in describe order."""
    specs = (field_spec(f) for f in describe.get("fields") or () if isinstance(f, Mapping))
    return [s for s in specs if s is not None]
