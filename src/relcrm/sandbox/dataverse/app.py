"""HTTP routes of the Dataverse sandbox (a Starlette app): the token endpoint and the Web API.

Every Web API call goes through one gate, in Dataverse's order: the bearer token (401 with
``WWW-Authenticate: Bearer authorization_uri=…, resource_id=…``, the header clients use to
discover the authority [doc: authenticate-oauth, "Discover the authority at run time"]; the
``error="invalid_token"`` parameter on an expired token is [memory]), the fault plan's
session expiry, the service protection limits (429), then the route and the application
user's privileges (403). Routing is a table of regular expressions on the decoded path
below ``/api/data/v9.2/``; an unknown segment answers Dataverse's ``0x8006088a`` "Resource
not found for the segment …" (entity set names are plural and case-sensitive).

Routes: entity sets ``contacts`` and ``leads`` (query with ``$select``/``$filter``/``$top``,
``Prefer: odata.maxpagesize`` paging with ``@odata.nextLink``; create; retrieve, update,
upsert and delete by id or alternate key, with ``If-Match: *``/``If-None-Match: *``; the
``UpdateMultiple``, ``UpsertMultiple`` and ``CreateMultiple`` actions); ``$batch``;
``EntityDefinitions(LogicalName='…')`` with ``/Attributes`` (and typed casts such as
``/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet``), ``/Keys``;
the ``InsertOptionValue`` action and the ``WhoAmI`` function.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relcrm.sandbox._server import current_call
from relcrm.sandbox.dataverse import batch as B
from relcrm.sandbox.dataverse import errors as E
from relcrm.sandbox.dataverse import metadata as M
from relcrm.sandbox.dataverse import odata
from relcrm.sandbox.dataverse.auth import AppRegistration, Directory
from relcrm.sandbox.dataverse.errors import DvError
from relcrm.sandbox.dataverse.metadata import Entity
from relcrm.sandbox.dataverse.org import Organization, WriteSink
from relcrm.sandbox.dataverse.ratelimit import ServiceProtection

API_VERSION = "9.2"
API_ROOT = f"/api/data/v{API_VERSION}/"
JSON_TYPE = "application/json; odata.metadata=minimal"
TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$")
ATTRIBUTE_BASE = frozenset(
    M.Attribute("x", "x", "String", "x").to_json("x").keys()
    - {"MaxLength", "DatabaseLength", "FormatName", "Format"}
)
"""Properties of the base ``AttributeMetadata`` type (``$select`` without a cast)."""
QUERY_OPTIONS = frozenset({"$select", "$filter", "$top", "$expand", "$skiptoken", "$count"})


@dataclass
class Call:
    """One Web API request, authorised, as the handlers see it (also a ``$batch`` part)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    app: AppRegistration
    sink: WriteSink
    base: str
    """``https://host/api/data/v9.2/``, for ``@odata.context`` and ``OData-EntityId``."""

    def json(self, entity_set: str = "") -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as error:
            raise E.payload_error(entity_set or "request", f"Invalid JSON. {error.msg}.") from None

    @property
    def annotations(self) -> bool:
        prefer = self.headers.get("prefer", "")
        return "odata.include-annotations" in prefer and (
            "*" in prefer or "FormattedValue" in prefer
        )

    def prefers(self, word: str) -> bool:
        return word in self.headers.get("prefer", "")


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = JSON_TYPE


Handler = Callable[[Call, dict[str, str]], Answer]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    privilege: str  # read | write | customize | none


def _error_answer(error: DvError) -> Answer:
    return Answer(error.status, error.body(), dict(error.headers))


class DataverseApp:
    """The Starlette app over one :class:`Organization`, its :class:`Directory` and the
    service protection limits."""

    def __init__(
        self, org: Organization, directory: Directory, protection: ServiceProtection
    ) -> None:
        self.org = org
        self.directory = directory
        self.protection = protection
        ent = r"EntityDefinitions\(LogicalName='(?P<entity>\w+)'\)"
        cast = r"(?:/Microsoft\.Dynamics\.CRM\.(?P<cast>\w+))?"
        name = r"(?P<set>[A-Za-z_][A-Za-z0-9_]*)"
        specs: list[tuple[str, str, Handler, str]] = [
            ("POST", r"\$batch", self.batch, "none"),
            ("POST", r"InsertOptionValue", self.insert_option_value, "customize"),
            ("GET", r"WhoAmI(?:\(\))?", self.who_am_i, "none"),
            ("GET", ent, self.entity_definition, "read"),
            ("GET", ent + r"/Attributes" + cast, self.list_attributes, "read"),
            ("POST", ent + r"/Attributes", self.create_attribute, "customize"),
            (
                "GET",
                ent + r"/Attributes\(LogicalName='(?P<attr>\w+)'\)" + cast,
                self.read_attribute,
                "read",
            ),
            ("GET", ent + r"/Keys", self.list_keys, "read"),
            ("POST", ent + r"/Keys", self.create_key, "customize"),
            ("GET", ent + r"/Keys\(LogicalName='(?P<key>\w+)'\)", self.read_key, "read"),
            ("POST", name + r"/Microsoft\.Dynamics\.CRM\.(?P<action>\w+)", self.action, "write"),
            ("GET", name, self.query, "read"),
            ("POST", name, self.create, "write"),
            ("GET", name + r"\((?P<key>.*)\)", self.retrieve, "read"),
            ("PATCH", name + r"\((?P<key>.*)\)", self.update, "write"),
            ("DELETE", name + r"\((?P<key>.*)\)", self.delete, "write"),
        ]
        self.routes = [RouteSpec(m, re.compile(f"^{p}$"), h, a) for m, p, h, a in specs]
        self.starlette = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self.dispatch,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )

    # -- responses -----------------------------------------------------------------------

    @staticmethod
    def _response(answer: Answer) -> Response:
        headers = {"OData-Version": "4.0", **answer.headers}
        if answer.raw is not None:
            return Response(answer.raw, answer.status, headers, media_type=answer.content_type)
        if answer.status == 204 or answer.body is None:
            return Response(status_code=answer.status, headers=headers)
        text = json.dumps(answer.body, separators=(",", ":"))
        return Response(text, answer.status, headers, media_type=answer.content_type)

    def _unauthorized(self, why: str) -> Response:
        challenge = (
            f"Bearer authorization_uri=https://login.microsoftonline.com/"
            f"{self.directory.tenant_id}/oauth2/authorize, "
            f"resource_id={self.org.config.resource}/"
        )
        if why == "expired":
            challenge += ', error="invalid_token", error_description="The access token expired"'
        return Response(status_code=401, headers={"WWW-Authenticate": challenge})

    # -- the gate ------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        body = await request.body()
        token_path = TOKEN_PATH.match(path)
        if token_path is not None and request.method == "POST":
            return self.token(token_path.group(1), body)
        if not path.startswith(API_ROOT):
            first = unquote(path.strip("/").split("/", 1)[0])
            return self._response(_error_answer(E.segment_not_found(first)))
        auth = request.headers.get("authorization", "")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        token, why = self.directory.check(value) if value else (None, "invalid")
        if token is None:
            return self._unauthorized(why)
        expiry = self.org.faults.plan.session_expires_after
        with self.org.lock:
            used = self.org.token_calls[value] = self.org.token_calls.get(value, 0) + 1
        if expiry is not None and used > expiry:
            return self._unauthorized("expired")
        app = self.directory.app_for(token)
        verdict = self.protection.check(app.client_id)
        if not verdict.allowed:
            assert verdict.error is not None
            return self._response(_error_answer(verdict.error))
        logged = current_call(request.scope)
        sink: WriteSink = logged.writes.append if logged is not None else (lambda w: None)
        call = Call(
            method=request.method,
            path=unquote(path[len(API_ROOT) :]),
            query=self._query(request.scope.get("query_string", b"").decode("latin-1")),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            app=app,
            sink=sink,
            base=f"{request.url.scheme}://{request.headers.get('host', '')}{API_ROOT}",
        )
        started = time.perf_counter()
        try:
            answer = self.execute(call)
        except DvError as error:
            answer = _error_answer(error)
        finally:
            self.protection.spend(app.client_id, (time.perf_counter() - started) * 1000)
        answer.headers.update(verdict.headers)
        return self._response(answer)

    @staticmethod
    def _query(raw: str) -> dict[str, str]:
        parsed = parse_qs(raw, keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}

    def token(self, tenant: str, body: bytes) -> Response:
        form = self._query(body.decode("utf-8", "replace"))
        answer = self.directory.token(unquote(tenant), form)
        return Response(
            json.dumps(answer.body),
            answer.status,
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
            media_type="application/json; charset=utf-8",
        )

    def execute(self, call: Call) -> Answer:
        """Route and run one call (raises :class:`DvError`)."""
        for name in call.query:
            if name.startswith("$") and name not in QUERY_OPTIONS:
                raise E.query_error(f"The query parameter {name} is not supported")
        allowed: list[str] = []
        for spec in self.routes:
            match = spec.pattern.match(call.path)
            if match is None:
                continue
            if spec.method != call.method:
                allowed.append(spec.method)
                continue
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            self._authorise(call.app, spec.privilege, groups)
            return spec.handler(call, groups)
        if allowed:
            raise DvError(
                405,
                "0x80060888",
                f"The requested resource does not support http method '{call.method}'.",
            )
        raise E.segment_not_found(call.path.split("(", 1)[0].split("/", 1)[0])

    def _authorise(self, app: AppRegistration, privilege: str, groups: dict[str, str]) -> None:
        if privilege == "none" or privilege in app.privileges:
            return
        entity_name = groups.get("entity")
        if entity_name is None and "set" in groups:
            found = self.org.entity_by_set(groups["set"])
            entity_name = found.logical_name if found else None
        entity = self.org.entities.get(entity_name or "")
        verb = {"read": "Read", "write": "Write", "customize": "Create"}[privilege]
        thing = entity.display_name.replace(" ", "") if entity else "Attribute"
        raise E.privilege_denied(
            app.user_id,
            f"prv{verb}{thing if privilege != 'customize' else 'Attribute'}",
            entity.object_type_code if entity else 0,
            entity.logical_name if entity else "attribute",
        )

    def _entity_set(self, name: str) -> Entity:
        found = self.org.entity_by_set(name)
        if found is None:
            raise E.segment_not_found(name)
        return found

    def _entity(self, name: str) -> Entity:
        found = self.org.entities.get(name)
        if found is None:
            raise E.DvError(
                404, "0x80040217", f"Could not find an entity with LogicalName = '{name}'."
            )
        return found

    # -- records -------------------------------------------------------------------------

    def _columns(self, entity: Entity) -> frozenset[str]:
        return frozenset(entity.attributes)

    def query(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        columns = self._columns(entity)
        select = odata.parse_select(call.query.get("$select"), entity.logical_name, columns)
        raw_filter = call.query.get("$filter")
        predicate = (
            odata.parse_filter(raw_filter, entity.logical_name, columns)
            if raw_filter is not None
            else None
        )
        top = odata.parse_top(call.query.get("$top"))
        records = self.org.query(entity.logical_name, predicate)
        if top is not None:
            records = records[:top]
        size = self.org.config.page_size
        match = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", call.headers.get("prefer", ""))
        if match:
            size = max(1, min(size, int(match.group(1))))
        start = int(call.query.get("$skiptoken") or 0)
        page = records[start : start + size]
        listed = ",".join(select) if select else ""
        body: dict[str, Any] = {
            "@odata.context": f"{call.base}$metadata#{entity.entity_set}({listed})",
            "value": [
                self.org.render(entity, r, select, annotations=call.annotations) for r in page
            ],
        }
        if start + size < len(records):
            rest = {k: v for k, v in call.query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + size)
            body["@odata.nextLink"] = f"{call.base}{entity.entity_set}?{urlencode(rest)}"
        return Answer(200, body)

    def _find(self, entity: Entity, key: str) -> tuple[str | None, dict[str, Any]]:
        """(record id or None, the key's column values) for ``contacts(<key>)``."""
        parsed = odata.parse_key(key)
        if isinstance(parsed, str):
            return parsed, {}
        for column in parsed:
            if column not in entity.attributes:
                raise E.property_not_found(entity.logical_name, column)
        found = self.org.find_by_key(entity, parsed)
        return (found.id if found else None), parsed

    def _entity_id(self, call: Call, entity: Entity, record_id: str) -> dict[str, str]:
        url = f"{call.base}{entity.entity_set}({record_id})"
        return {"OData-EntityId": url, "Location": url}

    def retrieve(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        record_id, _ = self._find(entity, groups["key"])
        if record_id is None:
            raise E.DvError(
                404,
                "0x80040217",
                f"A record with the specified key values does not exist in "
                f"{entity.logical_name} entity",
            )
        select = odata.parse_select(
            call.query.get("$select"), entity.logical_name, self._columns(entity)
        )
        record = self.org.get(entity.logical_name, record_id)
        body = self.org.render(entity, record, select, annotations=call.annotations)
        return Answer(
            200, {"@odata.context": f"{call.base}$metadata#{entity.entity_set}/$entity", **body}
        )

    def create(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        body = call.json(entity.entity_set)
        if not isinstance(body, dict):
            raise E.payload_error(entity.entity_set, "A JSON object was expected.")
        record = self.org.create(entity.logical_name, body, call.sink)
        return self._written(call, entity, record.id, created=True)

    def _written(self, call: Call, entity: Entity, record_id: str, *, created: bool) -> Answer:
        headers = self._entity_id(call, entity, record_id)
        if call.prefers("return=representation"):
            record = self.org.get(entity.logical_name, record_id)
            body = self.org.render(entity, record, None, annotations=call.annotations)
            return Answer(201 if created else 200, body, headers)
        return Answer(204, None, headers)

    def update(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        body = call.json(entity.entity_set)
        if not isinstance(body, dict):
            raise E.payload_error(entity.entity_set, "A JSON object was expected.")
        record_id, pairs = self._find(entity, groups["key"])
        must_exist = call.headers.get("if-match", "").strip() == "*"
        must_not_exist = call.headers.get("if-none-match", "").strip() == "*"
        if (
            record_id is not None
            and must_not_exist
            and (pairs or record_id in self.org.records[entity.logical_name])
        ):
            raise E.duplicate_key(record_id=record_id)
        if record_id is None:  # an alternate key that names no record: upsert creates it
            if must_exist:
                raise E.DvError(
                    404,
                    "0x80040217",
                    f"A record with the specified key values does not exist "
                    f"in {entity.logical_name} entity",
                )
            record = self.org.create(entity.logical_name, {**body, **pairs}, call.sink)
            return self._written(call, entity, record.id, created=True)
        record, created = self.org.update(
            entity.logical_name, record_id, body, call.sink, upsert=not must_exist
        )
        return self._written(call, entity, record.id, created=created)

    def delete(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        record_id, _ = self._find(entity, groups["key"])
        if record_id is None:
            raise E.record_not_found(entity.logical_name, groups["key"])
        self.org.delete(entity.logical_name, record_id, call.sink)
        return Answer(204)

    def action(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity_set(groups["set"])
        body = call.json(entity.entity_set)
        name = groups["action"]
        if name == "UpdateMultiple":
            self.org.update_multiple(entity.logical_name, body, call.sink)
            return Answer(204)
        if name == "UpsertMultiple":
            self.org.upsert_multiple(entity.logical_name, body, call.sink)
            return Answer(204)
        if name == "CreateMultiple":
            ids: list[str] = []
            targets = self.org.targets(entity, body)
            with self.org.transaction(call.sink):
                for target in targets:
                    ids.append(self.org.create(entity.logical_name, target, call.sink).id)
            return Answer(
                200,
                {
                    "@odata.context": f"{call.base}$metadata#Microsoft.Dynamics.CRM."
                    "CreateMultipleResponse",
                    "Ids": ids,
                },
            )
        raise E.segment_not_found(f"Microsoft.Dynamics.CRM.{name}")

    # -- $batch --------------------------------------------------------------------------

    def batch(self, call: Call, groups: dict[str, str]) -> Answer:
        try:
            items = B.parse(call.body, call.headers.get("content-type", ""), API_ROOT)
        except (B.BatchSyntaxError, UnicodeDecodeError) as error:
            raise E.query_error(f"The batch request is not well formed: {error}") from None
        count = sum(len(i.requests) if isinstance(i, B.ChangeSet) else 1 for i in items)
        if count > self.org.config.batch_limit:
            raise E.query_error(
                f"The number of requests in the batch ({count}) exceeds the maximum of "
                f"{self.org.config.batch_limit}."
            )
        go_on = call.prefers("odata.continue-on-error")
        answered: list[B.PartResponse | list[B.PartResponse]] = []
        failed: int | None = None
        for item in items:
            refused: B.PartResponse | None
            if isinstance(item, B.ChangeSet):
                outcome = self._changeset(call, item)
                answered.append(outcome)
                refused = outcome if isinstance(outcome, B.PartResponse) else None
            else:
                single = self._part(call, item)
                answered.append(single)
                refused = single if single.status >= 400 else None
            if refused is not None:
                failed = failed or refused.status
                if not go_on:
                    break
        boundary, body = B.render(answered)
        status = 200 if go_on or failed is None else failed
        return Answer(status, raw=body, content_type=f"multipart/mixed; boundary={boundary}")

    def _sub_call(self, call: Call, request: B.PartRequest) -> Call:
        path, _, query = request.target.partition("?")
        if unquote(path) == "$batch":
            raise E.query_error("A batch cannot contain another batch.")
        return replace(
            call,
            method=request.method,
            path=unquote(path),
            query=self._query(query),
            headers={**request.headers},
            body=request.body,
        )

    @staticmethod
    def _as_part(answer: Answer, content_id: str | None) -> B.PartResponse:
        headers = {"OData-Version": "4.0", **answer.headers}
        body = b""
        if answer.body is not None and answer.status != 204:
            headers = {"Content-Type": JSON_TYPE, **headers}
            body = json.dumps(answer.body, separators=(",", ":")).encode("utf-8")
        return B.PartResponse(answer.status, headers, body, content_id)

    def _part(self, call: Call, request: B.PartRequest) -> B.PartResponse:
        try:
            answer = self.execute(self._sub_call(call, request))
        except DvError as error:
            answer = _error_answer(error)
        return self._as_part(answer, request.content_id)

    def _changeset(
        self, call: Call, changeset: B.ChangeSet
    ) -> list[B.PartResponse] | B.PartResponse:
        answers: list[B.PartResponse] = []
        current: B.PartRequest | None = None
        try:
            with self.org.transaction(call.sink):
                for request in changeset.requests:
                    current = request
                    answer = self.execute(self._sub_call(call, request))
                    answers.append(self._as_part(answer, request.content_id))
        except DvError as error:
            return self._as_part(_error_answer(error), current.content_id if current else None)
        return answers

    # -- functions and actions -----------------------------------------------------------

    def who_am_i(self, call: Call, groups: dict[str, str]) -> Answer:
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": self.org.business_unit_id,
                "UserId": call.app.user_id,
                "OrganizationId": self.org.org_id,
            },
        )

    def insert_option_value(self, call: Call, groups: dict[str, str]) -> Answer:
        value = self.org.insert_option_value(call.json())
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}$metadata#Microsoft.Dynamics.CRM."
                "InsertOptionValueResponse",
                "NewOptionValue": value,
            },
        )

    # -- metadata ------------------------------------------------------------------------

    def entity_definition(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity(groups["entity"])
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}$metadata#EntityDefinitions/$entity",
                **entity.to_json(),
            },
        )

    def _attributes_json(
        self, call: Call, entity: Entity, attributes: list[M.Attribute], cast: str | None
    ) -> list[dict[str, Any]]:
        expand = call.query.get("$expand")
        option_set = False
        if expand is not None:
            if (
                not expand.startswith("OptionSet")
                or cast is None
                or not cast.endswith(
                    (
                        "PicklistAttributeMetadata",
                        "StateAttributeMetadata",
                        "StatusAttributeMetadata",
                        "BooleanAttributeMetadata",
                    )
                )
            ):
                owner = cast or "AttributeMetadata"
                raise E.query_error(
                    f"Could not find a property named '{expand.split('(')[0]}' on type "
                    f"'Microsoft.Dynamics.CRM.{owner}'."
                )
            option_set = True
        items = [a.to_json(entity.logical_name, option_set=option_set) for a in attributes]
        selected = call.query.get("$select")
        if selected is not None:
            names = [n.strip() for n in selected.split(",") if n.strip()]
            allowed = set(ATTRIBUTE_BASE)
            for item in items:
                allowed.update(item if cast else ())
            for name in names:
                if name not in allowed:
                    raise E.query_error(
                        f"Could not find a property named '{name}' on type "
                        f"'Microsoft.Dynamics.CRM.{cast or 'AttributeMetadata'}'."
                    )
            keep = {*names, "@odata.type", "MetadataId", "OptionSet"}
            items = [{k: v for k, v in item.items() if k in keep} for item in items]
        raw_filter = call.query.get("$filter")
        if raw_filter is not None:
            columns = frozenset(k for item in items for k in item)
            predicate = odata.parse_filter(raw_filter, "AttributeMetadata", columns)
            items = [item for item in items if predicate(item)]
        return items

    def list_attributes(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity(groups["entity"])
        cast = groups.get("cast")
        attributes = list(entity.attributes.values())
        if cast is not None:
            if cast not in {name for name, _ in M.TYPE_NAMES.values()}:
                raise E.segment_not_found(f"Microsoft.Dynamics.CRM.{cast}")
            attributes = [a for a in attributes if a.odata_type == cast]
        items = self._attributes_json(call, entity, attributes, cast)
        suffix = f"/Microsoft.Dynamics.CRM.{cast}" if cast else ""
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}$metadata#EntityDefinitions('"
                f"{entity.logical_name}')/Attributes{suffix}",
                "value": items,
            },
        )

    def read_attribute(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity(groups["entity"])
        attribute = entity.attributes.get(groups["attr"])
        if attribute is None:
            raise E.DvError(
                404,
                "0x80040217",
                f"Could not find attribute with LogicalName = '{groups['attr']}' on entity "
                f"'{entity.logical_name}'.",
            )
        cast = groups.get("cast")
        if cast is not None and attribute.odata_type != cast:
            raise E.query_error(f"The attribute '{attribute.logical_name}' is not a {cast}.")
        items = self._attributes_json(call, entity, [attribute], cast)
        return Answer(200, items[0])

    def create_attribute(self, call: Call, groups: dict[str, str]) -> Answer:
        entity_name = groups["entity"]
        attribute = self.org.create_attribute(
            entity_name, call.json(), call.headers.get("mscrm.solutionuniquename")
        )
        url = (
            f"{call.base}EntityDefinitions(LogicalName='{entity_name}')/Attributes("
            f"{attribute.metadata_id})"
        )
        return Answer(204, None, {"OData-EntityId": url})

    def list_keys(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity(groups["entity"])
        listed = [k.to_json(entity.logical_name) for k in entity.keys.values()]
        for key in list(entity.keys.values()):
            self.org.observe_key(entity, key)  # the index job moves on after each read
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}$metadata#EntityDefinitions('"
                f"{entity.logical_name}')/Keys",
                "value": listed,
            },
        )

    def read_key(self, call: Call, groups: dict[str, str]) -> Answer:
        entity = self._entity(groups["entity"])
        key = entity.keys.get(groups["key"])
        if key is None:
            raise E.DvError(
                404,
                "0x80040217",
                f"Could not find an entity key with LogicalName = '{groups['key']}'.",
            )
        shown = key.to_json(entity.logical_name)
        self.org.observe_key(entity, key)  # the index job moves on after each read
        return Answer(200, shown)

    def create_key(self, call: Call, groups: dict[str, str]) -> Answer:
        entity_name = groups["entity"]
        key = self.org.create_key(
            entity_name, call.json(), call.headers.get("mscrm.solutionuniquename")
        )
        url = f"{call.base}EntityDefinitions(LogicalName='{entity_name}')/Keys({key.metadata_id})"
        return Answer(204, None, {"OData-EntityId": url})
