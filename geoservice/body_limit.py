"""Refuse request bodies over the upload limit before they are spooled to disk: by
Content-Length when given, by counting while streaming otherwise."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate

# multipart framing and the small form fields around the file
OVERHEAD = 64 * 1024


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit + OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(scope, send, headers)
            return
        seen = 0

        async def limited_receive() -> Message:
            # Raised inside the route while it reads the body, so the problem handler answers.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise self._problem()
            return message

        await self.app(scope, limited_receive, send)

    def _problem(self) -> Problem:
        return Problem("upload.too_large", 413, limit_mb=(self.limit - OVERHEAD) // (1024 * 1024))

    async def _reject(self, scope: Scope, send: Send, headers: dict[bytes, bytes]) -> None:
        lang = negotiate(headers.get(b"accept-language", b"").decode("latin-1"))
        body = self._problem().render(lang)
        body["instance"] = scope.get("path", "")
        payload = orjson.dumps(body)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(payload)).encode()),
            (b"content-language", lang.encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
