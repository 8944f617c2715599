"""Field metadata and custom fields (``/crm/v8/settings/fields``)."""

from __future__ import annotations

from typing import Any

import httpx

from relcrm.sandbox.zoho.server import ZohoSandbox


def create(api: httpx.Client, *fields: dict[str, Any], module: str = "Contacts") -> httpx.Response:
    return api.post(
        "/crm/v8/settings/fields", params={"module": module}, json={"fields": list(fields)}
    )


def listed(api: httpx.Client, module: str = "Contacts") -> dict[str, dict[str, Any]]:
    answer = api.get("/crm/v8/settings/fields", params={"module": module})
    return {f["api_name"]: f for f in answer.json()["fields"]}


def test_fields_have_zohos_metadata_keys(api: httpx.Client) -> None:
    found = listed(api)
    last = found["Last_Name"]
    for key in (
        "api_name",
        "field_label",
        "display_label",
        "data_type",
        "json_type",
        "length",
        "custom_field",
        "read_only",
        "system_mandatory",
        "pick_list_values",
        "id",
    ):
        assert key in last
    assert last["system_mandatory"] is True and last["custom_field"] is False
    assert found["Created_Time"]["read_only"] is True
    assert found["Lead_Source"]["pick_list_values"][0].keys() >= {"display_value", "actual_value"}
    assert "Company" in listed(api, "Leads") and "Company" not in found


def test_custom_fields_are_created_with_their_api_names(api: httpx.Client) -> None:
    answer = create(
        api,
        {
            "api_name": "relcrm_Health",
            "field_label": "relcrm Health",
            "data_type": "double",
            "length": 5,
            "decimal_place": 1,
        },
        {
            "api_name": "relcrm_Band",
            "field_label": "relcrm Band",
            "data_type": "picklist",
            "pick_list_values": [
                {"display_value": "healthy", "actual_value": "healthy"},
                {"display_value": "watch", "actual_value": "watch"},
            ],
        },
        {"field_label": "relcrm Reasons", "data_type": "textarea", "textarea": {"type": "large"}},
    )
    assert answer.status_code == 201
    results = answer.json()["fields"]
    assert [r["code"] for r in results] == ["SUCCESS"] * 3
    assert results[0]["message"] == "field created" and results[0]["details"]["id"]
    found = listed(api)
    assert found["relcrm_Health"]["custom_field"] is True
    assert (found["relcrm_Health"]["length"], found["relcrm_Health"]["decimal_place"]) == (5, 1)
    assert [v["actual_value"] for v in found["relcrm_Band"]["pick_list_values"]] == [
        "healthy",
        "watch",
    ]
    assert found["relcrm_Reasons"]["length"] == 32000  # api_name made from the label


def test_one_bad_field_creates_none_and_names_the_problem(api: httpx.Client) -> None:
    answer = create(
        api,
        {"api_name": "relcrm_Ok", "field_label": "relcrm Ok", "data_type": "text"},
        {"api_name": "Email", "field_label": "Another Email", "data_type": "text"},
        {"api_name": "relcrm_Bad", "field_label": "relcrm Bad", "data_type": "sparkles"},
        {"api_name": "relcrm_Long", "field_label": "x" * 26, "data_type": "text"},
        {
            "api_name": "relcrm_Wide",
            "field_label": "relcrm Wide",
            "data_type": "text",
            "length": 256,
        },
    )
    assert answer.status_code == 400
    codes = [(r["code"], r["details"]["api_name"]) for r in answer.json()["fields"]]
    assert codes == [
        ("DUPLICATE_DATA", "api_name"),
        ("INVALID_DATA", "data_type"),
        ("INVALID_DATA", "field_label"),
        ("INVALID_DATA", "length"),
    ]
    assert "relcrm_Ok" not in listed(api)


def test_at_most_five_fields_a_call(api: httpx.Client) -> None:
    six = [
        {"api_name": f"relcrm_F{i}", "field_label": f"relcrm F{i}", "data_type": "boolean"}
        for i in range(6)
    ]
    answer = create(api, *six)
    assert answer.status_code == 400 and answer.json()["code"] == "LIMIT_EXCEEDED"


def test_picklist_values_are_added_by_patch(api: httpx.Client) -> None:
    create(
        api,
        {
            "api_name": "relcrm_Trend",
            "field_label": "relcrm Trend",
            "data_type": "picklist",
            "pick_list_values": [{"actual_value": "stable"}],
        },
    )
    field_id = listed(api)["relcrm_Trend"]["id"]
    answer = api.patch(
        f"/crm/v8/settings/fields/{field_id}",
        params={"module": "Contacts"},
        json={
            "fields": [
                {"pick_list_values": [{"display_value": "declining", "actual_value": "declining"}]}
            ]
        },
    )
    assert answer.status_code == 200 and answer.json()["fields"][0]["code"] == "SUCCESS"
    values = [v["actual_value"] for v in listed(api)["relcrm_Trend"]["pick_list_values"]]
    assert values == ["stable", "declining"]


def test_the_module_parameter_is_required(api: httpx.Client, zoho: ZohoSandbox) -> None:
    answer = api.get("/crm/v8/settings/fields")
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param_name": "module"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
