"""One place where every Dataverse call goes through: token, pacing, error table, policy.

``DataverseClient.request("POST", "contacts/Microsoft.Dynamics.CRM.UpdateMultiple", ...)``
takes a token (fetching one when there is none or it is about to expire), waits for a slot
in the client-side request window, sends the request with the OData headers, translates a
failure with the error table, and lets relcrm's one retry policy decide: a 401 drops the
token and the policy retries with a fresh one; a 429 waits its ``Retry-After`` (or pauses
the run with :class:`QuotaExhausted` when that wait is longer than ``pause_after_s`` or
than what the run's retry budget has left); a 5xx backs off. httpx itself never retries
(its transport is built with ``retries=0``), so nothing retries twice.

TLS is verified against the system store, or only against ``ca_file`` when one is set (a
sandbox's CA); the transport is injectable for tests that need to break it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx

from relcrm.connectors.dataverse.auth import TokenProvider
from relcrm.connectors.dataverse.errors import (
    SERVICE_PROTECTION,
    SQL_DEADLOCK,
    RecordBusy,
    translate_answer,
    translate_transport,
)
from relcrm.connectors.dataverse.ratelimit import RequestWindow
from relcrm.connectors.dataverse.settings import DataverseSettings
from relcrm.connectors.errors import QuotaExhausted, TransientError
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.errors import ConfigurationError

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


def check_settings(settings: DataverseSettings) -> None:
    """Refuse settings that cannot reach an environment, naming what is missing."""
    missing = [
        name
        for name in ("environment_url", "tenant_id", "client_id", "client_secret")
        if getattr(settings, name) is None
    ]
    if missing:
        variables = ", ".join(f"RELCRM_DATAVERSE_{n.upper()}" for n in missing)
        raise ConfigurationError(
            f"the Dataverse connector lacks {', '.join(missing)}",
            hint=f"set {variables} (the secret in the environment or the target's secrets "
            "file, the rest in the targets file)",
            code="config.invalid_settings",
        )


def tls_verify(settings: DataverseSettings) -> ssl.SSLContext | bool:
    """An SSL context trusting only ``ca_file`` when one is set; else the system store."""
    if settings.ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(settings.ca_file))
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"the CA file {settings.ca_file} cannot be read: {error}",
            hint="point ca_file at the CA bundle that signed the environment's certificate",
            code="config.invalid_settings",
        ) from None


class DataverseClient:
    """httpx plus relcrm's token provider, request window, error table and retry policy."""

    def __init__(
        self,
        settings: DataverseSettings,
        *,
        policy: RetryPolicy | None = None,
        window: RequestWindow | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        check_settings(settings)
        self.settings = settings
        self.policy = policy or RetryPolicy(
            attempts=settings.retry_attempts,
            record_attempts=settings.record_retry_attempts,
            budget=RetryBudget(settings.retry_budget_s),
        )
        verify = tls_verify(settings)
        self.http = httpx.Client(
            timeout=settings.timeout_s,
            transport=transport or httpx.HTTPTransport(verify=verify, retries=0),
            verify=verify,
            follow_redirects=False,
        )
        self.tokens = TokenProvider(settings, self.http, clock=self.policy.clock)
        self.window = window or RequestWindow(
            settings.rate_limit_max,
            settings.rate_limit_window_s,
            clock=self.policy.clock,
            sleep=self.policy.sleep,
        )
        self._count_lock = threading.Lock()
        self.requests = 0
        """Web API requests sent (token requests not included)."""
        self.rate_limited = 0
        """429s received."""

    def __repr__(self) -> str:
        return f"DataverseClient(environment_url={self.settings.environment_url!r})"

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.settings.api_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        resend_uncertain: bool = True,
        values: Iterable[object] = (),
        record_level: bool = False,
    ) -> httpx.Response:
        """Send one request under the policy; return the answer (status < 400) or raise a
        translated connector error. ``values`` are withheld from any message;
        ``record_level`` raises a record's transient failure (a deadlock) at once as
        :class:`RecordBusy`, for the writer to retry that record alone;
        ``resend_uncertain=False`` (writes) raises a failure after which Dataverse may
        have done the work, for the writer to read back."""
        sent = list(values)
        url = self.url(path)

        def attempt() -> httpx.Response:
            token = self.tokens.token()
            self.window.acquire()
            with self._count_lock:
                self.requests += 1
            try:
                answer = self.http.request(
                    method,
                    url,
                    headers={
                        **ODATA_HEADERS,
                        "Authorization": f"Bearer {token}",
                        **(headers or {}),
                    },
                    json=json,
                    params=params,
                    content=content,
                )
            except httpx.HTTPError as exc:
                raise translate_transport(exc, what=what) from None
            if answer.status_code < 400:
                return answer
            error = translate_answer(
                answer.status_code, answer.headers, answer.content, what=what, values=sent
            )
            if answer.status_code == 429:
                with self._count_lock:
                    self.rate_limited += 1
                self._pause_if_long(error)
            if record_level and error.vendor_code == SQL_DEADLOCK:
                raise RecordBusy(error.message, vendor_code=error.vendor_code)
            raise error

        return self.policy.call(
            attempt, refresh=self.tokens.invalidate, resend_uncertain=resend_uncertain
        )

    def _pause_if_long(self, error: Exception) -> None:
        """A limit that asks for a longer wait than the run may spend pauses the run."""
        if not isinstance(error, TransientError):
            return
        wait = error.retry_after or 0.0
        limit = min(self.settings.pause_after_s, self.policy.budget.remaining_s)
        if error.vendor_code in SERVICE_PROTECTION and wait > limit:
            raise QuotaExhausted(
                f"{error.message} (Dataverse asks to wait {wait:g} s, longer than this run "
                "may wait)",
                vendor_code=error.vendor_code,
                retry_after=wait,
            )

    def get_json(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return self.request("GET", path, what=what, params=params, headers=headers).json()

    def pages(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a query, following ``@odata.nextLink``."""
        body = self.get_json(path, what=what, params=params, headers=headers)
        while True:
            yield from body.get("value") or []
            link = body.get("@odata.nextLink")
            if not link:
                return
            body = self.get_json(str(link), what=what, headers=headers)
