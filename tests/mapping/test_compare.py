"""crm_holds: a value read back from a CRM, normalised by its connector, against the value
sent. The connectors parse their CRM's shapes (tests/connectors/test_scrub_and_readback.py);
here every read value is already neutral (relcrm.models.ReadValue)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from relcrm.mapping import FieldMapping, crm_holds
from relcrm.models import FieldValue, ReadValue

SIX = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def item(kind: str, **extra: object) -> FieldMapping:
    source = {"datetime": "as_of", "date": "as_of", "checkbox": "churn_risk"}.get(kind, "health")
    return FieldMapping.model_validate({"name": "f", "source": source, "type": kind, **extra})


@pytest.mark.parametrize(
    ("kind", "extra", "sent", "read", "holds"),
    [
        ("number", {"precision": 5, "scale": 1}, 86.8, 86.8, True),
        ("number", {"precision": 5, "scale": 1}, 86.8, 86.84, True),  # within the scale
        ("number", {"precision": 5, "scale": 1}, 86.8, 86.9, False),
        ("number", {"precision": 2, "scale": 0}, 9, 9.0, True),
        ("number", {"precision": 2, "scale": 0}, 9, 9, True),
        ("number", {"precision": 2, "scale": 0}, None, None, True),
        ("number", {"precision": 2, "scale": 0}, 9, None, False),
        ("number", {"precision": 5, "scale": 1}, 86.8, "86.8", False),  # not normalised
        ("number", {"precision": 2, "scale": 0}, 1, True, False),
        ("checkbox", {}, True, True, True),
        ("checkbox", {}, False, False, True),
        ("checkbox", {}, True, False, False),
        ("checkbox", {}, False, None, True),  # a cleared checkbox reads back as false
        ("checkbox", {}, None, False, True),
        ("checkbox", {}, True, "true", False),  # not normalised
        ("datetime", {}, "2026-11-22T06:00:00.000Z", SIX, True),
        (
            "datetime",
            {},
            "2026-11-22T06:00:00.000Z",
            SIX.astimezone(timezone(timedelta(hours=2))),
            True,
        ),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", SIX + timedelta(seconds=1), False),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "2026-11-22T06:00:00.000Z", False),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "not a time", False),
        ("text", {"length": 20}, "joy", "joy", True),
        ("text", {"length": 20}, "joy", "Joy", False),
        ("text", {"length": 20}, None, "", True),
        ("date", {}, "2026-11-22", date(2026, 11, 22), True),
        ("date", {}, "2026-11-22", date(2026, 11, 23), False),
        ("date", {}, "2026-11-22", "2026-11-22", False),  # not normalised
    ],
)
def test_values_read_back(
    kind: str, extra: dict[str, object], sent: FieldValue, read: ReadValue, holds: bool
) -> None:
    assert crm_holds(item(kind, **extra), sent, read) is holds
