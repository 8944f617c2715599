"""A sandbox server whose start is cut short stops its thread before the caller goes on to
delete the key files (a SIGTERM during start-up had left the thread reading deleted keys)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from relcrm.sandbox._server import ThreadedServer
from relcrm.sandbox._tls import make_tls_files


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called
    raise AssertionError("no request expected")


def test_a_start_cut_short_leaves_no_thread_reading_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[BaseException | None] = []
    starting = uvicorn.Server.startup

    async def startup_until_asked_to_exit(self: uvicorn.Server, sockets: Any = None) -> None:
        # Keep uvicorn "still starting" until start() has given up, so the timeout is
        # certain: on a fast machine uvicorn was sometimes ready before start() first looked.
        for _ in range(500):
            if self.should_exit:
                break
            await asyncio.sleep(0.01)
        await starting(self, sockets=sockets)

    monkeypatch.setattr(uvicorn.Server, "startup", startup_until_asked_to_exit)
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    tls = make_tls_files(tmp_path / "keys")
    server = ThreadedServer(_app, tls=tls)
    with pytest.raises(TimeoutError):
        server.start(timeout=-1)  # as an interrupt would, while uvicorn is still starting
    assert not server._thread.is_alive()
    shutil.rmtree(tmp_path / "keys")  # what the sandboxes' context managers do next
    assert failures == []
