"""The CRM-neutral write vocabulary shared by mapping, sync and connectors.

It lives in ``models`` so that the mapping and the sync engine never import a
connector: they speak of fields, records and results, and each connector
translates to its CRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from relcrm.models._base import FrozenModel
from relcrm.models.person import PersonId


class FieldType(StrEnum):
    """Field types relcrm writes; each connector maps them to its own."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    PERCENT = "percent"
    CHECKBOX = "checkbox"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"


FieldValue = str | float | int | bool | None


class FieldSpec(FrozenModel):
    """One field on a CRM object, as described by the CRM or wanted by a mapping."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    label: str
    type: FieldType
    length: int | None = Field(default=None, ge=1)
    precision: int | None = Field(default=None, ge=1)
    scale: int | None = Field(default=None, ge=0)
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False
    updateable: bool = True
    custom: bool = True
    external_id: bool = False


class RecordRef(FrozenModel):
    """A record in a CRM: which system, which object, which id."""

    system: str
    object: str
    id: str


class FieldWrite(FrozenModel):
    """The values to write for one person into one record (or into the record the key finds)."""

    person_id: PersonId
    record: RecordRef | None = None
    values: dict[str, FieldValue]


class WriteOutcome(StrEnum):
    WRITTEN = "written"
    REJECTED = "rejected"
    RETRYABLE = "retryable"


class WriteResult(FrozenModel):
    """What happened to one FieldWrite; a rejection carries the CRM's own code and message."""

    person_id: PersonId
    outcome: WriteOutcome
    record_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class ConnectorCapabilities(FrozenModel):
    """What a connector can do, declared as data so the sync engine can plan around it."""

    name: str
    max_batch_size: int = Field(ge=1)
    bulk_threshold: int | None = Field(default=None, ge=1)
    field_types: frozenset[FieldType]
    max_field_name_length: int = Field(ge=1)
    max_text_length: int = Field(ge=1)
    max_long_text_length: int = Field(ge=1)
    supports_upsert: bool = True
    reads_back: bool = True
    """The connector can read mapped values back (``read_values``): a run resumed after a
    kill, or after a run the CRM stopped, reads the batch that was in flight before
    sending it again, so a write that reached the CRM is not sent twice. A connector that
    cannot says False, and such writes are sent again (same values, same end state)."""


@dataclass
class MatchReport:
    """Who was found where: one record, several (ambiguous: reported, never guessed), or
    none. Every connector's matching returns it, so the sync engine reads one shape."""

    matched: dict[str, RecordRef] = field(default_factory=dict)
    ambiguous: dict[str, tuple[RecordRef, ...]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
