"""One table from Zoho CRM's error codes to what happens next, and the translation of
Zoho's answers and of httpx's exceptions into relcrm's connector errors.

Zoho names the problem in the body's ``code`` (``{"code", "details", "message",
"status": "error"}``, for a whole request and for each record of a multi-record call); the
code decides, the HTTP status is only the fallback. The codes are those of Zoho's v8
reference and OpenAPI description (``zoho/crm-oas``, ``API_Exception``).

429 ``TOO_MANY_REQUESTS`` means either of two things (Zoho's status-codes page): the org's
credits for the rolling 24 hours are spent, or the app's concurrency limit is reached. The
first pauses the run (:class:`QuotaExhausted`), the second passes as soon as other calls
finish (:class:`TransientError`). They are told apart by ``X-API-CREDITS-REMAINING: 0``
(Zoho sends the header once half of the credits are used) or a message about the 24-hour
period; anything else is taken for concurrency, and a 429 that never passes still ends as
a transient failure the run can resume from.

Zoho's messages are fixed phrases ("invalid data", "required field not found") and its
details name fields, types and lengths, not values; the messages relcrm builds from them
are still passed through :func:`relcrm.connectors.scrub.without_values` by the writer.
Transport failures are classified from httpx's exception types, with
:func:`relcrm.connectors.transport.transport_failure` deciding certificate failures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from relcrm.connectors.errors import (
    Action,
    AuthenticationFailed,
    ConnectionFailed,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    Rule,
    SessionExpired,
    TransientError,
    VendorError,
)
from relcrm.connectors.transport import (
    CONNECT_FAILED,
    CONNECTION_DROPPED,
    READ_TIMEOUT,
    transport_failure,
)

CREDITS_HEADER = "X-API-CREDITS-REMAINING"

_RETRY = Rule(Action.RETRY)
_REJECT = Rule(Action.REJECT_RECORD)
_AUTH = Rule(Action.STOP, AuthenticationFailed)
_DENIED = Rule(Action.STOP, PermissionDenied)
_BAD = Rule(Action.STOP, RequestRejected)

ERROR_TABLE: dict[str, Rule] = {
    # limits
    "TOO_MANY_REQUESTS": _RETRY,  # concurrency; spent credits are told apart (see above)
    "LIMIT_REACHED": Rule(Action.PAUSE, QuotaExhausted),
    # transient
    "INTERNAL_ERROR": _RETRY,
    "RECORD_LOCKED": _RETRY,  # per record: a merge or an approval holds it
    CONNECTION_DROPPED: _RETRY,
    CONNECT_FAILED: _RETRY,
    READ_TIMEOUT: _RETRY,
    "ACCESS_DENIED": _RETRY,  # the token endpoint's 10-tokens-in-10-minutes throttle
    # credentials and permissions
    "INVALID_TOKEN": Rule(Action.REFRESH_SESSION, SessionExpired),
    "AUTHENTICATION_FAILURE": _AUTH,
    "INVALID_CLIENT": _AUTH,
    "INVALID_CLIENT_SECRET": _AUTH,
    "INVALID_CODE": _AUTH,
    "OAUTH_SCOPE_MISMATCH": _DENIED,
    "NO_PERMISSION": _DENIED,
    # the request itself
    "INVALID_MODULE": _BAD,
    "INVALID_URL_PATTERN": _BAD,
    "INVALID_REQUEST_METHOD": _BAD,
    "REQUIRED_PARAM_MISSING": _BAD,
    "INVALID_QUERY": _BAD,
    "LIMIT_EXCEEDED": _BAD,
    "FEATURE_NOT_SUPPORTED": _BAD,
    # one record's data
    "INVALID_DATA": _REJECT,
    "MANDATORY_NOT_FOUND": _REJECT,
    "DUPLICATE_DATA": _REJECT,
    "ID_ALREADY_CONVERTED": _REJECT,
    "CONVERTED_RECORD": _REJECT,
    "RECORD_IN_BLUEPRINT": _REJECT,
    "DEPENDENT_FIELD_MISSING": _REJECT,
    "PATTERN_NOT_MATCHED": _REJECT,
    "EXPECTED_FIELD_MISSING": _REJECT,
    "NOT_APPROVED": _REJECT,
    "NOT_ALLOWED": _REJECT,
    "CANNOT_PERFORM_ACTION": _REJECT,
}
"""Zoho code -> what happens next. Unknown codes fall back on the HTTP status."""

_DETAIL_KEYS = ("api_name", "expected_data_type", "maximum_length", "param_name", "limit")
"""Details that describe a problem without quoting a value."""


def rule_for(code: str | None, status: int | None = None) -> Rule:
    """The rule for a code, falling back on the HTTP status when the code is unknown."""
    if code is not None and code in ERROR_TABLE:
        return ERROR_TABLE[code]
    if status is None:
        return _REJECT
    if status == 401:
        return _AUTH
    if status == 403:
        return _DENIED
    if status == 429 or status >= 500:
        return _RETRY
    return _BAD


def describe_problem(entry: Mapping[str, Any]) -> str:
    """``invalid data (api_name: relcrm_Health, expected_data_type: double)``: Zoho's
    phrase and the details that name what is wrong (never a value)."""
    message = str(entry.get("message") or entry.get("code") or "error")
    details = entry.get("details")
    parts: list[str] = []
    if isinstance(details, Mapping):
        parts = [f"{k}: {details[k]}" for k in _DETAIL_KEYS if details.get(k) is not None]
    return f"{message} ({', '.join(parts)})" if parts else message


def body_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of an answer, or a stand-in with the status for one that is not JSON."""
    try:
        parsed = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return {"code": f"HTTP_{response.status_code}", "message": "the answer is not JSON"}
    return parsed if isinstance(parsed, dict) else {}


def credits_spent(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """Whether a 429 says the credits of the 24-hour window are spent."""
    if str(body.get("code") or "") == "LIMIT_REACHED":
        return True
    if status != 429:
        return False
    remaining = headers.get(CREDITS_HEADER)
    if remaining is not None and remaining.strip() in ("0", "0.0"):
        return True
    message = str(body.get("message") or "").lower()
    return "24 hour" in message or "credit" in message


def translate_answer(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str], *, what: str
) -> VendorError:
    """The relcrm error for Zoho refusing a whole request while doing ``what``."""
    code = str(body.get("code") or "") or None
    text = f"Zoho CRM refused {what}: {status} {code or ''}: {describe_problem(body)}"
    if credits_spent(status, body, headers):
        return QuotaExhausted(
            f"Zoho CRM refused {what}: the org's API credits for the last 24 hours are spent",
            vendor_code=code or "TOO_MANY_REQUESTS",
            hint="the run pauses; credits come back 24 hours after they were used (or buy "
            "add-on credits)",
        )
    rule = rule_for(code, status)
    if rule.action is Action.RETRY:
        retry_after = _retry_after(headers)
        return TransientError(
            text, vendor_code=code, retry_after=retry_after, maybe_applied=status >= 500
        )
    if rule.action is Action.REFRESH_SESSION:
        return SessionExpired(text, vendor_code=code)
    if rule.action is Action.PAUSE:
        return QuotaExhausted(text, vendor_code=code)
    if rule.stop_with is PermissionDenied:
        return PermissionDenied(
            text,
            vendor_code=code,
            hint="give the refresh token the scopes ZohoCRM.modules.ALL and "
            "ZohoCRM.settings.fields.ALL (a new grant in Zoho's API console), and the "
            "integration user's profile access to the module and its fields",
        )
    if rule.stop_with is AuthenticationFailed:
        return AuthenticationFailed(
            text,
            vendor_code=code,
            hint="check RELCRM_ZOHO_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN, and the "
            "data centre",
        )
    return RequestRejected(text, vendor_code=code)


def translate_token_answer(status: int, body: Mapping[str, Any]) -> VendorError | None:
    """The error in an answer of the token endpoint, or None when it holds a token.

    Zoho answers failures with HTTP 200 and an ``error`` key; the values quoted here are
    Zoho's own words, never the secrets sent.
    """
    if status == 200 and isinstance(body.get("access_token"), str):
        return None
    error = str(body.get("error") or f"HTTP_{status}")
    code = error.upper().replace(" ", "_")
    if status >= 500:
        return TransientError(
            f"Zoho's accounts server failed ({status}) while refreshing the access token",
            vendor_code=code,
        )
    if code == "ACCESS_DENIED":
        return TransientError(
            "Zoho's accounts server refused a new access token: too many in ten minutes "
            "from this refresh token (Zoho allows ten)",
            vendor_code=code,
        )
    hints = {
        "INVALID_CLIENT": "the client id is unknown to this data centre: check "
        "RELCRM_ZOHO_CLIENT_ID and RELCRM_ZOHO_DATA_CENTRE",
        "INVALID_CLIENT_SECRET": "check RELCRM_ZOHO_CLIENT_SECRET",
        "INVALID_CODE": "the refresh token is unknown or revoked: generate a new one in "
        "Zoho's API console and set RELCRM_ZOHO_REFRESH_TOKEN",
    }
    return AuthenticationFailed(
        f"Zoho's accounts server refused the refresh token grant: {error}",
        vendor_code=code,
        hint=hints.get(code, "check the Zoho OAuth client and refresh token"),
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None


def translate_transport(error: BaseException, *, what: str) -> VendorError | None:
    """The relcrm error for an httpx transport failure anywhere in ``error``'s chain, or
    None when it is none (a bug)."""
    common = transport_failure(error, crm="Zoho CRM", what=what)
    if isinstance(common, ConnectionFailed):
        return common  # the certificate is not trusted, or the URL is not one
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ConnectionFailed(
            f"Zoho CRM's address is not a valid URL ({what})", vendor_code="URL"
        )
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(
            f"Zoho CRM could not be reached during {what}: {type(error).__name__}",
            vendor_code=CONNECT_FAILED,
        )
    if isinstance(error, httpx.ReadTimeout):
        return TransientError(
            f"Zoho CRM did not answer in time during {what}; it may have done the work",
            vendor_code=READ_TIMEOUT,
            maybe_applied=True,
        )
    if isinstance(error, httpx.TransportError):
        return TransientError(
            f"Zoho CRM connection failed during {what}: {type(error).__name__}; it may have "
            "done the work",
            vendor_code=CONNECTION_DROPPED,
            maybe_applied=True,
        )
    return common


def record_rule(code: str) -> Rule:
    """What to do with one record's failure."""
    return rule_for(code)


__all__ = [
    "CREDITS_HEADER",
    "ERROR_TABLE",
    "body_of",
    "credits_spent",
    "describe_problem",
    "record_rule",
    "rule_for",
    "translate_answer",
    "translate_token_answer",
    "translate_transport",
]
