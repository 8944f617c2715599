"""The Zoho connector end to end against the HTTPS sandbox: describe, provisioning (and
re-provisioning), matching, writing and reading back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relcrm.connectors import Connector
from relcrm.connectors.zoho import ZohoConnector, ZohoSettings
from relcrm.mapping import FieldMapping, load_shipped
from relcrm.models import FieldSpec, FieldType, FieldWrite, RecordRef, WriteOutcome
from relcrm.sandbox.zoho.server import ZohoSandbox
from tests.connectors_zoho.conftest import zoho_specs

SPECS = zoho_specs()


def provisioned(connector: ZohoConnector, *modules: str) -> None:
    for module in modules or ("Contacts",):
        connector.provision(module, SPECS)


def test_it_is_a_connector_built_from_its_settings(zoho: ZohoSandbox) -> None:
    from tests.connectors_zoho.conftest import settings_for

    built = ZohoConnector.from_settings(settings_for(zoho))
    assert isinstance(built, Connector)
    assert ZohoConnector.settings_class is ZohoSettings
    caps = built.capabilities
    assert caps.objects == ("Contacts", "Leads")
    assert caps.max_batch_size == 100 and not caps.all_or_nothing_batches
    assert caps.match_by == {"email", "external_id"} and caps.fallback_matching
    assert caps.upsert_by_external_id and caps.reads_back
    assert not caps.support_cases and not caps.history_notes
    assert caps.rate_policy is not None
    assert (caps.rate_policy.requests, caps.rate_policy.window_s) == (51_000, 86_400)


def test_describe_gives_relcrm_specs(connector: ZohoConnector) -> None:
    specs = {s.name: s for s in connector.describe("Contacts")}
    assert specs["Last_Name"].type is FieldType.TEXT and specs["Last_Name"].length == 80
    assert specs["Description"].type is FieldType.LONG_TEXT
    assert specs["Email_Opt_Out"].type is FieldType.CHECKBOX
    assert specs["Lead_Source"].type is FieldType.PICKLIST
    assert not specs["Lead_Source"].restricted
    assert not specs["Created_Time"].updateable and not specs["Owner"].updateable
    assert not specs["Email"].custom


def test_plan_then_provision_creates_the_mapping_and_a_second_run_changes_nothing(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    plan = connector.plan_provisioning("Contacts", SPECS)
    assert [s.name for s in plan.create] == [s.name for s in SPECS]
    assert not plan.changes and not plan.conflicts
    created = connector.provision("Contacts", SPECS)
    assert [s.name for s in created] == [s.name for s in SPECS]
    creates = [c for c in zoho.log if c.method == "POST" and "settings/fields" in c.path]
    assert len(creates) == 3  # five fields a call
    assert connector.plan_provisioning("Contacts", SPECS).empty
    assert connector.provision("Contacts", SPECS) == []
    described = {s.name: s for s in connector.describe("Contacts")}
    for spec in SPECS:
        seen = described[spec.name]
        assert seen.custom and seen.label == spec.label
        assert seen.type is spec.type or {seen.type, spec.type} <= {FieldType.NUMBER}
    assert described["relcrm_Health"].precision == 5 and described["relcrm_Health"].scale == 1
    assert described["relcrm_Last_NPS"].scale == 0
    assert described["relcrm_Reasons"].length == 32_000
    assert described["relcrm_Segment"].picklist_values == SPECS[2].picklist_values


def test_missing_picklist_values_are_planned_and_added_and_conflicts_reported(
    connector: ZohoConnector,
) -> None:
    provisioned(connector)
    trend = next(s for s in SPECS if s.name == "relcrm_Trend")
    wider = trend.model_copy(update={"picklist_values": (*trend.picklist_values, "volatile")})
    clash = FieldSpec(name="relcrm_Health", label="relcrm Health", type=FieldType.CHECKBOX)
    plan = connector.plan_provisioning("Contacts", [wider, clash])
    assert [c.description for c in plan.changes] == ["add options volatile to relcrm_Trend"]
    assert plan.conflicts == ("Contacts.relcrm_Health is number, wanted checkbox",)
    connector.provision("Contacts", [wider])
    described = {s.name: s for s in connector.describe("Contacts")}
    assert described["relcrm_Trend"].picklist_values[-1] == "volatile"
    assert connector.plan_provisioning("Contacts", [wider]).empty


def test_match_by_email_contacts_first_then_leads_and_ambiguity_reported(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    org = zoho.org
    ann = org.add_record("Contacts", {"Last_Name": "Ann", "Email": "ann@example.com"})
    for name in ("Bo", "Bob"):
        org.add_record("Contacts", {"Last_Name": name, "Email": "bo@example.com"})
    lee = org.add_record("Leads", {"Last_Name": "Lee", "Email": "lee@example.com"})
    org.add_record("Leads", {"Last_Name": "Ann", "Email": "ann@example.com"})
    odd = org.add_record("Contacts", {"Last_Name": "Odd", "Email": "o(d)d@example.com"})
    keys = {
        "p-ann": ["ANN@example.com"],
        "p-bo": ["bo@example.com"],
        "p-lee": ["lee@example.com"],
        "p-odd": ["o(d)d@example.com"],
        "p-none": ["none@example.com"],
        "p-noemail": [],
    }
    report = connector.find_records("Contacts", keys, fallback=["Leads"])
    assert report.matched == {
        "p-ann": RecordRef(system="zoho", object="Contacts", id=ann),
        "p-lee": RecordRef(system="zoho", object="Leads", id=lee),
        "p-odd": RecordRef(system="zoho", object="Contacts", id=odd),
    }
    assert list(report.ambiguous) == ["p-bo"] and len(report.ambiguous["p-bo"]) == 2
    assert sorted(report.unmatched) == ["p-noemail", "p-none"]


def test_many_persons_are_matched_ten_a_search(connector: ZohoConnector, zoho: ZohoSandbox) -> None:
    for i in range(25):
        zoho.org.add_record("Contacts", {"Last_Name": f"N{i}", "Email": f"n{i}@example.com"})
    report = connector.find_records("Contacts", {f"p{i}": [f"n{i}@example.com"] for i in range(25)})
    assert len(report.matched) == 25
    assert len([c for c in zoho.log if c.path.endswith("/search")]) == 3


def test_match_by_a_unique_field(connector: ZohoConnector, zoho: ZohoSandbox) -> None:
    key = FieldSpec(name="relcrm_Person_Id", label="relcrm Person Id", type=FieldType.TEXT,
                    length=64, external_id=True)  # fmt: skip
    connector.provision("Contacts", [key])
    assert next(s for s in connector.describe("Contacts") if s.name == key.name).external_id
    rid = zoho.org.add_record("Contacts", {"Last_Name": "K", "relcrm_Person_Id": "person-7"})
    report = connector.find_records("Contacts", {"person-7": ["person-7"]}, by="relcrm_Person_Id")
    assert report.matched["person-7"].id == rid


def test_write_and_read_back_normalised_values(connector: ZohoConnector, zoho: ZohoSandbox) -> None:
    provisioned(connector)
    rid = zoho.org.add_record("Contacts", {"Last_Name": "Ann", "Email": "ann@example.com"})
    ref = RecordRef(system="zoho", object="Contacts", id=rid)
    values = {
        "relcrm_Health": 87.25,
        "relcrm_Health_Band": "healthy",
        "relcrm_Dominant_Emotion": "joy",
        "relcrm_Last_NPS": 9,
        "relcrm_Churn_Risk": False,
        "relcrm_Needs_Outreach": True,
        "relcrm_Reasons": "Loves the product.\nRenewed twice.",
        "relcrm_Scored_At": "2026-11-01T10:00:00.123456+00:00",
    }
    (result,) = connector.write("Contacts", [FieldWrite(person_id="p1", record=ref, values=values)])
    assert (result.outcome, result.record_id) == (WriteOutcome.WRITTEN, rid)
    read = connector.read_values("Contacts", [rid, "404"], list(values))
    assert list(read) == [rid]
    got = read[rid]
    assert got["relcrm_Health"] == 87.3 and isinstance(got["relcrm_Health"], float)
    assert got["relcrm_Last_NPS"] == 9 and isinstance(got["relcrm_Last_NPS"], int)
    assert got["relcrm_Churn_Risk"] is False and got["relcrm_Needs_Outreach"] is True
    assert got["relcrm_Scored_At"] == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert got["relcrm_Reasons"] == values["relcrm_Reasons"]
    assert zoho.org.values_of("Contacts", rid)["relcrm_Scored_At"] == "2026-11-01T15:30:00+05:30"


def test_a_date_field_reads_back_as_a_date(connector: ZohoConnector, zoho: ZohoSandbox) -> None:
    rid = zoho.org.add_record("Contacts", {"Last_Name": "D", "Date_of_Birth": "1990-04-01"})
    assert connector.read_values("Contacts", [rid], ["Date_of_Birth"])[rid] == {
        "Date_of_Birth": date(1990, 4, 1)
    }


def test_one_bad_record_is_rejected_with_zohos_code_and_the_others_written(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    provisioned(connector)
    ids = [zoho.org.add_record("Contacts", {"Last_Name": f"N{i}", "Email": f"n{i}@example.com"})
           for i in range(5)]  # fmt: skip
    secret = "Ecstatic about the new plan and very talkative"
    writes = [
        FieldWrite(person_id=f"p{i}", record=RecordRef(system="zoho", object="Contacts", id=rid),
                   values={"relcrm_Dominant_Emotion": "joy", "relcrm_Health": 50})
        for i, rid in enumerate(ids)
    ]  # fmt: skip
    writes[2] = writes[2].model_copy(update={"values": {"relcrm_Dominant_Emotion": secret}})
    results = connector.write("Contacts", writes)
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN] * 2 + [WriteOutcome.REJECTED] + [
        WriteOutcome.WRITTEN
    ] * 2
    bad = results[2]
    assert bad.error_code == "INVALID_DATA"
    assert "relcrm_Dominant_Emotion" in (bad.error_message or "")
    assert "maximum_length: 20" in (bad.error_message or "")
    assert secret not in (bad.error_message or "")
    assert zoho.log.write_counts("Contacts") == {rid: 1 for i, rid in enumerate(ids) if i != 2}
    assert len([c for c in zoho.log if c.method == "PUT"]) == 1  # one call for the batch


def test_a_value_of_the_wrong_shape_is_refused_before_sending(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    provisioned(connector)
    rid = zoho.org.add_record("Contacts", {"Last_Name": "A"})
    ref = RecordRef(system="zoho", object="Contacts", id=rid)
    (result,) = connector.write(
        "Contacts", [FieldWrite(person_id="p", record=ref, values={"relcrm_Health": "lots"})]
    )
    assert (result.outcome, result.error_code) == (WriteOutcome.REJECTED, "INVALID_VALUE")
    assert "lots" not in (result.error_message or "")


def test_writes_go_to_the_module_of_their_record(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    provisioned(connector, "Contacts", "Leads")
    contact = zoho.org.add_record("Contacts", {"Last_Name": "C"})
    lead = zoho.org.add_record("Leads", {"Last_Name": "L"})
    writes = [
        FieldWrite(person_id="c", record=RecordRef(system="zoho", object="Contacts", id=contact),
                   values={"relcrm_Health": 10}),
        FieldWrite(person_id="l", record=RecordRef(system="zoho", object="Leads", id=lead),
                   values={"relcrm_Health": 20}),
    ]  # fmt: skip
    assert [r.outcome for r in connector.write("Contacts", writes)] == [WriteOutcome.WRITTEN] * 2
    assert zoho.org.values_of("Leads", lead)["relcrm_Health"] == 20.0


def test_a_write_without_a_record_is_upserted_by_its_key(
    connector: ZohoConnector, zoho: ZohoSandbox
) -> None:
    provisioned(connector)
    known = zoho.org.add_record("Contacts", {"Last_Name": "K", "Email": "k@example.com"})
    writes = [
        FieldWrite(person_id="k", values={"Email": "k@example.com", "relcrm_Health": 1}),
        FieldWrite(person_id="n", values={"Email": "n@example.com", "Last_Name": "New",
                                          "relcrm_Health": 2}),
        FieldWrite(person_id="x", values={"relcrm_Health": 3}),
    ]  # fmt: skip
    first, second, third = connector.write("Contacts", writes)
    assert (first.outcome, first.record_id) == (WriteOutcome.WRITTEN, known)
    assert second.outcome is WriteOutcome.WRITTEN and second.record_id not in (None, known)
    assert (third.outcome, third.error_code) == (WriteOutcome.REJECTED, "NOT_MATCHED")
    assert [c.path for c in zoho.log if c.method == "POST"][-1] == "/crm/v8/Contacts/upsert"


def test_the_shipped_zoho_mappings_fit_the_provisioned_org(connector: ZohoConnector) -> None:
    contact, lead = load_shipped("zoho-contact"), load_shipped("zoho-lead")
    assert (contact.connector, contact.object, contact.match.fallback) == (
        "zoho", "Contacts", ("Leads",))  # fmt: skip
    assert lead.object == "Leads" and contact.field_specs() == lead.field_specs()
    salesforce = load_shipped("salesforce-contact")

    def shape(item: FieldMapping) -> tuple[object, ...]:
        # Zoho has no multi-select in relcrm yet: the topics go as text ("; " between).
        if item.type is FieldType.MULTI_PICKLIST:
            return (item.source, FieldType.TEXT, ())
        return (item.source, item.type, item.picklist)

    assert [shape(f) for f in contact.fields] == [shape(f) for f in salesforce.fields]
    for module in ("Contacts", "Leads"):
        connector.provision(module, contact.field_specs())
        described = {s.name: s for s in connector.describe(module)}
        for item in contact.fields:
            found = described[item.name]
            assert found.updateable
            if item.length:
                assert (found.length or 0) >= item.length
