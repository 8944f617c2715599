"""Builders for test data: real models, written briefly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from relcrm.models import BehaviourFacts, Consent, Perception, Person

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_counter = itertools.count(1)


def person(person_id: str = "p1", *, loyalty: float | None = None, **facts: Any) -> Person:
    if loyalty is not None:
        facts["behavioural_loyalty"] = loyalty
    return Person(
        id=person_id,
        emails=(f"{person_id}@example.com",),
        consent=Consent(granted=True),
        facts=BehaviourFacts(**facts),
    )


def perception(
    age_days: float,
    *,
    person_id: str = "p1",
    now: datetime = NOW,
    record: str | None = None,
    channel: str = "survey",
    **fields: Any,
) -> Perception:
    record = record or f"r{next(_counter)}"
    data: dict[str, Any] = {
        "person_id": person_id,
        "occurred_at": now - timedelta(days=age_days),
        "channel": channel,
        "provenance": {"source_system": "test", "source_record_id": record},
        **fields,
    }
    return Perception.model_validate(data)


def nps(age_days: float, value: int, **kw: Any) -> Perception:
    return perception(age_days, nps={"value": value}, **kw)


def csat(age_days: float, value: float, **kw: Any) -> Perception:
    return perception(age_days, csat={"value": value}, **kw)


def text(
    age_days: float,
    valence: float,
    emotions: dict[str, float] | None = None,
    *,
    channel: str = "survey",
    **kw: Any,
) -> Perception:
    return perception(
        age_days,
        channel=channel,
        valence=valence,
        emotions=emotions or {},
        confidence=kw.pop("confidence", 0.6),
        verbatim=kw.pop("verbatim", "(text)"),
        **kw,
    )
