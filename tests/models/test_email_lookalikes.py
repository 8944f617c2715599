"""Issue 11, defect 7: lookalike emails must not become separate persons.

Full-width forms and invisible characters (zero-width spaces and joiners, the byte-order
mark, soft hyphens) are normalised away, so ``ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`` and
``ja\\u200bne@example.com`` are ``jane@example.com``. An address that mixes scripts (a
Cyrillic ``а`` among Latin letters) is a lookalike, not a person: it is rejected, naming
the confusable characters. An internationalised address in one script is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from relcrm.errors import InvalidRecordError
from relcrm.models import Email, Person, SocialHandle, SupportCase
from relcrm.sources import SourcedPerception, case_perception, load_interchange
from relcrm.store import Store
from relcrm.sync.ingest_sources import ingest_social, ingest_survey

EMAIL: TypeAdapter[str] = TypeAdapter(Email)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


@pytest.mark.parametrize(
    "written",
    [
        "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # full-width forms
        "ja\u200bne@example.com",  # zero-width space
        "jane\u200d@example.com",  # zero-width joiner
        "\ufeffjane@example.com",  # a byte-order mark glued to a cell
        "ja\u00adne@exam\u00adple.com",  # soft hyphens
        "jane@\u2060example.com",  # word joiner
        "jane@EXAMPLE.COM\u200c",  # zero-width non-joiner, upper-case domain
        "\u00a0jane@example.com\u00a0",  # no-break spaces around it
    ],
)
def test_lookalike_forms_normalise_to_the_same_address(written: str) -> None:
    assert EMAIL.validate_python(written) == "jane@example.com"


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("j\u0430ne@example.com", "U+0430 CYRILLIC SMALL LETTER A"),
        ("\u0440aypal@example.com", "U+0440 CYRILLIC SMALL LETTER ER"),
        ("j\u03bfhn@example.com", "U+03BF GREEK SMALL LETTER OMICRON"),
    ],
)
def test_an_address_mixing_scripts_is_rejected_naming_the_characters(
    written: str, named: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Person.model_validate({"id": "p1", "emails": [written]})
    problem = caught.value.errors()[0]
    assert problem["loc"] == ("emails", 0)
    message = str(problem["msg"])
    assert named in message and "Latin" in message
    assert "mixes scripts" in message
    assert written not in message  # the address itself is only quoted, shortened, as before


@pytest.mark.parametrize(
    "written",
    [
        "иван.петров@example.com",  # Cyrillic, one script
        "用户@example.com",  # Han
        "山田たろう@example.jp",  # Japanese: Han and Hiragana together
        "δοκιμή@example.gr",  # Greek
        "josé.garcía@example.com",  # Latin with accents
        "hans.müller2@example.de",
    ],
)
def test_internationalised_addresses_in_one_script_are_accepted(written: str) -> None:
    assert EMAIL.validate_python(written) == written


def test_a_whole_script_lookalike_of_a_latin_address_is_rejected() -> None:
    # Every letter is Cyrillic, and every one looks like a Latin letter: "sope@..."
    with pytest.raises(ValidationError, match="looks like a Latin address"):
        EMAIL.validate_python("\u0455\u043e\u0440\u0435@example.com")


def test_interchange_lines_with_lookalikes_are_rejected_naming_line_and_field() -> None:
    lines = [
        json.dumps({"type": "person", "id": "p1", "emails": ["jane@example.com"]}),
        json.dumps({"type": "person", "id": "p2", "emails": ["j\u0430ne@example.com"]}),
        json.dumps({"type": "person", "id": "p3", "emails": ["ｔｏｍ＠ｅｘａｍｐｌｅ．ｃｏｍ"]}),
    ]
    loaded = load_interchange(lines)
    assert [p.emails for p in loaded.persons] == [("jane@example.com",), ("tom@example.com",)]
    message = str(loaded.rejections[0].error)
    assert message.startswith("[input.invalid_record] line 2: emails.0: ")
    assert "U+0430" in message


def test_a_survey_with_lookalikes_makes_one_person_and_rejects_the_mixed_script(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(
        "id,time,email,nps\n"
        "R_1,2026-11-02 14:01:00,jane@example.com,9\n"
        "R_2,2026-11-02 14:02:00,ja\u200bne@example.com,8\n"
        "R_3,2026-11-02 14:03:00,ＪＡＮＥ@example.com,7\n"
        "R_4,2026-11-02 14:04:00,j\u0430ne@example.com,1\n",
        encoding="utf-8",
    )
    columns = {
        "survey": "s1",
        "flavour": "plain",
        "respondent": {"email": "email"},
        "response": {"id": "id", "time": "time", "time_zone": "UTC"},
        "questions": [{"column": "nps", "kind": "nps"}],
    }
    from relcrm.sources import SurveyColumns

    report = ingest_survey(path, SurveyColumns.model_validate(columns), store)
    assert report.persons == 1 and report.perceptions_new == 3
    assert [e.record for e in report.rejections] == ["row 5"]
    assert report.rejections[0].problems[0].field == "email"
    assert "U+0430 CYRILLIC SMALL LETTER A" in report.rejections[0].message


def test_a_case_requester_email_is_normalised_and_lookalikes_rejected() -> None:
    base = {
        "system": "salesforce",
        "object": "Case",
        "subject": "Help",
        "created_at": "2026-11-02T14:00:00Z",
    }
    good = case_perception(
        SupportCase.model_validate({**base, "id": "1", "requester_email": "ja\u200bne@example.com"})
    )
    assert isinstance(good, SourcedPerception)
    assert good.identities[0].value == "jane@example.com"
    bad = case_perception(
        SupportCase.model_validate({**base, "id": "2", "requester_email": "j\u0430ne@example.com"})
    )
    assert isinstance(bad, InvalidRecordError)
    assert bad.record == "case salesforce/Case/2"
    assert bad.problems[0].field == "requester_email" and "U+0430" in bad.message


def test_handles_are_normalised_too(tmp_path: Path, store: Store) -> None:
    handle = SocialHandle(platform="Ｘ", handle="@ja\u200bne")
    assert (handle.platform, handle.handle) == ("x", "@jane")
    store.upsert_person(Person(id="cust-1", handles=(SocialHandle(platform="x", handle="@jane"),)))
    path = tmp_path / "posts.jsonl"
    post = {
        "platform": "x",
        "handle": "＠ｊａｎｅ",  # full-width, as some exports write it
        "text": "Love it",
        "time": "2026-11-20T09:00:00Z",
        "post_id": "1",
        "public": True,
    }
    path.write_text(json.dumps(post) + "\n", encoding="utf-8")
    report = ingest_social(path, store)
    assert report.perceptions_new == 1 and report.unresolved == 0
