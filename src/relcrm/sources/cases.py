"""Support cases (Salesforce Case, HubSpot ticket) as what the requester felt.

A case says in words what went wrong (subject and description become the verbatim an
analyzer reads), and in structure how it went: escalated, reopened, or a long wait to
close. Those structured signals raise the perception's ``arousal`` to a floor:

============================== ======
signal                          floor
============================== ======
escalated                       0.8
reopened (status says reopen)   0.7
closed after more than 7 days   0.6
============================== ======

Arousal is "how agitated", which is what these signals say; whether it was *bad* is
left to the text (valence), so a case alone never makes an escalation in the profile,
but a negative case with one of these signals does. An analyzer applied later keeps
the higher of the floor and its own arousal.

The requester must be a known person (found by CRM record or email): a case never
creates one, and an unknown requester is a rejection naming the case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from relcrm.errors import FieldProblem, InvalidRecordError, shorten
from relcrm.models import VERBATIM_MAX_CHARS, Email, Perception, SupportCase, problems_from
from relcrm.sources.dates import DateRange, resolve
from relcrm.sources.items import Identity, SourcedPerception

_EMAIL: Final = TypeAdapter(Email)

ESCALATED_AROUSAL: Final = 0.8
REOPENED_AROUSAL: Final = 0.7
SLOW_CLOSE_AROUSAL: Final = 0.6
SLOW_CLOSE: Final = timedelta(days=7)
"""A case open longer than this was a long wait for the requester."""

TOPIC_KEYWORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "billing": ("invoice", "billing", "bill", "charge", "charged", "refund", "payment"),
    "outage": ("outage", "down", "not working", "unavailable", "offline", "error"),
    "login": ("login", "log in", "sign in", "password", "locked out", "2fa"),
    "delivery": ("delivery", "shipping", "shipment", "parcel", "package", "tracking"),
    "cancellation": ("cancel", "cancellation", "terminate", "close my account"),
}
"""The topic of a case from words in its subject: first topic whose word appears."""


def case_topic(
    subject: str | None, keywords: Mapping[str, tuple[str, ...]] = TOPIC_KEYWORDS
) -> str | None:
    """The first topic whose keyword appears as a word (or phrase) in the subject."""
    if not subject:
        return None
    text = subject.lower()
    for topic, words in keywords.items():
        if any(re.search(rf"\b{re.escape(word)}\b", text) for word in words):
            return topic
    return None


def case_arousal(case: SupportCase) -> float | None:
    """The arousal floor the case's structure gives (see the module), or None."""
    floors = []
    if case.escalated:
        floors.append(ESCALATED_AROUSAL)
    if case.status and "reopen" in case.status.lower():
        floors.append(REOPENED_AROUSAL)
    if case.closed_at is not None and case.closed_at - case.created_at > SLOW_CLOSE:
        floors.append(SLOW_CLOSE_AROUSAL)
    return max(floors) if floors else None


def case_name(case: SupportCase) -> str:
    """How errors name a case: ``case salesforce/Case/500...``."""
    return f"case {case.system}/{case.object}/{case.id}"


def case_perception(
    case: SupportCase,
    *,
    keywords: Mapping[str, tuple[str, ...]] = TOPIC_KEYWORDS,
    dates: DateRange | None = None,
) -> SourcedPerception | InvalidRecordError:
    """What the case's requester felt, or a rejection naming the case and the field.

    A case with a date outside ``dates`` (by default the range the environment
    configures, see :mod:`relcrm.sources.dates`) is rejected; so is a requester email
    that is not an address, or a lookalike of one (it is normalised as ``Email`` is).
    """
    record = case_name(case)
    problems = resolve(dates).record_problems(case)
    if problems:
        return InvalidRecordError(record, problems)
    identities: list[Identity] = []
    if case.requester is not None:
        ref = case.requester
        identities.append(Identity("crm", f"{ref.system}/{ref.object}/{ref.id}"))
    if case.requester_email and case.requester_email.strip():
        try:
            email = _EMAIL.validate_python(case.requester_email)
        except ValidationError as error:
            reason = problems_from(error)[0].problem
            value = shorten(case.requester_email)
            return InvalidRecordError(record, [FieldProblem("requester_email", reason, value)])
        identities.append(Identity("email", email))
    if not identities:
        problem = FieldProblem("requester", "missing: the case names no requester or email")
        return InvalidRecordError(record, [problem])
    parts = [part.strip() for part in (case.subject, case.description) if part and part.strip()]
    if not parts:
        problem = FieldProblem("description", "the case has no subject or description to read")
        return InvalidRecordError(record, [problem])
    verbatim = "\n\n".join(parts)
    if len(verbatim) > VERBATIM_MAX_CHARS:
        problem = FieldProblem(
            "description",
            f"subject and description are {len(verbatim):,} characters; a verbatim is at "
            f"most {VERBATIM_MAX_CHARS:,} (a pasted mail thread is not a feeling)",
        )
        return InvalidRecordError(record, [problem])
    data: dict[str, Any] = {
        "person_id": identities[0].new_person_id(),
        "occurred_at": case.created_at,
        "channel": "support",
        "touchpoint": "support",
        "topic": case_topic(case.subject, keywords),
        "arousal": case_arousal(case),
        "verbatim": verbatim,
        "provenance": {
            "source_system": case.system,
            "source_record_id": f"{case.object}/{case.id}",
        },
    }
    try:
        perception = Perception.model_validate(data)
    except ValidationError as error:
        return InvalidRecordError(record, problems_from(error))
    return SourcedPerception(record, perception, tuple(identities), create_person=False)


def read_cases(
    cases: Iterable[SupportCase],
    *,
    keywords: Mapping[str, tuple[str, ...]] = TOPIC_KEYWORDS,
    dates: DateRange | None = None,
) -> Iterator[SourcedPerception | InvalidRecordError]:
    """Each case's perception (or rejection), in order (``dates`` as for
    :func:`case_perception`)."""
    checker = resolve(dates)
    for case in cases:
        yield case_perception(case, keywords=keywords, dates=checker)
