"""v4 batch association read, reset restoring rate limits, and Retry-After on 503s."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4.exceptions import ApiException as AssocApiException
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.contacts.exceptions import ServiceException
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteCreate

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.ratelimit import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox, running_hubspot_sandbox


def _contact(client: Any, email: str) -> str:
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email})
    )
    return str(created.id)


def _note(client: Any, body: str) -> str:
    note = client.crm.objects.notes.basic_api.create(
        NoteCreate(properties={"hs_note_body": body, "hs_timestamp": "2024-05-01T00:00:00Z"})
    )
    return str(note.id)


def _batch_read(client: Any, from_type: str, to_type: str, ids: list[str]) -> Any:
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in ids]
    )
    return client.crm.associations.v4.batch_api.get_page(from_type, to_type, request)


def test_v4_batch_read_associations(hs_client: Any) -> None:
    alice, bob = _contact(hs_client, "a@example.com"), _contact(hs_client, "b@example.com")
    notes = [_note(hs_client, "one"), _note(hs_client, "two"), _note(hs_client, "three")]
    v4 = hs_client.crm.associations.v4
    v4.basic_api.create_default("notes", notes[0], "contacts", alice)
    v4.basic_api.create_default("notes", notes[1], "contacts", alice)
    v4.basic_api.create_default("notes", notes[2], "contacts", bob)

    answer = _batch_read(hs_client, "contacts", "notes", [alice, bob])
    assert answer.status == "COMPLETE"
    assert getattr(answer, "errors", None) is None  # a 200, not a 207
    by_contact = {r._from.id: r.to for r in answer.results}
    assert sorted(t.to_object_id for t in by_contact[alice]) == sorted(notes[:2])
    assert [t.to_object_id for t in by_contact[bob]] == [notes[2]]
    spec = by_contact[bob][0].association_types[0]
    assert (spec.category, spec.type_id, spec.label) == ("HUBSPOT_DEFINED", 201, None)

    # the reverse direction, with the singular object type name
    back = _batch_read(hs_client, "note", "contact", [notes[2]])
    assert back.results[0].to[0].to_object_id == bob
    assert back.results[0].to[0].association_types[0].type_id == 202


def test_v4_batch_read_unknown_ids_are_207_errors(hs_client: Any) -> None:
    alice = _contact(hs_client, "a@example.com")
    lonely = _contact(hs_client, "l@example.com")
    v4 = hs_client.crm.associations.v4
    v4.basic_api.create_default("notes", _note(hs_client, "n"), "contacts", alice)

    answer = _batch_read(hs_client, "contacts", "notes", [alice, "999999", lonely])
    assert [r._from.id for r in answer.results] == [alice]
    assert answer.num_errors == 2
    assert sorted(e.context["fromObjectId"][0] for e in answer.errors) == sorted(["999999", lonely])
    error = answer.errors[0]
    assert error.status == "error"
    assert error.category == "OBJECT_NOT_FOUND"
    assert error.sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_v4_batch_read_rejects_a_bad_body(hs_client: Any) -> None:
    with pytest.raises(AssocApiException) as info:
        _batch_read(hs_client, "contacts", "notes", [str(i) for i in range(1001)])
    assert info.value.status == 400
    assert json.loads(info.value.body)["category"] == "VALIDATION_ERROR"


def test_reset_restores_the_configured_rate_limits() -> None:
    with running_hubspot_sandbox(rate_limit="7/10s") as sandbox:
        configured = sandbox.limiter.limits
        assert configured.max_per_window == 7
        sandbox.set_rate_limits(RateLimits(max_per_window=1, daily=5))
        client = hs_client_for(sandbox)
        client.crm.contacts.basic_api.get_page()
        sandbox.reset()
        assert sandbox.limiter.limits == configured
        answer = client.crm.contacts.basic_api.get_page_with_http_info()
        headers = answer[2]
        assert headers["X-HubSpot-RateLimit-Max"] == "7"
        assert headers["X-HubSpot-RateLimit-Remaining"] == "6"  # usage forgotten as well


def test_reset_restores_default_limits_for_the_shared_fixture(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=2))
    hs_sandbox.reset()
    assert hs_sandbox.limiter.limits == RateLimits()
    for _ in range(3):  # would 429 on the third call under the overridden limit
        hs_client.crm.contacts.basic_api.get_page()


def test_fault_plan_503_retry_after(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_faults(FaultPlan(unavailable_calls=[1, 2], retry_after_s=4))
    with pytest.raises(ServiceException) as info:
        hs_client.crm.contacts.basic_api.get_page()
    assert info.value.status == 503
    assert info.value.headers["Retry-After"] == "4"
    hs_sandbox.set_faults(FaultPlan(unavailable_calls=[1]))
    with pytest.raises(ServiceException) as plain:
        hs_client.crm.contacts.basic_api.get_page()
    assert "Retry-After" not in plain.value.headers
