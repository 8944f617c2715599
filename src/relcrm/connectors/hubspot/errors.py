"""One table from HubSpot's error codes to what happens next, and the translation of
hubspot-api-client's and urllib3's exceptions into relcrm's connector errors.

HubSpot names the problem in the body: ``category`` for ordinary errors,
``errorType``/``policyName`` for 429s, and for invalid property values a per-property
``error`` code (``INVALID_OPTION``...) inside the message. The code decides; the HTTP
status is only the fallback. Each generated API package of the SDK has its own
``ApiException`` class, so exceptions are recognised by shape (``status``, ``body``,
``headers``), not by class. Transport failures (dropped connections, timeouts, TLS
errors, and the SDK's ``AttributeError`` while it handles one) are classified by
:mod:`relcrm.connectors.transport`.

HubSpot quotes the offending values in its messages (``Property values were not valid:
[{..."message":"Ecstatic was not one of the allowed options..."}]``); :func:`scrub_message`
rebuilds such messages from the property names, the codes and what is wrong, without
the values, before any message leaves the connector.
"""

from __future__ import annotations

import json
import re
from typing import Any

from relcrm.connectors.errors import (
    Action,
    AuthenticationFailed,
    PermissionDenied,
    QuotaExhausted,
    RequestRejected,
    Rule,
    TransientError,
)
from relcrm.connectors.scrub import WITHHELD
from relcrm.connectors.transport import transport_failure
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
    "CONNECTION_DROPPED": _RETRY,  # relcrm's own codes for transport failures
    "CONNECT_FAILED": _RETRY,
    "READ_TIMEOUT": _RETRY,
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


_PROBLEM_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^.*? was not one of the allowed options: (\[.*\])$", re.DOTALL),
        r"value was not one of the allowed options: \1",
    ),
    (re.compile(r"^.* was not a valid number\.?$", re.DOTALL), "value was not a valid number"),
    (
        re.compile(r"^.* is not a valid boolean: (.*)$", re.DOTALL),
        r"value is not a valid boolean: \1",
    ),
    (re.compile(r"^.* is at .* UTC, not midnight!?$", re.DOTALL), "value is not midnight UTC"),
    (re.compile(r"^.* is not a valid date\.?$", re.DOTALL), "value is not a valid date"),
    (re.compile(r"^.* is not a valid datetime\.?$", re.DOTALL), "value is not a valid datetime"),
    (
        re.compile(r"^.* is not a valid email address\.?$", re.DOTALL),
        "value is not a valid email address",
    ),
    (re.compile(r'^(Property ".*" does not exist)$', re.DOTALL), r"\1"),
)
"""HubSpot's per-property messages (which start with the value) and what is kept of them."""

_QUOTED_AFTER = re.compile(r'((?:from|value) (?:String|Number|value)?\s*)"(?:[^"\\]|\\.)*"')
_NAMES = re.compile(r'"name"\s*:\s*"(\w+)"')
_CODES = re.compile(r'"error"\s*:\s*"(\w+)"')


def _problem_text(problem: dict[str, Any]) -> str:
    name = str(problem.get("name") or "property")
    code = str(problem.get("error") or "INVALID_VALUE")
    message = str(problem.get("message") or "")
    for pattern, keep in _PROBLEM_SHAPES:
        if pattern.match(message):
            return f"{name}: {code}: {pattern.sub(keep, message)}"
    return f"{name}: {code}"  # an unknown shape may quote the value: only the code is kept


def scrub_message(message: str | None) -> str:
    """A HubSpot error message without the values it quotes.

    ``Property values were not valid: [{"name":"relcrm_band","error":"INVALID_OPTION",
    "message":"Ecstatic was not one of the allowed options: [a, b]"...}]`` becomes
    ``Property values were not valid: relcrm_band: INVALID_OPTION: value was not one of the
    allowed options: [a, b]``; property names and codes stay.
    """
    text = str(message or "")
    head, sep, rest = text.partition("Property values were not valid:")
    if sep and rest.lstrip().startswith("["):  # (a scrubbed message is left as it is)
        problems = property_problems(text)
        if problems:
            details = "; ".join(_problem_text(p) for p in problems)
        else:  # cut short or not JSON: keep the names and codes that can be read
            pairs = zip(_NAMES.findall(rest), _CODES.findall(rest), strict=False)
            details = "; ".join(f"{n}: {c}" for n, c in pairs) or "details withheld"
        text = f"{head}{sep} {details}"
    return _QUOTED_AFTER.sub(rf"\1{WITHHELD}", text)


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


_UNCERTAIN_STATUSES = frozenset({500, 502, 504})
"""HTTP statuses after which HubSpot may have done the work (a gateway gave up waiting)."""


def _is_answer(error: BaseException) -> bool:
    """An SDK exception for an HTTP answer (``ApiException`` and its kin, status > 0)."""
    status = getattr(error, "status", None)
    return isinstance(status, int) and status > 0 and hasattr(error, "body")


def translate(error: BaseException, *, what: str) -> ConnectorError:
    """The relcrm error for a failure while doing ``what`` ("batch update contacts").

    The class tells the retry policy and the caller what to do next. Messages carry the
    status, HubSpot's code and its message without the values it quoted, never the
    request's headers (the token).
    """
    if isinstance(error, ConnectorError):
        return error
    if not _is_answer(error):
        failure = transport_failure(error, crm="HubSpot", what=what)
        if failure is not None:
            return failure
        status = getattr(error, "status", None)
        if status == 0:  # the SDK could not even build the request
            return RequestRejected(
                f"HubSpot request for {what} could not be made: "
                f"{scrub_message(str(getattr(error, 'reason', '')))}",
                vendor_code="CLIENT",
            )
        raise error
    status = int(getattr(error, "status", 0))
    body = _parse_body(getattr(error, "body", None))
    headers = getattr(error, "headers", None)
    code = body.get("policyName") or body.get("subCategory") or body.get("category")
    if code not in ERROR_TABLE:
        code = body.get("category") or body.get("errorType") or code
    code = str(code) if code else None
    message = scrub_message(str(body.get("message") or getattr(error, "reason", "") or ""))
    retry_after = parse_retry_after(header(headers, "Retry-After"))
    rule = rule_for(code, status)
    text = f"HubSpot refused {what}: {status} {code or ''}: {message}".rstrip(": ")
    if rule.action is Action.RETRY:
        return TransientError(
            text,
            vendor_code=code,
            retry_after=retry_after,
            maybe_applied=status in _UNCERTAIN_STATUSES,
        )
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
