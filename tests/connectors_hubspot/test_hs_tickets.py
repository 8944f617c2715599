"""Reading HubSpot tickets into SupportCase through the connector, over the HTTPS sandbox
with hubspot-api-client: requester linked through the v4 associations, closed mapped,
incremental by hs_lastmodifieddate, keyset paging past one page and past the search cap,
the tickets scope, and a 503 retried by the policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot.crm.tickets import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInputForCreate,
)

from relcrm.connectors.errors import PermissionDenied
from relcrm.connectors.hubspot import HubSpotConnector
from relcrm.connectors.hubspot.tickets import TicketReader, parse_hs_datetime
from relcrm.errors import ConfigurationError
from relcrm.models import CrmRecordRef, SupportCase
from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.hubspot.tickets import TICKET_TO_CONTACT, seed_tickets
from tests.connectors_hubspot.conftest import connector_for
from tests.connectors_hubspot.helpers import seed_contacts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEARCH = "/crm/v3/objects/tickets/search"


def _to(contact_id: str) -> list[dict[str, Any]]:
    return [
        {
            "to": {"id": contact_id},
            "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TICKET_TO_CONTACT}
            ],
        }
    ]


def _create_tickets(client: Any, count: int, contact_id: str | None = None) -> list[str]:
    """Tickets through the official batch create (100 a call), in creation order."""
    ids: list[str] = []
    for start in range(0, count, 100):
        answer = client.crm.tickets.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties={"subject": f"ticket {i}", "hs_pipeline_stage": "1"},
                        associations=_to(contact_id) if contact_id else [],
                    )
                    for i in range(start, min(start + 100, count))
                ]
            )
        )
        ids.extend(sorted((str(r.id) for r in answer.results), key=int))
    return ids


def _searches(sandbox: HubSpotSandbox) -> int:
    return len([c for c in sandbox.log.calls() if c.path == SEARCH])


@pytest.fixture
def small_cap(hs_sandbox: HubSpotSandbox) -> Iterator[None]:
    hs_sandbox.portal.config.search_result_cap = 20
    yield
    hs_sandbox.portal.config.search_result_cap = 10_000


def test_reads_tickets_with_requester_and_stage(
    hs_client: Any, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, ["ada@example.com", "bob@example.com"])
    long_text = ("The export fails again. " * 2000).strip()
    closed = hs_client.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "subject": "Outage",
                "content": long_text,
                "hs_pipeline_stage": "4",
                "hs_ticket_priority": "URGENT",
                "source_type": "FORM",
            },
            associations=_to(contacts["bob@example.com"]) + _to(contacts["ada@example.com"]),
        )
    ).id
    orphan = hs_client.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"subject": "Who?", "hs_pipeline_stage": "2", "source_type": "CHAT"}
        )
    ).id

    cases = {c.id: c for c in connector.read_cases()}

    assert set(cases) == {closed, orphan}
    first = cases[closed]
    assert isinstance(first, SupportCase)
    assert (first.system, first.object, first.subject) == ("hubspot", "tickets", "Outage")
    assert first.description == long_text[:40_000]
    assert (first.status, first.priority, first.origin) == ("Closed", "URGENT", "web")
    assert first.closed and first.closed_at is not None and not first.escalated
    lowest = min(contacts.values(), key=int)  # the oldest associated contact stands for it
    assert first.requester == CrmRecordRef(system="hubspot", object="contacts", id=lowest)
    assert first.requester_email == {v: k for k, v in contacts.items()}[lowest]
    assert first.created_at.tzinfo is not None and first.modified_at is not None
    second = cases[orphan]
    assert second.requester is None and second.requester_email is None
    assert (second.status, second.closed, second.closed_at, second.origin) == (
        "Waiting on contact",
        False,
        None,
        "chat",
    )


def test_archived_contact_leaves_no_requester(hs_client: Any, connector: HubSpotConnector) -> None:
    contacts = seed_contacts(hs_client, ["gone@example.com"])
    ticket = _create_tickets(hs_client, 1, contacts["gone@example.com"])[0]
    hs_client.crm.contacts.basic_api.archive(contacts["gone@example.com"])
    [case] = list(connector.read_cases())
    assert case.id == ticket and case.requester is None


def test_incremental_since_and_limit(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    contacts = seed_contacts(hs_client, [f"p{i}@example.com" for i in range(3)])
    seed_tickets(hs_sandbox.portal, list(contacts.values()), count=12, seed=4, now=NOW)
    everything = list(connector.read_cases())
    assert len(everything) == 12
    modified = [c.modified_at for c in everything]
    assert modified == sorted(modified)  # type: ignore[type-var]
    assert all(c.requester is not None and c.requester_email for c in everything)

    since = everything[6].modified_at
    assert since is not None
    assert [c.id for c in connector.read_cases(since)] == [c.id for c in everything[6:]]
    assert list(connector.read_cases(NOW + timedelta(seconds=1))) == []
    assert [c.id for c in connector.read_cases(limit=5)] == [c.id for c in everything[:5]]
    assert list(connector.read_cases(limit=0)) == []


def test_pages_beyond_one_page_and_past_the_search_cap(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector, small_cap: None
) -> None:
    contacts = seed_contacts(hs_client, ["many@example.com"])
    contact_id = contacts["many@example.com"]
    made = seed_tickets(hs_sandbox.portal, [contact_id], count=45, seed=9, now=NOW)
    hs_sandbox.log.clear()
    reader = TicketReader(connector.client, page_size=10, result_cap=20)
    read = [c.id for c in reader.read()]
    assert sorted(read, key=int) == made  # all 45, each once, though search stops at 20
    assert _searches(hs_sandbox) >= 5
    assert all(c.requester_email == "many@example.com" for c in reader.read(limit=3))


def test_many_tickets_changed_in_the_same_millisecond(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector
) -> None:
    made = _create_tickets(hs_client, 12)
    with hs_sandbox.portal.lock:
        for ticket_id in made:
            record = hs_sandbox.portal.records["tickets"][ticket_id]
            record.properties["hs_lastmodifieddate"] = "2026-05-01T00:00:00.000Z"
    reader = TicketReader(connector.client, page_size=5)
    read = [c.id for c in reader.read()]
    assert read == made  # paged inside the one timestamp, none lost, none twice


def test_missing_tickets_scope_stops_with_permission_denied(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    token = hs_sandbox.add_token(
        "pat-na1-no-tickets", ["crm.objects.contacts.read", "crm.objects.contacts.write"]
    )
    connector = connector_for(hs_sandbox, token=token)
    with pytest.raises(PermissionDenied) as info:
        list(connector.read_cases())
    assert info.value.vendor_code == "MISSING_SCOPES"
    assert "tickets" in str(info.value)


def test_a_503_is_retried(
    hs_client: Any, hs_sandbox: HubSpotSandbox, connector: HubSpotConnector, sleeps: list[float]
) -> None:
    contacts = seed_contacts(hs_client, ["ada@example.com"])
    made = _create_tickets(hs_client, 3, contacts["ada@example.com"])
    hs_sandbox.set_faults(FaultPlan(unavailable_calls=[1, 2], retry_after_s=3))
    hs_sandbox.log.clear()
    read = list(connector.read_cases())
    assert [c.id for c in read] == made
    assert all(c.requester_email == "ada@example.com" for c in read)
    assert sleeps == [3.0, 3.0]
    assert [c.status for c in hs_sandbox.log.calls()][:3] == [503, 503, 200]


def test_naive_since_and_negative_limit_are_refused(connector: HubSpotConnector) -> None:
    with pytest.raises(ConfigurationError):
        connector.read_cases(datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError):
        connector.read_cases(limit=-2)
    assert connector.client.requests == 0


def test_datetime_parsing() -> None:
    expected = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    assert parse_hs_datetime("2026-01-31T09:30:00.000Z") == expected
    assert parse_hs_datetime(str(int(expected.timestamp() * 1000))) == expected
    assert parse_hs_datetime("") is None
