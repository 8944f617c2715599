"""Value-free CRM messages (issue 11, #11) and the read-back comparison (#12), pure tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from relcrm.connectors.hubspot.errors import input_error_code
from relcrm.connectors.hubspot.errors import scrub_message as hs_scrub
from relcrm.connectors.hubspot.errors import translate as hs_translate
from relcrm.connectors.readback import holds
from relcrm.connectors.salesforce.errors import record_is_retryable
from relcrm.connectors.salesforce.errors import scrub_message as sf_scrub
from relcrm.connectors.salesforce.errors import translate as sf_translate
from relcrm.connectors.salesforce.writer import bulk_error
from relcrm.connectors.scrub import WITHHELD, without_values
from relcrm.mapping import crm_holds, load_shipped
from relcrm.models import FieldSpec, FieldType

REASONS = "Feels trapped by the contract; NPS 2 after the outage; angry about billing"


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            f"Reasons: data value too large: {REASONS} (max length=255)",
            "Reasons: data value too large (max length=255)",
        ),
        (
            "Segment: bad value for restricted picklist field: trapped_and_vocal",
            "Segment: bad value for restricted picklist field",
        ),
        ("Email: invalid email address: jane@@example", "Email: invalid email address"),
        (
            "Health: value outside of valid range on numeric field: 123456",
            "Health: value outside of valid range on numeric field",
        ),
        ("Last NPS: value not of required type: yesterday", "Last NPS: value not of required type"),
        (
            "Cannot deserialize instance of double from VALUE_STRING value very angry or request"
            " may be missing a required field at [line:1, column:2]",
            f"Cannot deserialize instance of double from VALUE_STRING value {WITHHELD} or request"
            " may be missing a required field at [line:1, column:2]",
        ),
        ("unable to obtain exclusive access to this record", "unable to obtain exclusive access"),
    ],
)
def test_salesforce_messages_lose_their_values_and_keep_the_rest(message: str, kept: str) -> None:
    assert sf_scrub(message).startswith(kept)
    assert sf_scrub(sf_scrub(message)) == sf_scrub(message)  # scrubbing twice changes nothing
    for value in (REASONS, "trapped_and_vocal", "jane@@example", "123456", "yesterday", "angry"):
        assert value not in sf_scrub(message)


def test_a_bulk_error_cell_splits_into_code_message_and_fields() -> None:
    code, message, fields = bulk_error(
        f"STRING_TOO_LONG:Reasons: data value too large: {REASONS} (max length=255):"
        "relcrm_Reasons__c --"
    )
    assert (code, fields) == ("STRING_TOO_LONG", ["relcrm_Reasons__c"])
    assert sf_scrub(message) == "Reasons: data value too large (max length=255)"


def test_hubspot_property_problems_keep_names_and_codes_not_values() -> None:
    problems = [
        {
            "isValid": False,
            "message": "Ecstatic was not one of the allowed options: [thriving, at_risk]",
            "error": "INVALID_OPTION",
            "name": "relcrm_band",
            "value": "Ecstatic",
        },
        {"message": "87.5x was not a valid number.", "error": "INVALID_INTEGER", "name": "h"},
        {
            "message": "1714560000123 is at 10:40:0.123 UTC, not midnight!",
            "error": "INVALID_DATE",
            "name": "relcrm_last_nps_date",
        },
        {"message": "Odd shape quoting Very Angry Customer", "error": "WEIRD", "name": "x"},
    ]
    message = "Property values were not valid: " + json.dumps(problems)
    scrubbed = hs_scrub(message)
    assert input_error_code("VALIDATION_ERROR", None, message) == "INVALID_OPTION"
    assert scrubbed == (
        "Property values were not valid: relcrm_band: INVALID_OPTION: value was not one of the"
        " allowed options: [thriving, at_risk]; h: INVALID_INTEGER: value was not a valid number;"
        " relcrm_last_nps_date: INVALID_DATE: value is not midnight UTC; x: WEIRD"
    )
    for value in ("Ecstatic", "87.5x", "1714560000123", "10:40", "Very Angry"):
        assert value not in scrubbed
    assert hs_scrub(scrubbed) == scrubbed
    first = len("Property values were not valid: ") + len(json.dumps(problems[0])) + 10
    cut = hs_scrub(message[:first])  # a message cut short still names what it can
    assert "Ecstatic" not in cut and "relcrm_band: INVALID_OPTION" in cut


class _HsError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__("HubSpot")
        self.status = status
        self.reason = "Bad Request"
        self.body = json.dumps(body).encode()
        self.headers: dict[str, str] = {}


def test_raised_errors_carry_no_values_either() -> None:
    hs = hs_translate(
        _HsError(
            400,
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "Property values were not valid: "
                + json.dumps(
                    [
                        {
                            "message": f"{REASONS} was not a valid number.",
                            "name": "n",
                            "error": "INVALID_INTEGER",
                        }
                    ]
                ),
            },
        ),
        what="batch update contacts",
    )
    assert REASONS not in str(hs) and "n: INVALID_INTEGER" in str(hs)
    sf = sf_translate(
        SalesforceMalformedRequest(
            "https://x/services/data/v59.0/composite/sobjects",
            400,
            "composite",
            [
                {
                    "errorCode": "STRING_TOO_LONG",
                    "message": f"Reasons: data value too large: {REASONS} (max length=255)",
                }
            ],
        ),
        what="update of 1 Contact records",
    )
    assert REASONS not in str(sf) and "data value too large (max length=255)" in str(sf)


def test_any_value_a_write_sent_is_withheld_from_a_message() -> None:
    message = "Validation rule: 'Feels trapped' is not allowed when health is 87.5 (87)"
    out = without_values(message, ["Feels trapped", 87.5, 87, True, None, "ok"])
    assert (
        out
        == f"Validation rule: '{WITHHELD}' is not allowed when health is {WITHHELD} ({WITHHELD})"
    )
    assert without_values("max length=2550", [255]) == "max length=2550"  # numbers stand alone


def test_record_level_codes_are_not_transient_unless_the_code_says_so() -> None:
    assert record_is_retryable("UNABLE_TO_LOCK_ROW")
    assert not record_is_retryable("UNKNOWN_EXCEPTION")
    assert not record_is_retryable("SOMETHING_NEW_FROM_SALESFORCE")
    assert not record_is_retryable("STRING_TOO_LONG")


SPECS = {
    "number": FieldSpec(name="n", label="N", type=FieldType.NUMBER, precision=5, scale=1),
    "percent": FieldSpec(name="p", label="P", type=FieldType.PERCENT, precision=5, scale=2),
    "checkbox": FieldSpec(name="c", label="C", type=FieldType.CHECKBOX),
    "date": FieldSpec(name="d", label="D", type=FieldType.DATE),
    "datetime": FieldSpec(name="t", label="T", type=FieldType.DATETIME),
    "text": FieldSpec(name="x", label="X", type=FieldType.TEXT, length=40),
}
CASES: list[tuple[str, Any, Any]] = [
    ("number", 72.0, 72),
    ("number", 72.04, 72.0),
    ("number", 72.2, 72.0),
    ("percent", 12.345, 12.35),
    ("checkbox", True, True),
    ("checkbox", True, "true"),
    ("checkbox", False, True),
    ("date", "2026-11-01", "2026-11-01"),
    ("date", "2026-11-01", "2026-11-02"),
    ("datetime", "2026-11-01T12:00:00Z", "2026-11-01T12:00:00.000+0000"),
    ("datetime", "2026-11-01T12:00:00Z", "1793534400000"),
    ("datetime", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01.000+0000"),
    ("text", "steady", "steady"),
    ("text", "steady", "Steady"),
    ("text", None, None),
    ("text", None, ""),
    ("text", "steady", None),
]


@pytest.mark.parametrize(("kind", "sent", "read"), CASES)
def test_read_back_compares_as_the_engines_recovery_does(kind: str, sent: Any, read: Any) -> None:
    spec = SPECS[kind]
    some_field = load_shipped("salesforce-contact").fields[0]
    item = some_field.model_copy(update={"type": spec.type, "scale": spec.scale})
    assert holds(spec, sent, read) == crm_holds(item, sent, read)
