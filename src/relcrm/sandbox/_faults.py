"""Seeded fault plans shared by every sandbox.

A fault plan says how badly the fake CRM should behave: slow answers, transient
"service unavailable" answers, dropped connections, sessions that expire after some
calls, and per-record failures. Every decision is derived from the seed and a stable
key (the request's sequence number, or the record's key), so the same plan gives the
same faults run after run; that is what lets a test assert "nothing lost, nothing
written twice" under failure.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FaultPlan(BaseModel):
    """How a sandbox misbehaves. All rates are probabilities in [0, 1]."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, description="same seed, same faults")
    latency_ms: int = Field(default=0, ge=0, description="added to every answer")
    unavailable_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of API calls answered 503 (or 429)"
    )
    unavailable_calls: list[int] = Field(
        default_factory=list, description="API call numbers (1-based) answered 503"
    )
    retry_after_s: int | None = Field(
        default=None,
        ge=0,
        description="send ``Retry-After: <seconds>`` on the plan's 503s (None: no header)",
    )
    drop_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of API calls whose connection is closed"
    )
    drop_calls: list[int] = Field(
        default_factory=list, description="API call numbers (1-based) whose connection is closed"
    )
    drop_after_processing: bool = Field(
        default=False,
        description="drop the connection after the call was processed (its writes happen, "
        "the client never hears); tests idempotent retries",
    )
    drop_mode: Literal["close", "reset", "tls"] = Field(
        default="close",
        description="how a dropped connection ends: 'close' closes it without an answer, "
        "'reset' sends a TCP reset, 'tls' first sends a corrupt TLS record (a broken proxy or "
        "middlebox: clients see a TLS error instead of a closed connection)",
    )
    slow_calls: list[int] = Field(
        default_factory=list,
        description="API call numbers (1-based) whose answer is held back ``slow_ms`` after "
        "the call was processed (a client whose read timeout is shorter gives up although "
        "the CRM did the work)",
    )
    slow_ms: int = Field(default=0, ge=0, description="how long ``slow_calls`` answers wait")
    session_expires_after: int | None = Field(
        default=None, ge=1, description="a session becomes invalid after this many API calls"
    )
    record_failure_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of written records that fail transiently"
    )
    record_failure_keys: list[str] = Field(
        default_factory=list,
        description="record ids or key values that fail transiently (e.g. row lock)",
    )
    record_failure_times: int = Field(
        default=1,
        ge=0,
        description="how often each chosen record fails before it succeeds (0 = always)",
    )
    faults_on_auth: bool = Field(
        default=False, description="apply 503s and drops to login/token calls as well"
    )
    paths: list[str] = Field(
        default_factory=list,
        description="apply 503s, drops and slow answers only to calls whose path contains "
        "one of these (``/composite/sobjects``, ``/batch/update``); those calls alone are "
        "numbered for ``*_calls``, so ``drop_calls=[1]`` drops the first write (empty: "
        "every call)",
    )

    @classmethod
    def from_file(cls, path: Path) -> FaultPlan:
        """Load a plan from a JSON file (the format the CLI's ``--faults`` takes)."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CallFaults:
    """What to do to one API call."""

    latency_s: float = 0.0
    unavailable: bool = False
    drop: bool = False
    slow_s: float = 0.0
    """Held back after processing, before the answer is sent."""


def _unit(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for (seed, parts): stable across runs and platforms."""
    text = ":".join([str(seed), *(str(p) for p in parts)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    """Applies a :class:`FaultPlan`; thread-safe, and replaceable while the server runs."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._calls = 0
        self._record_failures: dict[str, int] = {}

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def set_plan(self, plan: FaultPlan | None) -> None:
        """Swap the plan and restart its counters, so a test can change weather mid-run."""
        with self._lock:
            self._plan = plan or FaultPlan()
            self._calls = 0
            self._record_failures.clear()

    def next_call(self, *, is_auth: bool = False, path: str = "") -> CallFaults:
        """Decide the fate of the next API call (numbered from 1 in arrival order, among
        the calls the plan's ``paths`` select)."""
        with self._lock:
            plan = self._plan
            latency = plan.latency_ms / 1000.0
            if is_auth and not plan.faults_on_auth:
                return CallFaults(latency_s=latency)
            if plan.paths and not any(p in path for p in plan.paths):
                return CallFaults(latency_s=latency)
            self._calls += 1
            n = self._calls
        drop = n in plan.drop_calls or _unit(plan.seed, "drop", n) < plan.drop_rate
        unavailable = not drop and (
            n in plan.unavailable_calls or _unit(plan.seed, "503", n) < plan.unavailable_rate
        )
        slow = plan.slow_ms / 1000.0 if n in plan.slow_calls else 0.0
        return CallFaults(latency_s=latency, unavailable=unavailable, drop=drop, slow_s=slow)

    def record_fails(self, *keys: str | None) -> bool:
        """Whether a write of the record known by ``keys`` (id, key value) fails this time.

        A chosen record fails ``record_failure_times`` times and then succeeds, like a row
        lock that clears; so a client that retries gets through and one that does not
        loses the write, which is exactly what tests want to tell apart.
        """
        plan = self._plan
        live = [k for k in keys if k]
        if not live:
            return False
        chosen = any(k in plan.record_failure_keys for k in live) or (
            plan.record_failure_rate > 0
            and _unit(plan.seed, "record", live[0]) < plan.record_failure_rate
        )
        if not chosen:
            return False
        with self._lock:
            count = self._record_failures.get(live[0], 0)
            if plan.record_failure_times and count >= plan.record_failure_times:
                return False
            self._record_failures[live[0]] = count + 1
        return True
