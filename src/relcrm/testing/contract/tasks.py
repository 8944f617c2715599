"""Checks of the optional feature ``follow_up_tasks`` (:class:`relcrm.connectors.TaskSink`).

What the sync engine relies on (``relcrm.sync.outreach``): a task lands on the person's
record for that record's owner; a killed run finds it again by the marker its body
carries; closing is safe to repeat; one task the CRM refuses (its record is gone) never
costs the others; and a task holds the reason it was given, nothing read from the record
(where a customer's verbatim may sit), and no refusal quotes it.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

import pytest

from relcrm.connectors import Connector, TaskSink
from relcrm.models import FieldType, FieldValue, FollowUpTask, TaskState
from relcrm.models.tasks import TASK_MARKER_PREFIX
from relcrm.testing.contract.adapter import StoredTask
from relcrm.testing.contract.base import ContractBase, close, need

REASON: Final = "Said on 3 Nov the renewal felt forced: call them this week."
"""The outreach reason each task is given (plain words, as the sync engine builds)."""
SUBJECT: Final = f"Reach out: {REASON}"
VERBATIM: Final = "Zq7 verbatim: you trapped me, liars"
"""Planted in the record's text field as a customer's words: never in a task."""


class TaskChecks(ContractBase):
    """What ``follow_up_tasks`` promises."""

    def sink(self, connector: Connector) -> TaskSink:
        """The connector as a :class:`TaskSink`, skipping when it declares no tasks."""
        if not self.capabilities.follow_up_tasks:
            pytest.skip("the connector does not declare follow_up_tasks")
        assert isinstance(connector, TaskSink), "follow_up_tasks declared without TaskSink"
        return connector

    def task(self, record_id: str, n: int = 0) -> FollowUpTask:
        """A task on the record, with a fresh key (as the sync engine makes them)."""
        return FollowUpTask(
            key=secrets.token_hex(16),
            person_id=f"person-{n}",
            record=self.ref(record_id),
            subject=SUBJECT,
            body=REASON,
            priority="high",
        )

    def test_follow_up_tasks_declared_with_task_sink(self, server: Any) -> None:
        """The flag and the protocol agree, both ways: a connector that has the methods
        but does not declare them is never handed tasks, and one that declares them has
        all four."""
        built = self.adapter.connector_class.from_settings(self.adapter.settings(server))
        try:
            has = isinstance(built, TaskSink)
            declared = self.capabilities.follow_up_tasks
            assert declared == has, f"follow_up_tasks is {declared} but TaskSink is {has}"
            assert built.capabilities.follow_up_tasks == declared
        finally:
            close(built)

    def test_follow_up_tasks_are_created_found_and_closed(
        self, connector: Connector, server: Any
    ) -> None:
        sink = self.sink(connector)
        ids = self.seed(server, "task", 2)
        tasks = [self.task(record_id, n) for n, record_id in enumerate(ids)]
        report = sink.create_tasks(tasks)
        assert not report.rejected, report.rejected
        assert set(report.created) == {t.key for t in tasks}, report
        task_ids = [report.created[t.key] for t in tasks]
        assert len(set(task_ids)) == len(task_ids) and all(task_ids), "one id per task"

        records = [t.record for t in tasks]
        assert sink.find_tasks(records, [tasks[0].key]) == {tasks[0].key: task_ids[0]}
        assert sink.find_tasks(records, [t.key for t in tasks]) == report.created
        assert sink.find_tasks(records, [secrets.token_hex(16)]) == {}, "found by marker only"
        assert sink.task_states(task_ids) == dict.fromkeys(task_ids, TaskState.OPEN)

        closed = sink.close_tasks(task_ids[:1])
        assert closed.closed == task_ids[:1] and not closed.rejected, closed
        assert sink.task_states(task_ids) == {
            task_ids[0]: TaskState.CLOSED,
            task_ids[1]: TaskState.OPEN,
        }
        again = sink.close_tasks(task_ids)
        assert sorted(again.closed) == sorted(task_ids) and not again.rejected, (
            "closing a closed task counts as closed"
        )
        assert sink.task_states(task_ids) == dict.fromkeys(task_ids, TaskState.CLOSED)

    def test_follow_up_task_goes_to_the_record_owner(
        self, connector: Connector, server: Any
    ) -> None:
        sink = self.sink(connector)
        owned, plain = self.seed(server, "owner", 2)
        owner = need(self.adapter, "seed_owner", server, owned)
        first, second = self.task(owned, 0), self.task(plain, 1)
        report = sink.create_tasks([first, second])
        assert set(report.created) == {first.key, second.key}, report
        stored = self.stored(server, report.created[first.key])
        assert stored.record in (None, owned), f"the task is on {stored.record}, not {owned}"
        assert stored.owner == owner, f"assigned to {stored.owner}, the record's owner is {owner}"
        other = self.stored(server, report.created[second.key])
        assert other.owner != owner, "a record of another owner keeps its own"

    def test_follow_up_task_holds_only_the_reason(
        self, provisioned: Connector, server: Any
    ) -> None:
        sink = self.sink(provisioned)
        planted = self.verbatim_field()
        (record,) = self.seed(server, "verbatim", 1, **planted)
        task = self.task(record)
        report = sink.create_tasks([task])
        assert list(report.created) == [task.key], report
        stored = self.stored(server, report.created[task.key])
        assert stored.subject.strip() == SUBJECT
        lines = [line.strip() for line in stored.body.splitlines() if line.strip()]
        assert lines == [REASON, f"{TASK_MARKER_PREFIX}{task.key}"], (
            f"the body holds the reason and the marker only: {lines}"
        )
        for text in (stored.subject, stored.body):
            assert VERBATIM not in text, "a value read from the record went into the task"

    def test_follow_up_task_for_a_gone_record_is_refused_alone(
        self, connector: Connector, server: Any
    ) -> None:
        sink = self.sink(connector)
        gone, kept, last = self.seed(server, "gone", 3)
        need(self.adapter, "delete_record", server, gone)
        tasks = [self.task(kept, 0), self.task(gone, 1), self.task(last, 2)]
        report = sink.create_tasks(tasks)
        assert set(report.created) == {tasks[0].key, tasks[2].key}, report
        assert list(report.rejected) == [tasks[1].key], report.rejected
        reason = report.rejected[tasks[1].key]
        assert reason.strip(), "a refusal says why"
        assert REASON not in reason and "renewal felt forced" not in reason, (
            "a refusal never quotes the task's text"
        )
        created = list(report.created.values())
        assert sink.task_states(created) == dict.fromkeys(created, TaskState.OPEN)

    # ------------------------------------------------------------------ helpers

    def stored(self, server: Any, task_id: str) -> StoredTask:
        found = need(self.adapter, "read_task", server, task_id)
        assert isinstance(found, StoredTask), "read_task returns a StoredTask"
        return found

    def verbatim_field(self) -> dict[str, FieldValue]:
        """{a text field of the specs: :data:`VERBATIM`}, as a customer's words on record."""
        for kind in (FieldType.LONG_TEXT, FieldType.TEXT):
            for spec in self.specs:
                if spec.type is kind and not spec.external_id:
                    if spec.length is not None and spec.length < len(VERBATIM):
                        continue
                    return {spec.name: VERBATIM}
        pytest.skip("the adapter's specs have no text field to plant a verbatim in")


__all__ = ["REASON", "SUBJECT", "VERBATIM", "TaskChecks"]
