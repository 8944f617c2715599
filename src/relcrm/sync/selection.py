"""Deciding, person by person, what one sync run sends to one target: pure, no I/O.

The engine asks the store what was pushed before (field fingerprints), whether the
person's fields were already cleared, and hands each person and profile here. The answer
is one :class:`Decision`: send these fields, clear the mapped fields, or nothing (and why).
Keeping this apart from the engine makes the rules easy to read and to test on their own.
"""

from __future__ import annotations

from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field
from enum import StrEnum

from relcrm.errors import FieldProblem
from relcrm.mapping import (
    NO_PREFERENCES,
    Adjustment,
    Mapping,
    StatedPreferences,
    field_fingerprints,
    values_for,
)
from relcrm.models import FieldValue, Person, RelationshipProfile


class Action(StrEnum):
    SEND = "send"
    """Write ``values`` (only fields whose value changed, or all with ``full``)."""
    CLEAR = "clear"
    """Consent was withdrawn after an earlier push: empty every mapped field, once."""
    UNCHANGED = "unchanged"
    """Every mapped value is what the CRM already got."""
    NO_CONSENT = "no_consent"
    """No consent and nothing of ours in the CRM: the person is neither looked up nor written."""
    NO_PROFILE = "no_profile"
    """Never profiled: nothing to send yet (run ``relcrm profile``)."""


@dataclass(frozen=True)
class Decision:
    """What to do for one person on one target."""

    person: Person
    action: Action
    values: dict[str, FieldValue] = field(default_factory=dict)
    """The fields to write (``None`` empties a field)."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """The fingerprint of each value in ``values``, stored once the CRM confirms it."""
    withheld: tuple[FieldProblem, ...] = ()
    """Mapped values not sent (outside a restricted picklist, past a number's precision)."""
    adjustments: tuple[Adjustment, ...] = ()
    """Values changed to fit the field (text cut at a word boundary)."""

    @property
    def writes(self) -> bool:
        return self.action in (Action.SEND, Action.CLEAR)


def decide(
    person: Person,
    profile: RelationshipProfile | None,
    mapping: Mapping,
    pushed: AbstractMapping[str, str] | None,
    *,
    cleared: bool,
    full: bool = False,
    preferences: StatedPreferences = NO_PREFERENCES,
) -> Decision:
    """The decision for ``person`` given what was ``pushed`` before (``{field:
    fingerprint}``, None if nothing) and whether their fields were ``cleared`` since.

    Consent gates everything: without it, the only write ever made is the one that
    empties the fields relcrm wrote earlier. ``full`` sends every mapped value whatever
    was pushed, but never to a person without consent. ``preferences`` are the person's
    stated preferences, for the fields that read them (a changed one sends that field).
    """
    if not person.consent.granted:
        if pushed and not cleared:
            values = mapping.clearing_values()
            return Decision(person, Action.CLEAR, values, field_fingerprints(values))
        return Decision(person, Action.NO_CONSENT)
    if profile is None:
        return Decision(person, Action.NO_PROFILE)
    coerced = values_for(profile, mapping, person=person, preferences=preferences)
    before = pushed or {}
    changed = {
        name: value
        for name, value in coerced.values.items()
        if full or before.get(name) != coerced.fingerprints[name]
    }
    action = Action.SEND if changed else Action.UNCHANGED
    return Decision(
        person,
        action,
        changed,
        {name: coerced.fingerprints[name] for name in changed},
        coerced.problems,
        coerced.adjustments,
    )


__all__ = ["Action", "Decision", "decide"]
