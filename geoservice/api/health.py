"""Liveness and readiness, for load balancers and orchestrators.

``/healthz`` says the process lives (its event loop answers); it stays 200 during a database
outage, because restarting this process would not bring the database back. ``/readyz`` says it
can serve: the database answers (through both pools) and the registry of served layers is loaded; otherwise 503
problem+json with ``Retry-After``, so a balancer sends requests elsewhere meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from geoservice.deps import PUBLIC, SettingsDep
from geoservice.kernel.errors import Problem

router = APIRouter(include_in_schema=False)


@router.get("/healthz", dependencies=[PUBLIC])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", dependencies=[PUBLIC])
async def ready(request: Request, settings: SettingsDep) -> dict[str, Any]:
    state = request.app.state
    wait = settings.retry_after_seconds
    try:
        async with asyncio.timeout(settings.ready_timeout):
            async with state.pool.acquire() as conn:  # readers (asyncpg)
                await conn.fetchval("SELECT 1")
        await run_in_threadpool(state.db.ping, settings.ready_timeout)  # writers and /api (psycopg)
    except Exception as exc:  # noqa: BLE001 - whatever stops the database answering, we are not ready
        raise Problem("health.database_down", 503, retry_after=wait, seconds=wait) from exc
    registry = state.registry
    if not registry.loaded:
        raise Problem("health.registry_not_loaded", 503, retry_after=wait, seconds=wait)
    return {"status": "ready", "database": "ok", "layers": len(registry.all()),
            "listening": registry.listening}
