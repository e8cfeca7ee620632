"""Database access. One driver, psycopg 3: SQLAlchemy (for Alembic and GeoAlchemy2 models) and raw
psycopg connections (for COPY and set-based SQL) both use it. The serving side's asyncpg pool is
in pools.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from geoservice.kernel.settings import Settings


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


def session_settings(settings: Settings) -> dict[str, str]:
    """Server-side parameters of every service session (asyncpg readers, psycopg writers): a
    client stopped inside a transaction, or gone without a word, loses its session (and its
    locks) in seconds."""
    return {"idle_in_transaction_session_timeout": str(round(settings.idle_in_transaction_timeout * 1000)),
            "tcp_keepalives_idle": str(settings.tcp_keepalives_idle),
            "tcp_keepalives_interval": str(settings.tcp_keepalives_interval),
            "tcp_keepalives_count": str(settings.tcp_keepalives_count)}


def libpq_params(settings: Settings) -> dict[str, Any]:
    """Connection parameters of psycopg connections: libpq's own keepalives (the client notices
    a vanished server), a connect timeout, and session_settings as startup options."""
    return {"keepalives": 1, "keepalives_idle": settings.tcp_keepalives_idle,
            "keepalives_interval": settings.tcp_keepalives_interval,
            "keepalives_count": settings.tcp_keepalives_count,
            "connect_timeout": max(2, round(settings.db_connect_timeout)),
            "options": " ".join(f"-c {k}={v}" for k, v in session_settings(settings).items())}


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

    def __init__(self, url: str, pool: ConnectionPool | None = None, params: dict[str, Any] | None = None) -> None:
        self.url = libpq_url(url)
        self.pool = pool
        self.params = params or {}  # libpq_params() for the service's connections

    @classmethod
    def pooled(cls, url: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 30.0,
               params: dict[str, Any] | None = None) -> Database:
        """``timeout``: how long a request waits for a connection (PoolTimeout, a 503, after it).
        Every connection is checked as it leaves the pool: after a database restart the idle
        ones are dead, and a check (one round trip) replaces them instead of failing a request.
        A failed connect is retried with backoff for ``timeout`` only, then the next request
        tries afresh: a backoff grown during a long outage must not delay the recovery."""
        pool = ConnectionPool(libpq_url(url), min_size=min_size, max_size=max_size, open=True, timeout=timeout,
                              reconnect_timeout=timeout, kwargs={"autocommit": False, **(params or {})},
                              check=ConnectionPool.check_connection)
        return cls(url, pool, params)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if self.pool is not None:
            with self.pool.connection() as conn:
                yield conn
        else:
            with psycopg.connect(self.url, **self.params) as conn:
                yield conn

    def ping(self, timeout: float) -> None:
        """One round trip on a writer connection, waiting at most ``timeout`` for it (readiness)."""
        if self.pool is not None:
            with self.pool.connection(timeout=timeout) as conn:
                conn.execute("SELECT 1")
        else:
            with psycopg.connect(self.url, **{**self.params, "connect_timeout": max(2, round(timeout))}) as conn:
                conn.execute("SELECT 1")

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
