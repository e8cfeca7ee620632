"""The serving side's connection pool (asyncpg): reads for OGC API and tiles. Uploads and the
CLI use psycopg (geoservice/db.py); both talk to the same database."""

from __future__ import annotations

import asyncpg

from geoservice.kernel.db import libpq_url

# Startup parameters, not SETs: they survive any RESET, and no statement is needed per session.
SERVER_SETTINGS = {"jit": "off", "statement_timeout": "60000"}


async def _no_reset(conn: asyncpg.Connection) -> None:
    # asyncpg's default release runs RESET ALL / UNLISTEN / CLOSE ALL: a round trip per request.
    # Readers here never change session state, so there is nothing to reset.
    return None


async def create_pool(url: str | None = None, *, min_size: int = 2, max_size: int = 16,
                      statement_timeout: float | None = None) -> asyncpg.Pool:
    """``statement_timeout`` (seconds): the server cancels any statement running longer (the
    caller gets asyncpg's QueryCanceledError); the client gives up a little later still."""
    settings = dict(SERVER_SETTINGS)
    if statement_timeout:
        settings["statement_timeout"] = str(max(1, round(statement_timeout * 1000)))
    seconds = int(settings["statement_timeout"]) / 1000
    pool = await asyncpg.create_pool(libpq_url(url), min_size=min_size, max_size=max_size,
                                     server_settings=settings, command_timeout=seconds + 30, reset=_no_reset)
    assert pool is not None
    return pool
