"""One place where every Zoho CRM call goes through: the token, the concurrency gate, the
error table and relcrm's one retry policy.

``ZohoClient.call("update Contacts", "PUT", "/crm/v8/Contacts", json=body)`` takes a
current access token (minting one when needed), waits for a slot of the concurrency gate
(at most ``max_concurrency`` calls in flight, Zoho's per-app limit), sends the request with
httpx, translates a refusal with the error table, and lets the retry policy decide: an
expired token is refreshed and the call sent again; a 429 for concurrency, a 500 or a
dropped connection is retried with backoff; spent credits, refused credentials or scopes
stop at once. httpx itself never retries (its transport has ``retries=0``), so nothing
retries twice.

Writes pass ``resend_uncertain=False``: a write that may have reached Zoho although no
answer came back is raised to the writer, which reads the records back before sending
them again. Every request carries ``timeout_s``; TLS is verified against the system store
or, when given, the settings' CA file only.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from relcrm.connectors.errors import ConnectionFailed, TransientError
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.transport import CONNECTION_DROPPED
from relcrm.connectors.zoho.auth import Grant, TokenManager
from relcrm.connectors.zoho.datacentres import accounts_url, api_domain
from relcrm.connectors.zoho.errors import CREDITS_HEADER, body_of, translate_answer
from relcrm.connectors.zoho.errors import translate_transport as _transport
from relcrm.connectors.zoho.settings import ZohoSettings

API_PATH = "/crm/v8"
EDITION_CONCURRENCY: Mapping[str, int] = {
    "free": 5,
    "standard": 10,
    "professional": 15,
    "enterprise": 20,
    "ultimate": 25,
}
"""Calls in progress at once per app (Zoho's API limits page, Kaizen #203)."""


def build_http(settings: ZohoSettings) -> httpx.Client:
    """An httpx client that verifies TLS (the settings' CA file, if any, alone) and never
    retries on its own."""
    verify: ssl.SSLContext | bool = True
    if settings.ca_file is not None:
        try:
            verify = ssl.create_default_context(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError):
            raise ConnectionFailed(
                f"the CA file {settings.ca_file} cannot be read",
                vendor_code="TLS_CERTIFICATE",
            ) from None
    return httpx.Client(
        verify=verify,
        timeout=httpx.Timeout(settings.timeout_s),
        transport=httpx.HTTPTransport(verify=verify, retries=0),
        follow_redirects=False,
        headers={"User-Agent": "relcrm", "Accept": "application/json"},
    )


class ZohoClient:
    """httpx plus relcrm's token manager, concurrency gate, error table and retry policy."""

    def __init__(
        self,
        settings: ZohoSettings,
        *,
        http: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_concurrency: int | None = None,
    ) -> None:
        self.settings = settings
        self.http = http if http is not None else build_http(settings)
        self.tokens = TokenManager(
            settings,
            self.http,
            accounts_url=settings.accounts_url or accounts_url(settings.data_centre),
            clock=clock,
        )
        self.policy = policy or RetryPolicy(
            attempts=settings.retry_attempts,
            record_attempts=settings.record_retry_attempts,
            budget=RetryBudget(settings.retry_budget_s),
        )
        self.max_concurrency = (
            max_concurrency
            or settings.max_concurrency
            or EDITION_CONCURRENCY.get(settings.edition, 5)
        )
        self._gate = threading.BoundedSemaphore(self.max_concurrency)
        self._lock = threading.Lock()
        self.calls = 0
        """API calls sent (retries included; token calls are counted by ``tokens``)."""
        self.rate_limited = 0
        """429s received."""
        self.credits_remaining: int | None = None
        """The last ``X-API-CREDITS-REMAINING`` Zoho sent (it sends it past half use)."""

    def __repr__(self) -> str:
        return f"ZohoClient(data_centre={self.settings.data_centre!r})"

    def base_url(self, grant: Grant) -> str:
        """Where the API is: the settings' override, else the token's ``api_domain``, else
        the data centre's."""
        return self.settings.api_domain or grant.api_domain or api_domain(self.settings.data_centre)

    def call(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        resend_uncertain: bool = True,
        per_record: str | None = None,
    ) -> dict[str, Any] | None:
        """Send one API call under the gate and the policy; the JSON answer, or None for
        204 No Content. With ``per_record`` (``"data"``, ``"fields"``) an answer carrying
        that list is returned whatever its status (207, or 400 when every record failed),
        so the caller reads each record's result."""
        used: dict[str, str | None] = {"token": None}

        def attempt() -> dict[str, Any] | None:
            grant = self.tokens.current()
            used["token"] = grant.token
            url = self.base_url(grant) + API_PATH + path
            headers = {"Authorization": f"Zoho-oauthtoken {grant.token}"}
            with self._gate:
                with self._lock:
                    self.calls += 1
                try:
                    response = self.http.request(
                        method, url, params=params, json=json_body, headers=headers
                    )
                except httpx.HTTPError as exc:
                    error = _transport(exc, what=what)
                    if error is None:
                        raise
                    raise error from None
            return self._answer(response, what=what, per_record=per_record)

        return self.policy.call(
            attempt,
            refresh=lambda: self.tokens.invalidate(used["token"]),
            resend_uncertain=resend_uncertain,
        )

    def _answer(
        self, response: httpx.Response, *, what: str, per_record: str | None
    ) -> dict[str, Any] | None:
        remaining = response.headers.get(CREDITS_HEADER)
        if remaining is not None and remaining.strip().isdigit():
            self.credits_remaining = int(remaining.strip())
        status = response.status_code
        if status == 204:
            return None
        if 200 <= status < 300:
            try:
                parsed = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                raise TransientError(
                    f"Zoho CRM's answer to {what} was cut off or unreadable; it may have "
                    "done the work",
                    vendor_code=CONNECTION_DROPPED,
                    maybe_applied=True,
                ) from None
            return parsed if isinstance(parsed, dict) else {}
        body = body_of(response)
        if per_record is not None and isinstance(body.get(per_record), list):
            return body
        if status == 429:
            with self._lock:
                self.rate_limited += 1
        raise translate_answer(status, body, response.headers, what=what)

    def close(self) -> None:
        self.http.close()
