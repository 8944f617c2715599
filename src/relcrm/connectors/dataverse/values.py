"""Values between relcrm and Dataverse: what a write sends, what a read gives back.

relcrm sends text, numbers, booleans and ISO dates; Dataverse's Web API wants JSON of the
column's type: a choice column takes the option's integer value (relcrm's picklist words
are the option labels, so the label is looked up), whole-number columns integers, decimals
rounded to the column's precision, date-only columns ``YYYY-MM-DD``, date-and-time columns
an ISO instant with an offset (sent in UTC to the second: Dataverse keeps no milliseconds).

Read back, values are normalised (:data:`relcrm.models.ReadValue`): option values become
their labels, whole numbers ints, decimals floats, date-only columns ``date``, other dates
aware UTC ``datetime``; so the sync engine compares them with what it sent without knowing
Dataverse's shapes.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from relcrm.connectors.dataverse.describe import NUMBER_KINDS, OPTION_KINDS, Column
from relcrm.models import FieldValue, ReadValue


class ValueFormatError(ValueError):
    """A value that cannot go into its column; the message never quotes the value."""


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_value(column: Column | None, value: FieldValue) -> Any:
    """The JSON value to send for ``value`` into ``column`` (unknown columns: as is)."""
    if value is None or column is None:
        return value
    kind = column.kind
    if kind in OPTION_KINDS:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueFormatError("a choice column takes one of its option labels")
        by_label = column.values_by_label
        if isinstance(value, str) and value in by_label:
            return by_label[value]
        if isinstance(value, int) and value in column.labels_by_value:
            return value
        listed = ", ".join(text for _, text in column.options) or "(none)"
        raise ValueFormatError(f"value is not one of the column's options: {listed}")
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueFormatError("a yes/no column takes true or false")
    if kind in NUMBER_KINDS:
        if isinstance(value, bool):
            raise ValueFormatError("a number column takes a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueFormatError("a number column takes a number") from None
        if not math.isfinite(number):
            raise ValueFormatError("a number column takes a finite number")
        if kind in ("Integer", "BigInt"):
            return round(number)
        return round(number, column.precision if column.precision is not None else 2)
    if kind == "DateTime":
        text = str(value)
        if column.date_only:
            try:
                return date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                raise ValueFormatError("a date column takes a date (YYYY-MM-DD)") from None
        moment = _instant(text)
        if moment is None:
            raise ValueFormatError("a date and time column takes an ISO 8601 instant")
        return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind in ("String", "Memo"):
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    return value


def normalise(column: Column | None, raw: Any) -> ReadValue:
    """A value as Dataverse returned it, in relcrm's normalised form."""
    if raw is None:
        return None
    if column is None:
        return raw if isinstance(raw, str | int | float | bool) else str(raw)
    kind = column.kind
    if kind in OPTION_KINDS and isinstance(raw, int) and not isinstance(raw, bool):
        return column.labels_by_value.get(raw, str(raw))
    if kind == "Boolean":
        return bool(raw)
    if kind in ("Integer", "BigInt") and isinstance(raw, int | float):
        return int(raw)
    if kind in NUMBER_KINDS and isinstance(raw, int | float):
        return float(raw)
    if kind == "DateTime" and isinstance(raw, str):
        if column.date_only:
            try:
                return date.fromisoformat(raw[:10])
            except ValueError:
                return raw
        moment = _instant(raw)
        return moment.astimezone(UTC) if moment is not None else raw
    return raw if isinstance(raw, str | int | float | bool) else str(raw)


def same_value(column: Column | None, sent: Any, read: Any) -> bool:
    """Whether ``read`` (as Dataverse returned it) is the value sent (as :func:`format_value`
    made it): a read-back after a write that got no answer."""
    if sent is None or read is None:
        return sent is None and read is None
    if column is not None and column.kind in NUMBER_KINDS:
        try:
            tolerance = 0.5 * 10.0 ** -(column.precision or 0)
            gap = abs(float(sent) - float(read))
        except (TypeError, ValueError):
            return False
        return gap <= tolerance
    if column is not None and column.kind == "DateTime" and not column.date_only:
        a, b = _instant(str(sent)), _instant(str(read))
        return a is not None and b is not None and abs((a - b).total_seconds()) < 1
    equal: bool = sent == read
    return equal
