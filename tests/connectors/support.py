"""Builders for connector tests: a connector on the sandbox, people, records."""

from __future__ import annotations

from typing import Any

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.salesforce import AuthFlow, SalesforceConnector, SalesforceSettings
from relcrm.models import FieldSpec, FieldType, FieldWrite, RecordRef
from relcrm.sandbox.salesforce import SalesforceSandbox, loopback_session

MY_DOMAIN = "acme.my"


class Sleeps:
    """An injectable sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def settings_for(sandbox: SalesforceSandbox, flow: AuthFlow = AuthFlow.PASSWORD) -> Any:
    common: dict[str, Any] = {"_env_file": None, "auth_flow": flow}
    if flow is AuthFlow.SESSION_ID:
        return SalesforceSettings(
            **common, instance_url=sandbox.instance_url, session_id=sandbox.session_id
        )
    if flow is AuthFlow.PASSWORD:
        return SalesforceSettings(
            **common,
            username=sandbox.username,
            password=sandbox.password,
            security_token=sandbox.security_token,
        )
    if flow is AuthFlow.CLIENT_CREDENTIALS:
        return SalesforceSettings(
            **common,
            domain=MY_DOMAIN,
            consumer_key=sandbox.consumer_key,
            consumer_secret=sandbox.consumer_secret,
        )
    return SalesforceSettings(
        **common,
        username=sandbox.username,
        consumer_key=sandbox.consumer_key,
        private_key_file=sandbox.jwt_private_key_file,
    )


def connector(
    sandbox: SalesforceSandbox,
    flow: AuthFlow = AuthFlow.PASSWORD,
    *,
    sleeps: Sleeps | None = None,
    settings: SalesforceSettings | None = None,
    **kwargs: Any,
) -> SalesforceConnector:
    session = loopback_session(sandbox.instance_url, sandbox.ca_file, domains=[MY_DOMAIN])
    policy = RetryPolicy(sleep=sleeps if sleeps is not None else Sleeps())
    return SalesforceConnector(
        settings or settings_for(sandbox, flow), session=session, policy=policy, **kwargs
    )


def make_contacts(sf: Any, count: int, *, prefix: str = "p") -> list[str]:
    """Create ``count`` contacts (emails ``{prefix}{i}@example.com``); their ids in order."""
    ids: list[str] = []
    for start in range(0, count, 200):
        records = [
            {
                "attributes": {"type": "Contact"},
                "LastName": f"L{i}",
                "Email": f"{prefix}{i}@example.com",
            }
            for i in range(start, min(start + 200, count))
        ]
        answer = sf.restful("composite/sobjects", method="POST", json={"records": records})
        ids.extend(r["id"] for r in answer)
    return ids


def write_for(
    person: str, record_id: str, object_name: str = "Contact", **values: Any
) -> FieldWrite:
    return FieldWrite(
        person_id=person,
        record=RecordRef(system="salesforce", object=object_name, id=record_id),
        values=values,
    )


BAND = FieldSpec(
    name="Relcrm_Band__c",
    label="Relationship Band",
    type=FieldType.PICKLIST,
    picklist_values=("Thriving", "Steady", "At risk"),
    restricted=True,
)
HEALTH = FieldSpec(
    name="Relcrm_Health__c",
    label="Relationship Health",
    type=FieldType.NUMBER,
    precision=3,
    scale=0,
)
SPECS = [
    BAND,
    HEALTH,
    FieldSpec(name="Relcrm_Reasons__c", label="Reasons", type=FieldType.LONG_TEXT, length=32768),
    FieldSpec(name="Relcrm_Attitude__c", label="Attitude", type=FieldType.TEXT, length=40),
    FieldSpec(name="Relcrm_Share__c", label="Share", type=FieldType.PERCENT, precision=5, scale=2),
    FieldSpec(name="Relcrm_Advocate__c", label="Advocate", type=FieldType.CHECKBOX),
    FieldSpec(name="Relcrm_Last_NPS__c", label="Last NPS date", type=FieldType.DATE),
    FieldSpec(name="Relcrm_As_Of__c", label="As of", type=FieldType.DATETIME),
]
