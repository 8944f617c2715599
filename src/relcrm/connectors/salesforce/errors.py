"""One table from Salesforce error code to what happens next, and the translation of
simple-salesforce's and requests' exceptions into relcrm's connector errors.

Salesforce names the problem in the body (``errorCode`` at the top level, ``statusCode``
per record); the HTTP status alone is ambiguous (a 403 is a spent quota *or* a missing
permission), so the code decides and the status is only the fallback. Transport failures
(dropped connections, timeouts, TLS errors) are classified by
:mod:`relcrm.connectors.transport`.

Salesforce quotes the offending value in many messages (``Reasons: data value too large:
<value> (max length=255)``); :func:`scrub_message` removes it, keeping the field's label
and what is wrong, before any message leaves the connector.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceOperationError,
)

from relcrm.connectors.errors import (
    Action,
    AuthenticationFailed,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    Rule,
    SessionExpired,
    TransientError,
)
from relcrm.connectors.scrub import WITHHELD
from relcrm.connectors.transport import transport_failure
from relcrm.errors import ConnectorError

_RETRY = Rule(Action.RETRY)
_REJECT = Rule(Action.REJECT_RECORD)
_AUTH = Rule(Action.STOP, AuthenticationFailed)
_DENIED = Rule(Action.STOP, PermissionDenied)
_BAD_REQUEST = Rule(Action.STOP, RequestRejected)

ERROR_TABLE: dict[str, Rule] = {
    # transient: retry with backoff (Retry-After honoured)
    "UNABLE_TO_LOCK_ROW": _RETRY,
    "SERVER_UNAVAILABLE": _RETRY,
    "SERVICE_UNAVAILABLE": _RETRY,
    "REQUEST_RUNNING_TOO_LONG": _RETRY,
    "QUERY_TIMEOUT": _RETRY,
    "CONNECTION_DROPPED": _RETRY,  # relcrm's own codes for transport failures
    "CONNECT_FAILED": _RETRY,
    "READ_TIMEOUT": _RETRY,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": _RETRY,  # an innocent record of a failed batch
    # the session
    "INVALID_SESSION_ID": Rule(Action.REFRESH_SESSION, AuthenticationFailed),
    # quota: pause the run
    "REQUEST_LIMIT_EXCEEDED": Rule(Action.PAUSE, QuotaExhausted),
    "TOO_MANY_REQUESTS": Rule(Action.PAUSE, QuotaExhausted),
    # one record's data
    "INVALID_FIELD": _REJECT,
    "STRING_TOO_LONG": _REJECT,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": _REJECT,
    "INVALID_EMAIL_ADDRESS": _REJECT,
    "REQUIRED_FIELD_MISSING": _REJECT,
    "NUMBER_OUTSIDE_VALID_RANGE": _REJECT,
    "DUPLICATE_EXTERNAL_ID": _REJECT,
    "DUPLICATE_VALUE": _REJECT,
    "DUPLICATES_DETECTED": _REJECT,
    "INVALID_TYPE_ON_FIELD_IN_RECORD": _REJECT,
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": _REJECT,
    "FIELD_INTEGRITY_EXCEPTION": _REJECT,
    "INVALID_CROSS_REFERENCE_KEY": _REJECT,
    "INVALID_ID_FIELD": _REJECT,
    "MALFORMED_ID": _REJECT,
    "ENTITY_IS_DELETED": _REJECT,
    "ENTITY_IS_LOCKED": _REJECT,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": _REJECT,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": _REJECT,
    "NOT_FOUND": _REJECT,
    # stop: credentials
    "INVALID_LOGIN": _AUTH,
    "LOGIN_MUST_USE_SECURITY_TOKEN": _AUTH,
    "PASSWORD_LOCKOUT": _AUTH,
    "INVALID_AUTH_HEADER": _AUTH,
    "invalid_grant": _AUTH,
    "invalid_client": _AUTH,
    "invalid_client_id": _AUTH,
    "unsupported_grant_type": _AUTH,
    "INVALID AUTH": _AUTH,  # simple-salesforce's own code for an impossible flow
    # stop: permissions
    "INSUFFICIENT_ACCESS": _DENIED,
    "INSUFFICIENT_ACCESS_OR_READONLY": _DENIED,
    "API_DISABLED_FOR_ORG": _DENIED,
    "API_CURRENTLY_DISABLED": _DENIED,
    "FUNCTIONALITY_NOT_ENABLED": _DENIED,
    # stop: the request is wrong (a connector bug)
    "MALFORMED_QUERY": _BAD_REQUEST,
    "JSON_PARSER_ERROR": _BAD_REQUEST,
    "INVALID_TYPE": _BAD_REQUEST,
    "METHOD_NOT_ALLOWED": _BAD_REQUEST,
    "EXCEEDED_ID_LIMIT": _BAD_REQUEST,
}
"""Salesforce error code -> what happens next. Codes not listed fall back on the HTTP
status (see :func:`rule_for`); per-record codes not listed reject the record."""


def rule_for(code: str | None, status: int | None = None) -> Rule:
    """The rule for a code, falling back on the HTTP status when the code is unknown."""
    if code is not None and code in ERROR_TABLE:
        return ERROR_TABLE[code]
    if status is None:
        return _REJECT
    if status == 401:
        return ERROR_TABLE["INVALID_SESSION_ID"]
    if status == 403:
        return _DENIED
    if status == 429 or status >= 500:
        return _RETRY
    return _BAD_REQUEST


def record_is_retryable(code: str | None) -> bool:
    """Whether a per-record failure (``statusCode``) may succeed if sent again."""
    return rule_for(code).action is Action.RETRY


# ---------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class ResponseMemo:
    """Remembers the headers of the last failed response, per thread.

    simple-salesforce's exceptions keep the status and body but drop the headers, so a
    ``requests`` response hook keeps ``Retry-After`` for :func:`translate` to read.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def install(self, session: requests.Session) -> None:
        """Hook into ``session`` (idempotent)."""
        hooks = session.hooks.setdefault("response", [])
        if self.hook not in hooks:
            hooks.append(self.hook)

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.status_code >= 300:
            self._local.last = (response.url, response.headers.get("Retry-After"))
        return response

    def retry_after(self, url: str | None) -> float | None:
        """``Retry-After`` of the last failure, if it came from ``url``."""
        last = getattr(self._local, "last", None)
        if last is None or (url is not None and last[0] != url):
            return None
        return parse_retry_after(last[1])


# ---------------------------------------------------------------------- translation


_VALUE_AFTER = (
    "data value too large",
    "bad value for restricted picklist field",
    "invalid email address",
    "value outside of valid range on numeric field",
    "value not of required type",
    "id value of incorrect type",
    "invalid date",
    "invalid number",
    "invalid boolean",
)
"""Salesforce message phrases followed by ``: <the value>`` up to the end of the message
(for lengths, up to `` (max length=N)``). One message per error: scrub before joining."""

_VALUE_PATTERNS = [
    re.compile(rf"({re.escape(phrase)}): (.*?)( \(max length=\d+\))?\Z", re.DOTALL)
    for phrase in _VALUE_AFTER
]
_JSON_VALUE = re.compile(
    r"(Cannot deserialize instance of \S+ from \w+ value) (.*?) (or request may be)", re.DOTALL
)


def scrub_message(message: str | None) -> str:
    """A Salesforce error message without the value it quotes.

    ``Reasons: data value too large: <text> (max length=255)`` becomes ``Reasons: data
    value too large (max length=255)``; the label and what is wrong stay.
    """
    text = str(message or "")
    for pattern in _VALUE_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(3) or ''}", text)
    return _JSON_VALUE.sub(rf"\1 {WITHHELD} \3", text)


def _first_error(content: Any) -> tuple[str | None, str]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        code = first.get("errorCode") or first.get("statusCode")
        return (str(code) if code else None), str(first.get("message", ""))
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error")
        message = content.get("message") or content.get("error_description") or ""
        return (str(code) if code else None), str(message)
    return None, str(content)[:300] if content else ""


_UNCERTAIN_STATUSES = frozenset({500, 502, 504})
"""HTTP statuses after which the CRM may have done the work (a gateway gave up waiting);
a 503 is Salesforce refusing the call before doing anything."""


def translate(
    error: BaseException, *, what: str, memo: ResponseMemo | None = None
) -> ConnectorError:
    """The relcrm error for a failure while doing ``what`` ("query Contact").

    The result's class tells the retry policy and the caller what to do next. Messages
    carry Salesforce's code and its message without the values it quoted.
    """
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, SalesforceAuthenticationFailed):
        code = str(error.code) if error.code is not None else None
        rule = rule_for(code, 401)
        cls = rule.stop_with if rule.action is Action.STOP else AuthenticationFailed
        return cls(
            f"Salesforce login failed: {code or 'unknown'}: {scrub_message(error.auth_message)}",
            vendor_code=code,
        )
    if isinstance(error, SalesforceError):
        code, message = _first_error(error.content)
        status = int(error.status) if error.status is not None else None
        rule = rule_for(code, status)
        retry_after = memo.retry_after(error.url) if memo is not None else None
        text = f"Salesforce refused {what}: {code or status}: {scrub_message(message)}"
        text = text.rstrip(": ")
        if rule.action is Action.RETRY:
            return TransientError(
                text,
                vendor_code=code,
                retry_after=retry_after,
                maybe_applied=status in _UNCERTAIN_STATUSES,
            )
        if rule.action is Action.REFRESH_SESSION:
            return SessionExpired(text, vendor_code=code)
        if rule.action is Action.PAUSE:
            return QuotaExhausted(text, vendor_code=code, retry_after=retry_after)
        if rule.action is Action.REJECT_RECORD:
            return RequestRejected(text, vendor_code=code)
        return rule.stop_with(text, vendor_code=code)
    if isinstance(error, SalesforceOperationError):
        return RequestRejected(f"Salesforce {what} failed: {scrub_message(str(error))}")
    failure = transport_failure(error, crm="Salesforce", what=what)
    if failure is not None:
        return failure
    raise error
