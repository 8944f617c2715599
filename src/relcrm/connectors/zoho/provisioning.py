"""Creating relcrm's custom fields on a Zoho CRM module.

A plan (reads only: one field-metadata call) and its application, each step skipped when
it is already done, so a second run changes nothing:

1. create the missing fields (``POST /crm/v8/settings/fields?module=``, at most five a
   call, all or nothing per call), each with its ``api_name``, ``field_label`` and the
   ``data_type`` for its relcrm type; a picklist gets one value per word, the value being
   both ``actual_value`` and ``display_value`` so what relcrm writes is what Zoho stores;
   a spec marked ``external_id`` becomes a unique field (matching and upserts key on it);
2. add the values an existing picklist lacks (``PATCH /settings/fields/{id}?module=``;
   values are never removed).

A field that exists with another type is reported as a conflict, never changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from relcrm.connectors.errors import RequestRejected
from relcrm.connectors.zoho.describe import field_info, field_spec
from relcrm.connectors.zoho.errors import describe_problem
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionChange, ProvisionPlan

if TYPE_CHECKING:
    from relcrm.connectors.zoho.client import ZohoClient

MAX_NAME = 50
"""API names relcrm gives custom fields (ASCII letters, digits, underscores)."""
MAX_LABEL = 25
"""Field labels (the create-field body's limit as a derived schema of Zoho's states it)."""
MAX_PER_CALL = 5
TEXT_MAX = 255
LARGE_TEXTAREA = 32000
INTEGER_DIGITS = 9
BIGINT_DIGITS = 18
DOUBLE_DIGITS = 16
PERCENT_DIGITS = 5
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FAMILIES: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "text",
    FieldType.NUMBER: "number",
    FieldType.PERCENT: "number",
    FieldType.CHECKBOX: "checkbox",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.PICKLIST: "picklist",
}


def check_spec(spec: FieldSpec) -> None:
    """Refuse, before any call, a spec Zoho cannot take as a custom field."""
    if not _NAME.match(spec.name) or len(spec.name) > MAX_NAME:
        raise ConfigurationError(
            f"{spec.name!r} cannot be a Zoho CRM field API name",
            hint=f"use ASCII letters, digits and underscores, at most {MAX_NAME} characters, "
            "starting with a letter",
            code="zoho.field_unsupported",
        )
    if len(spec.label) > MAX_LABEL:
        raise ConfigurationError(
            f"the label of {spec.name} has {len(spec.label)} characters; Zoho takes {MAX_LABEL}",
            hint=f"set a label of at most {MAX_LABEL} characters in the mapping",
            code="zoho.field_unsupported",
        )
    if spec.type is FieldType.TEXT and (spec.length or 0) > TEXT_MAX:
        raise ConfigurationError(
            f"{spec.name} wants {spec.length} characters; a Zoho single-line field holds "
            f"{TEXT_MAX}",
            hint='use type = "long_text" for longer texts',
            code="zoho.field_unsupported",
        )
    if spec.type is FieldType.PICKLIST and not spec.picklist_values:
        raise ConfigurationError(f"picklist {spec.name!r} needs at least one value")


def field_body(spec: FieldSpec) -> dict[str, Any]:
    """The create-field body of one spec."""
    check_spec(spec)
    body: dict[str, Any] = {"api_name": spec.name, "field_label": spec.label}
    kind = spec.type
    if kind is FieldType.TEXT:
        body.update(data_type="text", length=min(spec.length or TEXT_MAX, TEXT_MAX))
    elif kind is FieldType.LONG_TEXT:
        body.update(data_type="textarea", textarea={"type": "large"})
    elif kind is FieldType.CHECKBOX:
        body.update(data_type="boolean")
    elif kind is FieldType.DATE:
        body.update(data_type="date")
    elif kind is FieldType.DATETIME:
        body.update(data_type="datetime")
    elif kind is FieldType.PICKLIST:
        body.update(
            data_type="picklist",
            pick_list_values=[
                {"display_value": v, "actual_value": v} for v in spec.picklist_values
            ],
        )
    elif kind is FieldType.PERCENT:
        places = spec.scale if spec.scale is not None else 2
        body.update(
            data_type="percent",
            length=min(max(spec.precision or PERCENT_DIGITS, places + 1), PERCENT_DIGITS),
            decimal_place=places,
        )
    elif not spec.scale:
        digits = spec.precision or INTEGER_DIGITS
        if digits <= INTEGER_DIGITS:
            body.update(data_type="integer", length=digits)
        else:
            body.update(data_type="bigint", length=min(digits, BIGINT_DIGITS))
    else:
        body.update(
            data_type="double",
            length=min(max(spec.precision or DOUBLE_DIGITS, spec.scale + 1), DOUBLE_DIGITS),
            decimal_place=spec.scale,
        )
    if spec.external_id:
        body["unique"] = {"casesensitive": "false"}
    return body


class Provisioner:
    """Plans and applies custom fields on one org."""

    def __init__(self, client: ZohoClient) -> None:
        self.client = client

    def fields(self, module: str) -> dict[str, Mapping[str, Any]]:
        """The module's fields by API name, case-folded (one call)."""
        answer = self.client.call(
            f"list {module} fields", "GET", "/settings/fields", params={"module": module}
        )
        raw = (answer or {}).get("fields") or []
        return {str(f.get("api_name")).casefold(): f for f in raw if isinstance(f, Mapping)}

    def plan(self, module: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What is missing or lacks values; reads only."""
        wanted = [s for s in specs if s.custom]
        for spec in wanted:
            check_spec(spec)
        existing = self.fields(module)
        create: list[FieldSpec] = []
        changes: list[ProvisionChange] = []
        conflicts: list[str] = []
        for spec in wanted:
            found = existing.get(spec.name.casefold())
            if found is None:
                create.append(spec)
                continue
            seen = field_spec(found)
            if _FAMILIES[seen.type] != _FAMILIES[spec.type]:
                conflicts.append(
                    f"{module}.{seen.name} is {seen.type.value}, wanted {spec.type.value}"
                )
            elif spec.type is FieldType.PICKLIST:
                missing = [v for v in spec.picklist_values if v not in seen.picklist_values]
                if missing:
                    changes.append(
                        ProvisionChange(
                            description=f"add options {', '.join(missing)} to {seen.name}",
                            fields=(seen.name,),
                        )
                    )
        return ProvisionPlan(
            object_name=module,
            create=tuple(create),
            changes=tuple(changes),
            conflicts=tuple(conflicts),
        )

    def apply(self, module: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """Carry the plan out; returns the plan carried out."""
        plan = self.plan(module, specs)
        for start in range(0, len(plan.create), MAX_PER_CALL):
            chunk = plan.create[start : start + MAX_PER_CALL]
            self._create(module, chunk)
        if plan.changes:
            existing = self.fields(module)
            by_name = {s.name.casefold(): s for s in specs}
            for change in plan.changes:
                for name in change.fields:
                    found = existing.get(name.casefold())
                    spec = by_name.get(name.casefold())
                    if found is None or spec is None:
                        continue
                    info = field_info(found)
                    missing = [v for v in spec.picklist_values if v not in info.picklist]
                    if missing:
                        self._add_values(module, info.id, info.api_name, missing)
        return plan

    def _create(self, module: str, chunk: Sequence[FieldSpec]) -> None:
        answer = self.client.call(
            f"create {module} fields {', '.join(s.name for s in chunk)}",
            "POST",
            "/settings/fields",
            params={"module": module},
            json_body={"fields": [field_body(s) for s in chunk]},
            per_record="fields",
        )
        results = (answer or {}).get("fields") or []
        problems = [
            f"{spec.name}: {r.get('code')}: {describe_problem(r)}"
            for spec, r in zip(chunk, results, strict=False)
            if isinstance(r, Mapping) and r.get("status") != "success"
        ]
        if problems:
            raise RequestRejected(
                f"Zoho CRM refused to create fields on {module}: " + "; ".join(problems),
                vendor_code=str(results[0].get("code")) if results else None,
            )

    def _add_values(self, module: str, field_id: str, name: str, values: Sequence[str]) -> None:
        self.client.call(
            f"add picklist values to {module}.{name}",
            "PATCH",
            f"/settings/fields/{field_id}",
            params={"module": module},
            json_body={
                "fields": [
                    {
                        "id": field_id,
                        "pick_list_values": [
                            {"display_value": v, "actual_value": v} for v in values
                        ],
                    }
                ]
            },
        )
