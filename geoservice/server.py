"""The HTTP server: uvicorn, with the read timeouts it lacks.

uvicorn bounds the idle time between requests (keep-alive) but not the time a client may take to
send a request's head: 500 connections sending a header byte now and then were held for as long
as they liked. ``GuardedHttpToolsProtocol`` gives the request line and headers a deadline and a
size limit; the body's pace is the ASGI middleware's business (geoservice/body_limit.py), where
the request is known."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the request head's deadline and size (read by the protocol;
    a plain attribute, so the config still pickles for worker processes)."""

    def __init__(self, *args: Any, header_timeout: float = 10.0, max_header_bytes: int = 64 * 1024,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """The request line and headers must arrive within ``header_timeout`` seconds of the
    connection (or of the first byte of the next request on a kept-alive connection) and stay
    under ``max_header_bytes``; otherwise 408 / 431 and the connection is closed."""

    def __init__(self, config: uvicorn.Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_timeout: float = getattr(config, "header_timeout", 10.0)
        self.head_limit: int = getattr(config, "max_header_bytes", 64 * 1024)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._in_head = False
        self._refused = False

    # -- the deadline ------------------------------------------------------------------------
    def _start_head(self) -> None:
        self._in_head, self._head_bytes = True, 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired)

    def _end_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head is late while the previous response is still being written: no
            # answer of ours may cut into that one, so the connection ends after it instead.
            self.cycle.keep_alive = False
            return
        self._refuse(408, "http.header_timeout", seconds=round(self.head_timeout))

    def _refuse(self, status: int, key: str, **params: Any) -> None:
        """Answer without the app (the request is not whole) and close."""
        self._refused = True
        self._end_head()
        if self.transport is None or self.transport.is_closing():
            return
        accept = next((v for n, v in (self.headers or []) if n == b"accept-language"), b"")
        lang = negotiate(accept.decode("latin-1"))
        body = orjson.dumps(Problem(key, status, **params).render(lang))
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\ncontent-language: %s\r\n"
                             b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                             % (status, reason, lang.encode(), len(body), body))
        self.transport.close()

    # -- uvicorn's hooks -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and self._head_bytes > self.head_limit:
            self._refuse(431, "http.header_too_large", limit_kb=self.head_limit // 1024)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head()

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._head_bytes > self.head_limit:
            self._refuse(431, "http.header_too_large", limit_kb=self.head_limit // 1024)
            return
        self._end_head()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()


def server_config(settings: Settings, *, host: str, port: int, workers: int = 1, access_log: bool = False,
                  app: str = "geoservice.app:create_app", log_level: str = "info") -> ServerConfig:
    return ServerConfig(
        app, factory=True, host=host, port=port, workers=workers, log_level=log_level, access_log=access_log,
        http=GuardedHttpToolsProtocol, timeout_keep_alive=max(1, round(settings.http_keepalive_timeout)),
        limit_concurrency=settings.http_limit_concurrency or None,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
        header_timeout=settings.http_header_timeout, max_header_bytes=settings.http_max_header_bytes,
        # The hall's frames are a few hundred bytes of JSON: compressing each once per connection
        # cost ~40 % of the server's CPU per bid and doubled its memory per connection (bench/README.md).
        ws_per_message_deflate=False)


def run(settings: Settings, *, host: str, port: int, workers: int = 1, access_log: bool = False) -> None:
    """``uvicorn.run`` with our configuration (uvicorn.run builds its own Config)."""
    from uvicorn.supervisors import Multiprocess

    config = server_config(settings, host=host, port=port, workers=workers, access_log=access_log)
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
