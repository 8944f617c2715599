"""Whether a value read back from a CRM is the value relcrm sent, per field type.

CRMs hand values back in their own shapes: HubSpot as strings ("87.5", "true", epoch
milliseconds or ISO times), Salesforce numbers as floats and datetimes with a ``+0000``
offset. A resumed sync compares what it was about to send with what the CRM holds, so
a write that reached the CRM before the process died is recognised and not sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relcrm.mapping.model import FieldMapping
from relcrm.models import FieldType, FieldValue


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _instant(value: Any) -> datetime | None:
    text = str(value).strip()
    if text.isdigit():  # epoch milliseconds (HubSpot)
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
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def crm_holds(item: FieldMapping, sent: FieldValue, read: Any) -> bool:
    """True when ``read`` (as the CRM returned it) is the value ``sent`` for ``item``."""
    if _empty(sent) or _empty(read):
        return _empty(sent) and _empty(read)
    kind = item.type
    if kind in (FieldType.NUMBER, FieldType.PERCENT):
        a, b = _number(sent), _number(read)
        tolerance = 0.5 * 10 ** -(item.scale or 0)
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
    return str(read) == str(sent)


__all__ = ["crm_holds"]
