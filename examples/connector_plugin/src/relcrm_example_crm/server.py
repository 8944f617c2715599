"""TinyCRM's test server: a small HTTPS CRM on 127.0.0.1 for the connector's tests.

TinyCRM keeps people (an email, a last name, custom fields), lets an API key log in for a
session token that expires, limits requests per window (429 with ``Retry-After``) and
counts a daily quota of write calls (403 ``DAILY_QUOTA``). It checks every value against
its field (type, length, options) and refuses one record without failing its batch. The
server is a real one (Starlette on uvicorn, in a thread, behind a throw-away trustme CA),
so the connector is tested over real sockets and TLS.

Test hooks: :meth:`TinyCrm.reset`, :meth:`TinyCrm.expire_sessions`, ``limit`` (requests
per window) and ``quota`` (write calls left; None: unlimited); time comes from ``clock``.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SESSION_TTL_S = 900.0
MAX_BATCH = 10
TYPES = ("text", "long_text", "number", "checkbox", "date", "datetime", "picklist")


@dataclass
class Limit:
    """At most ``requests`` per ``window_s`` seconds (on the server's clock)."""

    requests: int = 100
    window_s: float = 10.0


@dataclass
class TinyCrm:
    """The CRM's state; thread-safe (one lock)."""

    api_key: str
    clock: Callable[[], float] = time.monotonic
    limit: Limit = field(default_factory=Limit)
    quota: int | None = None
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, float] = field(default_factory=dict)
    calls: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 1

    def reset(self) -> None:
        """No people, no custom fields, default limits; sessions stay valid."""
        with self.lock:
            self.people.clear()
            self.fields.clear()
            self.calls.clear()
            self.limit = Limit()
            self.quota = None

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def add_person(self, email: str, last_name: str, **values: Any) -> str:
        with self.lock:
            person_id = f"P{self._next:06d}"
            self._next += 1
            self.people[person_id] = {"email": email, "last_name": last_name, **values}
            return person_id

    # ------------------------------------------------------------------ checks

    def problem(self, name: str, value: Any) -> tuple[str, str] | None:
        """Why ``value`` cannot go into field ``name`` (code, message without the value)."""
        spec = self.fields.get(name)
        if spec is None:
            return "NO_SUCH_FIELD", f"there is no field {name}"
        if value is None:
            return None
        kind = spec["type"]
        ok = {
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "checkbox": isinstance(value, bool),
        }.get(kind, isinstance(value, str))
        if ok and kind == "date":
            ok = _parses(date.fromisoformat, value)
        if ok and kind == "datetime":
            ok = _parses(datetime.fromisoformat, value)
        if not ok:
            return "BAD_TYPE", f"field {name} takes a {kind}"
        if kind == "picklist" and value not in spec["options"]:
            return "NOT_AN_OPTION", f"the value is not an option of field {name}"
        if kind in ("text", "long_text") and len(value) > spec["length"]:
            return "TOO_LONG", f"the value is longer than field {name} allows"
        return None


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def build_app(crm: TinyCrm) -> Starlette:
    """The HTTP API (JSON in and out)."""

    def admitted(request: Request, *, write: bool = False) -> JSONResponse | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        with crm.lock:
            now = crm.clock()
            if crm.sessions.get(token, -1.0) < now:
                return _error(401, "SESSION_EXPIRED", "log in again")
            while crm.calls and crm.calls[0] <= now - crm.limit.window_s:
                crm.calls.popleft()
            if len(crm.calls) >= crm.limit.requests:
                wait = crm.calls[0] + crm.limit.window_s - now
                return _error(
                    429,
                    "RATE_LIMITED",
                    "too many requests",
                    **{"Retry-After": f"{max(wait, 0.001):.3f}"},
                )
            if write and crm.quota is not None:
                if crm.quota <= 0:
                    return _error(
                        403,
                        "DAILY_QUOTA",
                        "the daily write quota is spent",
                        **{"Retry-After": "3600"},
                    )
                crm.quota -= 1
            crm.calls.append(now)
        return None

    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        if not secrets.compare_digest(str(body.get("api_key", "")), crm.api_key):
            return _error(401, "BAD_API_KEY", "the API key is not valid")
        token = secrets.token_urlsafe(24)
        with crm.lock:
            crm.sessions[token] = crm.clock() + SESSION_TTL_S
        return JSONResponse({"token": token, "expires_in": SESSION_TTL_S})

    async def fields(request: Request) -> JSONResponse:
        if (refused := admitted(request, write=request.method == "POST")) is not None:
            return refused
        if request.method == "POST":
            body = await request.json()
            name = str(body.get("name", ""))
            if body.get("type") not in TYPES or not name.isidentifier():
                return _error(400, "BAD_FIELD", "a field needs a name and a known type")
            with crm.lock:
                if name in crm.fields or name in ("email", "last_name"):
                    return _error(409, "FIELD_EXISTS", f"field {name} exists")
                crm.fields[name] = {
                    "name": name,
                    "label": str(body.get("label") or name),
                    "type": body["type"],
                    "length": int(body.get("length") or 255),
                    "options": list(body.get("options") or []),
                }
            return JSONResponse(crm.fields[name], status_code=201)
        standard = [
            {"name": "email", "label": "Email", "type": "text", "length": 255, "standard": True},
            {
                "name": "last_name",
                "label": "Last name",
                "type": "text",
                "length": 80,
                "standard": True,
            },
        ]
        with crm.lock:
            return JSONResponse({"fields": standard + list(crm.fields.values())})

    async def search(request: Request) -> JSONResponse:
        if (refused := admitted(request)) is not None:
            return refused
        emails = {str(e).casefold() for e in (await request.json()).get("emails", [])}
        with crm.lock:
            found = [
                {"id": pid, "email": row["email"]}
                for pid, row in crm.people.items()
                if str(row["email"]).casefold() in emails
            ]
        return JSONResponse({"results": found})

    async def read(request: Request) -> JSONResponse:
        if (refused := admitted(request)) is not None:
            return refused
        body = await request.json()
        names = [str(n) for n in body.get("fields", [])]
        with crm.lock:
            rows = {
                pid: {n: crm.people[pid].get(n) for n in names}
                for pid in body.get("ids", [])
                if pid in crm.people
            }
        return JSONResponse({"records": rows})

    async def update(request: Request) -> JSONResponse:
        records = (await request.json()).get("records", [])
        if len(records) > MAX_BATCH:
            return _error(400, "BATCH_TOO_LARGE", f"at most {MAX_BATCH} records a call")
        if (refused := admitted(request, write=True)) is not None:
            return refused
        results = []
        with crm.lock:
            for record in records:
                row = crm.people.get(str(record.get("id")))
                values = dict(record.get("values") or {})
                problems = [p for n, v in values.items() if (p := crm.problem(n, v))]
                if row is None:
                    results.append({"ok": False, "code": "NOT_FOUND", "message": "no such person"})
                elif problems:
                    code, message = problems[0]
                    results.append({"ok": False, "code": code, "message": message})
                else:
                    row.update(values)
                    results.append({"ok": True, "id": record["id"]})
        return JSONResponse({"results": results})

    return Starlette(
        routes=[
            Route("/api/login", login, methods=["POST"]),
            Route("/api/people/fields", fields, methods=["GET", "POST"]),
            Route("/api/people/search", search, methods=["POST"]),
            Route("/api/people/read", read, methods=["POST"]),
            Route("/api/people/update", update, methods=["POST"]),
        ]
    )


@dataclass(frozen=True)
class RunningCrm:
    """A started server: where it listens, the CA to trust, the API key, its state."""

    base_url: str
    ca_file: Path
    api_key: str
    crm: TinyCrm


@contextlib.contextmanager
def running_tinycrm(clock: Callable[[], float] = time.monotonic) -> Iterator[RunningCrm]:
    """Serve TinyCRM over HTTPS on a free port of 127.0.0.1 for the block."""
    with tempfile.TemporaryDirectory(prefix="tinycrm-") as folder:
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        ca_file, cert_file = Path(folder, "ca.pem"), Path(folder, "cert.pem")
        ca.cert_pem.write_to_path(str(ca_file))
        leaf.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        crm = TinyCrm(api_key=secrets.token_urlsafe(16), clock=clock)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(crm), log_level="warning", ssl_certfile=str(cert_file), lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            yield RunningCrm(f"https://127.0.0.1:{port}", ca_file, crm.api_key, crm)
        finally:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
