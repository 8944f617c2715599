"""Start and stop the Salesforce sandbox: in a background thread for tests, or in the
foreground for the CLI (``relcrm sandbox salesforce``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
from relcrm.sandbox.salesforce.app import SalesforceApp
from relcrm.sandbox.salesforce.bulk2 import Bulk2
from relcrm.sandbox.salesforce.org import DEFAULT_VERSION, Org, OrgConfig, Session

UNAVAILABLE_BODY = [
    {
        "message": "Server is unavailable, please try again later",
        "errorCode": "SERVER_UNAVAILABLE",
    }
]


def _unavailable_for(faults: FaultInjector) -> Callable[[Scope], CannedResponse]:
    """The fault plan's 503, with ``Retry-After`` when the plan in force asks for it."""

    def unavailable(scope: Scope) -> CannedResponse:
        retry_after = faults.plan.retry_after_s
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        return CannedResponse(503, json.dumps(UNAVAILABLE_BODY).encode("utf-8"), headers=headers)

    return unavailable


def _is_auth(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return path.startswith(("/services/oauth2/", "/services/Soap/u/"))


@dataclass
class SalesforceSandbox:
    """A running sandbox: where it listens, what to trust, and how to log in.

    ``session_id`` is a ready-made access token for ``Salesforce(instance_url=...,
    session_id=...)``; ``jwt_private_key_file`` signs JWT-bearer assertions the sandbox
    accepts (it holds the matching public key).
    """

    instance_url: str
    ca_file: Path
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    session_id: str
    jwt_private_key_file: Path
    org: Org
    log: RequestLog
    faults: FaultInjector
    bulk: Bulk2
    api_version: str = DEFAULT_VERSION
    _server: ThreadedServer | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.instance_url.rsplit(":", 1)[1])

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the weather while running (``None`` for a calm org)."""
        self.faults.set_plan(plan)

    def login(self) -> str:
        """A fresh access token, as if the client had logged in again."""
        return self.org.new_session()

    def reset(self) -> None:
        """Restore the org's initial records and schema; clear the log and the fault plan.

        The original ``session_id`` stays valid, so module-scoped fixtures can share one
        server between tests that each start from a clean org.
        """
        self.org.reset()
        self.bulk.jobs.clear()
        self.faults.set_plan(None)
        self.log.clear()
        self.org.sessions[self.session_id] = Session(self.session_id, self.org.user_id)

    def describe(self) -> str:
        """What the CLI prints: where to connect, what to trust, and the credentials."""
        return "\n".join(
            [
                f"instance URL:    {self.instance_url}",
                f"CA file:         {self.ca_file}",
                f"username:        {self.username}",
                f"password:        {self.password}",
                f"security token:  {self.security_token}",
                f"consumer key:    {self.consumer_key}",
                f"consumer secret: {self.consumer_secret}",
                f"session id:      {self.session_id}",
                f"JWT signing key: {self.jwt_private_key_file}",
            ]
        )


def _jwt_keypair(directory: Path) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_file = directory / "jwt-private-key.pem"
    private_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_file, public


@contextmanager
def running_sandbox(
    *,
    port: int | None = None,
    faults: FaultPlan | None = None,
    latency_ms: int = 0,
    data_file: Path | None = None,
    config: OrgConfig | None = None,
    bulk_processing_delay_s: float = 0.0,
    workdir: Path | None = None,
) -> Iterator[SalesforceSandbox]:
    """Run a Salesforce sandbox on 127.0.0.1 over HTTPS for the duration of the block."""
    tls = make_tls_files(workdir)
    directory = tls.ca_file.parent
    try:
        plan = faults or FaultPlan()
        if latency_ms:
            plan = plan.model_copy(update={"latency_ms": latency_ms})
        injector = FaultInjector(plan)
        private_key_file, public_pem = _jwt_keypair(directory)
        cfg = config or OrgConfig()
        cfg.jwt_public_key_pem = cfg.jwt_public_key_pem or public_pem
        log = RequestLog()
        org = Org(cfg, faults=injector, data_file=data_file)
        bulk = Bulk2(org, log, processing_delay_s=bulk_processing_delay_s)
        app = SalesforceApp(org, bulk)
        asgi = SandboxMiddleware(
            app.starlette,
            log=log,
            faults=injector,
            unavailable=_unavailable_for(injector),
            is_auth=_is_auth,
        )
        server = ThreadedServer(asgi, tls=tls, port=port)
        org.instance_url = server.base_url
        server.start()
    except BaseException:  # a busy port, say: leave no key on disk
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    sandbox = SalesforceSandbox(
        instance_url=server.base_url,
        ca_file=tls.ca_file,
        username=cfg.username,
        password=cfg.password,
        security_token=cfg.security_token,
        consumer_key=cfg.consumer_key,
        consumer_secret=cfg.consumer_secret,
        session_id=org.new_session(),
        jwt_private_key_file=private_key_file,
        org=org,
        log=log,
        faults=injector,
        bulk=bulk,
        _server=server,
    )
    try:
        yield sandbox
    finally:
        server.stop()
        org.save_if_dirty()
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


def serve_forever(
    port: int | None,
    latency_ms: int,
    faults_file: Path | None,
    data_file: Path | None,
    ready: Callable[[SalesforceSandbox], Iterable[str]] | None = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM, SIGHUP), printing how
    to connect to it; its key files are deleted when it stops.

    ``ready`` runs once the sandbox is up and before it says so (the CLI seeds contacts
    and writes a targets file there); the lines it returns are printed too.
    """
    plan = FaultPlan.from_file(faults_file) if faults_file is not None else None
    with (
        stop_signals_interrupt(),
        running_sandbox(
            port=port, faults=plan, latency_ms=latency_ms, data_file=data_file
        ) as sandbox,
    ):
        notes = list(ready(sandbox)) if ready is not None else []
        run_in_foreground("relcrm Salesforce sandbox", sandbox.describe(), sandbox._server, notes)
