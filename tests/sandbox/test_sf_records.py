"""Single-record REST, describe, validation errors and limits, through simple-salesforce."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.schema import FieldDef

FIELD_KEYS = 57  # every field of a real describe carries 57 keys (see the cassettes)


def _field(describe: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in describe["fields"] if f["name"] == name)


def test_global_describe(sf: Any) -> None:
    body = sf.describe()
    assert body["encoding"] == "UTF-8"
    assert body["maxBatchSize"] == 200
    names = {o["name"]: o for o in body["sobjects"]}
    assert {"Contact", "Lead", "Account", "Case"} <= set(names)
    assert names["Contact"]["keyPrefix"] == "003"
    assert names["Lead"]["keyPrefix"] == "00Q"


def test_contact_describe_matches_real_field_properties(sf: Any) -> None:
    body = sf.Contact.describe()
    email = _field(body, "Email")
    assert (email["type"], email["length"], email["byteLength"]) == ("email", 80, 240)
    assert email["idLookup"] is True and email["unique"] is False
    last = _field(body, "LastName")
    assert (last["type"], last["length"], last["nillable"]) == ("string", 80, False)
    desc = _field(body, "Description")
    assert (desc["type"], desc["length"]) == ("textarea", 32000)
    assert _field(body, "CreatedDate")["updateable"] is False
    assert all(len(f) == FIELD_KEYS for f in body["fields"])
    assert {
        "Id",
        "FirstName",
        "Phone",
        "AccountId",
        "OwnerId",
        "LastModifiedDate",
        "SystemModstamp",
    } <= {f["name"] for f in body["fields"]}


@pytest.mark.parametrize(
    ("name", "required"),
    [("Lead", {"LastName", "Company"}), ("Account", {"Name"}), ("Case", set())],
)
def test_required_fields_in_describe(sf: Any, name: str, required: set[str]) -> None:
    body = getattr(sf, name).describe()
    got = {
        f["name"]
        for f in body["fields"]
        if not f["nillable"]
        and f["createable"]
        and not f["defaultedOnCreate"]
        and f["type"] != "boolean"
    }
    assert got == required


def test_lead_status_and_case_fields(sf: Any) -> None:
    status = _field(sf.Lead.describe(), "Status")
    assert status["type"] == "picklist"
    assert status["picklistValues"][0]["value"] == "Open - Not Contacted"
    case = {f["name"] for f in sf.Case.describe()["fields"]}
    assert {
        "Subject",
        "Description",
        "Status",
        "Priority",
        "Origin",
        "ContactId",
        "SuppliedEmail",
        "CreatedDate",
        "ClosedDate",
    } <= case


def test_custom_object_describe(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.org.add_custom_object("Survey__c", "Survey")
    sf_sandbox.org.add_field(
        "Survey__c", FieldDef("Score__c", "Score", "double", precision=3, custom=True)
    )
    body = sf.Survey__c.describe()
    assert body["custom"] is True and body["name"] == "Survey__c"
    assert _field(body, "Score__c")["custom"] is True
    created = sf.Survey__c.create({"Name": "Q1", "Score__c": 9})
    assert created["id"].startswith(body["keyPrefix"])


def test_create_read_update_delete(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    created = sf.Contact.create(
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "Ada@Example.com"}
    )
    assert created["success"] is True and created["errors"] == []
    record_id = created["id"]
    assert len(record_id) == 18 and record_id.startswith("003")
    got = sf.Contact.get(record_id)
    assert got["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{record_id}",
    }
    assert got["Name"] == "Ada Lovelace" and got["Email"] == "ada@example.com"
    assert got["OwnerId"] == sf_sandbox.org.user_id
    assert sf.Contact.get(record_id[:15])["Id"] == record_id  # 15-character ids work too
    assert sf.Contact.update(record_id, {"Phone": "555-0100"}) == 204
    assert sf.Contact.get(record_id)["Phone"] == "555-0100"
    assert sf.Contact.delete(record_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(record_id)
    assert sf.query_all("SELECT Id FROM Contact")["totalSize"] == 0
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert deleted["records"][0]["IsDeleted"] is True
    writes = [(w.operation, w.id) for w in sf_sandbox.log.writes()]
    assert writes == [("create", record_id), ("update", record_id), ("delete", record_id)]


def test_get_with_fields_parameter(sf: Any) -> None:
    record_id = sf.Contact.create({"LastName": "Hopper"})["id"]
    got = sf.restful(f"sobjects/Contact/{record_id}", params={"fields": "LastName,Email"})
    assert set(got) == {"attributes", "LastName", "Email"}


def test_upsert_by_email_created_updated_and_ambiguous(sf: Any) -> None:
    key = quote("kim+test@example.com", safe="")
    assert sf.Contact.upsert(f"Email/{key}", {"LastName": "Kim"}) == 201
    assert sf.Contact.upsert(f"Email/{key}", {"FirstName": "Jo"}) == 200
    answer = sf.Contact.upsert(f"Email/{key}", {"FirstName": "Jo"}, raw_response=True)
    assert answer.json()["created"] is False
    found = sf.query("SELECT FirstName, Email FROM Contact")
    assert found["totalSize"] == 1
    assert found["records"][0]["Email"] == "kim+test@example.com"
    sf.Contact.create({"LastName": "Other", "Email": "kim+test@example.com"})
    with pytest.raises(SalesforceMoreThanOneRecord) as many:
        sf.Contact.upsert(f"Email/{key}", {"FirstName": "X"})
    assert len(many.value.content) == 2
    assert many.value.content[0].startswith("/services/data/v59.0/sobjects/Contact/003")


def test_upsert_wrong_field_is_404(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound) as failure:
        sf.Contact.upsert("Nope__c/1", {"LastName": "X"})
    assert failure.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.upsert("LastName/x", {"FirstName": "X"})  # not an external id or idLookup


def test_upsert_on_custom_external_id(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.org.add_field(
        "Contact",
        FieldDef(
            "Ext__c",
            "Ext",
            "string",
            length=18,
            external_id=True,
            id_lookup=True,
            unique=True,
            custom=True,
        ),
    )
    answer = sf.Contact.upsert("Ext__c/A-1", {"LastName": "Ext"}, raw_response=True)
    assert answer.status_code == 201
    assert answer.json() == {
        "id": answer.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    assert sf.Contact.upsert("Ext__c/A-1", {"LastName": "Ext2"}) == 200


def _error(excinfo: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    content = excinfo.value.content
    assert isinstance(content, list)
    result: dict[str, Any] = content[0]
    return result


def test_validation_errors_use_labels_and_api_names(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as too_long:
        sf.Contact.create({"LastName": "x" * 81})
    assert _error(too_long) == {
        "message": f"Last Name: data value too large: {'x' * 81} (max length=80)",
        "errorCode": "STRING_TOO_LONG",
        "fields": ["LastName"],
    }
    with pytest.raises(SalesforceMalformedRequest) as email:
        sf.Contact.create({"LastName": "x", "Email": "not-an-email"})
    assert _error(email)["errorCode"] == "INVALID_EMAIL_ADDRESS"
    assert _error(email)["fields"] == ["Email"]
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Lead.create({"LastName": "x"})
    assert _error(missing) == {
        "message": "Required fields are missing: [Company]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["Company"],
    }
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Contact.create({"LastName": "x", "Mood__c": "happy"})
    assert _error(unknown) == {
        "message": "No such column 'Mood__c' on sobject of type Contact",
        "errorCode": "INVALID_FIELD",
    }
    with pytest.raises(SalesforceMalformedRequest) as readonly:
        sf.Contact.create({"LastName": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert _error(readonly)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as parse:
        sf.Account.create({"Name": "x", "NumberOfEmployees": "many"})
    assert _error(parse)["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as date:
        sf.Contact.create({"LastName": "x", "Birthdate": "2020-13-45"})
    assert _error(date)["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as ref:
        sf.Contact.create({"LastName": "x", "AccountId": "003000000000000AAA"})
    assert _error(ref)["errorCode"] == "MALFORMED_ID"


def test_number_range_and_restricted_picklist(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    org = sf_sandbox.org
    org.add_field(
        "Contact", FieldDef("NPS__c", "NPS Score", "double", precision=3, scale=0, custom=True)
    )
    org.add_field(
        "Contact",
        FieldDef(
            "Band__c",
            "Health Band",
            "picklist",
            length=255,
            picklist=("Good", "Bad"),
            restricted=True,
            custom=True,
        ),
    )
    with pytest.raises(SalesforceMalformedRequest) as big:
        sf.Contact.create({"LastName": "x", "NPS__c": 1000})
    assert _error(big) == {
        "message": "NPS Score: value outside of valid range on numeric field: 1000",
        "errorCode": "NUMBER_OUTSIDE_VALID_RANGE",
        "fields": ["NPS__c"],
    }
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.create({"LastName": "x", "Band__c": "Meh"})
    assert _error(bad) == {
        "message": "Health Band: bad value for restricted picklist field: Meh",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["Band__c"],
    }
    ok = sf.Contact.create({"LastName": "x", "NPS__c": 9.4, "Band__c": "Good"})
    assert sf.Contact.get(ok["id"])["NPS__c"] == 9.0


def test_case_defaults_and_closing(sf: Any) -> None:
    contact = sf.Contact.create({"LastName": "Case"})["id"]
    case_id = sf.Case.create(
        {"Subject": "Broken", "ContactId": contact, "Origin": "Web", "SuppliedEmail": "a@b.com"}
    )["id"]
    assert case_id.startswith("500")
    case = sf.Case.get(case_id)
    assert (case["Status"], case["Priority"], case["ClosedDate"]) == ("New", "Medium", None)
    assert case["CaseNumber"]
    sf.Case.update(case_id, {"Status": "Closed"})
    assert sf.Case.get(case_id)["ClosedDate"] is not None


def test_limits_resource_and_daily_budget(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == sf_sandbox.org.config.api_daily_limit
    assert limits["DailyApiRequests"]["Remaining"] < limits["DailyApiRequests"]["Max"]
    sf_sandbox.org.api_usage = sf_sandbox.org.config.api_daily_limit
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Contact")
    assert _error(refused) == {
        "message": "TotalRequests Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
    }
    sf_sandbox.org.api_usage = 0


def test_record_count(sf: Any) -> None:
    sf.Account.create({"Name": "A"})
    assert sf.restful("limits/recordCount", params={"sObjects": "Account,Contact"}) == {
        "sObjects": [{"count": 1, "name": "Account"}]
    }


def test_unknown_resource_is_salesforce_404(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound) as failure:
        sf.restful("nothing/here")
    assert failure.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_id_insert_special_case_and_405(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    session = sf.session
    base = f"{sf_sandbox.instance_url}/services/data/v59.0/sobjects/Account/Id"
    headers = {"Authorization": f"Bearer {sf_sandbox.session_id}"}
    created = session.post(base, json={"Name": "Via Id"}, headers=headers)
    assert created.status_code == 201 and created.json()["created"] is True
    refused = session.patch(base + "/", json={"Name": "x"}, headers=headers)
    assert refused.status_code == 405
    assert refused.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_persistence_in_sqlite_file(tmp_path: Any) -> None:
    from relcrm.sandbox.pytest_support import sf_client
    from relcrm.sandbox.salesforce import running_sandbox

    data = tmp_path / "org.sqlite"
    with running_sandbox(data_file=data) as sandbox:
        sf = sf_client(sandbox)
        record_id = sf.Contact.create({"LastName": "Kept"})["id"]
    with running_sandbox(data_file=data) as sandbox:
        sf = sf_client(sandbox)
        assert sf.Contact.get(record_id)["LastName"] == "Kept"
        assert sf.Contact.create({"LastName": "New"})["id"] != record_id
