"""One table from Dataverse's error codes to what happens next, and the translation of
answers, token-endpoint refusals and httpx's transport failures into relcrm's errors.

Dataverse names the problem in ``{"error": {"code": "0x…", "message": …}}``; the code
decides and the HTTP status is only the fallback. Codes (sources in the sandbox's
:mod:`relcrm.sandbox.dataverse.errors`): the three service protection limits and a SQL
deadlock are transient; a value too long, out of range or of the wrong type, a missing
record or a duplicate key value reject that record; a missing privilege stops the run
with :class:`PermissionDenied`; a 401 means the token expired (a new one is fetched).

Messages may quote the value written (``Cannot convert the literal '…' to the expected
type 'Edm.Int32'``, ``The value … of 'x' … is outside the valid range``):
:func:`scrub_message` removes it by shape, and :func:`relcrm.connectors.scrub.without_values`
removes any value the write sent that is still there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from relcrm.connectors.errors import (
    Action,
    AuthenticationFailed,
    PermissionDenied,
    RequestRejected,
    Rule,
    SessionExpired,
    TransientError,
    VendorError,
)
from relcrm.connectors.scrub import WITHHELD, without_values
from relcrm.connectors.transport import (
    CONNECT_FAILED,
    CONNECTION_DROPPED,
    READ_TIMEOUT,
    transport_failure,
)

CRM = "Dataverse"

_RETRY = Rule(Action.RETRY)
_REJECT = Rule(Action.REJECT_RECORD)
_DENIED = Rule(Action.STOP, PermissionDenied)
_AUTH = Rule(Action.STOP, AuthenticationFailed)
_STOP = Rule(Action.STOP, RequestRejected)

SERVICE_PROTECTION = frozenset({"0x80072322", "0x80072321", "0x80072326"})
"""Requests, execution time, concurrency: 429 with ``Retry-After``."""
SQL_DEADLOCK = "0x80044150"

ERROR_TABLE: dict[str, Rule] = {
    "0x80072322": _RETRY,  # number of requests exceeded (6,000 per 5 minutes per user)
    "0x80072321": _RETRY,  # combined execution time exceeded
    "0x80072326": _RETRY,  # concurrent requests exceeded
    SQL_DEADLOCK: _RETRY,  # "Sql error: Generic SQL error ... Sql Number: 1205"
    "0x80040216": _RETRY,  # an unexpected error occurred (the service, not the record)
    CONNECTION_DROPPED: _RETRY,  # relcrm's own codes for transport failures
    CONNECT_FAILED: _RETRY,
    READ_TIMEOUT: _RETRY,
    "0x80044331": _REJECT,  # validation: text too long, number out of range
    "0x8004431a": _REJECT,  # an option value the column does not have
    "0x80048d19": _REJECT,  # payload: wrong JSON type, unknown column
    "0x80040217": _REJECT,  # the record does not exist
    "0x80060892": _REJECT,  # a record with matching key values already exists
    "0x80040237": _REJECT,  # duplicate record
    "0x80040265": _REJECT,  # a plug-in refused the record
    "0x80040203": _REJECT,  # invalid argument
    "0x80040220": _DENIED,  # the application user lacks a privilege
    "0x80042f09": _DENIED,  # the application user has no security role
    "0x80041d1f": _AUTH,  # the application user is disabled
    "0x8006088a": _STOP,  # resource not found for the segment
    "0x80060888": _STOP,  # a malformed query, an unknown property
    "0x80048403": _STOP,  # invalid metadata
    "0x80044363": _STOP,  # a column or key with that name exists
}
"""Dataverse error code -> what happens next. Unknown codes fall back on the status."""


def rule_for(code: str | None, status: int | None = None) -> Rule:
    if code is not None and code.lower() in ERROR_TABLE:
        return ERROR_TABLE[code.lower()]
    if status == 401:
        return Rule(Action.REFRESH_SESSION)
    if status == 403:
        return _DENIED
    if status is not None and (status == 429 or status >= 500):
        return _RETRY
    if status in (404, 412):
        return _REJECT
    return _STOP


class RecordRejected(RequestRejected):
    """Dataverse refused a write for the data of a record (the writer turns it into a
    ``REJECTED`` result, or isolates the record when a whole batch was refused)."""


class RecordBusy(VendorError):
    """A record failed transiently (a SQL deadlock) in a write that asked to hear of it at
    once: the writer retries that record, not the whole call. Not a
    :class:`TransientError`, so the call-level retry leaves it alone; it never leaves the
    writer."""


_QUOTED_LITERAL = re.compile(
    r"(Cannot convert the literal ')(.*)(' to the expected type)", re.DOTALL
)
_VALUE_OF = re.compile(r"(The value )(.*?)( of ')", re.DOTALL)


def scrub_message(message: str | None) -> str:
    """A Dataverse message without the value it quotes; column names and codes stay."""
    text = str(message or "")
    text = _QUOTED_LITERAL.sub(rf"\1{WITHHELD}\3", text)
    return _VALUE_OF.sub(rf"\1{WITHHELD}\3", text)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (Dataverse sends whole seconds)."""
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None


def error_of(body: Any) -> tuple[str | None, str]:
    """(code, message) of an error body (``{"error": {"code", "message"}}``)."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body) if body else {}
        except ValueError:
            return None, str(
                body[:300] if isinstance(body, str) else body[:300].decode("utf-8", "replace")
            )
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    return (str(code).lower() if code else None), str(error.get("message") or "")


def translate_answer(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    what: str,
    values: Iterable[object] = (),
) -> VendorError:
    """The relcrm error for an HTTP error answer to ``what``."""
    code, raw = error_of(content)
    message = without_values(scrub_message(raw), values) or ""
    retry_after = parse_retry_after(headers.get("retry-after"))
    text = f"{CRM} refused {what}: {status} {code or ''}: {message}".rstrip(": ")
    rule = rule_for(code, status)
    if rule.action is Action.REFRESH_SESSION:
        return SessionExpired(
            f"{CRM} refused {what}: 401: the access token is expired or invalid",
            vendor_code=code or "401",
        )
    if rule.action is Action.RETRY:
        uncertain = status in (502, 504) or (status == 500 and code not in ERROR_TABLE)
        return TransientError(
            text, vendor_code=code or str(status), retry_after=retry_after, maybe_applied=uncertain
        )
    if rule.action is Action.REJECT_RECORD:
        return RecordRejected(text, vendor_code=code or str(status))
    if rule.stop_with is PermissionDenied:
        return PermissionDenied(
            text,
            vendor_code=code or str(status),
            hint="give the application user a security role with this privilege (System "
            "Customizer for columns and keys, read/write on contact and lead for syncs)",
        )
    if rule.stop_with is AuthenticationFailed:
        return AuthenticationFailed(text, vendor_code=code or str(status))
    return rule.stop_with(text, vendor_code=code or str(status))


TOKEN_HINTS: dict[str, str] = {
    "invalid_client": "check RELCRM_DATAVERSE_CLIENT_SECRET: the secret's value, not its id, "
    "and not expired",
    "unauthorized_client": "check client_id and tenant_id: the app registration must exist in "
    "that tenant",
    "invalid_request": "check tenant_id",
    "invalid_scope": "check scope (it must end with /.default) or environment_url",
    "invalid_resource": "check environment_url (or scope): the tenant does not know it",
}


def translate_token_answer(status: int, headers: Mapping[str, str], content: bytes) -> VendorError:
    """The relcrm error for a refused token request (Entra ID's ``error`` body)."""
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = {}
    error = str(body.get("error") or status) if isinstance(body, dict) else str(status)
    codes = body.get("error_codes") if isinstance(body, dict) else None
    aadsts = f"AADSTS{codes[0]}" if isinstance(codes, list) and codes else None
    description = str(body.get("error_description") or "") if isinstance(body, dict) else ""
    first = description.split(" Trace ID:", 1)[0].strip()
    text = f"Entra ID refused the token request: {status} {error}: {first}".rstrip(": ")
    if status == 429 or status >= 500:
        return TransientError(
            text,
            vendor_code=aadsts or error,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    return AuthenticationFailed(
        text,
        vendor_code=aadsts or error,
        hint=TOKEN_HINTS.get(error, "check tenant_id, client_id and the client secret"),
    )


def translate_transport(error: BaseException, *, what: str) -> VendorError:
    """The relcrm error for httpx's transport failures (:mod:`relcrm.connectors.transport`
    reads the chain; httpx's own classes settle what it cannot: a server that closed the
    connection without an answer is ``RemoteProtocolError``, not an ``OSError``)."""
    connect_phase = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    found = transport_failure(error, crm=CRM, what=what)
    if found is not None:
        if connect_phase and isinstance(found, TransientError):
            found.maybe_applied = False
            found.vendor_code = CONNECT_FAILED
        return found
    if connect_phase:
        return TransientError(
            f"{CRM} could not be reached during {what}: {type(error).__name__}",
            vendor_code=CONNECT_FAILED,
        )
    if isinstance(error, httpx.TimeoutException):
        return TransientError(
            f"{CRM} did not answer in time during {what}; it may have done the work",
            vendor_code=READ_TIMEOUT,
            maybe_applied=True,
        )
    if isinstance(error, httpx.TransportError):
        return TransientError(
            f"{CRM} connection failed during {what}: {type(error).__name__}; it may have done "
            "the work",
            vendor_code=CONNECTION_DROPPED,
            maybe_applied=True,
        )
    return RequestRejected(
        f"{CRM} request for {what} could not be made: {type(error).__name__}",
        vendor_code="CLIENT",
    )


__all__ = [
    "ERROR_TABLE",
    "SERVICE_PROTECTION",
    "RecordBusy",
    "RecordRejected",
    "rule_for",
    "scrub_message",
    "translate_answer",
    "translate_token_answer",
    "translate_transport",
]
