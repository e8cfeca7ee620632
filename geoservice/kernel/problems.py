"""Every error leaves the service as application/problem+json in the request's language."""

from __future__ import annotations

import json
import logging
from typing import Any

import asyncpg
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate, translate
from geoservice.kernel.outage import is_outage

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("geoservice")


def encode(content: Any) -> bytes:
    # A message may quote what the client sent; a lone surrogate from a JSON escape
    # ("\\ud800" in a cql2-json filter) has no UTF-8 form and must not turn a 400 into a 500.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8", "backslashreplace")


class ProblemResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return encode(content)


async def send_problem(scope: Scope, send: Send, problem: Problem, *, close: bool = False) -> None:
    """Answer ``problem`` straight on the ASGI channel, for middlewares that refuse a request
    before the app (and its exception handlers) sees it. ``close``: the connection is not reused
    (its request body was not read)."""
    lang = negotiate(dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1"))
    body = problem.render(lang)
    body["instance"] = scope.get("path", "")
    payload = encode(body)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode()),
               (b"content-language", lang.encode())]
    if close:
        headers.append((b"connection", b"close"))
    if problem.retry_after is not None:
        headers.append((b"retry-after", str(problem.retry_after).encode()))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def retry_after(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "retry_after_seconds", 5))


def outage_response(request: Request) -> JSONResponse:
    lang = negotiate(request.headers.get("accept-language"))
    wait = retry_after(request)
    problem = Problem("db.unavailable", 503, retry_after=wait, seconds=wait)
    return problem_response(request, problem.render(lang), 503, lang, {"Retry-After": str(wait)})


def problem_response(request: Request, body: dict[str, Any], status: int, lang: str,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body.setdefault("instance", str(request.url.path))
    return ProblemResponse(body, status_code=status, media_type=PROBLEM_JSON,
                           headers={"Content-Language": lang, **(headers or {})})


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        lang = negotiate(request.headers.get("accept-language"))
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return problem_response(request, exc.render(lang), exc.status, lang, headers)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # A database outage is a 503 the client may retry, logged in one line, not a traceback
        # per request. Anything else of these types stays what it was: a 500 with its traceback.
        if not is_outage(exc):
            raise exc
        log.warning("database unavailable on %s: %s: %s", request.url.path, type(exc).__name__, exc)
        return outage_response(request)

    for kind in (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, psycopg.Error):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        lang = negotiate(request.headers.get("accept-language"))
        key = {404: "http.not_found", 405: "http.method_not_allowed"}.get(exc.status_code, "http.bad_request")
        text = translate(key, lang, detail=exc.detail)
        return problem_response(request, {"type": "about:blank", "title": text, "status": exc.status_code,
                                          "detail": text}, exc.status_code, lang)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = negotiate(request.headers.get("accept-language"))
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        text = translate("http.bad_request", lang, detail=detail)
        return problem_response(request, {"type": "urn:geoservice:problem:http.bad_request", "title": text,
                                          "status": 400, "detail": text, "errors": errors}, 400, lang)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):  # wrapped in another error on its way here
            return outage_response(request)
        log.exception("unhandled error on %s", request.url.path)
        lang = negotiate(request.headers.get("accept-language"))
        text = translate("http.internal", lang)
        return problem_response(request, {"type": "about:blank", "title": text, "status": 500, "detail": text},
                                500, lang)
