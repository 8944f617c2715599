"""Contacts v3 through hubspot-api-client: single calls, batches, 207s and validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObjectWithErrors,
    BatchResponseSimplePublicUpsertObjectWithErrors,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.properties import OptionInput, PropertyCreate

from relcrm.sandbox.hubspot.server import HubSpotSandbox


def _create(client: Any, email: str, **props: str) -> Any:
    return client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email, **props})
    )


def _upsert(client: Any, rows: list[tuple[str, dict[str, str]]]) -> Any:
    return client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(id=email, id_property="email", properties=p)
                for email, p in rows
            ]
        )
    )


def _add_tier_property(client: Any) -> None:
    client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="relcrm_tier",
            label="Tier",
            type="enumeration",
            field_type="select",
            group_name="contactinformation",
            options=[
                OptionInput(label="Gold", value="gold", hidden=False),
                OptionInput(label="Silver", value="silver", hidden=False),
            ],
        ),
    )


def test_create_read_update_archive(hs_client: Any) -> None:
    api = hs_client.crm.contacts.basic_api
    created = _create(hs_client, "Ada@Example.com", firstname="Ada")
    assert created.properties["email"] == "ada@example.com"
    assert created.properties["hs_object_id"] == created.id
    by_email = api.get_by_id("ada@example.com", id_property="email", properties=["firstname"])
    assert by_email.id == created.id and by_email.properties["firstname"] == "Ada"
    api.update(created.id, SimplePublicObjectInput(properties={"lastname": "Lovelace"}))
    assert api.get_by_id(created.id).properties["lastname"] == "Lovelace"
    api.archive(created.id)
    with pytest.raises(NotFoundException):
        api.get_by_id(created.id)


def test_duplicate_email_is_409_with_existing_id(hs_client: Any) -> None:
    first = _create(hs_client, "dup@example.com")
    with pytest.raises(ApiException) as info:
        _create(hs_client, "DUP@example.com")
    assert info.value.status == 409
    body = json.loads(info.value.body)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first.id}"


def test_unknown_and_read_only_properties_are_rejected(hs_client: Any) -> None:
    with pytest.raises(ApiException) as info:
        _create(hs_client, "x@example.com", relcrm_nope="1")
    body = json.loads(info.value.body)
    assert info.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    problems = json.loads(body["message"].split(": ", 1)[1])
    assert problems[0]["error"] == "PROPERTY_DOESNT_EXIST" and problems[0]["name"] == "relcrm_nope"
    with pytest.raises(ApiException) as ro:
        _create(hs_client, "y@example.com", hs_object_id="5")
    assert "READ_ONLY_VALUE" in json.loads(ro.value.body)["message"]


def test_value_formats_are_validated(hs_client: Any) -> None:
    for name, type_, field_type in (
        ("relcrm_score", "number", "number"),
        ("relcrm_since", "date", "date"),
    ):
        hs_client.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name=name,
                label=name,
                type=type_,
                field_type=field_type,
                group_name="contactinformation",
            ),
        )
    ok = _create(hs_client, "v@example.com", relcrm_score="72.5", relcrm_since="1572480000000")
    assert hs_client.crm.contacts.basic_api.get_by_id(
        ok.id, properties=["relcrm_score", "relcrm_since"]
    ).properties == {"relcrm_score": "72.5", "relcrm_since": "2019-10-31"}
    for bad in ({"relcrm_score": "high"}, {"relcrm_since": "1572480000001"}):
        with pytest.raises(ApiException) as info:
            _create(hs_client, "w@example.com", **bad)
        assert info.value.status == 400
    with pytest.raises(ApiException) as info:
        _create(hs_client, "w@example.com", relcrm_since="1572480000001")
    assert "not midnight" in json.loads(info.value.body)["message"]


def test_batch_upsert_new_flag_and_existing(hs_client: Any) -> None:
    existing = _create(hs_client, "old@example.com", firstname="Old")
    result = _upsert(
        hs_client,
        [("old@example.com", {"firstname": "Older"}), ("new@example.com", {"firstname": "New"})],
    )
    flags = {r.properties.get("email") or r.id: r.new for r in result.results}
    assert flags == {"old@example.com": False, "new@example.com": True}
    assert [r.id for r in result.results if not r.new] == [existing.id]
    assert hs_client.crm.contacts.basic_api.get_by_id(existing.id).properties["firstname"] == (
        "Older"
    )


def test_invalid_enumeration_rejected_for_one_while_rest_written(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    _add_tier_property(hs_client)
    result = _upsert(
        hs_client,
        [
            ("a@example.com", {"relcrm_tier": "gold"}),
            ("b@example.com", {"relcrm_tier": "Gold"}),  # the label, not the value
            ("c@example.com", {"relcrm_tier": "silver"}),
        ],
    )
    assert isinstance(result, BatchResponseSimplePublicUpsertObjectWithErrors)  # a 207
    assert result.num_errors == 1
    error = result.errors[0]
    assert error.category == "VALIDATION_ERROR" and error.context["ids"] == ["b@example.com"]
    assert "INVALID_OPTION" in error.message
    assert sorted(r.properties["email"] for r in result.results) == [
        "a@example.com",
        "c@example.com",
    ]
    assert [c.status for c in hs_sandbox.log.calls()][-1] == 207
    read = hs_client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=e) for e in ("a@example.com", "b@example.com")],
            id_property="email",
            properties=["relcrm_tier"],
        )
    )
    assert [r.properties["relcrm_tier"] for r in read.results] == ["gold"]
    assert read.errors[0].category == "OBJECT_NOT_FOUND"
    assert read.errors[0].context["ids"] == ["b@example.com"]


def test_batch_update_207_for_missing_id_and_no_update_by_email(hs_client: Any) -> None:
    a = _create(hs_client, "a@example.com")
    result = hs_client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=a.id, properties={"firstname": "A"}),
                SimplePublicObjectBatchInput(id="999999", properties={"firstname": "Z"}),
            ]
        )
    )
    assert isinstance(result, BatchResponseSimplePublicObjectWithErrors)
    assert [r.id for r in result.results] == [a.id]
    assert result.errors[0].context["ids"] == ["999999"]
    with pytest.raises(ApiException) as info:
        hs_client.crm.contacts.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(
                        id="a@example.com", id_property="email", properties={"firstname": "B"}
                    )
                ]
            )
        )
    assert info.value.status == 400
    assert "non-unique" in json.loads(info.value.body)["message"]


def test_batch_create_201_and_conflict_fails_whole_call(hs_client: Any) -> None:
    api = hs_client.crm.contacts.batch_api
    inputs = [
        SimplePublicObjectBatchInputForCreate(properties={"email": f"p{i}@example.com"})
        for i in range(3)
    ]
    created = api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    assert len(created.results) == 3
    assert created.__class__.__name__ == "BatchResponseSimplePublicObject"
    with pytest.raises(ApiException) as info:
        api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(properties={"email": "q@example.com"}),
                    SimplePublicObjectBatchInputForCreate(properties={"email": "p1@example.com"}),
                ]
            )
        )
    assert info.value.status == 409
    assert hs_client.crm.contacts.basic_api.get_page(limit=100).results.__len__() == 3


def test_batch_over_100_inputs_is_400(hs_client: Any) -> None:
    rows = [(f"n{i}@example.com", {"firstname": "N"}) for i in range(101)]
    with pytest.raises(ApiException) as info:
        _upsert(hs_client, rows)
    assert info.value.status == 400
    assert json.loads(info.value.body)["category"] == "VALIDATION_ERROR"
    assert len(_upsert(hs_client, rows[:100]).results) == 100
