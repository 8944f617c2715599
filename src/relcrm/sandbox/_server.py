"""Generic plumbing every sandbox shares: fault injection, request logging, and a uvicorn
server running in a background thread on 127.0.0.1 with an ephemeral port.

Sandboxes are real servers so that clients (simple-salesforce, hubspot-api-client) are
exercised over real sockets and TLS, as they are in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn

from relcrm.errors import ConfigurationError
from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox._requestlog import LoggedCall, RequestLog
from relcrm.sandbox._tls import TlsFiles

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG_KEY = "relcrm.call"
"""Scope key under which the :class:`LoggedCall` of the current request is kept."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CannedResponse:
    """A complete answer the middleware can send without calling the app."""

    status: int
    body: bytes
    content_type: str = "application/json;charset=UTF-8"
    headers: tuple[tuple[str, str], ...] = ()


def current_call(scope: Scope) -> LoggedCall | None:
    """The log entry of the request being served, for handlers that record writes."""
    call = scope.get(LOG_KEY)
    return call if isinstance(call, LoggedCall) else None


async def _send_canned(send: Send, response: CannedResponse) -> None:
    headers = [(b"content-type", response.content_type.encode("latin-1"))]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


CORRUPT_TLS_RECORD = b"\x17\x03\x03\x00\x13" + b"\x00" * 0x13
"""An application-data TLS record whose contents cannot decrypt: what a client reads when
a broken proxy or middlebox mangles the connection."""


def _abort_connection(receive: Receive, mode: str = "close") -> bool:
    """Close the client's TCP connection without an answer.

    ASGI has no "drop the connection" message; uvicorn would turn an exception into a 500.
    uvicorn's ``receive`` is a bound method of the request cycle, which holds the
    transport: aborting it (and marking the cycle disconnected so uvicorn does not try to
    answer) is what a crashed load balancer looks like to the client.

    ``mode`` ``"reset"`` ends the connection with a TCP reset instead of a close;
    ``"tls"`` first writes a corrupt TLS record below the TLS layer, so the client fails
    with a TLS error (as behind a broken proxy) rather than seeing a closed connection.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return False
    if mode == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode == "tls":
        # below TLS: the raw transport under asyncio's SSL protocol (private, so guarded)
        raw = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
        if raw is not None and hasattr(raw, "write"):
            with contextlib.suppress(Exception):
                raw.write(CORRUPT_TLS_RECORD)
    cycle.disconnected = True  # type: ignore[union-attr]
    transport.abort()
    return True


class SandboxMiddleware:
    """Raw ASGI middleware: logs every call, and applies the fault plan before the app.

    ``is_auth`` tells login/token calls apart (the plan may spare them);
    ``unavailable`` builds the vendor's own "service unavailable" answer.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        log: RequestLog,
        faults: FaultInjector,
        unavailable: Callable[[Scope], CannedResponse],
        is_auth: Callable[[Scope], bool] = lambda scope: False,
    ) -> None:
        self.app = app
        self.log = log
        self.faults = faults
        self.unavailable = unavailable
        self.is_auth = is_auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        call = self.log.start(
            scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")
        )
        scope[LOG_KEY] = call
        decision = self.faults.next_call(is_auth=self.is_auth(scope), path=str(scope["path"]))
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        mode = self.faults.plan.drop_mode
        if decision.drop and not self.faults.plan.drop_after_processing:
            call.fault = "dropped"
            if _abort_connection(receive, mode):
                return
        if decision.unavailable:
            call.fault = "unavailable"
            canned = self.unavailable(scope)
            call.status = canned.status
            await _send_canned(send, canned)
            return

        swallow = decision.drop  # drop after processing: run the app, never answer
        held: list[Message] | None = [] if decision.slow_s and not swallow else None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = int(message["status"])
            if held is not None:
                held.append(message)  # a slow answer: processed now, answered later
            elif not swallow:
                await send(message)

        await self.app(scope, receive, send_wrapper)
        if swallow:
            call.fault = "dropped_after_processing"
            call.status = 0
            if not _abort_connection(receive, mode):
                raise ConnectionAbortedError("fault plan: drop connection")
        elif held is not None:
            call.fault = "slow"
            await asyncio.sleep(decision.slow_s)
            for message in held:
                await send(message)


class PortUnavailableError(ConfigurationError):
    """The sandbox cannot listen on the port asked for (in use, or not allowed)."""

    code = "sandbox.port_unavailable"
    default_hint = "choose another --port, or leave --port out to get a free one"


def _bind_loopback(port: int | None, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this; without it uvicorn's two writes per answer
        # (headers, body) meet delayed ACKs and every call takes ~40 ms instead of ~1 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port or 0))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            reason = "is already in use (another sandbox, or another program, listens there)"
        elif error.errno == errno.EACCES:
            reason = "may not be used by this user (ports below 1024 need privileges)"
        else:
            reason = f"cannot be listened on: {error.strerror or error}"
        raise PortUnavailableError(f"port {port} on {host} {reason}") from None
    sock.set_inheritable(True)
    return sock


class ThreadedServer:
    """A uvicorn server in a daemon thread, listening on an already-bound loopback socket.

    Binding the socket ourselves (port 0 by default) gives the port before uvicorn starts,
    with no race between picking a free port and using it.
    """

    def __init__(
        self, app: ASGIApp, *, tls: TlsFiles, port: int | None = None, host: str = "127.0.0.1"
    ) -> None:
        self._sock = _bind_loopback(port, host)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            ssl_certfile=str(tls.cert_file),
            ssl_keyfile=str(tls.key_file),
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"relcrm-sandbox-{self.port}", daemon=True
        )

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` (no trailing slash)."""
        return f"https://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 10.0) -> None:
        """Start serving and wait until uvicorn says it is ready."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        try:
            while not self._server.started:
                if not self._thread.is_alive():
                    raise RuntimeError("the sandbox server thread died while starting")
                if time.monotonic() > deadline:
                    raise TimeoutError("the sandbox server did not start in time")
                time.sleep(0.01)
        except BaseException:
            # Interrupted (a SIGTERM during start-up, say) or timed out: the caller now
            # deletes the key files, which a thread left starting would still read (and
            # die printing a traceback). Stop it first.
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        """Ask uvicorn to exit and wait for the thread.

        Exiting takes uvicorn milliseconds, seconds on a machine busy enough (under a
        load of 16 on two cores, a SIGTERM test saw the thread print a traceback as the
        process ended): the wait is generous, and the socket is closed only once the
        thread is done, never under a thread still serving."""
        self._server.should_exit = True
        self._server.force_exit = True  # idle keep-alive TLS connections would delay exit
        self._thread.join(timeout)
        if self._thread.is_alive():
            return
        with contextlib.suppress(OSError):
            self._sock.close()

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted (for the CLI).

        Ctrl-C, and SIGTERM or SIGHUP while :func:`stop_signals_interrupt` is in force,
        end the wait; the server is stopped either way.
        """
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


STOP_SIGNALS: tuple[str, ...] = ("SIGINT", "SIGTERM", "SIGHUP")
"""The signals that stop a sandbox in the foreground: Ctrl-C, and what ``kill``, a
supervisor or a closed terminal send."""


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, the first SIGINT, SIGTERM or SIGHUP raises
    :class:`KeyboardInterrupt` in the main thread; later ones are ignored.

    SIGTERM's and SIGHUP's default action kills the process on the spot, so no
    ``finally`` runs and a sandbox's private keys (its TLS server key, the JWT signing
    key) would stay on disk. Wrapped around a sandbox's context manager, this unwinds it
    instead, and a second signal cannot cut its clean-up short. The previous handlers
    come back on exit. Only the main thread may set handlers; elsewhere (a sandbox
    started from a thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return  # already stopping: let the clean-up finish
        fired = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous: dict[int, Any] = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)  # Windows has no SIGHUP
        if number is not None:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_in_foreground(
    title: str,
    description: str,
    server: ThreadedServer | None,
    notes: Iterable[str] = (),
) -> None:
    """What ``relcrm sandbox ...`` does once a sandbox is up: say how to connect to it,
    then block until interrupted (the caller's context manager then tears it down and
    deletes its key files; see :func:`stop_signals_interrupt`). ``notes`` follow the
    description (the files ``--write-config`` wrote); everything is set up by the time
    the "is running" line appears."""
    if server is None:
        raise RuntimeError(f"{title} has no running server")
    lines = [f"{title} is running (Ctrl-C stops it)", description, *notes]
    print("\n".join(lines), flush=True)
    server.serve_forever()
