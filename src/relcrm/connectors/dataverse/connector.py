"""The Dataverse connector: relcrm's :class:`~relcrm.connectors.Connector` for Dynamics 365
and any Dataverse environment.

It wires the pieces together (the httpx client behind relcrm's token provider, request
window, error table and retry policy; the cached schema; provisioning; matching; writing;
reading back) and declares its limits as data. The transport is injectable: tests pass
nothing and point the settings at the sandbox, or pass a transport that breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import httpx
from pydantic_settings import BaseSettings

from relcrm.connectors.dataverse.client import DataverseClient
from relcrm.connectors.dataverse.describe import ENTITY_SETS, TABLE_ALIASES, Schema, field_spec
from relcrm.connectors.dataverse.matching import find_records
from relcrm.connectors.dataverse.provisioning import MAX_NAME, MEMO_MAX, STRING_MAX, Provisioner
from relcrm.connectors.dataverse.ratelimit import RequestWindow
from relcrm.connectors.dataverse.reading import read_raw
from relcrm.connectors.dataverse.settings import DataverseSettings
from relcrm.connectors.dataverse.tasks import TaskWriter
from relcrm.connectors.dataverse.values import normalise
from relcrm.connectors.dataverse.writer import Writer
from relcrm.connectors.retry import RetryPolicy
from relcrm.errors import ConfigurationError
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldWrite,
    FollowUpTask,
    MatchReport,
    ProvisionPlan,
    RatePolicy,
    ReadValue,
    RecordRef,
    TasksReport,
    TaskState,
    WriteResult,
)

OBJECTS: tuple[str, ...] = tuple(ENTITY_SETS)

CAPABILITIES = ConnectorCapabilities(
    name="dataverse",
    max_batch_size=500,
    bulk_threshold=None,
    field_types=frozenset(FieldType) - {FieldType.MULTI_PICKLIST},  # not provisioned yet
    max_field_name_length=MAX_NAME,
    max_text_length=STRING_MAX,
    max_long_text_length=MEMO_MAX,
    supports_upsert=False,  # writes update matched records by id
    reads_back=True,
    objects=OBJECTS,
    match_by=frozenset({"email", "external_id"}),
    fallback_matching=True,
    upsert_by_external_id=False,
    all_or_nothing_batches=True,
    support_cases=False,
    history_notes=False,
    follow_up_tasks=True,  # a task regarding the contact/lead, for its owner (create_tasks)
    rate_policy=RatePolicy(requests=6000, window_s=300, scope="user"),
)
"""UpdateMultiple is all-or-nothing on standard tables (the writer isolates bad records);
text columns hold up to 4,000 characters, memo columns 1,048,576; the service protection
limit is 6,000 requests per 5 minutes per user."""


def table(name: str) -> str:
    """The logical name of a supported table (``contact``, ``contacts``, ``Contact``)."""
    found = TABLE_ALIASES.get(name.strip().lower())
    if found is None:
        raise ConfigurationError(
            f"{name!r} is not a table the Dataverse connector writes",
            hint=f"use one of {', '.join(OBJECTS)}",
            code="config.unsupported_mapping",
        )
    return found


class DataverseConnector:
    """Describe, provision, match and write against one Dataverse environment."""

    settings_class: ClassVar[type[BaseSettings]] = DataverseSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: DataverseSettings) -> DataverseConnector:
        """The connector for settings read from a targets file and the environment."""
        return cls(settings)

    def __init__(
        self,
        settings: DataverseSettings | None = None,
        *,
        policy: RetryPolicy | None = None,
        window: RequestWindow | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings or DataverseSettings()
        self.client = DataverseClient(
            self.settings, policy=policy, window=window, transport=transport
        )
        self.schema = Schema(self.client)
        self.provisioner = Provisioner(self.client, self.schema, self.settings)
        self.writer = Writer(self.client, self.schema, batch_size=self.settings.batch_size)
        self.tasks = TaskWriter(self.client)
        self._capabilities = self.declared_capabilities.model_copy(
            update={
                "rate_policy": RatePolicy(
                    requests=self.settings.rate_limit_max,
                    window_s=self.settings.rate_limit_window_s,
                    scope="user",
                ),
            }
        )

    def __repr__(self) -> str:
        return f"DataverseConnector(environment_url={self.settings.environment_url!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    @property
    def capabilities(self) -> ConnectorCapabilities:
        """The declared capabilities with the request window these settings decide (the
        features, the batch size among them, are the class's; the writer splits a batch
        further when ``batch_size`` is smaller)."""
        return self._capabilities

    def begin_run(self) -> None:
        """A new run starts: the retry policy's budget (total backoff per run) is full
        again, and the schema is read afresh (an admin may have changed it)."""
        self.client.policy.budget.reset()
        self.schema.forget()

    @property
    def api_calls(self) -> int:
        """Web API requests sent so far (retries and 429s included; token requests not)."""
        return self.client.requests

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The columns of ``object_name`` relcrm can write, as specs."""
        columns = self.schema.columns(table(object_name), refresh=True)
        return [spec for spec in (field_spec(c) for c in columns.values()) if spec is not None]

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What :meth:`provision` would do; changes nothing."""
        return self.provisioner.plan(table(object_name), specs).neutral()

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the missing columns, options and alternate keys (waiting until the keys
        are Active); return the columns created (or, with ``dry_run``, to be). Idempotent."""
        name = table(object_name)
        if dry_run:
            return list(self.provisioner.plan(name, specs).create)
        return list(self.provisioner.apply(name, specs).create)

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record in ``object_name``, then in ``fallback`` (a lead when
        no contact has the e-mail); ``by`` is ``email`` or an external id column."""
        objects = list(dict.fromkeys([table(object_name), *(table(f) for f in fallback)]))
        return find_records(self.client, objects, keys, by=by)

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        """``{record id: {field: value}}`` of existing records, normalised."""
        name = table(object_name)
        columns = self.schema.columns(name)
        asked = {record_id.lower(): record_id for record_id in record_ids}
        raw = read_raw(self.client, name, record_ids, fields)
        return {
            asked.get(record_id, record_id): {
                field: normalise(columns.get(field), values.get(field)) for field in fields
            }
            for record_id, values in raw.items()
        }

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Write a batch; one result per write, in order, never raising for one bad record
        (each write goes to the table its record is in: a lead found by fallback)."""
        return self.writer.write(table(object_name), writes)

    def create_tasks(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A task regarding each record for the record's owner (see ``tasks``)."""
        return self.tasks.create(tasks)

    def find_tasks(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{task key: activityid}`` of the tasks regarding ``records`` with those keys."""
        return self.tasks.find(records, keys)

    def close_tasks(self, task_ids: Sequence[str]) -> TasksReport:
        """Complete the tasks (a deleted one counts as closed)."""
        return self.tasks.close(task_ids)

    def task_states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Whether each task is open, closed or gone."""
        return self.tasks.states(task_ids)
