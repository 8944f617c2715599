"""sObject Collections: create, update, upsert, allOrNone, limits and per-record errors."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from relcrm.sandbox.salesforce import SalesforceSandbox


def contact(**fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact"}, **fields}


def test_create_in_request_order_with_partial_failure(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                contact(LastName="A"),
                contact(FirstName="no last name"),
                contact(LastName="C", Mood__c="x"),
                contact(LastName="D"),
            ],
        },
    )
    assert [r["success"] for r in results] == [True, False, False, True]
    assert set(results[0]) == {"id", "success", "errors"}
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    assert results[2]["errors"] == [
        {
            "statusCode": "INVALID_FIELD",
            "message": "No such column 'Mood__c' on sobject of type Contact",
            "fields": [],
        }
    ]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2
    assert sf_sandbox.log.calls()[0].status == 200


def test_all_or_none_rolls_back_everything(sf: Any) -> None:
    existing = sf.Contact.create({"LastName": "Before"})["id"]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": True,
            "records": [contact(id=existing, LastName="Changed"), contact(LastName="x" * 81)],
        },
    )
    assert results[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the"
                " request was using AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert results[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert sf.Contact.get(existing)["LastName"] == "Before"
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": True, "records": [contact(LastName="ok"), contact(LastName="x" * 81)]},
    )
    assert [r["success"] for r in created] == [False, False]
    assert created[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_update_collection(sf: Any) -> None:
    ids = [sf.Contact.create({"LastName": n})["id"] for n in ("a", "b")]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                contact(id=ids[0], Title="CEO"),
                contact(Id=ids[1], Title="CFO"),
                contact(Title="nobody"),
            ]
        },
    )
    assert [r["success"] for r in results] == [True, True, False]
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert results[2]["errors"][0] == {
        "statusCode": "MISSING_ARGUMENT",
        "message": "Id not specified in an update call",
        "fields": [],
    }
    assert sf.Contact.get(ids[1])["Title"] == "CFO"


def test_upsert_by_email_then_rerun_is_all_updates(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    records = [contact(LastName=f"P{i}", Email=f"P{i}@Example.com") for i in range(5)]
    first = sf.restful(
        "composite/sobjects/Contact/Email",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )
    assert [r["created"] for r in first] == [True] * 5
    second = sf.restful(
        "composite/sobjects/Contact/Email",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )
    assert [r["created"] for r in second] == [False] * 5
    assert [r["id"] for r in first] == [r["id"] for r in second]
    counts = sf_sandbox.log.write_counts("Contact")
    assert set(counts.values()) == {2}
    keys = [w.key for w in sf_sandbox.log.writes()][:5]
    assert keys == [f"P{i}@Example.com" for i in range(5)]


def test_upsert_on_id_inserts_null_ids(sf: Any) -> None:
    existing = sf.Account.create({"Name": "Old"})["id"]
    results = sf.restful(
        "composite/sobjects/Account/Id",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "New", "Id": None},
                {"attributes": {"type": "Account"}, "Name": "Renamed", "Id": existing},
            ],
        },
    )
    assert results[0]["created"] is True and results[1] == {
        "id": existing,
        "success": True,
        "errors": [],
        "created": False,
    }


def test_collection_rules(sf: Any) -> None:
    too_many = {"records": [contact(LastName=str(i)) for i in range(201)]}
    with pytest.raises(SalesforceMalformedRequest) as failure:
        sf.restful("composite/sobjects", method="POST", json=too_many)
    assert failure.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    missing_type = sf.restful(
        "composite/sobjects", method="POST", json={"records": [{"LastName": "x"}]}
    )
    assert missing_type[0]["errors"][0] == {
        "statusCode": "INVALID_TYPE",
        "message": "Must send a concrete entity type.",
        "fields": [],
    }
    with_id = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [contact(LastName="x", Id="003000000000001AAA")]},
    )
    assert with_id[0]["errors"][0]["message"] == "cannot specify Id in an insert call"
    wrong_type = sf.restful(
        "composite/sobjects/Contact/Email",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Lead"}, "Email": "a@b.c", "LastName": "x"}]},
    )
    assert wrong_type[0]["success"] is False
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful(
            "composite/sobjects/Contact/LastName",
            method="PATCH",
            json={"records": [contact(LastName="x")]},
        )
    with pytest.raises(SalesforceMalformedRequest) as parse:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [contact(LastName="x", Birthdate=[1])]},
        )
    assert parse.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_duplicate_external_id_in_collection(sf: Any) -> None:
    for _ in range(2):
        sf.Contact.create({"LastName": "Twin", "Email": "twin@example.com"})
    results = sf.restful(
        "composite/sobjects/Contact/Email",
        method="PATCH",
        json={"records": [contact(LastName="T", Email="twin@example.com")]},
    )
    error = results[0]["errors"][0]
    assert error["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert error["message"].startswith("Email: more than one record found for external id field:")


def test_collection_delete(sf: Any) -> None:
    ids = [sf.Contact.create({"LastName": n})["id"] for n in ("a", "b")]
    results = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "false"}
    )
    assert [r["success"] for r in results] == [True, True]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
