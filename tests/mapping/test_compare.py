"""crm_holds: a value read back from a CRM, in its own shape, against the value sent."""

from __future__ import annotations

import pytest

from relcrm.mapping import FieldMapping, crm_holds
from relcrm.models import FieldValue


def item(kind: str, **extra: object) -> FieldMapping:
    source = {"datetime": "as_of", "date": "as_of", "checkbox": "churn_risk"}.get(kind, "health")
    return FieldMapping.model_validate({"name": "f", "source": source, "type": kind, **extra})


@pytest.mark.parametrize(
    ("kind", "extra", "sent", "read", "holds"),
    [
        ("number", {"precision": 5, "scale": 1}, 86.8, 86.8, True),
        ("number", {"precision": 5, "scale": 1}, 86.8, "86.8", True),  # HubSpot: strings
        ("number", {"precision": 5, "scale": 1}, 86.8, 86.9, False),
        ("number", {"precision": 2, "scale": 0}, 9, 9.0, True),  # Salesforce: floats
        ("number", {"precision": 2, "scale": 0}, None, None, True),
        ("number", {"precision": 2, "scale": 0}, None, "", True),  # HubSpot: empty
        ("number", {"precision": 2, "scale": 0}, 9, None, False),
        ("checkbox", {}, True, "true", True),
        ("checkbox", {}, False, False, True),
        ("checkbox", {}, True, False, False),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "2026-11-22T06:00:00.000+0000", True),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "1795327200000", True),  # epoch ms
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "2026-11-22T06:00:01.000Z", False),
        ("datetime", {}, "2026-11-22T06:00:00.000Z", "not a time", False),
        ("text", {"length": 20}, "joy", "joy", True),
        ("text", {"length": 20}, "joy", "Joy", False),
        ("date", {}, "2026-11-22", "2026-11-22", True),
    ],
)
def test_values_read_back(
    kind: str, extra: dict[str, object], sent: FieldValue, read: object, holds: bool
) -> None:
    assert crm_holds(item(kind, **extra), sent, read) is holds
