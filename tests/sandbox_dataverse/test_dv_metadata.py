"""Table metadata: column definitions, creating columns, option sets, alternate keys.

[doc: create-update-column-definitions-using-web-api] columns are created by POSTing a
typed ``…AttributeMetadata`` body with ``MSCRM.SolutionUniqueName``; the answer is ``204``
with ``OData-EntityId``; names carry the publisher's customization prefix. ``OptionSet`` is
only readable on the typed cast path (as PowerPlatform-Dataverse-Client reads it). [doc:
define-alternate-keys-entity; sample: PowerApps-Samples ``BulkOperations/Utility.cs``] keys
are indexed in the background: Pending, then Active (or Failed on duplicate values).
"""

from __future__ import annotations

from typing import Any

import httpx

from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.sandbox_dataverse.helpers import (
    ATTRIBUTES,
    KEYS,
    SOLUTION,
    add_key_column,
    error_of,
    label,
    seed_contacts,
    string_column,
)

PICKLISTS = f"{ATTRIBUTES}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"


def _column(api: httpx.Client, name: str) -> dict[str, Any]:
    answer = api.get(f"{ATTRIBUTES}(LogicalName='{name}')")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_attributes_list_their_types_and_the_properties_clients_read(api: httpx.Client) -> None:
    items = {a["LogicalName"]: a for a in api.get(ATTRIBUTES).json()["value"]}
    email = items["emailaddress1"]
    assert email["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert (email["AttributeType"], email["AttributeTypeName"]) == (
        "String",
        {"Value": "StringType"},
    )
    assert (email["SchemaName"], email["MaxLength"], email["IsCustomAttribute"]) == (
        "EMailAddress1",
        100,
        False,
    )
    assert email["DisplayName"]["UserLocalizedLabel"]["Label"] == "Email"
    assert items["fullname"]["IsValidForUpdate"] is False
    assert items["birthdate"]["Format"] == "DateOnly"
    assert "OptionSet" not in items["preferredcontactmethodcode"]


def test_option_sets_come_only_through_the_typed_cast(api: httpx.Client) -> None:
    refused = api.get(ATTRIBUTES, params={"$expand": "OptionSet"})
    assert refused.status_code == 400
    assert "Could not find a property named 'OptionSet'" in error_of(refused)[1]
    answer = api.get(
        PICKLISTS, params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"}
    )
    assert answer.status_code == 200
    rows = {r["LogicalName"]: r for r in answer.json()["value"]}
    options = rows["preferredcontactmethodcode"]["OptionSet"]["Options"]
    assert [(o["Value"], o["Label"]["UserLocalizedLabel"]["Label"]) for o in options][:2] == [
        (1, "Any"),
        (2, "Email"),
    ]
    assert set(rows) == {"preferredcontactmethodcode"}  # statecode is a StateAttributeMetadata


def test_creating_an_attribute_needs_the_publisher_prefix(api: httpx.Client) -> None:
    bare = api.post(ATTRIBUTES, json=string_column("Health"), headers=SOLUTION)
    assert bare.status_code == 400 and error_of(bare)[0] == "0x80048403"
    other = api.post(ATTRIBUTES, json=string_column("new_health"), headers=SOLUTION)
    assert other.status_code == 400 and "customization prefix" in error_of(other)[1]
    created = api.post(ATTRIBUTES, json=string_column("relcrm_Health", 20), headers=SOLUTION)
    assert created.status_code == 204
    assert "/Attributes(" in created.headers["OData-EntityId"]
    column = _column(api, "relcrm_health")  # the logical name is the lower-cased schema name
    assert (column["SchemaName"], column["MaxLength"], column["IsCustomAttribute"]) == (
        "relcrm_Health",
        20,
        True,
    )
    again = api.post(ATTRIBUTES, json=string_column("relcrm_Health"), headers=SOLUTION)
    assert error_of(again)[0] == "0x80044363"


def test_without_the_solution_header_the_default_publishers_prefix_applies(
    api: httpx.Client,
) -> None:
    assert api.post(ATTRIBUTES, json=string_column("relcrm_x")).status_code == 400
    assert api.post(ATTRIBUTES, json=string_column("new_x")).status_code == 204


def test_a_new_string_column_enforces_its_max_length(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    api.post(ATTRIBUTES, json=string_column("relcrm_emotion", 5), headers=SOLUTION)
    (contact,) = seed_contacts(dv, "a@example.com")
    answer = api.patch(f"contacts({contact})", json={"relcrm_emotion": "serenity"})
    assert error_of(answer) == (
        "0x80044331",
        "A validation error occurred.  The length of the 'relcrm_emotion' attribute of the "
        "'contact' entity exceeded the maximum allowed length of '5'.",
    )


def _typed(kind: str, schema: str, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": f"Microsoft.Dynamics.CRM.{kind}AttributeMetadata",
        "SchemaName": schema,
        "DisplayName": label(schema),
        **extra,
    }


def test_each_column_type_is_created_with_its_shape(api: httpx.Client) -> None:
    bodies = [
        _typed("Memo", "relcrm_Reasons", MaxLength=32768, Format="TextArea"),
        _typed("Integer", "relcrm_Nps", MinValue=-99, MaxValue=99, Format="None"),
        _typed("Decimal", "relcrm_Health", Precision=1, MinValue=-9999.9, MaxValue=9999.9),
        _typed(
            "Boolean",
            "relcrm_Churn",
            OptionSet={
                "TrueOption": {"Value": 1, "Label": label("Yes")},
                "FalseOption": {"Value": 0, "Label": label("No")},
            },
        ),
        _typed("DateTime", "relcrm_Scored", Format="DateAndTime"),
        _typed("DateTime", "relcrm_Day", Format="DateOnly"),
        _typed(
            "Picklist",
            "relcrm_Band",
            OptionSet={
                "IsGlobal": False,
                "Options": [{"Label": label("healthy")}, {"Label": label("watch")}],
            },
        ),
    ]
    for body in bodies:
        answer = api.post(ATTRIBUTES, json=body, headers=SOLUTION)
        assert answer.status_code == 204, answer.text
    assert _column(api, "relcrm_reasons")["MaxLength"] == 32768
    assert (_column(api, "relcrm_health")["Precision"], _column(api, "relcrm_nps")["MaxValue"]) == (
        1,
        99,
    )
    assert _column(api, "relcrm_day")["DateTimeBehavior"] == {"Value": "DateOnly"}
    band = api.get(
        f"{ATTRIBUTES}(LogicalName='relcrm_band')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$expand": "OptionSet"},
    ).json()
    # numbered from the relcrm publisher's option value prefix, as in Microsoft's transcript
    assert [o["Value"] for o in band["OptionSet"]["Options"]] == [727000000, 727000001]


def test_a_global_option_set_cannot_be_created_inline(api: httpx.Client) -> None:
    body = _typed("Picklist", "relcrm_Band", OptionSet={"IsGlobal": True, "Options": []})
    answer = api.post(ATTRIBUTES, json=body, headers=SOLUTION)
    assert error_of(answer)[0] == "0x80048403" and "IsGlobal" in error_of(answer)[1]


def test_insert_option_value_adds_an_option(api: httpx.Client) -> None:
    body = _typed("Picklist", "relcrm_Band", OptionSet={"Options": [{"Label": label("a")}]})
    api.post(ATTRIBUTES, json=body, headers=SOLUTION)
    answer = api.post(
        "InsertOptionValue",
        json={
            "EntityLogicalName": "contact",
            "AttributeLogicalName": "relcrm_band",
            "Label": label("b"),
            "SolutionUniqueName": "relcrm",
        },
    )
    assert answer.status_code == 200 and answer.json()["NewOptionValue"] == 727000001


def test_alternate_key_is_pending_then_active(dv: DataverseSandbox, api: httpx.Client) -> None:
    api.post(ATTRIBUTES, json=string_column("relcrm_personid"), headers=SOLUTION)
    key = {
        "SchemaName": "relcrm_personid_key",
        "DisplayName": label("Person id"),
        "KeyAttributes": ["relcrm_personid"],
    }
    created = api.post(KEYS, json=key, headers=SOLUTION)
    assert created.status_code == 204 and "/Keys(" in created.headers["OData-EntityId"]
    seen = []
    for _ in range(4):
        body = api.get(f"{KEYS}(LogicalName='relcrm_personid_key')").json()
        seen.append(body["EntityKeyIndexStatus"])
    assert seen == ["Pending", "InProgress", "Active", "Active"]
    assert body["KeyAttributes"] == ["relcrm_personid"]
    assert body["AsyncJob"]["LogicalName"] == "asyncoperation"


def test_a_key_over_duplicate_values_fails(dv: DataverseSandbox, api: httpx.Client) -> None:
    api.post(ATTRIBUTES, json=string_column("relcrm_personid"), headers=SOLUTION)
    dv.seed("contact", [{"relcrm_personid": "p1"}, {"relcrm_personid": "P1"}])
    key = {"SchemaName": "relcrm_personid_key", "KeyAttributes": ["relcrm_personid"]}
    api.post(KEYS, json=key, headers=SOLUTION)
    statuses = [api.get(KEYS).json()["value"][0]["EntityKeyIndexStatus"] for _ in range(4)]
    assert statuses[-1] == "Failed"


def test_an_active_key_makes_its_column_unique_and_addressable(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    api.post(ATTRIBUTES, json=string_column("relcrm_personid"), headers=SOLUTION)
    first, second = seed_contacts(dv, "a@example.com", "b@example.com")
    api.patch(f"contacts({first})", json={"relcrm_personid": "p1"})
    key = {"SchemaName": "relcrm_personid_key", "KeyAttributes": ["relcrm_personid"]}
    api.post(KEYS, json=key, headers=SOLUTION)
    early = api.get("contacts(relcrm_personid='p1')")
    assert early.status_code == 400 and "not active" in error_of(early)[1]
    dv.org.activate_keys()
    found = api.get("contacts(relcrm_personid='p1')", params={"$select": "emailaddress1"})
    assert found.json()["emailaddress1"] == "a@example.com"
    duplicate = api.patch(f"contacts({second})", json={"relcrm_personid": "P1"})
    assert duplicate.status_code == 412
    assert error_of(duplicate) == (
        "0x80060892",
        "A record with matching key values already exists.",
    )


def test_keys_need_the_prefix_and_a_keyable_column(dv: DataverseSandbox, api: httpx.Client) -> None:
    add_key_column(api, dv)
    bad_prefix = {"SchemaName": "new_key", "KeyAttributes": ["relcrm_personid"]}
    assert api.post(KEYS, json=bad_prefix, headers=SOLUTION).status_code == 400
    memo = {"SchemaName": "relcrm_memo_key", "KeyAttributes": ["description"]}
    assert error_of(api.post(KEYS, json=memo, headers=SOLUTION))[0] == "0x80048403"
