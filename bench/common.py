"""Shared by the benchmarks: a scratch database on the same server, migrated, dropped after."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def scratch_database(prefix: str = "geoservice_bench") -> Iterator[str]:
    from geoservice import cluster
    from geoservice.kernel.db import libpq_url, with_database
    from geoservice.kernel.settings import get_settings
    from geoservice.migrate import migrate

    settings = get_settings()
    if settings.database_url is None:
        cluster.up(settings)
    base = libpq_url(settings.effective_database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(base, name)
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
