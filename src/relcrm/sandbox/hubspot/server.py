"""Start and stop the HubSpot sandbox: in a background thread for tests, or in the
foreground for the CLI (``relcrm sandbox hubspot``).

It serves HTTPS with a throw-away local CA, like the Salesforce sandbox: hubspot-api-client
applies every extra ``Client.create`` keyword to each API package's ``Configuration``, so
``host="https://127.0.0.1:PORT"`` plus ``ssl_ca_cert=<ca file>`` reaches the sandbox with
certificate verification left on (``verify_ssl`` stays ``True``).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relcrm.sandbox._faults import FaultInjector, FaultPlan
from relcrm.sandbox._requestlog import RequestLog
from relcrm.sandbox._server import (
    CannedResponse,
    SandboxMiddleware,
    Scope,
    ThreadedServer,
    run_in_foreground,
    stop_signals_interrupt,
)
from relcrm.sandbox._tls import make_tls_files
from relcrm.sandbox.hubspot.app import Ctx, HubSpotApp, RouteSpec
from relcrm.sandbox.hubspot.errors import unavailable_body
from relcrm.sandbox.hubspot.portal import DEFAULT_TOKEN, Portal, PortalConfig, object_type
from relcrm.sandbox.hubspot.ratelimit import RateLimiter, RateLimits
from relcrm.sandbox.hubspot.schema import iso_now


def _unavailable_for(faults: FaultInjector) -> Callable[[Scope], CannedResponse]:
    """The fault plan's 503, with ``Retry-After`` when the plan in force asks for it."""

    def unavailable(scope: Scope) -> CannedResponse:
        retry_after = faults.plan.retry_after_s
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        body = json.dumps(unavailable_body()).encode("utf-8")
        return CannedResponse(503, body, headers=headers)

    return unavailable


def _add_batch_read_associations(app: HubSpotApp) -> None:
    """Serve ``POST /crm/v4/associations/{from}/{to}/batch/read`` (v4 batch association read).

    Results are ``PublicAssociationMultiWithLabel`` entries; ids with nothing to report come
    back as errors of a 207, as the ``...WithErrors`` response model of the SDK expects.
    """

    async def batch_read(ctx: Ctx) -> tuple[int, Any]:
        from_type, to_type = ctx.obj(), object_type(ctx.groups["a"])
        results, errors = app.portal.batch_associated(from_type, to_type, ctx.json())
        stamp = iso_now()
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": stamp,
            "completedAt": stamp,
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
            return 207, body
        return 200, body

    pattern = re.compile(r"^/crm/v4/associations/([^/]+)/([^/]+)/batch/read/?$")
    app.routes.append(RouteSpec("POST", pattern, batch_read, "read"))


@dataclass
class HubSpotSandbox:
    """A running sandbox: where it listens, the CA to trust, and a private-app token."""

    base_url: str
    token: str
    ca_file: Path
    portal: Portal
    log: RequestLog
    faults: FaultInjector
    limiter: RateLimiter
    default_limits: RateLimits = field(default_factory=RateLimits)
    """The limits the sandbox started with; :meth:`reset` restores them."""
    _server: ThreadedServer | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the weather while running (``None`` for a calm portal).

        Token-expiry counting restarts with the plan, as the injector's counters do.
        """
        self.faults.set_plan(plan)
        with self.portal.lock:
            self.portal.token_calls.clear()

    def set_rate_limits(self, limits: RateLimits) -> None:
        """Change the rate limits while running; usage so far is forgotten."""
        self.limiter.set_limits(limits)
        self.limiter.reset()

    def add_token(self, token: str, scopes: Iterable[str] | None = None) -> str:
        """Register another private-app token (e.g. one lacking a scope, for 403 tests)."""
        return self.portal.add_token(token, scopes)

    def reset(self) -> None:
        """A fresh portal: default schema, no records, calm faults, empty log, and the rate
        limits the sandbox started with (undoing :meth:`set_rate_limits`) with no usage.

        Tokens stay valid, so module-scoped fixtures can share one server between tests.
        """
        self.portal.reset()
        self.faults.set_plan(None)
        self.limiter.set_limits(self.default_limits)
        self.limiter.reset()
        self.log.clear()

    def describe(self) -> str:
        """What the CLI prints: where to connect, what to trust, and the token."""
        lim = self.limiter.limits
        return "\n".join(
            [
                f"base URL:          {self.base_url}",
                f"CA file:           {self.ca_file}",
                f"private-app token: {self.token}",
                f"rate limit:        {lim.max_per_window}/{lim.window_ms // 1000}s, "
                f"{lim.daily}/day, search {lim.search_per_second}/s",
            ]
        )


@contextmanager
def running_hubspot_sandbox(
    *,
    port: int | None = None,
    faults: FaultPlan | None = None,
    latency_ms: int = 0,
    rate_limit: str | int | RateLimits | None = None,
    config: PortalConfig | None = None,
    workdir: Path | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[HubSpotSandbox]:
    """Run a HubSpot sandbox on 127.0.0.1 over HTTPS for the duration of the block.

    ``clock`` keeps the rate-limit window: a test whose client "waits" on a fake clock
    (the contract suite's) passes the same clock, and sees the window move as it waits.
    """
    tls = make_tls_files(workdir)
    directory = tls.ca_file.parent
    try:
        plan = faults or FaultPlan()
        if latency_ms:
            plan = plan.model_copy(update={"latency_ms": latency_ms})
        injector = FaultInjector(plan)
        limits = rate_limit if isinstance(rate_limit, RateLimits) else RateLimits.parse(rate_limit)
        limiter = RateLimiter(limits, clock=clock)
        log = RequestLog()
        portal = Portal(config, faults=injector)
        app = HubSpotApp(portal, limiter)
        _add_batch_read_associations(app)
        asgi = SandboxMiddleware(
            app.starlette, log=log, faults=injector, unavailable=_unavailable_for(injector)
        )
        server = ThreadedServer(asgi, tls=tls, port=port)
        server.start()
    except BaseException:  # a busy port, say: leave no key on disk
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    sandbox = HubSpotSandbox(
        base_url=server.base_url,
        token=next(iter(portal.config.tokens), DEFAULT_TOKEN),
        ca_file=tls.ca_file,
        portal=portal,
        log=log,
        faults=injector,
        limiter=limiter,
        default_limits=limits,
        _server=server,
    )
    try:
        yield sandbox
    finally:
        server.stop()
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


def serve_forever(
    port: int | None,
    latency_ms: int = 0,
    rate_limit: str | int | None = None,
    faults_file: Path | None = None,
    ready: Callable[[HubSpotSandbox], Iterable[str]] | None = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM, SIGHUP), printing how
    to connect to it; its key files are deleted when it stops.

    ``ready`` runs once the sandbox is up and before it says so (the CLI seeds contacts
    and writes a targets file there); the lines it returns are printed too.
    """
    plan = FaultPlan.from_file(faults_file) if faults_file is not None else None
    with (
        stop_signals_interrupt(),
        running_hubspot_sandbox(
            port=port, faults=plan, latency_ms=latency_ms, rate_limit=rate_limit
        ) as sandbox,
    ):
        notes = list(ready(sandbox)) if ready is not None else []
        run_in_foreground("relcrm HubSpot sandbox", sandbox.describe(), sandbox._server, notes)
