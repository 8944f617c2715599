"""Tickets in the HubSpot sandbox, through hubspot-api-client: create (with inline
associations), read, batch read (207), search (filters, sorts, paging, the 10,000 cap),
the stage rules, the ``tickets`` scope, faults, and the deterministic demo seeding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.contacts import SimplePublicObjectInputForCreate as ContactInput
from hubspot.crm.contacts.exceptions import ForbiddenException as ContactsForbidden
from hubspot.crm.tickets import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.tickets.exceptions import ApiException, ForbiddenException, ServiceException

from relcrm.sandbox._faults import FaultPlan
from relcrm.sandbox.hubspot.pytest_support import hs_client_for
from relcrm.sandbox.hubspot.server import HubSpotSandbox
from relcrm.sandbox.hubspot.tickets import STORIES, TICKET_TO_CONTACT, seed_tickets

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _contact(client: Any, email: str = "ada@example.com") -> str:
    return str(client.crm.contacts.basic_api.create(ContactInput(properties={"email": email})).id)


def _to_contact(contact_id: str) -> list[dict[str, Any]]:
    return [
        {
            "to": {"id": contact_id},
            "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TICKET_TO_CONTACT}
            ],
        }
    ]


def _search(client: Any, **kwargs: Any) -> Any:
    return client.crm.tickets.search_api.do_search(PublicObjectSearchRequest(**kwargs))


@pytest.fixture
def small_cap(hs_sandbox: HubSpotSandbox) -> Iterator[None]:
    """A portal whose search stops at 10 results (the real one stops at 10,000)."""
    hs_sandbox.portal.config.search_result_cap = 10
    yield
    hs_sandbox.portal.config.search_result_cap = 10_000


def test_create_with_inline_association_and_defaults(hs_client: Any) -> None:
    contact_id = _contact(hs_client)
    ticket = hs_client.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"subject": "Outage", "content": "Down", "hs_pipeline_stage": "1"},
            associations=_to_contact(contact_id),
        )
    )
    props = ticket.properties
    assert (props["subject"], props["hs_pipeline"], props["hs_pipeline_stage"]) == (
        "Outage",
        "0",
        "1",
    )
    assert props["createdate"] and props["hs_lastmodifieddate"]
    got = hs_client.crm.tickets.basic_api.get_by_id(
        ticket.id, properties=["closed_date", "subject"], associations=["contacts"]
    )
    assert got.properties == {"closed_date": None, "subject": "Outage"}
    assert [a.id for a in got.associations["contacts"].results] == [contact_id]
    links = hs_client.crm.associations.v4.batch_api.get_page(
        "tickets",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=ticket.id)]
        ),
    )
    [result] = links.results
    assert [str(t.to_object_id) for t in result.to] == [contact_id]
    assert result.to[0].association_types[0].type_id == TICKET_TO_CONTACT
    back = hs_client.crm.associations.v4.basic_api.get_page("contacts", contact_id, "tickets")
    assert [str(r.to_object_id) for r in back.results] == [ticket.id]


def test_closing_stamps_closed_date_and_reopening_clears_it(hs_client: Any) -> None:
    ticket = hs_client.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"subject": "x", "hs_pipeline_stage": "2"})
    )
    closed = hs_client.crm.tickets.basic_api.update(
        ticket.id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "4"})
    )
    read = hs_client.crm.tickets.basic_api.get_by_id(closed.id, properties=["closed_date"])
    assert read.properties["closed_date"]
    hs_client.crm.tickets.basic_api.update(
        ticket.id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "3"})
    )
    reopened = hs_client.crm.tickets.basic_api.get_by_id(ticket.id, properties=["closed_date"])
    assert reopened.properties["closed_date"] is None
    imported = hs_client.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "subject": "old",
                "hs_pipeline_stage": "4",
                "createdate": "2025-01-01T09:00:00Z",
                "closed_date": "2025-01-02T10:00:00Z",
            }
        )
    )
    assert imported.properties["createdate"] == "2025-01-01T09:00:00.000Z"
    kept = hs_client.crm.tickets.basic_api.get_by_id(imported.id, properties=["closed_date"])
    assert kept.properties["closed_date"] == "2025-01-02T10:00:00.000Z"


def test_validation_stage_required_and_options_checked(hs_client: Any) -> None:
    with pytest.raises(ApiException) as info:
        hs_client.crm.tickets.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"subject": "no stage"})
        )
    assert info.value.status == 400 and "REQUIRED_PROPERTY" in str(info.value.body)
    with pytest.raises(ApiException) as info:
        hs_client.crm.tickets.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_pipeline_stage": "1", "hs_ticket_priority": "Critical"}
            )
        )
    assert info.value.status == 400 and "INVALID_OPTION" in str(info.value.body)
    names = {p.name for p in hs_client.crm.properties.core_api.get_all("tickets").results}
    assert {
        "subject",
        "content",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_priority",
        "createdate",
        "hs_lastmodifieddate",
        "closed_date",
        "source_type",
    } <= names


def test_batch_create_and_batch_read_with_a_missing_id(hs_client: Any) -> None:
    created = hs_client.crm.tickets.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(
                    properties={"subject": f"t{i}", "hs_pipeline_stage": "1"}, associations=[]
                )
                for i in range(3)
            ]
        )
    )
    ids = sorted(r.id for r in created.results)
    answer = hs_client.crm.tickets.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in [*ids, "999999"]],
            properties=["subject"],
            properties_with_history=[],
        )
    )
    assert sorted(r.id for r in answer.results) == ids
    assert answer.num_errors == 1
    assert answer.errors[0].category == "OBJECT_NOT_FOUND"
    assert answer.errors[0].context == {"ids": ["999999"]}


def test_search_filters_sorts_and_pages_up_to_the_cap(
    hs_client: Any, hs_sandbox: HubSpotSandbox, small_cap: None
) -> None:
    contact_id = _contact(hs_client)
    made = seed_tickets(hs_sandbox.portal, [contact_id], count=14, seed=2, now=NOW)
    modified = {
        t: hs_sandbox.portal.records["tickets"][t].properties["hs_lastmodifieddate"] for t in made
    }
    order = sorted(made, key=lambda t: modified[t])
    pivot = modified[order[5]]
    sorts = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    gte = [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                         "value": pivot}]}]  # fmt: skip
    first = _search(hs_client, filter_groups=gte, sorts=sorts, properties=["subject"], limit=4)
    assert first.total == 9
    assert [r.id for r in first.results] == order[5:9]
    assert first.paging.next.after == "4"
    second = _search(
        hs_client, filter_groups=gte, sorts=sorts, properties=["subject"], limit=4, after="4"
    )
    assert [r.id for r in second.results] == order[9:13]
    gt = [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GT",
                        "value": pivot}]}]  # fmt: skip
    assert _search(hs_client, filter_groups=gt, sorts=sorts, limit=10).total == 8
    with pytest.raises(ApiException) as info:  # the cap: after + limit beyond 10 results
        _search(hs_client, sorts=sorts, limit=4, after="8")
    assert info.value.status == 400 and "limited to 10" in str(info.value.body)


def test_tickets_need_the_tickets_scope(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    token = hs_sandbox.add_token("pat-na1-contacts-only", ["crm.objects.contacts.read"])
    contacts_only = hs_client_for(hs_sandbox, token=token)
    with pytest.raises(ForbiddenException) as info:
        _search(contacts_only, limit=1)
    assert "MISSING_SCOPES" in str(info.value.body) and '"tickets"' in str(info.value.body)
    tickets_only = hs_client_for(
        hs_sandbox, token=hs_sandbox.add_token("pat-na1-tickets-only", ["tickets"])
    )
    assert _search(tickets_only, limit=1).total == 0
    with pytest.raises(ContactsForbidden):
        tickets_only.crm.contacts.basic_api.get_page()


def test_faults_apply_to_ticket_endpoints(hs_client: Any, hs_sandbox: HubSpotSandbox) -> None:
    hs_sandbox.set_faults(FaultPlan(unavailable_calls=[1]))
    with pytest.raises(ServiceException) as info:
        _search(hs_client, limit=1)
    assert info.value.status == 503
    assert _search(hs_client, limit=1).total == 0


def test_seed_tickets_is_deterministic_and_back_dated(
    hs_client: Any, hs_sandbox: HubSpotSandbox
) -> None:
    contacts = [_contact(hs_client, f"c{i}@example.com") for i in range(3)]
    made = seed_tickets(hs_sandbox.portal, contacts, count=10, seed=5, now=NOW)

    def snapshot() -> list[tuple[Any, ...]]:
        portal = hs_sandbox.portal
        rows = []
        for ticket_id in made:
            props = portal.records["tickets"][ticket_id].properties
            [contact] = [
                t_id
                for (f, f_id, t, t_id, _n) in portal.associations
                if (f, f_id, t) == ("tickets", ticket_id, "contacts")
            ]
            rows.append(
                (
                    props["subject"],
                    props["hs_pipeline_stage"],
                    props["createdate"],
                    props.get("closed_date"),
                    props["hs_lastmodifieddate"],
                    contacts.index(contact),
                )
            )
        return rows

    first = snapshot()
    assert [row[0] for row in first[: len(STORIES)]] == [s.subject for s in STORIES]
    for _subject, stage, created, closed, modified, _contact_index in first:
        assert created < "2026-06-01T12:00:00.000Z"
        assert (closed is not None) == (stage == "4")
        assert modified == (closed or created)
    hs_sandbox.reset()
    contacts = [_contact(hs_client, f"c{i}@example.com") for i in range(3)]
    made = seed_tickets(hs_sandbox.portal, contacts, count=10, seed=5, now=NOW)
    assert snapshot() == first
