"""Writing field values to matched records: sObject Collections, or Bulk API 2.0 when big.

- up to ``bulk_threshold`` records of an object: ``PATCH composite/sobjects`` in batches
  of 200 with ``allOrNone=false``, so one bad record is rejected with Salesforce's own
  code and message while the rest of its batch is written;
- above it: one Bulk API 2.0 update job, whose failed rows are mapped back to their
  persons by record Id.

One write may hold several objects (matching finds a Lead where the mapping says
Contact): each object's calls are made in turn, and every record written is reported as
written even when a later call fails (a spent quota raises with them in
``error.completed``).

Records that failed transiently (``UNABLE_TO_LOCK_ROW``) are re-sent alone, all of a
write's together, by the retry policy (:meth:`RetryPolicy.retry_items`); a record that
still fails after its tries is reported retryable. Whole calls that fail transiently
before reaching the org (503, no connection) are retried by the same policy; a call that
may have been carried out (connection dropped after sending, read timeout) is never sent
again blindly: its records are read back and only those whose values did not arrive are
sent again. A Bulk job whose upload may have half-arrived is aborted (an uncommitted job
is never processed), and one whose commit went unanswered is asked for its state.

Messages never carry the values written: Salesforce's own messages are scrubbed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simple_salesforce.util import call_salesforce

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import TransientError, VendorError
from relcrm.connectors.readback import find_spec, holds
from relcrm.connectors.salesforce.errors import record_is_retryable, scrub_message
from relcrm.connectors.salesforce.reading import read_values
from relcrm.connectors.scrub import without_values
from relcrm.models import FieldSpec, FieldValue, FieldWrite, WriteOutcome, WriteResult

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

MAX_BATCH = 200
BULK_THRESHOLD = 2000
NOT_MATCHED = "NOT_MATCHED"
UNPROCESSED = "UNPROCESSED"
BULK_NULL = "#N/A"  # an empty Bulk CSV cell leaves a field alone; #N/A sets it to null


@dataclass(frozen=True)
class _Item:
    index: int
    write: FieldWrite
    record_id: str
    object: str


def _result(
    item: _Item, outcome: WriteOutcome, code: str | None = None, message: str = ""
) -> WriteResult:
    return WriteResult(
        person_id=item.write.person_id,
        outcome=outcome,
        record_id=item.record_id,
        error_code=code,
        error_message=message or None,
    )


def record_message(item: _Item, messages: Sequence[str], fields: Sequence[str] = ()) -> str:
    """Salesforce's messages for one record, without any value the write sent; the API
    names of the fields concerned are added when the message names only their labels."""
    text = "; ".join(scrub_message(m) for m in messages if m)
    named = [f for f in fields if f and f not in text]
    if named:
        text = f"{text} [{', '.join(named)}]" if text else ", ".join(named)
    return without_values(text, item.write.values.values()) or ""


def _from_record_result(item: _Item, answer: dict[str, Any]) -> WriteResult:
    if answer.get("success"):
        return _result(item, WriteOutcome.WRITTEN)
    errors = [e for e in answer.get("errors") or [{}] if isinstance(e, dict)] or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_EXCEPTION")
    fields = [str(f) for e in errors for f in e.get("fields") or ()]
    message = record_message(item, [str(e.get("message", "")) for e in errors], fields)
    outcome = WriteOutcome.RETRYABLE if record_is_retryable(code) else WriteOutcome.REJECTED
    return _result(item, outcome, code, message)


_FIELD_LIST = re.compile(r"[A-Za-z0-9_,]*")


def bulk_error(cell: str) -> tuple[str, str, list[str]]:
    """An ``sf__Error`` cell (``CODE:message:Field1,Field2 --``) as code, message, fields."""
    code, _, rest = (cell or "UNKNOWN_EXCEPTION").partition(":")
    rest = rest.strip().removesuffix("--").strip()
    head, sep, tail = rest.rpartition(":")
    if sep and _FIELD_LIST.fullmatch(tail.strip()):
        return code, head.strip(), [f for f in tail.strip().split(",") if f]
    return code, rest, []


def csv_cell(value: FieldValue) -> str:
    """A value as a Bulk API 2.0 CSV cell."""
    if value is None:
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Writer:
    """Writes :class:`FieldWrite` batches to one org."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        batch_size: int = MAX_BATCH,
        bulk_threshold: int = BULK_THRESHOLD,
        bulk_poll_s: float = 2.0,
        bulk_timeout_s: float = 3600.0,
        describe: Callable[[str], list[FieldSpec]] | None = None,
    ) -> None:
        self.client = client
        self.batch_size = min(batch_size, MAX_BATCH)
        self.bulk_threshold = bulk_threshold
        self.bulk_poll_s = bulk_poll_s
        self.bulk_timeout_s = bulk_timeout_s
        self._describe = describe
        self._specs: dict[str, dict[str, FieldSpec]] = {}
        self.recovered = 0
        """Writes found in the org by a read-back after an unanswered call (not re-sent)."""

    def write(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One result per write, in order. A write without a record is ``NOT_MATCHED``.

        A quota, credential or permission error (or a transient one the policy gave up
        on) stops the write: it is raised with every result finished so far in
        ``error.completed`` (every record written among them), so nothing written is
        reported as unwritten and nothing is reported twice.
        """
        results: dict[int, WriteResult] = {}
        items: list[_Item] = []
        for index, write in enumerate(writes):
            if write.record is None:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    error_code=NOT_MATCHED,
                    error_message="no Salesforce record was matched for this person",
                )
            else:
                items.append(_Item(index, write, write.record.id, write.record.object))
        into: dict[int, WriteResult] = {}
        try:
            done = self.client.policy.retry_items(
                items,
                self._send,
                self._retryable,
                batches=self._batches,
                recover=self._recover,
                into=into,
            )
        except VendorError as exc:
            results.update({items[pos].index: r for pos, r in into.items()})
            exc.completed = [results[i] for i in sorted(results)]
            raise
        results.update({item.index: r for item, r in zip(items, done, strict=True)})
        return [results[i] for i in range(len(writes))]

    @staticmethod
    def _retryable(result: WriteResult) -> bool:
        return result.outcome is WriteOutcome.RETRYABLE

    def _batches(self, items: Sequence[_Item]) -> list[list[_Item]]:
        """One call per object above the Bulk threshold, else collections of 200."""
        by_object: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            by_object[item.object].append(item)
        out: list[list[_Item]] = []
        for group in by_object.values():
            if len(group) > self.bulk_threshold:
                out.append(group)
            else:
                out.extend(unique_batches(group, self.batch_size))
        return out

    def _send(self, batch: Sequence[_Item]) -> list[WriteResult]:
        object_name = batch[0].object
        if len(batch) > self.bulk_threshold:
            return self._bulk(object_name, batch)
        return self._composite(object_name, batch)

    # ------------------------------------------------------------------ read-back

    def field_specs(self, object_name: str, names: set[str]) -> dict[str, FieldSpec]:
        """The object's field specs by name (its describe, cached; described again when a
        name is not among them, after provisioning); empty without a describe."""
        if self._describe is None:
            return {}
        known = self._specs.get(object_name)
        folded = {name.casefold() for name in known or ()}
        if known is None or not {name.casefold() for name in names} <= folded:
            known = {spec.name: spec for spec in self._describe(object_name)}
            self._specs[object_name] = known
        return known

    def _recover(self, items: Sequence[_Item]) -> list[WriteResult | None]:
        """Read the records of an unanswered call back: a record that holds every value
        it was sent counts as written (and is not sent again)."""
        found: dict[int, WriteResult] = {}
        by_object: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            by_object[item.object].append(item)
        for object_name, group in by_object.items():
            names = {name for item in group for name in item.write.values}
            specs = self.field_specs(object_name, names)
            held = read_values(
                self.client, object_name, [i.record_id for i in group], sorted(names), specs
            )
            for item in group:
                there = held.get(item.record_id)
                if there is not None and all(
                    holds(find_spec(specs, name), value, there.get(name))
                    for name, value in item.write.values.items()
                ):
                    found[id(item)] = _result(item, WriteOutcome.WRITTEN)
        self.recovered += len(found)
        return [found.get(id(item)) for item in items]

    # ------------------------------------------------------------------ collections

    def _composite(self, object_name: str, batch: Sequence[_Item]) -> list[WriteResult]:
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": object_name}, "Id": item.record_id, **item.write.values}
                for item in batch
            ],
        }
        answer = self.client.call(
            f"update of {len(batch)} {object_name} records",
            lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body),
            resend_uncertain=False,
        )
        if not isinstance(answer, list) or len(answer) != len(batch):
            raise TransientError(
                f"Salesforce answered {object_name} collection update with an unexpected body",
                maybe_applied=True,
            )
        return [_from_record_result(item, a) for item, a in zip(batch, answer, strict=True)]

    # ------------------------------------------------------------------ bulk 2.0

    def _bulk_call(
        self, what: str, method: str, path: str, *, resend_uncertain: bool = True, **kwargs: Any
    ) -> Any:
        extra_headers: dict[str, str] = kwargs.pop("headers", {})

        def run(sf: Any) -> Any:
            headers = {**sf.headers, **extra_headers}
            return call_salesforce(
                url=f"{sf.bulk2_url}ingest{path}",
                method=method,
                session=sf.session,
                headers=headers,
                **kwargs,
            )

        return self.client.call(what, run, resend_uncertain=resend_uncertain)

    def _bulk(self, object_name: str, items: Sequence[_Item]) -> list[WriteResult]:
        columns = sorted({k for item in items for k in item.write.values})
        text = io.StringIO()
        out = csv.writer(text, lineterminator="\n")
        out.writerow(["Id", *columns])
        for item in items:
            values = item.write.values
            out.writerow(
                [item.record_id, *(csv_cell(values[c]) if c in values else "" for c in columns)]
            )
        job = self._bulk_call(
            f"Bulk API job for {object_name}",
            "POST",
            "",
            data=json.dumps(
                {
                    "object": object_name,
                    "operation": "update",
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                }
            ),
        ).json()
        job_id = str(job["id"])
        try:
            self._bulk_call(
                "Bulk API upload",
                "PUT",
                f"/{job_id}/batches",
                resend_uncertain=False,  # a second upload to one job would add the rows twice
                data=text.getvalue().encode("utf-8"),
                headers={"Content-Type": "text/csv"},
            )
        except TransientError:
            self._abort(job_id)  # an uncommitted job is never processed: nothing was written
            raise
        self._commit(job_id)
        try:
            return self._results(job_id, items)
        except TransientError as exc:
            exc.maybe_applied = True  # the committed job may have written (some of) them
            raise

    def _abort(self, job_id: str) -> None:
        with contextlib.suppress(VendorError):  # left Open, the job is never processed either
            self._bulk_call(
                "Bulk API abort", "PATCH", f"/{job_id}", data=json.dumps({"state": "Aborted"})
            )

    def _commit(self, job_id: str) -> None:
        """``UploadComplete``; an unanswered commit is checked, never sent blindly."""
        last: TransientError | None = None
        for _ in range(max(self.client.policy.attempts, 1)):
            try:
                self._bulk_call(
                    "Bulk API upload complete",
                    "PATCH",
                    f"/{job_id}",
                    resend_uncertain=False,
                    data=json.dumps({"state": "UploadComplete"}),
                )
                return
            except TransientError as exc:
                if not exc.maybe_applied:
                    raise
                info = self._bulk_call("Bulk API job status", "GET", f"/{job_id}").json()
                if str(info.get("state")) != "Open":
                    return  # the commit arrived; the answer did not
                last = exc
        assert last is not None
        raise last

    def _results(self, job_id: str, items: Sequence[_Item]) -> list[WriteResult]:
        state = self._wait(job_id)
        by_id: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            by_id[item.record_id[:15]].append(item)
        results: dict[int, WriteResult] = {}

        def rows(kind: str) -> list[dict[str, str]]:
            answer = self._bulk_call(f"Bulk API {kind}", "GET", f"/{job_id}/{kind}/")
            return list(csv.DictReader(io.StringIO(answer.text)))

        for row in rows("successfulResults"):
            for item in by_id.get((row.get("Id") or row.get("sf__Id") or "")[:15], ()):
                results[item.index] = _result(item, WriteOutcome.WRITTEN)
        for row in rows("failedResults"):
            code, message, fields = bulk_error(row.get("sf__Error") or "")
            outcome = WriteOutcome.RETRYABLE if record_is_retryable(code) else WriteOutcome.REJECTED
            for item in by_id.get((row.get("Id") or row.get("sf__Id") or "")[:15], ()):
                text = record_message(item, [message], fields)
                results[item.index] = _result(item, outcome, code, text)
        note = f"Bulk API job {job_id} ended {state} before processing this record"
        return [
            results.get(item.index) or _result(item, WriteOutcome.RETRYABLE, UNPROCESSED, note)
            for item in items
        ]

    def _wait(self, job_id: str) -> str:
        waited = 0.0
        while True:
            info = self._bulk_call("Bulk API job status", "GET", f"/{job_id}").json()
            state = str(info.get("state"))
            if state in ("JobComplete", "Failed", "Aborted"):
                return state
            if waited >= self.bulk_timeout_s:
                raise TransientError(
                    f"Bulk API job {job_id} still {state} after {waited:.0f} s",
                    maybe_applied=True,
                )
            self.client.policy.sleep(self.bulk_poll_s)
            waited += self.bulk_poll_s
