"""A stand-in for Microsoft Entra ID's token endpoint: OAuth 2.0 client credentials.

``POST /{tenant}/oauth2/v2.0/token`` with a form body ``grant_type=client_credentials``,
``client_id``, ``client_secret`` and ``scope=https://{org}.crm.dynamics.com/.default``
answers ``{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
"access_token": "…"}`` [doc: learn.microsoft.com/entra/identity-platform/
v2-oauth2-client-creds-grant-flow; power-apps/developer/data-platform/authenticate-oauth].
Failures use the identity platform's error body (``error``, ``error_description`` starting
with the ``AADSTS`` code, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``,
``error_uri``) and its statuses: an unknown tenant ``400 invalid_request`` (AADSTS90002), an
unknown application ``400 unauthorized_client`` (AADSTS700016), a wrong secret
``401 invalid_client`` (AADSTS7000215), a scope without ``/.default`` ``400 invalid_scope``
(AADSTS1002012), another resource ``400 invalid_resource`` (AADSTS500011), another grant
``400 unsupported_grant_type`` (AADSTS70003) [doc: the AADSTS error code reference; the
exact description texts are abridged].

Tokens here are opaque random strings, not signed JWTs: the connector never reads inside a
token, and Dataverse is the only party that checks them. They expire after
``lifetime_s`` by the directory's clock (injectable), and :meth:`Directory.expire_all`
ends every token at once, so tests see the 401 a long run meets after an hour.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_TENANT = "00000000-0000-4000-8000-00000000a11d"
DEFAULT_CLIENT_ID = "11111111-2222-4333-8444-555555555555"
DEFAULT_CLIENT_SECRET = "relcrm-sandbox-secret~not-for-production"
DEFAULT_LIFETIME_S = 3599


@dataclass(frozen=True)
class AppRegistration:
    """An app registration with its Dataverse application user and that user's rights
    (``read``, ``write``, ``customize``: the security role's privileges, coarsely)."""

    client_id: str
    client_secret: str
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    privileges: frozenset[str] = frozenset({"read", "write", "customize"})


@dataclass
class IssuedToken:
    value: str
    client_id: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    body: dict[str, Any]


class Directory:
    """One tenant's app registrations and the tokens issued to them. Thread-safe."""

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT,
        resources: Iterable[str] = (),
        lifetime_s: int = DEFAULT_LIFETIME_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tenant_id = tenant_id
        self.resources = {r.rstrip("/").casefold() for r in resources}
        self.lifetime_s = lifetime_s
        self.clock = clock
        self.apps: dict[str, AppRegistration] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.issued = 0
        self._lock = threading.Lock()

    def register(self, app: AppRegistration) -> AppRegistration:
        with self._lock:
            self.apps[app.client_id] = app
        return app

    def add_resource(self, resource: str) -> None:
        with self._lock:
            self.resources.add(resource.rstrip("/").casefold())

    def _error(self, status: int, error: str, aadsts: int, description: str) -> TokenAnswer:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        text = (
            f"AADSTS{aadsts}: {description} Trace ID: {trace} Correlation ID: {correlation} "
            f"Timestamp: {stamp}"
        )
        return TokenAnswer(
            status,
            {
                "error": error,
                "error_description": text,
                "error_codes": [aadsts],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
            },
        )

    def token(self, tenant: str, form: Mapping[str, str]) -> TokenAnswer:
        """Answer a token request for ``tenant`` with the posted ``form``."""
        if tenant.casefold() != self.tenant_id.casefold():
            return self._error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id = form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None:
            return self._error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_id}'.",
            )
        given = form.get("client_secret", "").encode("utf-8")
        if not secrets.compare_digest(given, app.client_secret.encode("utf-8")):
            return self._error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'.",
            )
        scope = form.get("scope", "").strip()
        if not scope.endswith("/.default"):
            return self._error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        resource = scope.removesuffix("/.default").rstrip("/").casefold()
        if resource not in self.resources:
            return self._error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {scope.removesuffix('/.default')} was not "
                f"found in the tenant named {self.tenant_id}.",
            )
        value = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(32)
        with self._lock:
            self.tokens[value] = IssuedToken(value, client_id, self.clock() + self.lifetime_s)
            self.issued += 1
        return TokenAnswer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.lifetime_s,
                "ext_expires_in": self.lifetime_s,
                "access_token": value,
            },
        )

    def check(self, value: str) -> tuple[IssuedToken | None, str]:
        """The token and ``""`` when it is valid; else None and why (``invalid``,
        ``expired``)."""
        with self._lock:
            found = self.tokens.get(value)
            if found is None:
                return None, "invalid"
            if found.revoked or self.clock() >= found.expires_at:
                return None, "expired"
            return found, ""

    def expire_all(self) -> None:
        """Every token issued so far is expired from now on (a run past the hour)."""
        with self._lock:
            for token in self.tokens.values():
                token.revoked = True

    def app_for(self, token: IssuedToken) -> AppRegistration:
        with self._lock:
            return self.apps[token.client_id]
