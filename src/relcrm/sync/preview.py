"""What a sync would write for given persons, field by field, before anything is sent.

``relcrm mapping preview`` is the admin's look at one person through a mapping: each
field's value as the CRM would store it (after transforms and coercion, with a cut text
said so), whether it differs from what relcrm last wrote (the sync state keeps a
fingerprint per field, not the value), and why a field would not be sent (no consent,
no profile yet, a value the field cannot take). It reads the store only, never a CRM,
and follows the engine's own decision (:func:`relcrm.sync.selection.decide`), so what it
shows is what the next run does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relcrm.errors import InputError
from relcrm.mapping import Mapping, StatedPreferences, values_for
from relcrm.models import FieldValue, Person, RelationshipProfile
from relcrm.store import Store
from relcrm.sync.selection import Action, decide


class PreviewUnknownPersonError(InputError):
    """A person id the store does not hold; the other ids are previewed all the same."""

    code = "sync.unknown_person"
    default_hint = "check the id (relcrm profile lists the persons) or ingest the person first"

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        super().__init__(f"no person {person_id!r} in the store")


class FieldState(StrEnum):
    """What the next sync does with one field."""

    SEND = "send"
    """Written: the value differs from the last one written, or none was."""
    UNCHANGED = "unchanged"
    """Not sent: the CRM already has this value."""
    WITHHELD = "withheld"
    """Not sent: the field cannot take the value (``reason`` says why)."""
    CLEAR = "clear"
    """Emptied: consent was withdrawn after relcrm wrote the field."""
    NOT_SENT = "not_sent"
    """Nothing is sent for this person (no consent, no profile: ``reason``)."""


class LastWritten(StrEnum):
    """The value against what relcrm last wrote to the field on this target."""

    NEVER = "never"
    SAME = "same"
    DIFFERS = "differs"
    CLEARED = "cleared"


@dataclass(frozen=True)
class FieldPreview:
    """One mapped field for one person."""

    field: str
    source: str
    state: FieldState
    last_written: LastWritten
    value: FieldValue = None
    """As the CRM would store it (None: empty, or nothing is sent)."""
    cut: str | None = None
    """How the value was cut to fit the field (``312 characters cut to 255``)."""
    reason: str | None = None
    """Why the field is not sent as the source says (no consent, no value...)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "source": self.source,
            "state": self.state.value,
            "last_written": self.last_written.value,
            "differs": self.last_written is not LastWritten.SAME,
            "value": self.value,
            "cut": self.cut,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PersonPreview:
    """One person through one target's mapping."""

    target: str
    person_id: str
    consent: bool
    action: Action
    """The engine's decision for the person (send, unchanged, clear, no_consent...)."""
    fields: tuple[FieldPreview, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "person_id": self.person_id,
            "consent": self.consent,
            "action": self.action.value,
            "fields": [item.to_json() for item in self.fields],
        }


@dataclass
class Preview:
    """Every previewed person, and the ids the store does not hold."""

    persons: list[PersonPreview] = field(default_factory=list)
    unknown: list[PreviewUnknownPersonError] = field(default_factory=list)


_NOT_SENT = {
    Action.NO_CONSENT: "no consent: nothing is written for this person",
    Action.NO_PROFILE: "not profiled yet: run relcrm profile",
}


def _person_preview(
    target: str,
    mapping: Mapping,
    person: Person,
    profile: RelationshipProfile | None,
    preferences: StatedPreferences,
    before: dict[str, str],
    cleared: bool,
) -> PersonPreview:
    decision = decide(
        person, profile, mapping, before or None, cleared=cleared, preferences=preferences
    )
    fields: list[FieldPreview] = []

    def last(name: str, fingerprint: str | None) -> LastWritten:
        if cleared:
            return LastWritten.CLEARED
        held = before.get(name)
        if held is None:
            return LastWritten.NEVER
        return LastWritten.SAME if held == fingerprint else LastWritten.DIFFERS

    if decision.action in _NOT_SENT or decision.action is Action.CLEAR:
        for item in mapping.fields:
            if decision.action is Action.CLEAR:
                state, reason = FieldState.CLEAR, "consent withdrawn: relcrm empties its fields"
            else:
                state, reason = FieldState.NOT_SENT, _NOT_SENT[decision.action]
            fields.append(
                FieldPreview(item.name, item.source, state, last(item.name, None), reason=reason)
            )
        return PersonPreview(
            target, person.id, person.consent.granted, decision.action, tuple(fields)
        )

    assert profile is not None  # decide() said SEND or UNCHANGED
    coerced = values_for(profile, mapping, person=person, preferences=preferences)
    withheld = {problem.field: problem for problem in coerced.problems}
    cuts = {adjustment.field: adjustment.detail for adjustment in coerced.adjustments}
    for item in mapping.fields:
        name = item.name
        if name in withheld:
            problem = withheld[name]
            why = problem.problem + (f" (got {problem.value})" if problem.value else "")
            fields.append(
                FieldPreview(name, item.source, FieldState.WITHHELD, last(name, None), reason=why)
            )
            continue
        value = coerced.values[name]
        was = last(name, coerced.fingerprints[name])
        state = FieldState.SEND if name in decision.values else FieldState.UNCHANGED
        empty: str | None = "no value: the field is left empty" if value is None else None
        fields.append(FieldPreview(name, item.source, state, was, value, cuts.get(name), empty))
    return PersonPreview(target, person.id, True, decision.action, tuple(fields))


def preview_persons(
    store: Store, mapping: Mapping, person_ids: Iterable[str], *, target: str | None = None
) -> Preview:
    """What the next sync of ``mapping`` (on ``target``, default the mapping's own name)
    writes for each of ``person_ids``, in the order given; an id the store does not hold
    becomes an :class:`PreviewUnknownPersonError` in ``unknown`` and the others go on."""
    name = target or mapping.target
    ids = list(dict.fromkeys(person_ids))
    pushed = store.field_fingerprints(name, ids)
    stated = store.preference_rows(ids) if mapping.reads_preferences else {}
    cleared = store.cleared(name, ids)
    result = Preview()
    for person_id in ids:
        person = store.get_person(person_id)
        if person is None:
            result.unknown.append(PreviewUnknownPersonError(person_id))
            continue
        result.persons.append(
            _person_preview(
                name,
                mapping,
                person,
                store.get_profile(person_id),
                StatedPreferences.from_json(stated.get(person_id, ())),
                pushed.get(person_id, {}),
                person_id in cleared,
            )
        )
    return result


__all__ = [
    "FieldPreview",
    "FieldState",
    "LastWritten",
    "PersonPreview",
    "Preview",
    "PreviewUnknownPersonError",
    "preview_persons",
]
