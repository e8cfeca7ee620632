"""Tests run against a real PostGIS: a throwaway database per test run (per xdist worker),
created in the project-local cluster (or on the server of DATABASE_URL), migrated, dropped at
the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from geoservice import cluster
from geoservice.kernel.db import with_database
from geoservice.kernel.settings import get_settings
from geoservice.messages import register_all
from tests.smtp_sink import smtp_sink  # noqa: F401  (the fixture, for every test module)

register_all()  # as the app and the CLI do: problems raised in tests render their texts
# The tests set what they need; a checkout's var/local.env (written by `make serve`) must not
# turn the demo on under them (the CLI subprocesses inherit this too).
os.environ["GEOSERVICE_LOCAL_SETTINGS"] = ""
# The apps of the tests do not run the obligation checker on the real calendar over what other
# tests made (tests/test_checker.py runs it, and starts servers with it on, on its own database).
os.environ["GEOSERVICE_CHECKER_INTERVAL_SECONDS"] = "0"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    settings = get_settings()
    base = settings.database_url
    if base is None:
        cluster.up(settings)
        base = settings.cluster_url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"geoservice_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(base, name)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    from geoservice.migrate import migrate

    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    """The app on this run's database, through Starlette's TestClient (lifespan included). A
    module that needs other settings or data defines its own ``client``."""
    from geoservice.app import create_app

    get_settings.cache_clear()
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def keep_current(database_url: str) -> Iterator[None]:
    """The current version of every layer is made current again after the test, so that other
    tests on this database see what they expect."""
    from layers import store
    from layers.catalog import get_layer

    with psycopg.connect(database_url) as conn:
        before = conn.execute("SELECT l.id, v.version FROM layers l JOIN layer_versions v "
                              "ON v.id = l.current_version_id").fetchall()
    yield
    with psycopg.connect(database_url) as conn:
        for layer_id, version in before:
            store.restore_version(conn, get_layer(layer_id), version, actor="test")  # type: ignore[arg-type]
        conn.commit()
