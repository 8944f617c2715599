"""What a source (survey export, social posts, support cases) hands to the ingest.

A source knows *who* said something only by an identity it saw (an email address, a CRM
record, a handle), not by relcrm's person id: whether that identity already belongs to a
stored person is for the ingest to find out. So each perception travels with the
identities that name its person, and with the id a new person would get from them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, TypeAlias

from relcrm.errors import InvalidRecordError
from relcrm.models import Consent, Perception

IdentityKind = Literal["email", "crm", "handle", "person"]
"""``email``, ``crm`` (``"system/object/id"``), ``handle`` (``"platform:handle"``), or
``person``: a relcrm person id the source already knows."""


@dataclass(frozen=True, slots=True)
class Identity:
    """One way a source names a person."""

    kind: IdentityKind
    value: str

    @property
    def normalized(self) -> str:
        """The value as the store keys it: emails and handles lower-cased, ids as given."""
        text = self.value.strip()
        return text.lower() if self.kind in ("email", "handle") else text

    def new_person_id(self) -> str:
        """The id of the person this identity creates when nobody has it yet.

        Derived from the identity (``"p-"`` and a short hash), so ingesting the same
        record twice finds or creates the same person. A ``person`` identity is the id.
        """
        if self.kind == "person":
            return self.value.strip()
        digest = hashlib.blake2b(
            f"{self.kind}\x1f{self.normalized}".encode(), digest_size=8
        ).hexdigest()
        return f"p-{digest}"

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


@dataclass(frozen=True, slots=True)
class SourcedPerception:
    """A perception from a source, with who said it as the source knows them.

    - ``record`` names where it came from in the source (``"row 12"``, ``"line 3"``,
      ``"case salesforce/Case/500..."``), for error messages;
    - ``perception.person_id`` is ``identities[0].new_person_id()``: the ingest swaps in
      the stored person's id when one of ``identities`` already belongs to someone;
    - ``create_person``: whether an identity nobody has makes a new person (survey
      respondents) or a rejection (the requester of a case must be a known person);
    - ``attach_identities``: whether a stored person found by one identity also gets the
      others (a handle map saying whose handle it is);
    - ``consent``: what the source says about consent (the newest statement wins).
    """

    record: str
    perception: Perception
    identities: tuple[Identity, ...]
    create_person: bool = True
    attach_identities: bool = False
    consent: Consent | None = None


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record with nothing to ingest (an entirely empty answer row): counted, not an error."""

    record: str
    reason: str


SourceItem: TypeAlias = SourcedPerception | SkippedRecord | InvalidRecordError
"""What a source reader yields, in source order: a perception, a skip, or a rejection."""
