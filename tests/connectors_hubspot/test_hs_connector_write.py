"""Matching and writing through hubspot-api-client on the sandbox: 207s per person,
value formats, transient inputs, re-runs, 429 recovery and the shared limiter."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

from relcrm.connectors.hubspot import HubSpotConnector, RateLimiter
from relcrm.connectors.hubspot.describe import PropertyInfo
from relcrm.connectors.hubspot.values import date_ms, format_value, plain_number
from relcrm.models import FieldSpec, FieldType, WriteOutcome, value_holds
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot import RateLimits
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from tests.connectors_hubspot.conftest import connector_for
from tests.connectors_hubspot.helpers import SPECS, read, seed_contacts, write_for


def _batch_updates(sandbox: HubSpotSandbox) -> int:
    return sum(1 for c in sandbox.log.calls() if c.path.endswith("/batch/update"))


def test_match_by_email(
    connector: HubSpotConnector, hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    ids = seed_contacts(hs_client, ["ada@example.com", "bob@example.com", "cy@example.com"])
    hs_sandbox.log.clear()
    report = connector.match(
        {
            "p-ada": ["Ada@Example.com"],
            "p-bob": ["bob@example.com", "nobody@example.com"],
            "p-two": ["cy@example.com", "ada@example.com"],
            "p-none": ["ghost@example.com"],
        }
    )
    assert report.matched["p-ada"].id == ids["ada@example.com"]
    assert report.matched["p-bob"].id == ids["bob@example.com"]
    assert {r.id for r in report.ambiguous["p-two"]} == {
        ids["cy@example.com"],
        ids["ada@example.com"],
    }
    assert report.unmatched == ["p-none"]
    assert [c.path for c in hs_sandbox.log.calls()] == ["/crm/v3/objects/contacts/batch/read"]


def test_match_by_person_id_property(connector: HubSpotConnector, hs_client: Any) -> None:
    spec = FieldSpec(
        name="relcrm_person_id", label="relcrm person", type=FieldType.TEXT, external_id=True
    )
    connector.provision("contacts", [spec])
    ids = seed_contacts(hs_client, ["a@example.com", "b@example.com"])
    results = connector.write(
        "contacts",
        [
            write_for("p-a", ids["a@example.com"], relcrm_person_id="p-a"),
            write_for("p-b", ids["b@example.com"], relcrm_person_id="p-b"),
        ],
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    report = connector.match(
        {"p-a": ["p-a"], "p-b": ["p-b"], "p-c": ["p-c"]}, id_property="relcrm_person_id"
    )
    assert {p: r.id for p, r in report.matched.items()} == {
        "p-a": ids["a@example.com"],
        "p-b": ids["b@example.com"],
    }
    assert report.unmatched == ["p-c"]


def test_write_formats_each_property_type_and_clears(
    connector: HubSpotConnector, hs_client: Any
) -> None:
    connector.provision("contacts", SPECS)
    ids = seed_contacts(hs_client, ["f@example.com"])
    rid = ids["f@example.com"]
    result = connector.write(
        "contacts",
        [
            write_for(
                "p-f",
                rid,
                relcrm_health=72.0,
                relcrm_band="At risk",
                relcrm_churn_risk=True,
                relcrm_last_nps_date="2024-05-01",
                relcrm_as_of="2024-05-01T10:40:00+00:00",
                relcrm_attitude="warm",
                relcrm_reasons="Felt let down\nby support",
            )
        ],
    )
    assert result[0].outcome is WriteOutcome.WRITTEN and result[0].record_id == rid
    got = read(
        hs_client,
        rid,
        "relcrm_health",
        "relcrm_band",
        "relcrm_churn_risk",
        "relcrm_last_nps_date",
        "relcrm_as_of",
        "relcrm_attitude",
    )
    assert got == {
        "relcrm_health": "72",
        "relcrm_band": "At risk",
        "relcrm_churn_risk": "true",
        "relcrm_last_nps_date": "2024-05-01",
        "relcrm_as_of": "2024-05-01T10:40:00.000Z",
        "relcrm_attitude": "warm",
    }
    cleared = connector.write(
        "contacts", [write_for("p-f", rid, relcrm_attitude=None, relcrm_churn_risk=False)]
    )
    assert cleared[0].outcome is WriteOutcome.WRITTEN
    assert read(hs_client, rid, "relcrm_attitude", "relcrm_churn_risk") == {
        "relcrm_attitude": None,
        "relcrm_churn_risk": "false",
    }


def test_values_are_read_back_normalised(connector: HubSpotConnector, hs_client: Any) -> None:
    """HubSpot answers with strings ("72", "true", ISO times); read_values hands back
    neutral values (issue 12), which hold what was sent by relcrm's one comparison."""
    connector.provision("contacts", SPECS)
    rid = seed_contacts(hs_client, ["n@example.com"])["n@example.com"]
    sent = {
        "relcrm_health": 72.5,
        "relcrm_band": "At risk",
        "relcrm_churn_risk": True,
        "relcrm_last_nps_date": "2024-05-01",
        "relcrm_as_of": "2024-05-01T10:40:00.000Z",
        "relcrm_attitude": None,
    }
    assert connector.write("contacts", [write_for("p-n", rid, **sent)])[0].outcome is (
        WriteOutcome.WRITTEN
    )
    got = connector.read_values("contacts", [rid, "404"], list(sent))
    assert got == {
        rid: {
            "relcrm_health": 72.5,
            "relcrm_band": "At risk",
            "relcrm_churn_risk": True,
            "relcrm_last_nps_date": date(2024, 5, 1),
            "relcrm_as_of": datetime(2024, 5, 1, 10, 40, tzinfo=UTC),
            "relcrm_attitude": None,
        }
    }
    types = {spec.name: spec.type for spec in SPECS}
    for name, value in sent.items():
        assert value_holds(types[name], value, got[rid][name], scale=None), name


def test_value_formats_unit() -> None:
    assert (
        plain_number(72.0) == "72" and plain_number(1e-7) == "0.0000001" and plain_number(3) == "3"
    )
    assert date_ms("2024-05-01") == "1714521600000"
    assert date_ms("2024-05-01T23:59:00+00:00") == "1714521600000"
    band = PropertyInfo("b", "enumeration", "select", ("at_risk",), ("At risk",))
    assert format_value(band, "At risk") == "at_risk"  # a label becomes its value
    assert format_value(band, "Nope") == "Nope"  # HubSpot rejects it with its own message
    assert (
        format_value(PropertyInfo("d", "datetime", "date"), "2024-05-01T10:40:00Z")
        == "1714560000000"
    )
    assert format_value(None, None) == ""


def test_invalid_enumeration_rejected_for_one_the_rest_written(
    connector: HubSpotConnector, hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector.provision("contacts", SPECS)
    ids = seed_contacts(hs_client, [f"e{i}@example.com" for i in range(5)])
    writes = [
        write_for(f"p{i}", ids[f"e{i}@example.com"], relcrm_band="Stable", relcrm_health=50 + i)
        for i in range(5)
    ]
    writes[2] = write_for("p2", ids["e2@example.com"], relcrm_band="Ecstatic", relcrm_health=52)
    writes.append(write_for("p5", ids["e0@example.com"], relcrm_bogus="x"))  # same record twice
    writes.append(write_for("p6", "999999999", relcrm_health=1))
    hs_sandbox.log.clear()
    results = connector.write("contacts", writes)
    outcomes = {r.person_id: (r.outcome, r.error_code) for r in results}
    assert outcomes["p2"] == (WriteOutcome.REJECTED, "INVALID_OPTION")
    message = results[2].error_message or ""
    assert "relcrm_band: INVALID_OPTION: value was not one of the allowed options" in message
    assert "Ecstatic" not in message  # CRM messages never carry the values (issue 11, #11)
    assert outcomes["p5"] == (WriteOutcome.REJECTED, "PROPERTY_DOESNT_EXIST")
    assert outcomes["p6"] == (WriteOutcome.REJECTED, "OBJECT_NOT_FOUND")
    assert all(outcomes[f"p{i}"] == (WriteOutcome.WRITTEN, None) for i in (0, 1, 3, 4))
    assert read(hs_client, ids["e2@example.com"], "relcrm_band")["relcrm_band"] is None
    assert read(hs_client, ids["e4@example.com"], "relcrm_health")["relcrm_health"] == "54"
    assert _batch_updates(hs_sandbox) == 2  # a record id twice needs a second batch
    assert [r.person_id for r in results] == [w.person_id for w in writes]


def test_transient_inputs_are_retried_alone(
    connector: HubSpotConnector, hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector.provision("contacts", SPECS)
    ids = seed_contacts(hs_client, [f"t{i}@example.com" for i in range(4)])
    hs_sandbox.set_faults(
        FaultPlan(record_failure_keys=["t1@example.com"], unavailable_calls=[2], drop_calls=[3])
    )
    hs_sandbox.log.clear()
    writes = [write_for(f"p{i}", ids[f"t{i}@example.com"], relcrm_health=i) for i in range(4)]
    results = connector.write("contacts", writes)
    assert [r.outcome for r in results] == [WriteOutcome.WRITTEN] * 4
    counts = hs_sandbox.log.write_counts("contacts")
    assert counts[ids["t1@example.com"]] == 1 and all(
        counts[ids[f"t{i}@example.com"]] == 1 for i in (0, 2, 3)
    )
    failed = [w.id for w in hs_sandbox.log.writes(successful_only=False) if not w.success]
    assert failed == [ids["t1@example.com"]]  # only the failed input was sent again
    assert [c.fault for c in hs_sandbox.log.calls()][1:3] == ["unavailable", "dropped"]


def test_rerun_writes_nothing_new(
    connector: HubSpotConnector, hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    connector.provision("contacts", SPECS)
    emails = [f"r{i}@example.com" for i in range(150)]
    ids = seed_contacts(hs_client, emails)
    writes = [
        write_for(
            f"p{i}",
            ids[e],
            relcrm_health=i,
            relcrm_band="Stable",
            relcrm_last_nps_date="2024-05-01",
            relcrm_as_of="2024-05-01T10:40:00Z",
        )
        for i, e in enumerate(emails)
    ]
    hs_sandbox.log.clear()
    first = connector.write("contacts", writes, only_changed=True)
    assert {r.outcome for r in first} == {WriteOutcome.WRITTEN}
    assert _batch_updates(hs_sandbox) == 2 and connector.writer.unchanged == 0
    before = {
        i: read(hs_client, i, "relcrm_health", "relcrm_band", "relcrm_last_nps_date")
        for i in list(ids.values())[:5]
    }

    hs_sandbox.log.clear()
    again = connector.write("contacts", writes, only_changed=True)
    assert {r.outcome for r in again} == {WriteOutcome.WRITTEN}
    assert connector.writer.unchanged == 150
    assert _batch_updates(hs_sandbox) == 0  # two batch reads, no writes
    assert [c.path for c in hs_sandbox.log.calls()] == ["/crm/v3/objects/contacts/batch/read"] * 2
    assert hs_sandbox.log.writes() == []

    hs_sandbox.log.clear()
    plain = connector.write("contacts", writes)  # a blind re-run: same values, same portal
    assert {r.outcome for r in plain} == {WriteOutcome.WRITTEN} and _batch_updates(hs_sandbox) == 2
    after = {
        i: read(hs_client, i, "relcrm_health", "relcrm_band", "relcrm_last_nps_date")
        for i in before
    }
    assert after == before

    changed = [*writes[:149], write_for("p149", ids[emails[149]], relcrm_health=7)]
    hs_sandbox.log.clear()
    connector.write("contacts", changed, only_changed=True)
    assert [w.id for w in hs_sandbox.log.writes()] == [ids[emails[149]]]


def test_429_recovery_without_a_storm(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    ids = seed_contacts(hs_client, [f"q{i}@example.com" for i in range(400)])
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=2, window_ms=500))
    # a limiter that believes in 50/s and ignores the headers: the sandbox must 429 it
    limiter = RateLimiter(50, 1.0, adapt=False)
    sleeps: list[float] = []
    connector = connector_for(hs_sandbox, limiter=limiter, sleeps=sleeps, workers=4)
    connector.writer.schema("contacts")
    hs_sandbox.log.clear()
    writes = [write_for(f"p{i}", rid, firstname=f"Q{i}") for i, rid in enumerate(ids.values())]
    results = connector.write("contacts", writes)
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    statuses = hs_sandbox.log.statuses()
    assert statuses[429] >= 1 and statuses[200] == 4
    assert connector.client.rate_limited == statuses[429]
    assert limiter.throttles <= statuses[429]
    assert statuses[429] <= 12  # four threads, one gate: no storm of retries
    assert all(s == 0.0 for s in sleeps)  # the limiter waited; the policy added nothing


def test_limiter_learns_the_window_from_headers(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    ids = seed_contacts(hs_client, [f"h{i}@example.com" for i in range(300)])
    hs_sandbox.set_rate_limits(RateLimits(max_per_window=2, window_ms=400))
    connector = connector_for(hs_sandbox, workers=3)  # configured 100/10 s, told 2/0.4 s
    connector.describe("contacts")
    assert connector.client.limiter.max_per_window == 2
    assert connector.client.limiter.window_s == 0.4
    results = connector.write(
        "contacts", [write_for(f"p{i}", r, lastname="L") for i, r in enumerate(ids.values())]
    )
    assert {r.outcome for r in results} == {WriteOutcome.WRITTEN}
    assert hs_sandbox.log.statuses()[429] == 0


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_limiter_keeps_the_window_with_a_fake_clock() -> None:
    clock = _FakeClock()
    limiter = RateLimiter(3, 10.0, margin_s=0.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
        limiter.release()
    assert clock.now == 0.0
    limiter.acquire()  # the fourth waits for the first to leave the window
    assert clock.now >= 10.0
    limiter.release({"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "3"})
    assert limiter.in_window == 3  # another app's use is booked as phantom requests
    assert limiter.throttled(2.0) == 2.0 and limiter.throttled(1.0) == 2.0  # one gate
    assert limiter.throttles == 1
    start = clock.now
    limiter.acquire()
    assert clock.now - start >= 2.0
