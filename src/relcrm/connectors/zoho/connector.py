"""The Zoho CRM connector: relcrm's :class:`~relcrm.connectors.Connector` for Zoho CRM v8.

It wires the pieces together (httpx behind relcrm's token manager, concurrency gate, error
table and retry policy; describe; provisioning; matching; writing; reading back) and
declares what it can do as data. The HTTP client, the policy and the clock are
injectable: tests pass a policy that records its waits and a clock they move.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

import httpx
from pydantic_settings import BaseSettings

from relcrm.connectors.retry import RetryPolicy
from relcrm.connectors.zoho.client import ZohoClient
from relcrm.connectors.zoho.describe import FieldInfo, field_info, field_specs
from relcrm.connectors.zoho.matching import Matcher
from relcrm.connectors.zoho.provisioning import MAX_NAME, Provisioner
from relcrm.connectors.zoho.reading import read_values
from relcrm.connectors.zoho.settings import ZohoSettings
from relcrm.connectors.zoho.tasks import TaskWriter
from relcrm.connectors.zoho.writer import MAX_BATCH, Writer
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

SYSTEM = "zoho"
OBJECTS: tuple[str, ...] = ("Contacts", "Leads")
DAY_S = 86_400.0
CREDITS: Mapping[str, tuple[int, int | None]] = {
    "standard": (250, 100_000),
    "professional": (500, 3_000_000),
    "enterprise": (1000, 5_000_000),
    "ultimate": (2000, None),
}
"""Edition -> (credits per licence, cap): ``50,000 + licences x per-licence``, Free 5,000
(Zoho's API limits page)."""
_MODULE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def credits_per_day(settings: ZohoSettings) -> int | None:
    """The org's API credits per rolling 24 hours (None: unlimited)."""
    if settings.credits_per_day is not None:
        return settings.credits_per_day
    if settings.edition == "free":
        return 5000
    per_licence, cap = CREDITS[settings.edition]
    allowed = 50_000 + settings.licences * per_licence
    return allowed if cap is None else min(allowed, cap)


def capabilities_for(settings: ZohoSettings) -> ConnectorCapabilities:
    """What the connector declares for an org of ``settings``' edition.

    ``rate_policy`` is Zoho's credit budget: ``requests`` counts credits per rolling 24
    hours (a read costs one, a write of 100 records ten), scope the org. Zoho sets no
    per-second rate; the connector paces itself by the app's concurrency limit instead (at
    most ``max_concurrency`` calls in flight) and treats the credit budget as a quota: when
    it is spent the run pauses (:class:`~relcrm.connectors.errors.QuotaExhausted`).
    """
    budget = credits_per_day(settings)
    return ConnectorCapabilities(
        name=SYSTEM,
        max_batch_size=MAX_BATCH,
        bulk_threshold=None,
        field_types=frozenset(FieldType) - {FieldType.MULTI_PICKLIST},  # not provisioned yet
        max_field_name_length=MAX_NAME,
        max_text_length=255,
        max_long_text_length=32_000,
        supports_upsert=True,
        reads_back=True,
        objects=OBJECTS,
        match_by=frozenset({"email", "external_id"}),
        fallback_matching=True,
        upsert_by_external_id=True,
        all_or_nothing_batches=False,
        support_cases=False,
        history_notes=False,
        follow_up_tasks=True,  # a Tasks record on the contact/lead, for its owner
        rate_policy=(
            RatePolicy(requests=budget, window_s=DAY_S, scope="org") if budget is not None else None
        ),
    )


DECLARED = capabilities_for(ZohoSettings.model_construct())
"""What every Zoho connector can do; an instance's rate policy follows its edition."""


def _check_module(name: str) -> str:
    if not _MODULE.match(name):
        raise ConfigurationError(
            f"{name!r} is not a Zoho CRM module API name",
            hint="use the module's API name, such as Contacts or Leads",
        )
    return name


class ZohoConnector:
    """Describe, provision, match, write and read back against one Zoho CRM org."""

    settings_class: ClassVar[type[BaseSettings]] = ZohoSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = DECLARED

    @classmethod
    def from_settings(cls, settings: ZohoSettings) -> ZohoConnector:
        """The connector for settings read from a targets file and the environment."""
        return cls(settings)

    def __init__(
        self,
        settings: ZohoSettings | None = None,
        *,
        http: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_concurrency: int | None = None,
        workers: int = 1,
    ) -> None:
        self.settings = settings or ZohoSettings()
        self.client = ZohoClient(
            self.settings, http=http, policy=policy, clock=clock, max_concurrency=max_concurrency
        )
        self._capabilities = capabilities_for(self.settings)
        self._schemas: dict[str, dict[str, FieldInfo]] = {}
        self._schema_lock = threading.Lock()
        self.matcher = Matcher(self.client)
        self.provisioner = Provisioner(self.client)
        self.tasks = TaskWriter(self.client)
        self.writer = Writer(
            self.client,
            self.schema,
            self._read,
            self.matcher,
            workers=workers,
            trigger_workflows=self.settings.trigger_workflows,
        )

    def __repr__(self) -> str:
        return f"ZohoConnector(data_centre={self.settings.data_centre!r})"

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return self._capabilities

    def begin_run(self) -> None:
        """A new run starts: the retry budget is full again and field metadata is read
        afresh (an admin may have changed fields between runs)."""
        self.client.policy.budget.reset()
        with self._schema_lock:
            self._schemas.clear()

    @property
    def api_calls(self) -> int:
        """Calls made to Zoho so far: API calls (retries and 429s included) and token
        requests."""
        return self.client.calls + self.client.tokens.requests

    # ------------------------------------------------------------------ schema

    def _fields(self, module: str) -> list[dict[str, object]]:
        answer = self.client.call(
            f"describe {module}", "GET", "/settings/fields", params={"module": module}
        )
        return [f for f in (answer or {}).get("fields") or [] if isinstance(f, dict)]

    def schema(self, module: str) -> dict[str, FieldInfo]:
        """The module's fields by API name (one call, then cached for the run)."""
        with self._schema_lock:
            cached = self._schemas.get(module)
        if cached is not None:
            return cached
        infos = {i.api_name: i for i in (field_info(f) for f in self._fields(module))}
        with self._schema_lock:
            self._schemas[module] = infos
        return infos

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The fields of ``object_name`` (``Contacts``, ``Leads``...) as relcrm specs."""
        raw = self._fields(_check_module(object_name))
        with self._schema_lock:
            self._schemas[object_name] = {i.api_name: i for i in (field_info(f) for f in raw)}
        return field_specs(raw)

    # ------------------------------------------------------------------ provisioning

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What :meth:`provision` would create and change; reads only."""
        return self.provisioner.plan(_check_module(object_name), specs)

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the missing custom fields and add missing picklist values; return the
        fields created (or, with ``dry_run``, those that would be). Idempotent."""
        module = _check_module(object_name)
        if dry_run:
            return list(self.provisioner.plan(module, specs).create)
        plan = self.provisioner.apply(module, specs)
        if not plan.empty:
            with self._schema_lock:
                self._schemas.pop(module, None)
        return list(plan.create)

    # ------------------------------------------------------------------ records

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record (``{person_id: [emails or key values]}``) in
        ``object_name``, then in the ``fallback`` modules; ``by`` is ``email`` or the API
        name of a unique field."""
        field = "Email" if by == "email" else _check_module(by)
        objects = [_check_module(o) for o in (object_name, *fallback)]
        return self.matcher.match(objects, keys, field=field)

    def _read(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        module = _check_module(object_name)
        return read_values(self.client, self.schema(module), module, record_ids, fields)

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        """``{record id: {field: value}}`` of the records that exist, normalised: numbers,
        booleans, aware UTC datetimes, dates, text."""
        return self._read(object_name, record_ids, fields)

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Write a batch; one result per write, in order, never raising for one bad record.
        A write goes to its record's module (a person matched in Leads is written there);
        one without a record is upserted into ``object_name``."""
        return self.writer.write(_check_module(object_name), writes)

    def create_tasks(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """A task on each record for the record's owner (see ``tasks``)."""
        return self.tasks.create(tasks)

    def find_tasks(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{task key: task id}`` of the records' tasks carrying those keys."""
        return self.tasks.find(records, keys)

    def close_tasks(self, task_ids: Sequence[str]) -> TasksReport:
        """Complete the tasks (a deleted one counts as closed)."""
        return self.tasks.close(task_ids)

    def task_states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Whether each task is open, closed or gone."""
        return self.tasks.states(task_ids)
