"""The FastAPI application: authority uploads (/api), OGC API – Features and Tiles (/ogc), styles,
and the public map viewer (/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from geoservice import problems
from geoservice.api import layers
from geoservice.body_limit import BodyLimitMiddleware
from geoservice.pg import create_pool
from geoservice.registry import Registry
from geoservice.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await create_pool()
    registry = Registry(pool)
    await registry.start()
    app.state.pool, app.state.registry = pool, registry
    try:
        yield
    finally:
        await registry.stop()
        await pool.close()


def create_app() -> FastAPI:
    from geoservice.ogc.routes import router as ogc_router
    from geoservice.viewer.routes import router as viewer_router
    from styles.routes import router as styles_router
    from tiles.routes import TileFastPath
    from tiles.routes import router as tiles_router

    settings = get_settings()
    app = FastAPI(title="geoservice", version="0.1.0", lifespan=lifespan,
                  description="Spatial core of Kazakhstan's unified subsoil-use platform")
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    app.add_middleware(TileFastPath)  # tile requests answered before the router (tiles/routes.py)
    app.include_router(layers.router)
    app.include_router(tiles_router)
    app.include_router(styles_router)
    app.include_router(ogc_router)
    app.include_router(viewer_router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
