"""One expensive request cannot starve everyone (README, "OGC API", limits):

* every serving query has a statement timeout (kernel/pools.py, tiles); a cancelled one is a
  ``503`` with ``Retry-After`` (``http.timeout``), never a 500;
* expensive item queries (geoservice/ogc/cost.py) run at most ``expensive_concurrency`` at a
  time, waiting at most ``expensive_wait`` seconds for their turn, else ``503`` with
  ``Retry-After`` (``ogc.busy``): cheap requests keep their own connections;
* anonymous callers are rate-limited per client address by a token bucket (``429`` with
  ``Retry-After``, ``http.rate_limited``); an expensive query costs more tokens than others.
  Callers with a valid token are not limited. At most ``rate_clients`` addresses are tracked.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.outage import is_outage
from geoservice.kernel.problems import problem_response, send_problem
from geoservice.kernel.settings import Settings

POLL_SECONDS = 0.01   # how often a waiting expensive query looks for a free turn


class TokenBuckets:
    """A token bucket per key (a client address): ``burst`` tokens, refilled at ``rate`` a
    second. Bounded: past ``keys`` keys the least recently seen is forgotten (it comes back
    with a full bucket, the lenient side)."""

    def __init__(self, rate: float, burst: int, keys: int = 10_000) -> None:
        self.rate, self.burst, self.keys = rate, max(1, burst), max(1, keys)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()   # key -> (tokens, when)

    @property
    def on(self) -> bool:
        return self.rate > 0

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Take ``cost`` tokens: 0 when granted, else the seconds until they would be."""
        if not self.on:
            return 0.0
        now = time.monotonic() if now is None else now
        cost = min(cost, self.burst)
        tokens, when = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - when) * self.rate)
        granted = tokens >= cost
        self._buckets[key] = (tokens - cost if granted else tokens, now)
        while len(self._buckets) > self.keys:
            self._buckets.popitem(last=False)
        return 0.0 if granted else (cost - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


class Admission:
    """The app's limits (app.state.admission)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buckets = TokenBuckets(settings.rate_limit, settings.rate_burst, settings.rate_clients)
        self.budget = max(1, settings.expensive_concurrency)
        self.running = 0   # expensive queries under way

    def charge(self, client: str | None, cost: float) -> None:
        """Take ``cost`` tokens from an anonymous client's bucket; 429 when it has not enough."""
        if client is None:
            return
        wait = self.buckets.take(client, cost)
        if wait > 0:
            raise self.rate_limited(wait)

    def rate_limited(self, wait: float) -> Problem:
        seconds = max(1, math.ceil(wait))
        return Problem("http.rate_limited", 429, retry_after=seconds, seconds=seconds,
                       rate=f"{self.settings.rate_limit:g}", burst=self.settings.rate_burst)

    @asynccontextmanager
    async def expensive(self, reasons: tuple[str, ...]) -> AsyncIterator[None]:
        """Run the block as one of at most ``budget`` expensive queries at a time, after waiting
        at most ``expensive_wait`` seconds for a turn. (A counter checked in the event loop's
        thread, not a semaphore under a timeout: a timeout that fires as the semaphore is
        granted would lose that slot for good on Python 3.11.)"""
        deadline = time.monotonic() + max(0.0, self.settings.expensive_wait)
        while self.running >= self.budget:
            if time.monotonic() >= deadline:
                seconds = max(1, math.ceil(2 * self.settings.expensive_wait))
                raise Problem("ogc.busy", 503, retry_after=seconds, seconds=seconds,
                              budget=self.budget, reasons="; ".join(reasons) or "-")
            await asyncio.sleep(POLL_SECONDS)
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


async def anonymous_client(request: Request | Scope) -> str | None:
    """The client address of an anonymous caller, None for a caller with a valid token (not
    limited). A token sent but not valid counts as anonymous here (the route refuses it)."""
    scope = request.scope if isinstance(request, Request) else request
    client = scope.get("client")
    address = client[0] if client else "unknown"
    header = next((value for name, value in scope.get("headers", ()) if name == b"authorization"), None)
    if header is None:
        return address
    try:
        token = bearer_token(header.decode("latin-1"))
        # client=None: not counted against the address's invalid-token limit here; the route counts it.
        found = await scope["app"].state.tokens.principal(token) if token is not None else None
    except Problem:   # malformed, unknown or revoked: the route that reads it answers 401
        return address
    except Exception as exc:  # the database is away: let the route answer its 503
        if is_outage(exc):
            return None
        raise
    return None if found is not None else address


class RateLimitMiddleware:
    """One token per request from each anonymous client address; over the limit, a 429
    problem before any work is done."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app, self.admission = app, admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.admission.buckets.on:
            await self.app(scope, receive, send)
            return
        client = await anonymous_client(scope)
        wait = self.admission.buckets.take(client, 1.0) if client is not None else 0.0
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        await send_problem(scope, send, self.admission.rate_limited(wait))


def install(app: FastAPI, settings: Settings) -> None:
    admission = app.state.admission = Admission(settings)
    app.add_middleware(RateLimitMiddleware, admission=admission)

    @app.exception_handler(asyncpg.exceptions.QueryCanceledError)
    async def _cancelled(request: Request, exc: asyncpg.exceptions.QueryCanceledError) -> JSONResponse:
        # The statement timeout (or an operator's pg_cancel_backend): the service is well, the
        # query was too much for now.
        seconds = max(1, math.ceil(settings.statement_timeout))
        problem = Problem("http.timeout", 503, retry_after=seconds, seconds=seconds,
                          limit=f"{settings.statement_timeout:g}")
        lang = negotiate(request.headers.get("accept-language"))
        return problem_response(request, problem.render(lang), 503, lang, {"Retry-After": str(problem.retry_after)})
