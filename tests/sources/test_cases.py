"""Support cases as what their requester felt, and their structured signals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.models import CrmRecordRef, Person, SupportCase, TextAnalysis
from relcrm.sources import SourcedPerception, case_perception
from relcrm.sources.cases import case_arousal, case_topic
from relcrm.store import Store
from relcrm.sync.ingest_sources import ingest_cases

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def case(**fields: Any) -> SupportCase:
    base: dict[str, Any] = {
        "system": "salesforce",
        "object": "Case",
        "id": "500xx0000001",
        "subject": "Charged twice on my invoice",
        "description": "Please refund. My card 4111 1111 1111 1111 was charged twice.",
        "created_at": OPENED,
        "requester": {"system": "salesforce", "object": "Contact", "id": "003xx0000001"},
    }
    return SupportCase.model_validate({**base, **fields})


def test_a_case_becomes_a_support_perception() -> None:
    item = case_perception(case())
    assert isinstance(item, SourcedPerception)
    perception = item.perception
    assert perception.channel == "support" and perception.touchpoint == "support"
    assert perception.topic == "billing"
    assert perception.occurred_at == OPENED
    assert perception.verbatim is not None and perception.verbatim.startswith("Charged twice")
    assert perception.provenance.source_system == "salesforce"
    assert perception.provenance.source_record_id == "Case/500xx0000001"
    assert perception.arousal is None  # nothing structural to say
    assert item.record == "case salesforce/Case/500xx0000001"
    assert not item.create_person


@pytest.mark.parametrize(
    ("fields", "arousal"),
    [
        ({"escalated": True}, 0.8),
        ({"status": "Reopened"}, 0.7),
        ({"closed": True, "closed_at": OPENED + timedelta(days=12)}, 0.6),
        ({"closed": True, "closed_at": OPENED + timedelta(days=2)}, None),
        ({"escalated": True, "status": "Reopened"}, 0.8),
    ],
)
def test_structured_signals_raise_arousal(fields: dict[str, Any], arousal: float | None) -> None:
    assert case_arousal(case(**fields)) == arousal


def test_topics_come_from_words_in_the_subject() -> None:
    assert case_topic("Cannot log in since Monday") == "login"
    assert case_topic("Parcel never arrived") == "delivery"
    assert case_topic("Downgrade my plan") is None  # "down" is a word, not a prefix
    assert case_topic(None) is None


def test_cases_that_cannot_become_perceptions_are_rejected_by_name() -> None:
    nothing = case_perception(case(subject=None, description="  "))
    assert isinstance(nothing, InvalidRecordError)
    assert nothing.message.startswith("case salesforce/Case/500xx0000001: description")
    long = case_perception(case(description="x" * 20_000))
    assert isinstance(long, InvalidRecordError) and "at most 10,000" in long.message
    nobody = case_perception(case(requester=None))
    assert isinstance(nobody, InvalidRecordError) and "requester" in nobody.message


def test_ingest_cases_finds_requesters_and_rejects_unknown_ones(store: Store) -> None:
    store.upsert_person(
        Person(
            id="cust-1",
            crm_records=(CrmRecordRef(system="salesforce", object="Contact", id="003xx0000001"),),
        )
    )
    store.upsert_person(Person(id="cust-2", emails=("tom@example.com",)))
    cases = [
        case(escalated=True),
        case(id="500xx0000002", requester=None, requester_email="Tom@example.com"),
        case(id="500xx0000003", requester={"system": "hubspot", "object": "contact", "id": "9"}),
    ]

    def calm(text: str) -> TextAnalysis:
        return TextAnalysis(
            valence=-0.7, arousal=0.3, confidence=0.6, analyzer="calm", analyzer_version="1"
        )

    report = ingest_cases(cases, store, analyzer=calm)
    assert (report.perceptions_new, report.persons, report.analyzed) == (2, 0, 2)
    assert [e.record for e in report.rejections] == ["case salesforce/Case/500xx0000003"]
    assert "no person in the store" in report.rejections[0].message
    stored = {p.person_id: p for _, ps in store.iter_person_perceptions() for p in ps}
    escalated = stored["cust-1"]
    assert escalated.arousal == 0.8  # the case's floor beats the analyzer's calm 0.3
    assert escalated.valence == -0.7
    assert escalated.verbatim is not None and "4111" not in escalated.verbatim  # redacted
    assert stored["cust-2"].arousal == 0.3
    assert store.count_persons() == 2  # a case never creates a person

    again = ingest_cases(cases, store, analyzer=calm)
    assert (again.perceptions_new, again.perceptions_known) == (0, 2)
