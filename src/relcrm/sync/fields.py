"""The admin's fields workflow: check a mapping against the live CRM, plan, apply.

:func:`check_mapping` is pure (a mapping and a describe result in, problems out) so it
is tested without a CRM and gives the same answer before and after provisioning.
:func:`plan_fields` and :func:`apply_fields` go through the connector's own
provisioning, so relcrm has one way of creating fields, whether the demo, the admin or
a script asks; what provisioning cannot do (shorten a field, change its type) is
listed as a change to make by hand instead of being attempted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relcrm.connectors import Connector
from relcrm.mapping import FieldMapping, Mapping, require_supported
from relcrm.models import FieldSpec, FieldType, ProvisionPlan

APPLY = "run `relcrm fields plan`, then `relcrm fields apply`"


class Severity(StrEnum):
    ERROR = "error"
    """Writes to the field would fail (or never happen): fix before syncing."""
    WARNING = "warning"
    """Writes succeed, but not as the mapping intends (a value outside an open picklist)."""


class ProblemKind(StrEnum):
    MISSING = "missing"
    TYPE = "type"
    READ_ONLY = "read_only"
    PICKLIST = "picklist"
    LENGTH = "length"
    NUMBER = "number"
    MATCH_KEY = "match_key"


@dataclass(frozen=True)
class MappingProblem:
    """One mapped field that does not fit the CRM: which, what is wrong, how to fix it."""

    field: str
    kind: ProblemKind
    problem: str
    fix: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity}: {self.field}: {self.problem}; fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "problem": self.problem,
            "fix": self.fix,
        }


_COMPATIBLE: dict[FieldType, frozenset[FieldType]] = {
    FieldType.TEXT: frozenset({FieldType.TEXT, FieldType.LONG_TEXT}),
    FieldType.LONG_TEXT: frozenset({FieldType.TEXT, FieldType.LONG_TEXT}),
    FieldType.NUMBER: frozenset({FieldType.NUMBER, FieldType.PERCENT}),
    FieldType.PERCENT: frozenset({FieldType.NUMBER, FieldType.PERCENT}),
    FieldType.CHECKBOX: frozenset({FieldType.CHECKBOX}),
    FieldType.DATE: frozenset({FieldType.DATE}),
    FieldType.DATETIME: frozenset({FieldType.DATETIME}),
    FieldType.PICKLIST: frozenset({FieldType.PICKLIST}),
    FieldType.MULTI_PICKLIST: frozenset({FieldType.MULTI_PICKLIST}),
}
"""Mapping type -> CRM types that accept the values relcrm sends for it."""


def sendable_values(item: FieldMapping) -> tuple[str, ...]:
    """Every picklist value the mapping can send to ``item``, in a stable order.

    A choice source's words after the values map; a restricted mapping holds back words
    outside its picklist, so only those inside count. A free-text source can only be
    bounded by the mapping's own picklist.
    """
    values: list[str] = list(item.picklist)
    if not item.restricted:
        for word in item.choices():
            sent = item.values.get(word, word)
            if sent not in values:
                values.append(sent)
    return tuple(values)


def _check_field(item: FieldMapping, found: FieldSpec) -> list[MappingProblem]:
    problems: list[MappingProblem] = []
    name = item.name

    def add(kind: ProblemKind, problem: str, fix: str, **kw: Any) -> None:
        problems.append(MappingProblem(name, kind, problem, fix, **kw))

    if found.type not in _COMPATIBLE[item.type]:
        add(
            ProblemKind.TYPE,
            f"is a {found.type} field in the CRM, the mapping sends {item.type}",
            f'set type = "{found.type}" in the mapping if that fits {item.source}, or map '
            "another field (relcrm never changes an existing field's type)",
        )
        return problems
    if not found.updateable:
        add(
            ProblemKind.READ_ONLY,
            "is read-only for the integration user",
            "give the integration user edit access to it"
            + (" (`relcrm fields apply` grants it on Salesforce)" if found.custom else "")
            + ", or map a writable field",
        )
    if item.type in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST):
        wanted = sendable_values(item)
        missing = [v for v in wanted if v not in found.picklist_values]
        if missing:
            listed = ", ".join(missing)
            if found.restricted:
                add(
                    ProblemKind.PICKLIST,
                    f"the CRM's restricted picklist lacks {listed}, which relcrm may send "
                    "(the CRM rejects the whole record)",
                    f"add {listed} to the picklist (`relcrm fields apply` adds them on "
                    "HubSpot), or map them onto existing values with values = {...}",
                )
            else:
                add(
                    ProblemKind.PICKLIST,
                    f"the CRM's picklist lacks {listed}; they would be stored as values "
                    "outside the list",
                    f"add {listed} to the picklist, or map them with values = {{...}}",
                    severity=Severity.WARNING,
                )
    text = item.type in (FieldType.TEXT, FieldType.LONG_TEXT)
    if text and item.length and found.length and found.length < item.length:
        add(
            ProblemKind.LENGTH,
            f"holds {found.length} characters, the mapping sends up to {item.length} "
            "(the CRM rejects longer values)",
            f"raise the field's length to {item.length} in the CRM, or set "
            f"length = {found.length} in the mapping (relcrm then cuts texts to fit)",
        )
    if item.type in (FieldType.NUMBER, FieldType.PERCENT) and found.precision is not None:
        mine_int = (item.precision or 18) - (item.scale or 0)
        theirs_scale = found.scale or 0
        theirs_int = found.precision - theirs_scale
        if theirs_int < mine_int:
            add(
                ProblemKind.NUMBER,
                f"holds {theirs_int} digits before the point (number({found.precision}, "
                f"{theirs_scale})), the mapping allows {mine_int}",
                f"raise the field's precision to {theirs_scale + mine_int} in the CRM, or set "
                f"precision = {theirs_int + (item.scale or 0)} in the mapping",
            )
        if item.scale is not None and theirs_scale < item.scale:
            add(
                ProblemKind.NUMBER,
                f"keeps {theirs_scale} digits after the point, the mapping sends {item.scale}",
                f"set scale = {theirs_scale} in the mapping, or raise the field's scale in the CRM",
            )
    return problems


def check_mapping(mapping: Mapping, described: Sequence[FieldSpec]) -> list[MappingProblem]:
    """Every way ``mapping`` does not fit the CRM object ``described`` (its describe).

    Pure. For each mapped field: it exists (and is visible), its type takes what relcrm
    sends, it is writable, a picklist has every value relcrm may send, a text is long
    enough, a number has enough digits. A ``match.by`` other than email names a field of
    the object that the CRM marks as an external id (its describe's ``externalId``):
    what persons are matched by, and what records are upserted by. Names are compared
    ignoring case, as CRMs do.
    """
    by_name = {spec.name.casefold(): spec for spec in described}
    problems: list[MappingProblem] = []
    if mapping.match.by_external_id:
        problems.extend(_check_match_key(mapping, by_name))
    for item in mapping.fields:
        found = by_name.get(item.name.casefold())
        if found is None:
            suffixed = by_name.get(f"{item.name}__c".casefold())
            fix = (
                f'set name = "{suffixed.name}" in the mapping'
                if suffixed is not None
                else f"{APPLY} to create it (or make it visible), or correct the name"
            )
            problems.append(
                MappingProblem(
                    item.name,
                    ProblemKind.MISSING,
                    f"not found on {mapping.object} (or not visible to the integration user)",
                    fix,
                )
            )
            continue
        problems.extend(_check_field(item, found))
    return problems


def _check_match_key(mapping: Mapping, by_name: dict[str, FieldSpec]) -> list[MappingProblem]:
    key = mapping.match.by
    found = by_name.get(key.casefold())
    if found is None:
        return [
            MappingProblem(
                "match.by",
                ProblemKind.MATCH_KEY,
                f"{key} is not a field of {mapping.object} (or not visible to the integration "
                "user): persons are matched by it",
                "create it as an External ID field holding each person's relcrm id (or make "
                "it visible), or correct match.by",
            )
        ]
    if not found.external_id:
        use = "matched and created" if mapping.match.create_missing else "matched"
        return [
            MappingProblem(
                "match.by",
                ProblemKind.MATCH_KEY,
                f"{found.name} is not an external id field of {mapping.object}; persons are "
                f"{use} by it",
                "mark the field External ID (Salesforce) / unique (HubSpot, Zoho) / an "
                "alternate key (Dataverse) in the CRM, or set match.by to a field that is one",
            )
        ]
    return []


def has_errors(problems: Sequence[MappingProblem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)


# --------------------------------------------------------------------------- plan & apply


@dataclass
class FieldsPlan:
    """What ``relcrm fields apply`` would do on one target, and what it cannot do."""

    object_name: str
    create: list[FieldSpec] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    """Changes provisioning makes besides creating fields (grants, picklist options...)."""
    by_hand: list[MappingProblem] = field(default_factory=list)
    """Problems provisioning leaves alone (a field too short, of another type...)."""
    conflicts: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    """Fields (case-folded names) whose access or options the plan changes."""

    @property
    def empty(self) -> bool:
        return not (self.create or self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "create": [describe_spec(s) for s in self.create],
            "changes": list(self.changes),
            "conflicts": list(self.conflicts),
            "by_hand": [p.to_json() for p in self.by_hand],
        }


def describe_spec(spec: FieldSpec) -> str:
    """A field in one line: ``relcrm_Health__c number(5, 1) "relcrm Health"``."""
    shape = str(spec.type)
    if spec.length is not None:
        shape += f"({spec.length})"
    elif spec.precision is not None:
        shape += f"({spec.precision}, {spec.scale or 0})"
    elif spec.picklist_values:
        kind = "restricted" if spec.restricted else "open"
        shape += f" [{kind}: {', '.join(spec.picklist_values)}]"
    return f'{spec.name} {shape} "{spec.label}"'


def provisionable_specs(mapping: Mapping, described: Sequence[FieldSpec]) -> list[FieldSpec]:
    """The mapping's fields as specs, with the CRM's own (standard) fields marked as not
    custom: provisioning leaves those alone instead of refusing their names (``hs_``)."""
    standard = {s.name.casefold() for s in described if not s.custom}
    return [
        s.model_copy(update={"custom": False}) if s.name.casefold() in standard else s
        for s in mapping.field_specs()
    ]


def fields_plan(plan: ProvisionPlan) -> FieldsPlan:
    """A connector's neutral provisioning plan as the admin's :class:`FieldsPlan`: the
    fields to create, the other changes in the connector's words, the fields those
    changes touch (their access or options), and the conflicts."""
    return FieldsPlan(
        plan.object_name,
        create=list(plan.create),
        changes=[change.description for change in plan.changes],
        conflicts=list(plan.conflicts),
        touched=set(plan.touched),
    )


def _provisioning_plan(
    connector: Connector, mapping: Mapping, specs: Sequence[FieldSpec]
) -> FieldsPlan:
    """The connector's dry-run plan, read only."""
    return fields_plan(connector.plan_provisioning(mapping.object, specs))


def plan_fields(connector: Connector, mapping: Mapping) -> FieldsPlan:
    """What applying would create or change on the CRM, and what it leaves to the admin.

    Reads only: the connector's dry-run provisioning plan plus a describe. A mapping that
    asks for what the connector cannot do is refused first (``config.unsupported_mapping``).
    """
    require_supported(mapping, connector.capabilities)
    described = connector.describe(mapping.object)
    plan = _provisioning_plan(connector, mapping, provisionable_specs(mapping, described))
    problems = check_mapping(mapping, described)
    created = {s.name.casefold() for s in plan.create}
    plan.by_hand = [p for p in problems if not _fixed_by(plan, created, p)]
    for other in mapping.match.fallback:
        also = _fallback_plan(connector, mapping, other)
        if not also.empty:
            # org-wide steps (the permission set and its assignment) are said once
            extra = [change for change in also.changes if change not in plan.changes]
            plan.changes.append(
                f"on {other} (persons matched there are written too): create "
                f"{len(also.create)} fields" + "".join(f", {change}" for change in extra)
            )
    return plan


def _fallback_plan(connector: Connector, mapping: Mapping, object_name: str) -> FieldsPlan:
    """The plan for a ``match.fallback`` object: the same fields, since the engine writes
    a person matched there into that object."""
    there = mapping.model_copy(update={"object": object_name})
    specs = provisionable_specs(there, connector.describe(object_name))
    return _provisioning_plan(connector, there, specs)


def _fixed_by(plan: FieldsPlan, created: set[str], problem: MappingProblem) -> bool:
    """Whether applying ``plan`` makes ``problem`` go away."""
    name = problem.field.casefold()
    if problem.kind is ProblemKind.MISSING:
        return name in created or f"{name}__c" in created or name in plan.touched
    return problem.kind in (ProblemKind.READ_ONLY, ProblemKind.PICKLIST) and name in plan.touched


@dataclass
class FieldsApplied:
    """What ``apply_fields`` did, and the check made afterwards."""

    plan: FieldsPlan
    created: list[FieldSpec]
    problems: list[MappingProblem]
    """The mapping checked against the CRM after provisioning."""


def apply_fields(connector: Connector, mapping: Mapping) -> FieldsApplied:
    """Create the mapping's missing fields through the connector's provisioning (which
    also grants access and adds picklist options), then check the mapping again."""
    plan = plan_fields(connector, mapping)
    specs = provisionable_specs(mapping, connector.describe(mapping.object))
    created = connector.provision(mapping.object, specs) if not plan.empty else []
    for other in mapping.match.fallback:
        there = mapping.model_copy(update={"object": other})
        if not _fallback_plan(connector, mapping, other).empty:
            connector.provision(other, provisionable_specs(there, connector.describe(other)))
    problems = check_mapping(mapping, connector.describe(mapping.object))
    return FieldsApplied(plan=plan, created=list(created), problems=problems)


__all__ = [
    "FieldsApplied",
    "FieldsPlan",
    "MappingProblem",
    "ProblemKind",
    "Severity",
    "apply_fields",
    "check_mapping",
    "describe_spec",
    "fields_plan",
    "has_errors",
    "plan_fields",
    "provisionable_specs",
    "sendable_values",
]
