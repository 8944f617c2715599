"""HubSpot property definitions -> relcrm's vendor-neutral :class:`FieldSpec`.

HubSpot describes a property by ``type`` (the stored kind) and ``fieldType`` (the
widget); both matter: an ``enumeration`` shown as ``booleancheckbox`` is a checkbox, a
``string`` shown as ``textarea`` is long text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relcrm.models import FieldSpec, FieldType


@dataclass(frozen=True)
class PropertyInfo:
    """What the writer needs to know to format a value for one property."""

    name: str
    type: str
    field_type: str
    options: tuple[str, ...] = ()
    option_labels: tuple[str, ...] = ()


def _get(obj: Any, snake: str, camel: str | None = None) -> Any:
    """A member of an SDK model or of a plain dict (tests and the raw API use dicts)."""
    if isinstance(obj, dict):
        return obj.get(camel or snake, obj.get(snake))
    return getattr(obj, snake, None)


def property_info(prop: Any) -> PropertyInfo:
    """The formatting facts of one property (SDK ``Property`` or its JSON)."""
    options = _get(prop, "options") or []
    return PropertyInfo(
        name=str(_get(prop, "name")),
        type=str(_get(prop, "type") or "string"),
        field_type=str(_get(prop, "field_type", "fieldType") or "text"),
        options=tuple(str(_get(o, "value")) for o in options),
        option_labels=tuple(str(_get(o, "label")) for o in options),
    )


def field_type_of(type_: str, field_type: str) -> FieldType:
    """relcrm's field type for a HubSpot ``type``/``fieldType`` pair."""
    if type_ == "bool" or (type_ == "enumeration" and field_type == "booleancheckbox"):
        return FieldType.CHECKBOX
    if type_ == "enumeration":
        return FieldType.MULTI_PICKLIST if field_type == "checkbox" else FieldType.PICKLIST
    if type_ == "number":
        return FieldType.NUMBER
    if type_ == "date":
        return FieldType.DATE
    if type_ == "datetime":
        return FieldType.DATETIME
    if field_type in ("textarea", "html"):
        return FieldType.LONG_TEXT
    return FieldType.TEXT


_PICKLISTS = (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)


def field_spec(prop: Any) -> FieldSpec:
    """One property as a :class:`FieldSpec`. Enumerations are restricted (HubSpot refuses
    values that are not an option's value) and list the option values, not labels."""
    info = property_info(prop)
    kind = field_type_of(info.type, info.field_type)
    meta = _get(prop, "modification_metadata", "modificationMetadata")
    read_only = bool(_get(meta, "read_only_value", "readOnlyValue")) if meta else False
    calculated = bool(_get(prop, "calculated")) or info.field_type == "calculation_equation"
    return FieldSpec(
        name=info.name,
        label=str(_get(prop, "label") or info.name),
        type=kind,
        picklist_values=info.options if kind in _PICKLISTS else (),
        restricted=kind in _PICKLISTS,
        updateable=not (read_only or calculated),
        custom=not bool(_get(prop, "hubspot_defined", "hubspotDefined")),
        external_id=bool(_get(prop, "has_unique_value", "hasUniqueValue")),
    )


def field_specs(properties: Any) -> list[FieldSpec]:
    """Every non-archived property, as specs, in the order HubSpot lists them."""
    return [field_spec(p) for p in properties or [] if not _get(p, "archived")]
