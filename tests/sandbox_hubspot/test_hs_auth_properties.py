"""Auth (401/403) and the properties API, through hubspot-api-client over HTTPS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.contacts.exceptions import ForbiddenException, UnauthorizedException
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate, PropertyUpdate
from hubspot.crm.properties.exceptions import ApiException as PropApiException

from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox


def test_wrong_token_is_401_with_hubspot_body(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    client = hs_client_for(hs_sandbox, token="pat-na1-wrong")
    with pytest.raises(UnauthorizedException) as info:
        client.crm.contacts.basic_api.get_page()
    body = json.loads(info.value.body)
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"]
    assert "Authentication credentials not found" in body["message"]


def test_token_without_scope_is_403(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    token = hs_sandbox.add_token("pat-na1-readonly", ["crm.objects.contacts.read"])
    client = hs_client_for(hs_sandbox, token=token)
    client.crm.contacts.basic_api.get_page()  # reading is allowed
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    with pytest.raises(ForbiddenException) as info:
        client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "x@example.com"})
        )
    body = json.loads(info.value.body)
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.contacts.write"]


def test_default_properties_have_hubspot_types(hs_client: Any) -> None:
    props = {p.name: p for p in hs_client.crm.properties.core_api.get_all("contacts").results}
    for name in ("email", "firstname", "lastname", "phone", "company", "hs_object_id"):
        assert name in props
    assert (props["email"].type, props["email"].field_type) == ("string", "text")
    stage = props["lifecyclestage"]
    assert (stage.type, stage.field_type) == ("enumeration", "radio")
    assert "customer" in [o.value for o in stage.options]
    assert (props["createdate"].type, props["createdate"].field_type) == ("datetime", "date")
    assert props["hs_object_id"].modification_metadata.read_only_value is True
    companies = {p.name for p in hs_client.crm.properties.core_api.get_all("companies").results}
    assert {"name", "domain", "industry"} <= companies


def test_group_and_property_lifecycle(hs_client: Any) -> None:
    api = hs_client.crm.properties
    group = api.groups_api.create("contacts", PropertyGroupCreate(name="relcrm", label="relcrm"))
    assert group.name == "relcrm"
    assert "relcrm" in [g.name for g in api.groups_api.get_all("contacts").results]
    created = api.core_api.create(
        "contacts",
        PropertyCreate(
            name="relcrm_archetype",
            label="Loyalty archetype",
            type="enumeration",
            field_type="select",
            group_name="relcrm",
            options=[
                OptionInput(label="Delighted", value="delighted", hidden=False),
                OptionInput(label="At risk", value="at_risk", hidden=False),
            ],
        ),
    )
    assert created.hubspot_defined is False and created.group_name == "relcrm"
    with pytest.raises(PropApiException) as dup:
        api.core_api.create(
            "contacts",
            PropertyCreate(
                name="relcrm_archetype",
                label="x",
                type="string",
                field_type="text",
                group_name="relcrm",
            ),
        )
    assert dup.value.status == 409
    updated = api.core_api.update("contacts", "relcrm_archetype", PropertyUpdate(label="Archetype"))
    assert updated.label == "Archetype"
    assert api.core_api.get_by_name("contacts", "relcrm_archetype").label == "Archetype"
    api.core_api.archive("contacts", "relcrm_archetype")
    with pytest.raises(PropApiException) as gone:
        api.core_api.get_by_name("contacts", "relcrm_archetype")
    assert gone.value.status == 404
    assert json.loads(gone.value.body)["category"] == "OBJECT_NOT_FOUND"


def test_property_type_field_type_mismatch_is_400(hs_client: Any) -> None:
    with pytest.raises(PropApiException) as info:
        hs_client.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name="relcrm_health",
                label="Health",
                type="number",
                field_type="text",
                group_name="contactinformation",
            ),
        )
    assert info.value.status == 400
    assert json.loads(info.value.body)["category"] == "VALIDATION_ERROR"


def test_hubspot_defined_property_cannot_be_archived(hs_client: Any) -> None:
    with pytest.raises(PropApiException) as info:
        hs_client.crm.properties.core_api.archive("contacts", "email")
    assert info.value.status == 400
