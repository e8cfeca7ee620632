"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from geoservice import problems
from geoservice.api import layers
from geoservice.body_limit import BodyLimitMiddleware
from geoservice.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="geoservice", version="0.1.0",
                  description="Spatial core of Kazakhstan's unified subsoil-use platform")
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    app.include_router(layers.router)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
