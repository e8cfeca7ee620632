"""Guards on request bodies, before any route sees them:

* size: every route has a limit — uploads ``max_upload_bytes``, refused before they are spooled
  to disk; every other route ``max_body_bytes``, read whole here before the route runs — by
  Content-Length when given, by counting otherwise (a chunked body has none): 413;
* pace: a body must keep arriving — ``http_body_timeout`` seconds of grace, then at least
  ``http_body_min_rate`` bytes a second on average — or the request ends with 408 (a trickling
  upload no longer holds a connection and a worker's attention for as long as it likes);
* uploads at once: at most ``max_concurrent_uploads`` per process; more get 503 + Retry-After
  without their body being read;
* a response sent before its request's body was read whole closes the connection, so that the
  rest of that body cannot keep the connection busy."""

from __future__ import annotations

import asyncio
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoservice.kernel.errors import Problem
from geoservice.kernel.problems import send_problem
from geoservice.kernel.settings import Settings

# multipart framing and the small form fields around the file
OVERHEAD = 64 * 1024
UPLOAD_PATH = re.compile(r"^/api/layers/[^/]+/uploads/?$")
# Signed documents (geoservice/api/documents.py): streamed like uploads, with their own limit.
DOCUMENT_PATH = re.compile(r"^/api/documents(/[^/]+/signatures)?/?$")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.max_upload_bytes + OVERHEAD
        self.small_limit = settings.max_body_bytes
        self.grace = settings.http_body_timeout
        self.min_rate = settings.http_body_min_rate
        self.max_uploads = settings.max_concurrent_uploads
        self.retry_after = settings.retry_after_seconds
        self.uploads = 0  # uploads in progress in this process (one event loop: a plain count)
        self.document_limit = (settings.max_document_bytes
                               + settings.max_signature_bytes * settings.max_signature_files + OVERHEAD)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and (declared is None or declared == b"0"):
            await self.app(scope, receive, send)  # no body: nothing to guard
            return
        upload = scope["method"] == "POST" and UPLOAD_PATH.match(scope["path"]) is not None
        limit = self.limit if upload else self.small_limit
        document = scope["method"] == "POST" and DOCUMENT_PATH.match(scope["path"]) is not None
        if document:
            upload, limit = True, self.document_limit
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._reject(scope, send, self._too_large(upload, document))
            return
        if upload and self.uploads >= self.max_uploads:
            await self._reject(scope, send, Problem("upload.busy", 503, retry_after=self.retry_after,
                                                    uploads=self.max_uploads, seconds=self.retry_after))
            return
        started = time.monotonic()
        seen = 0
        done = False

        async def guarded_receive() -> Message:
            # Raised inside the route while it reads the body, so the problem handler answers.
            nonlocal seen, done
            if done:
                return await receive()  # after the body: waiting for a disconnect is no pace matter
            allowed = self._allowed(seen) - (time.monotonic() - started)
            try:
                if allowed <= 0:
                    raise TimeoutError
                async with asyncio.timeout(allowed):
                    message = await receive()
            except TimeoutError:
                raise Problem("http.body_timeout", 408, seconds=round(self.grace),
                              rate_kb=round(self.min_rate / 1024, 1)) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if seen > limit:
                    raise self._too_large(upload, document)
            else:
                done = True
            return message

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not done:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        if not upload:
            # Small bodies are read whole before the route runs: a route that never reads its
            # body (a restore) is limited all the same.
            chunks: list[bytes] = []
            try:
                while not done:
                    message = await guarded_receive()
                    if message["type"] != "http.request":
                        return  # the client is gone
                    chunks.append(message.get("body", b""))
            except Problem as problem:
                await self._reject(scope, send, problem)
                return
            await self.app(scope, _replay(b"".join(chunks), receive), send)
            return
        self.uploads += 1
        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            self.uploads -= 1

    def _allowed(self, seen: int) -> float:
        """Seconds a body may have taken once ``seen`` bytes have arrived."""
        return self.grace + seen / self.min_rate if self.min_rate > 0 else float("inf")

    def _too_large(self, upload: bool, document: bool = False) -> Problem:
        if document:
            return Problem("documents.request_too_large", 413, limit_mb=round(self.document_limit / (1024 * 1024), 2))
        if upload:
            return Problem("upload.too_large", 413, limit_mb=(self.limit - OVERHEAD) // (1024 * 1024))
        return Problem("http.body_too_large", 413, limit_kb=self.small_limit // 1024)

    async def _reject(self, scope: Scope, send: Send, problem: Problem) -> None:
        await send_problem(scope, send, problem, close=True)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read ahead, as one message; then the connection's own messages (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
