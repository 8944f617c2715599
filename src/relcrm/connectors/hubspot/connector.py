"""The HubSpot connector: relcrm's :class:`~relcrm.connectors.Connector` for HubSpot.

It wires the pieces together (the official client behind relcrm's limiter, error table
and retry policy; describe; provisioning; matching; writing) and declares its limits as
data. The SDK is injectable: tests pass one pointed at the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from pydantic_settings import BaseSettings

from relcrm.connectors.hubspot.client import HubSpotClient
from relcrm.connectors.hubspot.describe import field_specs
from relcrm.connectors.hubspot.matching import Matcher
from relcrm.connectors.hubspot.notes import NoteWriter
from relcrm.connectors.hubspot.provisioning import MAX_NAME, Provisioner
from relcrm.connectors.hubspot.ratelimit import RateLimiter
from relcrm.connectors.hubspot.reading import read_values
from relcrm.connectors.hubspot.settings import HubSpotSettings
from relcrm.connectors.hubspot.tasks import TaskWriter
from relcrm.connectors.hubspot.tickets import TicketReader
from relcrm.connectors.hubspot.writer import MAX_BATCH, Writer
from relcrm.connectors.retry import RetryPolicy
from relcrm.errors import ConfigurationError
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldWrite,
    FollowUpTask,
    MatchReport,
    NotesReport,
    PerceptionNote,
    ProvisionPlan,
    RatePolicy,
    ReadValue,
    RecordRef,
    SupportCase,
    TasksReport,
    TaskState,
    WriteResult,
)

DEFAULT_RATE_LIMIT = 100
DEFAULT_RATE_WINDOW_S = 10.0

CAPABILITIES = ConnectorCapabilities(
    name="hubspot",
    max_batch_size=MAX_BATCH,
    bulk_threshold=None,
    field_types=frozenset(FieldType),
    max_field_name_length=MAX_NAME,
    max_text_length=65_536,
    max_long_text_length=65_536,
    supports_upsert=False,  # writes update matched records by id (upsert by email: not built)
    reads_back=True,
    objects=("contacts",),
    match_by=frozenset({"email", "external_id"}),  # external id: a unique-value property
    fallback_matching=False,  # people live in one object: no Lead to fall back to
    upsert_by_external_id=False,
    all_or_nothing_batches=False,  # a 207 answers per input (the writer splits a 400 too)
    support_cases=True,  # tickets, with their requester contact (read_cases)
    history_notes=True,  # a note per perception on the contact (add_perception_notes)
    follow_up_tasks=True,  # a task on the contact for its owner (create_tasks)
    rate_policy=RatePolicy(
        requests=DEFAULT_RATE_LIMIT, window_s=DEFAULT_RATE_WINDOW_S, scope="org"
    ),
)
"""Batch endpoints take 100 inputs; property names are lower-case ASCII (relcrm keeps
them within ``MAX_NAME``); a string property holds up to 65,536 characters. The request
budget is the portal's, shared by all its private apps: 100 per 10 s on Free/Starter
(the default), 190 on Professional/Enterprise; an instance declares what its settings
say (``rate_limit_max`` per ``rate_limit_window_ms``), and the limiter adopts what the
rate-limit headers say."""


def rate_policy(settings: HubSpotSettings) -> RatePolicy:
    """The request budget the connector paces itself by, from its settings."""
    return RatePolicy(
        requests=settings.rate_limit_max,
        window_s=settings.rate_limit_window_ms / 1000,
        scope="org",
    )


def _check_object(name: str) -> str:
    if not name or not name.replace("_", "").isalnum() or name != name.lower():
        raise ConfigurationError(f"{name!r} is not a HubSpot object type")
    return name


class HubSpotConnector:
    """Describe, provision, match and write against one HubSpot portal."""

    settings_class: ClassVar[type[BaseSettings]] = HubSpotSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: HubSpotSettings) -> HubSpotConnector:
        """The connector for settings read from a targets file and the environment."""
        return cls(settings)

    def __init__(
        self,
        settings: HubSpotSettings | None = None,
        *,
        sdk: Any = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        workers: int = 1,
    ) -> None:
        self.settings = settings or HubSpotSettings()
        self._capabilities = CAPABILITIES.model_copy(
            update={"rate_policy": rate_policy(self.settings)}
        )
        self.client = HubSpotClient(self.settings, sdk=sdk, policy=policy, limiter=limiter)
        self.writer = Writer(self.client, workers=workers)
        self.matcher = Matcher(self.client)
        self.provisioner = Provisioner(self.client)
        self.notes = NoteWriter(self.client)
        self.tasks = TaskWriter(self.client)
        self.tickets = TicketReader(self.client)

    def __repr__(self) -> str:
        return f"HubSpotConnector(base_url={self.settings.base_url!r})"

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return self._capabilities

    def begin_run(self) -> None:
        """A new run starts: the retry policy's budget (total backoff per run) is full
        again. A connector built for each run (``relcrm sync``) starts full anyway."""
        self.client.policy.budget.reset()

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The properties of ``object_name`` (``contacts``...) as relcrm specs."""
        _check_object(object_name)
        answer = self.client.call(
            f"describe {object_name}",
            lambda sdk: sdk.crm.properties.core_api.get_all_with_http_info(object_name),
        )
        return field_specs(answer.results)

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What :meth:`provision` would do, in connector-neutral words (properties to
        create, the relcrm property group, options to add); changes nothing."""
        return self.provisioner.plan(_check_object(object_name), specs).neutral()

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the relcrm group and the missing properties; return those created (or,
        with ``dry_run``, those that would be). Idempotent."""
        _check_object(object_name)
        if dry_run:
            return self.provisioner.plan(object_name, specs).create
        plan = self.provisioner.apply(object_name, specs)
        if not plan.empty:
            self.writer.forget_schema()
        return plan.create

    def match(
        self,
        keys: Mapping[str, Sequence[str]],
        *,
        id_property: str = "email",
        object_name: str | None = None,
    ) -> MatchReport:
        """Find each person's record (``{person_id: [emails or relcrm person ids]}``)."""
        obj = _check_object(object_name or self.settings.object_type)
        return self.matcher.match(obj, keys, id_property=id_property)

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record in ``object_name`` (``by``: ``email`` or a property
        with unique values). HubSpot keeps people in one object and declares no fallback
        matching, so relcrm refuses a mapping with ``match.fallback`` before a run; a
        caller passing ``fallback`` anyway is refused here too, not silently ignored."""
        if fallback:
            raise ConfigurationError(
                f"HubSpot matches in one object; fallback objects {list(fallback)} are not "
                "supported (capabilities.fallback_matching is False)",
                hint="remove match.fallback from the HubSpot mapping",
                code="config.unsupported_mapping",
            )
        return self.match(keys, id_property=by, object_name=object_name)

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        """``{record id: {field: value}}`` of existing records, normalised by the
        properties' types (the object's properties, cached): ``"87.5"`` as 87.5, ``"true"``
        as True, epoch milliseconds and ISO text as aware UTC datetimes or dates."""
        _check_object(object_name)
        schema = self.writer.schema(object_name) if record_ids else {}
        return read_values(self.client, object_name, record_ids, fields, schema)

    @property
    def api_calls(self) -> int:
        """Requests sent to HubSpot so far (retries and 429s included)."""
        return self.client.requests

    def write(
        self, object_name: str, writes: Sequence[FieldWrite], *, only_changed: bool = False
    ) -> list[WriteResult]:
        """Write a batch; one result per write, in order, never raising for one bad record."""
        return self.writer.write(_check_object(object_name), writes, only_changed=only_changed)

    def add_perception_notes(self, notes: Sequence[PerceptionNote]) -> NotesReport:
        """A note on the contact for each perception that has none yet (history).

        Re-runs create nothing: each note carries ``relcrm:perception:<id>`` and the
        contact's notes are checked first (:mod:`relcrm.connectors.hubspot.notes`).
        """
        return self.notes.add(notes)

    def read_cases(
        self, since: datetime | None = None, *, limit: int | None = None
    ) -> Iterator[SupportCase]:
        """Tickets modified at or after ``since`` (aware; all when None), oldest change
        first, at most ``limit``, each with its requester contact; read lazily, page by
        page (see ``tickets``)."""
        return self.tickets.read(since, limit=limit)

    def create_tasks(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A task on each contact for the contact's owner (see ``tasks``)."""
        return self.tasks.create(tasks)

    def find_tasks(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{task key: task id}`` of the contacts' tasks carrying those keys."""
        return self.tasks.find(records, keys)

    def close_tasks(self, task_ids: Sequence[str]) -> TasksReport:
        """Mark the tasks COMPLETED (a deleted one counts as closed)."""
        return self.tasks.close(task_ids)

    def task_states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Whether each task is open, closed or gone."""
        return self.tasks.states(task_ids)
