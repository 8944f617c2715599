"""The contract every CRM connector implements, built in or installed as a plugin.

A connector is a class registered under an entry point (:mod:`relcrm.connectors.registry`)
with a settings model (``settings_class``: a pydantic ``BaseSettings``) and a constructor
from those settings (``from_settings``). relcrm builds every connector, its own too, the
same way: the target's non-secret settings come from the targets file, the secret ones
(``SecretStr`` fields) only from the environment, ``RELCRM_<NAME>_*`` where ``<NAME>`` is
the registered name, or from the target's secrets file.

What it can do is declared as data (:class:`relcrm.models.ConnectorCapabilities`): on
the class (``declared_capabilities``), so a targets file and its mappings are checked
before any connector is built, and on the instance (``capabilities``), which may refine
the limits its settings decide (a rate policy, a bulk threshold) but never the features.
An optional feature declared there comes with its protocol below: ``support_cases`` with
:class:`CaseSource`, ``history_notes`` with :class:`NoteSink`. The sync engine,
``relcrm fields`` and the case reader speak only relcrm's CRM-neutral vocabulary from
:mod:`relcrm.models`; the contract suite in :mod:`relcrm.testing` checks a connector
against all of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic_settings import BaseSettings

from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldWrite,
    FollowUpTask,
    MatchReport,
    NotesReport,
    PerceptionNote,
    ProvisionPlan,
    ReadValue,
    RecordRef,
    SupportCase,
    TasksReport,
    TaskState,
    WriteResult,
)


@runtime_checkable
class Connector(Protocol):
    """A CRM as relcrm sees it: describe fields, create missing ones, match persons to
    records, write values and read them back."""

    settings_class: ClassVar[type[BaseSettings]]
    """The connector's settings: non-secret ones from the targets file, secrets
    (``SecretStr`` fields) only from the environment or the target's secrets file. relcrm
    reads them with the prefix ``RELCRM_<NAME>_``, ``<NAME>`` the registered name."""

    declared_capabilities: ClassVar[ConnectorCapabilities]
    """What every instance can do, known before one is built: ``relcrm mapping check``
    and loading a targets file refuse a mapping that asks for more (``match.fallback``
    where ``fallback_matching`` is False, an object not in ``objects``...)."""

    @classmethod
    def from_settings(cls, settings: Any) -> Connector:
        """The connector for validated ``settings`` (an instance of ``settings_class``)."""
        ...

    @property
    def capabilities(self) -> ConnectorCapabilities:
        """Limits, value types and optional features, declared as data: the class's
        ``declared_capabilities`` with the limits this instance's settings decide."""
        ...

    def describe(self, object_name: str) -> list[FieldSpec]:
        """The fields of ``object_name`` that the connected user can see."""
        ...

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        """What :meth:`provision` would create and change for ``specs``; reads only."""
        ...

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        """Create the fields of ``specs`` that do not exist yet; return what was (or would be)
        created. Idempotent."""
        ...

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        """Find each person's record (``{person_id: [key values]}``): in ``object_name``,
        then in the ``fallback`` objects (only given to a connector that declares
        ``fallback_matching``); ``by`` is ``email`` or an external-id field. Several records
        for one person are reported as ambiguous, never guessed."""
        ...

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        """``{record id: {field: value}}`` for the records that exist, the values
        normalised (:data:`relcrm.models.ReadValue`): the engine compares them with what it
        sent without knowing any CRM's shapes."""
        ...

    def begin_run(self) -> None:
        """A sync run starts: reset what is kept per run (the retry budget). Called by the
        engine at the start of each run, so a connector reused across runs (a script, the
        demo) starts each one afresh."""
        ...

    @property
    def api_calls(self) -> int:
        """Calls made to the CRM so far by this connector (for run reports)."""
        ...

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Write a batch; one result per write, in order, never raising for one bad record.

        A write stopped by an error for the whole CRM (a spent quota, a refused login, a
        CRM that stays unreachable) raises a :class:`relcrm.connectors.errors.VendorError`
        whose ``completed`` holds every result finished before it, every record written
        among them. A call that fails after it may have reached the CRM is read back
        before it is sent again; messages never quote the values written."""
        ...


@runtime_checkable
class CaseSource(Protocol):
    """A connector that reads support cases (``capabilities.support_cases``)."""

    def read_cases(self, since: datetime | None = None) -> Iterator[SupportCase]:
        """The cases (with their requester) modified at or after ``since``; all if None."""
        ...


@runtime_checkable
class NoteSink(Protocol):
    """A connector that writes perceptions as notes on the record's timeline
    (``capabilities.history_notes``)."""

    def add_perception_notes(self, notes: Sequence[PerceptionNote]) -> NotesReport:
        """A note for each perception that has none yet on its record; a re-run creates
        nothing twice (each note carries its perception's id)."""
        ...


@runtime_checkable
class TaskSink(Protocol):
    """A connector that creates follow-up tasks for the owner of a person's record
    (``capabilities.follow_up_tasks``; a mapping's ``[outreach]``)."""

    def create_tasks(self, tasks: Sequence[FollowUpTask]) -> TasksReport:
        """Create each task on its record, assigned to the record's owner, its body ending
        with the task's marker. Creating is never retried blindly: a call that may have
        reached the CRM is reported rejected, and the caller finds it with
        :meth:`find_tasks` before trying again."""
        ...

    def find_tasks(self, records: Sequence[RecordRef], keys: Sequence[str]) -> dict[str, str]:
        """``{task key: task id}`` for the tasks on ``records`` whose body carries the
        marker of one of ``keys`` (a killed run's task that the CRM did create)."""
        ...

    def close_tasks(self, task_ids: Sequence[str]) -> TasksReport:
        """Mark the tasks completed; a task already closed or deleted counts as closed."""
        ...

    def task_states(self, task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Whether each task is open, closed, or missing in the CRM."""
        ...
