"""HTTP routes of the Zoho CRM sandbox (a Starlette app): the accounts server's token
endpoint and the CRM API, on one host (the token answer's ``api_domain`` names it).

Every API call passes the same gate: the ``Zoho-oauthtoken`` (401 ``INVALID_TOKEN``), the
route (404 ``INVALID_URL_PATTERN``), the module (400 ``INVALID_MODULE``), the token's
scopes (401 ``OAUTH_SCOPE_MISMATCH``), concurrency and credits (429 ``TOO_MANY_REQUESTS``),
then the org operation. A call holds its concurrency slot while it is processed
(``work_ms`` long, so tests can make calls overlap), and is charged its credits when
admitted.

Scopes per route are Zoho's (v8 API reference): records need ``ZohoCRM.modules.ALL`` or
``ZohoCRM.modules.{module}.{READ|CREATE|UPDATE|WRITE|ALL}``; field metadata
``ZohoCRM.settings.fields.{READ|CREATE|UPDATE|ALL}`` or ``ZohoCRM.settings.ALL``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox._server import current_call
from relcrm.sandbox.zoho import errors as E
from relcrm.sandbox.zoho.auth import AccessToken, Accounts
from relcrm.sandbox.zoho.limits import Limits, write_credits
from relcrm.sandbox.zoho.org import MAX_IDS, MAX_PER_PAGE, Org, Outcome, parse_criteria

JSON_TYPE = "application/json;charset=UTF-8"
TOKEN_PATH = "/oauth/v2/token"
API = "/crm/v8"


@dataclass
class Ctx:
    """One admitted API call."""

    request: Request
    groups: list[str]
    body: Any
    token: AccessToken

    def q(self, name: str) -> str | None:
        raw = self.request.scope.get("query_string", b"").decode("latin-1")
        values = parse_qs(raw, keep_blank_values=True).get(name)
        return values[0] if values else None

    def qlist(self, name: str) -> list[str] | None:
        value = self.q(name)
        if value is None:
            return None
        return [v.strip() for v in value.split(",") if v.strip()]

    def int_q(self, name: str, default: int, high: int) -> int:
        raw = self.q(name)
        if raw is None:
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            raise E.ZohoError(
                400, "INVALID_DATA", "invalid data", {"param_name": name, "maximum_length": high}
            )
        return int(raw)

    def sink(self, write: RecordWrite) -> None:
        call = current_call(self.request.scope)
        if call is not None:
            call.writes.append(write)


Handler = Callable[[Ctx], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scope: Callable[[list[str], Any], tuple[str, ...]]
    """Scopes any one of which admits the call (from the path groups and the body)."""
    module_group: int | None
    heavy: Callable[[Any], bool]
    credits: Callable[[Any], int]


def _records(body: Any) -> int:
    data = body.get("data") if isinstance(body, dict) else None
    return len(data) if isinstance(data, list) else 0


def _module_scopes(operation: str) -> Callable[[list[str], Any], tuple[str, ...]]:
    def scopes(groups: list[str], body: Any) -> tuple[str, ...]:
        module = groups[0].lower()
        return (
            "ZohoCRM.modules.ALL",
            f"ZohoCRM.modules.{module}.ALL",
            f"ZohoCRM.modules.{module}.{operation}",
            *((f"ZohoCRM.modules.{module}.WRITE",) if operation in ("CREATE", "UPDATE") else ()),
        )

    return scopes


def _settings_scopes(operation: str) -> Callable[[list[str], Any], tuple[str, ...]]:
    def scopes(groups: list[str], body: Any) -> tuple[str, ...]:
        return ("ZohoCRM.settings.ALL", "ZohoCRM.settings.fields.ALL",
                f"ZohoCRM.settings.fields.{operation}")  # fmt: skip

    return scopes


def _one(body: Any) -> int:
    return 1


def _never(body: Any) -> bool:
    return False


def _writes(body: Any) -> int:
    return write_credits(_records(body))


def _many(body: Any) -> bool:
    return _records(body) > 10


class ZohoApp:
    """The Starlette app over one :class:`Org`, its :class:`Accounts` and :class:`Limits`."""

    def __init__(
        self,
        org: Org,
        accounts: Accounts,
        limits: Limits,
        *,
        api_domain: Callable[[], str],
        work_ms: int = 0,
    ) -> None:
        self.org = org
        self.accounts = accounts
        self.limits = limits
        self.api_domain = api_domain
        self.work_ms = work_ms
        seg = r"([A-Za-z0-9_]+)"
        always: Callable[[Any], bool] = lambda body: True  # noqa: E731
        specs: list[tuple[str, str, Handler, Any, int | None, Any, Any]] = [
            ("GET", "/settings/fields", self.list_fields, _settings_scopes("READ"), None, _never,
             _one),
            ("POST", "/settings/fields", self.create_fields, _settings_scopes("CREATE"), None,
             _never, _one),
            ("PATCH", "/settings/fields/" + r"(\d+)", self.update_field,
             _settings_scopes("UPDATE"), None, _never, _one),
            ("GET", "/" + seg + "/search", self.search, _module_scopes("READ"), 0, always, _one),
            ("POST", "/" + seg + "/upsert", self.upsert, _module_scopes("CREATE"), 0, _many,
             _writes),
            ("GET", "/" + seg, self.get_records, _module_scopes("READ"), 0, _never, _one),
            ("POST", "/" + seg, self.insert, _module_scopes("CREATE"), 0, _many, _writes),
            ("PUT", "/" + seg, self.update, _module_scopes("UPDATE"), 0, _many, _writes),
        ]  # fmt: skip
        self.routes = [
            RouteSpec(m, re.compile("^" + API + p + "/?$"), h, s, g, hv, c)
            for m, p, h, s, g, hv, c in specs
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

    # -- answers -----------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        if status == 204 or body is None:
            return Response(status_code=204, headers=headers)
        return Response(
            json.dumps(body, separators=(",", ":")),
            status_code=status,
            media_type=JSON_TYPE,
            headers=headers,
        )

    def _error(self, exc: E.ZohoError, headers: dict[str, str] | None = None) -> Response:
        return self._json(exc.status, exc.body(), {**(headers or {}), **exc.headers})

    # -- the gate ----------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        if path.rstrip("/") == TOKEN_PATH:
            return await self.token(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Zoho-oauthtoken "):
            return self._error(E.authentication_failure())
        expiry = self.org.faults.plan.session_expires_after
        value = auth[len("Zoho-oauthtoken ") :].strip()
        token = self.accounts.check(value, expires_after_calls=expiry)
        if token is None:
            return self._error(E.invalid_token())
        found = self._route(request.method, path)
        if found is None:
            return self._error(E.invalid_url())
        spec, groups = found
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError:
            return self._error(E.invalid_body("the body is not JSON"))
        try:
            if spec.module_group is not None:
                groups[spec.module_group] = self.org.module(groups[spec.module_group])
            if not set(spec.scope(groups, body)) & token.scopes:
                raise E.scope_mismatch()
        except E.ZohoError as exc:
            return self._error(exc)
        heavy = spec.heavy(body)
        refusal = self.limits.enter(token.client_id, spec.credits(body), heavy=heavy)
        if refusal is not None:
            message = {
                "concurrency": E.CONCURRENCY_MESSAGE,
                "sub_concurrency": E.SUB_CONCURRENCY_MESSAGE,
                "credits": E.CREDITS_MESSAGE,
            }[refusal.reason]
            return self._error(E.too_many_requests(message), self.limits.headers())
        try:
            if self.work_ms:
                await asyncio.sleep(self.work_ms / 1000)
            status, answer = await spec.handler(Ctx(request, groups, body, token))
        except E.ZohoError as exc:
            return self._error(exc, self.limits.headers())
        finally:
            self.limits.leave(token.client_id, heavy=heavy)
        return self._json(status, answer, self.limits.headers())

    def _route(self, method: str, path: str) -> tuple[RouteSpec, list[str]] | None:
        for spec in self.routes:
            if spec.method == method:
                match = spec.pattern.match(path)
                if match is not None and not (
                    spec.module_group is not None and match.group(1) == "settings"
                ):
                    return spec, list(match.groups())
        return None

    async def token(self, request: Request) -> Response:
        """``POST /oauth/v2/token``: parameters from the query string and the form body."""
        if request.method != "POST":
            return self._json(405, {"error": "invalid_request"})
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        params = {k: v[0] for k, v in parse_qs(raw_query).items()}
        body = (await request.body()).decode("utf-8", "replace")
        params.update({k: v[0] for k, v in parse_qs(body).items()})
        return self._json(200, self.accounts.token_answer(params, self.api_domain()))

    # -- fields ------------------------------------------------------------------------

    def _module_param(self, ctx: Ctx) -> str:
        module = ctx.q("module")
        if not module:
            raise E.param_missing("module")
        return module

    async def list_fields(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, {"fields": self.org.list_fields(self._module_param(ctx))}

    async def create_fields(self, ctx: Ctx) -> tuple[int, Any]:
        return self.org.create_fields(self._module_param(ctx), ctx.body)

    async def update_field(self, ctx: Ctx) -> tuple[int, Any]:
        return 200, self.org.update_field(self._module_param(ctx), ctx.groups[0], ctx.body)

    # -- records -----------------------------------------------------------------------

    async def get_records(self, ctx: Ctx) -> tuple[int, Any]:
        names = ctx.qlist("fields")
        if not names:
            raise E.param_missing("fields")
        ids = ctx.qlist("ids")
        if ids is not None and len(ids) > MAX_IDS:
            raise E.ZohoError(
                400,
                "INVALID_DATA",
                "Ids maximum length exceeded",
                {"maximum_length": MAX_IDS, "param_name": "ids"},
            )
        page = ctx.int_q("page", 1, 10_000)
        per_page = ctx.int_q("per_page", MAX_PER_PAGE, MAX_PER_PAGE)
        answer = self.org.get(ctx.groups[0], ids, names, page, per_page)
        return (204, None) if answer is None else (200, answer)

    async def search(self, ctx: Ctx) -> tuple[int, Any]:
        criteria_text = ctx.q("criteria")
        email = ctx.q("email")
        if criteria_text is None and email is None:
            raise E.param_missing("criteria")
        criteria = parse_criteria(criteria_text) if criteria_text is not None else None
        page = ctx.int_q("page", 1, 10_000)
        per_page = ctx.int_q("per_page", MAX_PER_PAGE, MAX_PER_PAGE)
        answer = self.org.search(
            ctx.groups[0], criteria, email, ctx.qlist("fields"), page, per_page
        )
        return (204, None) if answer is None else (200, answer)

    def _multi(self, outcome: Outcome, ok: int = 200) -> tuple[int, Any]:
        status = outcome.status
        return (ok if status == 200 else status), {"data": outcome.results}

    async def insert(self, ctx: Ctx) -> tuple[int, Any]:
        return self._multi(self.org.insert(ctx.groups[0], ctx.body, ctx.sink), 201)

    async def update(self, ctx: Ctx) -> tuple[int, Any]:
        return self._multi(self.org.update(ctx.groups[0], ctx.body, ctx.sink))

    async def upsert(self, ctx: Ctx) -> tuple[int, Any]:
        return self._multi(self.org.upsert(ctx.groups[0], ctx.body, ctx.sink))
