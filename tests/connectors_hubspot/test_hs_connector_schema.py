"""Settings, errors, describe and provisioning, through hubspot-api-client on the sandbox."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from relcrm.connectors import Connector
from relcrm.connectors.errors import AuthenticationFailed, PermissionDenied, QuotaExhausted
from relcrm.connectors.hubspot import CAPABILITIES, HubSpotConnector, HubSpotSettings
from relcrm.connectors.hubspot.provisioning import property_name
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from tests.connectors_hubspot.conftest import connector_for
from tests.connectors_hubspot.helpers import SPECS

SECRET = "pat-na1-secret-0000-never-print"


def test_settings_from_env_keep_the_token_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RELCRM_HUBSPOT_ACCESS_TOKEN", SECRET)
    monkeypatch.setenv("RELCRM_HUBSPOT_BASE_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("RELCRM_HUBSPOT_OBJECT_TYPE", "contacts")
    settings = HubSpotSettings()
    assert settings.access_token is not None
    assert settings.access_token.get_secret_value() == SECRET
    assert settings.base_url == "https://127.0.0.1:9"
    connector = HubSpotConnector(settings)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("relcrm").debug("settings %s %r", settings, connector)
    for text in (repr(settings), str(settings), repr(connector), repr(connector.client)):
        assert SECRET not in text
    assert SECRET not in caplog.text
    assert isinstance(connector, Connector)
    assert connector.capabilities == CAPABILITIES


def test_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELCRM_HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="RELCRM_HUBSPOT_ACCESS_TOKEN"):
        HubSpotConnector(HubSpotSettings(_env_file=None))  # type: ignore[call-arg]


def test_wrong_token_stops_without_leaking_it(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    connector = connector_for(hs_sandbox, token=SECRET)
    with pytest.raises(AuthenticationFailed) as info:
        connector.describe("contacts")
    assert info.value.vendor_code == "INVALID_AUTHENTICATION"
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.__dict__)
    assert len(hs_sandbox.log) == 1  # no retries for bad credentials


def test_missing_scope_names_the_scope(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    token = hs_sandbox.add_token("pat-na1-readonly", ["crm.objects.contacts.read"])
    connector = connector_for(hs_sandbox, token=token)
    with pytest.raises(PermissionDenied) as info:
        connector.provision("contacts", SPECS[:1])
    assert "crm.schemas.contacts.read" in str(info.value) or "scope" in str(info.value)
    assert info.value.vendor_code == "MISSING_SCOPES"


def test_daily_quota_pauses(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=100, daily=1))
    connector = connector_for(hs_sandbox)
    connector.describe("contacts")
    with pytest.raises(QuotaExhausted) as info:
        connector.describe("contacts")
    assert info.value.vendor_code == "DAILY"


def test_describe_maps_hubspot_types(connector: HubSpotConnector) -> None:
    connector.provision("contacts", SPECS)
    specs = {s.name: s for s in connector.describe("contacts")}
    assert specs["email"].type is FieldType.TEXT and not specs["email"].custom
    assert specs["lifecyclestage"].type is FieldType.PICKLIST
    assert (
        specs["lifecyclestage"].restricted and "customer" in specs["lifecyclestage"].picklist_values
    )
    assert specs["hs_object_id"].updateable is False
    expected = {
        "relcrm_health": FieldType.NUMBER,
        "relcrm_band": FieldType.PICKLIST,
        "relcrm_reasons": FieldType.LONG_TEXT,
        "relcrm_churn_risk": FieldType.CHECKBOX,
        "relcrm_last_nps_date": FieldType.DATE,
        "relcrm_as_of": FieldType.DATETIME,
        "relcrm_attitude": FieldType.TEXT,
    }
    assert {n: specs[n].type for n in expected} == expected
    assert specs["relcrm_band"].picklist_values == ("Thriving", "Stable", "At risk")
    assert all(specs[n].custom and specs[n].updateable for n in expected)


def test_provision_plans_then_creates_idempotently(
    connector: HubSpotConnector, hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    planned = connector.provision("contacts", SPECS, dry_run=True)
    assert [s.name for s in planned] == [s.name for s in SPECS]
    assert all(c.method == "GET" for c in hs_sandbox.log.calls())  # a dry run only reads
    created = connector.provision("contacts", SPECS)
    assert [s.name for s in created] == [s.name for s in SPECS]
    group = hs_client.crm.properties.groups_api.get_by_name("contacts", "relcrm")
    assert group.name == "relcrm"
    band = hs_client.crm.properties.core_api.get_by_name("contacts", "relcrm_band")
    assert (band.type, band.field_type, band.group_name) == ("enumeration", "select", "relcrm")
    assert [(o.value, o.label) for o in band.options] == [
        ("Thriving", "Thriving"),
        ("Stable", "Stable"),
        ("At risk", "At risk"),
    ]
    churn = hs_client.crm.properties.core_api.get_by_name("contacts", "relcrm_churn_risk")
    assert (churn.type, churn.field_type) == ("bool", "booleancheckbox")
    as_of = hs_client.crm.properties.core_api.get_by_name("contacts", "relcrm_as_of")
    assert (as_of.type, as_of.field_type) == ("datetime", "date")
    reasons = hs_client.crm.properties.core_api.get_by_name("contacts", "relcrm_reasons")
    assert (reasons.type, reasons.field_type) == ("string", "textarea")

    hs_sandbox.log.clear()
    assert connector.provision("contacts", SPECS) == []
    assert connector.plan_provisioning("contacts", SPECS).empty
    assert all(c.method == "GET" for c in hs_sandbox.log.calls())


def test_provision_adds_missing_picklist_values_and_reports_conflicts(
    connector: HubSpotConnector, hs_client: Any
) -> None:
    connector.provision("contacts", SPECS)
    wider = SPECS[1].model_copy(
        update={"picklist_values": ("Thriving", "Stable", "At risk", "Lost")}
    )
    clash = FieldSpec(name="relcrm_health", label="Health", type=FieldType.TEXT)
    plan = connector.plan_provisioning("contacts", [wider, clash])
    assert [(c.description, c.fields) for c in plan.changes] == [
        ("add options Lost to relcrm_band", ("relcrm_band",))
    ]
    assert plan.touched == {"relcrm_band"} and plan.create == ()
    assert plan.conflicts == ("contacts.relcrm_health is number, wanted text",)
    assert connector.provisioner.plan("contacts", [wider]).add_options == {"relcrm_band": ["Lost"]}
    connector.provision("contacts", [wider])
    band = hs_client.crm.properties.core_api.get_by_name("contacts", "relcrm_band")
    assert [o.value for o in band.options] == ["Thriving", "Stable", "At risk", "Lost"]
    assert connector.plan_provisioning("contacts", [wider]).empty


def test_property_names_are_lower_case_ascii() -> None:
    assert property_name(FieldSpec(name="Relcrm_Health", label="H", type=FieldType.NUMBER)) == (
        "relcrm_health"
    )
    for bad in ("relcrm-health", "santé", "hs_health", "1health", "x" * 101):
        with pytest.raises(ConfigurationError):
            property_name(FieldSpec(name=bad, label="H", type=FieldType.NUMBER))
    assert CAPABILITIES.max_field_name_length == 100
    assert CAPABILITIES.max_batch_size == 100
