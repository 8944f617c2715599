"""The Dataverse connector's settings, capabilities, describe and provisioning, end to end
against the HTTPS sandbox."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from relcrm.connectors import Connector
from relcrm.connectors.dataverse import CAPABILITIES, DataverseConnector, DataverseSettings
from relcrm.connectors.errors import PermissionDenied
from relcrm.errors import ConfigurationError
from relcrm.models import FieldSpec, FieldType, ProvisionPlan, RatePolicy
from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.connectors_dataverse.conftest import FakeClock, connector_for, settings_for
from tests.connectors_dataverse.helpers import PERSON_ID, SPECS


def test_settings_come_from_the_environment_and_hide_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELCRM_DATAVERSE_ENVIRONMENT_URL", "https://contoso.crm.dynamics.com/")
    monkeypatch.setenv("RELCRM_DATAVERSE_TENANT_ID", "contoso.onmicrosoft.com")
    monkeypatch.setenv("RELCRM_DATAVERSE_CLIENT_ID", "11111111-2222-4333-8444-555555555555")
    monkeypatch.setenv("RELCRM_DATAVERSE_CLIENT_SECRET", "s3cr3t-value")
    settings = DataverseSettings(_env_file=None)
    assert settings.api_url == "https://contoso.crm.dynamics.com/api/data/v9.2/"
    assert settings.token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert settings.token_scope == "https://contoso.crm.dynamics.com/.default"
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings)
    connector = DataverseConnector.from_settings(settings)
    assert "s3cr3t" not in repr(connector) and "s3cr3t" not in repr(connector.client.tokens)
    connector.close()


def test_settings_refuse_plain_http_and_missing_credentials() -> None:
    with pytest.raises(ValidationError, match="https"):
        DataverseSettings(_env_file=None, environment_url="http://contoso.crm.dynamics.com")
    with pytest.raises(ConfigurationError, match="client_secret") as caught:
        DataverseConnector(
            DataverseSettings(
                _env_file=None,
                environment_url="https://x.crm.dynamics.com",
                tenant_id="t",
                client_id="c",
            )
        )
    assert "RELCRM_DATAVERSE_CLIENT_SECRET" in (caught.value.hint or "")


def test_capabilities_are_declared_as_data(dv: DataverseSandbox, clock: FakeClock) -> None:
    connector = connector_for(dv, clock, batch_size=200)
    caps = connector.capabilities
    assert isinstance(connector, Connector)
    assert DataverseConnector.settings_class is DataverseSettings
    assert caps.objects == ("contact", "lead")
    assert caps.match_by == frozenset({"email", "external_id"})
    assert caps.fallback_matching and caps.all_or_nothing_batches and caps.reads_back
    assert not caps.support_cases and not caps.history_notes
    assert caps.rate_policy == RatePolicy(requests=6000, window_s=300, scope="user")
    assert caps.max_batch_size == 500 and CAPABILITIES.max_text_length == 4000
    assert connector.writer.batch_size == 200  # the settings split batches, not the features
    features = set(type(caps).model_fields) - {"bulk_threshold", "rate_policy"}
    for name in features:
        assert getattr(caps, name) == getattr(DataverseConnector.declared_capabilities, name)
    connector.close()


def test_describe_lists_standard_columns_as_specs(connector: DataverseConnector) -> None:
    specs = {s.name: s for s in connector.describe("contact")}
    assert specs["emailaddress1"].type is FieldType.TEXT and specs["emailaddress1"].length == 100
    assert specs["description"].type is FieldType.LONG_TEXT
    assert specs["birthdate"].type is FieldType.DATE
    assert specs["donotemail"].type is FieldType.CHECKBOX
    method = specs["preferredcontactmethodcode"]
    assert method.type is FieldType.PICKLIST and method.restricted
    assert method.picklist_values[:2] == ("Any", "Email")
    assert not specs["fullname"].updateable and not specs["emailaddress1"].custom
    assert "contactid" not in specs  # GUIDs and lookups are never written
    assert {s.name for s in connector.describe("leads")} >= {"companyname", "leadsourcecode"}


def test_plan_is_neutral_and_reads_only(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    plan = connector.plan_provisioning("contact", [*SPECS, PERSON_ID])
    assert isinstance(plan, ProvisionPlan)
    assert [s.name for s in plan.create] == [s.name for s in [*SPECS, PERSON_ID]]
    assert [c.fields for c in plan.changes] == [("relcrm_personid",)]
    assert "alternate key" in plan.changes[0].description
    assert not plan.conflicts
    assert all(call.method == "GET" for call in dv.log.calls() if "/api/" in call.path)


def test_provision_creates_columns_waits_for_the_key_and_is_idempotent(
    dv: DataverseSandbox, connector: DataverseConnector, clock: FakeClock
) -> None:
    created = connector.provision("contact", [*SPECS, PERSON_ID])
    assert len(created) == len(SPECS) + 1
    assert clock.sleeps == [1.0, 1.0]  # Pending, InProgress, then Active: two polls waited
    specs = {s.name: s for s in connector.describe("contact")}
    assert (specs["relcrm_health"].precision, specs["relcrm_health"].scale) == (5, 1)
    assert (specs["relcrm_last_nps"].precision, specs["relcrm_last_nps"].scale) == (2, 0)
    assert specs["relcrm_health_band"].picklist_values == ("healthy", "watch", "at_risk", "unknown")
    assert specs["relcrm_reasons"].length == 32768
    assert specs["relcrm_scored_at"].type is FieldType.DATETIME
    assert specs["relcrm_first_seen"].type is FieldType.DATE
    assert specs["relcrm_personid"].external_id
    posts = [c for c in dv.log.calls() if c.method == "POST"]
    assert len(posts) == len(SPECS) + 3  # nine columns, the key, and the token request
    dv.log.clear()
    assert connector.plan_provisioning("contact", [*SPECS, PERSON_ID]).empty
    assert connector.provision("contact", [*SPECS, PERSON_ID]) == []
    assert all(c.method == "GET" for c in dv.log.calls())


def test_columns_join_the_relcrm_solution(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", SPECS[:1])
    attribute = dv.org.entities["contact"].attributes["relcrm_health"]
    assert attribute.custom and attribute.schema_name == "relcrm_health"


def test_missing_options_are_added_and_other_types_reported(
    connector: DataverseConnector,
) -> None:
    band = SPECS[1]
    connector.provision("contact", [band.model_copy(update={"picklist_values": ("healthy",)})])
    plan = connector.plan_provisioning("contact", [band])
    assert [c.description for c in plan.changes] == [
        "add options watch, at_risk, unknown to relcrm_health_band"
    ]
    connector.provision("contact", [band])
    specs = {s.name: s for s in connector.describe("contact")}
    assert specs["relcrm_health_band"].picklist_values == band.picklist_values
    other = FieldSpec(name="relcrm_health_band", label="x", type=FieldType.CHECKBOX)
    assert connector.plan_provisioning("contact", [other]).conflicts == (
        "contact.relcrm_health_band is picklist, wanted checkbox",
    )


def test_names_must_carry_the_publisher_prefix(connector: DataverseConnector) -> None:
    bare = FieldSpec(name="health", label="Health", type=FieldType.NUMBER)
    with pytest.raises(ConfigurationError, match="relcrm_"):
        connector.plan_provisioning("contact", [bare])
    standard = FieldSpec(name="jobtitle", label="Job", type=FieldType.TEXT, custom=False)
    assert connector.plan_provisioning("contact", [standard]).empty


def test_unknown_tables_are_refused(connector: DataverseConnector) -> None:
    with pytest.raises(ConfigurationError, match="account"):
        connector.describe("account")


def test_a_user_without_customizer_rights_is_told_so(
    dv: DataverseSandbox, clock: FakeClock
) -> None:
    dv.add_app("55555555-0000-4000-8000-000000000005", "reader", ("read", "write"))
    connector = connector_for(
        dv,
        clock,
        client_id="55555555-0000-4000-8000-000000000005",
        client_secret=SecretStr("reader"),
    )
    with pytest.raises(PermissionDenied) as caught:
        connector.provision("contact", SPECS[:1])
    assert caught.value.vendor_code == "0x80040220"
    assert "security role" in (caught.value.hint or "")
    connector.close()


def test_settings_for_is_what_a_targets_file_gives(dv: DataverseSandbox) -> None:
    settings = settings_for(dv)
    assert settings.environment_url == dv.base_url and settings.ca_file == dv.ca_file


def test_numbers_become_integer_or_decimal_columns_by_precision_and_scale() -> None:
    from relcrm.connectors.dataverse.provisioning import attribute_body

    def body(**shape: int | None) -> dict[str, object]:
        spec = FieldSpec(name="relcrm_n", label="N", type=FieldType.NUMBER, **shape)  # type: ignore[arg-type]
        return attribute_body(spec, "relcrm_n")

    nps = body(precision=2, scale=0)
    assert (nps["AttributeType"], nps["MinValue"], nps["MaxValue"]) == ("Integer", -99, 99)
    health = body(precision=5, scale=1)
    assert (health["AttributeType"], health["Precision"], health["MaxValue"]) == (
        "Decimal",
        1,
        9999.9,
    )
    big = body(precision=12, scale=0)
    assert (big["AttributeType"], big["Precision"]) == ("Decimal", 0)
    free = body()
    assert (free["AttributeType"], free["Precision"], free["MaxValue"]) == (
        "Decimal",
        2,
        100_000_000_000,
    )
