"""Values between relcrm and Zoho CRM, per data type: what a write sends, and what a read
gives back normalised (:data:`relcrm.models.ReadValue`).

Zoho takes and gives JSON numbers for numeric fields, JSON booleans for checkboxes,
``yyyy-MM-dd`` for dates and ``yyyy-MM-ddTHH:mm:ss±HH:mm`` for date-times, which it reads
back in the org's time zone (v8 reference, "Field types"). relcrm sends date-times in UTC
with ``+00:00`` and no fraction of a second (the form every Zoho example uses), and turns
what it reads into aware UTC datetimes, so a value read back compares with the one sent
whatever the org's zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from relcrm.connectors import readback
from relcrm.connectors.zoho.describe import FieldInfo
from relcrm.models import FieldValue, ReadValue

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ValueFormatError(ValueError):
    """A value relcrm cannot put in a field of that type; the message names no value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _moment(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueFormatError("the value is not a date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _decimal(value: FieldValue) -> Decimal:
    if isinstance(value, bool):
        raise ValueFormatError("the value is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueFormatError("the value is not a number") from None
    if not number.is_finite():
        raise ValueFormatError("the value is not a finite number")
    return number


def format_value(info: FieldInfo | None, value: FieldValue) -> Any:
    """``value`` as Zoho takes it for the field ``info`` (None clears the field; an unknown
    field gets the value as it is, and Zoho's own ``INVALID_DATA`` judges it)."""
    if value is None or info is None:
        return value
    kind = info.data_type
    if kind in ("integer", "bigint"):
        number = _decimal(value)
        if number != number.to_integral_value():
            number = number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(number)
    if kind in ("double", "currency", "percent"):
        number = _decimal(value)
        places = info.decimal_place if info.decimal_place is not None else 2
        return float(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no", ""):
            return False
        raise ValueFormatError("the value is not a boolean")
    if kind == "date":
        text = str(value).strip()
        if _DATE.match(text[:10]):
            try:
                return date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                pass
        raise ValueFormatError("the value is not a date")
    if kind == "datetime":
        moment = _moment(str(value)).astimezone(UTC).replace(microsecond=0)
        return moment.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, int):
        return str(value)
    return value


def scale_of(info: FieldInfo | None) -> int | None:
    """Digits a numeric field keeps after the point (integers: 0; unknown: None)."""
    if info is None:
        return None
    if info.data_type in ("integer", "bigint"):
        return 0
    if info.data_type in ("double", "currency", "percent"):
        return info.decimal_place if info.decimal_place is not None else 2
    return None


def normalise(info: FieldInfo | None, raw: Any) -> ReadValue:
    """A value Zoho gave back, as relcrm reads it (:func:`relcrm.connectors.readback.normalise`
    by the field's type): numbers, booleans, aware UTC datetimes, dates, text; empty text
    and ``null`` are None; a lookup (``{"name", "id"}``) reads as its name."""
    if isinstance(raw, dict):
        raw = raw.get("name") or raw.get("id")
    if isinstance(raw, str) and not raw.strip():
        return None
    return readback.normalise(info.kind if info is not None else None, raw, scale=scale_of(info))
