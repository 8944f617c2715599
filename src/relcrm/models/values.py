"""Whether a value read back from a CRM is the value relcrm sent: one comparison, of
neutral values.

Connectors read values back normalised (:data:`relcrm.models.ReadValue`: numbers as
numbers, booleans as booleans, aware UTC datetimes, dates, text), so neither the sync
engine (a resumed run recognising the writes of the batch a killed run had in flight,
:func:`relcrm.mapping.crm_holds`) nor a connector (reading back a call that went
unanswered before sending it again) knows any CRM's shapes. Both call
:func:`value_holds`.

What is sent is relcrm's own shape (:data:`relcrm.models.FieldValue`): dates and
datetimes as ISO 8601 text, numbers, booleans, text. A read value of the wrong kind
(text where a number was expected: a connector that did not normalise) does not hold,
so the write is sent again: the safe way to be wrong.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from relcrm.models.crm import FieldType, ReadValue

TIME_TOLERANCE_S = 1.0
"""Datetimes less than a second apart are one: relcrm sends milliseconds, and some CRMs
keep whole seconds (Dataverse, Zoho), so a value read back a fraction of a second off is
the value that was sent, not a write that went missing."""


def _empty(value: ReadValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sent_number(value: ReadValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _read_number(value: ReadValue) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _instant(value: ReadValue) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(value: ReadValue) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _text(value: ReadValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _options(value: ReadValue) -> frozenset[str]:
    """A multi-select picklist's options (``a;b``), whatever their order."""
    return frozenset(part.strip() for part in _text(value).split(";") if part.strip())


def value_holds(
    kind: FieldType | None, sent: ReadValue, read: ReadValue, *, scale: int | None
) -> bool:
    """True when ``read`` (normalised by the connector) is the value ``sent`` to a field
    of type ``kind`` (None: a field whose type is not known, compared by value).

    Numbers hold within half a unit of the field's last decimal (``scale``; None: exactly,
    for CRMs whose fields keep what they are sent); a cleared checkbox reads back as
    false; datetimes hold within a second (:data:`TIME_TOLERANCE_S`); a multi-select holds
    the same options in any order; text holds exactly.
    """
    if kind is FieldType.CHECKBOX:
        wanted = False if _empty(sent) else sent
        held = False if _empty(read) else read
        if isinstance(wanted, str):
            wanted = {"true": True, "false": False}.get(wanted.strip().lower(), wanted)
        return isinstance(held, bool) and isinstance(wanted, bool) and held == wanted
    if _empty(sent) or _empty(read):
        return _empty(sent) and _empty(read)
    if kind in (FieldType.NUMBER, FieldType.PERCENT):
        a, b = _sent_number(sent), _read_number(read)
        if a is None or b is None:
            return False
        if scale is None:
            return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
        return abs(a - b) <= 0.5 * 10.0**-scale
    if kind is FieldType.DATE:
        day = _day(sent)
        return (
            day is not None
            and isinstance(read, date)
            and not isinstance(read, datetime)
            and read == day
        )
    if kind is FieldType.DATETIME:
        a_time = _instant(sent)
        b_time = _instant(read) if isinstance(read, datetime) else None
        if a_time is None or b_time is None:
            return False
        return abs((a_time - b_time).total_seconds()) < TIME_TOLERANCE_S
    if kind is FieldType.MULTI_PICKLIST:
        # A CRM may give the options back in its own order (the picklist's).
        return _options(sent) == _options(read)
    if kind is None:
        if isinstance(sent, bool) or isinstance(read, bool):
            return _text(read).strip().lower() == _text(sent).strip().lower()
        a, b = _read_number(sent), _read_number(read)
        if a is not None and b is not None:
            return a == b
    return _text(read) == _text(sent)


__all__ = ["TIME_TOLERANCE_S", "value_holds"]
