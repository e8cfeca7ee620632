"""The serving side's connection pool (asyncpg): reads for OGC API and tiles. Uploads and the
CLI use psycopg (geoservice/db.py); both talk to the same database."""

from __future__ import annotations

import asyncpg

from geoservice.db import libpq_url


async def create_pool(url: str | None = None, *, min_size: int = 2, max_size: int = 16) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        # Statement timeout: a pathological filter must not hold a connection for ever.
        await conn.execute("SET statement_timeout = '60s'; SET jit = off")

    pool = await asyncpg.create_pool(libpq_url(url), min_size=min_size, max_size=max_size, init=init,
                                     command_timeout=90)
    assert pool is not None
    return pool
