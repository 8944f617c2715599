"""Reading Salesforce Cases into SupportCase through the connector, over the HTTPS sandbox
with simple-salesforce: requester linked, closed and escalated mapped, incremental by
LastModifiedDate, paging beyond one page, and a 503 retried by the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relcrm.connectors.errors import AuthenticationFailed
from relcrm.connectors.salesforce import AuthFlow
from relcrm.connectors.salesforce.cases import CaseReader, cases_query, parse_sf_datetime
from relcrm.errors import ConfigurationError
from relcrm.models import CrmRecordRef, SupportCase
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.salesforce import SalesforceSandbox
from relcrm.sandbox.salesforce.cases import seed_cases
from tests.connectors.support import Sleeps, connector, make_contacts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LONG = ("Down since 8:00, nothing loads. " * 1100)[:31999] + "!"
"""Salesforce's longest Case description (32,000 characters) passes through whole."""


def _create_cases(sf: Any, count: int, contact_id: str | None) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Case"}, "Subject": f"case {i}", "ContactId": contact_id}
            for i in range(start, min(start + 200, count))
        ]
        answer = sf.restful("composite/sobjects", method="POST", json={"records": records})
        ids.extend(r["id"] for r in answer)
    return ids


def test_reads_cases_with_requester_status_and_times(
    sf: Any, sf_sandbox: SalesforceSandbox
) -> None:
    [contact_id] = make_contacts(sf, 1, prefix="ada")
    outage = sf.Case.create(
        {
            "Subject": "Outage",
            "Description": LONG,
            "Status": "Closed",
            "Priority": "High",
            "Origin": "Phone",
            "IsEscalated": True,
            "ContactId": contact_id,
        }
    )["id"]
    anonymous = sf.Case.create({"Subject": "Web form", "Status": "Escalated", "Origin": "Web"})[
        "id"
    ]

    cases = {c.id: c for c in connector(sf_sandbox, AuthFlow.SESSION_ID).read_cases()}

    assert set(cases) == {outage, anonymous}
    first = cases[outage]
    assert isinstance(first, SupportCase)
    assert (first.system, first.object, first.subject) == ("salesforce", "Case", "Outage")
    assert first.description == LONG
    assert (first.status, first.priority, first.origin) == ("Closed", "High", "phone")
    assert first.closed and first.escalated
    assert first.requester == CrmRecordRef(system="salesforce", object="Contact", id=contact_id)
    assert first.requester_email == "ada0@example.com"
    assert first.created_at.tzinfo is not None and first.closed_at is not None
    assert first.modified_at is not None and first.modified_at >= first.created_at
    second = cases[anonymous]
    assert second.requester is None and second.requester_email is None
    assert not second.closed and second.closed_at is None
    assert second.escalated  # Status "Escalated" is the org's own marker too


def test_incremental_since_and_limit(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    contacts = make_contacts(sf, 3)
    seed_cases(sf_sandbox.org, contacts, count=12, seed=3, now=NOW)
    conn = connector(sf_sandbox, AuthFlow.SESSION_ID)
    everything = list(conn.read_cases())
    assert len(everything) == 12
    modified = [c.modified_at for c in everything]
    assert modified == sorted(modified)  # oldest change first

    since = everything[6].modified_at
    assert since is not None
    recent = [c.id for c in conn.read_cases(since)]
    # inclusive: the case last seen comes again, so a run resuming from it loses nothing
    assert recent == [c.id for c in everything[6:]]
    assert [c.id for c in conn.read_cases(NOW - timedelta(days=120))] == [c.id for c in everything]
    assert list(conn.read_cases(NOW + timedelta(seconds=1))) == []

    assert [c.id for c in conn.read_cases(limit=5)] == [c.id for c in everything[:5]]
    assert list(conn.read_cases(limit=0)) == []


def test_pages_beyond_one_batch(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    [contact_id] = make_contacts(sf, 1)
    ids = _create_cases(sf, 450, contact_id)
    conn = connector(sf_sandbox, AuthFlow.SESSION_ID)
    sf_sandbox.log.clear()
    reader = CaseReader(conn.client, batch_size=200)
    read = [c.id for c in reader.read()]
    assert sorted(read) == sorted(ids) and len(read) == 450
    paths = [c.path for c in sf_sandbox.log.calls()]
    assert len([p for p in paths if p.rstrip("/").endswith("/query")]) == 1
    assert len([p for p in paths if "/query/01g" in p]) == 2  # two query_more pages
    assert all(c.requester is not None for c in reader.read(limit=250))


def test_a_503_mid_read_is_retried(sf: Any, sf_sandbox: SalesforceSandbox) -> None:
    [contact_id] = make_contacts(sf, 1)
    _create_cases(sf, 300, contact_id)
    sleeps = Sleeps()
    conn = connector(sf_sandbox, AuthFlow.SESSION_ID, sleeps=sleeps)
    sf_sandbox.set_faults(FaultPlan(unavailable_calls=[1, 3], retry_after_s=2))
    sf_sandbox.log.clear()
    read = list(CaseReader(conn.client, batch_size=200).read())
    assert len(read) == 300 and len({c.id for c in read}) == 300
    assert sleeps.calls == [2.0, 2.0]  # Retry-After honoured, once for each 503
    assert [c.status for c in sf_sandbox.log.calls()] == [503, 200, 503, 200]


def test_expired_fixed_session_stops_with_a_clear_error(sf_sandbox: SalesforceSandbox) -> None:
    sf_sandbox.reset()
    conn = connector(sf_sandbox, AuthFlow.SESSION_ID)
    sf_sandbox.org.expire_sessions()
    with pytest.raises(AuthenticationFailed):
        list(conn.read_cases())


def test_naive_since_and_negative_limit_are_refused_before_any_call(
    sf_sandbox: SalesforceSandbox,
) -> None:
    sf_sandbox.reset()
    conn = connector(sf_sandbox, AuthFlow.SESSION_ID)
    with pytest.raises(ConfigurationError):
        conn.read_cases(datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError):
        conn.read_cases(limit=-1)
    assert len(sf_sandbox.log) == 0


def test_query_text_and_datetime_parsing() -> None:
    since = datetime(2026, 1, 1, 1, 30, 15, 999_000, tzinfo=UTC)
    soql = cases_query(since, 10)
    assert "WHERE LastModifiedDate >= 2026-01-01T01:30:15Z" in soql
    assert soql.endswith("ORDER BY LastModifiedDate, Id LIMIT 10")
    parsed = parse_sf_datetime("2026-01-31T09:30:00.000+0000")
    assert parsed == datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    assert parse_sf_datetime("2026-01-31T09:30:00Z") == parsed
    assert parse_sf_datetime(None) is None
