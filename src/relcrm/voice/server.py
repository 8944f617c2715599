"""Serving the page: in the foreground for ``relcrm voice serve``, or in a background
thread on 127.0.0.1 for tests and scripts (:func:`running_page`).

Plain HTTP on purpose: the page is meant to run behind a reverse proxy that terminates
TLS (docs/voice.md). uvicorn's proxy support turns ``X-Forwarded-For`` and
``X-Forwarded-Proto`` into the client's address and scheme, but only for connections
from ``forwarded_allow_ips``, so a visitor cannot pick the address the rate limit counts.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn


def _config(app: Any, host: str, port: int, forwarded_allow_ips: str | None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,  # access logs would hold every link's token
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or "127.0.0.1",
        server_header=False,
        timeout_graceful_shutdown=2,
    )


def serve(
    app: Any, *, host: str = "127.0.0.1", port: int = 8040, forwarded_allow_ips: str | None = None
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C, SIGTERM), then return: uvicorn finishes the
    requests in flight and hands the signal back, which ends the wait here rather than the
    process, so a supervisor's stop is a clean exit (0)."""
    server = uvicorn.Server(_config(app, host, port, forwarded_allow_ips))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


class PageServer:
    """uvicorn in a daemon thread on an already-bound loopback socket (port 0: a free one)."""

    def __init__(self, app: Any, *, forwarded_allow_ips: str | None = None) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(_config(app, "127.0.0.1", self.port, forwarded_allow_ips))
        self._thread = threading.Thread(
            target=lambda: self._server.run(sockets=[self._sock]),
            name=f"relcrm-voice-{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the page's server thread died while starting")
            if time.monotonic() > deadline:
                raise TimeoutError("the page's server did not start in time")
            time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.close()


@contextlib.contextmanager
def running_page(app: Any, *, forwarded_allow_ips: str | None = None) -> Iterator[PageServer]:
    """A started :class:`PageServer`, stopped on exit."""
    server = PageServer(app, forwarded_allow_ips=forwarded_allow_ips)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["PageServer", "running_page", "serve"]
