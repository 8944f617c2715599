"""Matching, writing and reading back through the Dataverse connector, end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relcrm.connectors.dataverse import DataverseConnector
from relcrm.models import RecordRef, WriteOutcome
from relcrm.sandbox.dataverse.server import DataverseSandbox
from tests.connectors_dataverse.helpers import GOOD, PERSON_ID, SPECS, seed, write_for


def test_match_by_email_ignores_case_quotes_and_falls_back_to_leads(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    ann, obrien = seed(dv, "contact", "ann@example.com", "o'brien@example.com")
    (lead,) = seed(dv, "lead", "prospect@example.com")
    seed(dv, "lead", "ann@example.com")  # a lead for a customer: the contact wins
    report = connector.find_records(
        "contact",
        {
            "p-ann": ["ANN@example.com"],
            "p-obrien": ["o'brien@example.com"],
            "p-lead": ["prospect@example.com"],
            "p-none": ["nobody@example.com"],
            "p-empty": [],
        },
        fallback=["lead"],
    )
    assert report.matched == {
        "p-ann": RecordRef(system="dataverse", object="contact", id=ann),
        "p-obrien": RecordRef(system="dataverse", object="contact", id=obrien),
        "p-lead": RecordRef(system="dataverse", object="lead", id=lead),
    }
    assert sorted(report.unmatched) == ["p-empty", "p-none"]
    assert not report.ambiguous


def test_several_records_for_one_person_are_reported_not_guessed(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    first, second = seed(dv, "contact", "dup@example.com", "dup@example.com")
    (third,) = seed(dv, "contact", "work@example.com")
    report = connector.find_records(
        "contact", {"p1": ["dup@example.com"], "p2": ["home@example.com", "work@example.com"]}
    )
    assert {r.id for r in report.ambiguous["p1"]} == {first, second}
    assert report.matched["p2"].id == third


def test_match_by_external_id_through_the_alternate_key(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", [PERSON_ID])
    (contact,) = dv.seed("contact", [{"lastname": "A", "relcrm_personid": "person-1"}])
    (lead,) = dv.seed("lead", [{"lastname": "B"}])
    report = connector.find_records(
        "contact", {"person-1": ["person-1"], "person-2": ["person-2"]}, by="relcrm_personid"
    )
    assert report.matched["person-1"].id == contact and report.unmatched == ["person-2"]
    assert lead not in {r.id for r in report.matched.values()}


def test_write_and_read_back_normalised_values(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", SPECS)
    (contact,) = seed(dv, "contact", "ann@example.com")
    values = {**GOOD, "relcrm_first_seen": "2026-03-04", "relcrm_reasons": "line one\nline two"}
    (result,) = connector.write("contact", [write_for("p1", contact, **values)])
    assert (result.outcome, result.record_id) == (WriteOutcome.WRITTEN, contact)
    held = connector.read_values("contact", [contact.upper()], list(values))
    assert held == {
        contact.upper(): {
            "relcrm_health": 72.5,
            "relcrm_health_band": "watch",
            "relcrm_churn_risk": True,
            "relcrm_scored_at": datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
            "relcrm_dominant_emotion": "trust",
            "relcrm_last_nps": 9,
            "relcrm_first_seen": date(2026, 3, 4),
            "relcrm_reasons": "line one\nline two",
        }
    }
    stored = dv.org.records["contact"][contact].values
    assert stored["relcrm_health_band"] == 727000001  # the option's value went over the wire
    assert (
        connector.read_values("contact", ["00000000-0000-4000-8000-000000000000"], ["jobtitle"])
        == {}
    )


def test_clearing_sends_nulls(dv: DataverseSandbox, connector: DataverseConnector) -> None:
    connector.provision("contact", SPECS)
    (contact,) = seed(dv, "contact", "ann@example.com")
    connector.write("contact", [write_for("p1", contact, **GOOD)])
    cleared = dict.fromkeys(GOOD)
    (result,) = connector.write("contact", [write_for("p1", contact, **cleared)])
    assert result.outcome is WriteOutcome.WRITTEN
    assert set(connector.read_values("contact", [contact], list(GOOD))[contact].values()) == {None}


def test_writes_go_to_the_table_their_record_is_in(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", SPECS)
    connector.provision("lead", SPECS)
    (contact,) = seed(dv, "contact", "ann@example.com")
    (lead,) = seed(dv, "lead", "bob@example.com")
    results = connector.write(
        "contact",
        [write_for("p1", contact, **GOOD), write_for("p2", lead, table="lead", **GOOD)],
    )
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN, WriteOutcome.WRITTEN]
    assert dv.log.write_counts("lead") == {lead: 1}
    assert dv.log.write_counts("contact") == {contact: 1}


def test_a_bad_record_is_isolated_in_an_all_or_nothing_batch(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", SPECS)
    ids = seed(dv, "contact", *(f"p{i}@example.com" for i in range(6)))
    writes = [write_for(f"p{i}", record, **GOOD) for i, record in enumerate(ids)]
    writes[2] = write_for(
        "p2", ids[2], **{**GOOD, "relcrm_dominant_emotion": "anticipation, then surprise"}
    )
    writes[4] = write_for("p4", ids[4], **{**GOOD, "relcrm_last_nps": 12345})
    dv.log.clear()
    results = connector.write("contact", writes)
    outcomes = [r.outcome for r in results]
    assert outcomes == [
        WriteOutcome.WRITTEN,
        WriteOutcome.WRITTEN,
        WriteOutcome.REJECTED,
        WriteOutcome.WRITTEN,
        WriteOutcome.REJECTED,
        WriteOutcome.WRITTEN,
    ]
    assert results[2].error_code == "0x80044331"
    assert "relcrm_dominant_emotion" in (results[2].error_message or "")
    assert "exceeded the maximum allowed length of '20'" in (results[2].error_message or "")
    assert results[4].error_code == "0x80044331"
    message = results[4].error_message or ""
    assert "outside the valid range" in message and "12345" not in message
    assert "[value withheld]" in message
    assert "anticipation" not in (results[2].error_message or "")
    # every good record written exactly once: UpdateMultiple rolled back, then one $batch
    assert dv.log.write_counts("contact") == {ids[i]: 1 for i in (0, 1, 3, 5)}
    writes_sent = [c.path.rsplit("/", 1)[-1] for c in dv.log.calls() if c.method == "POST"]
    assert writes_sent == ["Microsoft.Dynamics.CRM.UpdateMultiple", "$batch"]
    assert connector.writer.isolations == 1


def test_values_that_cannot_fit_are_rejected_before_sending(
    dv: DataverseSandbox, connector: DataverseConnector
) -> None:
    connector.provision("contact", SPECS)
    (contact, other) = seed(dv, "contact", "a@example.com", "b@example.com")
    results = connector.write(
        "contact",
        [
            write_for("p1", contact, relcrm_health_band="Ecstatic"),
            write_for("p2", other, relcrm_health_band="healthy"),
            write_for("p3", contact, relcrm_health="lots"),
        ],
    )
    assert [r.outcome for r in results] == [
        WriteOutcome.REJECTED,
        WriteOutcome.WRITTEN,
        WriteOutcome.REJECTED,
    ]
    assert results[0].error_code == "INVALID_VALUE" and "Ecstatic" not in str(results[0])
    assert "healthy, watch, at_risk, unknown" in (results[0].error_message or "")


def test_a_write_without_a_record_is_not_matched(connector: DataverseConnector) -> None:
    from relcrm.models import FieldWrite

    (result,) = connector.write("contact", [FieldWrite(person_id="p1", values={"jobtitle": "x"})])
    assert (result.outcome, result.error_code) == (WriteOutcome.REJECTED, "NOT_MATCHED")


def test_batches_respect_the_batch_size_and_count_calls(
    dv: DataverseSandbox, clock: object
) -> None:
    from tests.connectors_dataverse.conftest import FakeClock, connector_for

    assert isinstance(clock, FakeClock)
    connector = connector_for(dv, clock, batch_size=2)
    connector.provision("contact", SPECS)
    ids = seed(dv, "contact", *(f"p{i}@example.com" for i in range(5)))
    before = connector.api_calls
    results = connector.write("contact", [write_for(f"p{i}", r, **GOOD) for i, r in enumerate(ids)])
    assert all(r.outcome is WriteOutcome.WRITTEN for r in results)
    # three reads of the schema provisioning changed (columns, choices, keys), then 2 + 2 + 1
    assert connector.api_calls - before == 3 + 3
    connector.close()
