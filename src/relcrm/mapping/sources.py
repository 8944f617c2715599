"""What a mapping field may read, and what kind of value each source holds.

Four origins, each named by the source's first word:

- a profile attribute: ``health``, ``trend.direction`` (or ``profile.health``);
- a stated preference: ``preferences.channel`` (the latest statement of that kind),
  ``preferences.topic`` (every topic the person chose, a list of words) and
  ``preferences.<kind>.stated_at`` (when the value read was stated);
- a behaviour fact: ``facts.renewals``, ``facts.customer_since``...;
- a constant: ``value = ...`` in the field (its source is then ``constant``).

Profile attributes and facts are derived from the models themselves rather than listed
by hand, so a field added to the profile is mappable at once and a renamed one turns
every mapping that still names it into a load error instead of a silently empty CRM field.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from functools import cache
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel

from relcrm.models import BehaviourFacts, Person, Preference, PreferenceKind, RelationshipProfile


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
    WORDS = "words"
    """A list of words (the topics a person chose): joined by ``; `` in a text field,
    one option each in a multi-select picklist."""


class SourceOrigin(StrEnum):
    """Where a source's value comes from, which decides what the engine reads."""

    PROFILE = "profile"
    PREFERENCE = "preferences"
    FACT = "facts"
    CONSTANT = "constant"


CONSTANT: Final = "constant"
"""The source of a field with ``value = ...``: the same value for every person."""


@dataclass(frozen=True)
class SourceInfo:
    """One source path and the kind of value found there."""

    path: str
    kind: SourceKind
    optional: bool
    choices: tuple[str, ...] = ()
    """The values a CHOICE source can take (empty for the other kinds)."""
    origin: SourceOrigin = SourceOrigin.PROFILE
    attribute: str = ""
    """The path inside its origin (``trend.direction``, ``channel.stated_at``); the
    path itself when empty."""

    @property
    def inner(self) -> str:
        return self.attribute or self.path


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
    if get_origin(annotation) is Annotated:  # a constrained type: its base decides
        annotation = get_args(annotation)[0]
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


@cache
def _extra_sources() -> dict[str, SourceInfo]:
    """The sources outside the profile: preferences, facts, ``profile.`` spellings."""
    found: dict[str, SourceInfo] = {}
    for kind in PreferenceKind:
        path = f"preferences.{kind.value}"
        words = SourceKind.WORDS if kind is PreferenceKind.TOPIC else SourceKind.TEXT
        found[path] = SourceInfo(path, words, True, (), SourceOrigin.PREFERENCE, kind.value)
        stated = f"{path}.stated_at"
        found[stated] = SourceInfo(
            stated,
            SourceKind.DATETIME,
            True,
            (),
            SourceOrigin.PREFERENCE,
            f"{kind.value}.stated_at",
        )
    for info in _walk(BehaviourFacts, "", True):
        if info.kind is not SourceKind.GROUP:
            path = f"facts.{info.path}"
            found[path] = SourceInfo(
                path, info.kind, True, info.choices, SourceOrigin.FACT, info.path
            )
    for info in _sources().values():
        if info.kind is not SourceKind.GROUP:
            path = f"profile.{info.path}"
            found[path] = SourceInfo(
                path, info.kind, info.optional, info.choices, attribute=info.path
            )
    return found


SOURCE_PATHS: Final[tuple[str, ...]] = (
    *(path for path, s in _sources().items() if s.kind is not SourceKind.GROUP),
    *_extra_sources(),
    CONSTANT,
)
"""Every path a mapping field may name as its ``source`` (``constant`` comes with
``value = ...``)."""

PREFERENCE_SOURCES: Final = tuple(p for p in _extra_sources() if p.startswith("preferences."))
FACT_SOURCES: Final = tuple(p for p in _extra_sources() if p.startswith("facts."))


def source_info(path: str) -> SourceInfo:
    """What ``path`` holds; a ValueError naming the valid choices when it holds nothing.

    The error lists only the paths at the level where the typo is (the profile's own
    attributes, or ``trend.…``), so the admin sees the few that were meant, not sixty.
    """
    extra = _extra_sources().get(path)
    if extra is not None:
        return extra
    if path == CONSTANT:
        return SourceInfo(CONSTANT, SourceKind.TEXT, False, (), SourceOrigin.CONSTANT)
    head, _, rest = path.partition(".")
    if head == "preferences":
        raise ValueError(f"{path!r} is not a preference; valid: " + ", ".join(PREFERENCE_SOURCES))
    if head == "facts":
        raise ValueError(f"{path!r} is not a behaviour fact; valid: " + ", ".join(FACT_SOURCES))
    if head == "profile" and rest:
        path = rest
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
        f"{path!r} is not an attribute of RelationshipProfile; valid: "
        + ", ".join(top)
        + "; or preferences.<kind> (channel, frequency, language, topic, time), "
        "facts.<fact> (" + ", ".join(p.removeprefix("facts.") for p in FACT_SOURCES) + "), "
        "or a constant (value = ...)"
    )


def _attribute(value: Any, path: str) -> Any:
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class StatedPreferences:
    """A person's preferences as a mapping reads them: the latest statement of each kind
    (a later statement replaces an earlier one), and every topic they chose.

    Built from the statements oldest first (the store's order); two statements at one
    moment are taken in the store's order too, so the result never depends on chance.
    """

    latest: dict[PreferenceKind, Preference] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    """Every topic stated, once each (compared ignoring case), in the order first stated."""
    topics_stated_at: datetime | None = None
    """When the latest topic was stated."""

    @classmethod
    def of(cls, preferences: Iterable[Preference]) -> StatedPreferences:
        ordered = sorted(preferences, key=lambda p: p.stated_at)  # stable: ties keep order
        latest: dict[PreferenceKind, Preference] = {}
        topics: dict[str, str] = {}
        stated: datetime | None = None
        for preference in ordered:
            latest[preference.kind] = preference
            if preference.kind is PreferenceKind.TOPIC:
                topics.setdefault(preference.value.strip().casefold(), preference.value.strip())
                stated = preference.stated_at
        return cls(latest, tuple(topics.values()), stated)

    @classmethod
    def from_json(cls, rows: Iterable[str]) -> StatedPreferences:
        """From the stored JSON of each statement (the store's ``preference_rows``)."""
        texts = list(rows)
        if not texts:
            return NO_PREFERENCES
        return cls.of(Preference.model_validate_json(text) for text in texts)

    def value(self, attribute: str) -> Any:
        """The value of ``channel``, ``topic`` or ``channel.stated_at``; None if unsaid."""
        name, _, part = attribute.partition(".")
        kind = PreferenceKind(name)
        if kind is PreferenceKind.TOPIC:
            if part:
                return self.topics_stated_at
            return self.topics or None
        said = self.latest.get(kind)
        if said is None:
            return None
        return said.stated_at if part else said.value


NO_PREFERENCES: Final = StatedPreferences()


def read_source(
    profile: RelationshipProfile,
    path: str,
    *,
    person: Person | None = None,
    preferences: StatedPreferences = NO_PREFERENCES,
    constant: Any = None,
) -> Any:
    """The value ``path`` names for one person; None when it is absent (a group on the
    way, a preference never stated, a fact the source did not supply)."""
    info = source_info(path)
    if info.origin is SourceOrigin.CONSTANT:
        return constant
    if info.origin is SourceOrigin.PREFERENCE:
        return preferences.value(info.inner)
    if info.origin is SourceOrigin.FACT:
        return None if person is None else _attribute(person.facts, info.inner)
    return _attribute(profile, info.inner)
