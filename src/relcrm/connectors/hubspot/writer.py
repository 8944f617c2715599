"""Writing field values to matched HubSpot records with ``batch/update``.

- records are sent by HubSpot id (batch *update* by email is not supported; matching
  finds the ids first), in batches of at most 100 with no id twice;
- a 207 is mapped back per person: written, rejected with HubSpot's own code and message
  without the values it quotes (``INVALID_OPTION``...), or retryable
  (``INTERNAL_ERROR``/``TRANSIENT``); the retryable inputs alone are re-sent by the retry
  policy, all of a write's together, written ones are never sent again, and one still
  failing after its tries is reported retryable;
- a call that may have been carried out although no answer came back (the connection
  dropped after sending, a read timeout) is never sent again blindly: its records are read
  back (``batch/read``) and only those that do not hold their values are sent again;
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
    SimplePublicObjectBatchInput,
)

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import RequestRejected, VendorError
from relcrm.connectors.hubspot.describe import PropertyInfo, property_info
from relcrm.connectors.hubspot.errors import (
    input_error_code,
    input_is_retryable,
    scrub_message,
)
from relcrm.connectors.hubspot.reading import read_values
from relcrm.connectors.hubspot.values import (
    ValueFormatError,
    field_type,
    format_value,
    read_value,
)
from relcrm.connectors.scrub import without_values
from relcrm.models import FieldWrite, ReadValue, WriteOutcome, WriteResult, value_holds

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


def _message(item: _Item, message: str | None) -> str:
    """HubSpot's message for one input, without any value the write sent."""
    values = [*item.values.values(), *item.write.values.values()]
    return without_values(scrub_message(message), values) or ""


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
        self.recovered = 0
        """Writes found in the portal by a read-back after an unanswered call (not re-sent)."""

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
            values: dict[str, str] = {}
            try:
                for name, value in write.values.items():
                    values[name] = format_value(schema.get(name), value)
            except ValueFormatError as exc:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    record_id=write.record.id,
                    error_code=INVALID_VALUE,
                    error_message=f"{name}: {exc.message}",
                )
                continue
            items.append(_Item(index, write, write.record.id, values))
        self.unchanged = 0
        if only_changed and items:
            items = self._drop_unchanged(object_name, items, schema, results)
        into: dict[int, WriteResult] = {}
        try:
            done = self.client.policy.retry_items(
                items,
                lambda part: self._send(object_name, part),
                lambda r: r.outcome is WriteOutcome.RETRYABLE,
                batches=lambda part: unique_batches(part, self.batch_size),
                recover=lambda part: self._recover(object_name, part, schema),
                into=into,
                run=self._run_batches,
            )
        except VendorError as exc:
            results.update({items[pos].index: r for pos, r in into.items()})
            exc.completed = [results[i] for i in sorted(results)]
            raise
        results.update({item.index: r for item, r in zip(items, done, strict=True)})
        return [results[i] for i in range(len(writes))]

    def _run_batches(
        self, send: Callable[[Sequence[Any]], None], batches: Sequence[Sequence[Any]]
    ) -> None:
        """Send the batches of a round, from ``workers`` threads (one limiter holds them
        all); the first error is raised once every batch has been answered."""
        if self.workers == 1 or len(batches) <= 1:
            for batch in batches:
                send(batch)
            return
        workers = min(self.workers, len(batches))
        with ThreadPoolExecutor(workers, thread_name_prefix="relcrm-hs") as pool:
            futures = [pool.submit(send, b) for b in batches]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def _current(
        self,
        object_name: str,
        ids: Sequence[str],
        names: Sequence[str],
        schema: dict[str, PropertyInfo],
    ) -> dict[str, dict[str, ReadValue]]:
        """Current values of ``names`` on the records ``ids`` (one ``batch/read`` per 100),
        normalised as :meth:`HubSpotConnector.read_values` returns them."""
        return read_values(
            self.client,
            object_name,
            ids,
            names,
            schema,
            what=f"read current {object_name} values",
        )

    @staticmethod
    def _holds(
        item: _Item, schema: dict[str, PropertyInfo], now: dict[str, ReadValue] | None
    ) -> bool:
        """Whether the record holds every value of ``item``: what was sent (as formatted
        for HubSpot, so a label sent for an option's value compares as that value) and
        what is there, both normalised, compared as the sync engine compares."""
        if now is None:
            return False
        for name, sent in item.values.items():
            prop = schema.get(name)
            expected = read_value(prop, sent)
            if not value_holds(field_type(prop), expected, now.get(name), scale=None):
                return False
        return True

    def _recover(
        self, object_name: str, part: Sequence[_Item], schema: dict[str, PropertyInfo]
    ) -> list[WriteResult | None]:
        """Read the records of an unanswered call back: a record that holds every value
        it was sent counts as written (and is not sent again)."""
        names = sorted({n for item in part for n in item.values})
        current = self._current(object_name, [item.record_id for item in part], names, schema)
        found = [
            _result(item, WriteOutcome.WRITTEN)
            if self._holds(item, schema, current.get(item.record_id))
            else None
            for item in part
        ]
        with self._schema_lock:
            self.recovered += sum(r is not None for r in found)
        return found

    def _drop_unchanged(
        self,
        object_name: str,
        items: list[_Item],
        schema: dict[str, PropertyInfo],
        results: dict[int, WriteResult],
    ) -> list[_Item]:
        names = sorted({n for item in items for n in item.values})
        current = self._current(object_name, [item.record_id for item in items], names, schema)
        kept: list[_Item] = []
        for item in items:
            if self._holds(item, schema, current.get(item.record_id)):
                results[item.index] = _result(item, WriteOutcome.WRITTEN)
                self.unchanged += 1
            else:
                kept.append(item)
        return kept

    def _send(self, object_name: str, part: Sequence[_Item]) -> list[WriteResult]:
        body = BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i.record_id, properties=i.values) for i in part]
        )
        call: Callable[[Any], Any] = lambda sdk: sdk.crm.objects.batch_api.update_with_http_info(  # noqa: E731
            object_name, body
        )
        try:
            answer = self.client.call(f"batch update {object_name}", call, resend_uncertain=False)
        except RequestRejected as exc:
            if len(part) == 1:
                item = part[0]
                return [
                    _result(
                        item, WriteOutcome.REJECTED, exc.vendor_code, _message(item, exc.message)
                    )
                ]
            half = len(part) // 2
            first = self._send(object_name, part[:half])
            try:
                second = self._send(object_name, part[half:])
            except VendorError as failure:
                failure.partial = [*first, *failure.partial]  # the first half was answered
                raise
            return [*first, *second]
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
                out.append(_result(item, outcome, code, _message(item, message)))
            elif item.record_id in written:
                out.append(_result(item, WriteOutcome.WRITTEN))
            else:
                out.append(
                    _result(item, WriteOutcome.RETRYABLE, NO_RESULT, "HubSpot did not answer")
                )
        return out
