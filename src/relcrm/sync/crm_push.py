"""Writing relationship profiles into CRM custom fields: the field set, values, the push.

Until the admin's mapping file exists (issue 5), *what* is written is this module's
:data:`ATTRIBUTES`: a short, fixed list taken from the scoring recipe's suggested CRM
fields, defined once and named per CRM (:data:`SALESFORCE` ``relcrm_Health__c``,
:data:`HUBSPOT` ``relcrm_health``). It is the only thing ever written;
:func:`check_values` refuses anything else, so a bug in value building cannot reach a
field the admin did not agree to.

Consent gates every write: a person without ``consent.granted`` is skipped before
matching, so their records are not even looked up. (Clearing the fields of someone who
withdrew consent after an earlier push needs the sync state of issue 5.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.connectors.hubspot import ProvisionPlan as HubSpotPlan
from relcrm.connectors.salesforce import ProvisionPlan, SalesforceConnector
from relcrm.errors import ConfigurationError
from relcrm.models import (
    Archetype,
    FieldSpec,
    FieldType,
    FieldValue,
    FieldWrite,
    HealthBand,
    Person,
    RecordRef,
    RelationshipProfile,
    Segment,
    TrendDirection,
    WriteOutcome,
    WriteResult,
)

REASONS_LENGTH: Final = 32768
"""Long Text Area size for the reasons: four sentences need far less, the room is cheap."""


@dataclass(frozen=True)
class Attribute:
    """One profile attribute relcrm writes, named neutrally; each CRM derives its own
    field name from :attr:`label` (:func:`salesforce_name`, :func:`hubspot_name`), so the
    two CRMs can never drift apart the way two copied field lists would."""

    key: str
    label: str
    type: FieldType
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False


ATTRIBUTES: Final[tuple[Attribute, ...]] = (
    Attribute("health", "Health", FieldType.NUMBER, precision=5, scale=1),
    Attribute(
        "health_band",
        "Health Band",
        FieldType.PICKLIST,
        picklist_values=tuple(b.value for b in HealthBand),
        restricted=True,
    ),
    Attribute(
        "segment",
        "Segment",
        FieldType.PICKLIST,
        picklist_values=tuple(s.value for s in Segment),
        restricted=True,
    ),
    Attribute(
        "archetype",
        "Archetype",
        FieldType.PICKLIST,
        picklist_values=tuple(a.value for a in Archetype),
    ),
    Attribute(
        "trend", "Trend", FieldType.PICKLIST, picklist_values=tuple(t.value for t in TrendDirection)
    ),
    Attribute("dominant_emotion", "Dominant Emotion", FieldType.TEXT, length=20),
    Attribute("last_nps", "Last NPS", FieldType.NUMBER, precision=2, scale=0),
    Attribute("churn_risk", "Churn Risk", FieldType.CHECKBOX),
    Attribute("escalation", "Escalation", FieldType.CHECKBOX),
    Attribute("reasons", "Reasons", FieldType.LONG_TEXT, length=REASONS_LENGTH),
    Attribute("scored_at", "Scored At", FieldType.DATETIME),
)
"""What relcrm writes on each CRM object until issue 5's mapping file replaces it.

Taken from the recipe's suggested fields (``reference/emotion-and-scoring.md`` 5.4):
the health band and the segment are *restricted* picklists because relcrm owns their
values and a report filters on them; archetype and trend stay open so that a later
model version can add a value without a schema change in every org.
"""


def salesforce_name(attribute: Attribute) -> str:
    """``relcrm_Health_Band__c``: Salesforce custom fields end in ``__c`` and keep case."""
    return "relcrm_" + attribute.label.replace(" ", "_") + "__c"


def hubspot_name(attribute: Attribute) -> str:
    """``relcrm_health_band``: HubSpot property names are lower-case ASCII."""
    return "relcrm_" + attribute.label.lower().replace(" ", "_")


@dataclass(frozen=True)
class Crm:
    """How one CRM names relcrm's attributes and where people live in it."""

    name: str
    naming: Callable[[Attribute], str]
    objects: tuple[str, ...]
    """The objects that hold people, the one writes are addressed to first."""

    def field_name(self, key: str) -> str:
        return self.naming(_BY_KEY[key])

    def field_set(self) -> tuple[FieldSpec, ...]:
        """The attributes as this CRM's field specs."""
        return tuple(
            FieldSpec(
                name=self.naming(a),
                label=f"relcrm {a.label}",
                type=a.type,
                length=a.length,
                precision=a.precision,
                scale=a.scale,
                picklist_values=a.picklist_values,
                restricted=a.restricted,
            )
            for a in ATTRIBUTES
        )

    def field_names(self) -> frozenset[str]:
        return frozenset(self.naming(a) for a in ATTRIBUTES)


_BY_KEY: Final = {a.key: a for a in ATTRIBUTES}

SALESFORCE: Final = Crm("salesforce", salesforce_name, ("Contact", "Lead"))
"""Contact first, Lead for those who are not customers yet."""
HUBSPOT: Final = Crm("hubspot", hubspot_name, ("contacts",))

HEALTH = SALESFORCE.field_name("health")
HEALTH_BAND = SALESFORCE.field_name("health_band")
SEGMENT = SALESFORCE.field_name("segment")
ARCHETYPE = SALESFORCE.field_name("archetype")
TREND = SALESFORCE.field_name("trend")
DOMINANT_EMOTION = SALESFORCE.field_name("dominant_emotion")
LAST_NPS = SALESFORCE.field_name("last_nps")
CHURN_RISK = SALESFORCE.field_name("churn_risk")
ESCALATION = SALESFORCE.field_name("escalation")
REASONS = SALESFORCE.field_name("reasons")
SCORED_AT = SALESFORCE.field_name("scored_at")

FIELD_SET: Final[tuple[FieldSpec, ...]] = SALESFORCE.field_set()
"""The Salesforce field set (kept under its old name for existing callers)."""
FIELD_NAMES: Final = SALESFORCE.field_names()
HUBSPOT_FIELD_SET: Final[tuple[FieldSpec, ...]] = HUBSPOT.field_set()
HUBSPOT_FIELD_NAMES: Final = HUBSPOT.field_names()

CRM_OBJECTS: Final = SALESFORCE.objects
"""The objects that hold people: Contact first, Lead for those who are not customers yet."""


def salesforce_datetime(moment: datetime) -> str:
    """``2026-11-22T12:00:00.000Z``: the form the REST and Bulk APIs both accept."""
    value = moment.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def attribute_values(profile: RelationshipProfile) -> dict[str, FieldValue]:
    """One profile as values by attribute key, every attribute present.

    Absent facts are ``None`` rather than left out, so a value that no longer holds
    (an NPS answer aged out of the window) is cleared instead of lingering. The as-of
    time is an ISO string both CRMs take (HubSpot's connector turns it into epoch ms).
    """
    return {
        "health": round(profile.health, 1),
        "health_band": profile.band.value,
        "segment": profile.segment.value,
        "archetype": profile.archetype.value,
        "trend": profile.trend.direction.value,
        "dominant_emotion": str(profile.dominant_emotion),
        "last_nps": profile.last_nps,
        "churn_risk": profile.churn_risk,
        "escalation": profile.escalation,
        "reasons": "\n".join(profile.reasons)[:REASONS_LENGTH],
        "scored_at": salesforce_datetime(profile.as_of),
    }


def profile_values(profile: RelationshipProfile, crm: Crm = SALESFORCE) -> dict[str, FieldValue]:
    """One profile as values for ``crm``'s field set, keyed by that CRM's field names."""
    return {crm.field_name(k): v for k, v in attribute_values(profile).items()}


def check_values(values: Mapping[str, FieldValue], allowed: frozenset[str] = FIELD_NAMES) -> None:
    """Refuse a write that names a field outside the field set: no surprise writes."""
    stray = sorted(set(values) - allowed)
    if stray:
        raise ConfigurationError(
            f"refusing to write fields outside relcrm's field set: {', '.join(stray)}",
            hint="add them to the field set (later: the mapping file) first",
        )


def profile_writes(
    profiles: Iterable[RelationshipProfile],
    records: Mapping[str, RecordRef],
    crm: Crm = SALESFORCE,
) -> list[FieldWrite]:
    """A :class:`FieldWrite` per profile whose person has a matched record."""
    writes: list[FieldWrite] = []
    allowed = crm.field_names()
    for profile in profiles:
        record = records.get(profile.person_id)
        if record is None:
            continue
        values = profile_values(profile, crm)
        check_values(values, allowed)
        writes.append(FieldWrite(person_id=profile.person_id, record=record, values=values))
    return writes


def provision_field_set(
    connector: SalesforceConnector,
    *,
    objects: Sequence[str] = CRM_OBJECTS,
    specs: Sequence[FieldSpec] = FIELD_SET,
    dry_run: bool = False,
) -> dict[str, ProvisionPlan]:
    """Plan (``dry_run``) or apply the field set on each object; the plan per object."""
    if dry_run:
        return {name: connector.plan_provisioning(name, specs) for name in objects}
    return {name: connector.provisioner.apply(name, specs) for name in objects}


def provision_hubspot_field_set(
    connector: HubSpotConnector,
    *,
    objects: Sequence[str] = HUBSPOT.objects,
    specs: Sequence[FieldSpec] = HUBSPOT_FIELD_SET,
    dry_run: bool = False,
) -> dict[str, HubSpotPlan]:
    """Plan (``dry_run``) or apply the HubSpot field set (the ``relcrm`` group and its
    properties) on each object; the plan per object.

    After applying, the writer's cached property types are dropped, or values would be
    formatted for a schema that predates the new properties.
    """
    if dry_run:
        return {name: connector.plan_provisioning(name, specs) for name in objects}
    plans = {name: connector.provisioner.apply(name, specs) for name in objects}
    if any(not plan.empty for plan in plans.values()):
        connector.writer.forget_schema()
    return plans


@dataclass
class PushReport:
    """Who was written, who was skipped and why, and each write's outcome."""

    considered: int = 0
    skipped_no_consent: list[str] = field(default_factory=list)
    no_profile: list[str] = field(default_factory=list)
    matched: dict[str, RecordRef] = field(default_factory=dict)
    ambiguous: dict[str, tuple[RecordRef, ...]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    writes: list[FieldWrite] = field(default_factory=list)
    results: list[WriteResult] = field(default_factory=list)

    def count(self, outcome: WriteOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def written(self) -> int:
        return self.count(WriteOutcome.WRITTEN)

    @property
    def rejected(self) -> list[WriteResult]:
        return [r for r in self.results if r.outcome is not WriteOutcome.WRITTEN]

    @property
    def fields_written(self) -> int:
        """Field values sent in writes that succeeded."""
        ok = {r.person_id for r in self.results if r.outcome is WriteOutcome.WRITTEN}
        return sum(len(w.values) for w in self.writes if w.person_id in ok)


def push_profiles(
    connector: SalesforceConnector | HubSpotConnector,
    persons: Iterable[Person],
    profiles: Iterable[RelationshipProfile],
    crm: Crm = SALESFORCE,
) -> PushReport:
    """Match consenting persons by email and write their profiles into ``crm``'s field set.

    The fields must exist already (:func:`provision_field_set`). A person without
    consent is neither looked up nor written; an ambiguous match is reported, not guessed.
    """
    by_id = {p.person_id: p for p in profiles}
    report = PushReport()
    keys: dict[str, list[str]] = {}
    for person in persons:
        report.considered += 1
        if not person.consent.granted:
            report.skipped_no_consent.append(person.id)
        elif person.id not in by_id:
            report.no_profile.append(person.id)
        else:
            keys[person.id] = list(person.emails)
    if not keys:
        return report
    match = connector.match(keys)
    report.matched = dict(match.matched)
    report.ambiguous = dict(match.ambiguous)
    report.unmatched = list(match.unmatched)
    report.writes = profile_writes((by_id[p] for p in keys), report.matched, crm)
    if report.writes:
        report.results = connector.write(crm.objects[0], report.writes)
    return report
