"""Creating relcrm's property group and properties on a HubSpot object.

Provisioning is a plan (reads only) and its application, each step skipped when it is
already done, so a second run changes nothing:

1. create the ``relcrm`` property group if it is missing;
2. create the missing properties with the right ``type``/``fieldType`` and, for
   picklists, one option per value (the value is both option value and label, so the
   value relcrm writes is the value HubSpot stores);
3. add options missing from an existing relcrm picklist (options are never removed).

A property that exists with another type is reported as a conflict, never changed.
``dry_run=True`` computes the same plan and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hubspot.crm.properties import (
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
    PropertyUpdate,
)

from relcrm.connectors.hubspot.client import sdk_method
from relcrm.connectors.hubspot.describe import field_spec, property_info
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionChange, ProvisionPlan

if TYPE_CHECKING:
    from relcrm.connectors.hubspot.client import HubSpotClient

GROUP_NAME = "relcrm"
GROUP_LABEL = "relcrm"
MAX_NAME = 100
"""Property-name limit relcrm holds itself to. HubSpot's own figure is not documented in
``reference/crm-api-facts.md``; 100 keeps well inside any limit seen in practice."""
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

HUBSPOT_TYPES: dict[FieldType, tuple[str, str]] = {
    FieldType.TEXT: ("string", "text"),
    FieldType.LONG_TEXT: ("string", "textarea"),
    FieldType.NUMBER: ("number", "number"),
    FieldType.PERCENT: ("number", "number"),
    FieldType.CHECKBOX: ("bool", "booleancheckbox"),
    FieldType.DATE: ("date", "date"),
    FieldType.DATETIME: ("datetime", "date"),
    FieldType.PICKLIST: ("enumeration", "select"),
    FieldType.MULTI_PICKLIST: ("enumeration", "checkbox"),
}
"""relcrm field type -> HubSpot (type, fieldType)."""


def property_name(spec: FieldSpec) -> str:
    """The HubSpot name for a spec: lower-case ASCII letters, digits and underscores,
    starting with a letter, not ``hs_`` (HubSpot's own prefix), at most ``MAX_NAME``."""
    name = spec.name.lower()
    if not _NAME.match(name) or name.startswith("hs_") or len(name) > MAX_NAME:
        raise ConfigurationError(
            f"{spec.name!r} cannot be a HubSpot property name",
            hint=f"use ASCII letters, digits and underscores, at most {MAX_NAME} characters,"
            " starting with a letter and not with hs_",
        )
    return name


def property_create(spec: FieldSpec, *, group: str = GROUP_NAME) -> PropertyCreate:
    """The ``PropertyCreate`` body for one spec."""
    type_, field_type = HUBSPOT_TYPES[spec.type]
    options = None
    if spec.type in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST):
        if not spec.picklist_values:
            raise ConfigurationError(f"picklist {spec.name!r} needs at least one value")
        options = [
            OptionInput(label=v, value=v, display_order=i, hidden=False)
            for i, v in enumerate(spec.picklist_values)
        ]
    elif spec.type is FieldType.CHECKBOX:
        options = [
            OptionInput(label="Yes", value="true", display_order=0, hidden=False),
            OptionInput(label="No", value="false", display_order=1, hidden=False),
        ]
    return PropertyCreate(
        name=property_name(spec),
        label=spec.label,
        type=type_,
        field_type=field_type,
        group_name=group,
        options=options,
        has_unique_value=spec.external_id or None,
        form_field=False,
    )


@dataclass
class HubSpotPlan:
    """What provisioning does (or, after a dry run, would do), in HubSpot's terms;
    :meth:`neutral` says it in relcrm's (:class:`relcrm.models.ProvisionPlan`)."""

    object_name: str
    create_group: bool = False
    create: list[FieldSpec] = field(default_factory=list)
    add_options: dict[str, list[str]] = field(default_factory=dict)
    """Existing picklists and the values they lack."""
    conflicts: list[str] = field(default_factory=list)
    """Properties that exist with another type: reported, never changed."""

    @property
    def empty(self) -> bool:
        return not (self.create_group or self.create or self.add_options)

    def neutral(self) -> ProvisionPlan:
        """The plan in connector-neutral words, as ``relcrm fields plan`` prints it."""
        changes: list[ProvisionChange] = []
        if self.create_group:
            changes.append(ProvisionChange(description="create the relcrm property group"))
        for name, values in self.add_options.items():
            changes.append(
                ProvisionChange(
                    description=f"add options {', '.join(values)} to {name}", fields=(name,)
                )
            )
        return ProvisionPlan(
            object_name=self.object_name,
            create=tuple(self.create),
            changes=tuple(changes),
            conflicts=tuple(self.conflicts),
        )


class Provisioner:
    """Plans and applies property provisioning on one portal."""

    def __init__(self, client: HubSpotClient, *, group: str = GROUP_NAME) -> None:
        self.client = client
        self.group = group

    def _properties(self, object_name: str) -> dict[str, Any]:
        answer = self.client.call(
            f"list {object_name} properties",
            lambda sdk: sdk.crm.properties.core_api.get_all_with_http_info(object_name),
        )
        return {str(p.name): p for p in answer.results or [] if not p.archived}

    def _groups(self, object_name: str) -> set[str]:
        answer = self.client.call(
            f"list {object_name} property groups",
            lambda sdk: sdk.crm.properties.groups_api.get_all_with_http_info(object_name),
        )
        return {str(g.name) for g in answer.results or [] if not getattr(g, "archived", False)}

    def plan(self, object_name: str, specs: Sequence[FieldSpec]) -> HubSpotPlan:
        """What is missing; reads only (two requests)."""
        wanted = [(property_name(s), s) for s in specs if s.custom]
        plan = HubSpotPlan(object_name)
        plan.create_group = self.group not in self._groups(object_name)
        existing = self._properties(object_name)
        for name, spec in wanted:
            found = existing.get(name)
            if found is None:
                plan.create.append(spec.model_copy(update={"name": name}))
                continue
            seen = field_spec(found)
            # a percent is provisioned as a number: that number is the percent asked for
            if HUBSPOT_TYPES.get(seen.type) != HUBSPOT_TYPES.get(spec.type):
                plan.conflicts.append(
                    f"{object_name}.{name} is {seen.type.value}, wanted {spec.type.value}"
                )
            elif spec.type in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST):
                missing = [v for v in spec.picklist_values if v not in seen.picklist_values]
                if missing:
                    plan.add_options[name] = missing
        return plan

    def apply(self, object_name: str, specs: Sequence[FieldSpec]) -> HubSpotPlan:
        """Carry out the plan; returns the plan carried out."""
        plan = self.plan(object_name, specs)
        if plan.create_group:
            body = PropertyGroupCreate(name=self.group, label=GROUP_LABEL, display_order=-1)
            self.client.call(
                f"create property group {self.group}",
                lambda sdk: sdk.crm.properties.groups_api.create_with_http_info(object_name, body),
            )
        for spec in plan.create:
            create = property_create(spec, group=self.group)
            self.client.call(
                f"create property {object_name}.{spec.name}",
                sdk_method("crm.properties.core_api.create_with_http_info", object_name, create),
            )
        if plan.add_options:
            existing = self._properties(object_name)
            for name, missing in plan.add_options.items():
                info = property_info(existing[name])
                values = [*info.options, *missing]
                labels = [*info.option_labels, *missing]
                update = PropertyUpdate(
                    options=[
                        OptionInput(label=lab, value=val, display_order=i, hidden=False)
                        for i, (lab, val) in enumerate(zip(labels, values, strict=True))
                    ]
                )
                self.client.call(
                    f"add options to {object_name}.{name}",
                    sdk_method(
                        "crm.properties.core_api.update_with_http_info", object_name, name, update
                    ),
                )
        return plan
