"""Access tokens for Dataverse: the OAuth 2.0 client-credentials grant, one form POST.

``POST {authority_url}/{tenant_id}/oauth2/v2.0/token`` with ``grant_type=client_credentials``,
``client_id``, ``client_secret`` and ``scope={environment_url}/.default`` answers a bearer
token and its lifetime [doc: learn.microsoft.com/entra/identity-platform/
v2-oauth2-client-creds-grant-flow]. That is all a daemon needs, so relcrm does it itself
rather than through msal (see the package docstring): the token request goes through the
same httpx client, TLS settings and retry policy as every other call.

A token is reused until shortly before it expires (by the policy's clock) and fetched again
after a 401 (:meth:`TokenProvider.invalidate`, the retry policy's ``refresh``). The secret
is read here and nowhere else, and never appears in a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from relcrm.connectors.dataverse.errors import translate_token_answer, translate_transport
from relcrm.connectors.dataverse.settings import DataverseSettings
from relcrm.connectors.scrub import without_values

EARLY_S = 120.0
"""Renew a token this long before it expires (or at 90% of a shorter lifetime)."""


class TokenProvider:
    """Fetches, caches and renews the access token."""

    def __init__(
        self, settings: DataverseSettings, http: httpx.Client, *, clock: Callable[[], float]
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self.fetched = 0
        """Tokens fetched so far (a renewal after a 401 counts one)."""

    def __repr__(self) -> str:
        return f"TokenProvider(token_url={self.settings.token_url!r})"

    def invalidate(self) -> None:
        """Forget the token (it was refused): the next call fetches a new one."""
        with self._lock:
            self._token = None

    def token(self) -> str:
        with self._lock:
            if self._token is not None and self.clock() < self._renew_at:
                return self._token
            token, lifetime = self._fetch()
            self._token = token
            early = min(EARLY_S, lifetime * 0.1)
            self._renew_at = self.clock() + max(lifetime - early, 0.0)
            return token

    def _fetch(self) -> tuple[str, float]:
        settings = self.settings
        secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
        form = {
            "grant_type": "client_credentials",
            "client_id": settings.client_id or "",
            "client_secret": secret,
            "scope": settings.token_scope,
        }
        try:
            answer = self.http.post(
                settings.token_url, data=form, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise translate_transport(exc, what="the token request") from None
        if answer.status_code != 200:
            error = translate_token_answer(answer.status_code, answer.headers, answer.content)
            error.message = without_values(error.message, [secret]) or error.message
            raise error
        try:
            body = answer.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3599)
        except (ValueError, KeyError, TypeError):
            raise translate_token_answer(502, answer.headers, b"") from None
        self.fetched += 1
        return token, lifetime
