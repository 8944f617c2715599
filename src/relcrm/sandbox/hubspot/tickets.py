"""Tickets in the HubSpot sandbox: the rules the portal applies to them, and demo data.

Served under ``/crm/v3/objects/tickets`` by the same generic object routes as contacts
(create, read, batch read, search with the 10,000-result cap), behind the ``tickets``
scope. What makes a ticket more than a bag of properties:

- a new ticket needs ``hs_pipeline_stage``; ``hs_pipeline`` defaults to the default
  pipeline ``"0"`` [memory: HubSpot's docs ask for both and fill in the pipeline];
- moving to the closed stage (``"4"``) stamps ``closed_date`` unless the writer gave one
  (imports do), and moving back to an open stage clears it [memory];
- tickets associate with contacts through the v4 associations (ticket->contact type 16,
  contact->ticket 15), inline at create time or afterwards.

:func:`seed_tickets` fills a portal with realistic tickets for demos and tests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from relcrm.sandbox.hubspot.schema import (
    CLOSED_TICKET_STAGES,
    TICKET_PIPELINE,
    iso,
    iso_now,
    problem,
)

if TYPE_CHECKING:
    from relcrm.sandbox.hubspot.portal import Portal

TICKET_TO_CONTACT = 16
CONTACT_TO_TICKET = 15
TICKET_TO_COMPANY = 26
COMPANY_TO_TICKET = 25
TICKET_TO_NOTE = 227
NOTE_TO_TICKET = 228
TICKET_ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("tickets", "contacts"): TICKET_TO_CONTACT,
    ("contacts", "tickets"): CONTACT_TO_TICKET,
    ("tickets", "companies"): TICKET_TO_COMPANY,
    ("companies", "tickets"): COMPANY_TO_TICKET,
    ("tickets", "notes"): TICKET_TO_NOTE,
    ("notes", "tickets"): NOTE_TO_TICKET,
}
"""HubSpot-defined association type ids between tickets and the other objects."""


def missing_on_create(clean: dict[str, str | None]) -> list[dict[str, Any]]:
    """Problems of a new ticket's properties: the stage is required."""
    if clean.get("hs_pipeline_stage"):
        return []
    return [
        problem(
            "hs_pipeline_stage",
            "REQUIRED_PROPERTY",
            "hs_pipeline_stage is required to create a ticket",
        )
    ]


def derive(properties: dict[str, str], written: dict[str, str | None]) -> None:
    """Apply the portal's own changes after ``written`` was stored into ``properties``."""
    if not properties.get("hs_pipeline"):
        properties["hs_pipeline"] = TICKET_PIPELINE
    stage = properties.get("hs_pipeline_stage")
    if stage in CLOSED_TICKET_STAGES:
        if not properties.get("closed_date"):
            properties["closed_date"] = iso_now()
    elif "hs_pipeline_stage" in written and "closed_date" not in written:
        properties.pop("closed_date", None)


# ---------------------------------------------------------------------- demo data


@dataclass(frozen=True)
class TicketStory:
    """One kind of support story, in HubSpot's vocabulary."""

    subject: str
    content: str
    priority: str
    source: str
    stage: str
    """Where the story ends: "4" closed, otherwise still open."""


STORIES: tuple[TicketStory, ...] = (
    TicketStory(
        "Outage: dashboard down since this morning",
        "Our whole team has been locked out of the dashboard since 8:00. We have a board "
        "meeting at noon and nothing loads. This is the second outage this month and "
        "frankly it is unacceptable.",
        "URGENT",
        "PHONE",
        "4",
    ),
    TicketStory(
        "Billing dispute: charged twice for March",
        "I was charged twice for the March invoice. I have written twice already and nobody "
        "answered. Please refund the duplicate charge and confirm in writing.",
        "HIGH",
        "EMAIL",
        "3",
    ),
    TicketStory(
        "Thank you for the quick fix",
        "Just wanted to say thanks: the export bug is fixed and your engineer explained "
        "everything clearly. Really impressed with how fast you turned this around.",
        "LOW",
        "EMAIL",
        "4",
    ),
    TicketStory(
        "Please cancel our subscription",
        "We would like to cancel our subscription at the end of the current term. The "
        "product no longer fits our needs and the recent price increase made it hard to "
        "justify.",
        "MEDIUM",
        "FORM",
        "2",
    ),
    TicketStory(
        "Contract lock-in: cannot leave before 2027",
        "We only stay because the contract does not let us leave before 2027. Support is "
        "slow, the features we were promised never shipped, and we feel trapped.",
        "HIGH",
        "CHAT",
        "3",
    ),
    TicketStory(
        "Sync errors after the update",
        "Since yesterday's update the calendar sync fails with error 502 every few hours. "
        "It is annoying but we have a workaround for now.",
        "MEDIUM",
        "CHAT",
        "1",
    ),
    TicketStory(
        "Outage resolved, but no status update",
        "The API was down for three hours. It works again, but nobody told us what "
        "happened. We need a post-mortem and a status page we can trust.",
        "HIGH",
        "EMAIL",
        "4",
    ),
    TicketStory(
        "Invoice address wrong again",
        "The invoice address is wrong again even though we corrected it in January. Please "
        "fix it for good; our accounts team keeps rejecting the invoices.",
        "MEDIUM",
        "FORM",
        "4",
    ),
)
"""Outages, billing disputes, praise after a fix, a cancellation, contract lock-in."""


def seed_tickets(
    portal: Portal,
    contact_ids: Sequence[str],
    *,
    count: int = 12,
    seed: int = 0,
    now: datetime | None = None,
    days: int = 90,
) -> list[str]:
    """Create ``count`` realistic tickets, each associated with one of ``contact_ids``.

    Deterministic for a given ``seed`` (stories, contacts, times). Times are spread over
    the ``days`` before ``now``; closed tickets get a ``closed_date`` after creation, and
    each ticket's last-modified time is its latest event, as if it had happened then.
    Returns the new tickets' ids in creation order. Works in-process on a running or a
    bare portal (``sandbox.portal``); no HTTP call, so no rate limit or fault applies.
    """
    if not contact_ids and count:
        raise ValueError("seed_tickets needs at least one contact id")
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    made: list[str] = []
    for n in range(count):
        story = STORIES[rng.randrange(len(STORIES))] if n >= len(STORIES) else STORIES[n]
        contact_id = str(contact_ids[rng.randrange(len(contact_ids))])
        created = end - timedelta(days=rng.uniform(1, days))
        closed = created + timedelta(hours=rng.uniform(1, 72)) if story.stage == "4" else None
        made.append(
            add_ticket(
                portal,
                contact_id,
                story,
                created=created,
                closed_at=min(closed, end) if closed is not None else None,
            )
        )
    return made


def add_ticket(
    portal: Portal,
    contact_id: str,
    story: TicketStory,
    *,
    created: datetime,
    closed_at: datetime | None = None,
) -> str:
    """Create one ticket associated with ``contact_id``, back-dated to ``created`` (and
    closed at ``closed_at`` when its stage is "4"). In-process on ``sandbox.portal``; no
    HTTP call, so no rate limit or fault applies. Returns its id."""
    properties = {
        "subject": story.subject,
        "content": story.content,
        "hs_pipeline": TICKET_PIPELINE,
        "hs_pipeline_stage": story.stage,
        "hs_ticket_priority": story.priority,
        "source_type": story.source,
        "createdate": iso(created),
    }
    if story.stage == "4":
        properties["closed_date"] = iso(closed_at or created)
    body = {
        "properties": properties,
        "associations": [
            {
                "to": {"id": contact_id},
                "types": [
                    {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": TICKET_TO_CONTACT,
                    }
                ],
            }
        ],
    }
    with portal.lock:
        record, _links = portal.create("tickets", body, lambda _write: None)
        stored = portal.records["tickets"][str(record["id"])]
        modified = properties.get("closed_date") or properties["createdate"]
        stored.created_at = properties["createdate"]
        stored.updated_at = modified
        stored.properties["hs_lastmodifieddate"] = modified
    return str(record["id"])
