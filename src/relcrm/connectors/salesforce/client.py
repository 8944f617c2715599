"""One place where every Salesforce call goes through: translate errors, apply the policy.

``SalesforceClient.call("query Contact", lambda sf: sf.query(...))`` runs the lambda on
the current simple-salesforce client; a failure is translated by the error table and the
retry policy decides: retry, log in again, or raise (quota, credentials, permissions).
Writes pass ``resend_uncertain=False``: a write that may have reached the org (the
connection dropped after sending, a read timeout) is raised to the writer, which reads
the records back before it sends them again.

Every request carries the settings' ``timeout_s`` (requests has no default, and a hung
connection would hold the run forever).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from relcrm.connectors.errors import AuthenticationFailed, SessionExpired
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.salesforce.auth import LoginResult, client_for, login
from relcrm.connectors.salesforce.errors import ResponseMemo, translate
from relcrm.connectors.salesforce.settings import SalesforceSettings

T = TypeVar("T")


def default_session(settings: SalesforceSettings) -> requests.Session:
    """A plain session: the CA from settings if given, no environment overrides, and
    requests' default adapters (which do not retry), so only the policy retries."""
    session = requests.Session()
    if settings.ca_file is not None:
        session.verify = str(settings.ca_file)
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    return session


def with_timeout(session: requests.Session, timeout_s: float) -> requests.Session:
    """Give every request of ``session`` a timeout unless the caller passed one
    (simple-salesforce passes none). Idempotent; the session is changed in place."""
    if getattr(session, "_relcrm_timeout", None) is not None:
        session._relcrm_timeout = timeout_s  # type: ignore[attr-defined]
        return session
    original = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None and len(args) <= 6:  # else timeout came positionally
            kwargs["timeout"] = session._relcrm_timeout  # type: ignore[attr-defined]
        return original(method, url, *args, **kwargs)

    session._relcrm_timeout = timeout_s  # type: ignore[attr-defined]
    session.request = request  # type: ignore[method-assign,assignment]
    return session


def default_policy(settings: Any) -> RetryPolicy:
    """The retry policy a connector's settings describe (a fresh budget: one run)."""
    return RetryPolicy(
        attempts=settings.retry_attempts,
        record_attempts=settings.record_retry_attempts,
        budget=RetryBudget(settings.retry_budget_s),
    )


class SalesforceClient:
    """A logged-in simple-salesforce client plus the retry policy and the error table."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.session = with_timeout(session or default_session(settings), settings.timeout_s)
        self.policy = policy or default_policy(settings)
        self.memo = ResponseMemo()
        self.memo.install(self.session)
        self.responses = 0
        self._count_lock = threading.Lock()  # not _lock: responses arrive while it is held
        """HTTP responses received (every call the org answered), for run reports."""
        self.session.hooks.setdefault("response", []).append(self._count_response)
        self._lock = threading.Lock()
        self._login: LoginResult | None = None
        self._sf: Any = None
        self.logins = 0

    def _count_response(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        with self._count_lock:
            self.responses += 1
        return response

    # ------------------------------------------------------------------ session

    def _log_in(self) -> None:
        def attempt() -> LoginResult:
            try:
                return login(self.settings, self.session)
            except Exception as exc:
                raise translate(exc, what="login", memo=self.memo) from exc

        # a login is retried for transient failures only: a refused login must stop
        result = self.policy.with_(session_refreshes=0).call(attempt)
        self._login = result
        self._sf = client_for(result, self.settings, self.session)
        self.logins += 1

    @property
    def sf(self) -> Any:
        """The simple-salesforce client (logs in on first use)."""
        with self._lock:
            if self._sf is None:
                self._log_in()
            return self._sf

    @property
    def login_result(self) -> LoginResult:
        _ = self.sf
        assert self._login is not None
        return self._login

    def refresh(self) -> None:
        """Log in again after the session expired; impossible with a fixed session id."""
        with self._lock:
            if self._login is not None and not self._login.refreshable:
                raise AuthenticationFailed(
                    "the Salesforce session id expired and cannot be refreshed",
                    vendor_code="INVALID_SESSION_ID",
                    hint="supply a fresh RELCRM_SALESFORCE_SESSION_ID, or configure a login flow",
                )
            self._log_in()

    # ------------------------------------------------------------------ calls

    def call(self, what: str, fn: Callable[[Any], T], *, resend_uncertain: bool = True) -> T:
        """Run ``fn(sf)`` under the retry policy; raise a translated connector error.

        ``resend_uncertain=False`` (writes): a failure after which the org may have done
        the work is raised at once (``TransientError.maybe_applied``), not sent again.
        """

        def attempt() -> T:
            try:
                return fn(self.sf)
            except Exception as exc:
                raise translate(exc, what=what, memo=self.memo) from exc

        try:
            return self.policy.call(
                attempt, refresh=self.refresh, resend_uncertain=resend_uncertain
            )
        except SessionExpired as exc:
            if self._login is not None and not self._login.refreshable:
                raise AuthenticationFailed(
                    "the Salesforce session id expired and cannot be refreshed",
                    vendor_code="INVALID_SESSION_ID",
                    hint="supply a fresh RELCRM_SALESFORCE_SESSION_ID, or configure a login flow",
                ) from exc
            raise
