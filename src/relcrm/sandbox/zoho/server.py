"""Start and stop the Zoho CRM sandbox: in a background thread for tests, or in the
foreground for the CLI (``relcrm sandbox zoho``).

One HTTPS server with its own throw-away CA plays both Zoho hosts: the accounts server
(``/oauth/v2/token``) and the API domain (``/crm/v8/...``); the token answer's
``api_domain`` is the sandbox's own URL, so a client that follows it (as Zoho asks) stays
on the sandbox. Clients trust the CA file explicitly; TLS verification stays on.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
from relcrm.sandbox.zoho.app import TOKEN_PATH, ZohoApp
from relcrm.sandbox.zoho.auth import ACCESS_TOKEN_TTL_S, Accounts
from relcrm.sandbox.zoho.errors import internal_error
from relcrm.sandbox.zoho.limits import Limits, LimitsConfig, SandboxClock
from relcrm.sandbox.zoho.org import Org, OrgConfig

ENV_PREFIX = "RELCRM_ZOHO_"


def _unavailable_for(faults: FaultInjector) -> Callable[[Scope], CannedResponse]:
    """The fault plan's failing answer: Zoho's 500 ``INTERNAL_ERROR`` (with ``Retry-After``
    when the plan asks for one)."""

    def unavailable(scope: Scope) -> CannedResponse:
        retry_after = faults.plan.retry_after_s
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        return CannedResponse(500, json.dumps(internal_error()).encode("utf-8"), headers=headers)

    return unavailable


@dataclass
class ZohoSandbox:
    """A running sandbox: its URL (accounts server and API domain), the CA to trust, and an
    OAuth client with a refresh token."""

    base_url: str
    ca_file: Path
    client_id: str
    client_secret: str
    refresh_token: str
    org: Org
    accounts: Accounts
    limits: Limits
    log: RequestLog
    faults: FaultInjector
    clock: SandboxClock
    app: ZohoApp = field(repr=False)
    default_limits: LimitsConfig = field(default_factory=LimitsConfig)
    default_work_ms: int = 0
    _server: ThreadedServer | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # no secrets
        return f"ZohoSandbox(base_url={self.base_url!r})"

    @property
    def accounts_url(self) -> str:
        """Where the token endpoint is (``{accounts_url}/oauth/v2/token``)."""
        return self.base_url

    @property
    def api_domain(self) -> str:
        return self.base_url

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the weather while running (``None`` for a calm org)."""
        self.faults.set_plan(plan)

    def set_limits(self, config: LimitsConfig) -> None:
        """Change credits and concurrency while running; credits spent so far are forgotten."""
        self.limits.config = config
        self.limits.reset()

    def set_work_ms(self, work_ms: int) -> None:
        """How long each API call holds its concurrency slot while processed."""
        self.app.work_ms = work_ms

    def expire_tokens(self) -> None:
        """Every access token stops working, as an hour after it was minted."""
        self.accounts.expire_all()

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock: access tokens age, the credit window slides."""
        self.clock.advance(seconds)

    def reset(self) -> None:
        """A fresh org (standard fields, no records), calm faults, an empty log, the limits
        the sandbox started with, and no access tokens. The OAuth client and refresh
        token stay valid, so module-scoped fixtures can share one server."""
        self.org.reset()
        self.faults.set_plan(None)
        self.limits.config = self.default_limits
        self.limits.reset()
        self.accounts.reset()
        self.log.clear()
        self.app.work_ms = self.default_work_ms

    def target_settings(self) -> dict[str, str]:
        """The non-secret connector settings for this sandbox (a targets file's table)."""
        return {"accounts_url": self.accounts_url, "api_domain": self.api_domain}

    def target_secrets(self) -> dict[str, str]:
        """The secrets as the environment variables a deployment sets."""
        return {
            f"{ENV_PREFIX}CLIENT_ID": self.client_id,
            f"{ENV_PREFIX}CLIENT_SECRET": self.client_secret,
            f"{ENV_PREFIX}REFRESH_TOKEN": self.refresh_token,
        }

    def describe(self) -> str:
        """What the CLI prints: where to connect, what to trust, and the credentials."""
        config = self.limits.config
        credits = config.credit_limit()
        return "\n".join(
            [
                f"accounts URL:  {self.accounts_url}  (token endpoint {TOKEN_PATH})",
                f"API domain:    {self.api_domain}  (/crm/v8/...)",
                f"CA file:       {self.ca_file}",
                f"client id:     {self.client_id}",
                f"client secret: {self.client_secret}",
                f"refresh token: {self.refresh_token}",
                f"limits:        {credits if credits is not None else 'unlimited'} credits/24 h, "
                f"{config.concurrency_limit()} concurrent calls ({config.edition})",
            ]
        )


@contextmanager
def running_zoho_sandbox(
    *,
    port: int | None = None,
    faults: FaultPlan | None = None,
    latency_ms: int = 0,
    limits: LimitsConfig | None = None,
    org: OrgConfig | None = None,
    token_ttl_s: float = ACCESS_TOKEN_TTL_S,
    work_ms: int = 0,
    workdir: Path | None = None,
) -> Iterator[ZohoSandbox]:
    """Run a Zoho CRM sandbox on 127.0.0.1 over HTTPS for the duration of the block.

    ``token_ttl_s`` is how long an access token lives (Zoho: an hour); ``work_ms`` how long
    each API call holds its concurrency slot.
    """
    tls = make_tls_files(workdir)
    directory = tls.ca_file.parent
    try:
        plan = faults or FaultPlan()
        if latency_ms:
            plan = plan.model_copy(update={"latency_ms": latency_ms})
        injector = FaultInjector(plan)
        clock = SandboxClock()
        config = limits or LimitsConfig()
        limiter = Limits(config=config, clock=clock)
        accounts = Accounts(clock, token_ttl_s=token_ttl_s)
        the_org = Org(org, faults=injector)
        log = RequestLog()
        where: dict[str, str] = {}
        app = ZohoApp(the_org, accounts, limiter, api_domain=lambda: where["url"], work_ms=work_ms)
        asgi = SandboxMiddleware(
            app.starlette,
            log=log,
            faults=injector,
            unavailable=_unavailable_for(injector),
            is_auth=lambda scope: str(scope.get("path", "")).startswith("/oauth/"),
        )
        server = ThreadedServer(asgi, tls=tls, port=port)
        where["url"] = server.base_url
        server.start()
    except BaseException:  # a busy port, say: leave no key on disk
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    sandbox = ZohoSandbox(
        base_url=server.base_url,
        ca_file=tls.ca_file,
        client_id=accounts.default_client.client_id,
        client_secret=accounts.default_client.client_secret,
        refresh_token=accounts.default_refresh_token,
        org=the_org,
        accounts=accounts,
        limits=limiter,
        log=log,
        faults=injector,
        clock=clock,
        app=app,
        default_limits=config,
        default_work_ms=work_ms,
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
    faults_file: Path | None = None,
    limits: LimitsConfig | None = None,
    ready: Callable[[ZohoSandbox], Iterable[str]] | None = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM, SIGHUP), printing how
    to connect to it; its key files are deleted when it stops.

    ``ready`` runs once the sandbox is up and before it says so (the CLI seeds records and
    writes a targets file there); the lines it returns are printed too.
    """
    plan = FaultPlan.from_file(faults_file) if faults_file is not None else None
    with (
        stop_signals_interrupt(),
        running_zoho_sandbox(port=port, faults=plan, latency_ms=latency_ms, limits=limits) as sb,
    ):
        notes = list(ready(sb)) if ready is not None else []
        run_in_foreground("relcrm Zoho CRM sandbox", sb.describe(), sb._server, notes)
