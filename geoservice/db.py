"""Database access. One driver, psycopg 3: SQLAlchemy (for Alembic and GeoAlchemy2 models) and raw
psycopg connections (for COPY and set-based SQL) both use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from geoservice.settings import get_settings


def libpq_url(url: str | None = None) -> str:
    url = url or get_settings().effective_database_url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url: str | None = None) -> str:
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(url), autocommit=autocommit) as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    from sqlalchemy.engine import make_url

    return make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)
