"""Matching persons to Contacts and Leads with batched, safely quoted SOQL."""

from __future__ import annotations

from typing import Any

from relcrm.connectors.salesforce import soql_quote
from relcrm.connectors.salesforce.soql import in_lists
from relcrm.sandbox.salesforce import SalesforceSandbox
from tests.connectors.support import connector, make_contacts


def queries(sf_sandbox: SalesforceSandbox) -> list[str]:
    return [c.query for c in sf_sandbox.log.calls() if c.path.rstrip("/").endswith("/query")]


def test_soql_quote_escapes_and_rejects_nothing() -> None:
    assert soql_quote("plain@example.com") == "'plain@example.com'"
    assert soql_quote("o'hara@example.com") == "'o\\'hara@example.com'"
    assert soql_quote("back\\slash@example.com") == "'back\\\\slash@example.com'"
    assert soql_quote("x\\' OR Name != '") == "'x\\\\\\' OR Name != \\''"
    assert soql_quote("") == "''"
    chunks = list(in_lists([f"v{i}" for i in range(450)]))
    assert len(chunks) == 3 and chunks[0].count(",") == 199


def test_emails_with_quotes_and_backslashes_match_exactly(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    tricky = {
        "quote": "o'hara@example.com",
        "slash": "back\\slash@example.com",
        "inject": "x' OR Email != 'y@example.com",
    }
    # Salesforce refuses a backslash in an email; it must still be a harmless lookup
    ids = {"quote": sf.Contact.create({"LastName": "q", "Email": tricky["quote"]})["id"]}
    sf.Contact.create({"LastName": "bystander", "Email": "y2@example.com"})
    report = connector(sf_sandbox).match({k: [v] for k, v in tricky.items()})
    assert {p: r.id for p, r in report.matched.items()} == ids
    assert report.unmatched == ["slash", "inject"]  # no value ever became part of the query


def test_contact_first_lead_fallback_ambiguous_and_unmatched(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    both = sf.Contact.create({"LastName": "C", "Email": "both@example.com"})["id"]
    sf.Lead.create({"LastName": "L", "Company": "Co", "Email": "both@example.com"})
    lead = sf.Lead.create({"LastName": "L2", "Company": "Co", "Email": "lead@example.com"})["id"]
    twin_a = sf.Contact.create({"LastName": "T1", "Email": "twin@example.com"})["id"]
    twin_b = sf.Contact.create({"LastName": "T2", "Email": "TWIN@example.com"})["id"]
    report = connector(sf_sandbox).match(
        {
            "p-both": ["both@example.com"],
            "p-lead": ["Lead@Example.com"],
            "p-twin": ["twin@example.com"],
            "p-none": ["nobody@example.com"],
            "p-empty": [],
        }
    )
    assert report.matched["p-both"].object == "Contact" and report.matched["p-both"].id == both
    assert report.matched["p-lead"].object == "Lead" and report.matched["p-lead"].id == lead
    assert {r.id for r in report.ambiguous["p-twin"]} == {twin_a, twin_b}
    assert report.unmatched == ["p-none", "p-empty"]


def test_lead_order_is_configurable(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    sf.Contact.create({"LastName": "C", "Email": "both@example.com"})
    lead = sf.Lead.create({"LastName": "L", "Company": "Co", "Email": "both@example.com"})["id"]
    report = connector(sf_sandbox, match_objects=("Lead", "Contact")).match(
        {"p": ["both@example.com"]}
    )
    assert report.matched["p"].id == lead


def test_matching_is_batched(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    ids = make_contacts(sf, 450)
    sf_sandbox.log.clear()
    report = connector(sf_sandbox).match({f"p{i}": [f"p{i}@example.com"] for i in range(450)})
    assert [report.matched[f"p{i}"].id for i in range(450)] == ids
    assert len(queries(sf_sandbox)) == 3  # 200 values per IN (...), Contact only


def test_match_by_external_id_field(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    from relcrm.models import FieldSpec, FieldType

    conn = connector(sf_sandbox, match_objects=("Contact",))  # the key exists on Contact only
    key = FieldSpec(
        name="Relcrm_Key__c", label="relcrm key", type=FieldType.TEXT, length=64, external_id=True
    )
    conn.provision("Contact", [key])
    record = sf.Contact.create({"LastName": "K", "Relcrm_Key__c": "k-'1"})["id"]
    slash = sf.Contact.create({"LastName": "S", "Relcrm_Key__c": "k\\'2"})["id"]
    report = conn.match({"p": ["k-'1"], "s": ["k\\'2"], "q": ["k-2"]}, field="Relcrm_Key__c")
    assert report.matched["p"].id == record and report.matched["s"].id == slash
    assert report.unmatched == ["q"]
