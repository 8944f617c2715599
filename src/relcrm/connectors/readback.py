"""Whether a value read back from a CRM is the value a write sent, per field type.

A write whose request may have reached the CRM although no answer came back (the
connection dropped after sending, a read timeout) is read back before it is sent again;
a record that already holds every value it was sent counts as written. CRMs hand values
back in their own shapes (Salesforce numbers as floats, datetimes with a ``+0000``
offset; HubSpot compares with :func:`relcrm.connectors.hubspot.values.same_value`), so
the comparison goes by the field's type, as the sync engine's in-flight recovery does
(:func:`relcrm.mapping.compare.crm_holds`, which connectors may not import: the layers
keep mapping and connectors apart; ``tests/connectors/test_readback.py`` keeps the two
in step).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relcrm.models import FieldSpec, FieldType, FieldValue


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _instant(value: Any) -> datetime | None:
    text = str(value).strip()
    if text.isdigit():  # epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    text = text.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 (Salesforce)
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def holds(spec: FieldSpec | None, sent: FieldValue, read: Any) -> bool:
    """True when ``read`` (as the CRM returned it) is the value ``sent`` to a field of
    ``spec`` (None: a field the connector does not know, compared as text)."""
    if _empty(sent) or _empty(read):
        if spec is not None and spec.type is FieldType.CHECKBOX:
            return bool(sent) == (str(read).strip().lower() == "true")  # cleared = false
        return _empty(sent) and _empty(read)
    kind = spec.type if spec is not None else None
    if kind in (FieldType.NUMBER, FieldType.PERCENT):
        a, b = _number(sent), _number(read)
        scale = spec.scale if spec is not None else None
        tolerance = 0.5 * 10 ** -(scale or 0)
        return a is not None and b is not None and abs(a - b) <= tolerance
    if kind is FieldType.CHECKBOX:
        return str(read).strip().lower() == str(bool(sent)).lower()
    if kind is FieldType.DATE:
        return str(read)[:10] == str(sent)[:10]
    if kind is FieldType.DATETIME:
        a_time, b_time = _instant(sent), _instant(read)
        if a_time is None or b_time is None:
            return False
        return abs((a_time - b_time).total_seconds()) < 0.001
    if isinstance(sent, bool) or isinstance(read, bool):
        return str(read).strip().lower() == str(sent).strip().lower()
    if isinstance(sent, int | float) and isinstance(read, int | float):
        return float(sent) == float(read)
    return str(read) == str(sent)


__all__ = ["holds"]
