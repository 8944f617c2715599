"""Start and stop the HubSpot sandbox: in a background thread for tests, or in the
foreground for the CLI (``relcrm sandbox hubspot``).

It serves HTTPS with a throw-away local CA, like the Salesforce sandbox: hubspot-api-client
applies every extra ``Client.create`` keyword to each API package's ``Configuration``, so
``host="https://127.0.0.1:PORT"`` plus ``ssl_ca_cert=<ca file>`` reaches the sandbox with
certificate verification left on (``verify_ssl`` stays ``True``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from relcrm.sandbox._faults import FaultInjector, FaultPlan
from relcrm.sandbox._requestlog import RequestLog
from relcrm.sandbox._server import CannedResponse, SandboxMiddleware, Scope, ThreadedServer
from relcrm.sandbox._tls import make_tls_files
from relcrm.sandbox.hubspot.app import HubSpotApp
from relcrm.sandbox.hubspot.errors import unavailable_body
from relcrm.sandbox.hubspot.portal import DEFAULT_TOKEN, Portal, PortalConfig
from relcrm.sandbox.hubspot.ratelimit import RateLimiter, RateLimits


def _unavailable(scope: Scope) -> CannedResponse:
    return CannedResponse(503, json.dumps(unavailable_body()).encode("utf-8"))


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
        """A fresh portal: default schema, no records, calm faults, empty log and limits.

        Tokens stay valid, so module-scoped fixtures can share one server between tests.
        """
        self.portal.reset()
        self.faults.set_plan(None)
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
) -> Iterator[HubSpotSandbox]:
    """Run a HubSpot sandbox on 127.0.0.1 over HTTPS for the duration of the block."""
    tls = make_tls_files(workdir)
    directory = tls.ca_file.parent
    plan = faults or FaultPlan()
    if latency_ms:
        plan = plan.model_copy(update={"latency_ms": latency_ms})
    injector = FaultInjector(plan)
    limits = rate_limit if isinstance(rate_limit, RateLimits) else RateLimits.parse(rate_limit)
    limiter = RateLimiter(limits)
    log = RequestLog()
    portal = Portal(config, faults=injector)
    app = HubSpotApp(portal, limiter)
    asgi = SandboxMiddleware(app.starlette, log=log, faults=injector, unavailable=_unavailable)
    server = ThreadedServer(asgi, tls=tls, port=port)
    server.start()
    sandbox = HubSpotSandbox(
        base_url=server.base_url,
        token=next(iter(portal.config.tokens), DEFAULT_TOKEN),
        ca_file=tls.ca_file,
        portal=portal,
        log=log,
        faults=injector,
        limiter=limiter,
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
) -> None:
    """Run the sandbox in the foreground until Ctrl-C, printing how to connect to it."""
    plan = FaultPlan.from_file(faults_file) if faults_file is not None else None
    with running_hubspot_sandbox(
        port=port, faults=plan, latency_ms=latency_ms, rate_limit=rate_limit
    ) as sandbox:
        print("relcrm HubSpot sandbox is running (Ctrl-C stops it)")
        print(sandbox.describe(), flush=True)
        assert sandbox._server is not None
        sandbox._server.serve_forever()
