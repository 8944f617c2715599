"""``RelationshipProfile`` models from the recipe's rows, built only when a caller asks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from relcrm.models import RelationshipProfile
from relcrm.profile.columnar.recipe import ColumnarResult, field_values
from relcrm.profile.config import ProfileConfig


def profile_of(
    row: Mapping[str, Any], result: ColumnarResult, config: ProfileConfig
) -> RelationshipProfile:
    """One person's profile: the row's fields plus the run's constants."""
    data: dict[str, Any] = {
        "person_id": row["person_id"],
        "as_of": result.as_of,
        "model_version": config.model_version,
        "trend": {"window_days": config.trend_window_days},
    }
    for name, value in field_values(row):
        head, _, tail = name.partition(".")
        if tail:
            data[head] = {**data.get(head, {}), tail: value}
        else:
            data[name] = value
    return RelationshipProfile.model_validate(data)


def profiles_of(result: ColumnarResult, config: ProfileConfig) -> Iterator[RelationshipProfile]:
    """Every person's profile, by person id, one model at a time."""
    for row in result.rows:
        yield profile_of(row, result, config)
