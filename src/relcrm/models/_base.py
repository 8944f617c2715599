"""Shared base for relcrm's models: frozen, strict about unknown keys, aware datetimes."""

from __future__ import annotations

import pydantic
from pydantic import BaseModel, ConfigDict, ValidationError

from relcrm.errors import FieldProblem, InvalidRecordError, shorten


class FrozenModel(BaseModel):
    """Immutable, rejects unknown keys, so a typo in a source never passes silently."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


AwareDatetime = pydantic.AwareDatetime
"""A datetime that must carry a time zone: naive times are ambiguous across systems.
(pydantic's own type: checked in its Rust core, which matters for a million rows.)"""


def problems_from(error: ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into relcrm's field problems, naming field and value."""
    problems: list[FieldProblem] = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(record)"
        message = str(item["msg"])
        message = message.removeprefix("Value error, ")
        if item["type"] == "timezone_aware":
            message = "datetime must carry a time zone (for example 2026-10-02T14:00:00Z)"
        if item["type"] == "extra_forbidden":
            message = "unknown field: not part of this format (check the spelling)"
        value = None if item["type"] == "missing" else shorten(item.get("input"))
        problems.append(FieldProblem(field=location, problem=message, value=value))
    return problems


def record_error(record: str, error: ValidationError) -> InvalidRecordError:
    """An InvalidRecordError for ``record`` (a line number, a row, an id) from pydantic's."""
    return InvalidRecordError(record, problems_from(error))
