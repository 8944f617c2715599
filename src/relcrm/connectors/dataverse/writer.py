"""Writing field values to matched Dataverse records with ``UpdateMultiple``, isolating the
records Dataverse refuses.

- records are sent by id, per table, in batches of at most ``batch_size`` with no id twice,
  as ``POST contacts/Microsoft.Dynamics.CRM.UpdateMultiple`` with ``Targets`` (each target
  carries ``@odata.type`` and its primary key) [sample: microsoft/PowerApps-Samples,
  ``WebAPIService/Messages/UpsertMultipleRequest.cs``, MIT];
- on a standard table ``UpdateMultiple`` is all or nothing: one bad record rolls the whole
  call back and the error does not say which record it was [doc: bulk-operations, "On Error
  behavior with standard tables", which suggests ``$batch`` as the fallback]. So a batch
  refused for a record's data is sent again as one ``$batch`` of independent ``PATCH``
  requests with ``Prefer: odata.continue-on-error``: the good records are written, each bad
  one gets ``REJECTED`` with Dataverse's code and a message without the values written;
- a record Dataverse fails transiently (a SQL deadlock, ``0x80044150``) is isolated the
  same way and comes back ``RETRYABLE``: the retry policy sends that record alone again,
  with backoff, never its written neighbours;
- a call that may have been carried out although no answer came back (the connection
  dropped after sending, a read timeout) is never sent again blindly: its records are read
  back and only those that do not hold their values are sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.dataverse.batch import Patch, compose, parse_answer
from relcrm.connectors.dataverse.describe import (
    ENTITY_SETS,
    PRIMARY_IDS,
    TABLE_ALIASES,
    Column,
    Schema,
)
from relcrm.connectors.dataverse.errors import (
    RecordBusy,
    RecordRejected,
    translate_answer,
)
from relcrm.connectors.dataverse.reading import read_raw
from relcrm.connectors.dataverse.values import ValueFormatError, format_value, same_value
from relcrm.connectors.errors import TransientError, VendorError
from relcrm.models import FieldWrite, WriteOutcome, WriteResult

if TYPE_CHECKING:
    from relcrm.connectors.dataverse.client import DataverseClient

MAX_BATCH = 1000
NOT_MATCHED = "NOT_MATCHED"
INVALID_VALUE = "INVALID_VALUE"
NO_RESULT = "NO_RESULT"


@dataclass(frozen=True)
class _Item:
    index: int
    write: FieldWrite
    table: str
    record_id: str
    body: dict[str, Any]

    @property
    def values(self) -> list[object]:
        return [*self.write.values.values(), *self.body.values()]


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


class Writer:
    """Writes :class:`FieldWrite` batches to one environment."""

    def __init__(
        self,
        client: DataverseClient,
        schema: Schema,
        *,
        batch_size: int = 500,
    ) -> None:
        self.client = client
        self.schema = schema
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.isolations = 0
        """Batches refused whole and sent again record by record (``$batch``)."""
        self.recovered = 0
        """Writes found in Dataverse by a read-back after an unanswered call (not re-sent)."""

    def write(self, default_object: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One result per write, in order; each write goes to its record's table.

        A quota, credential or permission error stops the run: it is raised with the
        results finished so far in ``error.completed``, so nothing is reported twice.
        """
        results: dict[int, WriteResult] = {}
        items: list[_Item] = []
        for index, write in enumerate(writes):
            if write.record is None:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    error_code=NOT_MATCHED,
                    error_message="no Dataverse record matched this person",
                )
                continue
            table = TABLE_ALIASES.get(write.record.object.strip().lower(), default_object)
            columns = self.schema.columns(table)
            body: dict[str, Any] = {}
            try:
                for name, value in write.values.items():
                    body[name] = format_value(columns.get(name), value)
            except ValueFormatError as exc:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    record_id=write.record.id,
                    error_code=INVALID_VALUE,
                    error_message=f"{name}: {exc}",
                )
                continue
            items.append(_Item(index, write, table, write.record.id, body))
        into: dict[int, WriteResult] = {}
        try:
            done = self.client.policy.retry_items(
                items,
                self._send,
                lambda r: r.outcome is WriteOutcome.RETRYABLE,
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

    def _batches(self, part: Sequence[_Item]) -> list[list[_Item]]:
        by_table: dict[str, list[_Item]] = {}
        for item in part:
            by_table.setdefault(item.table, []).append(item)
        return [b for group in by_table.values() for b in unique_batches(group, self.batch_size)]

    @staticmethod
    def _target(item: _Item) -> dict[str, Any]:
        return {
            "@odata.type": f"Microsoft.Dynamics.CRM.{item.table}",
            PRIMARY_IDS[item.table]: item.record_id,
            **item.body,
        }

    def _send(self, part: Sequence[_Item]) -> list[WriteResult]:
        table = part[0].table
        sent = [v for item in part for v in item.values]
        try:
            self.client.request(
                "POST",
                f"{ENTITY_SETS[table]}/Microsoft.Dynamics.CRM.UpdateMultiple",
                json={"Targets": [self._target(item) for item in part]},
                what=f"UpdateMultiple {table} ({len(part)} records)",
                resend_uncertain=False,
                values=sent,
                record_level=True,
            )
        except RecordRejected as exc:
            if len(part) == 1:
                return [_result(part[0], WriteOutcome.REJECTED, exc.vendor_code, exc.message)]
            return self._isolate(part)
        except RecordBusy as exc:
            if len(part) == 1:
                return [_result(part[0], WriteOutcome.RETRYABLE, exc.vendor_code, exc.message)]
            return self._isolate(part)
        return [_result(item, WriteOutcome.WRITTEN) for item in part]

    def _isolate(self, part: Sequence[_Item]) -> list[WriteResult]:
        """Send a refused batch again as independent requests: who was refused, and why."""
        self.isolations += 1
        table = part[0].table
        patches = [
            Patch(self.client.url(f"{ENTITY_SETS[table]}({item.record_id})"), item.body)
            for item in part
        ]
        content_type, content = compose(patches)
        answer = self.client.request(
            "POST",
            "$batch",
            content=content,
            headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
            what=f"$batch update {table} ({len(part)} records, one by one)",
            resend_uncertain=False,
            values=[v for item in part for v in item.values],
        )
        answers = parse_answer(answer.headers.get("content-type", ""), answer.content)
        out: list[WriteResult] = []
        for position, item in enumerate(part):
            if position >= len(answers):
                out.append(
                    _result(item, WriteOutcome.RETRYABLE, NO_RESULT, "Dataverse did not answer")
                )
                continue
            reply = answers[position]
            if reply.status < 300:
                out.append(_result(item, WriteOutcome.WRITTEN))
                continue
            error = translate_answer(
                reply.status,
                reply.headers,
                reply.body,
                what=f"update {table} {item.record_id}",
                values=item.values,
            )
            if isinstance(error, RecordRejected):
                out.append(_result(item, WriteOutcome.REJECTED, error.vendor_code, error.message))
            elif isinstance(error, TransientError):
                out.append(_result(item, WriteOutcome.RETRYABLE, error.vendor_code, error.message))
            else:
                error.partial = out  # the records before it were answered
                raise error
        return out

    def _recover(self, part: Sequence[_Item]) -> list[WriteResult | None]:
        """Read the records of an unanswered call back: a record that holds every value it
        was sent counts as written (and is not sent again)."""
        found: list[WriteResult | None] = []
        by_table: dict[str, list[_Item]] = {}
        for item in part:
            by_table.setdefault(item.table, []).append(item)
        held: dict[tuple[str, str], dict[str, Any]] = {}
        for table, group in by_table.items():
            names = sorted({n for item in group for n in item.body})
            for record_id, values in read_raw(
                self.client, table, [i.record_id for i in group], names
            ).items():
                held[(table, record_id)] = values
        for item in part:
            columns: dict[str, Column] = self.schema.columns(item.table)
            now = held.get((item.table, item.record_id.lower()))
            ok = now is not None and all(
                same_value(columns.get(name), sent, now.get(name))
                for name, sent in item.body.items()
            )
            found.append(_result(item, WriteOutcome.WRITTEN) if ok else None)
        self.recovered += sum(r is not None for r in found)
        return found
