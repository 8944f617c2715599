"""Settings, the error table, TLS trust and value shapes of the Zoho connector."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from relcrm.connectors.errors import (
    ConnectionFailed,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    SessionExpired,
    TransientError,
)
from relcrm.connectors.registry import contract_gaps
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings, credits_per_day
from relcrm.connectors.zoho.describe import FieldInfo
from relcrm.connectors.zoho.errors import translate_answer
from relcrm.connectors.zoho.values import format_value, normalise
from relcrm.errors import ConfigurationError
from relcrm.sandbox.zoho.server import ZohoSandbox
from tests.connectors_zoho.conftest import connector_for, settings_for


def test_the_class_side_of_the_contract_is_complete() -> None:
    assert contract_gaps(ZohoConnector) == []
    assert ZohoConnector.declared_capabilities.name == "zoho"


def test_settings_come_from_the_environment_and_never_show_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELCRM_ZOHO_CLIENT_ID", "1000.ABC")
    monkeypatch.setenv("RELCRM_ZOHO_CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setenv("RELCRM_ZOHO_REFRESH_TOKEN", "1000.refresh.token")
    monkeypatch.setenv("RELCRM_ZOHO_DATA_CENTRE", "eu")
    settings = ZohoSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_centre == "eu"
    assert settings.refresh_token is not None
    assert settings.refresh_token.get_secret_value() == "1000.refresh.token"
    connector = ZohoConnector(settings)
    shown = f"{settings!r} {connector!r} {connector.client!r} {connector.client.tokens!r}"
    for secret in ("1000.ABC", "s3cr3t-value", "1000.refresh.token"):
        assert secret not in shown
    assert "https://accounts.zoho.eu/oauth/v2/token" in repr(connector.client.tokens)


def test_urls_must_be_https() -> None:
    with pytest.raises(ValidationError):
        ZohoSettings(_env_file=None, accounts_url="http://accounts.zoho.com")  # type: ignore[call-arg]


def test_missing_credentials_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ZohoConnector(ZohoSettings(_env_file=None, client_id=SecretStr("x")))  # type: ignore[call-arg]
    assert caught.value.code == "zoho.credentials_missing"
    assert "RELCRM_ZOHO_REFRESH_TOKEN" in caught.value.message


def test_credits_follow_the_edition_and_licences() -> None:
    def credits(**kw: object) -> int | None:
        return credits_per_day(ZohoSettings(_env_file=None, **kw))  # type: ignore[arg-type]

    assert credits(edition="free") == 5000
    assert credits(edition="standard", licences=10) == 52_500
    assert credits(edition="professional", licences=10_000) == 3_000_000
    assert credits(edition="ultimate", licences=10) == 70_000
    assert credits(credits_per_day=1234) == 1234


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (429, {"code": "TOO_MANY_REQUESTS", "message": "concurrency"}, {}, TransientError),
        (429, {"code": "TOO_MANY_REQUESTS", "message": "x"}, {"X-API-CREDITS-REMAINING": "0"},
         QuotaExhausted),
        (429, {"code": "TOO_MANY_REQUESTS",
               "message": "Number of API requests for the 24 hour period is exceeded"}, {},
         QuotaExhausted),
        (401, {"code": "INVALID_TOKEN", "message": "invalid oauth token"}, {}, SessionExpired),
        (401, {"code": "OAUTH_SCOPE_MISMATCH"}, {}, PermissionDenied),
        (403, {"code": "NO_PERMISSION", "message": "permission denied"}, {}, PermissionDenied),
        (400, {"code": "INVALID_MODULE"}, {}, RequestRejected),
        (500, {"code": "INTERNAL_ERROR"}, {}, TransientError),
        (502, {"code": "HTTP_502"}, {}, TransientError),
    ],
)  # fmt: skip
def test_the_error_table_decides_on_zohos_code(
    status: int, body: dict[str, str], headers: dict[str, str], expected: type
) -> None:
    error = translate_answer(status, body, headers, what="a test call")
    assert type(error) is expected
    if isinstance(error, TransientError) and status >= 500:
        assert error.maybe_applied  # a write that met a 500 is read back before re-sending


def test_tls_is_verified_a_sandbox_not_trusted_is_refused(zoho: ZohoSandbox) -> None:
    untrusted = settings_for(zoho, ca_file=None)
    with pytest.raises(ConnectionFailed) as caught:
        connector_for(zoho, settings=untrusted).describe("Contacts")
    assert caught.value.vendor_code == "TLS_CERTIFICATE"
    with pytest.raises(ConnectionFailed):
        ZohoConnector(settings_for(zoho, ca_file=Path("/nonexistent/ca.pem")))


def test_an_unreachable_host_is_transient_and_never_thought_applied(zoho: ZohoSandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    settings = settings_for(zoho, accounts_url=f"https://127.0.0.1:{port}")
    with pytest.raises(TransientError) as caught:
        connector_for(zoho, settings=settings, sleeps=sleeps).describe("Contacts")
    assert caught.value.vendor_code == "CONNECT_FAILED" and not caught.value.maybe_applied
    assert len(sleeps) == 4  # five tries


def test_values_are_sent_in_zohos_shapes_and_read_back_normalised() -> None:
    moment = FieldInfo("At", "datetime")
    assert format_value(moment, "2026-11-01T12:00:00.75+02:00") == "2026-11-01T10:00:00+00:00"
    assert normalise(moment, "2026-11-01T15:30:00+05:30") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    double = FieldInfo("H", "double", decimal_place=1)
    assert format_value(double, 87.25) == 87.3 and normalise(double, 87.3) == 87.3
    integer = FieldInfo("N", "integer")
    assert format_value(integer, 9.0) == 9 and normalise(integer, 9) == 9
    boolean = FieldInfo("B", "boolean")
    assert format_value(boolean, "true") is True and normalise(boolean, False) is False
    assert normalise(FieldInfo("T", "text"), "") is None
    assert normalise(FieldInfo("O", "ownerlookup"), {"name": "Ann", "id": "1"}) == "Ann"


def test_an_api_domain_setting_overrides_the_token_answer(zoho: ZohoSandbox) -> None:
    connector = connector_for(zoho, settings=settings_for(zoho, api_domain=zoho.base_url))
    assert connector.describe("Leads")
    assert connector.client.base_url(connector.client.tokens.current()) == zoho.base_url
