"""Cases in the Salesforce sandbox: the fields the org computes, and demo data.

What a real org does with a Case, and the sandbox copies:

- ``CaseNumber`` is an auto number (``00001001``...), given on insert;
- ``IsClosed`` follows ``Status`` (only "Closed" is a closed status here) and
  ``ClosedDate`` is stamped when the case closes, cleared when it reopens; both are
  read-only, as ``CreatedDate`` and ``LastModifiedDate`` are;
- ``ContactEmail``/``ContactPhone`` are read-only copies of the related contact's
  ``Email``/``Phone``, kept current when the contact changes (queries may also use the
  relationship path ``Contact.Email``).

:func:`seed_cases` fills an org with realistic cases (outages, billing disputes, praise,
a cancellation, contract lock-in) for demos and tests, back-dated as if they had
happened over the last weeks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relcrm.sandbox.salesforce.soql import format_datetime

if TYPE_CHECKING:
    from relcrm.sandbox.salesforce.org import Org

CLOSED_STATUSES = frozenset({"Closed"})
CONTACT_COPIES = {"ContactEmail": "Email", "ContactPhone": "Phone"}
"""Case field -> the Contact field it mirrors."""


def derive(org: Org, row: dict[str, Any], *, creating: bool, stamp: str) -> None:
    """Compute a Case's read-only fields before it is stored."""
    if creating:
        row["CaseNumber"] = org.next_case_number()
    closed = row.get("Status") in CLOSED_STATUSES
    if closed and not row.get("IsClosed"):
        row["ClosedDate"] = stamp
    if not closed:
        row["ClosedDate"] = None
    row["IsClosed"] = closed
    contact = org.records["Contact"].get(str(row.get("ContactId") or ""))
    for case_field, contact_field in CONTACT_COPIES.items():
        row[case_field] = contact.get(contact_field) if contact else None


def refresh_contact_copies(org: Org, contact: dict[str, Any]) -> None:
    """After a contact changed, bring its cases' ``ContactEmail``/``ContactPhone`` up to date.

    The copies are not data the case owns, so ``LastModifiedDate`` does not move.
    """
    for case in org.records["Case"].values():
        if case.get("ContactId") != contact["Id"]:
            continue
        copies = {f: contact.get(c) for f, c in CONTACT_COPIES.items()}
        if any(case.get(f) != v for f, v in copies.items()):
            org._put_row("Case", case["Id"], {**case, **copies})


# ---------------------------------------------------------------------- demo data


@dataclass(frozen=True)
class CaseStory:
    """One kind of support story, in Salesforce's vocabulary."""

    subject: str
    description: str
    priority: str
    origin: str
    status: str
    escalated: bool = False


STORIES: tuple[CaseStory, ...] = (
    CaseStory(
        "Outage: dashboard down since this morning",
        "Our whole team has been locked out of the dashboard since 8:00. We have a board "
        "meeting at noon and nothing loads. This is the second outage this month and "
        "frankly it is unacceptable.",
        "High",
        "Phone",
        "Closed",
        escalated=True,
    ),
    CaseStory(
        "Billing dispute: charged twice for March",
        "I was charged twice for the March invoice. I have written twice already and nobody "
        "answered. Please refund the duplicate charge and confirm in writing.",
        "High",
        "Email",
        "Escalated",
        escalated=True,
    ),
    CaseStory(
        "Thank you for the quick fix",
        "Just wanted to say thanks: the export bug is fixed and your engineer explained "
        "everything clearly. Really impressed with how fast you turned this around.",
        "Low",
        "Email",
        "Closed",
    ),
    CaseStory(
        "Please cancel our subscription",
        "We would like to cancel our subscription at the end of the current term. The "
        "product no longer fits our needs and the recent price increase made it hard to "
        "justify.",
        "Medium",
        "Web",
        "Working",
    ),
    CaseStory(
        "Contract lock-in: cannot leave before 2027",
        "We only stay because the contract does not let us leave before 2027. Support is "
        "slow, the features we were promised never shipped, and we feel trapped.",
        "High",
        "Web",
        "Working",
    ),
    CaseStory(
        "Sync errors after the update",
        "Since yesterday's update the calendar sync fails with error 502 every few hours. "
        "It is annoying but we have a workaround for now.",
        "Medium",
        "Web",
        "New",
    ),
    CaseStory(
        "Outage resolved, but no status update",
        "The API was down for three hours. It works again, but nobody told us what "
        "happened. We need a post-mortem and a status page we can trust.",
        "High",
        "Email",
        "Closed",
    ),
    CaseStory(
        "Invoice address wrong again",
        "The invoice address is wrong again even though we corrected it in January. Please "
        "fix it for good; our accounts team keeps rejecting the invoices.",
        "Medium",
        "Web",
        "Closed",
    ),
)
"""Outages, billing disputes, praise after a fix, a cancellation, contract lock-in."""


def add_case(
    org: Org,
    contact_id: str,
    story: CaseStory,
    *,
    created: dt.datetime,
    closed_at: dt.datetime | None = None,
) -> str:
    """Create one case raised by ``contact_id``, as the integration user would (validated,
    ``CaseNumber`` assigned), back-dated to ``created`` (and ``closed_at`` when the
    story's status is a closed one). In-process on ``sandbox.org``; returns its id."""
    closed = story.status in CLOSED_STATUSES
    closing = closed_at or created
    view = org.view()
    with org.lock:
        case_id = str(
            view.create(
                "Case",
                {
                    "Subject": story.subject,
                    "Description": story.description,
                    "Status": story.status,
                    "Priority": story.priority,
                    "Origin": story.origin,
                    "IsEscalated": story.escalated,
                    "ContactId": contact_id,
                },
            )
        )
        row = org.records["Case"][case_id]
        modified = closing if closed else created
        row.update(
            {
                "CreatedDate": format_datetime(created),
                "ClosedDate": format_datetime(closing) if closed else None,
                "LastModifiedDate": format_datetime(modified),
                "SystemModstamp": format_datetime(modified),
            }
        )
    return case_id


def seed_cases(
    org: Org,
    contact_ids: Sequence[str],
    *,
    count: int = 12,
    seed: int = 0,
    now: dt.datetime | None = None,
    days: int = 90,
) -> list[str]:
    """Create ``count`` realistic cases, each raised by one of ``contact_ids``.

    The first cases walk through :data:`STORIES` in order, later ones pick at random;
    contacts and times come from ``seed``, so the same call gives the same cases. Each
    case is created as the integration user would (validated, ``CaseNumber`` assigned),
    then back-dated: created within the ``days`` before ``now``, closed cases closed a
    few hours to three days later, ``LastModifiedDate`` at the latest of those. Works
    in-process on ``sandbox.org``; returns the new cases' ids in creation order.
    """
    if not contact_ids and count:
        raise ValueError("seed_cases needs at least one contact id")
    rng = random.Random(seed)
    end = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    made: list[str] = []
    for n in range(count):
        story = STORIES[n] if n < len(STORIES) else STORIES[rng.randrange(len(STORIES))]
        contact_id = str(contact_ids[rng.randrange(len(contact_ids))])
        created = end - dt.timedelta(days=rng.uniform(1, days))
        closed_at = min(created + dt.timedelta(hours=rng.uniform(1, 72)), end)
        made.append(add_case(org, contact_id, story, created=created, closed_at=closed_at))
    return made
