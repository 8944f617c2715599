"""A support case (Salesforce Case, HubSpot ticket) as the CRM-neutral sources see it.

Connectors read cases from their CRM into this shape; ``relcrm.sources`` turns each one
into what the requester felt about the incident. Neither side imports the other.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from relcrm.models._base import AwareDatetime, FrozenModel
from relcrm.models.person import CrmRecordRef


class SupportCase(FrozenModel):
    """One case or ticket with what matters for how its requester felt.

    ``requester`` is the CRM record of the person who raised it (Salesforce ContactId,
    the HubSpot contact associated with the ticket); ``requester_email`` is the address
    the CRM holds for them, when it says. ``escalated``/``reopened`` are the CRM's own
    markers where it has them (Salesforce IsEscalated; HubSpot has no standard one).
    """

    system: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    object: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    subject: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=40_000)
    status: str | None = Field(default=None, max_length=120)
    priority: str | None = Field(default=None, max_length=120)
    closed: bool = False
    escalated: bool = False
    created_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    modified_at: AwareDatetime | None = None
    requester: CrmRecordRef | None = None
    requester_email: str | None = Field(default=None, max_length=320)
    origin: str | None = Field(default=None, max_length=120, description="email, phone, web...")
