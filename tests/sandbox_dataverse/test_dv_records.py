"""Entity sets: OData queries, single-record writes, value validation and error bodies.

Facts reproduced: entity-set names are plural and case-sensitive (``/Contacts`` is
``0x8006088a`` "Resource not found for the segment"); a text longer than its column is
``0x80044331`` with Dataverse's validation message (the batch-operations transcript); an
update answers ``204`` with ``OData-EntityId``; ``If-Match: *`` turns an upsert into an
update that answers ``404`` for a missing record; ``Prefer: return=representation`` answers
the record; string literals double their quotes; text compares without case.
"""

from __future__ import annotations

import uuid

import httpx

from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.sandbox_dataverse.helpers import error_of, seed_contacts


def _emails(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(str(r["emailaddress1"]) for r in answer.json()["value"])


def test_select_filter_top_with_quotes_or_and_parentheses(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    seed_contacts(dv, "o'brien@example.com", "ann@example.com", "bob@example.com")
    quoted = api.get("contacts", params={"$filter": "emailaddress1 eq 'O''Brien@EXAMPLE.com'"})
    assert _emails(quoted) == ["o'brien@example.com"]
    either = api.get(
        "contacts",
        params={
            "$select": "emailaddress1",
            "$filter": "(emailaddress1 eq 'ann@example.com' or emailaddress1 eq "
            "'bob@example.com') and not (lastname eq 'bob')",
        },
    )
    assert _emails(either) == ["ann@example.com"]
    row = either.json()["value"][0]
    assert set(row) == {"@odata.etag", "emailaddress1", "contactid"}
    assert row["@odata.etag"].startswith('W/"')
    assert "$metadata#contacts(emailaddress1)" in either.json()["@odata.context"]
    top = api.get("contacts", params={"$top": "2", "$select": "emailaddress1"})
    assert len(top.json()["value"]) == 2


def test_the_in_query_function(dv: DataverseSandbox, api: httpx.Client) -> None:
    seed_contacts(dv, "a@example.com", "b@example.com", "c@example.com")
    flt = (
        "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',"
        "PropertyValues=['A@example.com','c@example.com'])"
    )
    assert _emails(api.get("contacts", params={"$filter": flt})) == [
        "a@example.com",
        "c@example.com",
    ]


def test_unknown_set_column_and_syntax_answer_dataverse_codes(api: httpx.Client) -> None:
    assert api.get("Contacts").status_code == 404
    assert error_of(api.get("Contacts")) == (
        "0x8006088a",
        "Resource not found for the segment 'Contacts'.",
    )
    unknown = api.get("contacts", params={"$select": "nosuchcolumn"})
    assert unknown.status_code == 400
    assert error_of(unknown) == (
        "0x80060888",
        "Could not find a property named 'nosuchcolumn' on type 'Microsoft.Dynamics.CRM.contact'.",
    )
    broken = api.get("contacts", params={"$filter": "emailaddress1 eq"})
    assert broken.status_code == 400 and "Syntax error" in error_of(broken)[1]


def test_paging_follows_the_next_link(dv: DataverseSandbox, api: httpx.Client) -> None:
    seed_contacts(dv, *(f"p{i}@example.com" for i in range(5)))
    headers = {"Prefer": "odata.maxpagesize=2"}
    page = api.get("contacts", params={"$select": "emailaddress1"}, headers=headers).json()
    seen = [r["emailaddress1"] for r in page["value"]]
    while "@odata.nextLink" in page:
        page = api.get(page["@odata.nextLink"], headers=headers).json()
        seen += [r["emailaddress1"] for r in page["value"]]
    assert sorted(seen) == [f"p{i}@example.com" for i in range(5)]


def test_an_update_answers_204_with_the_entity_id_and_is_logged(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    (contact,) = seed_contacts(dv, "ann@example.com")
    answer = api.patch(f"contacts({contact})", json={"firstname": "Ann"}, headers={"If-Match": "*"})
    assert answer.status_code == 204
    assert answer.headers["OData-EntityId"].endswith(f"/api/data/v9.2/contacts({contact})")
    record = api.get(f"contacts({contact})", params={"$select": "firstname,fullname"}).json()
    assert (record["firstname"], record["fullname"]) == ("Ann", "Ann ann")
    assert dv.log.write_counts("contact") == {contact: 1}


def test_return_representation_answers_the_record(dv: DataverseSandbox, api: httpx.Client) -> None:
    (contact,) = seed_contacts(dv, "ann@example.com")
    answer = api.patch(
        f"contacts({contact})",
        json={"jobtitle": "CFO"},
        headers={"If-Match": "*", "Prefer": "return=representation"},
    )
    assert answer.status_code == 200 and answer.json()["jobtitle"] == "CFO"
    created = api.post(
        "contacts", json={"lastname": "New"}, headers={"Prefer": "return=representation"}
    )
    assert created.status_code == 201 and created.json()["lastname"] == "New"


def test_if_match_star_prevents_create_and_plain_patch_upserts(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    missing = str(uuid.uuid4())
    refused = api.patch(f"contacts({missing})", json={"lastname": "X"}, headers={"If-Match": "*"})
    assert refused.status_code == 404
    assert error_of(refused) == ("0x80040217", f"contact With Id = {missing} Does Not Exist")
    assert api.patch(f"contacts({missing})", json={"lastname": "X"}).status_code == 204
    assert api.get(f"contacts({missing})").status_code == 200


def test_values_are_checked_per_column_type(dv: DataverseSandbox, api: httpx.Client) -> None:
    (contact,) = seed_contacts(dv, "ann@example.com")
    too_long = api.patch(f"contacts({contact})", json={"firstname": "x" * 51})
    assert error_of(too_long) == (
        "0x80044331",
        "A validation error occurred.  The length of the 'firstname' attribute of the "
        "'contact' entity exceeded the maximum allowed length of '50'.",
    )
    wrong_type = api.patch(f"contacts({contact})", json={"numberofchildren": "three"})
    code, message = error_of(wrong_type)
    assert code == "0x80048d19"
    assert "Cannot convert the literal 'three' to the expected type 'Edm.Int32'" in message
    option = api.patch(f"contacts({contact})", json={"preferredcontactmethodcode": 9})
    assert error_of(option)[0] == "0x8004431a"
    unknown = api.patch(f"contacts({contact})", json={"nosuch": 1})
    assert (
        error_of(unknown)[0] == "0x80048d19" and "'nosuch' does not exist" in error_of(unknown)[1]
    )
    date = api.patch(f"contacts({contact})", json={"birthdate": "2001-02-03T00:00:00Z"})
    assert error_of(date)[0] == "0x80048d19"
    assert api.patch(f"contacts({contact})", json={"birthdate": "2001-02-03"}).status_code == 204
    assert dv.log.write_counts("contact") == {contact: 1}


def test_read_only_columns_are_ignored_and_datetimes_kept_to_the_second(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    (contact,) = seed_contacts(dv, "ann@example.com")
    before = api.get(f"contacts({contact})", params={"$select": "createdon"}).json()["createdon"]
    answer = api.patch(f"contacts({contact})", json={"createdon": "2001-01-01T00:00:00Z"})
    assert answer.status_code == 204
    after = api.get(f"contacts({contact})", params={"$select": "createdon"}).json()["createdon"]
    assert after == before


def test_formatted_values_come_with_the_annotation_preference(
    dv: DataverseSandbox, api: httpx.Client
) -> None:
    (contact,) = dv.seed("contact", [{"lastname": "A", "preferredcontactmethodcode": 2}])
    plain = api.get(f"contacts({contact})", params={"$select": "preferredcontactmethodcode"})
    assert plain.json()["preferredcontactmethodcode"] == 2
    shown = api.get(
        f"contacts({contact})",
        params={"$select": "preferredcontactmethodcode"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert shown["preferredcontactmethodcode@OData.Community.Display.V1.FormattedValue"] == "Email"
