"""Login endpoints: the SOAP partner login and the OAuth 2.0 token endpoint.

simple-salesforce logs in with SOAP for username/password/security token, and with
``/services/oauth2/token`` for the password, client-credentials and JWT-bearer flows; the
answers here have the real shapes (a SOAP envelope with ``sessionId``/``serverUrl``, a
SOAP fault with ``sf:exceptionCode``; a token JSON with ``access_token``, ``instance_url``,
``id``, ``token_type``, ``issued_at``, ``signature``) so the client's parsing is exercised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from relcrm.sandbox.salesforce.org import Org

LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class AuthFailure(Exception):
    """A failed login: the HTTP status and the body to answer with."""

    status: int
    body: bytes
    content_type: str


def soap_login_fault(code: str, message: str) -> AuthFailure:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:sf="urn:fault.partner.soap.sforce.com"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return AuthFailure(500, body.encode("utf-8"), "text/xml;charset=UTF-8")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def soap_login(org: Org, body: bytes, version: str) -> bytes:
    """Check a partner ``<login>`` envelope and answer with a ``loginResponse``."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise soap_login_fault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
        ) from None
    values = {_local(el.tag): (el.text or "") for el in root.iter()}
    username = values.get("username", "")
    password = values.get("password", "")
    config = org.config
    accepted = {config.password + config.security_token}
    if not config.require_security_token:
        accepted.add(config.password)
    if username.lower() != config.username.lower() or password not in accepted:
        raise soap_login_fault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
        )
    token = org.new_session()
    base = org.instance_url
    user = org.records["User"][org.user_id]
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns="urn:partner.soap.sforce.com"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org.org_id}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{base}/services/Soap/u/{version}/{org.org_id}</serverUrl>"
        f"<sessionId>{escape(token)}</sessionId><userId>{org.user_id}</userId>"
        "<userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
        f"<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode><organizationId>{org.org_id}"
        f"</organizationId><organizationName>{escape(org.config.org_name)}</organizationName>"
        f"<userEmail>{escape(user['Email'])}</userEmail><userFullName>{escape(user['Name'])}"
        f"</userFullName><userId>{org.user_id}</userId><userName>{escape(user['Username'])}"
        "</userName><userTimeZone>America/Los_Angeles</userTimeZone></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return xml.encode("utf-8")


def _oauth_error(error: str, description: str, status: int = 400) -> AuthFailure:
    body = json.dumps({"error": error, "error_description": description}).encode("utf-8")
    return AuthFailure(status, body, "application/json;charset=UTF-8")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(org: Org, assertion: str) -> dict[str, Any]:
    """Check an RS256 JWT-bearer assertion against the org's configured public key."""
    invalid = _oauth_error("invalid_grant", "invalid assertion")
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64url_decode(head_b64))
        claims = json.loads(_b64url_decode(claims_b64))
        signature = _b64url_decode(sig_b64)
    except (ValueError, json.JSONDecodeError):
        raise invalid from None
    if header.get("alg") != "RS256" or org.config.jwt_public_key_pem is None:
        raise invalid
    key = serialization.load_pem_public_key(org.config.jwt_public_key_pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise invalid
    try:
        key.verify(
            signature,
            f"{head_b64}.{claims_b64}".encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise invalid from None
    if claims.get("iss") != org.config.consumer_key:
        raise _oauth_error("invalid_client_id", "client identifier invalid")
    if str(claims.get("aud", "")).rstrip("/") not in (*LOGIN_AUDIENCES, org.instance_url):
        raise _oauth_error("invalid_grant", "audience is invalid")
    if float(claims.get("exp", 0)) < time.time():
        raise _oauth_error("invalid_grant", "expired authorization code")
    if str(claims.get("sub", "")).lower() != org.config.username.lower():
        raise _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return dict(claims)


def oauth_token(org: Org, form: dict[str, str], authorization: str | None) -> bytes:
    """Answer ``POST /services/oauth2/token`` for the password, client-credentials and
    JWT-bearer grants."""
    config = org.config
    grant = form.get("grant_type", "")
    client_id = form.get("client_id")
    client_secret = form.get("client_secret")
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise _oauth_error("invalid_client", "invalid client credentials") from None
        client_id, _, client_secret = decoded.partition(":")
    if grant == "password":
        if client_id != config.consumer_key:
            raise _oauth_error("invalid_client_id", "client identifier invalid")
        if client_secret != config.consumer_secret:
            raise _oauth_error("invalid_client", "invalid client credentials")
        accepted = {config.password + config.security_token}
        if not config.require_security_token:
            accepted.add(config.password)
        if (
            form.get("username", "").lower() != config.username.lower()
            or form.get("password") not in accepted
        ):
            raise _oauth_error("invalid_grant", "authentication failure")
    elif grant == "client_credentials":
        if client_id != config.consumer_key or client_secret != config.consumer_secret:
            raise _oauth_error("invalid_client", "invalid client credentials")
    elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        verify_jwt(org, form.get("assertion", ""))
    else:
        raise _oauth_error("unsupported_grant_type", "grant type not supported")
    token = org.new_session()
    issued_at = str(int(time.time() * 1000))
    identity = f"{org.instance_url}/id/{org.org_id}/{org.user_id}"
    signature = base64.b64encode(
        hmac.new(
            config.consumer_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode("ascii")
    body = {
        "access_token": token,
        "instance_url": org.instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
    }
    if grant != "client_credentials":
        body["scope"] = "api"
    return json.dumps(body).encode("utf-8")
