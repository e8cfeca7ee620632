"""What routes need, as FastAPI dependencies: the settings, a pooled database connection, and
who is calling. Routes declare them in their signature instead of reaching for globals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request

from geoservice.kernel.db import Database
from geoservice.kernel.settings import Settings
from layers.access import Principal, caller


def settings(request: Request) -> Settings:
    return request.app.state.settings


def database(request: Request) -> Database:
    return request.app.state.db


def connection(request: Request) -> Iterator[psycopg.Connection]:
    """A psycopg connection from the app's pool for the request (committed when the route
    returns, rolled back on error). FastAPI runs this in its thread pool."""
    db: Database = request.app.state.db
    with db.connection() as conn:
        yield conn


async def reader(request: Request) -> Principal | None:
    """Who is calling, for reads: None for anonymous callers (a cached token answer may be used)."""
    return await caller(request)


SettingsDep = Annotated[Settings, Depends(settings)]
DatabaseDep = Annotated[Database, Depends(database)]
ConnectionDep = Annotated[psycopg.Connection, Depends(connection)]
ReaderDep = Annotated[Principal | None, Depends(reader)]
