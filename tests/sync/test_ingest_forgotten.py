"""A forgotten person is refused by every ingest (issue 11, defect 4): interchange (in the
calling process and in its worker processes), survey exports, social posts and support
cases, over a real SQLite store. The one way back is a record giving consent again,
granted and dated after the erasure; what was observed before it stays erased.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relcrm.errors import InvalidRecordError
from relcrm.models import CrmRecordRef, Person, SupportCase
from relcrm.sources import Identity
from relcrm.store import Store
from relcrm.store.audit import (
    IDENTITY_HASHES,
    ErasureIndex,
    canonical_identity,
    identity_hash,
    subject_hash,
)
from relcrm.sync import ingest_interchange
from relcrm.sync.forget import forget
from relcrm.sync.ingest import IngestReport
from relcrm.sync.ingest_sources import ingest_cases, ingest_social, ingest_survey

ERASED = datetime(2026, 11, 10, 12, tzinfo=UTC)
BEFORE = ERASED - timedelta(days=5)
AFTER = ERASED + timedelta(days=2)

JANE: dict[str, Any] = {
    "type": "person",
    "id": "cust-1",
    "display_name": "Jane Doe",
    "emails": ["Jane.Doe@example.com"],
    "phones": ["+44 20 7946 0018"],
    "handles": [{"platform": "x", "handle": "@janedoe"}],
    "crm_records": [{"system": "salesforce", "object": "Contact", "id": "0035g00000AbCdEfGh"}],
    "consent": {"granted": True, "updated_at": "2025-02-01T09:30:00Z", "source": "signup"},
}
TOM: dict[str, Any] = {
    "type": "person",
    "id": "cust-2",
    "emails": ["tom@example.com"],
    "consent": {"granted": True},
}
PROBLEM = (
    "this person was forgotten (relcrm forget, 2026-11-10 12:00 UTC); refused unless the "
    "record gives consent again, dated after that"
)
SECRETS = (
    "cust-1",
    "jane.doe@example.com",
    "+442079460018",
    "janedoe",
    "0035g00000AbCdEfGh",
    "Jane",
)
"""What names Jane. None of them can occur by chance in a hex hash or the salt."""


def perception(person_id: str, record: str, when: datetime, nps: int = 8) -> dict[str, Any]:
    return {
        "type": "perception",
        "person_id": person_id,
        "occurred_at": when.isoformat(),
        "channel": "survey",
        "nps": {"value": nps},
        "provenance": {"source_system": "qualtrics", "source_record_id": record},
    }


def preference(person_id: str, record: str, when: datetime) -> dict[str, Any]:
    return {
        "type": "preference",
        "person_id": person_id,
        "kind": "channel",
        "value": "email",
        "stated_at": when.isoformat(),
        "provenance": {"source_system": "qualtrics", "source_record_id": record},
    }


def write(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def forget_jane(store: Store, tmp_path: Path, *extra: dict[str, Any]) -> Path:
    """Jane and Tom ingested from a file, then Jane forgotten (store only); the file."""
    path = write(
        tmp_path / "first.jsonl",
        JANE,
        TOM,
        perception("cust-1", "R1", BEFORE),
        perception("cust-2", "R2", BEFORE),
        preference("cust-1", "P1", BEFORE),
        *extra,
    )
    assert ingest_interchange(path, store).ok
    report = forget(store, "email", "jane.doe@example.com", store_only=True, now=ERASED)
    assert report.erased and report.identities_refused == 4  # email, phone, handle, crm
    return path


def refusals(report: IngestReport) -> list[str]:
    return [e.message for e in report.rejections if "forgotten" in e.message]


def assert_names_nobody(report: IngestReport, store: Store, tmp_path: Path) -> None:
    text = "\n".join(str(e) for e in report.rejections).lower()
    for secret in SECRETS:
        assert secret.lower() not in text, secret
    with sqlite3.connect(tmp_path / "relcrm.db") as connection:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                cell = " ".join(str(value) for value in row).lower()
                for secret in SECRETS:
                    assert secret.lower() not in cell, (table, secret)


# -- the erasure index ---------------------------------------------------------------------


def test_identities_hash_alike_however_a_source_writes_them() -> None:
    salt = "ab" * 32
    same = [
        ("email", "Jane.Doe@Example.com ", "jane.doe@example.com"),
        ("phone", "+44 20 7946 0018", "442079460018"),
        ("handle", "X:@JaneDoe", "x:janedoe"),
        ("crm", "salesforce/Contact/003AbC", "-/contact/003AbC"),
    ]
    for kind, one, other in same:
        assert identity_hash(salt, kind, one) == identity_hash(salt, kind, other), kind
    assert canonical_identity("crm", "hubspot/contacts/1019") == "contacts/1019"
    # Record ids keep their case; kinds and salts keep hashes apart.
    assert identity_hash(salt, "crm", "sf/Contact/003abc") != identity_hash(
        salt, "crm", "sf/Contact/003AbC"
    )
    assert identity_hash(salt, "email", "a@b.c") != identity_hash("cd" * 32, "email", "a@b.c")
    # An email and a person id spelt alike are not one identity.
    assert identity_hash(salt, "email", "a@b.c") != subject_hash(salt, "a@b.c")


def test_a_forget_keeps_hashes_of_every_identity_and_matched_record(
    store: Store, tmp_path: Path
) -> None:
    forget_jane(store, tmp_path)
    (entry,) = store.audit_entries()
    salt = store._audit_salt()
    expected = {
        identity_hash(salt, "email", "jane.doe@example.com"),
        identity_hash(salt, "phone", "+442079460018"),
        identity_hash(salt, "handle", "x:@janedoe"),
        identity_hash(salt, "crm", "salesforce/Contact/0035g00000AbCdEfGh"),
    }
    assert set(entry.counts[IDENTITY_HASHES]) == expected
    index = store.erasure_index()
    assert len(index) == 5  # the subject too
    found = index.match(index.hashes(None, [("email", "JANE.DOE@example.com")]))
    assert found is not None and found.in_force and found.at == ERASED
    assert index.match(index.hashes("cust-2", [("email", "tom@example.com")])) is None
    assert_names_nobody(IngestReport(source="none"), store, tmp_path)


def test_an_index_without_erasures_is_empty_and_a_kept_forget_is_no_erasure(
    store: Store,
) -> None:
    assert not store.erasure_index()
    store.upsert_person(Person(id="p1", emails=("a@example.com",)))
    store.record_audit("forget", "p1", {"rows": {}}, "kept")
    assert not store.erasure_index()
    index = ErasureIndex("00" * 32)
    assert index.match(index.hashes("p1")) is None


# -- interchange ---------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_reingesting_the_same_file_refuses_the_forgotten_person_line_by_line(
    store: Store, tmp_path: Path, workers: int
) -> None:
    path = forget_jane(store, tmp_path)

    report = ingest_interchange(path, store, workers=workers, chunk_lines=2)

    assert report.forgotten == 3 and report.rejected == 3
    assert sorted(refusals(report)) == sorted(
        [
            f"line 1 (person): person: {PROBLEM}",
            f"line 3 (perception): person: {PROBLEM}",
            f"line 5 (preference): person: {PROBLEM}",
        ]
    )
    assert report.persons == 1 and report.perceptions_known == 1 and report.restored == 0
    assert store.find_person("email", "jane.doe@example.com") is None
    assert store.get_person("cust-1") is None and store.get_person("cust-2") is not None
    assert_names_nobody(report, store, tmp_path)
    assert [e.action for e in store.audit_entries()] == ["forget"]


@pytest.mark.parametrize("workers", [1, 2])
def test_any_one_identity_is_enough_whatever_the_id_or_the_order_of_the_lines(
    store: Store, tmp_path: Path, workers: int
) -> None:
    forget_jane(store, tmp_path)
    rekeyed = {"type": "person", "id": "sf-003", "phones": ["+44 (20) 7946-0018"]}
    by_handle = {
        "type": "person",
        "id": "social-7",
        "handles": [{"platform": "X", "handle": "JaneDoe"}],
    }
    by_record = {
        "type": "person",
        "id": "crm-9",
        "crm_records": [{"system": "salesforce", "object": "contact", "id": "0035g00000AbCdEfGh"}],
    }
    path = write(
        tmp_path / "again.jsonl",
        perception("sf-003", "R10", AFTER),  # before its person line
        rekeyed,
        by_handle,
        by_record,
        perception("social-7", "R11", AFTER),
        perception("cust-1", "R12", AFTER),  # her old id, and no person line at all
        preference("cust-1", "P12", AFTER),
        perception("cust-2", "R13", AFTER),
    )

    report = ingest_interchange(path, store, workers=workers, chunk_lines=2)

    assert report.forgotten == 7 == report.rejected, [str(e) for e in report.rejections]
    assert sorted(e.split(":")[0] for e in refusals(report)) == [
        "line 1 (perception)",
        "line 2 (person)",
        "line 3 (person)",
        "line 4 (person)",
        "line 5 (perception)",
        "line 6 (perception)",
        "line 7 (preference)",
    ]
    assert report.perceptions_new == 1 and report.persons == 0
    assert store.count_persons() == 1  # Tom
    assert_names_nobody(report, store, tmp_path)


def test_a_person_line_giving_consent_again_after_the_erasure_brings_the_person_back(
    store: Store, tmp_path: Path
) -> None:
    forget_jane(store, tmp_path)
    undated = {**JANE, "consent": {"granted": True}}
    too_early = {**JANE, "consent": {"granted": True, "updated_at": BEFORE.isoformat()}}
    refusing = {**JANE, "consent": {"granted": False, "updated_at": AFTER.isoformat()}}
    for n, line in enumerate([undated, too_early, refusing]):
        report = ingest_interchange(write(tmp_path / f"no{n}.jsonl", line), store)
        assert report.forgotten == 1 and report.restored == 0, n
        assert store.get_person("cust-1") is None

    again = {**JANE, "consent": {"granted": True, "updated_at": AFTER.isoformat()}}
    path = write(
        tmp_path / "back.jsonl",
        perception("cust-1", "R1", BEFORE),  # what she said before: stays erased
        perception("cust-1", "R20", AFTER + timedelta(hours=1)),  # held for her person line
        again,
        perception("cust-1", "R21", AFTER + timedelta(hours=2)),
        preference("cust-1", "P1", BEFORE),
        preference("cust-1", "P21", AFTER),
    )
    report = ingest_interchange(path, store)

    assert report.restored == 1 and report.forgotten == 2, [str(e) for e in report.rejections]
    assert all("observed before this person was forgotten" in e for e in refusals(report))
    assert [e.split(":")[0] for e in refusals(report)] == [
        "line 1 (perception)",
        "line 5 (preference)",
    ]
    person = store.get_person("cust-1")
    assert person is not None and person.consent.granted
    assert store.find_person("email", "jane.doe@example.com") == "cust-1"
    ((_, stored),) = [(p, ps) for p, ps in store.iter_person_perceptions() if p.id == "cust-1"]
    assert [p.provenance.source_record_id for p in stored] == ["R20", "R21"]
    assert [p.provenance.source_record_id for p in store.preferences_of("cust-1")] == ["P21"]

    back, erased = store.audit_entries(person_id="cust-1")
    assert (back.action, back.outcome, erased.action) == ("reconsent", "restored", "forget")
    assert back.counts["record"] == "line 3" and back.counts["via"] == "interchange"
    assert back.counts["consent_at"] == AFTER.isoformat()
    assert back.counts["erased_at"] == ERASED.isoformat()
    assert set(back.counts[IDENTITY_HASHES]) <= set(erased.counts[IDENTITY_HASHES]) | {
        erased.subject
    }

    # The next ingest of the old file: she stays, her old answers stay erased, and no
    # second re-consent is audited.
    old = ingest_interchange(tmp_path / "first.jsonl", store)
    assert old.restored == 0 and old.forgotten == 2 and store.get_person("cust-1") is not None
    assert len(store.audit_entries()) == 2

    # Forgotten again: refused again, even with the consent that brought her back once.
    forget(store, "person_id", "cust-1", store_only=True, now=AFTER + timedelta(days=1))
    report = ingest_interchange(path, store)
    assert report.restored == 0 and store.get_person("cust-1") is None
    assert report.forgotten == 6


# -- survey exports ------------------------------------------------------------------------

COLUMNS = """
survey = "pulse"
flavour = "plain"
source_system = "webform"

[respondent]
email = "email"

[response]
id = "response_id"
time = "submitted_at"
time_format = "%Y-%m-%d %H:%M"
time_zone = "UTC"

[[questions]]
column = "nps"
kind = "nps"

[consent]
column = "consent"
"""


def survey(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text(
        "response_id,submitted_at,email,nps,consent\n" + "".join(r + "\n" for r in rows), "utf-8"
    )
    return path


def test_a_survey_refuses_forgotten_respondents_by_row_until_a_row_consents_again(
    store: Store, tmp_path: Path
) -> None:
    columns = tmp_path / "columns.toml"
    columns.write_text(COLUMNS, "utf-8")
    first = survey(
        tmp_path,
        "first.csv",
        "r1,2026-11-01 10:00,jane.doe@example.com,9,yes",
        "r2,2026-11-01 11:00,tom@example.com,7,yes",
    )
    assert ingest_survey(first, columns, store).ok
    jane = Identity("email", "jane.doe@example.com").new_person_id()
    forget(store, "email", "Jane.Doe@example.com", store_only=True, now=ERASED)

    again = ingest_survey(first, columns, store)
    assert again.forgotten == 1 and refusals(again) == [f"row 2: person: {PROBLEM}"]
    assert store.get_person(jane) is None and again.perceptions_known == 1

    later = survey(
        tmp_path,
        "later.csv",
        "r1,2026-11-01 10:00,jane.doe@example.com,9,yes",  # before the erasure: erased
        "r3,2026-11-12 09:00,JANE.DOE@example.com,3,",  # after, but says nothing of consent
        "r4,2026-11-12 10:00,jane.doe@example.com,6,no",  # after, and refuses
        "r5,2026-11-12 11:00,jane.doe@example.com,8,yes",  # after, and consents: back
        "r6,2026-11-12 12:00,jane.doe@example.com,10,",  # after her return: taken
    )
    report = ingest_survey(later, columns, store)
    assert report.restored == 1
    assert [e.split(":")[0] for e in refusals(report)] == ["row 2", "row 3", "row 4"]
    person = store.get_person(jane)
    assert person is not None and person.consent.granted
    assert person.consent.updated_at == datetime(2026, 11, 12, 11, tzinfo=UTC)
    ((_, stored),) = [(p, ps) for p, ps in store.iter_person_perceptions() if p.id == jane]
    assert [p.provenance.source_record_id for p in stored] == ["pulse/r5", "pulse/r6"]
    (entry, _) = store.audit_entries(person_id=jane)
    assert entry.action == "reconsent" and entry.counts["record"] == "row 5"
    assert entry.counts["via"] == "survey"

    # Rows are judged in file order: the next ingest takes her answers after the erasure.
    next_time = ingest_survey(later, columns, store)
    assert next_time.restored == 0 and [e.split(":")[0] for e in refusals(next_time)] == ["row 2"]
    assert next_time.perceptions_new == 2  # r3 and r4


# -- social posts and support cases ------------------------------------------------------


def test_posts_of_a_forgotten_person_are_refused_and_not_held(store: Store, tmp_path: Path) -> None:
    # A post by an unknown handle is held; then its author becomes known and is forgotten.
    posts = tmp_path / "posts.jsonl"
    post = {"platform": "x", "handle": "@janedoe", "text": "Down again.", "public": True}
    posts.write_text(
        json.dumps({**post, "time": BEFORE.isoformat(), "post_id": "1"}) + "\n", "utf-8"
    )
    held = ingest_social(posts, store, now=BEFORE)
    assert held.unresolved == 1
    forget_jane(store, tmp_path)

    handles = tmp_path / "handles.csv"
    handles.write_text("platform,handle,email\ninstagram,jd,jane.doe@example.com\n", "utf-8")
    posts.write_text(
        json.dumps({**post, "time": AFTER.isoformat(), "post_id": "2"})
        + "\n"
        + json.dumps(
            {
                **post,
                "platform": "instagram",
                "handle": "jd",
                "time": AFTER.isoformat(),
                "post_id": "3",
            }
        )
        + "\n",
        "utf-8",
    )
    report = ingest_social(posts, store, handles, now=AFTER)

    assert report.forgotten == 3, [str(e) for e in report.rejections]
    assert report.unresolved == 0 and store.count_unresolved_posts() == 0
    assert [e.split(":")[0] for e in refusals(report)] == ["line 1", "line 2", "held post x/1"]
    assert store.find_person("handle", "instagram:jd") is None
    assert store.count_persons() == 1
    assert_names_nobody(report, store, tmp_path)


def test_a_case_of_a_forgotten_requester_is_refused_without_naming_them(
    store: Store, tmp_path: Path
) -> None:
    forget_jane(store, tmp_path)
    cases = [
        SupportCase(
            system="salesforce",
            object="Case",
            id="500A",
            subject="Refund",
            description="Still waiting.",
            created_at=AFTER,
            requester=CrmRecordRef(system="salesforce", object="Contact", id="0035g00000AbCdEfGh"),
        ),
        SupportCase(
            system="hubspot",
            object="tickets",
            id="77",
            subject="Login",
            created_at=AFTER,
            requester_email="JANE.DOE@example.com",
        ),
        SupportCase(
            system="hubspot",
            object="tickets",
            id="78",
            subject="Thanks",
            created_at=AFTER,
            requester_email="tom@example.com",
        ),
    ]
    report = ingest_cases(cases, store)
    assert report.forgotten == 2 and report.perceptions_new == 1
    assert [e.split(":")[0] for e in refusals(report)] == [
        "case salesforce/Case/500A",
        "case hubspot/tickets/77",
    ]
    assert all(isinstance(e, InvalidRecordError) for e in report.rejections)
    assert "jane" not in " ".join(str(e) for e in report.rejections).lower()


def test_a_store_that_forgot_nobody_checks_nothing(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "f.jsonl", JANE, perception("cust-1", "R1", BEFORE))
    report = ingest_interchange(path, store)
    assert report.ok and report.forgotten == 0 and report.persons == 1
    assert store.audit_entries() == [] and not store.erasure_index()
