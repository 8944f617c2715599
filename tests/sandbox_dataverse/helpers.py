"""Small builders shared by the Dataverse sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx

from relcrm.sandbox.dataverse.server import DataverseSandbox

ATTRIBUTES = "EntityDefinitions(LogicalName='contact')/Attributes"
KEYS = "EntityDefinitions(LogicalName='contact')/Keys"
SOLUTION = {"MSCRM.SolutionUniqueName": "relcrm"}


def label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {
                "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
                "Label": text,
                "LanguageCode": 1033,
            }
        ],
    }


def string_column(schema: str, length: int = 100) -> dict[str, Any]:
    """A ``StringAttributeMetadata`` body, as Microsoft's transcript sends it."""
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "AttributeType": "String",
        "AttributeTypeName": {"Value": "StringType"},
        "SchemaName": schema,
        "DisplayName": label(schema),
        "Description": label("a test column"),
        "RequiredLevel": {
            "Value": "None",
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "MaxLength": length,
        "FormatName": {"Value": "Text"},
    }


def seed_contacts(sandbox: DataverseSandbox, *emails: str) -> list[str]:
    return sandbox.seed(
        "contact", [{"emailaddress1": e, "lastname": e.split("@")[0]} for e in emails]
    )


def add_key_column(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    """``relcrm_personid`` and an Active alternate key on it."""
    assert api.post(ATTRIBUTES, json=string_column("relcrm_personid"), headers=SOLUTION)
    key = {
        "SchemaName": "relcrm_personid_key",
        "DisplayName": label("Person id"),
        "KeyAttributes": ["relcrm_personid"],
    }
    assert api.post(KEYS, json=key, headers=SOLUTION).status_code == 204
    sandbox.org.activate_keys()


def error_of(answer: httpx.Response) -> tuple[str, str]:
    body = answer.json()["error"]
    return str(body["code"]), str(body["message"])
