"""Synthetic sample data: deterministic, realistic, and every archetype of the recipe present."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from relcrm.models import Channel, NpsCategory, Perception, Person
from relcrm.sources import write_interchange
from relcrm.testing import (
    PERSONA_ARCHETYPES,
    SampleData,
    generate_bulk,
    generate_bulk_lines,
    generate_sample,
)
from relcrm.testing.synthetic import PERSONAS, TWIN_DELIGHTED, TWIN_TRAPPED
from tests.sources.recipe import judge

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> SampleData:
    return generate_sample(now=NOW)


def as_text(data: SampleData) -> str:
    stream = io.StringIO()
    write_interchange(data.records(), stream)
    return stream.getvalue()


def by_person(data: SampleData) -> dict[str, list[Perception]]:
    grouped: dict[str, list[Perception]] = defaultdict(list)
    for perception in data.perceptions:
        grouped[perception.person_id].append(perception)
    return grouped


def test_same_seed_same_data_other_seed_other_data(sample: SampleData) -> None:
    assert as_text(generate_sample(now=NOW)) == as_text(sample)
    assert as_text(generate_sample(seed=8, now=NOW)) != as_text(sample)


def test_sizes_and_defaults(sample: SampleData) -> None:
    assert len(sample.persons) == 60
    assert len(sample.perceptions) > 4 * len(sample.persons)
    assert sample.twins == (TWIN_DELIGHTED, TWIN_TRAPPED)
    assert set(sample.personas) == {p.id for p in sample.persons}
    assert set(sample.personas.values()) == set(PERSONA_ARCHETYPES)


def test_ids_are_unique(sample: SampleData) -> None:
    person_ids = [p.id for p in sample.persons]
    assert len(set(person_ids)) == len(person_ids)
    perception_ids = [p.id for p in sample.perceptions]
    assert len(set(perception_ids)) == len(perception_ids)
    sources = [
        (p.provenance.source_system, p.provenance.source_record_id) for p in sample.perceptions
    ]
    assert len(set(sources)) == len(sources)
    emails = [e for p in sample.persons for e in p.emails]
    assert len(set(emails)) == len(emails)
    known = set(person_ids)
    assert all(p.person_id in known for p in sample.perceptions)
    assert all(p.person_id in known for p in sample.preferences)


def test_every_channel_and_the_usual_topics_appear(sample: SampleData) -> None:
    assert {p.channel for p in sample.perceptions} == set(Channel)
    topics = {p.topic for p in sample.perceptions}
    assert topics >= {
        "billing",
        "onboarding",
        "outage",
        "support",
        "pricing",
        "product",
        "delivery",
    }
    systems = {p.provenance.source_system for p in sample.perceptions}
    assert systems >= {"qualtrics", "zendesk", "brandwatch", "salesforce"}


def test_records_look_like_real_ones(sample: SampleData) -> None:
    assert any("'" in e.split("@")[0] for p in sample.persons for e in p.emails)
    consent = Counter(p.consent.granted for p in sample.persons)
    assert 0 < consent[False] < consent[True] / 5
    assert any(p.phones for p in sample.persons) and any(p.handles for p in sample.persons)
    assert any(p.flags.churn_intent for p in sample.perceptions)
    assert any(p.flags.sarcasm for p in sample.perceptions)
    assert {p.ces.version for p in sample.perceptions if p.ces} == {"2.0"}
    assert any(p.nps for p in sample.perceptions) and any(p.csat for p in sample.perceptions)
    for p in sample.perceptions:
        assert NOW - timedelta(days=731) <= p.occurred_at <= NOW
        assert p.public == (p.channel in (Channel.SOCIAL, Channel.REVIEW))
        if p.verbatim is not None:
            assert p.confidence == 0.6 and p.valence is not None
            assert len(p.verbatim) < 200
    ages = [(NOW - p.occurred_at).days for p in sample.perceptions]
    assert min(ages) < 10 and max(ages) > 500


def test_the_twins_buy_alike_and_feel_opposite(sample: SampleData) -> None:
    delighted, trapped = sample.person(TWIN_DELIGHTED), sample.person(TWIN_TRAPPED)
    assert delighted.facts == trapped.facts
    assert delighted.facts.purchases_last_365d and delighted.facts.renewed_last_term

    recent = NOW - timedelta(days=90)
    happy = [p for p in sample.perceptions_of(TWIN_DELIGHTED) if p.occurred_at >= recent]
    angry = [p for p in sample.perceptions_of(TWIN_TRAPPED) if p.occurred_at >= recent]
    assert [p.nps.category for p in happy if p.nps] == [NpsCategory.PROMOTER]
    assert not any(p.public for p in happy)
    assert all(p.valence is None or p.valence > 0.5 for p in happy)
    assert [p.nps.category for p in angry if p.nps] == [NpsCategory.DETRACTOR]
    assert sum(p.channel is Channel.SUPPORT and (p.valence or 0) < -0.3 for p in angry) >= 2
    assert sum(p.public and (p.valence or 0) < -0.3 for p in angry) >= 2


def test_the_twins_are_there_with_two_persons() -> None:
    tiny = generate_sample(persons=2, now=NOW)
    assert [p.id for p in tiny.persons] == [TWIN_DELIGHTED, TWIN_TRAPPED]


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 4])
def test_each_persona_gets_its_archetype_under_the_recipe(seed: int) -> None:
    data = generate_sample(persons=40, seed=seed, now=NOW)
    grouped = by_person(data)
    for person in data.persons:
        expected = PERSONA_ARCHETYPES[data.personas[person.id]]
        for variant in ({}, {"chat_is_ticket": False}, {"negativity": 1.5}):
            got = judge(person, grouped[person.id], NOW, **variant)
            assert (got.archetype, got.detail) == expected, (person.id, variant, got)


def test_every_archetype_and_detail_shows_up(sample: SampleData) -> None:
    grouped = by_person(sample)
    seen = {(j.archetype, j.detail) for j in (judge(p, grouped[p.id], NOW) for p in sample.persons)}
    assert seen == {persona.expected for persona in PERSONAS}


def test_the_profile_engine_agrees_with_the_answer_key(sample: SampleData) -> None:
    profile = pytest.importorskip("relcrm.profile")
    grouped = by_person(sample)
    for person in sample.persons:
        result = profile.build_profile(person, grouped[person.id], NOW)
        expected = PERSONA_ARCHETYPES[sample.personas[person.id]]
        assert (result.archetype, result.archetype_detail) == expected, person.id


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        generate_sample(persons=1, now=NOW)
    with pytest.raises(ValueError, match="timezone"):
        generate_sample(now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        list(generate_bulk(persons=-1, perceptions_per_person=1, seed=1, now=NOW))


def test_bulk_is_lazy_deterministic_and_interleaved() -> None:
    stream = generate_bulk(persons=10**9, perceptions_per_person=3, seed=5, now=NOW)
    first = list(islice(stream, 8))  # a billion persons: only laziness makes this return
    assert [type(r) for r in first] == [Person, Perception, Perception, Perception] * 2
    assert all(isinstance(r, Person) or r.person_id == first[0].id for r in first[:4])
    again = list(islice(generate_bulk(persons=10**9, perceptions_per_person=3, seed=5, now=NOW), 8))
    assert again == first
    lines = list(
        islice(generate_bulk_lines(persons=2, perceptions_per_person=3, seed=5, now=NOW), 9)
    )
    assert len(lines) == 8 and all(text.endswith("\n") for text in lines)
