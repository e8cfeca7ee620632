"""The FastAPI application: authority uploads (/api), OGC API – Features and Tiles (/ogc), styles,
and the public map viewer (/)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from geoservice import admission, spool
from geoservice.api import accounts, documents, health, layers
from geoservice.api import analytics as analytics_api
from geoservice.api import applications as applications_api
from geoservice.api import auction_live as auction_live_api
from geoservice.api import auction_protocol as auction_protocol_api
from geoservice.api import auctions as auctions_api
from geoservice.api import demo as demo_api
from geoservice.api import findings as findings_api
from geoservice.api import geoinfo as geoinfo_api
from geoservice.api import journal as journal_api
from geoservice.api import licences as licences_api
from geoservice.api import obligations as obligations_api
from geoservice.api import parcels as parcels_api
from geoservice.api import rasters as rasters_api
from geoservice.api import reports as reports_api
from geoservice.api import signatures as signatures_api
from geoservice.api import workbench as workbench_api
from geoservice.applied_watch import AppliedWatch
from geoservice.body_limit import BodyLimitMiddleware
from geoservice.kernel import problems
from geoservice.kernel.db import Database, libpq_params, session_settings
from geoservice.kernel.pools import create_pool
from geoservice.kernel.settings import Settings, get_settings
from geoservice.lots_watch import LotsWatch
from geoservice.messages import register_all
from geoservice.obligation_watch import ObligationWatch
from layers.access import FailureLimit, Tokens
from layers.journal import Sealer
from layers.registry import Registry

log = logging.getLogger("geoservice")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # As the service's role, not the owner (README, "Roles"): it may only add to the journal.
    url = settings.service_database_url
    # Upload folders of processes killed mid-upload (others' live ones are locked, kept).
    for folder in spool.sweep(settings.spool_path):
        log.warning("removed the upload spool %s left by a process that is gone", folder)
    pool = await create_pool(url, connect_timeout=settings.db_connect_timeout,
                             server_settings=session_settings(settings),
                             statement_timeout=settings.statement_timeout)
    registry = Registry(pool, poll_seconds=settings.registry_poll_seconds,
                        listen_retry_max=settings.listen_retry_max_seconds)
    await registry.start()
    tokens = Tokens(pool, failures=FailureLimit(settings.token_failure_limit, settings.token_failure_window))
    await tokens.start()
    app.state.pool, app.state.registry, app.state.tokens = pool, registry, tokens
    # Journal rows are written unnumbered and sealed into the chain here (layers/journal.py).
    sealer = Sealer(pool)
    await sealer.start()
    app.state.sealer = sealer
    # Writers (uploads, restores) and /api reads use psycopg: a pool too, not a connection per request.
    app.state.db = Database.pooled(url, timeout=settings.db_connect_timeout, params=libpq_params(settings))
    # Stages past their deadline are notified once to their authority (cadastre/workbench.py).
    overdue = workbench_api.OverdueWatch(app.state.db)
    await overdue.start()
    # Blocks under pending applications, published to the map after the claims change (cadastre/applied.py).
    applied = AppliedWatch(app.state.db, pool, datum=settings.grid_datum)
    await applied.start()
    # The lots being sold, published to the map after a lot changes (cadastre/auction_lots.py).
    lots = LotsWatch(app.state.db, pool, datum=settings.grid_datum)
    await lots.start()
    # The auction hall: one LISTEN wake-up, the rooms' fan-out and the open/close ticker.
    auction_hub = auction_live_api.LiveHub(pool, app.state.db, settings)
    await auction_hub.start()
    app.state.auction_hub = auction_hub
    # The obligation checker: one process of the deployment (advisory lock) checks on a schedule.
    obligation_watch = ObligationWatch(app.state.db, settings, url=url)
    await obligation_watch.start()
    try:
        yield
    finally:
        # Each part gets a bounded time to stop: a session PostgreSQL ended while its close was
        # still in flight must not keep the process from exiting (pool.close waits forever for a
        # connection nobody will release).
        for name, stop in (("auction hall", auction_hub.stop), ("applied blocks", applied.stop),
                           ("auction lots", lots.stop),
                           ("overdue stages", overdue.stop), ("obligation checker", obligation_watch.stop)):
            await _bounded(name, stop())
        app.state.db.close()
        for name, stop in (("journal sealer", sealer.stop), ("tokens", tokens.stop), ("registry", registry.stop)):
            await _bounded(name, stop())
        if not await _bounded("database pool", pool.close()):
            pool.terminate()


SHUTDOWN_SECONDS = 10.0


async def _bounded(name: str, step: Any) -> bool:
    """Await one shutdown step for at most SHUTDOWN_SECONDS; False (logged) when it did not end."""
    try:
        await asyncio.wait_for(step, SHUTDOWN_SECONDS)
    except TimeoutError:
        log.warning("shutdown: %s did not stop within %.0f s; going on", name, SHUTDOWN_SECONDS)
        return False
    return True


def create_app(settings: Settings | None = None) -> FastAPI:
    from geoservice.ogc.rasters import router as ogc_rasters_router
    from geoservice.ogc.routes import router as ogc_router
    from geoservice.viewer.cabinet import router as cabinet_router
    from geoservice.viewer.routes import router as viewer_router
    from styles.routes import router as styles_router
    from tiles.routes import TileFastPath
    from tiles.routes import router as tiles_router

    register_all()
    settings = settings or get_settings()
    settings.refuse_unsafe()  # e.g. production without a database password: no app at all
    app = FastAPI(title="geoservice", version="0.1.0", lifespan=lifespan,
                  description="Spatial core of Kazakhstan's unified subsoil-use platform")
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    admission.install(app, settings)  # statement timeouts as 503, expensive queries' budget, rate limits
    app.add_middleware(TileFastPath)  # tile requests answered before the router (tiles/routes.py)
    app.include_router(health.router)
    app.include_router(layers.router)
    app.include_router(documents.router)
    app.include_router(signatures_api.router)
    app.include_router(journal_api.router)
    app.include_router(tiles_router)
    app.include_router(styles_router)
    app.include_router(ogc_rasters_router)
    app.include_router(ogc_router)
    app.include_router(viewer_router)
    app.include_router(accounts.router)
    app.include_router(cabinet_router)
    app.include_router(applications_api.router)
    app.include_router(parcels_api.router)
    app.include_router(workbench_api.router)
    app.include_router(licences_api.router)
    app.include_router(demo_api.router)
    app.include_router(auctions_api.router)
    app.include_router(auction_protocol_api.router)
    app.include_router(auction_live_api.router)
    app.include_router(reports_api.router)
    app.include_router(analytics_api.router)
    app.include_router(obligations_api.router)
    app.include_router(findings_api.router)
    app.include_router(rasters_api.router)
    app.include_router(geoinfo_api.router)
    return app
