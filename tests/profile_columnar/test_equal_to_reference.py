"""The columnar recipe equals the reference engine on every declared field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relcrm.models import Channel, Perception, Person
from relcrm.profile import build_profile
from relcrm.profile.columnar import field_values, profile_columnar
from relcrm.testing.synthetic import generate_bulk, generate_sample
from tests.profile_columnar.compare import differences, reference_value, same

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
signed = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
moments = st.builds(
    lambda days, zone: (NOW - timedelta(seconds=days * 86400.0)).astimezone(zone),
    st.floats(min_value=-20.0, max_value=900.0, allow_nan=False),
    zones,
)
maybe_moment = st.none() | moments


@st.composite
def perception_of(draw: st.DrawFn, person_id: str, number: int) -> Perception:
    data: dict[str, Any] = {
        "person_id": person_id,
        "occurred_at": draw(moments),
        "channel": draw(st.sampled_from(list(Channel))),
        "topic": draw(st.none() | st.sampled_from(["billing", "outage", "product"])),
        "touchpoint": draw(st.none() | st.sampled_from(["renewal", "onboarding"])),
        "public": draw(st.booleans()),
        "provenance": {"source_system": "prop", "source_record_id": f"{person_id}-{number}"},
        "flags": {
            "churn_intent": draw(st.booleans()),
            "trapped": draw(st.booleans()),
            "sarcasm": draw(st.booleans()),
        },
    }
    if draw(st.booleans()):
        data["nps"] = {"value": draw(st.integers(0, 10))}
    if draw(st.booleans()):
        data["csat"] = {"value": draw(st.integers(1, 5))}
    if draw(st.booleans()):
        data["ces"] = {"value": draw(st.integers(1, 7)), "version": "2.0"}
    if draw(st.booleans()) or not any(k in data for k in ("nps", "csat", "ces")):
        data["valence"] = draw(signed)
        data["arousal"] = draw(st.none() | unit)
        data["confidence"] = draw(st.none() | unit)
        data["emotions"] = {
            key: draw(unit)
            for key in draw(st.sets(st.sampled_from(["joy", "trust", "fear", "anger", "sadness"])))
        }
    return Perception.model_validate(data)


@st.composite
def people(draw: st.DrawFn) -> tuple[list[Person], list[Perception]]:
    persons: list[Person] = []
    perceptions: list[Perception] = []
    for index in range(draw(st.integers(1, 4))):
        person_id = f"p{index}"
        facts = {
            "customer_since": draw(maybe_moment),
            "last_purchase_at": draw(maybe_moment),
            "purchases_last_365d": draw(st.none() | st.integers(0, 12)),
            "renewals": draw(st.none() | st.integers(0, 5)),
            "renewed_last_term": draw(st.none() | st.booleans()),
            "expected_purchases_per_year": draw(st.none() | st.sampled_from([1.0, 4.0, 12.0])),
            "behavioural_loyalty": draw(st.none() | unit) if draw(st.booleans()) else None,
        }
        persons.append(Person.model_validate({"id": person_id, "facts": facts}))
        for number in range(draw(st.integers(0, 8))):
            perceptions.append(draw(perception_of(person_id, number)))
    return persons, perceptions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people(), st.floats(min_value=-200.0, max_value=200.0, allow_nan=False))
def test_random_persons_agree(data: tuple[list[Person], list[Perception]], shift: float) -> None:
    persons, perceptions = data
    assert differences(persons, perceptions, NOW + timedelta(days=shift)) == []


def test_the_sample_agrees_at_several_as_of_times() -> None:
    sample = generate_sample(now=NOW)
    for days in (0, 45, 120, -60):
        assert differences(sample.persons, sample.perceptions, NOW + timedelta(days=days)) == []


def test_the_bulk_generator_agrees() -> None:
    items = list(generate_bulk(persons=1500, perceptions_per_person=8, seed=5, now=NOW))
    persons = [i for i in items if isinstance(i, Person)]
    perceptions = [i for i in items if isinstance(i, Perception)]
    assert len(perceptions) > 5000
    assert differences(persons, perceptions, NOW) == []


def test_a_difference_is_caught() -> None:
    """The comparison can fail: columnar at one as-of against the reference at another."""
    sample = generate_sample(now=NOW)
    rows = profile_columnar(sample.persons, sample.perceptions, NOW).by_person()
    later = NOW + timedelta(days=200)
    mismatched = 0
    for person in sample.persons:
        said = [p for p in sample.perceptions if p.person_id == person.id]
        reference = build_profile(person, said, later)
        values = dict(field_values(rows[person.id]))
        mismatched += not same(values["evidence"], reference_value(reference, "evidence"))
    assert mismatched > len(sample.persons) // 2
