"""Logging in to Salesforce through simple-salesforce, with the four flows relcrm supports.

relcrm logs in with simple-salesforce's ``SalesforceLogin`` and then builds the client
from the session id (simple-salesforce's "direct" mode). That keeps simple-salesforce
from re-logging in on its own after a 401: the session refresh belongs to relcrm's one
retry policy, so nothing is retried twice.

The login answers also name the integration user (the SOAP ``userId``, the OAuth
identity URL ``.../id/00D.../005...``); provisioning needs that Id to assign the
permission set, so a response hook notes it while the login call runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.login import SalesforceLogin

from relcrm.connectors.errors import AuthenticationFailed
from relcrm.connectors.salesforce.settings import AuthFlow, SalesforceSettings
from relcrm.errors import ConfigurationError

_SOAP_USER_ID = re.compile(r"<userId>([A-Za-z0-9]{15,18})</userId>")


@dataclass(frozen=True)
class LoginResult:
    """A usable session: the token, the instance host (``host[:port]``), the user if known."""

    session_id: str
    instance: str
    user_id: str | None = None
    refreshable: bool = True

    def __repr__(self) -> str:  # the token never reaches a log
        return (
            f"LoginResult(session_id='**********', instance={self.instance!r}, "
            f"user_id={self.user_id!r}, refreshable={self.refreshable})"
        )


class _UserIdHook:
    """Notes the user Id from a login answer (SOAP XML or OAuth token JSON)."""

    def __init__(self) -> None:
        self.user_id: str | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code != 200:
            return
        path = urlsplit(response.url).path
        try:
            if path.endswith("/services/oauth2/token"):
                identity = response.json().get("id")
                if isinstance(identity, str) and "/" in identity:
                    self.user_id = identity.rstrip("/").rsplit("/", 1)[-1]
            elif "/services/Soap/u/" in path:
                found = _SOAP_USER_ID.search(response.text)
                if found:
                    self.user_id = found.group(1)
        except ValueError:
            return


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def _missing(settings: SalesforceSettings, flow: AuthFlow, *names: str) -> None:
    absent = [n for n in names if getattr(settings, n) in (None, "")]
    if absent:
        raise ConfigurationError(
            f"Salesforce {flow.value} login needs "
            + ", ".join(f"RELCRM_SALESFORCE_{n.upper()}" for n in absent),
            hint="set the missing settings, or choose another RELCRM_SALESFORCE_AUTH_FLOW",
        )


def login(settings: SalesforceSettings, session: requests.Session) -> LoginResult:
    """Log in with the flow the settings call for; no retries here (the policy's job).

    Raises :class:`ConfigurationError` when a flow's settings are incomplete; the
    SDK's authentication failures propagate for :func:`errors.translate` to classify.
    """
    flow = settings.resolved_flow()
    if flow is None:
        raise ConfigurationError(
            "no Salesforce credentials are configured",
            hint="set RELCRM_SALESFORCE_SESSION_ID and _INSTANCE_URL, or USERNAME/PASSWORD/"
            "SECURITY_TOKEN, or CONSUMER_KEY/CONSUMER_SECRET, or USERNAME/CONSUMER_KEY/"
            "PRIVATE_KEY_FILE",
        )
    if flow is AuthFlow.SESSION_ID:
        _missing(settings, flow, "session_id", "instance_url")
        client = Salesforce(
            instance_url=settings.instance_url,
            session_id=_secret(settings.session_id),
            session=session,
            version=settings.api_version,
        )
        return LoginResult(
            str(client.session_id), str(client.sf_instance), settings.user_id, refreshable=False
        )
    common: dict[str, Any] = {"session": session, "domain": settings.domain}
    kwargs: dict[str, Any]
    if flow is AuthFlow.PASSWORD:
        _missing(settings, flow, "username", "password")
        kwargs = {
            "username": settings.username,
            "password": _secret(settings.password),
            "security_token": _secret(settings.security_token) or "",
            "sf_version": settings.api_version,
        }
    elif flow is AuthFlow.CLIENT_CREDENTIALS:
        _missing(settings, flow, "consumer_key", "consumer_secret")
        if settings.domain in ("login", "test"):
            raise ConfigurationError(
                "the OAuth client-credentials flow needs a My Domain",
                hint="set RELCRM_SALESFORCE_DOMAIN to your My Domain prefix (acme.my)",
            )
        kwargs = {
            "consumer_key": settings.consumer_key,
            "consumer_secret": _secret(settings.consumer_secret),
        }
    else:
        _missing(settings, flow, "username", "consumer_key", "private_key_file")
        kwargs = {
            "username": settings.username,
            "consumer_key": settings.consumer_key,
            "privatekey_file": str(settings.private_key_file),
        }
    hook = _UserIdHook()
    hooks = session.hooks.setdefault("response", [])
    hooks.append(hook)
    try:
        session_id, instance = SalesforceLogin(**common, **kwargs)
    finally:
        hooks.remove(hook)
    if not session_id:
        raise AuthenticationFailed("Salesforce login returned no session")
    return LoginResult(str(session_id), str(instance), hook.user_id or settings.user_id)


def client_for(result: LoginResult, settings: SalesforceSettings, session: requests.Session) -> Any:
    """A simple-salesforce client on an existing session ("direct" mode: no SDK re-login)."""
    return Salesforce(
        session_id=result.session_id,
        instance=result.instance,
        session=session,
        version=settings.api_version,
    )
