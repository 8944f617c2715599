"""Seeding contacts and provisioning relcrm's properties for the connector tests."""

from __future__ import annotations

from typing import Any

from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
)

from relcrm.models import FieldSpec, FieldType, FieldWrite, RecordRef

SPECS = [
    FieldSpec(name="relcrm_health", label="Health", type=FieldType.NUMBER),
    FieldSpec(
        name="relcrm_band",
        label="Band",
        type=FieldType.PICKLIST,
        picklist_values=("Thriving", "Stable", "At risk"),
        restricted=True,
    ),
    FieldSpec(name="relcrm_reasons", label="Reasons", type=FieldType.LONG_TEXT),
    FieldSpec(name="relcrm_churn_risk", label="Churn risk", type=FieldType.CHECKBOX),
    FieldSpec(name="relcrm_last_nps_date", label="Last NPS date", type=FieldType.DATE),
    FieldSpec(name="relcrm_as_of", label="As of", type=FieldType.DATETIME),
    FieldSpec(name="relcrm_attitude", label="Attitude", type=FieldType.TEXT),
]


def seed_contacts(client: Any, emails: list[str]) -> dict[str, str]:
    """Create contacts (batch create, 100 a call); return ``{email: id}``."""
    ids: dict[str, str] = {}
    for start in range(0, len(emails), 100):
        chunk = emails[start : start + 100]
        answer = client.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(properties={"email": e}, associations=[])
                    for e in chunk
                ]
            )
        )
        for record in answer.results:
            ids[str(record.properties["email"])] = str(record.id)
    return ids


def write_for(person: str, record_id: str, **values: Any) -> FieldWrite:
    return FieldWrite(
        person_id=person,
        record=RecordRef(system="hubspot", object="contacts", id=record_id),
        values=values,
    )


def read(client: Any, record_id: str, *names: str) -> dict[str, Any]:
    got = client.crm.contacts.basic_api.get_by_id(record_id, properties=list(names))
    return {n: got.properties.get(n) for n in names}
