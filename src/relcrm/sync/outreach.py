"""Outreach the CRM acts on: one follow-up task for the record's owner (issue 13).

A profile whose ``needs_outreach`` is true should reach a person, not only a field. With
``[outreach] create_task = true`` in the mapping, the sync engine hands the persons whose
row changed to :meth:`Outreach.consider` (page by page) and, once the run's fields are
written, calls :meth:`Outreach.settle`, which talks to the connector's
:class:`~relcrm.connectors.TaskSink`.

How a task comes to be, and why it is never made twice:

1. ``consider``: a consenting person who needs outreach for a reason with no task tracked
   for it (wanted, creating or open: :data:`relcrm.store.outreach_tasks.LIVE`) gets a
   ``wanted`` row, under a new random key. Subject and body come from the outreach reason
   (plain words, no verbatim). With ``close_when_recovered``, the person's open tasks for
   another reason (or for none: they recovered) become ``closing``.
2. ``settle``: rows left ``creating`` by a killed run are looked for in the CRM by the
   marker their body carries (``relcrm:task:<key>``) and adopted when found; the others
   are wanted again. Each wanted row whose person still consents and has a CRM record is
   marked ``creating`` (the intent, stored before the call), then created; the CRM's task
   id makes it ``open``. ``closing`` rows are closed.

A killed run therefore leaves at worst ``creating`` rows, which the next run (or the
worker that takes the partition over) reconciles before it sends anything. A dry run
counts what it would create and close, and neither stores nor sends anything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from relcrm.connectors import Connector, TaskSink
from relcrm.errors import ConfigurationError
from relcrm.mapping import Mapping
from relcrm.mapping.outreach import plain
from relcrm.models import FollowUpTask, Person, RecordRef, RelationshipProfile
from relcrm.store import Store
from relcrm.store.outreach_tasks import LIVE, NewOutreachTask, OutreachTaskRow, TaskStatus
from relcrm.sync.counts import RunCounts

logger = logging.getLogger(__name__)

BATCH: Final = 100
"""Tasks per create or close call (HubSpot's batch limit, the smallest of the CRMs)."""


def reason_hash(reason: str) -> str:
    """What tells two outreach reasons apart: their plain words, hashed."""
    return hashlib.sha256(plain(reason).encode()).hexdigest()[:32]


def task_body(profile: RelationshipProfile) -> str:
    """The task's body: why to reach out, in the profile's plain words. Built from the
    outreach reason and the segment only, never from a perception's verbatim."""
    reason = plain(profile.outreach_reason or "")
    segment = str(profile.segment.value).replace("_", " ")
    return (
        f"{reason}\n\nrelcrm's relationship profile says a person should reach out now "
        f"(segment: {segment}; health: {profile.band.value})."
    )


@dataclass
class Outreach:
    """Follow-up tasks of one sync engine (one mapping on one connector)."""

    store: Store
    connector: Connector
    mapping: Mapping
    target: str
    now: Callable[[], datetime]

    @property
    def enabled(self) -> bool:
        return self.mapping.outreach.create_task

    def _sink(self) -> TaskSink:
        if not isinstance(self.connector, TaskSink):
            raise ConfigurationError(
                f"connector {self.connector.capabilities.name!r} declares follow_up_tasks "
                "but has no create_tasks/find_tasks/close_tasks/task_states",
                code="config.unsupported_connector",
            )
        return self.connector

    # ------------------------------------------------------------------ consider

    def consider(
        self,
        page: Sequence[tuple[Person, RelationshipProfile | None]],
        counts: RunCounts,
        *,
        dry_run: bool,
    ) -> None:
        """Track the tasks these persons' profiles ask for and, with
        ``close_when_recovered``, the tasks they no longer need (persons whose row
        changed since their last write; the others' tasks cannot have changed)."""
        if not self.enabled or not page:
            return
        settings = self.mapping.outreach
        live: dict[str, list[OutreachTaskRow]] = {}
        ids = [person.id for person, _ in page]
        for row in self.store.outreach_tasks(self.target, person_ids=ids, statuses=LIVE):
            live.setdefault(row.person_id, []).append(row)
        new: list[NewOutreachTask] = []
        closing: list[str] = []
        dropped: list[str] = []
        for person, profile in page:
            rows = live.get(person.id, [])
            if not person.consent.granted:
                dropped.extend(r.key for r in rows if r.status == "wanted")
                continue
            wanted = profile is not None and profile.needs_outreach and profile.outreach_reason
            digest = reason_hash(profile.outreach_reason or "") if profile and wanted else None
            if (
                profile is not None
                and digest is not None
                and not any(r.reason_hash == digest for r in rows)
            ):
                new.append(
                    NewOutreachTask(
                        person.id, digest, settings.subject_for(profile), task_body(profile)
                    )
                )
            if settings.close_when_recovered and profile is not None:
                for row in rows:
                    if row.reason_hash == digest:
                        continue
                    if row.status == "open":
                        closing.append(row.key)
                    elif row.status == "wanted":
                        dropped.append(row.key)  # never sent: nothing to close
        if dry_run:
            counts.tasks_created += len(new)
            counts.tasks_closed += len(closing)
            return
        at = self.now()
        self.store.add_outreach_tasks(self.target, new, at=at)
        if closing:
            self.store.set_outreach_status(closing, "closing", at=at)
        if dropped:
            self.store.drop_outreach_tasks(dropped)

    # ------------------------------------------------------------------ settle

    def settle(
        self,
        counts: RunCounts,
        *,
        belongs: Callable[[str], bool] | None = None,
        check: Callable[[], None] | None = None,
    ) -> None:
        """Create the wanted tasks and close the closing ones, reconciling a killed run's
        ``creating`` rows first. ``belongs`` keeps a shared run's worker to the persons
        of its partitions; ``check`` is called before each call that writes (the lease)."""
        if not self.enabled:
            return
        statuses: tuple[TaskStatus, ...] = ("wanted", "creating", "closing")
        rows = [
            r
            for r in self.store.outreach_tasks(self.target, statuses=statuses)
            if belongs is None or belongs(r.person_id)
        ]
        if not rows:
            return
        sink = self._sink()
        creating = [r for r in rows if r.status == "creating"]
        found = self._reconcile(sink, creating)
        wanted = [r for r in rows if r.status == "wanted"]
        wanted += [r for r in creating if r.key not in found]
        for start in range(0, len(wanted), BATCH):
            self._create(sink, wanted[start : start + BATCH], counts, check)
        closing = [r for r in rows if r.status == "closing"]
        for start in range(0, len(closing), BATCH):
            self._close(sink, closing[start : start + BATCH], counts, check)

    def _record(self, row: OutreachTaskRow) -> RecordRef | None:
        if row.crm_object is None or row.record_id is None:
            return None
        return RecordRef(
            system=self.connector.capabilities.name, object=row.crm_object, id=row.record_id
        )

    def _reconcile(self, sink: TaskSink, creating: Sequence[OutreachTaskRow]) -> set[str]:
        """Adopt the tasks a killed run created but could not note; return their keys."""
        records = [r for r in (self._record(row) for row in creating) if r is not None]
        if not records:
            return set()
        found = sink.find_tasks(records, [row.key for row in creating])
        if found:
            self.store.set_outreach_status(found, "open", at=self.now(), task_ids=found)
            logger.info(
                "%s: %d follow-up tasks of a killed run found in the CRM; not created again",
                self.target,
                len(found),
            )
        return set(found)

    def _create(
        self,
        sink: TaskSink,
        rows: Sequence[OutreachTaskRow],
        counts: RunCounts,
        check: Callable[[], None] | None,
    ) -> None:
        settings = self.mapping.outreach
        known = self.store.known_records(self.target, [r.person_id for r in rows])
        tasks: list[FollowUpTask] = []
        records: dict[str, tuple[str, str]] = {}
        gone: list[str] = []
        due = None
        if settings.due_in_days is not None:
            due = (self.now() + timedelta(days=settings.due_in_days)).date()
        system = self.connector.capabilities.name
        for row in rows:
            person = self.store.get_person(row.person_id)
            if person is None or not person.consent.granted:
                gone.append(row.key)  # consent gates every write
                continue
            record = known.get(row.person_id)
            if record is None:
                continue  # not matched yet: stays wanted for a later run
            records[row.key] = (record.object, record.record_id)
            tasks.append(
                FollowUpTask(
                    key=row.key,
                    person_id=row.person_id,
                    record=RecordRef(system=system, object=record.object, id=record.record_id),
                    subject=row.subject,
                    body=row.body,
                    priority=settings.priority,
                    due=due,
                )
            )
        if gone:
            self.store.drop_outreach_tasks(gone)
        if not tasks:
            return
        if check is not None:
            check()
        # The intent, before the call: a run killed now leaves "creating" rows that the
        # next run looks for in the CRM before it creates anything.
        self.store.set_outreach_status(records, "creating", at=self.now(), records=records)
        report = sink.create_tasks(tasks)
        at = self.now()
        if report.created:
            self.store.set_outreach_status(report.created, "open", at=at, task_ids=report.created)
        if report.rejected:
            self.store.set_outreach_status(report.rejected, "failed", at=at, errors=report.rejected)
            for key, reason in sorted(report.rejected.items()):
                logger.warning("%s: follow-up task %s not created: %s", self.target, key, reason)
        counts.tasks_created += len(report.created)
        counts.tasks_rejected += len(report.rejected)

    def _close(
        self,
        sink: TaskSink,
        rows: Sequence[OutreachTaskRow],
        counts: RunCounts,
        check: Callable[[], None] | None,
    ) -> None:
        by_task = {r.task_id: r.key for r in rows if r.task_id}
        orphans = [r.key for r in rows if not r.task_id]
        if orphans:
            self.store.set_outreach_status(orphans, "closed", at=self.now())
        if not by_task:
            return
        if check is not None:
            check()
        report = sink.close_tasks(sorted(by_task))
        closed = [by_task[t] for t in report.closed if t in by_task]
        if closed:
            self.store.set_outreach_status(closed, "closed", at=self.now())
        for task_id, reason in sorted(report.rejected.items()):
            logger.warning("%s: follow-up task %s not closed: %s", self.target, task_id, reason)
        counts.tasks_closed += len(closed)
        counts.tasks_rejected += len(report.rejected)


__all__ = ["BATCH", "Outreach", "reason_hash", "task_body"]
