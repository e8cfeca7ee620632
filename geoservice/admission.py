"""One expensive request cannot starve everyone (README, "OGC API", limits):

* every serving query has a statement timeout (kernel/pools.py, tiles); a cancelled one is a
  ``503`` with ``Retry-After`` (``http.timeout``), never a 500;
* expensive item queries (geoservice/ogc/cost.py) run at most ``expensive_concurrency`` at a
  time, waiting at most ``expensive_wait`` seconds for their turn, else ``503`` with
  ``Retry-After`` (``ogc.busy``): cheap requests keep their own connections.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.problems import problem_response
from geoservice.kernel.settings import Settings

POLL_SECONDS = 0.01   # how often a waiting expensive query looks for a free turn


class Admission:
    """The app's limits (app.state.admission)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.budget = max(1, settings.expensive_concurrency)
        self.running = 0   # expensive queries under way

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
                raise Problem("ogc.busy", 503, headers={"Retry-After": str(seconds)}, seconds=seconds,
                              budget=self.budget, reasons="; ".join(reasons) or "-")
            await asyncio.sleep(POLL_SECONDS)
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


def install(app: FastAPI, settings: Settings) -> None:
    app.state.admission = Admission(settings)

    @app.exception_handler(asyncpg.exceptions.QueryCanceledError)
    async def _cancelled(request: Request, exc: asyncpg.exceptions.QueryCanceledError) -> JSONResponse:
        # The statement timeout (or an operator's pg_cancel_backend): the service is well, the
        # query was too much for now.
        seconds = max(1, math.ceil(settings.statement_timeout))
        problem = Problem("http.timeout", 503, headers={"Retry-After": str(seconds)}, seconds=seconds,
                          limit=f"{settings.statement_timeout:g}")
        lang = negotiate(request.headers.get("accept-language"))
        return problem_response(request, problem.render(lang), 503, lang, problem.headers)
