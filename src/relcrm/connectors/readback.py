"""Values read back from a CRM, normalised: the one place vendor shapes are parsed.

CRMs hand values back in their own shapes: HubSpot every value as a string (``"87.5"``,
``"true"``, datetimes as epoch milliseconds or ISO text, dates as ``YYYY-MM-DD`` or the
epoch milliseconds of midnight UTC), Salesforce numbers as JSON numbers and datetimes
with a ``+0000`` offset. Each connector turns them, by the field's type, into
:data:`relcrm.models.ReadValue` (numbers as ``int``/``float``, booleans, aware UTC
datetimes, dates, text) before anything else sees them, and compares with
:func:`relcrm.models.value_holds` like the sync engine does: one comparison, of neutral
values, for the engine's in-flight recovery and the connectors' own read-back before
re-sending an unanswered call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from relcrm.models import FieldSpec, FieldType, ReadValue, value_holds

_EPOCH_MS = re.compile(r"-?\d{9,}")
"""Epoch milliseconds (HubSpot): all digits, long enough not to be a year or a day."""
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
"""``+0000`` (Salesforce) rather than ISO's ``+00:00``."""


def parse_instant(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z``, ``+00:00`` or ``+0000``; naive
    text is taken as UTC), epoch milliseconds (a number or all-digit text), or a datetime;
    None when it is none of these."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if _EPOCH_MS.fullmatch(text):
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        if "T" in text or " " in text:
            text = _COMPACT_OFFSET.sub(r"\1:\2", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_day(value: Any) -> date | None:
    """A date from ``YYYY-MM-DD`` (or ISO datetime text: its day in UTC), epoch
    milliseconds (HubSpot's midnight UTC), a date or a datetime; None otherwise."""
    if isinstance(value, datetime):
        moment = parse_instant(value)
        return moment.date() if moment is not None else None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    moment = parse_instant(value)
    return moment.date() if moment is not None else None


def parse_number(value: Any, *, scale: int | None = None) -> int | float | None:
    """A number from a JSON number or decimal text; whole numbers as ``int`` where the
    field keeps no decimals (``scale`` 0) or the text has none; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if scale == 0 and value.is_integer() else value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        if number == number.to_integral_value() and (scale == 0 or "." not in value):
            return int(number)
        return float(number)
    return None


def parse_bool(value: Any) -> bool | None:
    """A boolean from a JSON boolean or ``true``/``false`` text (any case); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None


def _scalar(raw: Any) -> ReadValue:
    if raw is None or isinstance(raw, str | int | float | bool | date):
        return raw
    return str(raw)


def normalise(kind: FieldType | None, raw: Any, *, scale: int | None = None) -> ReadValue:
    """``raw`` (as the CRM returned it) as a :data:`~relcrm.models.ReadValue` for a field
    of type ``kind`` (None: a field whose type is not known, left as the CRM said it).

    Empty text is None (neither CRM tells an empty field from a cleared one). A value
    that does not parse as its type is kept as text: it then holds no value relcrm sends,
    so a write that may not have arrived is sent again.
    """
    if raw is None or (isinstance(raw, str) and raw == ""):
        return None
    parsed: ReadValue = None
    if kind in (FieldType.NUMBER, FieldType.PERCENT):
        parsed = parse_number(raw, scale=scale)
    elif kind is FieldType.CHECKBOX:
        parsed = parse_bool(raw)
    elif kind is FieldType.DATE:
        parsed = parse_day(raw)
    elif kind is FieldType.DATETIME:
        parsed = parse_instant(raw)
    elif kind is None:
        return _scalar(raw)
    else:
        return raw if isinstance(raw, str) else _scalar(raw)
    return parsed if parsed is not None else str(raw)


def find_spec(specs: Mapping[str, FieldSpec], name: str) -> FieldSpec | None:
    """The spec of field ``name`` in ``specs`` (keyed by name), ignoring case as CRMs do."""
    found = specs.get(name)
    if found is not None:
        return found
    folded = name.casefold()
    return next((spec for key, spec in specs.items() if key.casefold() == folded), None)


def normalise_values(
    raw: Mapping[str, Any], specs: Mapping[str, FieldSpec]
) -> dict[str, ReadValue]:
    """A record's values normalised by their fields' specs (keyed by field name)."""
    out: dict[str, ReadValue] = {}
    for name, value in raw.items():
        spec = find_spec(specs, name)
        out[name] = normalise(
            spec.type if spec else None, value, scale=spec.scale if spec else None
        )
    return out


def holds(spec: FieldSpec | None, sent: ReadValue, read: ReadValue) -> bool:
    """True when ``read`` (normalised) is the value ``sent`` to a field of ``spec`` (None:
    a field the connector does not know): :func:`relcrm.models.value_holds`."""
    if spec is None:
        return value_holds(None, sent, read, scale=None)
    return value_holds(spec.type, sent, read, scale=spec.scale)


__all__ = [
    "find_spec",
    "holds",
    "normalise",
    "normalise_values",
    "parse_bool",
    "parse_day",
    "parse_instant",
    "parse_number",
]
