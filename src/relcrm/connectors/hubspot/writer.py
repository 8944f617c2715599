"""Writing field values to matched HubSpot records with ``batch/update``.

- records are sent by HubSpot id (batch *update* by email is not supported; matching
  finds the ids first), in batches of at most 100 with no id twice;
- a 207 is mapped back per person: written, rejected with HubSpot's own code and message
  (``INVALID_OPTION``...), or retryable (``INTERNAL_ERROR``/``TRANSIENT``); the retryable
  inputs alone are re-sent by the retry policy, written ones are never sent again;
- a whole batch refused with a 400 (a portal that validates batches as a whole) is split
  in halves until the bad records stand alone, so one bad record never sinks 99 good ones;
- with ``only_changed``, current values are read first (one ``batch/read`` per 100) and
  records that already hold every value are not written at all;
- ``workers`` > 1 sends batches from several threads, all held by the client's one limiter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
)

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import RequestRejected, VendorError
from relcrm.connectors.hubspot.client import sdk_method
from relcrm.connectors.hubspot.describe import PropertyInfo, property_info
from relcrm.connectors.hubspot.errors import input_error_code, input_is_retryable
from relcrm.connectors.hubspot.values import ValueFormatError, format_value, same_value
from relcrm.models import FieldWrite, WriteOutcome, WriteResult

if TYPE_CHECKING:
    from relcrm.connectors.hubspot.client import HubSpotClient

MAX_BATCH = 100
NOT_MATCHED = "NOT_MATCHED"
NO_RESULT = "NO_RESULT"
INVALID_VALUE = "INVALID_VALUE"


@dataclass(frozen=True)
class _Item:
    index: int
    write: FieldWrite
    record_id: str
    values: dict[str, str]


def _result(
    item: _Item, outcome: WriteOutcome, code: str | None = None, message: str | None = None
) -> WriteResult:
    return WriteResult(
        person_id=item.write.person_id,
        outcome=outcome,
        record_id=item.record_id,
        error_code=code,
        error_message=message or None,
    )


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class Writer:
    """Writes :class:`FieldWrite` batches to one portal."""

    def __init__(
        self, client: HubSpotClient, *, batch_size: int = MAX_BATCH, workers: int = 1
    ) -> None:
        self.client = client
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.workers = max(1, workers)
        self._schemas: dict[str, dict[str, PropertyInfo]] = {}
        self._schema_lock = threading.Lock()
        self.unchanged = 0
        """Records skipped by ``only_changed`` in the last :meth:`write`."""

    # ------------------------------------------------------------------ schema

    def schema(self, object_name: str, *, refresh: bool = False) -> dict[str, PropertyInfo]:
        """Property types of ``object_name`` (one request, then cached) for formatting."""
        with self._schema_lock:
            if refresh or object_name not in self._schemas:
                answer = self.client.call(
                    f"list {object_name} properties",
                    lambda sdk: sdk.crm.properties.core_api.get_all_with_http_info(object_name),
                )
                self._schemas[object_name] = {
                    str(p.name): property_info(p) for p in answer.results or []
                }
            return self._schemas[object_name]

    def forget_schema(self) -> None:
        """Drop cached property types (after provisioning changed them)."""
        with self._schema_lock:
            self._schemas.clear()

    # ------------------------------------------------------------------ write

    def write(
        self, object_name: str, writes: Sequence[FieldWrite], *, only_changed: bool = False
    ) -> list[WriteResult]:
        """One result per write, in order. A write without a record is ``NOT_MATCHED``.

        A quota, credential or permission error stops the run: it is raised with the
        results finished so far in ``error.completed``, so nothing is reported twice.
        """
        results: dict[int, WriteResult] = {}
        items: list[_Item] = []
        schema = self.schema(object_name) if writes else {}
        for index, write in enumerate(writes):
            if write.record is None:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    error_code=NOT_MATCHED,
                    error_message="no HubSpot record matched this person",
                )
                continue
            try:
                values = {k: format_value(schema.get(k), v) for k, v in write.values.items()}
            except ValueFormatError as exc:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    record_id=write.record.id,
                    error_code=INVALID_VALUE,
                    error_message=exc.message,
                )
                continue
            items.append(_Item(index, write, write.record.id, values))
        self.unchanged = 0
        if only_changed and items:
            items = self._drop_unchanged(object_name, items, schema, results)
        batches = unique_batches(items, self.batch_size)
        lock = threading.Lock()

        def run(batch: list[_Item]) -> None:
            done = self._write_batch(object_name, batch)
            with lock:
                results.update(done)

        try:
            if self.workers == 1 or len(batches) <= 1:
                for batch in batches:
                    run(batch)
            else:
                with ThreadPoolExecutor(self.workers, thread_name_prefix="relcrm-hs") as pool:
                    for future in [pool.submit(run, b) for b in batches]:
                        future.result()
        except VendorError as exc:
            exc.completed = [results[i] for i in sorted(results)]
            raise
        return [results[i] for i in range(len(writes))]

    def _drop_unchanged(
        self,
        object_name: str,
        items: list[_Item],
        schema: dict[str, PropertyInfo],
        results: dict[int, WriteResult],
    ) -> list[_Item]:
        names = sorted({n for item in items for n in item.values})
        ids = sorted({item.record_id for item in items})
        current: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in ids[start : start + MAX_BATCH]],
                properties=names,
                properties_with_history=[],
            )
            answer = self.client.call(
                f"read current {object_name} values",
                sdk_method("crm.objects.batch_api.read_with_http_info", object_name, body),
            )
            for record in answer.results or []:
                current[str(record.id)] = dict(record.properties or {})
        kept: list[_Item] = []
        for item in items:
            now = current.get(item.record_id)
            if now is not None and all(
                same_value(schema.get(k), v, now.get(k)) for k, v in item.values.items()
            ):
                results[item.index] = _result(item, WriteOutcome.WRITTEN)
                self.unchanged += 1
            else:
                kept.append(item)
        return kept

    def _write_batch(self, object_name: str, batch: list[_Item]) -> dict[int, WriteResult]:
        answered = self.client.policy.retry_items(
            batch,
            lambda part: self._send(object_name, part),
            lambda r: r.outcome is WriteOutcome.RETRYABLE,
        )
        return {item.index: r for item, r in zip(batch, answered, strict=True)}

    def _send(self, object_name: str, part: Sequence[_Item]) -> list[WriteResult]:
        body = BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i.record_id, properties=i.values) for i in part]
        )
        call: Callable[[Any], Any] = lambda sdk: sdk.crm.objects.batch_api.update_with_http_info(  # noqa: E731
            object_name, body
        )
        try:
            answer = self.client.call(f"batch update {object_name}", call)
        except RequestRejected as exc:
            if len(part) == 1:
                item = part[0]
                return [_result(item, WriteOutcome.REJECTED, exc.vendor_code, exc.message)]
            half = len(part) // 2
            return [
                *self._send(object_name, part[:half]),
                *self._send(object_name, part[half:]),
            ]
        written = {str(r.id) for r in answer.results or []}
        failures: dict[str, tuple[str, str]] = {}
        for error in _get(answer, "errors") or []:
            message = str(_get(error, "message") or "")
            code = input_error_code(_get(error, "category"), _get(error, "sub_category"), message)
            for key in (_get(error, "context") or {}).get("ids") or []:
                failures[str(key)] = (code, message)
        out: list[WriteResult] = []
        for item in part:
            if item.record_id in failures:
                code, message = failures[item.record_id]
                outcome = (
                    WriteOutcome.RETRYABLE if input_is_retryable(code) else WriteOutcome.REJECTED
                )
                out.append(_result(item, outcome, code, message))
            elif item.record_id in written:
                out.append(_result(item, WriteOutcome.WRITTEN))
            else:
                out.append(
                    _result(item, WriteOutcome.RETRYABLE, NO_RESULT, "HubSpot did not answer")
                )
        return out
