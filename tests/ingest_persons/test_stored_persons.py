"""The person rows an ingest stores, on every layout and backend, are those the rules say.

The rules (docs/interchange.md, :meth:`relcrm.store.Store.upsert_persons`), written here
as a plain model over the records pydantic reads line by line: persons in file order; an
unchanged person is not written; a person whose identity (email, normalised) belongs to
another person is rejected, naming it, and the rest goes on; a person seen again replaces
their data and identities, releasing the ones they no longer have. The store, whatever
the chunk sizes, must end with exactly the model's persons (byte for byte) and identities,
and report the same rejections; a forgotten person stays refused.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from relcrm.models import Person
from relcrm.sources.interchange import load_interchange
from relcrm.store import Store
from relcrm.store import store as store_module
from relcrm.store.store import canonical_json, person_row
from relcrm.sync import ingest_interchange
from relcrm.sync.forget import forget

ERASED = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _person(pid: str, *emails: str, **extra: Any) -> str:
    record: dict[str, Any] = {"type": "person", "id": pid, "emails": list(emails), **extra}
    return json.dumps(record, separators=(",", ":"))


FIRST = [
    _person("ann", "Ann.Lee@Example.COM", consent={"granted": True}),
    _person("bob", "bob@example.com", "BOB@b.example", consent={"granted": True}),
    # Seen twice in one file: the second line wins (facts updated, an email released).
    _person("cat", "cat@example.com", "cat.old@example.com", facts={"renewals": 1}),
    _person("ann", "ann.lee@example.com", facts={"customer_since": "2021-01-01T00:00:00Z"}),
    # Takes an email another person holds: rejected, the rest goes on.
    _person("dan", "Bob@Example.com"),
    _person("cat", "cat@example.com", facts={"renewals": 2, "renewed_last_term": True}),
    # Takes the email cat released two lines earlier: accepted.
    _person(
        "eve",
        "CAT.OLD@example.com",
        consent={"granted": True, "updated_at": "2025-01-01T00:00:00+01:00"},
    ),
    '{"type":"person","id":"fay","emails":["fay@example.com"],"phones":["+44 20 7946 0018"]}',
    '{"type":"person", "id": "gus", "emails": ["gus@example.com"]}',
    _person("bad id"),
    _person("hal", "hal@example.com", facts={"last_purchase_at": "1901-01-01T00:00:00Z"}),
]
SECOND = [
    _person("ann", "ann.lee@example.com", facts={"customer_since": "2021-01-01T00:00:00Z"}),
    # Consent withdrawn, facts updated.
    _person(
        "bob", "bob@example.com", "BOB@b.example", consent={"granted": False}, facts={"renewals": 3}
    ),
    _person("dan", "dan@example.com"),
    _person("gus", "gus@example.com"),  # forgotten in between: refused
    _person("ivy", "ivy@example.com", "ann.lee@example.com"),  # ann's: rejected
]


def _expected(
    lines: list[str], persons: dict[str, str], owners: dict[tuple[str, str], str]
) -> set[str]:
    """Apply ``lines`` to the model; return the person ids rejected for an identity."""
    rejected: set[str] = set()
    for person in load_interchange(lines).persons:
        row = person_row(person)
        if persons.get(row.id) == row.data:
            continue
        if any(owners.get(key, row.id) != row.id for key in row.identities):
            rejected.add(row.id)
            continue
        for key in [key for key, owner in owners.items() if owner == row.id]:
            del owners[key]
        owners.update(dict.fromkeys(row.identities, row.id))
        persons[row.id] = row.data
    return rejected


def _stored(url: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            persons = dict(connection.execute(text("SELECT id, data FROM persons")).all())
            rows = connection.execute(text("SELECT kind, value, person_id FROM identities"))
            owners = {(kind, value): pid for kind, value, pid in rows}
    finally:
        engine.dispose()
    return persons, owners


@pytest.mark.parametrize("chunk", [2, 1000])
def test_stored_persons_follow_the_rules(
    store_url: str, tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PERSON_UPSERT_CHUNK", chunk)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(FIRST) + "\n", encoding="utf-8")
    second.write_text("\n".join(SECOND) + "\n", encoding="utf-8")
    persons: dict[str, str] = {}
    owners: dict[tuple[str, str], str] = {}

    with Store.open(store_url) as store:
        report = ingest_interchange(first, store, workers=1, chunk_lines=4)
        assert _expected(FIRST, persons, owners) == {"dan"}
        assert _stored(store_url) == (persons, owners)
        assert sorted(error.record for error in report.rejections) == [
            "line 10",
            "line 11",
            "line 5 (person dan)",
        ]
        assert any("belongs to person bob" in str(error) for error in report.rejections)
        assert report.persons == 8  # the valid person lines, less dan

        forget(store, "email", "GUS@example.com", store_only=True, now=ERASED)
        persons.pop("gus")
        owners.pop(("email", "gus@example.com"))
        again = ingest_interchange(second, store, workers=1, chunk_lines=3)
        assert _expected([line for line in SECOND if '"gus"' not in line], persons, owners) == {
            "ivy"
        }
        assert _stored(store_url) == (persons, owners)
        assert again.forgotten == 1
        assert sorted(error.record for error in again.rejections) == [
            "line 4 (person)",
            "line 5 (person ivy)",
        ]

    assert json.loads(persons["bob"])["consent"]["granted"] is False
    assert persons["ann"] == canonical_json(
        Person.model_validate_json(SECOND[0].replace('"type":"person",', ""))
    )


def test_upsert_persons_stops_at_the_first_conflict(store: Store) -> None:
    """The raising variant: the persons before the conflict are stored, none after."""
    store.upsert_persons([Person(id="a", emails=("x@example.com",))])
    batch = [
        Person(id="b", emails=("b@example.com",)),
        Person(id="c", emails=("X@example.com",)),
        Person(id="d", emails=("d@example.com",)),
    ]
    with pytest.raises(Exception, match="belongs to person a"):
        store.upsert_persons(batch)
    assert [person.id for person in store.iter_persons()] == ["a", "b"]
    written, rejected = store.upsert_persons_reporting(batch)
    assert written == 1 and [person.id for person, _ in rejected] == ["c"]
    assert store.find_person("email", "d@example.com") == "d"


def test_an_unchanged_file_writes_nothing(tmp_path: Path) -> None:
    """Re-ingesting leaves every row as it was, ``updated_at`` included."""
    url = f"sqlite:///{tmp_path / 'relcrm.db'}"
    source = tmp_path / "persons.jsonl"
    once = [FIRST[1], *FIRST[4:]]  # each person once (a person seen twice is rewritten)
    source.write_text("\n".join(once) + "\n", encoding="utf-8")
    with Store.open(url) as store:
        ingest_interchange(source, store, workers=1)
    query = "SELECT id, data, updated_at FROM persons ORDER BY id"
    with sqlite3.connect(tmp_path / "relcrm.db") as connection:
        before = connection.execute(query).fetchall()
    with Store.open(url) as store:
        ingest_interchange(source, store, workers=1)
    with sqlite3.connect(tmp_path / "relcrm.db") as connection:
        assert connection.execute(query).fetchall() == before
