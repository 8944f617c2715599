"""Tooling API custom fields and field-level security through permission sets."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from relcrm.sandbox.salesforce import SalesforceSandbox

FIELDS: dict[str, dict[str, Any]] = {
    "NPS_Score__c": {"label": "NPS Score", "type": "Number", "precision": 3, "scale": 0},
    "Verbatim__c": {
        "label": "Verbatim",
        "type": "LongTextArea",
        "length": 32768,
        "visibleLines": 3,
    },
    "Mood__c": {"label": "Mood", "type": "Text", "length": 20},
    "Health__c": {"label": "Health", "type": "Percent", "precision": 5, "scale": 2},
    "Advocate__c": {"label": "Advocate", "type": "Checkbox", "defaultValue": "false"},
    "Last_Survey__c": {"label": "Last Survey", "type": "Date"},
    "Profiled_At__c": {"label": "Profiled At", "type": "DateTime"},
    "Band__c": {
        "label": "Health Band",
        "type": "Picklist",
        "valueSet": {
            "restricted": True,
            "valueSetDefinition": {
                "sorted": False,
                "value": [
                    {"fullName": "Promoter", "default": False, "label": "Promoter"},
                    {"fullName": "Detractor", "default": False, "label": "Detractor"},
                ],
            },
        },
    },
}


def create_fields(sf: Any) -> dict[str, str]:
    ids = {}
    for name, meta in FIELDS.items():
        result = sf.restful(
            "tooling/sobjects/CustomField/",
            method="POST",
            json={"FullName": f"Contact.{name}", "Metadata": meta},
        )
        assert result["success"] is True and result["id"].startswith("00N")
        assert set(result) == {"id", "success", "errors", "warnings", "infos"}
        ids[name] = result["id"]
    return ids


def grant(sf: Any, sf_sandbox: SalesforceSandbox, names: list[str], *, edit: bool = True) -> str:
    perm_set = sf.PermissionSet.create({"Name": "relcrm_fields", "Label": "relcrm fields"})["id"]
    for name in names:
        sf.FieldPermissions.create(
            {
                "ParentId": perm_set,
                "SobjectType": "Contact",
                "Field": f"Contact.{name}",
                "PermissionsRead": True,
                "PermissionsEdit": edit,
            }
        )
    sf.PermissionSetAssignment.create(
        {"AssigneeId": sf_sandbox.org.user_id, "PermissionSetId": perm_set}
    )
    return str(perm_set)


def test_new_fields_are_invisible_until_granted(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    create_fields(sf)
    described = {f["name"] for f in sf.Contact.describe()["fields"]}
    assert not described & set(FIELDS)
    with pytest.raises(SalesforceMalformedRequest) as write:
        sf.Contact.create({"LastName": "x", "NPS_Score__c": 9})
    assert write.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as read:
        sf.query("SELECT NPS_Score__c FROM Contact")
    assert read.value.content[0]["errorCode"] == "INVALID_FIELD"

    grant(sf, sf_sandbox, list(FIELDS))
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert set(FIELDS) <= set(fields)
    assert (fields["NPS_Score__c"]["type"], fields["NPS_Score__c"]["precision"]) == ("double", 3)
    assert (fields["Verbatim__c"]["type"], fields["Verbatim__c"]["length"]) == ("textarea", 32768)
    assert fields["Health__c"]["type"] == "percent"
    assert fields["Advocate__c"]["type"] == "boolean"
    assert fields["Last_Survey__c"]["type"] == "date"
    assert fields["Profiled_At__c"]["type"] == "datetime"
    assert fields["Band__c"]["restrictedPicklist"] is True
    assert [v["value"] for v in fields["Band__c"]["picklistValues"]] == ["Promoter", "Detractor"]
    assert all(f["custom"] for n, f in fields.items() if n in FIELDS)

    record = sf.Contact.create(
        {
            "LastName": "x",
            "NPS_Score__c": 9,
            "Band__c": "Promoter",
            "Profiled_At__c": "2024-05-01T10:00:00Z",
            "Last_Survey__c": "2024-04-30",
            "Health__c": 81.256,
        }
    )
    got = sf.Contact.get(record["id"])
    assert got["Profiled_At__c"] == "2024-05-01T10:00:00.000+0000"
    assert got["Health__c"] == 81.26 and got["Advocate__c"] is False
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.update(record["id"], {"Band__c": "Passive"})
    assert bad.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_read_only_permission_refuses_writes(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    create_fields(sf)
    grant(sf, sf_sandbox, ["Mood__c"], edit=False)
    assert "Mood__c" in {f["name"] for f in sf.Contact.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Contact.create({"LastName": "x", "Mood__c": "ok"})
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_tooling_query_and_get(sf: Any) -> None:
    ids = create_fields(sf)
    result = sf.toolingexecute(
        "query/?q=SELECT+Id,+DeveloperName,+TableEnumOrId+FROM+CustomField"
        "+WHERE+TableEnumOrId+=+'Contact'+ORDER+BY+DeveloperName"
    )
    assert result["totalSize"] == len(FIELDS)
    first = result["records"][0]
    assert first["DeveloperName"] == "Advocate" and first["TableEnumOrId"] == "Contact"
    assert first["attributes"]["type"] == "CustomField"
    one = sf.toolingexecute(f"sobjects/CustomField/{ids['Mood__c']}")
    assert one["FullName"] == "Contact.Mood__c" and one["Metadata"]["length"] == 20
    with pytest.raises(SalesforceMalformedRequest) as heavy:
        sf.toolingexecute("query/?q=SELECT+Id,+Metadata+FROM+CustomField")
    assert heavy.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_tooling_errors(sf: Any) -> None:
    create_fields(sf)
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.restful(
            "tooling/sobjects/CustomField/",
            method="POST",
            json={"FullName": "Contact.Mood__c", "Metadata": FIELDS["Mood__c"]},
        )
    assert "There is already a field named Mood" in duplicate.value.content[0]["message"]
    for meta in (
        {"label": "T", "type": "Text", "length": 256},
        {"label": "N", "type": "Number", "precision": 19, "scale": 0},
        {"label": "C", "type": "Checkbox"},
    ):
        with pytest.raises(SalesforceMalformedRequest):
            sf.restful(
                "tooling/sobjects/CustomField/",
                method="POST",
                json={"FullName": "Contact.Bad_One__c", "Metadata": meta},
            )
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "tooling/sobjects/CustomField/",
            method="POST",
            json={"FullName": "Contact.Bad__Name__c", "Metadata": FIELDS["Mood__c"]},
        )


def test_permission_objects_validate(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    create_fields(sf)
    perm_set = grant(sf, sf_sandbox, ["Mood__c"])
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.PermissionSetAssignment.create(
            {"AssigneeId": sf_sandbox.org.user_id, "PermissionSetId": perm_set}
        )
    assert duplicate.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    with pytest.raises(SalesforceMalformedRequest):
        sf.FieldPermissions.create(
            {
                "ParentId": perm_set,
                "SobjectType": "Contact",
                "Field": "Contact.Verbatim__c",
                "PermissionsRead": False,
                "PermissionsEdit": True,
            }
        )
    found = sf.query(
        f"SELECT Field, PermissionsEdit FROM FieldPermissions WHERE ParentId = '{perm_set}'"
    )
    assert found["records"][0]["Field"] == "Contact.Mood__c"


def test_deleting_the_field(sf: Any) -> None:
    ids = create_fields(sf)
    sf.restful(f"tooling/sobjects/CustomField/{ids['Mood__c']}", method="DELETE")
    result = sf.toolingexecute("query/?q=SELECT+Id+FROM+CustomField")
    assert result["totalSize"] == len(FIELDS) - 1
