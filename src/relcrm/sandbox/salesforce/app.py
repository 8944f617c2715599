"""HTTP routes of the Salesforce sandbox (a Starlette app).

Routing is done by hand on the raw path's segments: Salesforce paths carry record ids and
percent-encoded external-id values (``sobjects/Contact/Email/a%40b.c``) that must be decoded
one segment at a time, and unknown paths must answer with Salesforce's own NOT_FOUND list.
Every API answer carries ``Sforce-Limit-Info``; every call is counted against the daily
budget and checked against the session (401 with the real JSON list body when invalid).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox._server import current_call
from relcrm.sandbox.salesforce import errors as E
from relcrm.sandbox.salesforce import soql
from relcrm.sandbox.salesforce.auth import AuthFailure, oauth_token, soap_login
from relcrm.sandbox.salesforce.bulk2 import Bulk2
from relcrm.sandbox.salesforce.errors import SfError
from relcrm.sandbox.salesforce.ids import looks_like_id, to18
from relcrm.sandbox.salesforce.org import (
    MIN_QUERY_BATCH,
    QUERY_BATCH,
    Org,
    OrgView,
    Session,
)
from relcrm.sandbox.salesforce.tooling import (
    ToolingCatalog,
    create_custom_field,
    delete_custom_field,
)

JSON_TYPE = "application/json;charset=UTF-8"
VERSION_RE = re.compile(r"^v(\d{2,3}\.\d)$")
MAX_COLLECTION = 200
KNOWN_VERSIONS = [f"{n}.0" for n in range(20, 67)]


@dataclass
class Ctx:
    """One API call: the request, the version in its path, the caller's session and view."""

    request: Request
    version: str
    session: Session
    view: OrgView
    segments: list[str]
    body: bytes

    def json(self) -> Any:
        if not self.body.strip():
            raise E.json_parser_error("No content to map due to end-of-input at [line:1, column:0]")
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise E.json_parser_error(
                f"Unexpected character at [line:{exc.lineno}, column:{exc.colno}]"
            ) from None

    def record(self, write: RecordWrite) -> None:
        call = current_call(self.request.scope)
        if call is not None:
            call.writes.append(write)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(
            self.request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )


class SalesforceApp:
    """Builds the Starlette app over one :class:`Org`."""

    def __init__(self, org: Org, bulk: Bulk2) -> None:
        self.org = org
        self.bulk = bulk
        methods = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
        self.starlette = Starlette(routes=[Route("/{path:path}", self.dispatch, methods=methods)])

    # ------------------------------------------------------------------ responses

    def _json(
        self, request: Request, data: Any, status: int = 200, *, limit_header: bool = True
    ) -> Response:
        pretty = request.headers.get("x-prettyprint") == "1"
        text = json.dumps(
            data, indent=2 if pretty else None, separators=None if pretty else (",", ":")
        )
        headers = {"Sforce-Limit-Info": self.org.limit_header()} if limit_header else {}
        return Response(text, status_code=status, media_type=JSON_TYPE, headers=headers)

    def _error(self, request: Request, error: SfError, *, limit_header: bool = True) -> Response:
        if error.status == 300:
            return self._json(request, [error.message], 300, limit_header=limit_header)
        return self._json(request, [error.top_level()], error.status, limit_header=limit_header)

    def _empty(self, status: int = 204) -> Response:
        return Response(status_code=status, headers={"Sforce-Limit-Info": self.org.limit_header()})

    # ------------------------------------------------------------------ dispatch

    async def dispatch(self, request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        segments = [unquote(s) for s in path.split("/")]
        parts = segments[1:]
        if parts and parts[-1] == "":
            parts = parts[:-1]
        method = request.method
        try:
            if parts[:2] == ["services", "oauth2"] and parts[2:] == ["token"] and method == "POST":
                return await self._oauth(request)
            if parts[:3] == ["services", "Soap", "u"] and method == "POST":
                return await self._soap_login(request, parts[3] if len(parts) > 3 else "59.0")
            if parts == ["services", "data"] and method == "GET":
                return self._json(
                    request,
                    [
                        {"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                        for v in KNOWN_VERSIONS
                    ],
                    limit_header=False,
                )
            if len(parts) >= 3 and parts[:2] == ["services", "data"]:
                match = VERSION_RE.match(parts[2])
                if match is None or float(match.group(1)) < 20:
                    raise E.not_found()
                return await self._api(request, match.group(1), parts[3:])
            raise E.not_found()
        except SfError as exc:
            return self._error(request, exc, limit_header=False)

    async def _oauth(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
        try:
            body = oauth_token(self.org, form, request.headers.get("authorization"))
        except AuthFailure as exc:
            return Response(exc.body, status_code=exc.status, media_type=exc.content_type)
        return Response(body, media_type=JSON_TYPE)

    async def _soap_login(self, request: Request, version: str) -> Response:
        try:
            body = soap_login(self.org, await request.body(), version)
        except AuthFailure as exc:
            return Response(exc.body, status_code=exc.status, media_type=exc.content_type)
        return Response(body, media_type="text/xml;charset=UTF-8")

    async def _api(self, request: Request, version: str, segments: list[str]) -> Response:
        header = request.headers.get("authorization", "")
        token = header.split(" ", 1)[1].strip() if " " in header else None
        session = self.org.check_session(token)  # 401 before anything else, as real orgs do
        try:
            self.org.count_api_call()
        except SfError as exc:
            return self._error(request, exc)
        view = self.org.view(session.user_id)
        view.version = version
        ctx = Ctx(request, version, session, view, segments, await request.body())
        try:
            handler = self._route(request.method, segments)
            response = await handler(ctx)
        except SfError as exc:
            response = self._error(request, exc)
        self.org.save_if_dirty()
        return response

    def _route(self, method: str, s: list[str]) -> Callable[[Ctx], Awaitable[Response]]:
        n = len(s)
        head = s[0] if s else ""
        if n == 0 and method == "GET":
            return self.resources
        if head == "sobjects":
            if n == 1 and method == "GET":
                return self.global_describe
            if n == 2 and method == "GET":
                return self.sobject_info
            if n == 2 and method == "POST":
                return self.create
            if n == 3 and s[2] == "describe" and method == "GET":
                return self.describe
            if n == 3 and s[2].lower() == "id" and method in ("PATCH", "DELETE"):
                raise SfError(
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{method}' not allowed. Allowed are GET,HEAD,POST",
                    status=405,
                )
            if n == 3 and method in ("GET", "PATCH", "DELETE"):
                return {"GET": self.retrieve, "PATCH": self.update, "DELETE": self.delete}[method]
            if n == 3 and s[2].lower() == "id" and method == "POST":
                return self.create
            if n == 4 and method in ("PATCH", "GET", "DELETE"):
                return self.by_external_id
            if n == 4 and s[2].lower() == "id" and method == "POST":
                return self.create
        if head in ("query", "queryAll") and method == "GET":
            return self.query if n == 1 else self.query_more
        if head == "limits" and method == "GET":
            if n == 1:
                return self.limits
            if n == 2 and s[1] == "recordCount":
                return self.record_count
        if head == "composite" and n >= 2 and s[1] == "sobjects":
            if n == 2 and method in ("POST", "PATCH"):
                return self.collection_write
            if n == 2 and method == "DELETE":
                return self.collection_delete
            if n == 4 and method == "PATCH":
                return self.collection_upsert
        if head == "jobs" and n >= 2 and s[1] == "ingest":
            return self._bulk_route(method, s)
        if head == "tooling":
            return self._tooling_route(method, s)
        if method in ("GET", "POST", "PATCH", "DELETE", "PUT") and head in (
            "sobjects",
            "composite",
            "query",
            "queryAll",
            "limits",
        ):
            allowed = "GET,HEAD,POST" if head == "sobjects" else "GET,HEAD"
            raise SfError(
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
                status=405,
            )
        raise E.not_found()

    # ------------------------------------------------------------------ describe

    async def resources(self, ctx: Ctx) -> Response:
        base = f"/services/data/v{ctx.version}"
        names = ["sobjects", "query", "queryAll", "limits", "composite", "tooling", "jobs"]
        return self._json(ctx.request, {n: f"{base}/{n}" for n in names})

    async def global_describe(self, ctx: Ctx) -> Response:
        objects = sorted(self.org.objects.values(), key=lambda o: o.name)
        return self._json(
            ctx.request,
            {
                "encoding": "UTF-8",
                "maxBatchSize": MAX_COLLECTION,
                "sobjects": [o.global_entry(ctx.version) for o in objects],
            },
        )

    async def sobject_info(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        return self._json(
            ctx.request, {"objectDescribe": obj.global_entry(ctx.version), "recentItems": []}
        )

    async def describe(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        body = obj.describe(
            ctx.version,
            self.org.instance_url,
            ctx.view.visible_fields(obj),
            ctx.view.child_relationships(obj),
            editable=lambda fdef: self.org.field_access(ctx.view.user_id, obj, fdef)[1],
        )
        return self._json(ctx.request, body)

    # ------------------------------------------------------------------ single records

    async def create(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        data = ctx.json()
        if not isinstance(data, dict):
            raise E.json_parser_error("Cannot deserialize instance of sObject from START_ARRAY")
        is_id_insert = len(ctx.segments) >= 3 and ctx.segments[2].lower() == "id"
        if len(ctx.segments) == 4:
            raise SfError(
                "METHOD_NOT_ALLOWED",
                "HTTP Method 'POST' not allowed. Allowed are GET,HEAD,PATCH,DELETE",
                status=405,
            )
        body = {k: v for k, v in data.items() if k != "Id" or not is_id_insert}
        if any(k.lower() == "id" for k in body if k != "attributes"):
            raise SfError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        try:
            record_id = ctx.view.create(obj.name, body)
        except SfError:
            ctx.record(RecordWrite(obj.name, "create", None, None, success=False))
            raise
        ctx.record(RecordWrite(obj.name, "create", record_id))
        result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
        if is_id_insert:
            result["created"] = True
        return self._json(ctx.request, result, 201)

    async def retrieve(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        fields = ctx.query.get("fields", [""])[-1]
        wanted = [f.strip() for f in fields.split(",") if f.strip()] or None
        return self._json(ctx.request, ctx.view.get(obj.name, ctx.segments[2], wanted))

    async def update(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        data = ctx.json()
        if not isinstance(data, dict):
            raise E.json_parser_error("Cannot deserialize instance of sObject from START_ARRAY")
        if not looks_like_id(ctx.segments[2]):
            raise E.not_found()
        try:
            record_id = ctx.view.update(obj.name, ctx.segments[2], data)
        except SfError:
            ctx.record(RecordWrite(obj.name, "update", to18(ctx.segments[2]), success=False))
            raise
        ctx.record(RecordWrite(obj.name, "update", record_id))
        return self._empty()

    async def delete(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        record_id = ctx.view.delete(obj.name, ctx.segments[2])
        ctx.record(RecordWrite(obj.name, "delete", record_id))
        return self._empty()

    async def by_external_id(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[1])
        field_name, value = ctx.segments[2], ctx.segments[3]
        fdef = ctx.view.visible_field(obj, field_name)
        if fdef is None or not (fdef.external_id or fdef.id_lookup):
            raise E.not_found()
        method = ctx.request.method
        if method in ("GET", "DELETE"):
            if fdef.name == "Id":
                matches = [r for r in [ctx.view.get_row(value)] if r and r[0] is obj]
                rows = [m[1] for m in matches if not m[1].get("IsDeleted")]
            else:
                rows = ctx.view.find_by(obj, fdef, value)
            if not rows:
                raise E.not_found()
            if len(rows) > 1:
                return self._json(
                    ctx.request, [ctx.view.record_url(obj, r["Id"]) for r in rows], 300
                )
            if method == "GET":
                return self._json(ctx.request, ctx.view.get(obj.name, rows[0]["Id"]))
            record_id = ctx.view.delete(obj.name, rows[0]["Id"])
            ctx.record(RecordWrite(obj.name, "delete", record_id, value))
            return self._empty()
        data = ctx.json()
        if not isinstance(data, dict):
            raise E.json_parser_error("Cannot deserialize instance of sObject from START_ARRAY")
        update_only = ctx.query.get("updateOnly", ["false"])[-1].lower() == "true"
        if update_only and fdef.name != "Id" and not ctx.view.find_by(obj, fdef, value):
            raise E.not_found()
        try:
            outcome = ctx.view.upsert(obj.name, fdef.name, value, data)
        except SfError as exc:
            ctx.record(RecordWrite(obj.name, "upsert", None, value, success=False))
            if exc.status == 300:
                rows = ctx.view.find_by(obj, fdef, value)
                return self._json(
                    ctx.request, [ctx.view.record_url(obj, r["Id"]) for r in rows], 300
                )
            raise
        ctx.record(RecordWrite(obj.name, "upsert", outcome.id, value))
        return self._json(
            ctx.request,
            {"id": outcome.id, "success": True, "errors": [], "created": outcome.created},
            201 if outcome.created else 200,
        )

    # ------------------------------------------------------------------ query

    def _batch_size(self, ctx: Ctx) -> int:
        options = ctx.request.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options)
        if not match:
            return QUERY_BATCH
        return max(MIN_QUERY_BATCH, min(QUERY_BATCH, int(match.group(1))))

    def _page(
        self,
        ctx: Ctx,
        records: list[dict[str, Any]],
        total: int,
        start: int,
        batch: int,
        locator: str | None,
    ) -> Response:
        page = records[start : start + batch]
        done = start + batch >= len(records)
        body: dict[str, Any] = {"totalSize": total, "done": done}
        if not done:
            if locator is None:
                locator = self.org.open_cursor(records, batch)
            body["nextRecordsUrl"] = (
                f"/services/data/v{ctx.version}/query/{locator}-{start + batch}"
            )
        body["records"] = page
        return self._json(ctx.request, body)

    async def query(self, ctx: Ctx) -> Response:
        text = ctx.query.get("q", [""])[-1]
        if not text.strip():
            raise E.malformed_query("A query string has to be specified")
        parsed = soql.parse(text)
        view = ctx.view
        include_deleted = ctx.segments[0] == "queryAll"
        with self.org.lock:
            result = soql.Evaluator(view, include_deleted=include_deleted).run(parsed)
        return self._page(ctx, result.records, result.total_size, 0, self._batch_size(ctx), None)

    async def query_more(self, ctx: Ctx) -> Response:
        locator, _, offset = ctx.segments[1].rpartition("-")
        cursor = self.org.cursors.get(locator)
        if cursor is None or not offset.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(
            ctx, cursor.records, len(cursor.records), int(offset), cursor.batch, locator
        )

    # ------------------------------------------------------------------ limits

    async def limits(self, ctx: Ctx) -> Response:
        return self._json(ctx.request, self.org.limits())

    async def record_count(self, ctx: Ctx) -> Response:
        names = ",".join(ctx.query.get("sObjects", [""])).split(",")
        counts = []
        for name in filter(None, (n.strip() for n in names)):
            obj = self.org.object_def(name)
            if obj is None:
                continue
            count = sum(1 for r in self.org.records[obj.name].values() if not r.get("IsDeleted"))
            if count:
                counts.append({"count": count, "name": obj.name})
        return self._json(ctx.request, {"sObjects": counts})

    # ------------------------------------------------------------------ collections

    def _collection_body(self, ctx: Ctx) -> tuple[list[Any], bool]:
        data = ctx.json()
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise E.json_parser_error("Cannot deserialize instance of the request: records missing")
        records = data["records"]
        if len(records) > MAX_COLLECTION:
            raise SfError(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        if not records:
            raise SfError("INVALID_FIELD", "No records to process")
        return records, bool(data.get("allOrNone", False))

    async def _run_collection(
        self,
        ctx: Ctx,
        records: list[Any],
        all_or_none: bool,
        operation: str,
        one: Callable[[dict[str, Any]], tuple[str, bool | None, str | None]],
        key_of: Callable[[Any], str | None] = lambda record: None,
    ) -> Response:
        results: list[dict[str, Any]] = []
        writes: list[RecordWrite] = []
        with self.org.transaction() as tx:
            for record in records:
                try:
                    if not isinstance(record, dict):
                        raise E.json_parser_error("Cannot deserialize instance of sObject")
                    record_id, created, key = one(record)
                    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
                    if created is not None:
                        result["created"] = created
                    results.append(result)
                    sent = tuple(k for k in record if k not in ("attributes", "Id"))
                    writes.append(
                        RecordWrite(
                            self._type_of(ctx, record), operation, record_id, key, fields=sent
                        )
                    )
                except SfError as exc:
                    if exc.code == "JSON_PARSER_ERROR":
                        self.org.rollback(tx)
                        raise
                    results.append({"success": False, "errors": [exc.record_level()]})
                    writes.append(
                        RecordWrite(
                            self._type_of(ctx, record),
                            operation,
                            None,
                            key_of(record),
                            success=False,
                        )
                    )
            if all_or_none and any(not r["success"] for r in results):
                self.org.rollback(tx)
                rolled = E.all_or_none_rolled_back().record_level()
                results = [
                    r if not r["success"] else {"success": False, "errors": [rolled]}
                    for r in results
                ]
                writes = [
                    RecordWrite(w.object, w.operation, None, w.key, success=False) for w in writes
                ]
        for write in writes:
            ctx.record(write)
        return self._json(ctx.request, results)

    def _type_of(self, ctx: Ctx, record: Any) -> str:
        if len(ctx.segments) >= 3:
            return ctx.segments[2]
        if isinstance(record, dict):
            attrs = record.get("attributes")
            if isinstance(attrs, dict):
                return str(attrs.get("type") or "")
        return ""

    @staticmethod
    def _record_type(record: dict[str, Any]) -> str:
        attrs = record.get("attributes")
        kind = attrs.get("type") if isinstance(attrs, dict) else None
        if not kind:
            raise SfError("INVALID_TYPE", "Must send a concrete entity type.")
        return str(kind)

    async def collection_write(self, ctx: Ctx) -> Response:
        records, all_or_none = self._collection_body(ctx)
        view = ctx.view
        creating = ctx.request.method == "POST"

        def one(record: dict[str, Any]) -> tuple[str, bool | None, str | None]:
            kind = self._record_type(record)
            if self.org.object_def(kind) is None:
                raise E.unsupported_object(kind)
            body = {k: v for k, v in record.items() if k != "attributes"}
            record_id = next((v for k, v in body.items() if k.lower() == "id"), None)
            if creating:
                if record_id:
                    raise SfError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                return (
                    view.create(kind, {k: v for k, v in body.items() if k.lower() != "id"}),
                    None,
                    None,
                )
            if not record_id:
                raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", [])
            body = {k: v for k, v in body.items() if k.lower() != "id"}
            if not looks_like_id(str(record_id)):
                raise SfError(
                    "MALFORMED_ID", f"Id: id value of incorrect type: {record_id}", ["Id"]
                )
            return view.update(kind, str(record_id), body), None, None

        return await self._run_collection(
            ctx, records, all_or_none, "create" if creating else "update", one
        )

    async def collection_upsert(self, ctx: Ctx) -> Response:
        obj = self.org.require_object(ctx.segments[2])
        fdef = ctx.view.visible_field(obj, ctx.segments[3])
        if fdef is None or not (fdef.external_id or fdef.id_lookup):
            raise E.not_found()
        records, all_or_none = self._collection_body(ctx)
        view = ctx.view

        def one(record: dict[str, Any]) -> tuple[str, bool | None, str | None]:
            kind = self._record_type(record)
            if kind.lower() != obj.name.lower():
                raise SfError(
                    "INVALID_TYPE",
                    f"This type of object is not supported for this operation: {kind}",
                )
            body = {k: v for k, v in record.items() if k != "attributes"}
            key_value = next((v for k, v in body.items() if k.lower() == fdef.name.lower()), None)
            if fdef.name != "Id" and key_value in (None, ""):
                raise SfError("MISSING_ARGUMENT", f"{fdef.name} not specified", [])
            if fdef.name == "Id":
                body = {k: v for k, v in body.items() if k.lower() != "id"}
            outcome = view.upsert(obj.name, fdef.name, key_value, body)
            return outcome.id, outcome.created, None if key_value is None else str(key_value)

        def key_of(record: Any) -> str | None:
            if not isinstance(record, dict):
                return None
            value = next((v for k, v in record.items() if k.lower() == fdef.name.lower()), None)
            return None if value is None else str(value)

        return await self._run_collection(ctx, records, all_or_none, "upsert", one, key_of)

    async def collection_delete(self, ctx: Ctx) -> Response:
        ids = [i for i in ",".join(ctx.query.get("ids", [""])).split(",") if i]
        if len(ids) > MAX_COLLECTION:
            raise SfError(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        all_or_none = ctx.query.get("allOrNone", ["false"])[-1].lower() == "true"
        view = ctx.view

        def one(record: dict[str, Any]) -> tuple[str, bool | None, str | None]:
            found = view.get_row(str(record["id"]))
            if found is None:
                raise SfError("ENTITY_IS_DELETED", "entity is deleted", [])
            return view.delete(found[0].name, str(record["id"])), None, None

        return await self._run_collection(ctx, [{"id": i} for i in ids], all_or_none, "delete", one)

    # ------------------------------------------------------------------ bulk 2.0

    def _bulk_route(self, method: str, s: list[str]) -> Callable[[Ctx], Awaitable[Response]]:
        n = len(s)
        if n == 2 and method == "POST":
            return self.bulk_create
        if n == 2 and method == "GET":
            return self.bulk_list
        if n == 3 and method == "GET":
            return self.bulk_info
        if n == 3 and method == "PATCH":
            return self.bulk_state
        if n == 3 and method == "DELETE":
            return self.bulk_delete
        if n == 4 and s[3] == "batches" and method == "PUT":
            return self.bulk_upload
        if (
            n == 4
            and method == "GET"
            and s[3].lower() in ("successfulresults", "failedresults", "unprocessedrecords")
        ):
            return self.bulk_results
        raise E.not_found()

    async def bulk_create(self, ctx: Ctx) -> Response:
        data = ctx.json()
        if not isinstance(data, dict):
            raise E.json_parser_error("Cannot deserialize job info")
        job = self.bulk.create(data, ctx.version)
        return self._json(ctx.request, job.info())

    async def bulk_list(self, ctx: Ctx) -> Response:
        infos = [j.info() for j in self.bulk.jobs.values()]
        return self._json(ctx.request, {"done": True, "records": infos, "nextRecordsUrl": None})

    async def bulk_info(self, ctx: Ctx) -> Response:
        return self._json(ctx.request, self.bulk.get(ctx.segments[2]).info())

    async def bulk_state(self, ctx: Ctx) -> Response:
        data = ctx.json()
        state = data.get("state") if isinstance(data, dict) else None
        job = self.bulk.set_state(ctx.segments[2], str(state))
        return self._json(ctx.request, job.info())

    async def bulk_delete(self, ctx: Ctx) -> Response:
        self.bulk.delete(ctx.segments[2])
        return self._empty()

    async def bulk_upload(self, ctx: Ctx) -> Response:
        content_type = ctx.request.headers.get("content-type", "")
        if "text/csv" not in content_type:
            raise SfError(
                "UNSUPPORTEDCONTENTTYPE", f"Unsupported content type: {content_type or 'none'}"
            )
        self.bulk.upload(ctx.segments[2], ctx.body)
        return self._empty(201)

    async def bulk_results(self, ctx: Ctx) -> Response:
        text = self.bulk.results_csv(ctx.segments[2], ctx.segments[3].lower())
        return Response(
            text, media_type="text/csv", headers={"Sforce-Limit-Info": self.org.limit_header()}
        )

    # ------------------------------------------------------------------ tooling

    def _tooling_route(self, method: str, s: list[str]) -> Callable[[Ctx], Awaitable[Response]]:
        n = len(s)
        if n == 2 and s[1] == "query" and method == "GET":
            return self.tooling_query
        if n == 2 and s[1] == "sobjects" and method == "GET":
            return self.tooling_global
        if n >= 3 and s[1] == "sobjects" and s[2] == "CustomField":
            if n == 3 and method == "POST":
                return self.tooling_create_field
            if n == 4 and s[3] == "describe" and method == "GET":
                return self.tooling_describe
            if n == 4 and method == "GET":
                return self.tooling_get_field
            if n == 4 and method == "DELETE":
                return self.tooling_delete_field
        raise E.not_found()

    async def tooling_query(self, ctx: Ctx) -> Response:
        text = ctx.query.get("q", [""])[-1]
        parsed = soql.parse(text)
        catalog = ToolingCatalog(self.org, ctx.version)
        with self.org.lock:
            result = soql.Evaluator(catalog).run(parsed)
        heavy = any(
            isinstance(item, soql.FieldPath) and item.parts[-1].lower() in ("metadata", "fullname")
            for item in parsed.select
        )
        if heavy and result.total_size > 1:
            raise E.malformed_query(
                "When retrieving results with Metadata or FullName fields, the query"
                " qualifications must specify no more than one row for retrieval. Result size: "
                f"{result.total_size}"
            )
        body = {
            "size": result.total_size,
            "totalSize": result.total_size,
            "done": True,
            "queryLocator": None,
            "entityTypeName": parsed.object_name,
            "records": result.records,
        }
        return self._json(ctx.request, body)

    async def tooling_global(self, ctx: Ctx) -> Response:
        objects = list(self.org.tooling_objects.values())
        return self._json(
            ctx.request,
            {
                "encoding": "UTF-8",
                "maxBatchSize": MAX_COLLECTION,
                "sobjects": [o.global_entry(ctx.version) for o in objects],
            },
        )

    async def tooling_describe(self, ctx: Ctx) -> Response:
        obj = self.org.tooling_objects["customfield"]
        return self._json(
            ctx.request,
            obj.describe(ctx.version, self.org.instance_url, list(obj.fields.values()), []),
        )

    async def tooling_create_field(self, ctx: Ctx) -> Response:
        data = ctx.json()
        if not isinstance(data, dict):
            raise E.json_parser_error("Cannot deserialize CustomField")
        result = create_custom_field(self.org, data)
        ctx.record(RecordWrite("CustomField", "create", result["id"], str(data.get("FullName"))))
        return self._json(ctx.request, result, 201)

    async def tooling_get_field(self, ctx: Ctx) -> Response:
        row = self.org.custom_fields.get(to18(ctx.segments[3]))
        if row is None:
            raise E.not_found()
        body = {
            "attributes": {
                "type": "CustomField",
                "url": f"/services/data/v{ctx.version}/tooling/sobjects/CustomField/{row['Id']}",
            }
        }
        body.update(row)
        return self._json(ctx.request, body)

    async def tooling_delete_field(self, ctx: Ctx) -> Response:
        delete_custom_field(self.org, to18(ctx.segments[3]))
        ctx.record(RecordWrite("CustomField", "delete", to18(ctx.segments[3])))
        return self._empty()
