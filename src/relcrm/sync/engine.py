"""The sync engine: write what changed in the profiles into one CRM target, resumably.

One run over one target (a mapping on a connector):

1. Resume the target's unfinished run if a process was killed during it (the persons it
   checkpointed are skipped), else start a new run.
2. Read persons and profiles a page at a time; :func:`relcrm.sync.selection.decide` says
   per person: send the changed fields, clear the fields (consent withdrawn), or nothing.
3. Queue the persons to write until a batch is full (the connector's declared batch
   size: one request each), match those without a remembered record, write the batch.
   A mapping with ``match.create_missing`` on a connector that upserts by external id
   (``capabilities.upsert_by_external_id``) skips matching: those persons' writes carry
   their key (``FieldWrite.key``: the ``match.by`` field and their relcrm id), the CRM
   updates the record holding it or creates one, and the record is remembered from the
   result (with ``match.fallback``, the fallback objects are searched first and only the
   persons found nowhere are upserted).
4. Record each outcome in the store: confirmed fields get their fingerprint, rejections
   (and writes still failing after the connector's retry policy) become dead letters,
   clearings are marked; then checkpoint the batch. A run killed between two batches
   loses nothing and, when started again, writes nothing twice.

A quota answer pauses the run (exit code 4, resumable); an authentication or connection
failure stops it (3). Logs name counts, persons and fields, never values or verbatims.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from relcrm.connectors import Connector
from relcrm.connectors.errors import (
    AuthenticationFailed,
    PermissionDenied,
    QuotaExhausted,
    VendorError,
)
from relcrm.errors import ConfigurationError, ExitCode, FieldProblem
from relcrm.mapping import (
    Mapping,
    StatedPreferences,
    crm_holds,
    require_supported,
)
from relcrm.models import (
    FieldWrite,
    Person,
    ReadValue,
    RecordKey,
    RecordRef,
    RelationshipProfile,
    WriteOutcome,
    WriteResult,
)
from relcrm.store import Store
from relcrm.store.partitions import Claim, partition_of
from relcrm.store.sync_state import FailedWrite, PersonRowText, RunStatus
from relcrm.sync.consent_pull import pull_consent
from relcrm.sync.counts import CARRIED_ON_RESUME, COUNT_KEYS, RunCounts
from relcrm.sync.fields import MappingProblem, Severity, check_mapping, has_errors
from relcrm.sync.lease import Holder, LeasePolicy, TargetLease, target_lease_name
from relcrm.sync.outreach import Outreach
from relcrm.sync.selection import Action, Decision, decide

logger = logging.getLogger(__name__)

PAGE_SIZE: Final = 1_000
"""Persons read from the store per transaction."""


ROW_KEY: Final = "#row"
"""The sync-state entry (beside the per-field fingerprints) that holds the hash of the
person's row, profile and mapping at the last confirmed write; no CRM field starts with
``#`` (the mapping refuses such names)."""

SHOWN_PROBLEMS: Final = 50
"""Rejections and withheld values kept in a report for display (all are counted)."""


@dataclass
class SyncProgress:
    """Passed to the progress callback after every batch (and every page read)."""

    target: str
    persons_read: int
    persons_total: int
    counts: RunCounts
    batch: int


ProgressCallback = Callable[[SyncProgress], None]


@dataclass
class SyncReport:
    """What one run did on one target: counts, calls, outcome, and examples of problems."""

    target: str
    run_id: str | None
    dry_run: bool = False
    resumed: bool = False
    status: RunStatus | None = None
    counts: RunCounts = field(default_factory=RunCounts)
    api_calls: int = 0
    duration_s: float = 0.0
    message: str | None = None
    error_code: str | None = None
    rejections: list[WriteResult] = field(default_factory=list)
    withheld: list[tuple[str, FieldProblem]] = field(default_factory=list)
    lease_wait_s: float = 0.0
    """How long the run waited for the target's lease."""
    unmatched: list[str] = field(default_factory=list)
    """Ids of persons no CRM record matched (the first few; ``relcrm unmatched`` lists
    them all)."""
    threshold_breach: str | None = None
    """Why the run broke a limit the caller set (``--max-unmatched``, ``--max-rejected``)."""
    stopped_by: ExitCode | None = None
    """The exit code of an error that kept this run from starting or going on (another
    run held the target, a CRM could not be reached); None when it ran its course."""
    partitions: list[int] | None = None
    """In a run several workers share: the partitions this worker wrote (its counts are
    theirs); None in a run of one process."""
    run_counts: RunCounts | None = None
    """In a run several workers share: the whole run's counts, summed over every
    partition, when this worker was the one that finished the run."""

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped_by is not None:
            return self.stopped_by
        if self.status == "paused":
            return ExitCode.QUOTA
        if self.status == "failed":
            return ExitCode.CONNECT
        if self.status == "partial" or self.counts["rejected"] or self.counts["failed"]:
            return ExitCode.REJECTED
        return ExitCode.OK

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            # A dry run decides and counts; its status says so, not "succeeded".
            "status": "dry run" if self.dry_run else self.status,
            "counts": self.counts.as_dict(),
            "api_calls": self.api_calls,
            "duration_s": round(self.duration_s, 3),
            "lease_wait_s": round(self.lease_wait_s, 3),
            "unmatched": list(self.unmatched),
            "threshold_breach": self.threshold_breach,
            "message": self.message,
            "error_code": self.error_code,
            "exit_code": int(self.exit_code),
            "partitions": self.partitions,
            "run_counts": None if self.run_counts is None else self.run_counts.as_dict(),
            "rejections": [
                {
                    "person_id": r.person_id,
                    "record_id": r.record_id,
                    "outcome": r.outcome.value,
                    "code": r.error_code,
                    "message": r.error_message,
                }
                for r in self.rejections
            ],
            "withheld": [
                {"person_id": person_id, "field": problem.field, "problem": problem.problem}
                for person_id, problem in self.withheld
            ],
        }


class MappingMismatchError(ConfigurationError):
    """The mapping does not fit the CRM (a field missing, hidden, of the wrong type...):
    found before anything was written. Each line is what ``relcrm mapping check`` says."""

    code = "sync.mapping_mismatch"
    default_hint = "run relcrm mapping check, fix the mapping or relcrm fields apply, run again"

    def __init__(self, target: str, crm_object: str, problems: list[MappingProblem]) -> None:
        self.problems = problems
        lines = "".join(f"\n  {p}" for p in problems if p.severity is Severity.ERROR)
        super().__init__(f"target {target}: the mapping does not fit {crm_object}:{lines}")


def _in_partition(person_id: str, slice_: tuple[int, int]) -> bool:
    index, count = slice_
    return partition_of(person_id, count) == index


def _nobody_matched(counts: RunCounts) -> bool:
    """Persons were to be written and none was, because no CRM record matched any of them
    (and nobody is up to date there either: a mapping pointing at the wrong object, or
    match keys the CRM does not hold)."""
    attempted = counts["unmatched"] + counts["ambiguous"]
    done = counts["written"] + counts["cleared"] + counts["rejected"] + counts["failed"]
    return attempted > 0 and done + counts["unchanged"] + counts["recovered"] == 0


class StopRun(Exception):
    """Raised by a progress callback to stop the run after the current batch (tests use
    it to stand for a process killed between batches)."""


@dataclass
class _Pending:
    """Decisions waiting for their batch to be full."""

    decisions: list[Decision] = field(default_factory=list)


class SyncEngine:
    """Runs one sync of ``mapping`` through ``connector`` against ``store``.

    ``target`` keys the sync state (the targets file's name). ``batch_size`` defaults
    to the connector's declared batch (one request per batch, one checkpoint per batch:
    a kill can lose at most the batch in flight). ``now`` is injectable for tests.
    """

    def __init__(
        self,
        store: Store,
        connector: Connector,
        mapping: Mapping,
        *,
        target: str | None = None,
        batch_size: int | None = None,
        now: Callable[[], datetime] | None = None,
        lease_policy: LeasePolicy | None = None,
        preflight: bool = True,
    ) -> None:
        self.store = store
        self.preflight = preflight
        self.connector = connector
        self.mapping = mapping
        self.target = target or mapping.target
        require_supported(mapping, connector.capabilities, target=self.target)
        capacity = connector.capabilities.max_batch_size
        self.batch_size = batch_size or capacity
        if self.batch_size < 1:
            raise ConfigurationError(
                f"batch size must be at least 1, got {self.batch_size}",
                code="sync.bad_batch_size",
            )
        self.now = now or (lambda: datetime.now(UTC))
        # The lease keeps the engine's clock, so an injected clock governs both.
        self.lease_policy = lease_policy or LeasePolicy(clock=self.now)
        self._lease: Holder | None = None
        self._target_lease: TargetLease | None = None
        self._allowed = mapping.field_names()
        self._upserts = (
            mapping.match.create_missing and connector.capabilities.upsert_by_external_id
        )
        """Persons without a remembered record are upserted by their key, not matched."""
        self._mapping_key = mapping.model_dump_json().encode() + b"\x00"
        self._outreach = Outreach(store, connector, mapping, self.target, self.now)
        """Follow-up tasks for record owners (the mapping's ``[outreach]``)."""
        self._reads_preferences = mapping.reads_preferences
        """Preferences are read (and hashed into each person's row) only when mapped."""

    # ------------------------------------------------------------------ public

    def run(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
        only: Iterable[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> SyncReport:
        """One run. ``full`` re-sends every mapped value; ``dry_run`` decides and counts
        without calling the CRM or changing the store; ``limit`` caps the persons
        written; ``only`` restricts the run to these person ids (dead-letter retries).

        A run that writes holds the target's lease (:mod:`relcrm.sync.lease`): if another
        live run holds it, this one waits as ``lease_policy.wait`` allows, then raises
        :class:`~relcrm.errors.TargetBusyError` having written nothing.
        """
        if limit is not None and limit < 1:
            raise ConfigurationError(
                f"--limit must be at least 1, got {limit}", code="sync.bad_limit"
            )
        if dry_run:
            return self._run(full=full, dry_run=True, limit=limit, only=only, progress=progress)
        with TargetLease(self.store, target_lease_name(self.target), self.lease_policy) as lease:
            self._lease = self._target_lease = lease
            try:
                report = self._run(
                    full=full, dry_run=False, limit=limit, only=only, progress=progress
                )
            finally:
                self._lease = self._target_lease = None
            report.lease_wait_s = lease.waited_s
            return report

    def _run(
        self,
        *,
        full: bool,
        dry_run: bool,
        limit: int | None,
        only: Iterable[str] | None,
        progress: ProgressCallback | None,
    ) -> SyncReport:
        only_ids = set(only) if only is not None else None
        started = time.monotonic()
        if not dry_run:
            self.connector.begin_run()
        calls_before = self.connector.api_calls
        report = SyncReport(target=self.target, run_id=None, dry_run=dry_run)
        skip: set[str] = set()
        in_flight: set[str] = set()
        if not dry_run:
            # This process holds the target's lease, so a run still marked "running" is
            # one whose process died (its lease expired): resume it. A restricted run (a
            # dead-letter retry) never adopts a killed full run.
            unfinished = None if only_ids is not None else self.store.unfinished_run(self.target)
            if unfinished is not None:
                report.run_id = unfinished.id
                report.resumed = True
                skip = self.store.checkpointed_persons(unfinished.id)
                # Outcomes of the persons it finished carry over; the others are counted
                # again as this run meets them, so nobody is counted twice.
                report.counts.add(RunCounts.from_stored(unfinished.counts), only=CARRIED_ON_RESUME)
                # A shared run's workers kept their counts per partition.
                by_partition, partition_calls = self.store.partition_totals(unfinished.id)
                report.counts.add(RunCounts.from_stored(by_partition), only=CARRIED_ON_RESUME)
                calls_before -= partition_calls
                report.counts["considered"] += len(skip)
                report.counts["selected"] += len(skip)
                in_flight = self.store.in_flight_persons(unfinished.id)
                calls_before -= unfinished.api_calls
                logger.info(
                    "resuming run %s on %s: %d persons already done",
                    unfinished.id,
                    self.target,
                    len(skip),
                )
            else:
                in_flight = self._left_in_flight() if only_ids is None else set()
                report.run_id = self.store.start_run(self.target, at=self.now())
            if self._target_lease is not None:
                self._target_lease.set_run(report.run_id)
        state = _RunState(report, skip, limit, only_ids, calls_before, in_flight)
        try:
            if self.mapping.consent is not None and not dry_run:
                pulled = pull_consent(
                    self.store, self.connector, self.mapping, target=self.target, now=self.now()
                )
                report.counts["consent_granted"] += len(pulled.granted)
                report.counts["consent_withdrawn"] += len(pulled.withdrawn)
            self._run_pages(state, full=full, dry_run=dry_run, progress=progress)
            if not dry_run:
                self._outreach.settle(report.counts, check=self._check_lease)
            status: RunStatus = (
                "partial" if report.counts["rejected"] or report.counts["failed"] else "succeeded"
            )
            if not dry_run and _nobody_matched(report.counts):
                status = "partial"
                report.message = (
                    f"none of the {report.counts['unmatched']} persons to write matched a "
                    f"{self.mapping.object} record: check the match keys (mapping [match]) "
                    "and that the persons exist in the CRM (relcrm unmatched)"
                )
                report.error_code = "sync.nobody_matched"
        except StopRun:
            report.status = None
            report.message = "stopped after a batch (resume by running again)"
            report.api_calls = self.connector.api_calls - calls_before
            report.duration_s = time.monotonic() - started
            return report
        except QuotaExhausted as exc:
            status, report.message, report.error_code = "paused", exc.message, exc.code
        except MappingMismatchError:
            if report.run_id is not None and not dry_run:
                self.store.finish_run(
                    report.run_id,
                    "failed",
                    {},
                    0,
                    "the mapping does not fit the CRM",
                    at=self.now(),
                )
            raise
        except (AuthenticationFailed, PermissionDenied) as exc:
            status, report.message, report.error_code = "failed", exc.message, exc.code
        except VendorError as exc:
            status, report.message, report.error_code = "failed", exc.message, exc.code
        report.status = status
        report.api_calls = self.connector.api_calls - calls_before
        report.duration_s = time.monotonic() - started
        if report.run_id is not None and not dry_run:
            self.store.finish_run(
                report.run_id,
                status,
                _stored_counts(report.counts),
                report.api_calls,
                report.message,
                at=self.now(),
            )
        logger.info(
            "sync %s %s: %s in %.1f s, %d API calls",
            self.target,
            status,
            ", ".join(f"{k} {report.counts[k]}" for k in COUNT_KEYS if report.counts[k]),
            report.duration_s,
            report.api_calls,
        )
        return report

    def _left_in_flight(self) -> set[str]:
        """Persons whose batch was being sent when the CRM stopped the last run (failed,
        paused): their writes may have arrived, so this run reads them back first."""
        last = self.store.runs(1, target=self.target)
        if not last or last[0].status not in ("failed", "paused"):
            return set()
        return self.store.in_flight_persons(last[0].id)

    def run_partition(
        self,
        claim: Claim,
        hold: Holder,
        *,
        worker: str,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> SyncReport:
        """One partition of a run several workers share (:mod:`relcrm.sync.workers`): the
        persons of ``claim``'s slice only, checkpointed into the shared run, which this
        method neither starts nor finishes. ``hold`` must stay ours while it writes
        (``hold.check()`` raises otherwise). A taken-over partition skips the persons its
        former holder checkpointed and reads back the batch it had in flight."""
        started = time.monotonic()
        calls_before = self.connector.api_calls
        report = SyncReport(target=self.target, run_id=claim.run_id)
        slice_ = (claim.partition, claim.count)
        skip = {
            person_id
            for person_id in self.store.checkpointed_persons(claim.run_id)
            if _in_partition(person_id, slice_)
        }
        in_flight = {
            person_id
            for person_id in self.store.in_flight_persons(claim.run_id)
            if _in_partition(person_id, slice_)
        }
        report.resumed = bool(skip or in_flight or claim.taken_over)
        # What earlier holders of a taken-over partition did carries over, as on resume.
        report.counts.add(RunCounts.from_stored(claim.counts), only=CARRIED_ON_RESUME)
        report.counts["considered"] += len(skip)
        report.counts["selected"] += len(skip)
        calls_before -= claim.api_calls
        state = _RunState(
            report, skip, None, None, calls_before, in_flight, partition=slice_, claim=claim
        )
        state.worker = worker
        self._lease = hold
        try:
            self._run_pages(state, full=full, dry_run=False, progress=progress)
            self._outreach.settle(
                report.counts,
                belongs=lambda person_id: _in_partition(person_id, slice_),
                check=self._check_lease,
            )
            status: RunStatus = (
                "partial" if report.counts["rejected"] or report.counts["failed"] else "succeeded"
            )
        except QuotaExhausted as exc:
            status, report.message, report.error_code = "paused", exc.message, exc.code
        except (AuthenticationFailed, PermissionDenied, VendorError) as exc:
            status, report.message, report.error_code = "failed", exc.message, exc.code
        finally:
            self._lease = None
        report.status = status
        report.api_calls = self.connector.api_calls - calls_before
        report.duration_s = time.monotonic() - started
        return report

    def _preflight(self) -> None:
        """Check the mapping against the CRM's schema before the run's first write: a
        field that is missing, hidden or of the wrong type would reject every record, so
        the run stops at once with the lines ``relcrm mapping check`` prints. A run with
        nothing to write (most daily runs) costs no describe call."""
        problems: list[MappingProblem] = []
        for object_name in dict.fromkeys([self.mapping.object, *self.mapping.match.fallback]):
            described = self.connector.describe(object_name)
            found = check_mapping(self.mapping, described)
            if object_name != self.mapping.object:
                found = [replace(p, field=f"{object_name}.{p.field}") for p in found]
            problems.extend(found)
        if has_errors(problems):
            raise MappingMismatchError(self.target, self.mapping.object, problems)

    # ------------------------------------------------------------------ pages

    def _run_pages(
        self,
        state: _RunState,
        *,
        full: bool,
        dry_run: bool,
        progress: ProgressCallback | None,
    ) -> None:
        total = self.store.count_persons()
        lettered = {letter.person_id for letter in self.store.open_dead_letters(self.target)}
        read = 0
        pending = _Pending()
        counts = state.report.counts
        for raw_page in self.store.person_row_pages(PAGE_SIZE):
            read += len(raw_page)
            rows = [
                row
                for row in raw_page
                if row.id not in state.skip
                and (state.only is None or row.id in state.only)
                and (state.partition is None or _in_partition(row.id, state.partition))
            ]
            if not rows:
                continue
            pushed = self.store.field_fingerprints(self.target, [row.id for row in rows])
            stated = (
                self.store.preference_rows([row.id for row in rows])
                if self._reads_preferences
                else {}
            )
            page: list[tuple[Person, RelationshipProfile | None, str]] = []
            unchanged: dict[str, dict[str, str]] = {}
            settled: list[str] = []
            for row in rows:
                row_hash = self._row_hash(row, stated.get(row.id, ()))
                if not full and pushed.get(row.id, {}).get(ROW_KEY) == row_hash:
                    # Person, profile and mapping are as they were when this person's
                    # values were last confirmed: nothing can have changed.
                    counts["considered"] += 1
                    counts["unchanged"] += 1
                    if row.id in lettered:
                        settled.append(row.id)  # the CRM has these values after all
                    continue
                page.append((row.parsed_person(), row.parsed_profile(), row_hash))
            self._outreach.consider([(p, f) for p, f, _ in page], counts, dry_run=dry_run)
            withdrawn = [p.id for p, _, _ in page if not p.consent.granted and p.id in pushed]
            cleared = self.store.cleared(self.target, withdrawn) if withdrawn else set()
            for person, profile, row_hash in page:
                counts["considered"] += 1
                if state.limit_reached():
                    continue
                decision = decide(
                    person,
                    profile,
                    self.mapping,
                    pushed.get(person.id),
                    cleared=person.id in cleared,
                    full=full,
                    preferences=StatedPreferences.from_json(stated.get(person.id, ())),
                )
                if decision.action is Action.SEND:
                    decision.fingerprints[ROW_KEY] = row_hash  # stored once confirmed
                self._count_decision(state, decision)
                if decision.action is Action.UNCHANGED:
                    unchanged[person.id] = {ROW_KEY: row_hash}
                    if person.id in lettered:
                        settled.append(person.id)  # the CRM has these values after all
                if decision.writes:
                    state.selected += 1
                    counts["selected"] += 1
                    if not dry_run:
                        pending.decisions.append(decision)
                if len(pending.decisions) >= self.batch_size:
                    self._flush(state, pending, progress, read, total)
            if settled and not dry_run:
                self.store.resolve_dead_letters_of(self.target, settled)
            if unchanged and not dry_run:
                self.store.record_pushed_many(self.target, unchanged, self.now())
            if progress is not None:
                progress(SyncProgress(self.target, read, total, counts, state.batch))
        if pending.decisions:
            self._flush(state, pending, progress, read, total)

    def _check_lease(self) -> None:
        """Never write once another run holds the target (or this worker's partition)."""
        if self._lease is not None:
            self._lease.check()

    def _row_hash(self, row: PersonRowText, preferences: Sequence[str] = ()) -> str:
        """What a person's values depend on: their stored row, their profile's, the
        mapping, and (when it reads them) their stated preferences, so a new statement
        marks the person changed. Equal to the hash stored at the last confirmed write
        means unchanged."""
        digest = hashlib.sha256(self._mapping_key)
        digest.update(row.person.encode())
        digest.update(b"\x00")
        digest.update((row.profile or "").encode())
        for text in preferences:  # none unless the mapping reads preferences
            digest.update(b"\x1e")
            digest.update(text.encode())
        return digest.hexdigest()[:32]

    def _count_decision(self, state: _RunState, decision: Decision) -> None:
        counts = state.report.counts
        if decision.action is Action.UNCHANGED:
            counts["unchanged"] += 1
        elif decision.action is Action.NO_CONSENT:
            counts["skipped_no_consent"] += 1
        elif decision.action is Action.NO_PROFILE:
            counts["no_profile"] += 1
        counts["fields_withheld"] += len(decision.withheld)
        counts["fields_truncated"] += len(decision.adjustments)
        for problem in decision.withheld:
            if len(state.report.withheld) < SHOWN_PROBLEMS:
                state.report.withheld.append((decision.person.id, problem))
            logger.warning(
                "%s: person %s: field %s not sent: %s",
                self.target,
                decision.person.id,
                problem.field,
                problem.problem,
            )

    # ------------------------------------------------------------------ batches

    def _flush(
        self,
        state: _RunState,
        pending: _Pending,
        progress: ProgressCallback | None,
        read: int,
        total: int,
    ) -> None:
        while pending.decisions:
            batch = pending.decisions[: self.batch_size]
            del pending.decisions[: self.batch_size]
            self._write_batch(state, batch)
            if progress is not None:
                progress(SyncProgress(self.target, read, total, state.report.counts, state.batch))

    def _records_for(
        self, state: _RunState, batch: Sequence[Decision]
    ) -> tuple[dict[str, RecordRef], set[str]]:
        """The CRM record of each person of the batch (remembered, or matched now), and
        the persons to upsert by their key instead (``match.create_missing``)."""
        ids = [d.person.id for d in batch]
        system = self.connector.capabilities.name
        records = {
            person_id: RecordRef(system=system, object=known.object, id=known.record_id)
            for person_id, known in self.store.known_records(self.target, ids).items()
        }
        keys: dict[str, list[str]] = {}
        for decision in batch:
            if decision.person.id in records or decision.action is Action.CLEAR:
                continue
            keys[decision.person.id] = self.mapping.match_keys(decision.person)
        if keys and self._upserts and not self.mapping.match.fallback:
            return records, set(keys)  # the CRM finds (or creates) them as it writes
        keyed: set[str] = set()
        if keys:
            found = self.connector.find_records(
                self.mapping.object,
                keys,
                by=self.mapping.match.by,
                fallback=self.mapping.match.fallback,
            )
            self.store.remember_records(
                self.target,
                {p: (ref.object, ref.id) for p, ref in found.matched.items()},
                at=self.now(),
            )
            records.update(found.matched)
            if self._upserts:
                keyed = set(found.unmatched)  # found nowhere: created in the mapped object
            else:
                if found.unmatched and state.report.run_id is not None:
                    self.store.remember_unmatched(self.target, found.unmatched, at=self.now())
                state.report.counts["unmatched"] += len(found.unmatched)
                room = SHOWN_PROBLEMS - len(state.report.unmatched)
                state.report.unmatched.extend(sorted(found.unmatched)[: max(0, room)])
            state.report.counts["ambiguous"] += len(found.ambiguous)
            for person_id, refs in found.ambiguous.items():
                logger.warning(
                    "%s: person %s matches %d records; not written (merge them in the CRM)",
                    self.target,
                    person_id,
                    len(refs),
                )
        return records, keyed

    def _write_batch(self, state: _RunState, batch: Sequence[Decision]) -> None:
        records, keyed = self._records_for(state, batch)
        writes: list[FieldWrite] = []
        by_person: dict[str, Decision] = {}
        match = self.mapping.match
        for decision in batch:
            person_id = decision.person.id
            record = records.get(person_id)
            if record is None and person_id not in keyed:
                continue
            stray = set(decision.values) - self._allowed
            if stray:  # a bug upstream must never reach a field the admin did not map
                raise ConfigurationError(
                    f"refusing to write fields outside the mapping: {', '.join(sorted(stray))}",
                    code="sync.unmapped_field",
                )
            if record is not None:
                write = FieldWrite(person_id=person_id, record=record, values=decision.values)
            else:
                write = FieldWrite(
                    person_id=person_id,
                    values=decision.values,
                    key=RecordKey(field=match.by, value=person_id),
                    create_values=dict(match.create_values),
                )
            writes.append(write)
            by_person[person_id] = decision
        if self._lease is not None:
            self._lease.check()  # never write once another run holds the target
        if self.preflight and not state.preflighted:
            self._preflight()  # before the run's first write, not on runs with none
            state.preflighted = True
        writes = self._found_in_flight(state, writes, records)
        results = self._recovered(state, writes)
        writes = [w for w in writes if w.person_id not in {r.person_id for r in results}]
        if writes and state.report.run_id is not None:
            self.store.mark_in_flight(state.report.run_id, [w.person_id for w in writes])
        if writes:
            try:
                results += self.connector.write(self.mapping.object, writes)
            except VendorError as stopped:
                # The CRM stopped the batch part-way (a spent quota, a refused login): keep
                # what it finished, so nothing written is sent again; the rest stays in
                # flight for the next run to read back.
                finished = [r for r in stopped.completed if isinstance(r, WriteResult)]
                self._settle(state, [*results, *finished], by_person, records)
                raise
        self._settle(state, results, by_person, records)
        state.batch += 1
        if state.report.run_id is not None:
            calls = max(0, self.connector.api_calls - state.calls_before)
            shared = state.claim is not None  # each worker's counts go to its partition
            self.store.checkpoint(
                state.report.run_id,
                state.batch,
                [d.person.id for d in batch],
                counts=None if shared else _stored_counts(state.report.counts),
                api_calls=None if shared else calls,
            )
            if state.claim is not None:
                self.store.checkpoint_partition(
                    state.claim, state.worker, _stored_counts(state.report.counts), calls
                )

    def _settle(
        self,
        state: _RunState,
        results: Sequence[WriteResult],
        by_person: dict[str, Decision],
        records: dict[str, RecordRef],
    ) -> None:
        """Store the outcomes of a batch: fingerprints for what the CRM confirmed, dead
        letters (the CRM's reason, never the values) for what it refused, and the records
        upserts found or created (so later runs update them by id)."""
        counts = state.report.counts
        at = self.now()
        confirmed: dict[str, dict[str, str]] = {}
        cleared: list[str] = []
        failures: list[FailedWrite] = []
        upserted: dict[str, tuple[str, str]] = {}
        created = 0
        for result in results:
            decision = by_person[result.person_id]
            known = records.get(result.person_id)
            if result.outcome is WriteOutcome.WRITTEN and known is None and result.record_id:
                upserted[result.person_id] = (self.mapping.object, result.record_id)
                created += result.created is True
            if result.outcome is WriteOutcome.WRITTEN:
                if decision.action is Action.CLEAR:
                    cleared.append(result.person_id)
                    counts.cleared += 1
                else:
                    confirmed[result.person_id] = decision.fingerprints
                    counts.written += 1
                counts.fields_sent += len(decision.values)
                continue
            if result.outcome is WriteOutcome.REJECTED:
                counts.rejected += 1
            else:
                counts.failed += 1
            if len(state.report.rejections) < SHOWN_PROBLEMS:
                state.report.rejections.append(result)
            failures.append(
                FailedWrite(
                    person_id=result.person_id,
                    fields=decision.values,
                    error_code=result.error_code or result.outcome.value,
                    error_message=result.error_message or "",
                    record_id=result.record_id or (known.id if known is not None else None),
                )
            )
        if upserted:
            self.store.remember_records(self.target, upserted, at=at)
        if created:
            logger.info("%s: %d records created (match.create_missing)", self.target, created)
        if confirmed:
            self.store.record_pushed_many(self.target, confirmed, at)
        if cleared:
            self.store.mark_cleared(self.target, cleared, at)
        done = list(confirmed) + cleared
        if done:
            self.store.resolve_dead_letters_of(self.target, done)
        if failures:
            self.store.add_dead_letters(self.target, failures, at=at, run_id=state.report.run_id)

    def _found_in_flight(
        self,
        state: _RunState,
        writes: Sequence[FieldWrite],
        records: dict[str, RecordRef],
    ) -> list[FieldWrite]:
        """Upserts of a killed run's last batch may have created their records before the
        run could remember them: look those keys up (``find_records`` by the key field),
        so each record found is remembered and written by its id, read back like any other
        write first (:meth:`_recovered`), and never created a second time."""
        keyed = [w for w in writes if w.person_id in state.in_flight and w.record is None]
        if not keyed or not self._upserts:
            return list(writes)
        by = self.mapping.match.by
        found = self.connector.find_records(
            self.mapping.object, {w.person_id: [w.key.value] for w in keyed if w.key}, by=by
        )
        if not found.matched:
            return list(writes)
        self.store.remember_records(
            self.target,
            {p: (ref.object, ref.id) for p, ref in found.matched.items()},
            at=self.now(),
        )
        records.update(found.matched)
        return [
            w.model_copy(
                update={"record": found.matched[w.person_id], "key": None, "create_values": {}}
            )
            if w.person_id in found.matched
            else w
            for w in writes
        ]

    def _recovered(self, state: _RunState, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Writes of a killed run's last batch that reached the CRM all the same: read the
        records back and count a write whose every value the CRM holds as done, so a
        resumed run does not send it twice. The others are sent as usual."""
        uncertain = [w for w in writes if w.person_id in state.in_flight and w.record]
        if not uncertain or not self.connector.capabilities.reads_back:
            return []
        state.in_flight.difference_update(w.person_id for w in uncertain)
        by_name = {item.name: item for item in self.mapping.fields}
        held: dict[str, dict[str, ReadValue]] = {}
        for object_name in sorted({w.record.object for w in uncertain if w.record}):
            ids = [w.record.id for w in uncertain if w.record and w.record.object == object_name]
            names = sorted({name for w in uncertain for name in w.values})
            held.update(self.connector.read_values(object_name, ids, names))
        recovered: list[WriteResult] = []
        for write in uncertain:
            assert write.record is not None
            there = held.get(write.record.id)
            if there is not None and all(
                crm_holds(by_name[name], value, there.get(name))
                for name, value in write.values.items()
            ):
                recovered.append(
                    WriteResult(
                        person_id=write.person_id,
                        outcome=WriteOutcome.WRITTEN,
                        record_id=write.record.id,
                    )
                )
        state.report.counts["recovered"] += len(recovered)
        if recovered:
            logger.info(
                "%s: %d writes of the killed run were found in the CRM; not sent again",
                self.target,
                len(recovered),
            )
        return recovered


@dataclass
class _RunState:
    report: SyncReport
    skip: set[str]
    limit: int | None
    only: set[str] | None
    calls_before: int
    """The connector's call count when the run (or the run it resumes) began."""
    in_flight: set[str] = field(default_factory=set)
    """Persons whose batch was being sent when the resumed run was killed."""
    selected: int = 0
    batch: int = 0
    preflighted: bool = False
    """Whether the mapping was checked against the CRM in this run (before its first write)."""
    partition: tuple[int, int] | None = None
    """(index, count): only persons of this partition (a shared run's slice)."""
    claim: Claim | None = None
    """The partition this worker holds, in a shared run."""
    worker: str = ""

    def limit_reached(self) -> bool:
        return self.limit is not None and self.selected >= self.limit


def _stored_counts(counts: RunCounts) -> dict[str, int]:
    return counts.as_dict(nonzero=True)


__all__ = [
    "COUNT_KEYS",
    "ExitCode",
    "ProgressCallback",
    "RunCounts",
    "StopRun",
    "SyncEngine",
    "SyncProgress",
    "SyncReport",
]
