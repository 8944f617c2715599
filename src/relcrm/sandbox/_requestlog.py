"""The sandboxes' request log: what each call did, so tests can prove what was written.

End-to-end tests need to assert facts such as "every record was written exactly once"
even when faults made the client retry; the log records every call (method, path,
status, the fault applied) and, for writes, which records were touched.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordWrite:
    """One record written by one call: its object, the operation, its id and its key."""

    object: str
    operation: str  # "create" | "update" | "upsert" | "delete"
    id: str | None
    key: str | None = None
    success: bool = True
    fields: tuple[str, ...] = ()
    """The fields the write carried, where the sandbox notes them (Salesforce's sObject
    Collections, HubSpot's batch update): tests count what a delta sync sent."""


@dataclass
class LoggedCall:
    """One HTTP call the sandbox received (or a background job step, method ``JOB``)."""

    seq: int
    method: str
    path: str
    query: str
    status: int = 0  # 0: no answer was sent (dropped connection)
    fault: str | None = None
    writes: list[RecordWrite] = field(default_factory=list)


class RequestLog:
    """Thread-safe, append-only list of :class:`LoggedCall`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[LoggedCall] = []
        self._seq = 0

    def start(self, method: str, path: str, query: str) -> LoggedCall:
        """Open an entry for a call that has just arrived."""
        with self._lock:
            self._seq += 1
            call = LoggedCall(seq=self._seq, method=method, path=path, query=query)
            self._calls.append(call)
            return call

    def calls(self) -> list[LoggedCall]:
        """A snapshot of every call so far, in arrival order."""
        with self._lock:
            return list(self._calls)

    def __iter__(self) -> Iterator[LoggedCall]:
        return iter(self.calls())

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def clear(self) -> None:
        """Forget every call (sequence numbers keep growing)."""
        with self._lock:
            self._calls.clear()

    def writes(self, *, successful_only: bool = True) -> list[RecordWrite]:
        """Every record write in order, across calls."""
        return [w for c in self.calls() for w in c.writes if w.success or not successful_only]

    def write_counts(self, object_name: str | None = None) -> Counter[str]:
        """How many successful writes each record id received (optionally for one object)."""
        return Counter(
            w.id
            for w in self.writes()
            if w.id is not None and (object_name is None or w.object == object_name)
        )

    def statuses(self) -> Counter[int]:
        """How many calls ended with each HTTP status (0 for dropped connections)."""
        return Counter(c.status for c in self.calls())
