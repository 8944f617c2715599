"""Writing field values to Zoho CRM records, 100 a call, with one result per record.

- a write naming its record is an update by id (``PUT /crm/v8/{module}``), sent to the
  module of its record (a person matched in ``Leads`` is written there); a write without
  one is an upsert (``POST /crm/v8/{module}/upsert``) keyed by a unique field among its
  values, else by ``Email`` (``duplicate_check_fields``): Zoho updates the record the key
  finds and creates one where none is found;
- Zoho answers each record in order, ``{"code", "details", "message", "status"}``, whatever
  the others did (207, or 400 when all failed): no batch is all-or-nothing, so one bad
  record is reported with Zoho's code (``INVALID_DATA``, ``MANDATORY_NOT_FOUND``,
  ``DUPLICATE_DATA``...) and a message naming the field and what is wrong, never the value
  (:func:`relcrm.connectors.scrub.without_values` makes sure), and the others are written;
- a record Zoho fails transiently (``RECORD_LOCKED``, a per-record ``INTERNAL_ERROR``) is
  sent again by the retry policy, alone with the other such records, and reported
  retryable once out of tries; written records are never sent again;
- a call that may have been carried out although no answer came back (the connection
  dropped after sending, a read timeout, a 500) is never sent again blindly: its records
  are read back (by id; upserts by their key) and only those that do not hold their values
  are sent again;
- a quota, credential or permission error stops the batch with the results so far in
  ``error.completed``;
- ``workers`` > 1 sends batches from several threads, all held by the client's
  concurrency gate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import Action, VendorError
from relcrm.connectors.scrub import without_values
from relcrm.connectors.zoho.describe import FieldInfo
from relcrm.connectors.zoho.errors import describe_problem, record_rule
from relcrm.connectors.zoho.values import ValueFormatError, format_value, normalise, scale_of
from relcrm.models import (
    FieldValue,
    FieldWrite,
    ReadValue,
    WriteOutcome,
    WriteResult,
    value_holds,
)

if TYPE_CHECKING:
    from relcrm.connectors.zoho.client import ZohoClient
    from relcrm.connectors.zoho.matching import Matcher

MAX_BATCH = 100
NOT_MATCHED = "NOT_MATCHED"
NO_RESULT = "NO_RESULT"
INVALID_VALUE = "INVALID_VALUE"
DEFAULT_KEY = "Email"
MANDATORY_NOT_FOUND = "MANDATORY_NOT_FOUND"

Schema = Callable[[str], Mapping[str, FieldInfo]]
Reader = Callable[[str, Sequence[str], Sequence[str]], dict[str, dict[str, ReadValue]]]


@dataclass(frozen=True)
class _Item:
    index: int
    write: FieldWrite
    module: str
    key: str | None
    """The upsert key's API name; None for an update by id."""
    target: str
    """The record id, or the upsert key's value: no two in one call."""
    values: dict[str, Any]

    @property
    def record_id(self) -> str:
        return f"{self.module}:{self.key or 'id'}:{self.target}"

    @property
    def group(self) -> tuple[str, str | None]:
        return (self.module, self.key)


def _result(
    item: _Item,
    outcome: WriteOutcome,
    code: str | None = None,
    message: str | None = None,
    record_id: str | None = None,
    created: bool | None = None,
) -> WriteResult:
    known = item.target if item.key is None else None
    return WriteResult(
        person_id=item.write.person_id,
        outcome=outcome,
        record_id=record_id or known,
        error_code=code,
        error_message=message or None,
        created=created,
    )


def same(info: FieldInfo | None, sent: FieldValue, read: ReadValue) -> bool:
    """Whether Zoho holds the relcrm value ``sent`` in ``read`` (normalised): the value
    Zoho stores for ``sent`` (date-times to the second, numbers to the field's decimals)
    compared as the sync engine compares (:func:`relcrm.models.value_holds`)."""
    stored: ReadValue = sent
    if info is not None and sent is not None:
        try:
            stored = normalise(info, format_value(info, sent))
        except (ValueFormatError, ValueError):
            stored = sent
    return value_holds(info.kind if info is not None else None, stored, read, scale=scale_of(info))


class Writer:
    """Writes :class:`FieldWrite` batches to one org."""

    def __init__(
        self,
        client: ZohoClient,
        schema: Schema,
        reader: Reader,
        matcher: Matcher,
        *,
        batch_size: int = MAX_BATCH,
        workers: int = 1,
        trigger_workflows: bool = True,
    ) -> None:
        self.client = client
        self.schema = schema
        self.reader = reader
        self.matcher = matcher
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.workers = max(1, workers)
        self.trigger_workflows = trigger_workflows
        self.recovered = 0
        """Writes found in the org by a read-back after an unanswered call (not re-sent)."""

    # ------------------------------------------------------------------ preparing

    def _key(self, module: str, values: Mapping[str, Any]) -> str | None:
        infos = self.schema(module)
        unique = sorted(n for n in values if (info := infos.get(n)) is not None and info.unique)
        if unique:
            return unique[0]
        return DEFAULT_KEY if values.get(DEFAULT_KEY) not in (None, "") else None

    def _prepare(
        self, index: int, write: FieldWrite, object_name: str, *, creating: bool = False
    ) -> _Item | WriteResult:
        """The item to send for ``write``: its values formatted for Zoho, and for a write
        without a record its upsert key (``write.key``, else a unique field or Email among
        its values); ``creating`` adds the write's ``create_values`` (a new record)."""
        module = write.record.object if write.record is not None else object_name
        infos = self.schema(module)
        values: dict[str, Any] = {}
        sent: dict[str, FieldValue] = dict(write.create_values) if creating else {}
        sent.update(write.values)
        if write.record is None and write.key is not None:
            sent[write.key.field] = write.key.value
        for name, value in sent.items():
            try:
                values[name] = format_value(infos.get(name), value)
            except ValueFormatError as exc:
                return WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    record_id=write.record.id if write.record is not None else None,
                    error_code=INVALID_VALUE,
                    error_message=f"{name}: {exc.message}",
                )
        if write.record is not None:
            return _Item(index, write, module, None, write.record.id, values)
        key = write.key.field if write.key is not None else self._key(module, values)
        if key is None:
            return WriteResult(
                person_id=write.person_id,
                outcome=WriteOutcome.REJECTED,
                error_code=NOT_MATCHED,
                error_message="no Zoho CRM record matched this person, and the write carries "
                "no unique field or Email to upsert by",
            )
        return _Item(index, write, module, key, str(values[key]).strip().casefold(), values)

    # ------------------------------------------------------------------ writing

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One result per write, in order. An upsert Zoho refuses for a required field
        (``MANDATORY_NOT_FOUND``: a new record) is sent once more with its
        ``create_values``, which are never sent to records that exist."""
        results = self._write(object_name, writes, range(len(writes)), creating=False)
        again = [
            i
            for i, r in results.items()
            if r.outcome is WriteOutcome.REJECTED
            and r.error_code == MANDATORY_NOT_FOUND
            and writes[i].record is None
            and writes[i].create_values
        ]
        if again:
            try:
                results.update(self._write(object_name, writes, again, creating=True))
            except VendorError as exc:
                kept = {i: r for i, r in results.items() if i not in again}
                kept.update(
                    {
                        i: r
                        for r in exc.completed
                        for i in again
                        if r.person_id == writes[i].person_id
                    }
                )
                exc.completed = [kept[i] for i in sorted(kept)]
                raise
        return [results[i] for i in range(len(writes))]

    def _write(
        self,
        object_name: str,
        writes: Sequence[FieldWrite],
        which: Sequence[int],
        *,
        creating: bool,
    ) -> dict[int, WriteResult]:
        """Results (by position) of the writes at positions ``which``."""
        results: dict[int, WriteResult] = {}
        items: list[_Item] = []
        for index in which:
            write = writes[index]
            prepared = self._prepare(index, write, object_name, creating=creating)
            if isinstance(prepared, WriteResult):
                results[index] = prepared
            else:
                items.append(prepared)
        into: dict[int, WriteResult] = {}
        try:
            done = self.client.policy.retry_items(
                items,
                self._send,
                lambda r: r.outcome is WriteOutcome.RETRYABLE,
                batches=self._batches,
                recover=self._recover,
                into=into,
                run=self._run_batches,
            )
        except VendorError as exc:
            results.update({items[pos].index: r for pos, r in into.items()})
            exc.completed = [results[i] for i in sorted(results)]
            raise
        results.update({item.index: r for item, r in zip(items, done, strict=True)})
        return results

    def _batches(self, part: Sequence[_Item]) -> list[list[_Item]]:
        groups: dict[tuple[str, str | None], list[_Item]] = {}
        for item in part:
            groups.setdefault(item.group, []).append(item)
        return [b for g in groups.values() for b in unique_batches(g, self.batch_size)]

    def _run_batches(
        self, send: Callable[[Sequence[Any]], None], batches: Sequence[Sequence[Any]]
    ) -> None:
        """Send a round's batches, from ``workers`` threads; the first error is raised once
        every batch has been answered."""
        if self.workers == 1 or len(batches) <= 1:
            for batch in batches:
                send(batch)
            return
        with ThreadPoolExecutor(min(self.workers, len(batches)), "relcrm-zoho") as pool:
            futures = [pool.submit(send, b) for b in batches]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def _body(self, part: Sequence[_Item]) -> dict[str, Any]:
        key = part[0].key
        if key is None:
            data = [{"id": item.target, **item.values} for item in part]
        else:
            data = [dict(item.values) for item in part]
        body: dict[str, Any] = {"data": data}
        if key is not None:
            body["duplicate_check_fields"] = [key]
        if not self.trigger_workflows:
            body["trigger"] = []
        return body

    def _send(self, part: Sequence[_Item]) -> list[WriteResult]:
        module, key = part[0].group
        upsert = key is not None
        answer = self.client.call(
            f"{'upsert' if upsert else 'update'} {len(part)} {module}",
            "POST" if upsert else "PUT",
            f"/{module}/upsert" if upsert else f"/{module}",
            json_body=self._body(part),
            resend_uncertain=False,
            per_record="data",
        )
        entries = (answer or {}).get("data") or []
        out: list[WriteResult] = []
        for position, item in enumerate(part):
            entry = entries[position] if position < len(entries) else None
            if not isinstance(entry, Mapping):
                out.append(_result(item, WriteOutcome.RETRYABLE, NO_RESULT, "Zoho did not answer"))
                continue
            raw_details = entry.get("details")
            details: Mapping[str, Any] = raw_details if isinstance(raw_details, Mapping) else {}
            if entry.get("status") == "success":
                record_id = str(details.get("id")) if details.get("id") else None
                action = entry.get("action")
                created = None if not upsert or action is None else action == "insert"
                out.append(
                    _result(item, WriteOutcome.WRITTEN, record_id=record_id, created=created)
                )
                continue
            code = str(entry.get("code") or "UNKNOWN")
            retry = record_rule(code).action is Action.RETRY
            values = [*item.values.values(), *item.write.values.values()]
            message = without_values(describe_problem(entry), values) or code
            outcome = WriteOutcome.RETRYABLE if retry else WriteOutcome.REJECTED
            out.append(_result(item, outcome, code, message))
        return out

    # ------------------------------------------------------------------ reading back

    def _holds(self, item: _Item, current: Mapping[str, ReadValue] | None) -> bool:
        if current is None:
            return False
        infos = self.schema(item.module)
        return all(same(infos.get(n), v, current.get(n)) for n, v in item.write.values.items())

    def _recover(self, part: Sequence[_Item]) -> list[WriteResult | None]:
        """Read the records of an unanswered call back: one that holds every value it was
        sent counts as written (and is not sent again)."""
        found: list[WriteResult | None] = [None] * len(part)
        by_module: dict[str, list[int]] = {}
        for position, item in enumerate(part):
            by_module.setdefault(item.module, []).append(position)
        for module, positions in by_module.items():
            updates = [p for p in positions if part[p].key is None]
            names = sorted({n for p in positions for n in part[p].write.values})
            if updates:
                current = self.reader(module, [part[p].target for p in updates], names)
                for p in updates:
                    if self._holds(part[p], current.get(part[p].target)):
                        found[p] = _result(part[p], WriteOutcome.WRITTEN)
            for p in (p for p in positions if part[p].key is not None):
                item = part[p]
                assert item.key is not None
                hits = self.matcher.search(module, item.key, [str(item.values[item.key])])
                ids = [str(h["id"]) for h in hits if "id" in h]
                if len(ids) == 1:
                    current = self.reader(module, ids, names)
                    if self._holds(item, current.get(ids[0])):
                        found[p] = _result(item, WriteOutcome.WRITTEN, record_id=ids[0])
        self.recovered += sum(r is not None for r in found)
        return found
