"""HTTP routes of the HubSpot sandbox (a Starlette app).

Every call goes through the same gate, in HubSpot's order: the bearer token (401), the
rate limits (429, with ``errorType``/``policyName``), the route (404), the scope the route
needs (403), then the portal operation. Routing is a table of regular expressions on the
raw path, so unknown paths and object types answer with HubSpot's JSON error envelope
rather than Starlette's plain-text 404.
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
from relcrm.sandbox.hubspot import errors as E
from relcrm.sandbox.hubspot.errors import HsError
from relcrm.sandbox.hubspot.portal import BatchOutcome, Portal, object_type
from relcrm.sandbox.hubspot.ratelimit import RateLimiter
from relcrm.sandbox.hubspot.schema import OBJECT_TYPE_IDS, iso_now

JSON_TYPE = "application/json;charset=utf-8"


@dataclass
class Ctx:
    """One authorised API call: the request, its path groups, query and body."""

    request: Request
    groups: dict[str, str]
    body: bytes
    token: str

    def json(self) -> Any:
        if not self.body.strip():
            raise E.invalid_json("No content to map due to end-of-input")
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise E.invalid_json(str(exc)) from None

    @property
    def query(self) -> dict[str, list[str]]:
        raw = self.request.scope.get("query_string", b"").decode("latin-1")
        return parse_qs(raw, keep_blank_values=True)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def qlist(self, name: str) -> list[str] | None:
        """A list query parameter, repeated (as the SDK sends it) or comma-separated."""
        values = self.query.get(name)
        if not values:
            return None
        out = [p.strip() for v in values for p in v.split(",") if p.strip()]
        return out or None

    def obj(self, key: str = "obj") -> str:
        return object_type(self.groups[key])

    def sink(self, write: RecordWrite) -> None:
        call = current_call(self.request.scope)
        if call is not None:
            call.writes.append(write)


Handler = Callable[[Ctx], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True)
class RouteSpec:
    """One endpoint: method, path pattern, handler, and the scope it needs."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    access: str  # "read" | "write" | "schema.read" | "schema.write"
    search: bool = False


def _scope_for(obj: str, access: str) -> str:
    if obj == "tickets":
        return "tickets"  # one scope covers ticket records and ticket properties
    family = "companies" if obj == "companies" else "contacts"  # notes ride on contacts
    if access.startswith("schema."):
        return f"crm.schemas.{family}.{access.split('.', 1)[1]}"
    return f"crm.objects.{family}.{access}"


def _batch_answer(outcome: BatchOutcome, ok_status: int = 200) -> tuple[int, Any]:
    stamp = iso_now()
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": outcome.results,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if outcome.errors:
        body["numErrors"] = len(outcome.errors)
        body["errors"] = outcome.errors
        return 207, body
    return ok_status, body


class HubSpotApp:
    """The Starlette app over one :class:`Portal` and one :class:`RateLimiter`."""

    def __init__(self, portal: Portal, limiter: RateLimiter) -> None:
        self.portal = portal
        self.limiter = limiter
        seg = r"([^/]+)"
        P = "/crm/v3/properties/" + seg
        OBJ = "/crm/v3/objects/" + seg
        specs: list[tuple[str, str, Handler, str, bool]] = [
            ("GET", P + "/groups", self.list_groups, "schema.read", False),
            ("POST", P + "/groups", self.create_group, "schema.write", False),
            ("GET", P + "/groups/" + seg, self.read_group, "schema.read", False),
            ("PATCH", P + "/groups/" + seg, self.update_group, "schema.write", False),
            ("DELETE", P + "/groups/" + seg, self.archive_group, "schema.write", False),
            ("POST", P + "/batch/read", self.batch_read_properties, "schema.read", False),
            ("POST", P + "/batch/create", self.batch_create_properties, "schema.write", False),
            ("GET", P, self.list_properties, "schema.read", False),
            ("POST", P, self.create_property, "schema.write", False),
            ("GET", P + "/" + seg, self.read_property, "schema.read", False),
            ("PATCH", P + "/" + seg, self.update_property, "schema.write", False),
            ("DELETE", P + "/" + seg, self.archive_property, "schema.write", False),
            ("POST", OBJ + "/search", self.search, "read", True),
            ("POST", OBJ + "/batch/read", self.batch_read, "read", False),
            ("POST", OBJ + "/batch/create", self.batch_create, "write", False),
            ("POST", OBJ + "/batch/update", self.batch_update, "write", False),
            ("POST", OBJ + "/batch/upsert", self.batch_upsert, "write", False),
            ("POST", OBJ + "/batch/archive", self.batch_archive, "write", False),
            ("GET", OBJ, self.list_objects, "read", False),
            ("POST", OBJ, self.create, "write", False),
            ("GET", OBJ + "/" + seg, self.read, "read", False),
            ("PATCH", OBJ + "/" + seg, self.update, "write", False),
            ("DELETE", OBJ + "/" + seg, self.archive, "write", False),
            (
                "PUT",
                f"/crm/v4/objects/{seg}/{seg}/associations/default/{seg}/{seg}",
                self.associate_default,
                "write",
                False,
            ),
            (
                "PUT",
                f"/crm/v4/objects/{seg}/{seg}/associations/{seg}/{seg}",
                self.associate_labelled,
                "write",
                False,
            ),
            (
                "DELETE",
                f"/crm/v4/objects/{seg}/{seg}/associations/{seg}/{seg}",
                self.dissociate,
                "write",
                False,
            ),
            ("GET", f"/crm/v4/objects/{seg}/{seg}/associations/{seg}", self.associations, "read",
             False),
            ("POST", f"/crm/v4/associations/{seg}/{seg}/batch/associate/default",
             self.batch_associate_default, "write", False),
            ("POST", f"/crm/v4/associations/{seg}/{seg}/batch/create",
             self.batch_associate, "write", False),
        ]  # fmt: skip
        self.routes = [
            RouteSpec(m, re.compile("^" + p + "/?$"), h, a, s) for m, p, h, a, s in specs
        ]
        self.starlette = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self.dispatch,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )

    # -- the gate ----------------------------------------------------------------------

    def _response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if status == 204 or body is None:
            return Response(status_code=status, headers=headers)
        return Response(
            json.dumps(body, separators=(",", ":")),
            status_code=status,
            media_type=JSON_TYPE,
            headers=headers,
        )

    def _error(self, exc: HsError, headers: dict[str, str]) -> Response:
        return self._response(exc.status, exc.body(), {**headers, **exc.headers})

    def _route(self, method: str, path: str) -> tuple[RouteSpec, list[str]] | None:
        for spec in self.routes:
            if spec.method != method:
                continue
            match = spec.pattern.match(path)
            if match:
                return spec, [unquote(g) for g in match.groups()]
        return None

    async def dispatch(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        portal = self.portal
        if not token or token not in portal.config.tokens:
            return self._error(E.invalid_auth(), {})
        expiry = portal.faults.plan.session_expires_after
        with portal.lock:
            portal.token_calls[token] = portal.token_calls.get(token, 0) + 1
            used = portal.token_calls[token]
        if expiry is not None and used > expiry:
            return self._error(E.expired_auth(used - expiry), {})
        found = self._route(request.method, path)
        is_search = found is not None and found[0].search
        decision = self.limiter.check(token, search=is_search)
        headers = decision.headers if not is_search or portal.config.search_rate_headers else {}
        if not decision.allowed:
            assert decision.policy is not None
            extra = dict(headers)
            if self.limiter.limits.retry_after:
                extra["Retry-After"] = str(max(1, round(decision.retry_after_s + 0.5)))
            return self._response(429, E.rate_limit_body(decision.policy), extra)
        if found is None:
            return self._error(E.not_found(f"Unable to route {request.method} {path}"), headers)
        spec, values = found
        try:
            obj = object_type(values[0]) if values else "contacts"
            needed = _scope_for(obj, spec.access)
            if needed not in portal.config.tokens[token]:
                raise E.missing_scopes([needed])
            names = ["obj", "a", "b", "c"]
            ctx = Ctx(request, dict(zip(names, values, strict=False)), await request.body(), token)
            status, body = await spec.handler(ctx)
        except HsError as exc:
            return self._error(exc, headers)
        return self._response(status, body, headers)

    # -- properties and groups ---------------------------------------------------------

    async def list_properties(self, ctx: Ctx) -> tuple[int, Any]:
        archived = (ctx.q("archived") or "false").lower() == "true"
        return 200, {"results": self.portal.list_properties(ctx.obj(), archived)}

    async def create_property(self, ctx: Ctx) -> tuple[int, Any]:
        return 201, self.portal.create_property(ctx.obj(), ctx.json())

    async def read_property(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.read_property(ctx.obj(), ctx.groups["a"])

    async def update_property(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.update_property(ctx.obj(), ctx.groups["a"], ctx.json())

    async def archive_property(self, ctx: Ctx) -> tuple[int, Any]:
        self.portal.archive_property(ctx.obj(), ctx.groups["a"])
        return 204, None

    async def batch_read_properties(self, ctx: Ctx) -> tuple[int, Any]:
        body = ctx.json()
        results, missing = [], []
        for item in body.get("inputs") or []:
            name = str((item or {}).get("name", ""))
            try:
                results.append(self.portal.read_property(ctx.obj(), name))
            except HsError:
                missing.append(name)
        errors = []
        if missing:
            errors.append(
                E.batch_error(
                    "OBJECT_NOT_FOUND", "Some properties were not found.", {"names": missing}
                )
            )
        return _batch_answer(BatchOutcome(results, errors))

    async def batch_create_properties(self, ctx: Ctx) -> tuple[int, Any]:
        body = ctx.json()
        results, errors = [], []
        for item in body.get("inputs") or []:
            try:
                results.append(self.portal.create_property(ctx.obj(), item))
            except HsError as exc:
                errors.append(
                    E.batch_error(
                        exc.category, exc.message, {"name": [str((item or {}).get("name", ""))]}
                    )
                )
        return _batch_answer(BatchOutcome(results, errors), 201)

    async def list_groups(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, {"results": self.portal.list_groups(ctx.obj())}

    async def create_group(self, ctx: Ctx) -> tuple[int, Any]:
        return 201, self.portal.create_group(ctx.obj(), ctx.json())

    async def read_group(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.read_group(ctx.obj(), ctx.groups["a"])

    async def update_group(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.update_group(ctx.obj(), ctx.groups["a"], ctx.json())

    async def archive_group(self, ctx: Ctx) -> tuple[int, Any]:
        self.portal.archive_group(ctx.obj(), ctx.groups["a"])
        return 204, None

    # -- objects -----------------------------------------------------------------------

    async def list_objects(self, ctx: Ctx) -> tuple[int, Any]:
        limit = int(ctx.q("limit") or 10)
        if not 1 <= limit <= 100:
            raise E.validation("limit must be between 1 and 100")
        return 200, self.portal.list_page(ctx.obj(), limit, ctx.q("after"), ctx.qlist("properties"))

    async def create(self, ctx: Ctx) -> tuple[int, Any]:
        record, _links = self.portal.create(ctx.obj(), ctx.json(), ctx.sink)
        return 201, record

    async def read(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.read(
            ctx.obj(),
            ctx.groups["a"],
            ctx.q("idProperty"),
            ctx.qlist("properties"),
            ctx.qlist("associations"),
        )

    async def update(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.update(
            ctx.obj(), ctx.groups["a"], ctx.q("idProperty"), ctx.json(), ctx.sink
        )

    async def archive(self, ctx: Ctx) -> tuple[int, Any]:
        self.portal.archive(ctx.obj(), ctx.groups["a"], ctx.sink)
        return 204, None

    async def batch_read(self, ctx: Ctx) -> tuple[int, Any]:
        return _batch_answer(self.portal.batch_read(ctx.obj(), ctx.json()))

    async def batch_create(self, ctx: Ctx) -> tuple[int, Any]:
        return _batch_answer(self.portal.batch_create(ctx.obj(), ctx.json(), ctx.sink), 201)

    async def batch_update(self, ctx: Ctx) -> tuple[int, Any]:
        return _batch_answer(self.portal.batch_update(ctx.obj(), ctx.json(), ctx.sink))

    async def batch_upsert(self, ctx: Ctx) -> tuple[int, Any]:
        return _batch_answer(self.portal.batch_upsert(ctx.obj(), ctx.json(), ctx.sink))

    async def batch_archive(self, ctx: Ctx) -> tuple[int, Any]:
        self.portal.batch_archive(ctx.obj(), ctx.json(), ctx.sink)
        return 204, None

    async def search(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.portal.search(ctx.obj(), ctx.json())

    # -- associations v4 ---------------------------------------------------------------

    async def associate_default(self, ctx: Ctx) -> tuple[int, Any]:
        g = ctx.groups
        results = self.portal.associate(ctx.obj(), g["a"], object_type(g["b"]), g["c"])
        return _batch_answer(BatchOutcome(results, []))

    async def associate_labelled(self, ctx: Ctx) -> tuple[int, Any]:
        g = ctx.groups
        specs = ctx.json()
        if not isinstance(specs, list) or not specs:
            raise E.invalid_json("expected a list of association specs")
        from_type, to_type = ctx.obj(), object_type(g["b"])
        for spec in specs:
            type_id = int((spec or {}).get("associationTypeId", 0))
            self.portal.associate(from_type, g["a"], to_type, g["c"], type_id)
        return 201, {
            "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
            "fromObjectId": g["a"],
            "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
            "toObjectId": g["c"],
            "labels": [],
        }

    async def dissociate(self, ctx: Ctx) -> tuple[int, Any]:
        g = ctx.groups
        self.portal.dissociate(ctx.obj(), g["a"], object_type(g["b"]), g["c"])
        return 204, None

    async def associations(self, ctx: Ctx) -> tuple[int, Any]:
        g = ctx.groups
        return 200, {"results": self.portal.associated(ctx.obj(), g["a"], object_type(g["b"]))}

    async def batch_associate_default(self, ctx: Ctx) -> tuple[int, Any]:
        body = ctx.json()
        from_type, to_type = ctx.obj(), object_type(ctx.groups["a"])
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in body.get("inputs") or []:
            from_id = str(((item or {}).get("from") or {}).get("id", ""))
            to_id = str(((item or {}).get("to") or {}).get("id", ""))
            try:
                results.extend(self.portal.associate(from_type, from_id, to_type, to_id))
            except HsError as exc:
                errors.append(E.batch_error(exc.category, exc.message, {"ids": [from_id, to_id]}))
        return _batch_answer(BatchOutcome(results, errors))

    async def batch_associate(self, ctx: Ctx) -> tuple[int, Any]:
        body = ctx.json()
        from_type, to_type = ctx.obj(), object_type(ctx.groups["a"])
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in body.get("inputs") or []:
            from_id = str(((item or {}).get("from") or {}).get("id", ""))
            to_id = str(((item or {}).get("to") or {}).get("id", ""))
            try:
                for spec in item.get("types") or [{}]:
                    type_id = spec.get("associationTypeId")
                    self.portal.associate(
                        from_type, from_id, to_type, to_id, int(type_id) if type_id else None
                    )
                results.append(
                    {
                        "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                        "fromObjectId": from_id,
                        "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                        "toObjectId": to_id,
                        "labels": [],
                    }
                )
            except HsError as exc:
                errors.append(E.batch_error(exc.category, exc.message, {"ids": [from_id, to_id]}))
        return _batch_answer(BatchOutcome(results, errors), 201)
