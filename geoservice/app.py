"""The FastAPI application: authority uploads (/api), OGC API – Features and Tiles (/ogc), styles,
and the public map viewer (/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from geoservice import admission
from geoservice.api import layers
from geoservice.body_limit import BodyLimitMiddleware
from geoservice.kernel import problems
from geoservice.kernel.db import Database
from geoservice.kernel.pools import create_pool
from geoservice.kernel.settings import Settings, get_settings
from geoservice.messages import register_all
from layers.access import FailureLimit, Tokens
from layers.registry import Registry


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # As the service's role, not the owner (README, "Roles"): it may only add to the journal.
    url = settings.service_database_url
    pool = await create_pool(url, statement_timeout=settings.statement_timeout)
    registry = Registry(pool)
    await registry.start()
    tokens = Tokens(pool, failures=FailureLimit(settings.token_failure_limit, settings.token_failure_window))
    await tokens.start()
    app.state.pool, app.state.registry, app.state.tokens = pool, registry, tokens
    # Writers (uploads, restores) and /api reads use psycopg: a pool too, not a connection per request.
    app.state.db = Database.pooled(url)
    try:
        yield
    finally:
        app.state.db.close()
        await tokens.stop()
        await registry.stop()
        await pool.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    from geoservice.ogc.routes import router as ogc_router
    from geoservice.viewer.routes import router as viewer_router
    from styles.routes import router as styles_router
    from tiles.routes import router as tiles_router

    register_all()
    settings = settings or get_settings()
    settings.refuse_unsafe()  # e.g. production without a database password: no app at all
    app = FastAPI(title="geoservice", version="0.1.0", lifespan=lifespan,
                  description="Spatial core of Kazakhstan's unified subsoil-use platform")
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    admission.install(app, settings)  # statement timeouts as 503, expensive queries' budget, rate limits
    app.include_router(layers.router)
    app.include_router(tiles_router)
    app.include_router(styles_router)
    app.include_router(ogc_router)
    app.include_router(viewer_router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
