"""Connector errors: each class says what the caller does next, and carries a stable ``code``.

The tree (all under :class:`relcrm.errors.ConnectorError`)::

    ConnectorError          connector.error
    └── VendorError         (carries vendor_code, retry_after, completed, partial)
        ├── TransientError        connector.transient        retry later (the policy did)
        ├── ConnectionFailed      connector.connection_failed  stop: the CRM's certificate
        │                                                      is not trusted
        ├── SessionExpired        connector.session_expired  log in again (the policy does)
        ├── QuotaExhausted        connector.quota_exhausted  pause until the quota resets
        ├── AuthenticationFailed  connector.authentication_failed  stop: fix credentials
        ├── PermissionDenied      connector.permission_denied  stop: grant the access
        └── RequestRejected       connector.request_rejected   stop: the request is wrong

``vendor_code`` keeps the CRM's own error code (``REQUEST_LIMIT_EXCEEDED``...) so a run
report can quote it. Messages never contain secrets or field values: connectors only
interpolate codes, object and field names and the CRM's own message with every value
stripped from it (:mod:`relcrm.connectors.scrub`).

Transport failures (a dropped or reset connection, a read timeout, a TLS error mid-way,
the SDKs' own odd exceptions on them) are :class:`TransientError`; one that happened after
the request may have reached the CRM carries ``maybe_applied``, and the writers read the
records back before they send such a write again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from relcrm.errors import ConnectorError, ExitCode


class Action(StrEnum):
    """What happens next after a CRM error; each connector maps its codes to one of these."""

    RETRY = "retry"
    """Transient: wait (``Retry-After`` or backoff) and try again."""
    REFRESH_SESSION = "refresh_session"
    """The token expired: log in again, then try again."""
    PAUSE = "pause"
    """A quota is spent: stop this run cleanly and resume later."""
    REJECT_RECORD = "reject_record"
    """One record's data is wrong: report it with the CRM's reason, write the others."""
    STOP = "stop"
    """Credentials, permissions or the request are wrong: stop with a clear message."""


class VendorError(ConnectorError):
    """A connector error that remembers the CRM's own code (and, if known, a wait)."""

    def __init__(
        self,
        message: str,
        *,
        vendor_code: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.vendor_code = vendor_code
        self.retry_after = retry_after
        self.completed: list[Any] = []
        """Per-record results finished before the error stopped a batch write: every
        record written is among them (``WRITTEN``), so a caller can record it."""
        self.partial: list[Any] = []
        """Results of the first items of one send that failed part-way (internal to the
        writers: :meth:`relcrm.connectors.retry.RetryPolicy.retry_items` keeps them)."""


class TransientError(VendorError):
    """The CRM or the network failed in a way that may pass: 503, 5xx, dropped connection.

    Raised to the caller only once the retry policy has given up (or its retry budget for
    the run is spent). ``maybe_applied`` is true when the request may have reached the CRM
    and been carried out although no answer came back (connection dropped or reset after
    sending, read timeout, an answer cut off): such a write is read back, not re-sent.
    """

    code = "connector.transient"
    default_hint = "the CRM is unavailable; the run can be resumed later"

    def __init__(
        self,
        message: str,
        *,
        vendor_code: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message, vendor_code=vendor_code, retry_after=retry_after, hint=hint)
        self.maybe_applied = maybe_applied


class ConnectionFailed(VendorError):
    """The CRM cannot be reached securely: its TLS certificate is not trusted or names
    another host. Retrying cannot help; the configuration must change."""

    code = "connector.connection_failed"
    default_hint = "check the CRM's URL and the CA file the connector trusts"


class SessionExpired(VendorError):
    """The access token is no longer valid; a fresh login fixes it."""

    code = "connector.session_expired"
    default_hint = "log in again"


class QuotaExhausted(VendorError):
    """The CRM's request quota (for Salesforce the daily API budget) is spent.

    Retrying now only burns more; the sync engine pauses the run and resumes later.
    """

    code = "connector.quota_exhausted"
    default_hint = "pause the run and resume once the CRM's quota resets"
    exit_code = ExitCode.QUOTA


class AuthenticationFailed(VendorError):
    """The credentials are wrong, revoked or incomplete; retrying cannot help."""

    code = "connector.authentication_failed"
    default_hint = "check the username, password, security token, consumer key and secret"


class PermissionDenied(VendorError):
    """The integration user lacks a permission the operation needs."""

    code = "connector.permission_denied"
    default_hint = "grant the integration user the missing permission and run again"


class RequestRejected(VendorError):
    """The CRM refused a whole request as malformed (not one record's data)."""

    code = "connector.request_rejected"
    default_hint = "this is a bug in the connector or the mapping; report it"
    exit_code = ExitCode.CONFIG  # retrying the same request cannot help


@dataclass(frozen=True)
class Rule:
    """What a vendor error code means: the action, and (to stop) which error to raise.

    Each connector keeps one table from its CRM's codes to rules; the retry policy and
    the writers act on the rule, never on the raw code.
    """

    action: Action
    stop_with: type[VendorError] = RequestRejected


__all__ = [
    "Action",
    "AuthenticationFailed",
    "ConnectionFailed",
    "PermissionDenied",
    "QuotaExhausted",
    "RequestRejected",
    "Rule",
    "SessionExpired",
    "TransientError",
    "VendorError",
]
