"""Tooling API: creating custom fields (``tooling/sobjects/CustomField``) and querying them.

A field created here has no field-level security, exactly as in a real org: it is absent
from describe, from SOQL and from writes until a ``FieldPermissions`` row on a permission
set assigned to the user grants it. That is the trap relcrm's provisioning must handle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.org import Org, now
from relcrm.sandbox.salesforce.schema import FieldDef, ObjectDef

_NAME_RE = re.compile(r"^[A-Za-z](?!.*__)[A-Za-z0-9_]*(?<!_)$")


def _field_from_metadata(name: str, meta: dict[str, Any]) -> FieldDef:
    kind = str(meta.get("type") or "")
    label = str(meta.get("label") or "")
    if not label:
        raise SfError("REQUIRED_FIELD_MISSING", "Required field is missing: label", ["label"])
    if len(label) > 40:
        raise SfError("STRING_TOO_LONG", "Label: data value too large (max length=40)", ["label"])
    common: dict[str, Any] = {
        "custom": True,
        "requires_fls": True,
        "external_id": bool(meta.get("externalId")),
        "unique": bool(meta.get("unique")),
        "case_sensitive": bool(meta.get("caseSensitive")),
        "inline_help_text": meta.get("inlineHelpText"),
        "description": meta.get("description"),
        "nillable": not meta.get("required"),
    }
    if meta.get("externalId"):
        common["id_lookup"] = True

    def length(default: int | None, low: int, high: int) -> int:
        raw = meta.get("length", default)
        if raw is None:
            raise SfError("FIELD_INTEGRITY_EXCEPTION", "Length: You must enter a value", ["length"])
        value = int(raw)
        if not low <= value <= high:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Length: The length must be between {low} and {high}",
                ["length"],
            )
        return value

    if kind == "Text":
        return FieldDef(name, label, "string", length=length(None, 1, 255), **common)
    if kind == "TextArea":
        return FieldDef(name, label, "textarea", length=255, **common)
    if kind in ("LongTextArea", "Html"):
        common["nillable"] = True
        return FieldDef(
            name,
            label,
            "textarea",
            length=length(32768, 256, 131072),
            extra_type_info="plaintextarea" if kind == "LongTextArea" else "richtextarea",
            visible_lines=int(meta.get("visibleLines") or 3),
            **common,
        )
    if kind in ("Email", "Phone", "Url"):
        return FieldDef(
            name,
            label,
            kind.lower(),
            length=80 if kind == "Email" else 255 if kind == "Url" else 40,
            **common,
        )
    if kind in ("Number", "Percent", "Currency"):
        precision = int(meta.get("precision", 18))
        scale = int(meta.get("scale", 0))
        if not 1 <= precision <= 18 or not 0 <= scale <= precision:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "The sum of the length and decimal places must be an integer less than or equal"
                " to 18",
                ["precision"],
            )
        sf_type = {"Number": "double", "Percent": "percent", "Currency": "currency"}[kind]
        return FieldDef(name, label, sf_type, precision=precision, scale=scale, **common)
    if kind == "Checkbox":
        default = meta.get("defaultValue")
        if default is None:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Checkbox fields require a default value: specify defaultValue true or false",
                ["defaultValue"],
            )
        common["nillable"] = False
        return FieldDef(
            name,
            label,
            "boolean",
            defaulted_on_create=True,
            default_value=str(default).lower() == "true",
            **common,
        )
    if kind in ("Date", "DateTime"):
        return FieldDef(name, label, kind.lower(), **common)
    if kind in ("Picklist", "MultiselectPicklist"):
        value_set = meta.get("valueSet") or {}
        definition = value_set.get("valueSetDefinition") or {}
        values = [v for v in definition.get("value") or [] if isinstance(v, dict)]
        if not values:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION", "Picklist must have at least one value", ["valueSet"]
            )
        names = tuple(str(v.get("fullName") or v.get("label")) for v in values)
        if len(names) > 1000 or any(len(n) > 255 for n in names):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "A restricted picklist has at most 1000 values of 255 characters",
                ["valueSet"],
            )
        default = next((str(v.get("fullName")) for v in values if v.get("default")), None)
        return FieldDef(
            name,
            label,
            "picklist" if kind == "Picklist" else "multipicklist",
            length=255 if kind == "Picklist" else 4099,
            picklist=names,
            picklist_default=default,
            restricted=bool(value_set.get("restricted")),
            **common,
        )
    raise SfError(
        "FIELD_INTEGRITY_EXCEPTION",
        f"The sandbox does not support custom field type '{kind}'",
        ["type"],
    )


def create_custom_field(org: Org, body: dict[str, Any]) -> dict[str, Any]:
    """Handle ``POST tooling/sobjects/CustomField``; returns the 201 body."""
    full_name = str(body.get("FullName") or "")
    meta = body.get("Metadata")
    if not full_name or not isinstance(meta, dict):
        raise SfError(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [FullName, Metadata]",
            ["FullName", "Metadata"],
        )
    object_name, _, api_name = full_name.partition(".")
    with org.lock:
        obj = org.object_def(object_name)
        if obj is None:
            raise SfError(
                "INVALID_CROSS_REFERENCE_KEY",
                f"In field: FullName - no CustomObject named {object_name} found",
                [],
            )
        if not api_name.endswith("__c"):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION", "Custom field names must end with __c", ["FullName"]
            )
        developer = api_name[:-3]
        if not _NAME_RE.match(developer) or len(developer) > 40:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "The Field Name field can only contain underscores and alphanumeric characters."
                " It must be unique, begin with a letter, not include spaces, not end with an"
                " underscore, and not contain two consecutive underscores.",
                ["FullName"],
            )
        if obj.field_ci(api_name) is not None:
            raise SfError(
                "DUPLICATE_DEVELOPER_NAME",
                f"There is already a field named {developer} on {obj.name}.",
                [],
            )
        fdef = _field_from_metadata(api_name, meta)
        field_id = org.ids.new("00N")
        fdef.tooling_id = field_id
        obj.add(fdef)
        register_tooling_row(org, obj, fdef, meta)
        org._dirty = True
    return {"id": field_id, "success": True, "errors": [], "warnings": [], "infos": []}


def register_tooling_row(
    org: Org, obj: ObjectDef, fdef: FieldDef, meta: dict[str, Any] | None = None
) -> str:
    """Make a custom field visible to ``tooling/query`` (fields made any way)."""
    field_id = fdef.tooling_id or org.ids.new("00N")
    fdef.tooling_id = field_id
    stamp = now()
    metadata = dict(meta or {"label": fdef.label, "type": fdef.type})
    metadata.setdefault("description", fdef.description)
    metadata.setdefault("inlineHelpText", fdef.inline_help_text)
    metadata.setdefault("externalId", fdef.external_id)
    metadata.setdefault("required", not fdef.nillable and fdef.type != "boolean")
    metadata.setdefault("unique", fdef.unique)
    org.custom_fields[field_id] = {
        "Id": field_id,
        "DeveloperName": fdef.name[:-3],
        "TableEnumOrId": obj.name if not obj.custom else obj.key_prefix + "000000000000AAA",
        "NamespacePrefix": None,
        "ManageableState": "unmanaged",
        "FullName": f"{obj.name}.{fdef.name}",
        "Metadata": metadata,
        "Description": fdef.description,
        "CreatedDate": stamp,
        "LastModifiedDate": stamp,
    }
    return field_id


def delete_custom_field(org: Org, field_id: str) -> None:
    """``DELETE tooling/sobjects/CustomField/{id}``: drop the field and its permissions."""
    with org.lock:
        row = org.custom_fields.pop(field_id, None)
        if row is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        object_name, _, api_name = str(row["FullName"]).partition(".")
        obj = org.object_def(object_name)
        if obj is not None:
            obj.fields.pop(api_name, None)
            for rows in org.records.values():
                for record in rows.values():
                    record.pop(api_name, None)
        for perm_id, perm in list(org.records["FieldPermissions"].items()):
            if str(perm.get("Field", "")).lower() == str(row["FullName"]).lower():
                org._drop_row("FieldPermissions", perm_id)
        org._dirty = True


class ToolingCatalog:
    """The SOQL catalog of the Tooling API (``CustomField``)."""

    def __init__(self, org: Org, version: str) -> None:
        self.org = org
        self.version = version

    def object_def(self, name: str) -> ObjectDef | None:
        return self.org.tooling_objects.get(name.lower())

    def visible_field(self, obj: ObjectDef, name: str) -> FieldDef | None:
        return obj.field_ci(name)

    def visible_fields(self, obj: ObjectDef) -> list[FieldDef]:
        return list(obj.fields.values())

    def rows(self, obj: ObjectDef, include_deleted: bool) -> Iterable[dict[str, Any]]:
        return list(self.org.custom_fields.values()) if obj.name == "CustomField" else []

    def get_row(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None:
        row = self.org.custom_fields.get(record_id)
        if row is None:
            return None
        return self.org.tooling_objects["customfield"], row

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, FieldDef] | None:
        return None

    def record_url(self, obj: ObjectDef, record_id: str) -> str:
        return f"/services/data/v{self.version}/tooling/sobjects/{obj.name}/{record_id}"
