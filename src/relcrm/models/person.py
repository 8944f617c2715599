"""The Person: one human, whatever records the CRMs keep of them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from relcrm.models._base import AwareDatetime, FrozenModel

PERSON_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
PersonId = Annotated[str, StringConstraints(pattern=PERSON_ID_PATTERN)]
"""relcrm's own id for a person: stable, chosen by the source (1-128 safe characters)."""

# Deliberately permissive on the local part (quotes and apostrophes are legal in real
# addresses, "o'brien@example.com"); strict about what would break a header or a query.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^\s@<>()\[\],;:\\\"]+@{_LABEL}(?:\.{_LABEL})+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError(f"not a phone number: {value!r}")
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" if value.startswith("+") else "") + digits


Email = Annotated[str, AfterValidator(_email)]
"""An email address; the domain is lower-cased so matching does not depend on case."""
Phone = Annotated[str, AfterValidator(_phone)]
"""A phone number, kept as digits with an optional leading +."""


class SocialHandle(FrozenModel):
    """A handle on a social platform, e.g. ``{"platform": "x", "handle": "@jane"}``."""

    platform: Annotated[str, StringConstraints(min_length=1, max_length=40, to_lower=True)]
    handle: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CrmRecordRef(FrozenModel):
    """A record of this person in a CRM: the lead, the contact, the case requester."""

    system: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    object: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Consent(FrozenModel):
    """Whether this person's feelings may be processed and written to a CRM.

    Defaults to *no*: feelings are personal data, and a source must say so explicitly.
    """

    granted: bool = False
    updated_at: AwareDatetime | None = None
    source: str | None = Field(default=None, max_length=200)


class BehaviourFacts(FrozenModel):
    """What the person does, from the CRM or billing: the behavioural side of loyalty.

    Dates rather than "days since" so that the facts stay true as time passes.
    """

    customer_since: AwareDatetime | None = None
    last_purchase_at: AwareDatetime | None = None
    purchases_last_365d: int | None = Field(default=None, ge=0)
    renewals: int | None = Field(default=None, ge=0)
    renewed_last_term: bool | None = None
    expected_purchases_per_year: float | None = Field(default=None, gt=0)
    behavioural_loyalty: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="An externally computed loyalty B in 0..1; wins over the other facts.",
    )

    def tenure_days(self, now: datetime) -> float | None:
        if self.customer_since is None:
            return None
        return max(0.0, (now - self.customer_since).total_seconds() / 86400.0)

    def days_since_last_purchase(self, now: datetime) -> float | None:
        if self.last_purchase_at is None:
            return None
        return max(0.0, (now - self.last_purchase_at).total_seconds() / 86400.0)


class Person(FrozenModel):
    """One human across their lead, contact, case and donor records."""

    id: PersonId
    display_name: str | None = Field(default=None, max_length=200)
    emails: tuple[Email, ...] = ()
    phones: tuple[Phone, ...] = ()
    handles: tuple[SocialHandle, ...] = ()
    crm_records: tuple[CrmRecordRef, ...] = ()
    consent: Consent = Consent()
    facts: BehaviourFacts = BehaviourFacts()
