"""Follow-up tasks relcrm wanted, created and closed in the CRMs (schema version 10).

One row per task, keyed by relcrm's own key (random, fixed before the CRM is called, and
written into the task's body as a marker). Its status says how far it got:

- ``wanted``: the profile asks for it; nothing sent yet (the record may be unknown);
- ``creating``: the intent, stored before the create call; a row left so by a killed run
  is looked for in the CRM by its marker before anything is sent again;
- ``open``: the CRM holds it (``task_id``); ``closing``: to be marked completed;
- ``closed``; ``failed``: the CRM refused it (``error``: its reason, never a value).

At most one row per (target, person, reason) is wanted, creating or open: the sync checks
that before adding one. Rows are erased with their person (``relcrm forget``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from sqlalchemy import Connection, delete, insert, select, update

from relcrm.store._part import StorePart, from_column, to_utc
from relcrm.store._tables import outreach_tasks

TaskStatus = Literal["wanted", "creating", "open", "closing", "closed", "failed"]
TASK_STATUSES: Final[tuple[TaskStatus, ...]] = get_args(TaskStatus)
LIVE: Final[frozenset[TaskStatus]] = frozenset({"wanted", "creating", "open"})
"""Statuses that count as the one task of a (target, person, reason)."""

_CHUNK: Final = 500


@dataclass(frozen=True)
class OutreachTaskRow:
    """One tracked task."""

    key: str
    target: str
    person_id: str
    reason_hash: str
    subject: str
    body: str
    status: TaskStatus
    crm_object: str | None
    record_id: str | None
    task_id: str | None
    error: str | None
    updated_at: datetime


@dataclass(frozen=True)
class NewOutreachTask:
    """A task a profile asks for: whose, for which reason, and its text."""

    person_id: str
    reason_hash: str
    subject: str
    body: str


def _row(row: object) -> OutreachTaskRow:
    r = row._mapping  # type: ignore[attr-defined]
    return OutreachTaskRow(
        key=r["key"],
        target=r["target"],
        person_id=r["person_id"],
        reason_hash=r["reason_hash"],
        subject=r["subject"],
        body=r["body"],
        status=r["status"],
        crm_object=r["crm_object"],
        record_id=r["record_id"],
        task_id=r["task_id"],
        error=r["error"],
        updated_at=from_column(r["updated_at"]),
    )


class OutreachTaskStore(StorePart):
    """Tracked follow-up tasks; a mixin of :class:`relcrm.store.Store`."""

    def outreach_tasks(
        self,
        target: str,
        *,
        person_ids: Iterable[str] | None = None,
        statuses: Iterable[TaskStatus] | None = None,
    ) -> list[OutreachTaskRow]:
        """The tracked tasks of ``target``, of these persons and statuses (all if None),
        oldest change first."""
        wanted = None if statuses is None else sorted(set(statuses))
        query = select(outreach_tasks).where(outreach_tasks.c.target == target)
        if wanted is not None:
            query = query.where(outreach_tasks.c.status.in_(wanted))
        order = (outreach_tasks.c.updated_at, outreach_tasks.c.key)
        found: list[OutreachTaskRow] = []
        with self._read() as connection:
            if person_ids is None:
                found.extend(_row(r) for r in connection.execute(query.order_by(*order)))
            else:
                ids = sorted(set(person_ids))
                for start in range(0, len(ids), _CHUNK):
                    part = ids[start : start + _CHUNK]
                    chunk = query.where(outreach_tasks.c.person_id.in_(part)).order_by(*order)
                    found.extend(_row(r) for r in connection.execute(chunk))
        return found

    def add_outreach_tasks(
        self, target: str, tasks: Sequence[NewOutreachTask], *, at: datetime
    ) -> list[OutreachTaskRow]:
        """Track ``tasks`` as wanted, each under a new random key; return the rows."""
        stamp = to_utc(at)
        rows = [
            OutreachTaskRow(
                key=secrets.token_hex(16),
                target=target,
                person_id=t.person_id,
                reason_hash=t.reason_hash,
                subject=t.subject,
                body=t.body,
                status="wanted",
                crm_object=None,
                record_id=None,
                task_id=None,
                error=None,
                updated_at=stamp,
            )
            for t in tasks
        ]
        if rows:
            with self._write() as connection:
                connection.execute(
                    insert(outreach_tasks),
                    [{**r.__dict__} for r in rows],
                )
        return rows

    def set_outreach_status(
        self,
        keys: Iterable[str],
        status: TaskStatus,
        *,
        at: datetime,
        records: dict[str, tuple[str, str]] | None = None,
        task_ids: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        """Move the rows of ``keys`` to ``status`` in one transaction, with the record
        (``{key: (object, id)}``), the CRM's task id or the CRM's reason where given."""
        if status not in TASK_STATUSES:
            raise ValueError(f"status must be one of {TASK_STATUSES}, got {status!r}")
        stamp = to_utc(at)
        with self._write() as connection:
            for key in sorted(set(keys)):
                values: dict[str, object] = {"status": status, "updated_at": stamp}
                if records and key in records:
                    values["crm_object"], values["record_id"] = records[key]
                if task_ids and key in task_ids:
                    values["task_id"] = task_ids[key]
                if errors and key in errors:
                    values["error"] = errors[key][:2000]
                connection.execute(
                    update(outreach_tasks).where(outreach_tasks.c.key == key).values(**values)
                )

    def drop_outreach_tasks(self, keys: Iterable[str]) -> None:
        """Forget rows that were never sent (a wanted task whose person withdrew consent)."""
        with self._write() as connection:
            for key in sorted(set(keys)):
                connection.execute(delete(outreach_tasks).where(outreach_tasks.c.key == key))

    def _erase_outreach_tasks(self, connection: Connection, person_id: str) -> None:
        """Part of :meth:`relcrm.store.Store.erase_person`'s transaction."""
        connection.execute(delete(outreach_tasks).where(outreach_tasks.c.person_id == person_id))


__all__ = [
    "LIVE",
    "TASK_STATUSES",
    "NewOutreachTask",
    "OutreachTaskRow",
    "OutreachTaskStore",
    "TaskStatus",
]
