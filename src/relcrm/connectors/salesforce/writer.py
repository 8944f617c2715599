"""Writing field values to records: sObject Collections, or Bulk API 2.0 when big.

- up to ``bulk_threshold`` records of an object: ``PATCH composite/sobjects`` in batches
  of 200 with ``allOrNone=false``, so one bad record is rejected with Salesforce's own
  code and message while the rest of its batch is written;
- above it: one Bulk API 2.0 update job, whose failed rows are mapped back to their
  persons by record Id.

A write that names no record but a key (:class:`~relcrm.models.RecordKey`: an external id
field and the person's value in it) is an upsert: ``PATCH
composite/sobjects/{SObject}/{ExternalIdField}`` (200 a call, ``allOrNone=false``, each
record with its ``attributes.type`` and its external id), or a Bulk API 2.0 ``upsert``
job with ``externalIdFieldName`` above the threshold. Salesforce updates the record that
holds the key or creates one, and says which (``created``); the result carries the
record's Id. A new record the org refuses for a missing required field
(``REQUIRED_FIELD_MISSING``: a Contact's LastName) is upserted once more with the write's
``create_values`` added, values meant only for records relcrm creates (sent in the first
call, they would overwrite the fields of records that exist). An upsert whose answer was
lost is read back by its external id, so a record it created is found, not created twice.

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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from simple_salesforce.util import call_salesforce

from relcrm.connectors.batching import unique_batches
from relcrm.connectors.errors import RequestRejected, TransientError, VendorError
from relcrm.connectors.readback import find_spec, holds, normalise_values
from relcrm.connectors.salesforce.errors import record_is_retryable, scrub_message
from relcrm.connectors.salesforce.reading import read_rows_by, read_values
from relcrm.connectors.salesforce.soql import check_name
from relcrm.connectors.scrub import without_values
from relcrm.errors import ConfigurationError
from relcrm.models import (
    FieldSpec,
    FieldValue,
    FieldWrite,
    RecordKey,
    WriteOutcome,
    WriteResult,
)

if TYPE_CHECKING:
    from relcrm.connectors.salesforce.client import SalesforceClient

MAX_BATCH = 200
BULK_THRESHOLD = 2000
NOT_MATCHED = "NOT_MATCHED"
UNPROCESSED = "UNPROCESSED"
BULK_NULL = "#N/A"  # an empty Bulk CSV cell leaves a field alone; #N/A sets it to null
REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
NOT_EXTERNAL_ID = "connector.not_external_id"


def _norm(value: object) -> str:
    # Salesforce compares external ids case-insensitively (unless made case-sensitive)
    return str(value).strip().casefold()


@dataclass(frozen=True)
class _Item:
    index: int
    write: FieldWrite
    object: str
    id: str | None
    """The record's Id (an update); None for an upsert by ``key``."""
    key: RecordKey | None = None
    values: dict[str, FieldValue] = field(default_factory=dict)
    """What is sent: the write's values (and its ``create_values`` on a second upsert)."""

    @property
    def record_id(self) -> str:
        """Which record the item writes, for batching (no record twice in one call)."""
        if self.id is not None:
            return self.id
        assert self.key is not None
        return f"{self.key.field}={_norm(self.key.value)}"

    @property
    def group(self) -> tuple[str, str | None]:
        """Items of one group go in one kind of call: (object, upsert key field or None)."""
        return (self.object, self.key.field if self.key is not None else None)


def _result(
    item: _Item,
    outcome: WriteOutcome,
    code: str | None = None,
    message: str = "",
    *,
    record_id: str | None = None,
    created: bool | None = None,
) -> WriteResult:
    return WriteResult(
        person_id=item.write.person_id,
        outcome=outcome,
        record_id=record_id or item.id,
        error_code=code,
        error_message=message or None,
        created=created,
    )


def record_message(item: _Item, messages: Sequence[str], fields: Sequence[str] = ()) -> str:
    """Salesforce's messages for one record, without any value the write sent; the API
    names of the fields concerned are added when the message names only their labels."""
    text = "; ".join(scrub_message(m) for m in messages if m)
    named = [f for f in fields if f and f not in text]
    if named:
        text = f"{text} [{', '.join(named)}]" if text else ", ".join(named)
    sent: list[object] = [*item.write.values.values(), *item.write.create_values.values()]
    if item.key is not None:
        sent.append(item.key.value)
    return without_values(text, sent) or ""


def _from_record_result(item: _Item, answer: dict[str, Any]) -> WriteResult:
    if answer.get("success"):
        if item.key is None:
            return _result(item, WriteOutcome.WRITTEN)
        created = answer.get("created")
        return _result(
            item,
            WriteOutcome.WRITTEN,
            record_id=str(answer.get("id") or "") or None,
            created=created if isinstance(created, bool) else None,
        )
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

    def write(
        self, writes: Sequence[FieldWrite], object_name: str | None = None
    ) -> list[WriteResult]:
        """One result per write, in order. A write with a record updates it by Id; one
        with a key (and no record) is upserted into ``object_name`` by that key; one with
        neither is ``NOT_MATCHED``.

        A quota, credential or permission error (or a transient one the policy gave up
        on) stops the write: it is raised with every result finished so far in
        ``error.completed`` (every record written among them), so nothing written is
        reported as unwritten and nothing is reported twice.
        """
        results: dict[int, WriteResult] = {}
        items: list[_Item] = []
        for index, write in enumerate(writes):
            if write.record is not None:
                items.append(
                    _Item(index, write, write.record.object, write.record.id, None, write.values)
                )
            elif write.key is not None and object_name is not None:
                check_name(write.key.field)
                items.append(_Item(index, write, object_name, None, write.key, write.values))
            else:
                results[index] = WriteResult(
                    person_id=write.person_id,
                    outcome=WriteOutcome.REJECTED,
                    error_code=NOT_MATCHED,
                    error_message="no Salesforce record was matched for this person",
                )
        try:
            self._run(items, results)
            # New records the org refused for want of a required field: once more, with
            # the values meant only for records relcrm creates.
            again = [
                replace(item, values={**item.write.values, **item.write.create_values})
                for item in items
                if item.key is not None
                and item.write.create_values
                and results[item.index].error_code == REQUIRED_FIELD_MISSING
            ]
            for item in again:
                del results[item.index]  # unsettled until the second call answers
            self._run(again, results)
        except VendorError as exc:
            exc.completed = [results[i] for i in sorted(results)]
            raise
        return [results[i] for i in range(len(writes))]

    def _run(self, items: Sequence[_Item], results: dict[int, WriteResult]) -> None:
        """Send ``items`` under the retry policy; their results go into ``results`` (by
        the write's index), those finished so far also when an error stops them."""
        if not items:
            return
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
        except VendorError:
            results.update({items[pos].index: r for pos, r in into.items()})
            raise
        results.update({item.index: r for item, r in zip(items, done, strict=True)})

    @staticmethod
    def _retryable(result: WriteResult) -> bool:
        return result.outcome is WriteOutcome.RETRYABLE

    def _batches(self, items: Sequence[_Item]) -> list[list[_Item]]:
        """One call per object (and upsert key) above the Bulk threshold, else
        collections of 200; updates by Id and upserts never share a call."""
        by_group: dict[tuple[str, str | None], list[_Item]] = defaultdict(list)
        for item in items:
            by_group[item.group].append(item)
        out: list[list[_Item]] = []
        for group in by_group.values():
            if len(group) > self.bulk_threshold:
                out.append(group)
            else:
                out.extend(unique_batches(group, self.batch_size))
        return out

    def _send(self, batch: Sequence[_Item]) -> list[WriteResult]:
        object_name, key_field = batch[0].group
        if len(batch) > self.bulk_threshold:
            return self._bulk(object_name, batch)
        if key_field is not None:
            return self._upsert(object_name, key_field, batch)
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
        it was sent counts as written (and is not sent again). Upserts are read back by
        their external id, so a record the lost call created is found, not created again
        (a key several records hold is left alone: sent again, Salesforce rejects it)."""
        found: dict[int, WriteResult] = {}
        by_group: dict[tuple[str, str | None], list[_Item]] = defaultdict(list)
        for item in items:
            by_group[item.group].append(item)
        for (object_name, key_field), group in by_group.items():
            names = {name for item in group for name in item.write.values}
            specs = self.field_specs(object_name, names)
            held: dict[str, tuple[str, dict[str, Any]]] = {}
            if key_field is None:
                ids = [i.id for i in group if i.id is not None]
                values = read_values(self.client, object_name, ids, sorted(names), specs)
                held = {record_id: (record_id, there) for record_id, there in values.items()}
            else:
                keys = [i.key.value for i in group if i.key is not None]
                rows = read_rows_by(self.client, object_name, key_field, keys, sorted(names))
                holders: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for row in rows:
                    holders[_norm(row.get(key_field))].append(row)
                held = {
                    key: (str(only[0]["Id"]), normalise_values(only[0], specs))
                    for key, only in holders.items()
                    if len(only) == 1
                }
            for item in group:
                where = item.id if item.key is None else _norm(item.key.value)
                record_id, there = held.get(where or "", ("", None))
                if there is not None and all(
                    holds(find_spec(specs, name), value, there.get(name))
                    for name, value in item.write.values.items()
                ):
                    found[id(item)] = _result(item, WriteOutcome.WRITTEN, record_id=record_id)
        self.recovered += len(found)
        return [found.get(id(item)) for item in items]

    # ------------------------------------------------------------------ collections

    def _composite(self, object_name: str, batch: Sequence[_Item]) -> list[WriteResult]:
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": object_name}, "Id": item.id, **item.values}
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

    def _upsert(
        self, object_name: str, key_field: str, batch: Sequence[_Item]
    ) -> list[WriteResult]:
        """``PATCH composite/sobjects/{object}/{key field}``: Salesforce updates the record
        holding each key or creates one, and answers each record in order."""
        records: list[dict[str, Any]] = []
        for item in batch:
            assert item.key is not None
            records.append(
                {"attributes": {"type": object_name}, **item.values, key_field: item.key.value}
            )
        body = {"allOrNone": False, "records": records}
        path = f"composite/sobjects/{check_name(object_name)}/{check_name(key_field)}"
        try:
            answer = self.client.call(
                f"upsert of {len(batch)} {object_name} records by {key_field}",
                lambda sf: sf.restful(path, method="PATCH", json=body),
                resend_uncertain=False,
            )
        except RequestRejected as exc:
            if exc.vendor_code == "NOT_FOUND":
                raise not_external_id(object_name, key_field) from exc
            raise
        if not isinstance(answer, list) or len(answer) != len(batch):
            raise TransientError(
                f"Salesforce answered {object_name} collection upsert with an unexpected body",
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
        """One Bulk API 2.0 job: ``update`` by Id, or ``upsert`` by the items' external
        id field (``externalIdFieldName``)."""
        key_field = items[0].group[1]
        key_column = key_field or "Id"
        columns = sorted({k for item in items for k in item.values} - {key_column})
        text = io.StringIO()
        out = csv.writer(text, lineterminator="\n")
        out.writerow([key_column, *columns])
        for item in items:
            values = item.values
            key = item.id if item.key is None else item.key.value
            out.writerow([key, *(csv_cell(values[c]) if c in values else "" for c in columns)])
        spec: dict[str, str] = {
            "object": object_name,
            "operation": "update" if key_field is None else "upsert",
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        if key_field is not None:
            spec["externalIdFieldName"] = key_field
        try:
            job = self._bulk_call(
                f"Bulk API job for {object_name}", "POST", "", data=json.dumps(spec)
            ).json()
        except RequestRejected as exc:
            if key_field is not None and "External ID" in exc.message:
                raise not_external_id(object_name, key_field) from exc
            raise
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
        key_field = items[0].group[1]
        by_id: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            if item.key is None:
                by_id[(item.id or "")[:15]].append(item)
            else:
                by_id[_norm(item.key.value)].append(item)

        def owners(row: dict[str, str]) -> Sequence[_Item]:
            if key_field is not None:
                return by_id.get(_norm(row.get(key_field) or ""), ())
            return by_id.get((row.get("Id") or row.get("sf__Id") or "")[:15], ())

        results: dict[int, WriteResult] = {}

        def rows(kind: str) -> list[dict[str, str]]:
            answer = self._bulk_call(f"Bulk API {kind}", "GET", f"/{job_id}/{kind}/")
            return list(csv.DictReader(io.StringIO(answer.text)))

        for row in rows("successfulResults"):
            for item in owners(row):
                if item.key is None:
                    results[item.index] = _result(item, WriteOutcome.WRITTEN)
                else:
                    created = (row.get("sf__Created") or "").lower()
                    results[item.index] = _result(
                        item,
                        WriteOutcome.WRITTEN,
                        record_id=row.get("sf__Id") or None,
                        created={"true": True, "false": False}.get(created),
                    )
        for row in rows("failedResults"):
            code, message, fields = bulk_error(row.get("sf__Error") or "")
            outcome = WriteOutcome.RETRYABLE if record_is_retryable(code) else WriteOutcome.REJECTED
            for item in owners(row):
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


def not_external_id(object_name: str, key_field: str) -> ConfigurationError:
    """The error for an upsert keyed by a field Salesforce does not take as a key."""
    return ConfigurationError(
        f"Salesforce cannot upsert {object_name} records by {key_field}: it is not an "
        "External ID field of the object (or the integration user cannot see it)",
        hint=f"mark {object_name}.{key_field} as External ID in Setup (or set match.by to a "
        "field that is one), then run relcrm mapping check",
        code=NOT_EXTERNAL_ID,
    )
