"""SOQL over REST: filters, literals, ordering, paging and the real error messages."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.soql import parse, tokenize


@pytest.fixture
def people(sf: Any) -> Any:
    account = sf.Account.create({"Name": "Bluth Company"})["id"]
    rows = [
        ("Michael", "Bluth", "michael@bluth.com", "2020-01-05", account),
        ("Lindsay", "Fünke", "lindsay@bluth.com", None, account),
        ("Tobias", "Fünke", None, "1970-03-01", None),
        ("Buster", "Bluth", "buster@bluth.com", "1990-07-14", account),
        ("Ann", "O'Brien", "ann@veal.com", None, None),
    ]
    for first, last, email, birth, acct in rows:
        body: dict[str, Any] = {"FirstName": first, "LastName": last}
        if email:
            body["Email"] = email
        if birth:
            body["Birthdate"] = birth
        if acct:
            body["AccountId"] = acct
        sf.Contact.create(body)
    return sf


def names(result: dict[str, Any]) -> list[str]:
    return [r["FirstName"] for r in result["records"]]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("LastName = 'bluth'", {"Michael", "Buster"}),  # = is case-insensitive on text
        ("LastName != 'Bluth'", {"Lindsay", "Tobias", "Ann"}),
        ("Email = null", {"Tobias"}),
        ("Email != null AND LastName <> 'Bluth'", {"Lindsay", "Ann"}),
        ("LastName IN ('Fünke', 'Nobody')", {"Lindsay", "Tobias"}),
        ("LastName NOT IN ('Fünke', 'Bluth')", {"Ann"}),
        ("Email LIKE '%@bluth.com'", {"Michael", "Lindsay", "Buster"}),
        ("FirstName LIKE 'b_ster'", {"Buster"}),
        ("LastName = 'O\\'Brien'", {"Ann"}),
        ("NOT (LastName = 'Bluth' OR LastName = 'Fünke')", {"Ann"}),
        ("(LastName = 'Bluth' AND FirstName = 'Buster') OR FirstName = 'Ann'", {"Buster", "Ann"}),
        ("Birthdate < 1991-01-01", {"Tobias", "Buster"}),
        ("Birthdate >= 2020-01-05", {"Michael"}),
        ("CreatedDate > 2000-01-01T00:00:00Z", {"Michael", "Lindsay", "Tobias", "Buster", "Ann"}),
        ("CreatedDate = LAST_N_DAYS:1", {"Michael", "Lindsay", "Tobias", "Buster", "Ann"}),
        ("Account.Name = 'Bluth Company'", {"Michael", "Lindsay", "Buster"}),
        ("HasOptedOutOfEmail = false AND FirstName = 'Ann'", {"Ann"}),
        (
            "AccountId IN (SELECT Id FROM Account WHERE Name LIKE 'Bluth%')",
            {"Michael", "Lindsay", "Buster"},
        ),
    ],
)
def test_where(people: Any, where: str, expected: set[str]) -> None:
    assert set(names(people.query(f"SELECT FirstName FROM Contact WHERE {where}"))) == expected


def test_order_limit_offset_and_nulls(people: Any) -> None:
    ordered = people.query("SELECT FirstName FROM Contact ORDER BY FirstName DESC LIMIT 3")
    assert names(ordered) == ["Tobias", "Michael", "Lindsay"]
    assert ordered["totalSize"] == 3
    paged = people.query("SELECT FirstName FROM Contact ORDER BY FirstName LIMIT 2 OFFSET 1")
    assert names(paged) == ["Buster", "Lindsay"]
    nulls_last = people.query("SELECT FirstName FROM Contact ORDER BY Email ASC NULLS LAST")
    assert names(nulls_last)[-1] == "Tobias"
    default = people.query("SELECT FirstName FROM Contact ORDER BY Email")
    assert names(default)[0] == "Tobias"  # ascending sorts nulls first by default
    multi = people.query("SELECT FirstName FROM Contact ORDER BY LastName, FirstName DESC")
    assert names(multi) == ["Michael", "Buster", "Tobias", "Lindsay", "Ann"]


def test_count_and_aggregate(people: Any) -> None:
    count = people.query("SELECT COUNT() FROM Contact WHERE LastName = 'Bluth'")
    assert count == {"totalSize": 2, "done": True, "records": []}
    agg = people.query("SELECT COUNT(Id) FROM Contact")
    assert agg["records"][0]["expr0"] == 5
    assert agg["records"][0]["attributes"] == {"type": "AggregateResult"}


def test_parent_and_child_relationships(people: Any) -> None:
    result = people.query(
        "SELECT FirstName, Account.Name FROM Contact WHERE FirstName IN ('Michael', 'Ann')"
        " ORDER BY FirstName"
    )
    ann, michael = result["records"]
    assert ann["Account"] is None
    assert michael["Account"]["Name"] == "Bluth Company"
    assert michael["Account"]["attributes"]["type"] == "Account"
    accounts = people.query("SELECT Name, (SELECT FirstName FROM Contacts) FROM Account")
    children = accounts["records"][0]["Contacts"]
    assert children["totalSize"] == 3 and children["done"] is True
    empty = people.query("SELECT FirstName, (SELECT Name FROM Opportunities) FROM Contact")
    assert all(r["Opportunities"] is None for r in empty["records"])


def test_field_names_are_case_insensitive_and_canonical(people: Any) -> None:
    row = people.query("select firstname, EMAIL from contact where lastname = 'O\\'Brien'")
    record = row["records"][0]
    assert set(record) == {"attributes", "FirstName", "Email"}
    assert record["attributes"]["type"] == "Contact"


def test_paging_with_batch_size(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i:03d}"} for i in range(200)]
    for _ in range(3):
        sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
    first = sf.query(
        "SELECT Name FROM Account ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=250"}
    )
    assert first["totalSize"] == 600 and first["done"] is False
    assert len(first["records"]) == 250
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-250")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 250 and second["done"] is False
    everything = sf.query_all("SELECT Name FROM Account")
    assert len(everything["records"]) == 600
    small = sf.query("SELECT Name FROM Account", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(small["records"]) == 200  # the minimum batch is 200


def test_default_page_is_2000(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    view = sf_sandbox.org.view()
    for i in range(2100):
        view.create("Lead", {"LastName": f"L{i}", "Company": "C"})
    page = sf.query("SELECT Id FROM Lead")
    assert len(page["records"]) == 2000 and page["totalSize"] == 2100
    assert page["nextRecordsUrl"].endswith("-2000")


def test_invalid_field_message(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        sf.query("SELECT Id, Mood__c FROM Contact")
    error = failure.value.content[0]
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == (
        "\nSELECT Id, Mood__c FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Mood__c' on entity 'Contact'. If you are attempting to use a custom"
        " field, be sure to append the '__c' after the custom field name. Please reference"
        " your WSDL or the describe call for the appropriate names."
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE LastName = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE LastName = 'bad \\q escape'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE NumberOfEmployees = 3", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing__c", "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE NumberOfEmployees = '3'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
)
def test_query_errors(sf: Any, query: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        sf.query(query)
    assert failure.value.content[0]["errorCode"] == code


def test_escapes_in_string_literals() -> None:
    query = parse("SELECT Id FROM Contact WHERE LastName = 'a\\'b\\\\c\\nd\\\"e\\u00e9'")
    comparison = query.where
    assert comparison is not None
    assert comparison.value.value == "a'b\\c\nd\"eé"  # type: ignore[union-attr]


def test_tokenizer_positions() -> None:
    tokens = tokenize("SELECT Id\nFROM Contact")
    assert [(t.text, t.pos) for t in tokens] == [
        ("SELECT", 0),
        ("Id", 7),
        ("FROM", 10),
        ("Contact", 15),
    ]
    with pytest.raises(SfError):
        tokenize("SELECT ? FROM Contact")
