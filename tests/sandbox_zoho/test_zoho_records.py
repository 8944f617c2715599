"""Records: insert, update, upsert with per-record results; search; get by ids."""

from __future__ import annotations

from typing import Any

import httpx

from relcrm.sandbox.zoho.server import ZohoSandbox


def custom(api: httpx.Client, *fields: dict[str, Any]) -> None:
    answer = api.post(
        "/crm/v8/settings/fields", params={"module": "Contacts"}, json={"fields": list(fields)}
    )
    assert answer.status_code == 201, answer.text


def test_insert_answers_each_record_in_order(api: httpx.Client, zoho: ZohoSandbox) -> None:
    ok = api.post(
        "/crm/v8/Contacts", json={"data": [{"Last_Name": "Ng", "Email": "ng@example.com"}]}
    )
    assert ok.status_code == 201
    entry = ok.json()["data"][0]
    assert (entry["code"], entry["message"], entry["status"]) == (
        "SUCCESS",
        "record added",
        "success",
    )
    assert set(entry["details"]) >= {"id", "Created_Time", "Modified_Time", "Created_By"}
    mixed = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "A"}, {"First_Name": "B"}]})
    assert mixed.status_code == 207
    second = mixed.json()["data"][1]
    assert second == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"},
        "message": "required field not found",
        "status": "error",
    }
    failed = api.post("/crm/v8/Contacts", json={"data": [{"First_Name": "C"}]})
    assert failed.status_code == 400 and failed.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    assert len(zoho.org.records["Contacts"]) == 2


def test_update_by_id_validates_each_value_with_its_type(
    api: httpx.Client, zoho: ZohoSandbox
) -> None:
    custom(
        api,
        {
            "api_name": "relcrm_Health",
            "field_label": "relcrm Health",
            "data_type": "double",
            "length": 5,
            "decimal_place": 1,
        },
        {
            "api_name": "relcrm_Emotion",
            "field_label": "relcrm Emotion",
            "data_type": "text",
            "length": 20,
        },
        {"api_name": "relcrm_At", "field_label": "relcrm At", "data_type": "datetime"},
    )
    a = zoho.org.add_record("Contacts", {"Last_Name": "A", "Email": "a@example.com"})
    b = zoho.org.add_record("Contacts", {"Last_Name": "B", "Email": "b@example.com"})
    answer = api.put(
        "/crm/v8/Contacts",
        json={
            "data": [
                {"id": a, "relcrm_Health": 87.25, "relcrm_At": "2026-11-01T10:00:00+00:00"},
                {"id": b, "relcrm_Health": "lots"},
                {"id": b, "relcrm_Emotion": "anticipation and more"},
                {"id": b, "relcrm_At": "2026-11-01T10:00:00Z"},
                {"id": "123", "relcrm_Health": 1},
            ]
        },
    )
    assert answer.status_code == 207
    data = answer.json()["data"]
    assert data[0]["message"] == "record updated"
    assert data[1]["code"] == "INVALID_DATA"
    assert data[1]["details"] == {
        "api_name": "relcrm_Health",
        "json_path": "$.data[1].relcrm_Health",
        "expected_data_type": "double",
    }
    assert data[2]["details"]["maximum_length"] == 20
    assert data[3]["details"]["expected_data_type"] == "datetime"
    assert data[4]["message"] == "the id given seems to be invalid"
    read = api.get("/crm/v8/Contacts", params={"ids": a, "fields": "relcrm_Health,relcrm_At"})
    record = read.json()["data"][0]
    assert record["relcrm_Health"] == 87.3  # rounded to its decimal places
    assert record["relcrm_At"] == "2026-11-01T15:30:00+05:30"  # in the org's time zone
    writes = [(w.operation, w.id) for w in zoho.log.writes()]
    assert writes == [("update", a)]


def test_more_than_100_records_are_refused_whole(api: httpx.Client) -> None:
    answer = api.put("/crm/v8/Contacts", json={"data": [{"id": str(i)} for i in range(101)]})
    assert answer.status_code == 400 and answer.json()["code"] == "LIMIT_EXCEEDED"


def test_upsert_updates_what_the_duplicate_check_finds_and_inserts_the_rest(
    api: httpx.Client, zoho: ZohoSandbox
) -> None:
    known = zoho.org.add_record("Contacts", {"Last_Name": "Known", "Email": "known@example.com"})
    answer = api.post(
        "/crm/v8/Contacts/upsert",
        json={
            "data": [
                {"Email": "KNOWN@example.com", "First_Name": "K"},
                {"Email": "new@example.com", "Last_Name": "New"},
                {"Email": "nameless@example.com"},
            ],
            "duplicate_check_fields": ["Email"],
        },
    )
    assert answer.status_code == 207
    first, second, third = answer.json()["data"]
    assert (first["action"], first["duplicate_field"], first["details"]["id"]) == (
        "update",
        "Email",
        known,
    )
    assert (second["action"], second["duplicate_field"], second["message"]) == (
        "insert",
        None,
        "record added",
    )
    assert third["code"] == "MANDATORY_NOT_FOUND"
    assert zoho.org.values_of("Contacts", known)["First_Name"] == "K"


def test_upsert_refuses_a_key_several_records_hold(api: httpx.Client, zoho: ZohoSandbox) -> None:
    for name in ("One", "Two"):
        zoho.org.add_record("Contacts", {"Last_Name": name, "Email": "twice@example.com"})
    answer = api.post("/crm/v8/Contacts/upsert", json={"data": [{"Email": "twice@example.com"}]})
    entry = answer.json()["data"][0]
    assert entry["code"] == "DUPLICATE_DATA" and entry["details"]["api_name"] == "Email"


def test_a_unique_field_refuses_a_value_another_record_holds(
    api: httpx.Client, zoho: ZohoSandbox
) -> None:
    custom(
        api,
        {
            "api_name": "relcrm_Person_Id",
            "field_label": "relcrm Person Id",
            "data_type": "text",
            "unique": {"casesensitive": "false"},
        },
    )
    a = zoho.org.add_record("Contacts", {"Last_Name": "A", "relcrm_Person_Id": "p1"})
    b = zoho.org.add_record("Contacts", {"Last_Name": "B"})
    answer = api.put("/crm/v8/Contacts", json={"data": [{"id": b, "relcrm_Person_Id": "P1"}]})
    entry = answer.json()["data"][0]
    assert entry["code"] == "DUPLICATE_DATA"
    assert entry["details"]["duplicate_record"]["id"] == a


def test_search_takes_up_to_ten_criteria_and_escaped_values(
    api: httpx.Client, zoho: ZohoSandbox
) -> None:
    odd = zoho.org.add_record("Contacts", {"Last_Name": "Odd", "Email": "o(d)d,x@example.com"})
    ann = zoho.org.add_record("Contacts", {"Last_Name": "Ann", "Email": "ann@example.com"})
    criteria = r"((Email:equals:o\(d\)d\,x@example.com)or(Email:equals:ANN@example.com))"
    answer = api.get("/crm/v8/Contacts/search", params={"criteria": criteria, "fields": "Email"})
    assert answer.status_code == 200
    body = answer.json()
    assert sorted(r["id"] for r in body["data"]) == sorted([odd, ann])
    assert body["info"] == {"per_page": 200, "count": 2, "page": 1, "more_records": False}
    both_criteria = "((Last_Name:starts_with:an)and(Email:equals:ann@example.com))"
    both = api.get("/crm/v8/Contacts/search", params={"criteria": both_criteria})
    assert [r["id"] for r in both.json()["data"]] == [ann]
    eleven = "(" + "or".join(f"(Email:equals:{i}@example.com)" for i in range(11)) + ")"
    refused = api.get("/crm/v8/Contacts/search", params={"criteria": eleven})
    assert refused.status_code == 400 and refused.json()["code"] == "INVALID_QUERY"
    none = api.get("/crm/v8/Contacts/search", params={"criteria": "(Email:equals:no@example.com)"})
    assert none.status_code == 204 and none.content == b""
    by_email = api.get("/crm/v8/Contacts/search", params={"email": "Ann@Example.com"})
    assert [r["id"] for r in by_email.json()["data"]] == [ann]


def test_get_by_ids_needs_fields_and_at_most_100_ids(api: httpx.Client, zoho: ZohoSandbox) -> None:
    a = zoho.org.add_record("Contacts", {"Last_Name": "A", "Email": "a@example.com"})
    assert api.get("/crm/v8/Contacts", params={"ids": a}).json()["code"] == "REQUIRED_PARAM_MISSING"
    many = ",".join(str(i) for i in range(101))
    refused = api.get("/crm/v8/Contacts", params={"ids": many, "fields": "Email"})
    assert refused.json()["details"] == {"maximum_length": 100, "param_name": "ids"}
    found = api.get("/crm/v8/Contacts", params={"ids": f"{a},999", "fields": "Email"})
    assert found.json()["data"] == [{"id": a, "Email": "a@example.com"}]
    assert api.get("/crm/v8/Contacts", params={"ids": "999", "fields": "Email"}).status_code == 204
