"""Zoho CRM's error envelope, built in one place so every answer has the real shape.

Zoho answers a refused request, and each refused record of a multi-record call, with the
same four keys: ``{"code": ..., "details": {...}, "message": ..., "status": "error"}``
(Zoho's OpenAPI description, ``zoho/crm-oas`` ``v8.0/record.json`` ``API_Exception``, and the
v8 API reference). The codes and messages used here are those of that enumeration
(``INVALID_TOKEN`` "invalid oauth token", ``INVALID_DATA`` "invalid data",
``MANDATORY_NOT_FOUND`` "required field not found", ``DUPLICATE_DATA`` "duplicate data",
``OAUTH_SCOPE_MISMATCH``, ``INVALID_MODULE``, ``INVALID_URL_PATTERN``,
``REQUIRED_PARAM_MISSING``, ``LIMIT_EXCEEDED``, ``RECORD_LOCKED``, ``INTERNAL_ERROR``).

The two 429 messages follow the wording of Zoho's status-codes page for
``TOO_MANY_REQUESTS`` ("Number of API requests for the 24 hour period is exceeded or the
concurrency limit of the user for the app is exceeded"); the exact text of the real bodies
rests on that description, not on recorded traffic.
"""

from __future__ import annotations

from typing import Any

SUCCESS = "success"
ERROR = "error"


class ZohoError(Exception):
    """A refused request: HTTP status, Zoho's code, message and details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return problem(self.code, self.message, self.details)


def problem(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """One error entry (a whole request's body, or one record's result)."""
    return {"code": code, "details": details or {}, "message": message, "status": ERROR}


def success(message: str, details: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One record's success entry (``record added``, ``record updated``, ``field created``)."""
    return {"code": "SUCCESS", "details": details, "message": message, "status": SUCCESS, **extra}


def invalid_token() -> ZohoError:
    return ZohoError(401, "INVALID_TOKEN", "invalid oauth token")


def authentication_failure() -> ZohoError:
    return ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")


def scope_mismatch() -> ZohoError:
    return ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")


def invalid_url() -> ZohoError:
    return ZohoError(
        404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
    )


def invalid_module() -> ZohoError:
    return ZohoError(
        400,
        "INVALID_MODULE",
        "the module name given seems to be invalid",
        {"resource_path_index": 0},
    )


def param_missing(name: str) -> ZohoError:
    return ZohoError(
        400,
        "REQUIRED_PARAM_MISSING",
        "One of the expected parameter is missing",
        {"param_name": name},
    )


def invalid_body(reason: str) -> ZohoError:
    return ZohoError(400, "INVALID_DATA", "invalid data", {"reason": reason})


def limit_exceeded(limit: int, what: str) -> ZohoError:
    return ZohoError(400, "LIMIT_EXCEEDED", f"{what} count exceeded", {"limit": limit})


def invalid_query(reason: str) -> ZohoError:
    return ZohoError(400, "INVALID_QUERY", "invalid query formed", {"reason": reason})


def too_many_requests(message: str, headers: dict[str, str] | None = None) -> ZohoError:
    return ZohoError(429, "TOO_MANY_REQUESTS", message, headers=headers)


CONCURRENCY_MESSAGE = "The concurrency limit of the user for the app is exceeded"
SUB_CONCURRENCY_MESSAGE = "The sub-concurrency limit of the user for the app is exceeded"
CREDITS_MESSAGE = "Number of API requests for the 24 hour period is exceeded"


def internal_error() -> dict[str, Any]:
    """The body of a 500 (the fault plan's "service unavailable" answers)."""
    return problem("INTERNAL_ERROR", "Internal Server Error")


def invalid_data(api_name: str, json_path: str, **details: Any) -> dict[str, Any]:
    return problem(
        "INVALID_DATA", "invalid data", {"api_name": api_name, "json_path": json_path, **details}
    )


def mandatory_missing(api_name: str, json_path: str) -> dict[str, Any]:
    return problem(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        {"api_name": api_name, "json_path": json_path},
    )


def duplicate_data(
    api_name: str, json_path: str, record_id: str | None = None, module: str | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {"api_name": api_name, "json_path": json_path}
    if record_id is not None:
        details["duplicate_record"] = {"id": record_id, "module": {"api_name": module}}
    return problem("DUPLICATE_DATA", "duplicate data", details)


def invalid_id(record_id: str, json_path: str) -> dict[str, Any]:
    return problem(
        "INVALID_DATA",
        "the id given seems to be invalid",
        {"api_name": "id", "json_path": json_path, "id": record_id},
    )


def record_locked(record_id: str) -> dict[str, Any]:
    """The fault plan's transient per-record failure."""
    return problem("RECORD_LOCKED", "The record under merge is locked", {"id": record_id})
