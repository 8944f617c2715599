"""Value-free CRM messages (issue 11, #11), values read back normalised by each connector
and the one comparison of them (issue 11, #12; issue 12), pure tests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from relcrm.connectors.hubspot.describe import PropertyInfo
from relcrm.connectors.hubspot.errors import input_error_code
from relcrm.connectors.hubspot.errors import scrub_message as hs_scrub
from relcrm.connectors.hubspot.errors import translate as hs_translate
from relcrm.connectors.hubspot.values import read_value
from relcrm.connectors.readback import holds, normalise, parse_instant
from relcrm.connectors.salesforce.errors import record_is_retryable
from relcrm.connectors.salesforce.errors import scrub_message as sf_scrub
from relcrm.connectors.salesforce.errors import translate as sf_translate
from relcrm.connectors.salesforce.writer import bulk_error
from relcrm.connectors.scrub import WITHHELD, without_values
from relcrm.mapping import crm_holds, load_shipped
from relcrm.models import FieldSpec, FieldType, ReadValue

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
    "integer": FieldSpec(name="i", label="I", type=FieldType.NUMBER, precision=3, scale=0),
    "percent": FieldSpec(name="p", label="P", type=FieldType.PERCENT, precision=5, scale=2),
    "checkbox": FieldSpec(name="c", label="C", type=FieldType.CHECKBOX),
    "date": FieldSpec(name="d", label="D", type=FieldType.DATE),
    "datetime": FieldSpec(name="t", label="T", type=FieldType.DATETIME),
    "text": FieldSpec(name="x", label="X", type=FieldType.TEXT, length=40),
}
SIX = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)

# (kind, raw value as Salesforce's REST API returns it, normalised)
SALESFORCE_READS: list[tuple[str, Any, ReadValue]] = [
    ("number", 72.5, 72.5),
    ("integer", 72.0, 72),
    ("percent", 12.35, 12.35),
    ("checkbox", True, True),
    ("checkbox", False, False),
    ("date", "2026-11-22", date(2026, 11, 22)),
    ("datetime", "2026-11-22T06:00:00.000+0000", SIX),
    ("text", "steady", "steady"),
    ("text", None, None),
    ("number", "not a number", "not a number"),  # kept as text: it holds nothing sent
]
# (HubSpot property type, fieldType, raw value as HubSpot returns it, normalised)
HUBSPOT_READS: list[tuple[str, str, Any, ReadValue]] = [
    ("number", "number", "87.5", 87.5),
    ("number", "number", "72", 72),
    ("bool", "booleancheckbox", "true", True),
    ("enumeration", "booleancheckbox", "false", False),
    ("date", "date", "2026-11-22", date(2026, 11, 22)),
    ("date", "date", "1795305600000", date(2026, 11, 22)),  # midnight UTC, epoch ms
    ("datetime", "date", "1795327200000", SIX),
    ("datetime", "date", "2026-11-22T06:00:00Z", SIX),
    ("datetime", "date", "2026-11-22T06:00:00.000Z", SIX),
    ("enumeration", "select", "At risk", "At risk"),
    ("string", "text", "", None),
    ("string", "text", "72", "72"),
    ("number", "number", None, None),
]


@pytest.mark.parametrize(("kind", "raw", "normal"), SALESFORCE_READS)
def test_salesforce_reads_are_normalised_by_field_type(kind: str, raw: Any, normal: Any) -> None:
    spec = SPECS[kind]
    got = normalise(spec.type, raw, scale=spec.scale)
    assert got == normal and type(got) is type(normal)


@pytest.mark.parametrize(("type_", "field_type", "raw", "normal"), HUBSPOT_READS)
def test_hubspot_reads_are_normalised_by_property_type(
    type_: str, field_type: str, raw: Any, normal: Any
) -> None:
    prop = PropertyInfo(name="p", type=type_, field_type=field_type)
    got = read_value(prop, raw)
    assert got == normal and type(got) is type(normal)


def test_datetimes_read_back_are_aware_utc() -> None:
    for raw in ("2026-11-22T08:00:00.000+0200", "2026-11-22T06:00:00", "1795327200000"):
        moment = parse_instant(raw)
        assert moment == SIX and moment is not None and moment.utcoffset() == timedelta(0)


CASES: list[tuple[str, Any, Any, bool]] = [
    ("number", 72.0, 72, True),
    ("number", 72.04, 72.0, True),
    ("number", 72.2, 72.0, False),
    ("percent", 12.345, 12.35, True),
    ("checkbox", True, True, True),
    ("checkbox", False, True, False),
    ("checkbox", False, None, True),
    ("date", "2026-11-01", "2026-11-01", True),
    ("date", "2026-11-01", "2026-11-02", False),
    ("datetime", "2026-11-01T12:00:00Z", "2026-11-01T12:00:00.000+0000", True),
    ("datetime", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01.000+0000", False),
    ("text", "steady", "steady", True),
    ("text", "steady", "Steady", False),
    ("text", None, None, True),
    ("text", None, "", True),
    ("text", "steady", None, False),
]


@pytest.mark.parametrize(("kind", "sent", "raw", "expected"), CASES)
def test_connectors_and_the_engine_compare_the_same_normalised_values(
    kind: str, sent: Any, raw: Any, expected: bool
) -> None:
    """One comparison: a connector's read-back before re-sending (readback.holds) and the
    engine's in-flight recovery (mapping.crm_holds) agree on the normalised value."""
    spec = SPECS[kind]
    read = normalise(spec.type, raw, scale=spec.scale)
    some_field = load_shipped("salesforce-contact").fields[0]
    item = some_field.model_copy(update={"type": spec.type, "scale": spec.scale})
    assert holds(spec, sent, read) is expected
    assert crm_holds(item, sent, read) is expected
