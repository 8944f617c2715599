"""Bulk API 2.0 ingest jobs: create, upload CSV, close, process, results, abort, delete.

Jobs run in the server's event loop after ``UploadComplete`` (so clients see the states
``UploadComplete -> InProgress -> JobComplete``), with the real CSV rules: empty cells
leave a field alone, ``#N/A`` nulls it, result files start with ``sf__Id``/``sf__Created``
or ``sf__Id``/``sf__Error``.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from relcrm.sandbox._requestlog import RecordWrite, RequestLog
from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.org import Org, now

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")


@dataclass
class Job:
    """One ingest job and its results."""

    id: str
    object: str
    operation: str
    external_id_field: str | None
    column_delimiter: str
    line_ending: str
    created_by: str
    version: str
    created: str = field(default_factory=now)
    state: str = "Open"
    uploads: list[bytes] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    error_message: str | None = None
    processing_ms: int = 0

    def info(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": now(),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Ingest",
            "contentUrl": f"services/data/v{self.version}/jobs/ingest/{self.id}/batches",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.successful) + len(self.failed),
            "numberRecordsFailed": len(self.failed),
            "retries": 0,
            "totalProcessingTime": self.processing_ms,
            "apiActiveProcessingTime": self.processing_ms,
            "apexProcessingTime": 0,
        }
        if self.external_id_field:
            body["externalIdFieldName"] = self.external_id_field
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


def _error(code: str, message: str, status: int = 400) -> SfError:
    return SfError(code, message, status=status)


class Bulk2:
    """The ingest job registry of one org."""

    def __init__(self, org: Org, log: RequestLog, *, processing_delay_s: float = 0.0) -> None:
        self.org = org
        self.log = log
        self.jobs: dict[str, Job] = {}
        self.processing_delay_s = processing_delay_s
        self._tasks: set[asyncio.Task[None]] = set()

    def create(self, body: dict[str, Any], version: str) -> Job:
        operation = str(body.get("operation") or "")
        if operation not in OPERATIONS:
            raise _error("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        obj = self.org.object_def(str(body.get("object") or ""))
        if obj is None:
            raise _error("INVALIDJOB", f"InvalidJob : Invalid object: {body.get('object')}")
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            fdef = obj.field_ci(str(ext or ""))
            if fdef is None or not (fdef.external_id or fdef.id_lookup):
                raise _error(
                    "INVALIDJOB",
                    f"InvalidJob : Field name provided, {ext} does not match an External ID,"
                    f" Salesforce Id, or indexed field for {obj.name}",
                )
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        if delimiter not in DELIMITERS:
            raise _error("INVALIDJOB", f"InvalidJob : Invalid column delimiter: {delimiter}")
        job = Job(
            id=self.org.ids.new("750"),
            object=obj.name,
            operation=operation,
            external_id_field=str(ext) if ext else None,
            column_delimiter=delimiter,
            line_ending=str(body.get("lineEnding") or "LF"),
            created_by=self.org.user_id,
            version=version,
        )
        self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise _error("NOT_FOUND", "The requested resource does not exist", 404)
        return job

    def upload(self, job_id: str, data: bytes) -> None:
        job = self.get(job_id)
        if job.state != "Open":
            raise _error("INVALIDJOBSTATE", f"Job {job_id} is not in Open state", 409)
        if len(data) > 150 * 1024 * 1024:
            raise _error("INVALIDBATCH", "InvalidBatch : the upload exceeds 150 MB")
        job.uploads.append(data)

    def set_state(self, job_id: str, state: str) -> Job:
        job = self.get(job_id)
        if state == "UploadComplete":
            if job.state != "Open":
                raise _error("INVALIDJOBSTATE", f"Job {job_id} is not in Open state", 409)
            job.state = "UploadComplete"
            loop = asyncio.get_running_loop()
            task = loop.create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif state == "Aborted":
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise _error("INVALIDJOBSTATE", f"Job {job_id} is already {job.state}", 409)
            job.state = "Aborted"
        else:
            raise _error("INVALIDJOBSTATE", f"Invalid state: {state}")
        return job

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        if job.state not in ("UploadComplete", "JobComplete", "Aborted", "Failed"):
            raise _error(
                "INVALIDJOBSTATE", f"Job {job_id} cannot be deleted while {job.state}", 409
            )
        del self.jobs[job_id]

    # ------------------------------------------------------------------ processing

    def _rows(self, job: Job) -> list[list[str]]:
        delimiter = DELIMITERS[job.column_delimiter]
        rows: list[list[str]] = []
        for upload in job.uploads:
            text = upload.decode("utf-8-sig")
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            parsed = [r for r in reader if r]
            if not parsed:
                continue
            header, body = parsed[0], parsed[1:]
            if job.header and header != job.header:
                raise _error("INVALIDBATCH", "InvalidBatch : all uploads must share one header")
            job.header = header
            rows.extend(body)
        return rows

    async def _run(self, job: Job) -> None:
        await asyncio.sleep(0)
        if job.state != "UploadComplete":
            return
        job.state = "InProgress"
        if self.processing_delay_s:
            await asyncio.sleep(self.processing_delay_s)
        if job.state != "InProgress":  # aborted meanwhile
            return
        self.process(job)

    def process(self, job: Job) -> None:
        """Apply every row of the job; fills the result lists and the request log."""
        call = self.log.start("JOB", f"/jobs/ingest/{job.id}", f"operation={job.operation}")
        try:
            rows = self._rows(job)
        except (SfError, UnicodeDecodeError, csv.Error) as exc:
            job.state, job.error_message = "Failed", str(exc)
            call.status = 400
            return
        view = self.org.view(job.created_by)
        obj = self.org.require_object(job.object)
        for column in job.header:
            fdef = view.visible_field(obj, column)
            if fdef is None:
                job.state = "Failed"
                job.error_message = f"InvalidBatch : Field name not found : {column}"
                job.unprocessed = rows
                call.status = 400
                return
        if job.operation in ("update", "delete", "hardDelete") and not any(
            c.lower() == "id" for c in job.header
        ):
            job.state = "Failed"
            job.error_message = "InvalidBatch : Field name not found : Id"
            job.unprocessed = rows
            call.status = 400
            return
        for index, values in enumerate(rows):
            if job.state == "Aborted":
                job.unprocessed = rows[index:]
                break
            record = dict(zip(job.header, values, strict=False))
            key = None
            try:
                if job.operation == "insert":
                    record_id, created = view.create(job.object, record, csv=True), True
                elif job.operation == "upsert":
                    ext = job.external_id_field or "Id"
                    key = next((v for k, v in record.items() if k.lower() == ext.lower()), None)
                    outcome = view.upsert(job.object, ext, key, record, csv=True)
                    record_id, created = outcome.id, outcome.created
                else:
                    rid = next((v for k, v in record.items() if k.lower() == "id"), "")
                    if job.operation == "update":
                        record_id = view.update(job.object, rid, record, csv=True)
                    else:
                        record_id = view.delete(job.object, rid)
                    created = False
                job.successful.append([record_id, "true" if created else "false", *values])
                call.writes.append(RecordWrite(job.object, job.operation, record_id, key))
            except SfError as exc:
                job.failed.append(["", exc.bulk_text(), *values])
                call.writes.append(RecordWrite(job.object, job.operation, None, key, success=False))
        if job.state != "Aborted":
            job.state = "JobComplete"
        job.processing_ms = max(1, len(rows) // 10)
        call.status = 200
        self.org.save_if_dirty()

    # ------------------------------------------------------------------ results

    def results_csv(self, job_id: str, kind: str) -> str:
        job = self.get(job_id)
        if job.state not in ("JobComplete", "Failed", "Aborted"):
            raise _error("INVALIDJOBSTATE", f"Job {job_id} is not complete", 409)
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if kind == "successfulresults":
            writer.writerow(["sf__Id", "sf__Created", *job.header])
            writer.writerows(job.successful)
        elif kind == "failedresults":
            writer.writerow(["sf__Id", "sf__Error", *job.header])
            writer.writerows(job.failed)
        else:
            writer.writerow(job.header)
            writer.writerows(job.unprocessed)
        return out.getvalue()
