"""Access tokens for Zoho CRM: the refresh-token grant, kept in memory only.

Zoho's OAuth (Accounts documentation; CRM v8 "Token Validity"): ``POST
{accounts}/oauth/v2/token`` with ``grant_type=refresh_token``, ``client_id``,
``client_secret`` and ``refresh_token`` (sent in the form body, as Zoho recommends, so they
stay out of URLs and access logs) answers an ``access_token`` that lives ``expires_in``
seconds (3,600) and the ``api_domain`` to call the API on. A refresh token may mint at most
ten access tokens in ten minutes, so this manager refreshes only when it must:

- ahead of expiry (``margin_s`` before, by an injectable clock), so a long run does not
  meet the hour's end mid-batch;
- when Zoho says the token is invalid (``INVALID_TOKEN``: revoked, or one of more than
  fifteen active tokens) - only if the token that failed is still the current one, so
  several threads meeting the same expiry refresh once.

The access token and the secrets never appear in reprs, logs or errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from relcrm.connectors.errors import TransientError, VendorError
from relcrm.connectors.zoho.errors import body_of, translate_token_answer, translate_transport
from relcrm.connectors.zoho.settings import ZohoSettings
from relcrm.errors import ConfigurationError

TOKEN_PATH = "/oauth/v2/token"
DEFAULT_MARGIN_S = 60.0


@dataclass(frozen=True)
class Grant:
    """An access token and where it may be used."""

    token: str
    api_domain: str | None
    expires_at: float

    def __repr__(self) -> str:
        return f"Grant(api_domain={self.api_domain!r}, expires_at={self.expires_at:.0f})"


class TokenManager:
    """Mints and keeps one access token; thread-safe."""

    def __init__(
        self,
        settings: ZohoSettings,
        http: httpx.Client,
        *,
        accounts_url: str,
        clock: Callable[[], float] = time.monotonic,
        margin_s: float = DEFAULT_MARGIN_S,
    ) -> None:
        missing = [
            name
            for name in ("client_id", "client_secret", "refresh_token")
            if getattr(settings, name) is None
        ]
        if missing:
            names = ", ".join(f"RELCRM_ZOHO_{m.upper()}" for m in missing)
            raise ConfigurationError(
                f"the Zoho connector lacks {names}",
                hint="create a self client in Zoho's API console, generate a refresh token "
                "with scopes ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL, and set them",
                code="zoho.credentials_missing",
            )
        self._settings = settings
        self._http = http
        self._url = accounts_url.rstrip("/") + TOKEN_PATH
        self._clock = clock
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._grant: Grant | None = None
        self.minted = 0
        """Access tokens obtained so far."""
        self.requests = 0
        """Calls made to the token endpoint (failed ones included)."""

    def __repr__(self) -> str:
        return f"TokenManager(url={self._url!r}, minted={self.minted})"

    def current(self) -> Grant:
        """A grant valid for at least ``margin_s`` more seconds (minting one if needed)."""
        with self._lock:
            grant = self._grant
            if grant is None or self._clock() >= grant.expires_at - self._margin_s:
                grant = self._mint()
                self._grant = grant
            return grant

    def invalidate(self, token: str | None) -> None:
        """Zoho refused ``token``: the next :meth:`current` mints a new one, unless another
        thread already replaced it."""
        with self._lock:
            if self._grant is not None and (token is None or self._grant.token == token):
                self._grant = None

    def _mint(self) -> Grant:
        settings = self._settings
        assert settings.client_id and settings.client_secret and settings.refresh_token
        form = {
            "grant_type": "refresh_token",
            "client_id": settings.client_id.get_secret_value(),
            "client_secret": settings.client_secret.get_secret_value(),
            "refresh_token": settings.refresh_token.get_secret_value(),
        }
        self.requests += 1
        try:
            response = self._http.post(self._url, data=form)
        except httpx.HTTPError as exc:
            error = translate_transport(exc, what="the access-token refresh")
            if error is None:
                raise
            if isinstance(error, TransientError):
                error.maybe_applied = False  # minting twice is harmless
            raise error from None
        body = body_of(response)
        problem: VendorError | None = translate_token_answer(response.status_code, body)
        if problem is not None:
            raise problem
        expires_in = body.get("expires_in", 3600)
        try:
            seconds = float(expires_in)
        except (TypeError, ValueError):
            seconds = 3600.0
        domain = body.get("api_domain")
        api_domain = str(domain).rstrip("/") if isinstance(domain, str) and domain else None
        if api_domain is not None and not api_domain.startswith("https://"):
            api_domain = None  # never send the token in clear, whatever the answer says
        self.minted += 1
        return Grant(str(body["access_token"]), api_domain, self._clock() + seconds)
