"""The CRM-neutral write vocabulary shared by mapping, sync and connectors.

It lives in ``models`` so that the mapping and the sync engine never import a
connector: they speak of fields, records and results, and each connector
translates to its CRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

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
    MULTI_PICKLIST = "multi_picklist"
    """Several options at once, sent as one text with ``;`` between them (Salesforce's
    multi-select picklist, HubSpot's checkbox enumeration); a connector that has none
    leaves it out of ``ConnectorCapabilities.field_types``."""


FieldValue = str | float | int | bool | None
"""A value relcrm sends: text (dates and datetimes as ISO 8601), numbers, booleans."""

ReadValue = str | float | int | bool | date | datetime | None
"""A value a connector reads back, normalised: numbers as numbers, booleans as booleans,
datetimes aware (UTC), dates as dates, text as text; never a vendor's shape (epoch
milliseconds, ``+0000`` offsets, ``"true"``)."""


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


class RecordKey(FrozenModel):
    """A record named by the value of an external id field (``relcrm_Person_Id__c`` =
    ``p-42``) instead of by its id: the CRM finds the record holding it, or creates one."""

    field: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: Annotated[str, StringConstraints(min_length=1)]


class FieldWrite(FrozenModel):
    """The values to write for one person into one record (or into the record the key finds).

    With ``record`` None and a ``key``, a connector that declares ``upsert_by_external_id``
    upserts: it updates the record whose external id field holds ``key.value`` or creates
    one (with ``create_values`` too: fields the CRM requires on a new record, sent only
    when the record is created). Without either, the write is reported not matched.
    """

    person_id: PersonId
    record: RecordRef | None = None
    values: dict[str, FieldValue]
    key: RecordKey | None = None
    create_values: dict[str, FieldValue] = Field(default_factory=dict)


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
    created: bool | None = None
    """For an upsert by key: True when the write created the record, False when it updated
    one; None for an update by id or when not known (a write found by a read-back)."""


class RatePolicy(FrozenModel):
    """A CRM's request limit as the connector paces itself by it: at most ``requests``
    per ``window_s`` seconds (per ``scope``: the integration user, the app or the org)."""

    requests: int = Field(ge=1)
    window_s: float = Field(gt=0)
    scope: Literal["user", "app", "org"] = "org"

    @property
    def per_second(self) -> float:
        return self.requests / self.window_s


MatchKey = Literal["email", "external_id"]


class ConnectorCapabilities(FrozenModel):
    """What a connector can do, declared as data so the sync engine, ``relcrm fields``,
    the case reader and the contract suite plan around it: nothing is probed at run time.

    A feature declared here comes with its method: ``support_cases`` with
    :class:`relcrm.connectors.CaseSource`, ``history_notes`` with
    :class:`relcrm.connectors.NoteSink`, ``follow_up_tasks`` with
    :class:`relcrm.connectors.TaskSink` (the contract suite checks that they agree).
    """

    name: str
    max_batch_size: int = Field(ge=1)
    """Records per write call (one request each)."""
    bulk_threshold: int | None = Field(default=None, ge=1)
    """From this many records of one object, the connector switches to the CRM's bulk API."""
    field_types: frozenset[FieldType]
    max_field_name_length: int = Field(ge=1)
    max_text_length: int = Field(ge=1)
    max_long_text_length: int = Field(ge=1)
    supports_upsert: bool = True
    """Writes may name a record by a key instead of its id (``FieldWrite.record`` None,
    ``FieldWrite.key`` set)."""
    reads_back: bool = True
    """The connector can read mapped values back (``read_values``): a run resumed after a
    kill, or after a run the CRM stopped, reads the batch that was in flight before
    sending it again, so a write that reached the CRM is not sent twice. A connector that
    cannot says False, and such writes are sent again (same values, same end state)."""
    objects: tuple[str, ...] = ()
    """The objects a mapping may write (``Contact``, ``Lead``...); empty: any the CRM has."""
    match_by: frozenset[MatchKey] = frozenset({"email"})
    """What ``find_records`` can match a person by (a mapping's ``[match] by``)."""
    fallback_matching: bool = False
    """``find_records`` looks in a mapping's ``match.fallback`` objects too."""
    upsert_by_external_id: bool = False
    """A write keyed by an external id field (``FieldWrite.key``, no record) updates the
    record holding the key or creates one, and its result says which (``created``) with the
    record's id. For a mapping with ``match.create_missing`` the sync engine sends such
    writes instead of matching first; a mapping asking for it on a connector without it is
    refused."""
    all_or_nothing_batches: bool = False
    """The CRM refuses a whole batch for one bad record; the connector isolates the bad
    record so the others are written (the contract suite checks it)."""
    support_cases: bool = False
    """The connector reads support cases (``read_cases``: :class:`CaseSource`)."""
    history_notes: bool = False
    """The connector writes perceptions as notes on the record's timeline (:class:`NoteSink`)."""
    follow_up_tasks: bool = False
    """The connector creates, closes and reads follow-up tasks for the owner of a person's
    record (:class:`TaskSink`): a mapping's ``[outreach] create_task``."""
    rate_policy: RatePolicy | None = None
    """The request limit the connector paces itself by; None when the CRM sets none."""


class ProvisionChange(FrozenModel):
    """One change provisioning makes besides creating a field, in words an admin reads:
    ``add options joy, anger to relcrm_emotion``, ``grant read/edit on Contact.X__c to the
    relcrm permission set``. ``fields`` names the mapped fields it concerns."""

    description: str
    fields: tuple[str, ...] = ()


class ProvisionPlan(FrozenModel):
    """What provisioning would do on one object, in connector-neutral terms: the fields to
    create, the other changes (options, access, groups), and the fields that exist with
    another shape, which are reported and never changed."""

    object_name: str
    create: tuple[FieldSpec, ...] = ()
    changes: tuple[ProvisionChange, ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.create or self.changes)

    @property
    def touched(self) -> frozenset[str]:
        """The fields (case-folded) whose access or options the changes concern."""
        return frozenset(name.casefold() for change in self.changes for name in change.fields)


@dataclass
class MatchReport:
    """Who was found where: one record, several (ambiguous: reported, never guessed), or
    none. Every connector's matching returns it, so the sync engine reads one shape."""

    matched: dict[str, RecordRef] = field(default_factory=dict)
    ambiguous: dict[str, tuple[RecordRef, ...]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
