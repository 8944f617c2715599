"""Formatting relcrm values the way HubSpot's properties take them, and reading back
what HubSpot holds as neutral values.

Every value travels as a string: numbers plain (no exponent), booleans ``true``/``false``,
``date`` as midnight UTC in epoch milliseconds (anything else is refused), ``datetime``
as epoch milliseconds, an enumeration as the option's *value* (a label is translated to
its value when it is unambiguous), and ``""`` clears a value.

Every value comes back as a string too (``"87.5"``, ``"true"``, dates as ``YYYY-MM-DD``,
datetimes as ISO text, epoch milliseconds in places): :func:`read_value` makes it a
:data:`relcrm.models.ReadValue` by the property's type.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from relcrm.connectors.hubspot.describe import PropertyInfo, field_type_of
from relcrm.connectors.readback import normalise
from relcrm.errors import ConnectorError, ExitCode
from relcrm.models import FieldType, FieldValue, ReadValue

_DAY_MS = 86_400_000


class ValueFormatError(ConnectorError):
    """A value cannot be expressed for its property; only that record is rejected. The
    message says what is wrong, never the value (the writer adds the property)."""

    code = "connector.invalid_value"
    default_hint = "fix the mapping or the value"
    exit_code = ExitCode.REJECTED


def plain_number(value: float | int | Decimal) -> str:
    """A number without exponent or trailing zeros (``72``, ``0.0000001``)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueFormatError("the value is not a finite number")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _parse_moment(value: str) -> datetime | None:
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware (or UTC-naive) datetime."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round(aware.timestamp() * 1000)


def date_ms(value: FieldValue | date) -> str:
    """A ``date`` value: midnight UTC of the day, in epoch milliseconds."""
    if isinstance(value, datetime):
        day = value.astimezone(UTC).date() if value.tzinfo else value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            moment = _parse_moment(text)
            if moment is None:
                raise ValueFormatError("the value is not a date") from None
            day = moment.astimezone(UTC).date()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value) - int(value) % _DAY_MS)
    else:
        raise ValueFormatError("the value is not a date")
    return str(epoch_ms(datetime(day.year, day.month, day.day, tzinfo=UTC)))


def datetime_ms(value: FieldValue | datetime) -> str:
    """A ``datetime`` value in epoch milliseconds (ISO strings are converted, naive = UTC)."""
    if isinstance(value, datetime):
        return str(epoch_ms(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, str):
        moment = _parse_moment(value)
        if moment is not None:
            return str(epoch_ms(moment))
    raise ValueFormatError("the value is not a datetime")


def format_value(prop: PropertyInfo | None, value: FieldValue) -> str:
    """``value`` as the string HubSpot takes for ``prop`` (unknown property: generic rules,
    and HubSpot's own PROPERTY_DOESNT_EXIST will reject the record)."""
    if value is None:
        return ""
    kind = prop.type if prop is not None else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value == "":
        return ""
    if kind == "date":
        return date_ms(value)
    if kind == "datetime":
        return datetime_ms(value)
    if kind == "number":
        if isinstance(value, str):
            try:
                return plain_number(Decimal(value.strip()))
            except InvalidOperation:
                raise ValueFormatError("the value is not a number") from None
        return plain_number(value)
    if kind == "enumeration" and prop is not None:
        text = plain_number(value) if isinstance(value, int | float) else str(value)
        if text not in prop.options and prop.option_labels.count(text) == 1:
            return prop.options[prop.option_labels.index(text)]
        return text  # an unknown option: HubSpot rejects it with its own message
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, int | float):
        return plain_number(value)
    return value


def field_type(prop: PropertyInfo | None) -> FieldType | None:
    """relcrm's type for a property (None for one the portal does not describe)."""
    return field_type_of(prop.type, prop.field_type) if prop is not None else None


def read_value(prop: PropertyInfo | None, raw: object) -> ReadValue:
    """A value as HubSpot returns it (a string, or None), normalised by the property's
    type: numbers as ``int``/``float``, ``true``/``false`` as booleans, dates (``YYYY-MM-DD``
    or midnight UTC in epoch milliseconds) as dates, datetimes (ISO text or epoch
    milliseconds) as aware UTC datetimes, ``""`` as None. HubSpot numbers keep the digits
    they were sent, so no scale applies."""
    return normalise(field_type(prop), raw)
