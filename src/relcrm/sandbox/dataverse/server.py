"""Start and stop the Dataverse sandbox: in a background thread for tests, or in the
foreground for the CLI (``relcrm sandbox dataverse``).

One HTTPS listener on 127.0.0.1 with its own throw-away CA serves both parties a client
talks to: the token endpoint (``{base}/{tenant}/oauth2/v2.0/token``, standing in for
``https://login.microsoftonline.com``) and the environment's Web API
(``{base}/api/data/v9.2/``, standing in for ``https://{org}.crm.dynamics.com``). A client
points its authority URL and its environment URL at the same base URL and trusts the CA
file; TLS verification stays on. Tokens are issued for the scope ``{base}/.default`` (and
for ``https://{org}.crm.dynamics.com/.default``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from relcrm.sandbox.dataverse.app import API_ROOT, TOKEN_PATH, DataverseApp
from relcrm.sandbox.dataverse.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_LIFETIME_S,
    AppRegistration,
    Directory,
)
from relcrm.sandbox.dataverse.errors import unavailable_body
from relcrm.sandbox.dataverse.org import Organization, OrgConfig
from relcrm.sandbox.dataverse.ratelimit import ServiceLimits, ServiceProtection


def _unavailable_for(faults: FaultInjector) -> Callable[[Scope], CannedResponse]:
    """The fault plan's 503, with ``Retry-After`` when the plan in force asks for it."""

    def unavailable(scope: Scope) -> CannedResponse:
        retry_after = faults.plan.retry_after_s
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        body = json.dumps(unavailable_body()).encode("utf-8")
        return CannedResponse(503, body, "application/json; odata.metadata=minimal", headers)

    return unavailable


def _is_token_call(scope: Scope) -> bool:
    return TOKEN_PATH.match(str(scope.get("path", ""))) is not None


@dataclass
class DataverseSandbox:
    """A running sandbox: where it listens, the CA to trust, the app registration to use."""

    base_url: str
    tenant_id: str
    client_id: str
    client_secret: str
    ca_file: Path
    org: Organization
    directory: Directory
    protection: ServiceProtection
    log: RequestLog
    faults: FaultInjector
    default_limits: ServiceLimits = field(default_factory=ServiceLimits)
    _server: ThreadedServer | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # the secret stays out of reprs
        return f"DataverseSandbox(base_url={self.base_url!r}, tenant_id={self.tenant_id!r})"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def environment_url(self) -> str:
        """What a client uses as the environment (org) URL."""
        return self.base_url

    @property
    def authority_url(self) -> str:
        """What a client uses instead of ``https://login.microsoftonline.com``."""
        return self.base_url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API_ROOT}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def scope(self) -> str:
        return f"{self.base_url}/.default"

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the weather while running (``None`` for calm); expiry counts restart."""
        self.faults.set_plan(plan)
        with self.org.lock:
            self.org.token_calls.clear()

    def set_limits(self, limits: ServiceLimits | str | int) -> None:
        """Change the service protection limits; usage so far is forgotten."""
        parsed = limits if isinstance(limits, ServiceLimits) else ServiceLimits.parse(limits)
        self.protection.set_limits(parsed)

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (the next call answers 401)."""
        self.directory.expire_all()

    def add_app(
        self, client_id: str, client_secret: str, privileges: Iterable[str] = ("read",)
    ) -> AppRegistration:
        """Register another application user (one lacking a privilege, for 403 tests)."""
        return self.directory.register(
            AppRegistration(client_id, client_secret, privileges=frozenset(privileges))
        )

    def seed(self, entity: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Create ``contact`` or ``lead`` records, as the CRM already holds them (not in
        the request log); returns their ids."""
        return self.org.seed(entity, rows)

    def reset(self) -> None:
        """A fresh environment (standard columns, no records), calm faults, an empty log
        and the limits the sandbox started with. App registrations and tokens stay."""
        self.org.reset()
        self.faults.set_plan(None)
        self.protection.set_limits(self.default_limits)
        self.log.clear()

    def describe(self) -> str:
        """What the CLI prints: where to connect, what to trust, and the credentials."""
        lim = self.protection.limits
        return "\n".join(
            [
                f"environment URL: {self.environment_url}  (Web API {self.api_url})",
                f"authority URL:   {self.authority_url}  (token {self.token_url})",
                f"CA file:         {self.ca_file}",
                f"tenant id:       {self.tenant_id}",
                f"client id:       {self.client_id}",
                f"client secret:   {self.client_secret}",
                f"scope:           {self.scope}",
                f"limits:          {lim.requests} requests per {lim.window_s:g} s per user",
            ]
        )


@contextmanager
def running_dataverse_sandbox(
    *,
    port: int | None = None,
    faults: FaultPlan | None = None,
    latency_ms: int = 0,
    rate_limit: str | int | ServiceLimits | None = None,
    config: OrgConfig | None = None,
    token_lifetime_s: int = DEFAULT_LIFETIME_S,
    clock: Callable[[], float] = time.monotonic,
    workdir: Path | None = None,
) -> Iterator[DataverseSandbox]:
    """Run a Dataverse sandbox on 127.0.0.1 over HTTPS for the duration of the block.

    ``clock`` drives token expiry and the service protection window: a test that passes
    a fake clock and advances it when its client "waits" sees limits pass as they would.
    """
    tls = make_tls_files(workdir)
    directory_path = tls.ca_file.parent
    try:
        plan = faults or FaultPlan()
        if latency_ms:
            plan = plan.model_copy(update={"latency_ms": latency_ms})
        injector = FaultInjector(plan)
        limits = (
            rate_limit if isinstance(rate_limit, ServiceLimits) else ServiceLimits.parse(rate_limit)
        )
        protection = ServiceProtection(limits, clock=clock)
        log = RequestLog()
        org = Organization(config, faults=injector)
        directory = Directory(
            resources=[org.config.resource], lifetime_s=token_lifetime_s, clock=clock
        )
        app = directory.register(AppRegistration(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        dataverse = DataverseApp(org, directory, protection)
        asgi = SandboxMiddleware(
            dataverse.starlette,
            log=log,
            faults=injector,
            unavailable=_unavailable_for(injector),
            is_auth=_is_token_call,
        )
        server = ThreadedServer(asgi, tls=tls, port=port)
        directory.add_resource(server.base_url)
        server.start()
    except BaseException:  # a busy port, say: leave no key on disk
        if workdir is None:
            shutil.rmtree(directory_path, ignore_errors=True)
        raise
    sandbox = DataverseSandbox(
        base_url=server.base_url,
        tenant_id=directory.tenant_id,
        client_id=app.client_id,
        client_secret=app.client_secret,
        ca_file=tls.ca_file,
        org=org,
        directory=directory,
        protection=protection,
        log=log,
        faults=injector,
        default_limits=limits,
        _server=server,
    )
    try:
        yield sandbox
    finally:
        server.stop()
        if workdir is None:
            shutil.rmtree(directory_path, ignore_errors=True)


def serve_forever(
    port: int | None,
    latency_ms: int = 0,
    rate_limit: str | int | None = None,
    faults_file: Path | None = None,
    ready: Callable[[DataverseSandbox], Iterable[str]] | None = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM, SIGHUP), printing how
    to connect to it; its key files are deleted when it stops.

    ``ready`` runs once the sandbox is up and before it says so (the CLI seeds records
    and writes a targets file there); the lines it returns are printed too.
    """
    plan = FaultPlan.from_file(faults_file) if faults_file is not None else None
    with (
        stop_signals_interrupt(),
        running_dataverse_sandbox(
            port=port, faults=plan, latency_ms=latency_ms, rate_limit=rate_limit
        ) as sandbox,
    ):
        notes = list(ready(sandbox)) if ready is not None else []
        run_in_foreground("relcrm Dataverse sandbox", sandbox.describe(), sandbox._server, notes)
