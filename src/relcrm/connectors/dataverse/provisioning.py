"""Creating relcrm's columns, choice options and alternate keys on a Dataverse table.

Provisioning is a plan (reads only) and its application, each step skipped when it is
already done, so a second run changes nothing:

1. create each missing column with ``POST EntityDefinitions(LogicalName='contact')/Attributes``
   and the header ``MSCRM.SolutionUniqueName`` (the column joins relcrm's solution; its
   name must start with that solution's publisher prefix, ``relcrm_``). The bodies follow
   Microsoft's transcripts [doc: create-update-column-definitions-using-web-api]: text is
   ``StringAttributeMetadata`` (``MaxLength``, ``FormatName`` Text), long text
   ``MemoAttributeMetadata``, a number with no digits after the point
   ``IntegerAttributeMetadata`` (``MinValue``/``MaxValue`` from its precision), other
   numbers ``DecimalAttributeMetadata`` (``Precision`` = relcrm's scale), a checkbox
   ``BooleanAttributeMetadata`` (Yes/No options), dates ``DateTimeAttributeMetadata``
   (``DateOnly``, or ``DateAndTime`` kept in UTC), a picklist
   ``PicklistAttributeMetadata`` with a local option set whose labels are relcrm's words
   (Dataverse numbers the options from the publisher's option value prefix);
2. add options missing from an existing relcrm choice column (``InsertOptionValue``;
   options are never removed);
3. for a field marked as an external id (the person id relcrm matches by), create an
   alternate key on it (``POST …/Keys``) and wait until Dataverse has indexed it: a new key
   is Pending, then InProgress, then Active [sample: microsoft/PowerApps-Samples
   ``BulkOperations/Utility.cs`` polls it the same way]; a key that Failed (duplicates
   in the column) stops provisioning with what to fix.

A column that exists with another type is reported as a conflict, never changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relcrm.connectors.dataverse.describe import (
    Column,
    KeyInfo,
    Schema,
    attributes_path,
    field_type_of,
    keys_path,
)
from relcrm.connectors.errors import RequestRejected, TransientError
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionChange, ProvisionPlan

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient
    from relcrm.connectors.dataverse.settings import DataverseSettings

MAX_NAME = 50
"""Column schema-name length relcrm holds itself to (prefix included)."""
STRING_MAX = 4000
MEMO_MAX = 1_048_576
INT_MAX = 2_147_483_647
DECIMAL_LIMIT = 100_000_000_000
DECIMAL_PRECISION_MAX = 10
LANGUAGE = 1033
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$")
ALREADY_EXISTS = "0x80044363"

_COMPATIBLE: dict[FieldType, frozenset[FieldType]] = {
    FieldType.TEXT: frozenset({FieldType.TEXT, FieldType.LONG_TEXT}),
    FieldType.LONG_TEXT: frozenset({FieldType.TEXT, FieldType.LONG_TEXT}),
    FieldType.NUMBER: frozenset({FieldType.NUMBER, FieldType.PERCENT}),
    FieldType.PERCENT: frozenset({FieldType.NUMBER, FieldType.PERCENT}),
    FieldType.CHECKBOX: frozenset({FieldType.CHECKBOX}),
    FieldType.DATE: frozenset({FieldType.DATE}),
    FieldType.DATETIME: frozenset({FieldType.DATETIME}),
    FieldType.PICKLIST: frozenset({FieldType.PICKLIST}),
}


def label(text: str) -> dict[str, Any]:
    localized = {
        "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
        "Label": text,
        "LanguageCode": LANGUAGE,
    }
    return {"@odata.type": "Microsoft.Dynamics.CRM.Label", "LocalizedLabels": [localized]}


def column_name(spec: FieldSpec, prefix: str) -> str:
    """The column's logical name: the spec's name, which must start with ``prefix_``."""
    name = spec.name
    if not _NAME.match(name) or name.split("_", 1)[0].lower() != prefix or len(name) > MAX_NAME:
        raise ConfigurationError(
            f"{name!r} cannot be a relcrm column in Dataverse",
            hint=f"start the name with the publisher prefix {prefix}_ and use ASCII letters, "
            f"digits and underscores, at most {MAX_NAME} characters",
            code="config.invalid",
        )
    return name.lower()


def _number_body(spec: FieldSpec) -> dict[str, Any]:
    """Whole numbers that fit 32 bits are integer columns; the rest decimals, whose
    ``Precision`` (digits after the point) is relcrm's scale and whose range follows from
    relcrm's precision (digits in all)."""
    scale = spec.scale
    if scale == 0 and (spec.precision is None or spec.precision <= 9):
        limit = INT_MAX if spec.precision is None else 10**spec.precision - 1
        return {
            "@odata.type": "Microsoft.Dynamics.CRM.IntegerAttributeMetadata",
            "AttributeType": "Integer",
            "AttributeTypeName": {"Value": "IntegerType"},
            "Format": "None",
            "MinValue": -limit,
            "MaxValue": limit,
        }
    digits = min(scale if scale is not None else 2, DECIMAL_PRECISION_MAX)
    bound = float(DECIMAL_LIMIT)
    if spec.precision is not None:
        bound = min(float(10 ** max(spec.precision - digits, 0)) - 10.0**-digits, bound)
    bound = math.floor(bound * 10**digits) / 10**digits
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.DecimalAttributeMetadata",
        "AttributeType": "Decimal",
        "AttributeTypeName": {"Value": "DecimalType"},
        "Precision": digits,
        "MinValue": -bound,
        "MaxValue": bound,
    }


def attribute_body(spec: FieldSpec, schema_name: str) -> dict[str, Any]:
    """The ``POST …/Attributes`` body for one spec."""
    kind = spec.type
    body: dict[str, Any]
    if kind is FieldType.TEXT:
        body = {
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "AttributeType": "String",
            "AttributeTypeName": {"Value": "StringType"},
            "MaxLength": min(spec.length or 100, STRING_MAX),
            "FormatName": {"Value": "Text"},
        }
    elif kind is FieldType.LONG_TEXT:
        body = {
            "@odata.type": "Microsoft.Dynamics.CRM.MemoAttributeMetadata",
            "AttributeType": "Memo",
            "AttributeTypeName": {"Value": "MemoType"},
            "Format": "TextArea",
            "MaxLength": min(spec.length or 2000, MEMO_MAX),
        }
    elif kind in (FieldType.NUMBER, FieldType.PERCENT):
        body = _number_body(spec)
    elif kind is FieldType.CHECKBOX:
        body = {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
            "AttributeType": "Boolean",
            "AttributeTypeName": {"Value": "BooleanType"},
            "DefaultValue": False,
            "OptionSet": {
                "TrueOption": {"Value": 1, "Label": label("Yes")},
                "FalseOption": {"Value": 0, "Label": label("No")},
                "OptionSetType": "Boolean",
            },
        }
    elif kind in (FieldType.DATE, FieldType.DATETIME):
        date_only = kind is FieldType.DATE
        body = {
            "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
            "AttributeType": "DateTime",
            "AttributeTypeName": {"Value": "DateTimeType"},
            "Format": "DateOnly" if date_only else "DateAndTime",
            "DateTimeBehavior": {"Value": "DateOnly" if date_only else "UserLocal"},
        }
    else:
        if not spec.picklist_values:
            raise ConfigurationError(f"picklist {spec.name!r} needs at least one value")
        body = {
            "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            "AttributeType": "Picklist",
            "AttributeTypeName": {"Value": "PicklistType"},
            "OptionSet": {
                "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
                "IsGlobal": False,
                "OptionSetType": "Picklist",
                "Options": [{"Label": label(value)} for value in spec.picklist_values],
            },
        }
    return {
        **body,
        "SchemaName": schema_name,
        "DisplayName": label(spec.label),
        "Description": label("Written by relcrm: the customer's view of the relationship"),
        "RequiredLevel": {
            "Value": "None",
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    }


def key_name(column: str) -> str:
    return f"{column}_key"[:MAX_NAME]


@dataclass
class Steps:
    """Everything provisioning would do on one table, in Dataverse's terms."""

    object_name: str
    create: list[FieldSpec] = field(default_factory=list)
    add_options: dict[str, list[str]] = field(default_factory=dict)
    create_keys: list[str] = field(default_factory=list)
    """Columns that get an alternate key."""
    await_keys: list[str] = field(default_factory=list)
    """Existing keys (logical names) still being indexed."""
    conflicts: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.add_options or self.create_keys or self.await_keys)

    def neutral(self) -> ProvisionPlan:
        changes = [
            ProvisionChange(
                description=f"add options {', '.join(values)} to {name}", fields=(name,)
            )
            for name, values in self.add_options.items()
        ]
        changes += [
            ProvisionChange(
                description=f"create the alternate key {key_name(name)} on {name} and wait "
                "until Dataverse has indexed it (Active)",
                fields=(name,),
            )
            for name in self.create_keys
        ]
        changes += [
            ProvisionChange(description=f"wait until the alternate key {key} is Active")
            for key in self.await_keys
        ]
        return ProvisionPlan(
            object_name=self.object_name,
            create=tuple(self.create),
            changes=tuple(changes),
            conflicts=tuple(self.conflicts),
        )


class Provisioner:
    """Plans and applies provisioning on one environment."""

    def __init__(self, client: DataverseClient, schema: Schema, settings: DataverseSettings):
        self.client = client
        self.schema = schema
        self.settings = settings

    def plan(self, object_name: str, specs: Sequence[FieldSpec]) -> Steps:
        """What is missing; reads only."""
        prefix = self.settings.publisher_prefix
        wanted = [(column_name(s, prefix), s) for s in specs if s.custom]
        existing: dict[str, Column] = self.schema.columns(object_name, refresh=True)
        keys = self.schema.keys(object_name)
        steps = Steps(object_name)
        for name, spec in wanted:
            found = existing.get(name)
            if found is None:
                steps.create.append(spec.model_copy(update={"name": name}))
                if spec.external_id:
                    steps.create_keys.append(name)
                continue
            seen = field_type_of(found)
            if seen is None or seen not in _COMPATIBLE[spec.type]:
                shown = seen.value if seen is not None else found.kind
                steps.conflicts.append(f"{object_name}.{name} is {shown}, wanted {spec.type.value}")
                continue
            if spec.type is FieldType.PICKLIST:
                have = {text for _, text in found.options}
                missing = [v for v in spec.picklist_values if v not in have]
                if missing:
                    steps.add_options[name] = missing
            if spec.external_id:
                self._plan_key(steps, name, keys)
        return steps

    def _plan_key(self, steps: Steps, name: str, keys: Sequence[KeyInfo]) -> None:
        on_column = [k for k in keys if k.columns == (name,)]
        if not on_column:
            steps.create_keys.append(name)
            return
        key = on_column[0]
        if key.status == "Failed":
            steps.conflicts.append(
                f"{steps.object_name}: the alternate key {key.name} on {name} failed to index "
                "(the column holds duplicate values); remove the duplicates, delete the key "
                "and provision again"
            )
        elif key.status != "Active":
            steps.await_keys.append(key.name)

    def apply(self, object_name: str, specs: Sequence[FieldSpec]) -> Steps:
        """Carry out the plan; returns the plan carried out."""
        steps = self.plan(object_name, specs)
        solution = {"MSCRM.SolutionUniqueName": self.settings.solution_unique_name}
        for spec in steps.create:
            try:
                self.client.request(
                    "POST",
                    attributes_path(object_name),
                    json=attribute_body(spec, spec.name),
                    headers=solution,
                    what=f"create column {object_name}.{spec.name}",
                )
            except RequestRejected as exc:
                if exc.vendor_code != ALREADY_EXISTS:  # created by a call that got no answer
                    raise
        for name, values in steps.add_options.items():
            for value in values:
                self.client.request(
                    "POST",
                    "InsertOptionValue",
                    json={
                        "EntityLogicalName": object_name,
                        "AttributeLogicalName": name,
                        "Label": label(value),
                        "SolutionUniqueName": self.settings.solution_unique_name,
                    },
                    what=f"add an option to {object_name}.{name}",
                )
        awaited = list(steps.await_keys)
        for name in steps.create_keys:
            try:
                self.client.request(
                    "POST",
                    keys_path(object_name),
                    json={
                        "SchemaName": key_name(name),
                        "DisplayName": label(f"{name} (relcrm person id)"),
                        "KeyAttributes": [name],
                    },
                    headers=solution,
                    what=f"create the alternate key on {object_name}.{name}",
                )
            except RequestRejected as exc:
                if exc.vendor_code != ALREADY_EXISTS:
                    raise
            awaited.append(key_name(name))
        for key in awaited:
            self._await_key(object_name, key)
        if not steps.empty:
            self.schema.forget()
        return steps

    def _await_key(self, object_name: str, key: str) -> None:
        """Poll the key's index status until Active (the policy's sleep and clock)."""
        policy = self.client.policy
        polls = max(1, math.ceil(self.settings.key_wait_s / self.settings.key_poll_s))
        deadline = policy.clock() + self.settings.key_wait_s
        status = "Pending"
        for _ in range(polls + 1):
            body = self.client.get_json(
                f"{keys_path(object_name)}(LogicalName='{key}')",
                what=f"read the status of the alternate key {key}",
            )
            status = str(body.get("EntityKeyIndexStatus") or "Pending")
            if status == "Active":
                return
            if status == "Failed":
                raise RequestRejected(
                    f"the alternate key {key} on {object_name} failed to index: the column "
                    "holds duplicate values",
                    vendor_code="EntityKeyIndexStatus=Failed",
                    hint="remove the duplicate values, delete the key in the solution and run "
                    "`relcrm fields apply` again",
                )
            if policy.clock() >= deadline:
                break
            policy.sleep(self.settings.key_poll_s)
        raise TransientError(
            f"the alternate key {key} on {object_name} is still {status} after "
            f"{self.settings.key_wait_s:g} s; Dataverse indexes keys in the background",
            vendor_code="KEY_PENDING",
            hint="run `relcrm fields apply` again later; it waits for the key again",
        )
