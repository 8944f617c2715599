"""Notes, v4 associations, and the fault plan, through hubspot-api-client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import urllib3
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ServiceException, UnauthorizedException
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteCreate

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox


def _contact(client: Any, email: str) -> str:
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email})
    )
    return str(created.id)


def test_note_with_inline_association(hs_client: Any) -> None:
    contact_id = _contact(hs_client, "n@example.com")
    note = hs_client.crm.objects.notes.basic_api.create(
        NoteCreate(
            properties={"hs_note_body": "<p>Felt let down</p>", "hs_timestamp": "1714560000000"},
            associations=[
                {
                    "to": {"id": contact_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        )
    )
    read = hs_client.crm.objects.notes.basic_api.get_by_id(
        note.id, properties=["hs_note_body", "hs_timestamp"], associations=["contacts"]
    )
    assert read.properties["hs_note_body"] == "<p>Felt let down</p>"
    assert read.properties["hs_timestamp"] == "2024-05-01T10:40:00.000Z"
    assert [a.id for a in read.associations["contacts"].results] == [contact_id]


def test_note_needs_timestamp(hs_client: Any) -> None:
    from hubspot.crm.objects.notes.exceptions import ApiException as NoteApiException

    with pytest.raises(NoteApiException) as info:
        hs_client.crm.objects.notes.basic_api.create(NoteCreate(properties={"hs_note_body": "x"}))
    assert info.value.status == 400


def test_v4_default_association(hs_client: Any) -> None:
    contact_id = _contact(hs_client, "m@example.com")
    note = hs_client.crm.objects.notes.basic_api.create(
        NoteCreate(properties={"hs_note_body": "hi", "hs_timestamp": "2024-05-01T00:00:00Z"})
    )
    v4 = hs_client.crm.associations.v4
    result = v4.basic_api.create_default("notes", note.id, "contacts", contact_id)
    assert result.status == "COMPLETE"
    specs = {(r._from.id, r.to.id, r.association_spec.association_type_id) for r in result.results}
    assert (note.id, contact_id, 202) in specs
    page = v4.basic_api.get_page("contacts", contact_id, "notes")
    assert [r.to_object_id for r in page.results] == [note.id]
    assert page.results[0].association_types[0].type_id == 201


def test_fault_plan_503_and_dropped_connection(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_faults(FaultPlan(unavailable_calls=[1], drop_calls=[2]))
    with pytest.raises(ServiceException) as info:
        hs_client.crm.contacts.basic_api.get_page()
    assert info.value.status == 503
    assert json.loads(info.value.body)["status"] == "error"
    with pytest.raises(urllib3.exceptions.HTTPError):
        hs_client.crm.contacts.basic_api.get_page()
    hs_client.crm.contacts.basic_api.get_page()
    assert [c.fault for c in hs_sandbox.log.calls()] == ["unavailable", "dropped", None]


def test_fault_plan_per_input_failure(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_faults(FaultPlan(record_failure_keys=["b@example.com"]))
    batch = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(id=e, id_property="email", properties={})
            for e in ("a@example.com", "b@example.com")
        ]
    )
    first = hs_client.crm.contacts.batch_api.upsert(batch)
    assert first.num_errors == 1 and first.errors[0].context["ids"] == ["b@example.com"]
    assert first.errors[0].category == "INTERNAL_ERROR"
    second = hs_client.crm.contacts.batch_api.upsert(batch)  # the failure clears on retry
    assert getattr(second, "num_errors", None) is None
    assert sorted(w.key or "" for w in hs_sandbox.log.writes()) == [
        "a@example.com",
        "a@example.com",
        "b@example.com",
    ]


def test_latency_and_expired_token(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_faults(FaultPlan(latency_ms=150, session_expires_after=1))
    started = time.monotonic()
    hs_client.crm.contacts.basic_api.get_page()
    assert time.monotonic() - started >= 0.15
    with pytest.raises(UnauthorizedException) as info:
        hs_client.crm.contacts.basic_api.get_page()
    assert json.loads(info.value.body)["category"] == "EXPIRED_AUTHENTICATION"
