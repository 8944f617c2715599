"""The Salesforce connector: relcrm's :class:`~relcrm.connectors.Connector` for Salesforce.

It wires the pieces together (login, error table and retry policy, describe,
provisioning, matching, writing) and declares its limits as data.

The transport is injectable: pass a ``requests.Session`` (tests pass one that trusts the
sandbox's CA and routes logins to it). That session should keep requests' default
adapters, which never retry, so the connector's policy is the only one that does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

import requests
from pydantic_settings import BaseSettings

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.salesforce.cases import CaseReader
from relcrm.connectors.salesforce.client import SalesforceClient
from relcrm.connectors.salesforce.describe import field_specs
from relcrm.connectors.salesforce.matching import (
    DEFAULT_FILTERS,
    DEFAULT_OBJECTS,
    Matcher,
)
from relcrm.connectors.salesforce.provisioning import MAX_NAME, Provisioner
from relcrm.connectors.salesforce.reading import read_values
from relcrm.connectors.salesforce.settings import SalesforceSettings
from relcrm.connectors.salesforce.soql import check_name
from relcrm.connectors.salesforce.tasks import TaskWriter
from relcrm.connectors.salesforce.writer import BULK_THRESHOLD, MAX_BATCH, Writer
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldWrite,
    FollowUpTask,
    MatchReport,
    ProvisionPlan,
    ReadValue,
    RecordRef,
    SupportCase,
    TasksReport,
    TaskState,
    WriteResult,
)

CAPABILITIES = ConnectorCapabilities(
    name="salesforce",
    max_batch_size=MAX_BATCH,
    bulk_threshold=BULK_THRESHOLD,
    field_types=frozenset(FieldType),
    max_field_name_length=MAX_NAME,
    max_text_length=255,
    max_long_text_length=131072,
    supports_upsert=True,  # a write with a key and no record is upserted by that key
    reads_back=True,
    objects=tuple(DEFAULT_OBJECTS),
    match_by=frozenset({"email", "external_id"}),
    fallback_matching=True,  # Contact first, then Lead (a mapping's match.fallback)
    upsert_by_external_id=True,  # PATCH composite/sobjects/{Type}/{ExternalIdField}
    all_or_nothing_batches=False,  # allOrNone=false: one result per record
    support_cases=True,  # Case, with its ContactId (read_cases)
    history_notes=False,
    follow_up_tasks=True,  # Task on the Contact/Lead, for the record's owner
    # No pacing: Salesforce sets no per-second or per-minute request rate. Its limit is
    # the org's rolling 24-hour API request allocation, which depends on the edition and
    # the licences (so no figure here would be right) and is shared with every other
    # integration of the org. Pacing a run to it (100,000 a day is about one request a
    # second) would slow every sync for nothing; a spent allocation answers
    # REQUEST_LIMIT_EXCEEDED, which the error table turns into a paused run (exit 4).
    rate_policy=None,
)
"""sObject Collections take 200 records; custom field names are at most 40 characters
(without ``__c``); Text holds 255 characters, Long Text Area up to 131,072. Persons are
matched in Contact, then Lead; support cases are Cases. A write keyed by an external id
is an upsert (``composite/sobjects/{SObject}/{ExternalIdField}``, or a Bulk API 2.0
``upsert`` job above the threshold), which creates the records it does not find."""


class SalesforceConnector:
    """Describe, provision, match and write against one Salesforce org."""

    settings_class: ClassVar[type[BaseSettings]] = SalesforceSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: SalesforceSettings) -> SalesforceConnector:
        """The connector for settings read from a targets file and the environment."""
        return cls(settings)

    def __init__(
        self,
        settings: SalesforceSettings | None = None,
        *,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        bulk_threshold: int = BULK_THRESHOLD,
        bulk_poll_s: float = 2.0,
        match_objects: Sequence[str] = DEFAULT_OBJECTS,
        match_filters: Mapping[str, str] = DEFAULT_FILTERS,
    ) -> None:
        self.settings = settings or SalesforceSettings()
        self.client = SalesforceClient(self.settings, session=session, policy=policy)
        self._capabilities = CAPABILITIES.model_copy(update={"bulk_threshold": bulk_threshold})
        self.writer = Writer(
            self.client,
            bulk_threshold=bulk_threshold,
            bulk_poll_s=bulk_poll_s,
            describe=self.describe,
        )
        self.matcher = Matcher(self.client, objects=match_objects, filters=match_filters)
        self.provisioner = Provisioner(self.client, user_id=self.settings.user_id)
        self.cases = CaseReader(self.client)
        self.tasks = TaskWriter(self.client)

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return self._capabilities

    def begin_run(self) -> None:
        """A new run starts: the retry policy's budget (total backoff per run) is full
        again. A connector built for each run (``relcrm sync``) starts full anyway."""
        self.client.policy.budget.reset()

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The fields of ``object_name`` the integration user can see, as relcrm specs."""
        check_name(object_name)
        answer = self.client.call(
            f"describe {object_name}",
            lambda sf: sf.restful(f"sobjects/{object_name}/describe"),
        )
        return field_specs(answer or {})

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What :meth:`provision` would do, in connector-neutral words (fields to create,
        grants to the relcrm permission set, the set itself and its assignment); changes
        nothing."""
        return self.provisioner.plan(object_name, specs).neutral()

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the missing custom fields and make them writable; return those created
        (or, with ``dry_run``, those that would be). Idempotent."""
        if dry_run:
            return self.provisioner.plan(object_name, specs).create
        return self.provisioner.apply(object_name, specs).create

    def match(self, keys: Mapping[str, Sequence[str]], *, field: str = "Email") -> MatchReport:
        """Find each person's record (``{person_id: [emails or external ids]}``)."""
        return self.matcher.match(keys, field=field)

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record in ``object_name``, then in the ``fallback`` objects
        (``{person_id: [emails or external ids]}``; ``by`` is ``email`` or a field name)."""
        field = "Email" if by == "email" else by
        matcher = Matcher(
            self.client, objects=(object_name, *fallback), filters=self.matcher.filters
        )
        return matcher.match(keys, field=field)

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        """``{record id: {field: value}}`` of existing records, normalised by the fields'
        types (the object's describe, cached): ``+0000`` datetimes as aware UTC datetimes,
        dates as dates, numbers as numbers, checkboxes as booleans."""
        specs = self.writer.field_specs(object_name, set(fields))
        return read_values(self.client, object_name, record_ids, fields, specs)

    @property
    def api_calls(self) -> int:
        """HTTP responses received from Salesforce so far (logins and Bulk polls included)."""
        return self.client.responses

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Write a batch; one result per write, in order. Each write goes to the object of
        its ``record`` (matching may find a Lead where ``object_name`` says Contact); a
        write with a ``key`` and no record is upserted into ``object_name`` by that
        external id, and its result carries the record's Id and whether it was
        ``created``."""
        check_name(object_name)
        return self.writer.write(writes, object_name)

    def read_cases(
        self, since: datetime | None = None, *, limit: int | None = None
    ) -> Iterator[SupportCase]:
        """Cases modified at or after ``since`` (aware; all when None), oldest change
        first, at most ``limit``; read lazily, page by page (see ``cases``)."""
        return self.cases.read(since, limit=limit)

    def create_tasks(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A Task on each record (``WhoId``) for the record's owner (see ``tasks``)."""
        return self.tasks.create(tasks)

    def find_tasks(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{task key: Task Id}`` of the Tasks on ``records`` carrying those keys."""
        return self.tasks.find(records, keys)

    def close_tasks(self, task_ids: Sequence[str]) -> TasksReport:
        """Mark the Tasks Completed (a deleted one counts as closed)."""
        return self.tasks.close(task_ids)

    def task_states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Whether each Task is open, closed or gone."""
        return self.tasks.states(task_ids)
