"""A loopback TCP proxy that can hold back the end of a server's connection: what the server
sent before closing is passed on at once, the close itself only when the test says so. It pins
the moment between a database's last message to a session (the FATAL of a shutdown or of
pg_terminate_backend) and the end of that session's socket, which on a loaded machine is
reached by chance (bench/restart_under_load.py)."""

from __future__ import annotations

import asyncio
import threading
import time


class HoldingProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.hold_closes = False
        self.held = 0                          # server ends not yet passed on
        self.upstream_ports: set[int] = set()  # our side of each connection to the server
        self._release: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    def __enter__(self) -> HoldingProxy:
        self.thread.start()
        self._server = self._call(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
        assert self._server is not None
        self._server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _start(self) -> asyncio.Server:
        self._release = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)
        local = server_w.get_extra_info("sockname")[1]
        self.upstream_ports.add(local)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter, from_server: bool) -> None:
            try:
                while data := await r.read(1 << 16):
                    w.write(data)
                    await w.drain()
            except OSError:
                pass
            finally:
                if from_server and self.hold_closes:
                    assert self._release is not None
                    self.held += 1
                    await self._release.wait()
                w.close()

        try:
            await asyncio.gather(pipe(client_r, server_w, False), pipe(server_r, client_w, True))
        finally:
            self.upstream_ports.discard(local)

    def release(self) -> None:
        """Pass on the held closes, and hold no more."""
        self.hold_closes = False
        if self._release is not None:
            self.loop.call_soon_threadsafe(self._release.set)

    def wait_held(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.held < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.held} of {count} server closes held")
            time.sleep(0.02)
