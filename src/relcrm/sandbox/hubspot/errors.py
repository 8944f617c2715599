"""HubSpot's error envelope, and the errors the sandbox raises while serving a call.

Clients key their behaviour on ``category`` (and on ``errorType``/``policyName`` for 429s),
so every error the sandbox answers is built here, in one place, with HubSpot's field names.
hubspot-api-client deserialises per-input batch errors into ``StandardError``, whose
``context``, ``links``, ``errors``, ``category``, ``message`` and ``status`` are required:
a missing one makes the SDK raise instead of returning the 207, so they are always set.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

INVALID_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
MISSING_SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. "
    "Read more about required scopes here: https://developers.hubspot.com/scopes."
)


def correlation_id() -> str:
    """A fresh correlation id, as HubSpot puts in every error body."""
    return str(uuid.uuid4())


class HsError(Exception):
    """An error answer: HTTP status plus HubSpot's JSON body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        sub_category: str | None = None,
        context: dict[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        links: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.sub_category = sub_category
        self.context = context
        self.errors = errors
        self.links = links
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The top-level JSON body (optional members only when set, as HubSpot does)."""
        out: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        if self.sub_category is not None:
            out["subCategory"] = self.sub_category
        if self.context is not None:
            out["context"] = self.context
        if self.errors is not None:
            out["errors"] = self.errors
        if self.links is not None:
            out["links"] = self.links
        return out


def batch_error(
    category: str,
    message: str,
    context: dict[str, list[str]],
    *,
    sub_category: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One entry of a 207's ``errors[]`` (a ``StandardError``)."""
    out: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": errors or [],
        "links": {},
    }
    if sub_category is not None:
        out["subCategory"] = sub_category
    return out


def invalid_auth() -> HsError:
    """401 for a missing or unknown token."""
    return HsError(401, "INVALID_AUTHENTICATION", INVALID_AUTH_MESSAGE)


def expired_auth(calls_ago: int) -> HsError:
    """401 for an OAuth access token the fault plan has expired."""
    minutes = max(1, calls_ago // 60)
    return HsError(
        401,
        "EXPIRED_AUTHENTICATION",
        f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
    )


def missing_scopes(required: list[str]) -> HsError:
    """403 for a token that lacks a scope the endpoint needs."""
    return HsError(
        403,
        "MISSING_SCOPES",
        MISSING_SCOPES_MESSAGE,
        context={"missingScopes": required},
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": required},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def not_found(message: str = "resource not found") -> HsError:
    """404 for an object, property or group that does not exist."""
    return HsError(404, "OBJECT_NOT_FOUND", message)


def validation(
    message: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    context: dict[str, list[str]] | None = None,
    sub_category: str | None = None,
) -> HsError:
    """400 ``VALIDATION_ERROR``."""
    return HsError(
        400,
        "VALIDATION_ERROR",
        message,
        errors=errors,
        context=context,
        sub_category=sub_category,
    )


def invalid_json(detail: str) -> HsError:
    """400 for a body that is not the JSON the endpoint takes."""
    return validation(f"Invalid input JSON on line 1, column 1: {detail}")


def property_values_message(problems: list[dict[str, Any]]) -> str:
    """HubSpot's "Property values were not valid: [...]" message, with the JSON list inline."""
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))


def rate_limit_body(policy: str) -> dict[str, Any]:
    """The 429 body: ``errorType`` and ``policyName``, not ``category``."""
    names = {
        "TEN_SECONDLY_ROLLING": "ten_secondly_rolling",
        "DAILY": "daily",
        "SECONDLY": "secondly",
    }
    return {
        "status": "error",
        "message": f"You have reached your {names.get(policy, policy.lower())} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
    }


def unavailable_body() -> dict[str, Any]:
    """What the fault plan's transient outages answer (503)."""
    return {
        "status": "error",
        "message": "The service is temporarily unavailable. Please try again later.",
        "correlationId": correlation_id(),
        "category": "SERVICE_UNAVAILABLE",
    }
