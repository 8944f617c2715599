"""The sandbox's Case, through simple-salesforce: the real describe shapes, the fields the
org computes (CaseNumber, IsClosed, ClosedDate, ContactEmail), incremental SOQL with
paging, and the deterministic demo seeding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.cases import STORIES, seed_cases

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _fields(sf: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in sf.Case.describe()["fields"]}


def _contact(sf: Any, email: str = "ada@example.com") -> str:
    return str(sf.Contact.create({"LastName": "Lovelace", "Email": email})["id"])


def test_describe_has_the_standard_case_fields_with_real_shapes(sf: Any) -> None:
    fields = _fields(sf)
    number = fields["CaseNumber"]
    assert (number["type"], number["autoNumber"], number["createable"]) == ("string", True, False)
    description = fields["Description"]
    assert (description["type"], description["length"]) == ("textarea", 32000)
    assert description["extraTypeInfo"] == "plaintextarea"
    assert [v["value"] for v in fields["Status"]["picklistValues"]] == [
        "New",
        "Working",
        "Escalated",
        "Closed",
    ]
    assert [v["value"] for v in fields["Priority"]["picklistValues"]] == ["High", "Medium", "Low"]
    assert fields["Origin"]["type"] == "picklist"
    for read_only in ("IsClosed", "ClosedDate", "ContactEmail", "CreatedDate", "SystemModstamp"):
        assert not fields[read_only]["createable"] and not fields[read_only]["updateable"]
    assert fields["IsEscalated"]["type"] == "boolean" and fields["IsEscalated"]["updateable"]
    assert fields["ClosedDate"]["type"] == "datetime"
    assert fields["ContactEmail"]["type"] == "email"
    contact = fields["ContactId"]
    assert (contact["type"], contact["referenceTo"], contact["relationshipName"]) == (
        "reference",
        ["Contact"],
        "Contact",
    )
    assert fields["AccountId"]["referenceTo"] == ["Account"]


def test_create_derives_number_closed_flags_and_contact_email(sf: Any) -> None:
    contact_id = _contact(sf)
    first = sf.Case.create({"Subject": "Outage", "ContactId": contact_id})
    second = sf.Case.create({"Subject": "Billing", "Status": "Closed"})
    got = sf.Case.get(first["id"])
    assert got["CaseNumber"] == "00001001"
    assert (got["Status"], got["Priority"], got["IsClosed"], got["ClosedDate"]) == (
        "New",
        "Medium",
        False,
        None,
    )
    assert got["ContactEmail"] == "ada@example.com"
    closed = sf.Case.get(second["id"])
    assert closed["CaseNumber"] == "00001002"
    assert closed["IsClosed"] is True and closed["ClosedDate"] is not None
    assert closed["ContactEmail"] is None

    sf.Case.update(second["id"], {"Status": "Working"})
    reopened = sf.Case.get(second["id"])
    assert reopened["IsClosed"] is False and reopened["ClosedDate"] is None


def test_read_only_fields_and_long_descriptions_are_refused(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Case.create({"Subject": "x", "IsClosed": True})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Case.create({"Subject": "x", "ContactEmail": "a@example.com"})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Case.create({"Subject": "x", "Description": "y" * 32001})
    assert info.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    assert info.value.content[0]["fields"] == ["Description"]
    assert sf.Case.create({"Subject": "x", "Description": "y" * 32000})["success"]


def test_contact_email_follows_the_contact_and_the_relationship_path_works(sf: Any) -> None:
    contact_id = _contact(sf)
    case_id = sf.Case.create({"Subject": "Outage", "ContactId": contact_id})["id"]
    before = sf.Case.get(case_id)["LastModifiedDate"]
    sf.Contact.update(contact_id, {"Email": "ada.new@example.com"})
    answer = sf.query(f"SELECT Id, ContactEmail, Contact.Email FROM Case WHERE Id = '{case_id}'")
    record = answer["records"][0]
    assert record["ContactEmail"] == "ada.new@example.com"
    assert record["Contact"]["Email"] == "ada.new@example.com"
    assert sf.Case.get(case_id)["LastModifiedDate"] == before


def test_incremental_soql_with_datetime_literal_two_sort_keys_and_paging(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    contact_id = _contact(sf)
    records = [
        {"attributes": {"type": "Case"}, "Subject": f"case {i}", "ContactId": contact_id}
        for i in range(250)
    ]
    for start in range(0, 250, 200):
        answer = sf.restful(
            "composite/sobjects", method="POST", json={"records": records[start : start + 200]}
        )
        assert all(r["success"] for r in answer)
    soql = (
        "SELECT Id, Subject, LastModifiedDate FROM Case"
        " WHERE LastModifiedDate > 2026-01-01T00:00:00Z ORDER BY LastModifiedDate, Id LIMIT 240"
    )
    first = sf.query(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    assert (first["totalSize"], first["done"], len(first["records"])) == (240, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and len(rest["records"]) == 40
    rows = first["records"] + rest["records"]
    keys = [(r["LastModifiedDate"], r["Id"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == 240
    later = sf.query("SELECT Id FROM Case WHERE LastModifiedDate > 2099-01-01T00:00:00Z")
    assert later["totalSize"] == 0


def test_seed_cases_is_deterministic_and_back_dated(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    contacts = [_contact(sf, f"c{i}@example.com") for i in range(3)]
    ids = seed_cases(sf_sandbox.org, contacts, count=10, seed=7, now=NOW)
    assert len(ids) == 10
    rows = sf.query_all(
        "SELECT Id, Subject, Status, ContactId, IsClosed, ClosedDate, CreatedDate,"
        " LastModifiedDate FROM Case ORDER BY CaseNumber"
    )["records"]
    assert [r["Subject"] for r in rows[: len(STORIES)]] == [s.subject for s in STORIES]
    for row in rows:
        created = datetime.fromisoformat(row["CreatedDate"].replace("+0000", "+00:00"))
        assert created < NOW
        assert row["ContactId"] in contacts
        assert row["IsClosed"] == (row["Status"] == "Closed")
        assert (row["ClosedDate"] is not None) == row["IsClosed"]
        if row["IsClosed"]:
            assert row["LastModifiedDate"] == row["ClosedDate"] >= row["CreatedDate"]

    sf_sandbox.reset()
    again_contacts = [_contact(sf, f"c{i}@example.com") for i in range(3)]
    seed_cases(sf_sandbox.org, again_contacts, count=10, seed=7, now=NOW)
    again = sf.query_all("SELECT Subject, ContactId, CreatedDate FROM Case ORDER BY CaseNumber")[
        "records"
    ]
    assert [(r["Subject"], r["CreatedDate"]) for r in again] == [
        (r["Subject"], r["CreatedDate"]) for r in rows
    ]
    assert [again_contacts.index(r["ContactId"]) for r in again] == [
        contacts.index(r["ContactId"]) for r in rows
    ]
