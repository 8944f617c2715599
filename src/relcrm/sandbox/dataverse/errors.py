"""Dataverse's error body, and every error the sandbox answers, built in one place.

The Web API answers every error as ``{"error": {"code": "0x…", "message": "…"}}`` [doc:
learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors].
Clients key on the hexadecimal ``code``, so each builder below uses the code Dataverse uses.
Where each code and message shape comes from:

=====================  ==========  ==============================================================
what                   code        source
=====================  ==========  ==============================================================
unknown URL segment    0x8006088a  [doc] troubleshoot web-api-client-errors; reference/crm-api-facts
record not found       0x80040217  [community] "<entity> With Id = <guid> Does Not Exist"
string too long        0x80044331  [doc] execute-batch-operations-using-web-api (a transcript)
value out of range     0x80044331  [memory] message shape "The value … is outside the valid range"
bad option value       0x8004431a  [memory]
payload not readable   0x80048d19  [memory] "Error identified in Payload provided by the user …"
unknown property       0x80060888  [sample] MIT code from Microsoft ("Could not find a property
                                   named …", MS.GTA XrmHttpClientResponseException)
duplicate key value    0x80060892  [sample] same file (DuplicateAlternateKeyValuesErrorCode)
missing privilege      0x80040220  [memory] "Principal user … is missing prv… privilege"
SQL deadlock           0x80044150  [community] captured live: "Sql error: Generic SQL error …
                                   Sql Number: 1205", HTTP 500
service protection     0x80072322  [doc] api-limits: the three codes, their messages, 429 and
                       0x80072321  ``Retry-After`` in seconds
                       0x80072326
attribute exists       0x80044363  [community] "… is not unique"
metadata invalid       0x80048403  [community] e.g. "Only Local option set can be created
                                   through the attribute create. IsGlobal flag must be set to
                                   'false'."
=====================  ==========  ==============================================================

Messages that quote a value (length and range errors, payload errors) quote it as
Dataverse does, so the connector's scrubbing is tested against the real problem.
"""

from __future__ import annotations

from typing import Any

PAYLOAD_HELP = "https://go.microsoft.com/fwlink/?linkid=2195293"


class DvError(Exception):
    """An error answer: HTTP status, Dataverse's code and message, extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        record_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.record_id = record_id
        """The record the error is about (for the request log), when there is one."""

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def segment_not_found(segment: str) -> DvError:
    return DvError(404, "0x8006088a", f"Resource not found for the segment '{segment}'.")


def record_not_found(entity: str, record_id: str) -> DvError:
    return DvError(
        404, "0x80040217", f"{entity} With Id = {record_id} Does Not Exist", record_id=record_id
    )


def property_not_found(entity: str, name: str) -> DvError:
    return DvError(
        400,
        "0x80060888",
        f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{entity}'.",
    )


def query_error(message: str) -> DvError:
    """A malformed query option ($filter syntax, an unsupported option)."""
    return DvError(400, "0x80060888", message)


def payload_error(entity_set: str, inner: str, *, record_id: str | None = None) -> DvError:
    """A body the OData layer cannot read (wrong JSON type, unknown property)."""
    return DvError(
        400,
        "0x80048d19",
        f"Error identified in Payload provided by the user for Entity :'{entity_set}', For more "
        f"information on this error please follow this help link {PAYLOAD_HELP}  ----> "
        f"InnerException : Microsoft.OData.ODataException: {inner}",
        record_id=record_id,
    )


def length_exceeded(
    attribute: str, entity: str, maximum: int, *, record_id: str | None = None
) -> DvError:
    return DvError(
        400,
        "0x80044331",
        f"A validation error occurred.  The length of the '{attribute}' attribute of the "
        f"'{entity}' entity exceeded the maximum allowed length of '{maximum}'.",
        record_id=record_id,
    )


def out_of_range(
    value: object,
    attribute: str,
    entity: str,
    accepted: str,
    *,
    option: bool = False,
    record_id: str | None = None,
) -> DvError:
    return DvError(
        400,
        "0x8004431a" if option else "0x80044331",
        f"A validation error occurred.  The value {value} of '{attribute}' on record of type "
        f"'{entity}' is outside the valid range. Accepted Values: {accepted}",
        record_id=record_id,
    )


def expected_guid() -> DvError:
    return DvError(400, "0x80040203", "Expected non-empty Guid.")


def invalid_argument(message: str) -> DvError:
    return DvError(400, "0x80040203", message)


def duplicate_key(*, record_id: str | None = None) -> DvError:
    return DvError(
        412, "0x80060892", "A record with matching key values already exists.", record_id=record_id
    )


def key_not_active(key: str) -> DvError:
    return DvError(400, "0x80060888", f"Entity Key '{key}' is not active.")


def sql_deadlock(*, record_id: str | None = None) -> DvError:
    return DvError(
        500,
        "0x80044150",
        " Sql error: Generic SQL error. CRM ErrorCode: -2147204784 Sql ErrorCode: "
        "-2146232060 Sql Number: 1205",
        record_id=record_id,
    )


def privilege_denied(user_id: str, privilege: str, otc: int, entity: str) -> DvError:
    return DvError(
        403,
        "0x80040220",
        f"Principal user (Id={user_id}, type=8, roleCount=1, privilegeCount=0, accessMode=4), "
        f"is missing {privilege} privilege on OTC={otc} for entity '{entity}'.",
    )


def attribute_exists(schema_name: str) -> DvError:
    return DvError(
        400,
        "0x80044363",
        f"The schema name {schema_name} for type Attribute is not unique. An Attribute with "
        "the same name already exists.",
    )


def metadata_invalid(message: str) -> DvError:
    return DvError(400, "0x80048403", message)


REQUESTS_EXCEEDED = "0x80072322"
EXECUTION_TIME_EXCEEDED = "0x80072321"
CONCURRENCY_EXCEEDED = "0x80072326"


def throttled(code: str, message: str, retry_after_s: int) -> DvError:
    """A service protection limit (429, ``Retry-After`` in whole seconds)."""
    return DvError(429, code, message, headers={"Retry-After": str(retry_after_s)})


def unavailable_body() -> dict[str, Any]:
    """The fault plan's 503. Dataverse's gateway answer for an unavailable service is not
    in the sources above; this keeps the Web API's envelope [memory]."""
    return {
        "error": {
            "code": "0x80040216",
            "message": "The service is temporarily unavailable. Try again later.",
        }
    }
