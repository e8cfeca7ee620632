"""Database access. One driver, psycopg 3: SQLAlchemy (for Alembic and GeoAlchemy2 models) and raw
psycopg connections (for COPY and set-based SQL) both use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

import psycopg

from geoservice.settings import get_settings


def libpq_url(url: str | None = None) -> str:
    url = url or get_settings().effective_database_url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url: str | None = None) -> str:
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


if TYPE_CHECKING:
    from sqlalchemy import Engine


@lru_cache
def engine(url: str | None = None) -> Engine:
    # SQLAlchemy is imported here, not at module level: the CLI's import path stays light.
    from sqlalchemy import create_engine

    return create_engine(sqlalchemy_url(url), pool_pre_ping=True)


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(url), autocommit=autocommit) as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    from sqlalchemy.engine import make_url

    return make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)
