"""Compare the columnar recipe's rows with the reference engine's profiles, field by field."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from relcrm.models import Perception, Person, RelationshipProfile
from relcrm.profile import build_profile
from relcrm.profile.columnar import COLUMNAR_FIELDS, field_values, profile_columnar

TOLERANCE = 1e-9


def reference_value(profile: RelationshipProfile, name: str) -> Any:
    value: Any = profile
    for part in name.split("."):
        value = getattr(value, part)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    return getattr(value, "value", value)


def same(left: Any, right: Any) -> bool:
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=0.0, abs_tol=TOLERANCE)
    return bool(left == right) and type(left) is type(right)


def differences(
    persons: Iterable[Person], perceptions: Iterable[Perception], now: datetime
) -> list[str]:
    """Every field where the two engines disagree, as ``person field: columnar != ref``."""
    persons = list(persons)
    perceptions = list(perceptions)
    grouped: dict[str, list[Perception]] = defaultdict(list)
    for perception in perceptions:
        grouped[perception.person_id].append(perception)
    rows = profile_columnar(persons, perceptions, now).by_person()
    found: list[str] = []
    assert len(rows) == len({p.id for p in persons})
    for person in persons:
        reference = build_profile(person, grouped.get(person.id, []), now)
        columnar = dict(field_values(rows[person.id]))
        assert set(columnar) == set(COLUMNAR_FIELDS)
        for name in COLUMNAR_FIELDS:
            expected = reference_value(reference, name)
            if not same(columnar[name], expected):
                found.append(f"{person.id} {name}: {columnar[name]!r} != {expected!r}")
    return found
