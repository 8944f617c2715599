"""Which profile attributes a mapping may read, and what kind of value each one holds.

Derived from :class:`~relcrm.models.RelationshipProfile` itself rather than listed by
hand, so a field added to the profile is mappable at once and a renamed one turns every
mapping that still names it into a load error instead of a silently empty CRM field.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from functools import cache
from typing import Any, Final, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel

from relcrm.models import RelationshipProfile


class SourceKind(StrEnum):
    """What a source value is, which decides the field types and transforms it fits."""

    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"
    CHOICE = "choice"
    """One of a fixed set of words (an enum): fits a picklist."""
    DATETIME = "datetime"
    TEXTS = "texts"
    """A list of sentences (the reasons): needs ``join_reasons`` to fit one field."""
    TOPICS = "topics"
    """A list of pet peeves: needs ``join_topics`` to fit one field."""
    GROUP = "group"
    """A nested model (``trend``): not a value, one of its fields is."""


@dataclass(frozen=True)
class SourceInfo:
    """One attribute path and the kind of value found there."""

    path: str
    kind: SourceKind
    optional: bool
    choices: tuple[str, ...] = ()
    """The values a CHOICE source can take (empty for the other kinds)."""


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = get_args(annotation)
        rest = tuple(a for a in args if a is not type(None))
        optional = len(rest) < len(args)
        if len(rest) == 1:
            return rest[0], optional
        return Union[rest], optional  # noqa: UP007 - rebuilding a runtime union
    return annotation, False


def _choices(annotation: Any) -> tuple[str, ...] | None:
    """The words of an enum, a Literal, or a union of them; None for anything else."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(member.value) for member in annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        args = get_args(annotation)
        return (
            tuple(a for a in args if isinstance(a, str))
            if all(isinstance(a, str) for a in args)
            else None
        )
    if origin is Union or origin is types.UnionType:
        words: list[str] = []
        for arg in get_args(annotation):
            part = _choices(arg)
            if part is None:
                return None
            words.extend(part)
        return tuple(words)
    return None


def _kind(annotation: Any) -> tuple[SourceKind | None, tuple[str, ...]]:
    choices = _choices(annotation)
    if choices is not None:
        return SourceKind.CHOICE, choices
    if annotation is bool:
        return SourceKind.BOOL, ()
    if annotation in (int, float):
        return SourceKind.NUMBER, ()
    if annotation is str:
        return SourceKind.TEXT, ()
    if annotation is AwareDatetime or annotation is datetime:
        return SourceKind.DATETIME, ()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return SourceKind.GROUP, ()
    if get_origin(annotation) is tuple:
        item = get_args(annotation)[0]
        if item is str:
            return SourceKind.TEXTS, ()
        if isinstance(item, type) and issubclass(item, BaseModel) and "topic" in item.model_fields:
            return SourceKind.TOPICS, ()
    return None, ()


def _walk(model: type[BaseModel], prefix: str, optional: bool) -> list[SourceInfo]:
    found: list[SourceInfo] = []
    for name, info in model.model_fields.items():
        annotation, maybe_none = _strip_optional(info.annotation)
        kind, choices = _kind(annotation)
        if kind is None:
            continue
        path = f"{prefix}{name}"
        found.append(SourceInfo(path, kind, optional or maybe_none, choices))
        if kind is SourceKind.GROUP:
            found.extend(_walk(annotation, f"{path}.", optional or maybe_none))
    return found


@cache
def _sources() -> dict[str, SourceInfo]:
    return {s.path: s for s in _walk(RelationshipProfile, "", False)}


SOURCE_PATHS: Final[tuple[str, ...]] = tuple(
    path for path, s in _sources().items() if s.kind is not SourceKind.GROUP
)
"""Every attribute path a mapping field may name as its ``source``."""


def source_info(path: str) -> SourceInfo:
    """What ``path`` holds; a ValueError naming the valid choices when it holds nothing.

    The error lists only the paths at the level where the typo is (the profile's own
    attributes, or ``trend.…``), so the admin sees the few that were meant, not sixty.
    """
    sources = _sources()
    found = sources.get(path)
    if found is not None and found.kind is not SourceKind.GROUP:
        return found
    if found is not None:
        inner = [p for p in SOURCE_PATHS if p.startswith(f"{path}.")]
        raise ValueError(
            f"{path!r} is a group of attributes, not one value; choose one of: " + ", ".join(inner)
        )
    parent, _, leaf = path.rpartition(".")
    if parent and parent in sources and sources[parent].kind is SourceKind.GROUP:
        valid = [p for p in SOURCE_PATHS if p.startswith(f"{parent}.")]
        raise ValueError(f"{parent!r} has no attribute {leaf!r}; valid: " + ", ".join(valid))
    top = sorted(p for p in sources if "." not in p)
    raise ValueError(
        f"{path!r} is not an attribute of RelationshipProfile; valid: " + ", ".join(top)
    )


def read_source(profile: RelationshipProfile, path: str) -> Any:
    """The value at ``path`` in ``profile``; None when a group on the way is absent."""
    value: Any = profile
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value
