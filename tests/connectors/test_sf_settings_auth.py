"""Settings and the four login flows, against the HTTPS sandbox through simple-salesforce."""

from __future__ import annotations

from typing import Any

import pytest

from relcrm.connectors.errors import AuthenticationFailed
from relcrm.connectors.salesforce import AuthFlow, SalesforceSettings
from relcrm.errors import ConfigurationError
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox
from tests.connectors.support import Sleeps, connector, settings_for

SECRETS = ("sandbox-password", "SANDBOXTOKEN123", "sandbox-consumer-secret")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELCRM_SALESFORCE_USERNAME", "u@example.com")
    monkeypatch.setenv("RELCRM_SALESFORCE_PASSWORD", "sandbox-password")
    monkeypatch.setenv("RELCRM_SALESFORCE_SECURITY_TOKEN", "SANDBOXTOKEN123")
    monkeypatch.setenv("RELCRM_SALESFORCE_API_VERSION", "62.0")
    settings = SalesforceSettings(_env_file=None)
    assert settings.username == "u@example.com" and settings.api_version == "62.0"
    assert settings.resolved_flow() is AuthFlow.PASSWORD


def test_secrets_never_appear_in_reprs_or_dumps(sf_sandbox: SalesforceSandbox) -> None:
    settings = SalesforceSettings(
        _env_file=None,
        username="u",
        password="sandbox-password",
        security_token="SANDBOXTOKEN123",
        consumer_secret="sandbox-consumer-secret",
        session_id="00Dsecret!session",
    )
    for text in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ):
        for secret in (*SECRETS, "00Dsecret!session"):
            assert secret not in text
    conn = connector(sf_sandbox, AuthFlow.PASSWORD)
    assert conn.client.login_result.session_id not in repr(conn.client.login_result)


def test_failed_login_message_names_the_code_but_no_secret(sf_sandbox: SalesforceSandbox) -> None:
    settings = settings_for(sf_sandbox, AuthFlow.PASSWORD).model_copy(
        update={"password": SalesforceSettings(_env_file=None, password="wrong-Secret-9").password}
    )
    with pytest.raises(AuthenticationFailed) as failure:
        connector(sf_sandbox, settings=settings).describe("Contact")
    text = f"{failure.value} {failure.value!r} {failure.value.__cause__!r}"
    assert failure.value.vendor_code == "INVALID_LOGIN"
    assert failure.value.code == "connector.authentication_failed"
    assert "wrong-Secret-9" not in text and "SANDBOXTOKEN123" not in text


@pytest.mark.parametrize("flow", list(AuthFlow))
def test_each_flow_logs_in_and_knows_the_user(
    sf: Any, sf_sandbox: SalesforceSandbox, flow: AuthFlow
) -> None:
    conn = connector(sf_sandbox, flow)
    assert any(spec.name == "Email" for spec in conn.describe("Contact"))
    if flow is not AuthFlow.SESSION_ID:
        assert conn.client.login_result.user_id == sf_sandbox.org.user_id
        assert conn.provisioner.user_id() == sf_sandbox.org.user_id


def test_client_credentials_needs_a_my_domain(sf_sandbox: SalesforceSandbox) -> None:
    settings = settings_for(sf_sandbox, AuthFlow.CLIENT_CREDENTIALS).model_copy(
        update={"domain": "login"}
    )
    with pytest.raises(ConfigurationError):
        connector(sf_sandbox, settings=settings).describe("Contact")


def test_missing_settings_are_a_configuration_error(sf_sandbox: SalesforceSandbox) -> None:
    with pytest.raises(ConfigurationError, match="RELCRM_SALESFORCE_PASSWORD"):
        connector(
            sf_sandbox,
            settings=SalesforceSettings(_env_file=None, auth_flow=AuthFlow.PASSWORD, username="u"),
        ).describe("Contact")


def test_expired_session_is_refreshed_by_logging_in_again(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    conn = connector(sf_sandbox, AuthFlow.JWT_BEARER)
    conn.describe("Contact")
    sf_sandbox.set_faults(FaultPlan(session_expires_after=2))
    for _ in range(5):
        conn.describe("Contact")
    assert conn.client.logins >= 2


def test_expired_fixed_session_id_stops_with_a_clear_message(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    token = sf_sandbox.login()
    settings = settings_for(sf_sandbox, AuthFlow.SESSION_ID).model_copy(
        update={"session_id": SalesforceSettings(_env_file=None, session_id=token).session_id}
    )
    sleeps = Sleeps()
    conn = connector(sf_sandbox, settings=settings, sleeps=sleeps)
    sf_sandbox.org.expire_sessions()
    with pytest.raises(AuthenticationFailed, match="cannot be refreshed"):
        conn.describe("Contact")
