"""Login flows and sessions, through simple-salesforce over real HTTPS sockets."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from relcrm.sandbox.pytest_support import sf_client, sf_password_client
from relcrm.sandbox.salesforce import FaultPlan, SalesforceSandbox, loopback_session


def test_versions_root_needs_no_session_and_lists_versions(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    answer = session.get(f"{sf_sandbox.instance_url}/services/data/")
    assert answer.status_code == 200
    assert {"label", "url", "version"} <= set(answer.json()[0])
    assert "59.0" in [v["version"] for v in answer.json()]


def test_tls_is_verified_against_the_sandbox_ca_only(sf_sandbox: SalesforceSandbox) -> None:
    stranger = requests.Session()
    stranger.trust_env = False  # the default trust store does not know the sandbox CA
    with pytest.raises(requests.exceptions.SSLError):
        stranger.get(f"{sf_sandbox.instance_url}/services/data/")


def test_session_id_client_and_limit_header(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].total == sf_sandbox.org.config.api_daily_limit
    assert sf.api_usage["api-usage"].used >= 1


def test_soap_login_with_security_token(sf_sandbox: SalesforceSandbox) -> None:
    sf = sf_password_client(sf_sandbox)
    assert sf.sf_instance == sf_sandbox.instance_url.removeprefix("https://")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
    assert sf_sandbox.log.calls()[-2].path == "/services/Soap/u/59.0"


def test_soap_login_bad_password_is_invalid_login(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=sf_sandbox.username, password="wrong", security_token="x", session=session
        )
    assert failure.value.code == "INVALID_LOGIN"


def test_soap_login_through_test_domain(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    sf = Salesforce(
        username=sf_sandbox.username,
        password=sf_sandbox.password,
        security_token=sf_sandbox.security_token,
        domain="test",
        session=session,
    )
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_oauth_password_grant(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    sf = Salesforce(
        username=sf_sandbox.username,
        password=sf_sandbox.password + sf_sandbox.security_token,
        consumer_key=sf_sandbox.consumer_key,
        consumer_secret=sf_sandbox.consumer_secret,
        session=session,
    )
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_oauth_token_response_shape(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    answer = session.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": sf_sandbox.consumer_key,
            "client_secret": sf_sandbox.consumer_secret,
            "username": sf_sandbox.username,
            "password": sf_sandbox.password + sf_sandbox.security_token,
        },
    )
    body = answer.json()
    assert answer.status_code == 200
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(
        body
    )
    assert body["id"].rsplit("/", 1)[-1] == sf_sandbox.org.user_id
    assert body["id"].rsplit("/", 2)[-2].startswith("00D")


def test_oauth_password_grant_without_token_fails(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=sf_sandbox.username,
            password=sf_sandbox.password,
            consumer_key=sf_sandbox.consumer_key,
            consumer_secret=sf_sandbox.consumer_secret,
            session=session,
        )
    assert failure.value.code == "invalid_grant"


def test_client_credentials_on_my_domain(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file, domains=["acme.my"])
    sf = Salesforce(
        consumer_key=sf_sandbox.consumer_key,
        consumer_secret=sf_sandbox.consumer_secret,
        domain="acme.my",
        session=session,
    )
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1
    bad = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file, domains=["acme.my"])
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(
            consumer_key=sf_sandbox.consumer_key,
            consumer_secret="nope",
            domain="acme.my",
            session=bad,
        )


def test_jwt_bearer_signature_is_verified(sf_sandbox: SalesforceSandbox, tmp_path: Any) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    sf = Salesforce(
        username=sf_sandbox.username,
        consumer_key=sf_sandbox.consumer_key,
        privatekey_file=str(sf_sandbox.jwt_private_key_file),
        session=session,
    )
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=sf_sandbox.username,
            consumer_key=sf_sandbox.consumer_key,
            privatekey=pem.decode(),
            session=session,
        )
    assert failure.value.code == "invalid_grant"


def test_expired_session_answers_the_real_401_list(sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.reset()
    token = sf_sandbox.login()
    sf_sandbox.set_faults(FaultPlan(session_expires_after=2))
    sf = sf_client(sf_sandbox, session_id=token)
    sf.query("SELECT Id FROM User")
    sf.query("SELECT Id FROM User")
    with pytest.raises(SalesforceExpiredSession) as failure:
        sf.query("SELECT Id FROM User")
    assert failure.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    sf_sandbox.set_faults(None)


def test_logged_in_client_relogs_in_after_expiry(sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.reset()
    sf_sandbox.set_faults(FaultPlan(session_expires_after=3))
    sf = sf_password_client(sf_sandbox)
    for _ in range(7):
        assert sf.Contact.describe()["name"] == "Contact"  # SFType path: re-login must work
        assert sf.query("SELECT Id FROM User")["totalSize"] == 1
    logins = [c for c in sf_sandbox.log.calls() if c.path.startswith("/services/Soap/u/")]
    assert len(logins) >= 4
    assert sf_sandbox.log.statuses()[401] >= 3
    sf_sandbox.set_faults(None)


def test_missing_or_unknown_token_is_401(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    url = f"{sf_sandbox.instance_url}/services/data/v59.0/sobjects"
    assert session.get(url).status_code == 401
    answer = session.get(url, headers={"Authorization": "Bearer nonsense"})
    assert answer.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_any_version_is_served(sf_sandbox: SalesforceSandbox) -> None:
    session = loopback_session(sf_sandbox.instance_url, sf_sandbox.ca_file)
    headers = {"Authorization": f"Bearer {sf_sandbox.session_id}"}
    for version in ("v48.0", "v59.0", "v62.0"):
        answer = session.get(
            f"{sf_sandbox.instance_url}/services/data/{version}/sobjects", headers=headers
        )
        assert answer.status_code == 200
        assert version in answer.json()["sobjects"][0]["urls"]["sobject"]
    assert (
        session.get(
            f"{sf_sandbox.instance_url}/services/data/59.0/sobjects", headers=headers
        ).status_code
        == 404
    )


def test_server_starts_quickly() -> None:
    from relcrm.sandbox.salesforce import running_sandbox

    started = time.monotonic()
    with running_sandbox() as sandbox:
        assert sandbox.instance_url.startswith("https://127.0.0.1:")
    assert time.monotonic() - started < 3


def test_cli_banner_names_everything_a_user_needs(sf_sandbox: SalesforceSandbox) -> None:
    banner = sf_sandbox.describe()
    for value in (
        sf_sandbox.instance_url,
        str(sf_sandbox.ca_file),
        sf_sandbox.username,
        sf_sandbox.password,
        sf_sandbox.security_token,
        sf_sandbox.consumer_key,
        sf_sandbox.consumer_secret,
    ):
        assert value in banner
    assert sf_sandbox.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
