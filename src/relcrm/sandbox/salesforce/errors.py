"""Salesforce's error shapes, exactly as clients parse them.

Top-level REST errors are a JSON *list* of ``{"message", "errorCode", "fields"?}``
(simple-salesforce indexes ``[0]['errorCode']`` on a 401, so a dict would crash it);
per-record errors inside sObject Collections and upsert results use ``statusCode``
instead. Messages name fields by their label; ``fields`` holds API names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SfError(Exception):
    """One Salesforce error; raise it from a handler to answer with it."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)
    status: int = 400

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def top_level(self, *, with_fields: bool = True) -> dict[str, Any]:
        """The ``{"message","errorCode","fields"}`` element of a top-level error list."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if with_fields and self.fields:
            body["fields"] = list(self.fields)
        return body

    def record_level(self) -> dict[str, Any]:
        """The ``{"statusCode","message","fields"}`` element of a per-record result."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}

    def bulk_text(self) -> str:
        """The ``sf__Error`` cell of a Bulk API 2.0 failed-results row."""
        return f"{self.code}:{self.message}:{','.join(self.fields)} --"


def invalid_session() -> SfError:
    return SfError("INVALID_SESSION_ID", "Session expired or invalid", status=401)


def not_found(message: str = "The requested resource does not exist") -> SfError:
    return SfError("NOT_FOUND", message, status=404)


def request_limit_exceeded() -> SfError:
    return SfError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", status=403)


def no_such_column_write(field_name: str, object_name: str) -> SfError:
    return SfError(
        "INVALID_FIELD", f"No such column '{field_name}' on sobject of type {object_name}"
    )


def json_parser_error(message: str) -> SfError:
    return SfError("JSON_PARSER_ERROR", message)


def malformed_query(message: str) -> SfError:
    return SfError("MALFORMED_QUERY", message)


def unsupported_object(object_name: str) -> SfError:
    return SfError(
        "INVALID_TYPE",
        f"sObject type '{object_name}' is not supported. If you are attempting to use a custom"
        " object, be sure to append the '__c' after the entity name. Please reference your WSDL"
        " or the describe call for the appropriate names.",
    )


def all_or_none_rolled_back() -> SfError:
    return SfError(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using"
        " AllOrNone header",
    )


def unable_to_lock_row() -> SfError:
    return SfError(
        "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"
    )
