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
                      connect_timeout: float = 60.0, server_settings: dict[str, str] | None = None,
                      statement_timeout: float | None = None) -> asyncpg.Pool:
    """``connect_timeout``: a pool that cannot reach the database fails the request in seconds
    (503). ``server_settings``: more startup parameters (geoservice.kernel.db.session_settings).
    ``statement_timeout`` (seconds): the server cancels any statement running longer (the caller
    gets asyncpg's QueryCanceledError); the client gives up a little later still."""
    settings = {**SERVER_SETTINGS, **(server_settings or {})}
    if statement_timeout:
        settings["statement_timeout"] = str(max(1, round(statement_timeout * 1000)))
    seconds = int(settings["statement_timeout"]) / 1000
    pool = await asyncpg.create_pool(libpq_url(url), min_size=min_size, max_size=max_size,
                                     server_settings=settings, command_timeout=seconds + 30, reset=_no_reset,
                                     timeout=connect_timeout)
    assert pool is not None
    return pool
