"""A real HTTP server of the app on a free loopback port, for real clients (GDAL, OWSLib,
browsers) that cannot use an in-process test client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(settings: Any = None) -> Iterator[str]:
    """The app (with ``settings``, else the environment's) served by uvicorn in a thread of this
    process; yields its base URL and stops it after."""
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    if settings is None:
        get_settings.cache_clear()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                         ws_per_message_deflate=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def server_process(database_url: str, **settings: str) -> Iterator[str]:
    """The app in a uvicorn process of its own (as `geoservice serve` runs it), on a free loopback
    port: load tests must not share the test's interpreter (and its GIL) with the server.
    ``settings`` are extra environment variables (GEOSERVICE_...)."""
    import os
    import subprocess
    import sys
    import urllib.request

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **settings}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "geoservice.app:create_app", "--factory",
                                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("test server process did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
