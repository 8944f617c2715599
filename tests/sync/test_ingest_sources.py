"""Writing what sources produced into a real SQLite store: identities, consent, redaction,
analysis, idempotence."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.models import Consent, Perception, Person, TextAnalysis
from relcrm.sources import Identity, SkippedRecord, SourcedPerception, SourceItem
from relcrm.store import Store
from relcrm.sync.ingest_sources import ingest_items, ingest_survey

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WHEN = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def by_word(text: str) -> TextAnalysis:
    """A small hand-written analyzer: negative when it sees "slow", positive otherwise."""
    negative = "slow" in text.lower()
    return TextAnalysis(
        valence=-0.6 if negative else 0.5,
        arousal=0.4,
        emotions={"anger": 0.5} if negative else {"joy": 0.6},
        confidence=0.6,
        analyzer="by-word",
        analyzer_version="1",
    )


def said(
    record: str,
    email: str = "jane@example.com",
    *,
    verbatim: str | None = "It was fine.",
    consent: Consent | None = None,
    create: bool = True,
    nps: int | None = None,
) -> SourcedPerception:
    identity = Identity("email", email)
    data: dict[str, object] = {
        "person_id": identity.new_person_id(),
        "occurred_at": WHEN,
        "channel": "survey",
        "verbatim": verbatim,
        "provenance": {"source_system": "test", "source_record_id": record},
    }
    if nps is not None:
        data["nps"] = {"value": nps}
    return SourcedPerception(
        f"row {record}",
        Perception.model_validate(data),
        (identity,),
        create_person=create,
        consent=consent,
    )


def test_new_persons_get_ids_from_their_identity_and_reingest_changes_nothing(
    store: Store,
) -> None:
    items: list[SourceItem] = [said("1"), said("2", "Tom@Example.com"), said("1")]
    report = ingest_items(items, store, source="test")
    assert (report.persons, report.perceptions_new, report.perceptions_known) == (2, 2, 1)
    jane = store.find_person("email", "jane@example.com")
    assert jane == Identity("email", "JANE@example.com").new_person_id()
    again = ingest_items(items, store, source="test")
    assert (again.persons, again.perceptions_new, again.perceptions_known) == (0, 0, 3)
    assert store.count_persons() == 2 and store.count_perceptions() == 2


def test_an_existing_person_is_found_by_their_identity(store: Store) -> None:
    store.upsert_person(Person(id="cust-1", emails=("jane@example.com",)))
    report = ingest_items([said("1")], store, source="test")
    assert report.persons == 0
    [(person, perceptions)] = list(store.iter_person_perceptions())
    assert person.id == "cust-1" and perceptions[0].person_id == "cust-1"


def test_consent_the_newest_statement_wins(store: Store) -> None:
    yes = Consent(granted=True, updated_at=WHEN, source="survey")
    no_later = Consent(granted=False, updated_at=WHEN + timedelta(days=1), source="survey")
    ingest_items([said("2", consent=no_later), said("1", consent=yes)], store, source="t")
    person = store.get_person(Identity("email", "jane@example.com").new_person_id())
    assert person is not None and person.consent == no_later
    ingest_items([said("1", consent=yes)], store, source="t")  # an older statement again
    person = store.get_person(person.id)
    assert person is not None and person.consent == no_later


def test_verbatims_are_redacted_before_they_are_stored(store: Store) -> None:
    text = "Call me on +44 20 7946 0018 or mail jane.doe@example.org please."
    report = ingest_items([said("1", verbatim=text)], store, source="t")
    [(_, [stored])] = list(store.iter_person_perceptions())
    assert stored.verbatim is not None
    assert "7946" not in stored.verbatim and "jane.doe" not in stored.verbatim
    assert report.redactions == {"phone": 1, "email": 1}


def test_the_analyzer_reads_verbatims_without_a_valence(store: Store) -> None:
    items: list[SourceItem] = [
        said("1", verbatim="Slow and painful."),
        said("2", verbatim=None, nps=9),
    ]
    report = ingest_items(items, store, source="t", analyzer=by_word)
    assert report.analyzed == 1
    stored = {
        p.provenance.source_record_id: p for _, ps in store.iter_person_perceptions() for p in ps
    }
    slow = stored["1"]
    assert slow.valence == -0.6 and slow.emotions.anger == 0.5 and slow.confidence == 0.6
    assert (slow.provenance.analyzer, slow.provenance.analyzer_version) == ("by-word", "1")
    assert stored["2"].valence is None


def test_rejections_and_skips_are_reported_and_the_rest_is_written(store: Store) -> None:
    problem = InvalidRecordError("row 3", [])
    items: list[SourceItem] = [said("1"), problem, SkippedRecord("row 4", "empty row")]
    items.append(said("5", "nobody@example.com", create=False))
    report = ingest_items(items, store, source="t")
    assert report.perceptions_new == 1 and report.skipped == 1
    assert [e.record for e in report.rejections] == ["row 3", "row 5"]
    assert "no person in the store has this identity" in report.rejections[1].message


def test_an_identity_owned_by_someone_else_rejects_the_record(store: Store) -> None:
    from relcrm.models import SocialHandle

    store.upsert_person(Person(id="cust-1", emails=("jane@example.com",)))
    store.upsert_person(Person(id="cust-2", handles=(SocialHandle(platform="x", handle="@jane"),)))
    item = SourcedPerception(
        "line 9",
        said("9").perception,
        (Identity("email", "jane@example.com"), Identity("handle", "x:@jane")),
        attach_identities=True,
    )
    # Found by email (cust-1), who would also get the handle; but it is cust-2's.
    report = ingest_items([item], store, source="t")
    assert report.perceptions_new == 0
    assert report.rejections[0].record == "line 9"
    assert "already belongs to person cust-2" in report.rejections[0].message


def test_a_survey_file_twice_and_with_duplicated_rows(store: Store, tmp_path: Path) -> None:
    doubled = tmp_path / "doubled.csv"
    text = (EXAMPLES / "survey-qualtrics.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    doubled.write_text(text + "".join(lines[3:5]), encoding="utf-8")  # row 4 again
    columns = EXAMPLES / "survey-columns-qualtrics.toml"
    first = ingest_survey(doubled, columns, store, analyzer=by_word)
    assert first.rejections == []
    assert (first.persons, first.perceptions_new, first.perceptions_known) == (2, 2, 1)
    assert first.skipped == 1 and first.analyzed == 2
    assert "qualtrics export" in first.notices[0]
    again = ingest_survey(doubled, columns, store, analyzer=by_word)
    assert (again.persons, again.perceptions_new, again.perceptions_known) == (0, 0, 3)
    raj = store.get_person(Identity("email", "raj.patel@example.com").new_person_id())
    assert raj is not None and raj.consent.granted is False and raj.consent.updated_at


def test_consent_column_applies_to_the_person(store: Store, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "survey-plain.csv", tmp_path / "plain.csv")
    ingest_survey(tmp_path / "plain.csv", EXAMPLES / "survey-columns-plain.toml", store)
    first, second = store.get_person("cust-1001"), store.get_person("cust-1002")
    assert first is not None and first.consent.granted
    assert first.consent.source == "webform survey delivery-feedback"
    assert second is not None and not second.consent.granted
