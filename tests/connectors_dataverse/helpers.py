"""Specs, seeds and writes shared by the Dataverse connector tests."""

from __future__ import annotations

from typing import Any

from relcrm.models import FieldSpec, FieldType, FieldWrite, RecordRef
from relcrm.sandbox.dataverse.server import DataverseSandbox

SPECS = [
    FieldSpec(name="relcrm_health", label="Health", type=FieldType.NUMBER, precision=5, scale=1),
    FieldSpec(
        name="relcrm_health_band",
        label="Health band",
        type=FieldType.PICKLIST,
        picklist_values=("healthy", "watch", "at_risk", "unknown"),
        restricted=True,
    ),
    FieldSpec(name="relcrm_reasons", label="Reasons", type=FieldType.LONG_TEXT, length=32768),
    FieldSpec(name="relcrm_churn_risk", label="Churn risk", type=FieldType.CHECKBOX),
    FieldSpec(name="relcrm_scored_at", label="Scored at", type=FieldType.DATETIME),
    FieldSpec(name="relcrm_first_seen", label="First seen", type=FieldType.DATE),
    FieldSpec(
        name="relcrm_dominant_emotion", label="Dominant emotion", type=FieldType.TEXT, length=20
    ),
    FieldSpec(
        name="relcrm_last_nps", label="Last NPS", type=FieldType.NUMBER, precision=2, scale=0
    ),
]
PERSON_ID = FieldSpec(
    name="relcrm_personid",
    label="relcrm person id",
    type=FieldType.TEXT,
    length=64,
    external_id=True,
)


def seed(sandbox: DataverseSandbox, table: str, *emails: str) -> list[str]:
    return sandbox.seed(table, [{"emailaddress1": e, "lastname": e.split("@")[0]} for e in emails])


def write_for(person: str, record_id: str, table: str = "contact", **values: Any) -> FieldWrite:
    return FieldWrite(
        person_id=person,
        record=RecordRef(system="dataverse", object=table, id=record_id),
        values=values,
    )


GOOD: dict[str, Any] = {
    "relcrm_health": 72.5,
    "relcrm_health_band": "watch",
    "relcrm_churn_risk": True,
    "relcrm_scored_at": "2026-11-22T12:00:00.000Z",
    "relcrm_dominant_emotion": "trust",
    "relcrm_last_nps": 9,
}
