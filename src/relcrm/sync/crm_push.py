"""Writing relationship profiles into CRM custom fields: the field set, values, the push.

Until the admin's mapping file exists (issue 5), *what* is written is this module's
:data:`FIELD_SET`: a short, fixed list taken from the scoring recipe's suggested CRM
fields. It is the only thing ever written; :func:`check_values` refuses anything else,
so a bug in value building cannot reach a field the admin did not agree to.

Consent gates every write: a person without ``consent.granted`` is skipped before
matching, so their records are not even looked up. (Clearing the fields of someone who
withdrew consent after an earlier push needs the sync state of issue 5.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

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

HEALTH = "relcrm_Health__c"
HEALTH_BAND = "relcrm_Health_Band__c"
SEGMENT = "relcrm_Segment__c"
ARCHETYPE = "relcrm_Archetype__c"
TREND = "relcrm_Trend__c"
DOMINANT_EMOTION = "relcrm_Dominant_Emotion__c"
LAST_NPS = "relcrm_Last_NPS__c"
CHURN_RISK = "relcrm_Churn_Risk__c"
ESCALATION = "relcrm_Escalation__c"
REASONS = "relcrm_Reasons__c"
SCORED_AT = "relcrm_Scored_At__c"

REASONS_LENGTH: Final = 32768
"""Long Text Area size for the reasons: four sentences need far less, the room is cheap."""

FIELD_SET: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(name=HEALTH, label="relcrm Health", type=FieldType.NUMBER, precision=5, scale=1),
    FieldSpec(
        name=HEALTH_BAND,
        label="relcrm Health Band",
        type=FieldType.PICKLIST,
        picklist_values=tuple(b.value for b in HealthBand),
        restricted=True,
    ),
    FieldSpec(
        name=SEGMENT,
        label="relcrm Segment",
        type=FieldType.PICKLIST,
        picklist_values=tuple(s.value for s in Segment),
        restricted=True,
    ),
    FieldSpec(
        name=ARCHETYPE,
        label="relcrm Archetype",
        type=FieldType.PICKLIST,
        picklist_values=tuple(a.value for a in Archetype),
    ),
    FieldSpec(
        name=TREND,
        label="relcrm Trend",
        type=FieldType.PICKLIST,
        picklist_values=tuple(t.value for t in TrendDirection),
    ),
    FieldSpec(
        name=DOMINANT_EMOTION, label="relcrm Dominant Emotion", type=FieldType.TEXT, length=20
    ),
    FieldSpec(name=LAST_NPS, label="relcrm Last NPS", type=FieldType.NUMBER, precision=2, scale=0),
    FieldSpec(name=CHURN_RISK, label="relcrm Churn Risk", type=FieldType.CHECKBOX),
    FieldSpec(name=ESCALATION, label="relcrm Escalation", type=FieldType.CHECKBOX),
    FieldSpec(
        name=REASONS, label="relcrm Reasons", type=FieldType.LONG_TEXT, length=REASONS_LENGTH
    ),
    FieldSpec(name=SCORED_AT, label="relcrm Scored At", type=FieldType.DATETIME),
)
"""The fields relcrm writes on each CRM object until issue 5's mapping file replaces it.

Taken from the recipe's suggested fields (``reference/emotion-and-scoring.md`` 5.4):
the health band and the segment are *restricted* picklists because relcrm owns their
values and a report filters on them; archetype and trend stay open so that a later
model version can add a value without a schema change in every org.
"""

FIELD_NAMES: Final = frozenset(spec.name for spec in FIELD_SET)

CRM_OBJECTS: Final = ("Contact", "Lead")
"""The objects that hold people: Contact first, Lead for those who are not customers yet."""


def salesforce_datetime(moment: datetime) -> str:
    """``2026-11-22T12:00:00.000Z``: the form the REST and Bulk APIs both accept."""
    value = moment.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def profile_values(profile: RelationshipProfile) -> dict[str, FieldValue]:
    """One profile as values for :data:`FIELD_SET`, every field present.

    Absent facts are ``None`` rather than left out, so a value that no longer holds
    (an NPS answer aged out of the window) is cleared instead of lingering.
    """
    return {
        HEALTH: round(profile.health, 1),
        HEALTH_BAND: profile.band.value,
        SEGMENT: profile.segment.value,
        ARCHETYPE: profile.archetype.value,
        TREND: profile.trend.direction.value,
        DOMINANT_EMOTION: str(profile.dominant_emotion),
        LAST_NPS: profile.last_nps,
        CHURN_RISK: profile.churn_risk,
        ESCALATION: profile.escalation,
        REASONS: "\n".join(profile.reasons)[:REASONS_LENGTH],
        SCORED_AT: salesforce_datetime(profile.as_of),
    }


def check_values(values: Mapping[str, FieldValue], allowed: frozenset[str] = FIELD_NAMES) -> None:
    """Refuse a write that names a field outside the field set: no surprise writes."""
    stray = sorted(set(values) - allowed)
    if stray:
        raise ConfigurationError(
            f"refusing to write fields outside relcrm's field set: {', '.join(stray)}",
            hint="add them to the field set (later: the mapping file) first",
        )


def profile_writes(
    profiles: Iterable[RelationshipProfile], records: Mapping[str, RecordRef]
) -> list[FieldWrite]:
    """A :class:`FieldWrite` per profile whose person has a matched record."""
    writes: list[FieldWrite] = []
    for profile in profiles:
        record = records.get(profile.person_id)
        if record is None:
            continue
        values = profile_values(profile)
        check_values(values)
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
    connector: SalesforceConnector,
    persons: Iterable[Person],
    profiles: Iterable[RelationshipProfile],
) -> PushReport:
    """Match consenting persons by email and write their profiles into the field set.

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
    report.writes = profile_writes((by_id[p] for p in keys), report.matched)
    if report.writes:
        report.results = connector.write(CRM_OBJECTS[0], report.writes)
    return report
