"""Writing field values to matched records: sObject Collections, or Bulk API 2.0 when big.

- up to ``bulk_threshold`` records: ``PATCH composite/sobjects`` in batches of 200 with
  ``allOrNone=false``, so one bad record is rejected with Salesforce's own code and
  message while the rest of its batch is written;
- above it: one Bulk API 2.0 update job, whose failed rows are mapped back to their
  persons by record Id.

Records that failed transiently (``UNABLE_TO_LOCK_ROW``) are re-sent alone by the retry
policy; written records are never sent again. Whole calls that fail transiently (503,
dropped connection) are retried by the same policy.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simple_salesforce.util import call_salesforce

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import TransientError, VendorError
from relcrm.connectors.salesforce.errors import record_is_retryable
from relcrm.models import FieldValue, FieldWrite, WriteOutcome, WriteResult

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


def _from_record_result(item: _Item, answer: dict[str, Any]) -> WriteResult:
    if answer.get("success"):
        return _result(item, WriteOutcome.WRITTEN)
    errors = answer.get("errors") or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_EXCEPTION")
    message = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
    outcome = WriteOutcome.RETRYABLE if record_is_retryable(code) else WriteOutcome.REJECTED
    return _result(item, outcome, code, message)


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
    ) -> None:
        self.client = client
        self.batch_size = min(batch_size, MAX_BATCH)
        self.bulk_threshold = bulk_threshold
        self.bulk_poll_s = bulk_poll_s
        self.bulk_timeout_s = bulk_timeout_s

    def write(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One result per write, in order. A write without a record is ``NOT_MATCHED``.

        A quota, credential or permission error stops the run: it is raised with the
        results finished so far in ``error.completed``, so nothing is reported twice.
        """
        results: dict[int, WriteResult] = {}
        groups: dict[str, list[_Item]] = defaultdict(list)
        for index, write in enumerate(writes):
            if write.record is None:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    error_code=NOT_MATCHED,
                    error_message="no Salesforce record was matched for this person",
                )
            else:
                groups[write.record.object].append(_Item(index, write, write.record.id))
        try:
            for object_name, items in groups.items():
                self._write_object(object_name, items, results)
        except VendorError as exc:
            exc.completed = [results[i] for i in sorted(results)]
            raise
        return [results[i] for i in range(len(writes))]

    def _write_object(
        self, object_name: str, items: list[_Item], results: dict[int, WriteResult]
    ) -> None:
        if len(items) > self.bulk_threshold:
            send: Callable[[Sequence[_Item]], list[WriteResult]] = self._sender(object_name)
            done = self.client.policy.retry_items(items, send, self._retryable)
            results.update({item.index: r for item, r in zip(items, done, strict=True)})
            return
        for batch in unique_batches(items, self.batch_size):
            done = self.client.policy.retry_items(
                batch, lambda b: self._composite(object_name, b), self._retryable
            )
            results.update({item.index: r for item, r in zip(batch, done, strict=True)})

    @staticmethod
    def _retryable(result: WriteResult) -> bool:
        return result.outcome is WriteOutcome.RETRYABLE

    def _sender(self, object_name: str) -> Callable[[Sequence[_Item]], list[WriteResult]]:
        """Bulk for big sends; the (small) retry rounds go through collections."""

        def send(items: Sequence[_Item]) -> list[WriteResult]:
            if len(items) > self.bulk_threshold:
                return self._bulk(object_name, items)
            out: list[WriteResult] = []
            by_index: dict[int, WriteResult] = {}
            for batch in unique_batches(items, self.batch_size):
                for item, r in zip(batch, self._composite(object_name, batch), strict=True):
                    by_index[item.index] = r
            out.extend(by_index[item.index] for item in items)
            return out

        return send

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
        )
        if not isinstance(answer, list) or len(answer) != len(batch):
            raise TransientError(
                f"Salesforce answered {object_name} collection update with an unexpected body"
            )
        return [_from_record_result(item, a) for item, a in zip(batch, answer, strict=True)]

    # ------------------------------------------------------------------ bulk 2.0

    def _bulk_call(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
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

        return self.client.call(what, run)

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
        self._bulk_call(
            "Bulk API upload",
            "PUT",
            f"/{job_id}/batches",
            data=text.getvalue().encode("utf-8"),
            headers={"Content-Type": "text/csv"},
        )
        self._bulk_call(
            "Bulk API upload complete",
            "PATCH",
            f"/{job_id}",
            data=json.dumps({"state": "UploadComplete"}),
        )
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
            code, _, message = (row.get("sf__Error") or "UNKNOWN_EXCEPTION").partition(":")
            message = message.removesuffix(" --").strip()
            outcome = WriteOutcome.RETRYABLE if record_is_retryable(code) else WriteOutcome.REJECTED
            for item in by_id.get((row.get("Id") or row.get("sf__Id") or "")[:15], ()):
                results[item.index] = _result(item, outcome, code, message)
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
                raise TransientError(f"Bulk API job {job_id} still {state} after {waited:.0f} s")
            self.client.policy.sleep(self.bulk_poll_s)
            waited += self.bulk_poll_s
