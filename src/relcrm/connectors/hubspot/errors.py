"""One table from HubSpot's error codes to what happens next, and the translation of
hubspot-api-client's and urllib3's exceptions into relcrm's connector errors.

HubSpot names the problem in the body: ``category`` for ordinary errors,
``errorType``/``policyName`` for 429s, and for invalid property values a per-property
``error`` code (``INVALID_OPTION``...) inside the message. The code decides; the HTTP
status is only the fallback. Each generated API package of the SDK has its own
``ApiException`` class, so exceptions are recognised by shape (``status``, ``body``,
``headers``), not by class.
"""

from __future__ import annotations

import json
import re
from typing import Any

import urllib3

from relcrm.connectors.errors import (
    Action,
    AuthenticationFailed,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    Rule,
    TransientError,
)
from relcrm.errors import ConnectorError

_RETRY = Rule(Action.RETRY)
_REJECT = Rule(Action.REJECT_RECORD)
_AUTH = Rule(Action.STOP, AuthenticationFailed)
_DENIED = Rule(Action.STOP, PermissionDenied)

ERROR_TABLE: dict[str, Rule] = {
    # rate limits (429 policyName): the rolling window passes, the daily budget does not
    "TEN_SECONDLY_ROLLING": _RETRY,
    "SECONDLY": _RETRY,
    "DAILY": Rule(Action.PAUSE, QuotaExhausted),
    # transient
    "INTERNAL_ERROR": _RETRY,  # per input with subCategory TRANSIENT, or a whole call
    "TRANSIENT": _RETRY,
    "SERVICE_UNAVAILABLE": _RETRY,
    "CONNECTION_DROPPED": _RETRY,  # relcrm's own code for a closed connection
    # credentials and permissions
    "INVALID_AUTHENTICATION": _AUTH,
    "EXPIRED_AUTHENTICATION": _AUTH,  # a fixed access token cannot be refreshed here
    "MISSING_SCOPES": _DENIED,
    # one record's data
    "VALIDATION_ERROR": _REJECT,
    "PROPERTY_DOESNT_EXIST": _REJECT,
    "INVALID_OPTION": _REJECT,
    "INVALID_INTEGER": _REJECT,
    "INVALID_DATE": _REJECT,
    "INVALID_DATETIME": _REJECT,
    "INVALID_BOOLEAN": _REJECT,
    "INVALID_EMAIL": _REJECT,
    "INVALID_VALUE": _REJECT,
    "READ_ONLY_VALUE": _REJECT,
    "OBJECT_NOT_FOUND": _REJECT,
    "CONFLICT": _REJECT,
}
"""HubSpot code (category, subCategory, policyName or property error) -> what happens
next. Unknown codes fall back on the HTTP status (see :func:`rule_for`)."""


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
    return Rule(Action.STOP, RequestRejected)


_PROBLEMS = re.compile(r"Property values were not valid: (\[.*\])\s*$", re.DOTALL)


def property_problems(message: str) -> list[dict[str, Any]]:
    """The per-property problems HubSpot embeds as JSON in a VALIDATION_ERROR message."""
    found = _PROBLEMS.search(message or "")
    if not found:
        return []
    try:
        parsed = json.loads(found.group(1))
    except ValueError:
        return []
    return [p for p in parsed if isinstance(p, dict)] if isinstance(parsed, list) else []


def input_error_code(category: str | None, sub_category: str | None, message: str) -> str:
    """The most specific code of one per-input batch error (``INVALID_OPTION`` rather than
    ``VALIDATION_ERROR``), so a run report names the real problem."""
    if sub_category == "TRANSIENT":
        return "TRANSIENT"
    problems = property_problems(message)
    if problems and problems[0].get("error"):
        return str(problems[0]["error"])
    return category or "UNKNOWN"


def input_is_retryable(code: str) -> bool:
    """Whether a per-input failure may succeed if that input is sent again."""
    return rule_for(code).action is Action.RETRY


def _parse_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body:
        try:
            parsed = json.loads(body)
        except ValueError:
            return {"message": body[:300]}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def header(headers: Any, name: str) -> str | None:
    """A response header, case-insensitively, from whatever mapping the SDK hands out."""
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is None:
            lowered = name.lower()
            for key in headers:
                if str(key).lower() == lowered:
                    value = headers[key]
                    break
    except (AttributeError, TypeError):
        return None
    return None if value is None else str(value)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (HubSpot sends it inconsistently)."""
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None


def translate(error: BaseException, *, what: str) -> ConnectorError:
    """The relcrm error for a failure while doing ``what`` ("batch update contacts").

    The class tells the retry policy and the caller what to do next. Messages carry the
    status, HubSpot's code and message, never the request's headers (the token).
    """
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, urllib3.exceptions.HTTPError):
        return TransientError(
            f"HubSpot connection failed during {what}: {type(error).__name__}",
            vendor_code="CONNECTION_DROPPED",
        )
    status = getattr(error, "status", None)
    if not isinstance(status, int):
        raise error
    if status == 0:  # the SDK's wrapper around an SSL failure: a configuration problem
        return RequestRejected(
            f"HubSpot TLS failure during {what}: {getattr(error, 'reason', '')}",
            vendor_code="TLS",
            hint="check RELCRM_HUBSPOT_CA_FILE and RELCRM_HUBSPOT_BASE_URL",
        )
    body = _parse_body(getattr(error, "body", None))
    headers = getattr(error, "headers", None)
    code = body.get("policyName") or body.get("subCategory") or body.get("category")
    if code not in ERROR_TABLE:
        code = body.get("category") or body.get("errorType") or code
    code = str(code) if code else None
    message = str(body.get("message") or getattr(error, "reason", "") or "")
    retry_after = parse_retry_after(header(headers, "Retry-After"))
    rule = rule_for(code, status)
    text = f"HubSpot refused {what}: {status} {code or ''}: {message}".rstrip(": ")
    if rule.action is Action.RETRY:
        return TransientError(text, vendor_code=code, retry_after=retry_after)
    if rule.action is Action.PAUSE:
        return QuotaExhausted(text, vendor_code=code, retry_after=retry_after)
    if rule.action is Action.STOP and rule.stop_with is PermissionDenied:
        scopes = (body.get("context") or {}).get("missingScopes") or []
        named = ", ".join(str(s) for s in scopes) or "unknown"
        return PermissionDenied(
            f"HubSpot refused {what}: the token lacks the scope(s) {named}",
            vendor_code=code,
            hint=f"grant the private app the scope(s) {named} and run again",
        )
    if rule.action is Action.STOP and rule.stop_with is AuthenticationFailed:
        return AuthenticationFailed(
            text,
            vendor_code=code,
            hint="check RELCRM_HUBSPOT_ACCESS_TOKEN (a valid private-app or fresh OAuth token)",
        )
    if rule.action is Action.REJECT_RECORD:
        return RequestRejected(text, vendor_code=code)
    return rule.stop_with(text, vendor_code=code)
