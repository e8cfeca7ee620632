"""Every error leaves the service as application/problem+json in the request's language."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate, translate

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("geoservice")


class ProblemResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # A message may quote what the client sent; a lone surrogate from a JSON escape
        # ("\\ud800" in a cql2-json filter) has no UTF-8 form and must not turn a 400 into a 500.
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "backslashreplace")


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
        return problem_response(request, exc.render(lang), exc.status, lang, {**headers, **exc.headers})

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
        log.exception("unhandled error on %s", request.url.path)
        lang = negotiate(request.headers.get("accept-language"))
        text = translate("http.internal", lang)
        return problem_response(request, {"type": "about:blank", "title": text, "status": 500, "detail": text},
                                500, lang)
