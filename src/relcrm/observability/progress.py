"""Progress as plain lines, for output that is not a terminal (cron, systemd, Kubernetes).

On a terminal the ``relcrm`` command draws rich progress bars; in a log file a bar is
either nothing or a flood of control characters. :class:`LineProgress` writes a line
instead, at most every ``step_percent`` of the total (10 %) or every ``interval_s``
seconds (30 s) when the total is unknown or progress is slow, and a last line when the
task ends::

    2026-11-22T06:00:04.021Z INFO relcrm.progress: sync hs: 1,000 of 10,000 (10%), written 990,
        3.9 s, 256/s
    2026-11-22T06:00:39.170Z INFO relcrm.progress: sync hs: done, 10,000 of 10,000 (100%),
        written 9,940, 39.0 s, 256/s

(each on one line).
The lines are INFO records of the ``relcrm.progress`` logger, so they take the log format
(``--log-format json`` gives one object a line with a ``progress`` field), the timestamps
and the redaction of every other log line.

It has the part of :class:`rich.progress.Progress`'s interface the command uses
(``add_task``, ``advance``, ``update``, a context manager), so either can be passed where
progress is reported.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from rich.progress import TaskID

from relcrm.observability.logs import PROGRESS_LOGGER

__all__ = ["LineProgress"]


@dataclass
class _Task:
    name: str
    total: float | None
    started: float
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    last_line: float = 0.0
    last_step: int = 0
    lines: int = 0
    reported: float | None = None
    """``completed`` at the last line written (None before the first)."""
    finished: bool = False


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


class LineProgress:
    """Progress lines for output that is not a terminal.

    ``label`` names every task (as the terminal bar's first column does); without it,
    each task's ``description`` does. ``min_gap_s`` keeps a fast run from writing a line
    per step: a percentage step is written only if that long has passed since the last
    line, so a run of a few seconds writes its last line only.
    """

    def __init__(
        self,
        label: str | None = None,
        *,
        step_percent: float = 10.0,
        interval_s: float = 30.0,
        min_gap_s: float = 1.0,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < step_percent <= 100:
            raise ValueError("step_percent must be in (0, 100]")
        if interval_s <= 0 or min_gap_s < 0:
            raise ValueError("interval_s must be positive and min_gap_s not negative")
        self.label = label
        self.step_percent = step_percent
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self.logger = logger or logging.getLogger(PROGRESS_LOGGER)
        self.clock = clock
        self._tasks: dict[TaskID, _Task] = {}

    # ------------------------------------------------------------ rich-like interface

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks.values():
            if not task.finished:
                self._finish(task, stopped=kind is not None)

    def add_task(
        self,
        description: str,
        start: bool = True,
        total: float | None = 100.0,
        completed: float = 0,
        visible: bool = True,
        **fields: Any,
    ) -> TaskID:
        """A new task; returns its id for :meth:`advance` and :meth:`update`."""
        task_id = TaskID(len(self._tasks))
        now = self.clock()
        self._tasks[task_id] = _Task(
            name=self.label or description,
            total=total,
            started=now,
            completed=float(completed),
            fields=dict(fields),
            last_line=now,
        )
        return task_id

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        """``advance`` more items done."""
        task = self._tasks[task_id]
        task.completed += advance
        self._maybe_write(task)

    def update(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None:
        """Set the total, the count done (or add to it), the name or extra fields."""
        task = self._tasks[task_id]
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = float(completed)
        if advance is not None:
            task.completed += advance
        if description is not None and self.label is None:
            task.name = description
        task.fields.update(fields)
        self._maybe_write(task)

    def stop_task(self, task_id: TaskID) -> None:
        """Write the task's last line now rather than when the block ends."""
        task = self._tasks[task_id]
        if not task.finished:
            self._finish(task, stopped=False)

    # --------------------------------------------------------------------- the lines

    def _percent(self, task: _Task) -> float | None:
        if not task.total or task.total <= 0:
            return None
        return min(100.0, 100.0 * task.completed / task.total)

    def _maybe_write(self, task: _Task) -> None:
        if task.finished:
            return
        now = self.clock()
        since = now - task.last_line
        percent = self._percent(task)
        step = 0 if percent is None else math.floor(percent / self.step_percent + 1e-9)
        # A step crossed too soon after the last line is written once the gap has passed;
        # 100 % is left to the last line, which follows when the task ends.
        stepped = step > task.last_step and since >= self.min_gap_s and (percent or 0) < 100
        if (since >= self.interval_s or stepped) and task.completed != task.reported:
            self._write(task, now, state=None)
            task.last_step = step

    def _finish(self, task: _Task, *, stopped: bool) -> None:
        task.finished = True
        self._write(task, self.clock(), state="stopped" if stopped else "done")

    def _write(self, task: _Task, now: float, state: str | None) -> None:
        elapsed = max(0.0, now - task.started)
        percent = self._percent(task)
        parts: list[str] = []
        if state:
            parts.append(state)
        if task.total:
            parts.append(f"{_number(task.completed)} of {_number(task.total)} ({percent:.0f}%)")
        else:
            parts.append(f"{_number(task.completed)}" + ("" if state else " so far"))
        parts.extend(f"{key.replace('_', ' ')} {_value(item)}" for key, item in task.fields.items())
        parts.append(f"{elapsed:.1f} s")
        if elapsed > 0 and task.completed:
            parts.append(f"{task.completed / elapsed:,.0f}/s")
        progress: dict[str, object] = {
            "task": task.name,
            "completed": _plain(task.completed),
            "total": None if task.total is None else _plain(task.total),
            "percent": None if percent is None else round(percent, 1),
            "elapsed_s": round(elapsed, 3),
            "state": state or "running",
            **task.fields,
        }
        self.logger.info("%s: %s", task.name, ", ".join(parts), extra={"progress": progress})
        task.last_line = now
        task.reported = task.completed
        task.lines += 1


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _value(item: object) -> str:
    if isinstance(item, int | float) and not isinstance(item, bool):
        return _number(item)
    return str(item)
