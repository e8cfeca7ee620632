"""Database access. One driver, psycopg 3: SQLAlchemy (for Alembic and GeoAlchemy2 models) and raw
psycopg connections (for COPY and set-based SQL) both use it. The serving side's asyncpg pool is
in pools.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(url), autocommit=autocommit) as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    from sqlalchemy.engine import make_url

    return make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)


class Database:
    """Where writers get their psycopg connections: the server's pool (no connection opened per
    request), or a connection per use where no pool lives (the CLI, tests, benchmarks). Either
    way a block commits on success and rolls back on error."""

    def __init__(self, url: str, pool: ConnectionPool | None = None) -> None:
        self.url = libpq_url(url)
        self.pool = pool

    @classmethod
    def pooled(cls, url: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 30.0) -> Database:
        """``timeout``: how long a request waits for a connection (PoolTimeout, a 503, after it).
        Every connection is checked as it leaves the pool: after a database restart the idle
        ones are dead, and a check (one round trip) replaces them instead of failing a request."""
        pool = ConnectionPool(libpq_url(url), min_size=min_size, max_size=max_size, open=True, timeout=timeout,
                              kwargs={"autocommit": False}, check=ConnectionPool.check_connection)
        return cls(url, pool)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if self.pool is not None:
            with self.pool.connection() as conn:
                yield conn
        else:
            with psycopg.connect(self.url) as conn:
                yield conn

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
