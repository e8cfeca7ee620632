"""A writer that stalls holding its layer's lock: a real ``geoservice import`` process stopped
(SIGSTOP) in the middle of its COPY. The next writer waits a bounded time, says for whom, and
gives up (CLI: exit 2; HTTP: 409 with Retry-After), or ends the stalled session when told to."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psycopg
import pytest
from fastapi.testclient import TestClient

from geoservice.kernel.db import Database, libpq_params, session_settings
from geoservice.kernel.pools import create_pool
from geoservice.kernel.settings import Settings
from layers.access import create_token
from tests.helpers import many_zones, write_json, zones
from tests.processes import project_env

LAYER = "restriction-zones"


def _import(database_url: str, path: Path, *extra: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "geoservice.cli", "import", LAYER, str(path), *extra],
                            env=project_env(DATABASE_URL=database_url, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def stalled_writer(database_url: str, tmp_path: Path) -> Iterator[int]:
    """The pid of an import process stopped while its COPY holds the layer's lock."""
    big = write_json(tmp_path / "big.geojson", many_zones(20000))
    proc = _import(database_url, big)
    try:
        with psycopg.connect(database_url, autocommit=True) as mon:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                row = mon.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                                  "AND query LIKE 'COPY%%' AND state = 'active'",
                                  (f"geoservice cli pid {proc.pid}",)).fetchone()
                if row:
                    os.kill(proc.pid, signal.SIGSTOP)
                    break
                time.sleep(0.002)
            else:
                pytest.fail(f"the import never reached its COPY: {proc.communicate()}")
            # The backend drains what the stopped client had sent, then waits for more: polled
            # (a fixed 0.3 s was not always enough for it on a loaded machine).
            until = time.monotonic() + 30
            while True:
                state = mon.execute("SELECT wait_event, left(query, 4) FROM pg_stat_activity WHERE pid = %s",
                                    (row[0],)).fetchone()
                if state is None or state[1] != "COPY" or state[0] == "ClientRead" or time.monotonic() > until:
                    break
                time.sleep(0.05)
            assert state == ("ClientRead", "COPY"), f"stopped too late, after its COPY: {state}"
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.communicate(timeout=30)


def test_the_next_import_says_for_whom_it_waits_and_gives_up(stalled_writer: int, database_url: str,
                                                             tmp_path: Path) -> None:
    small = write_json(tmp_path / "small.geojson", zones(2))
    started = time.monotonic()
    proc = _import(database_url, small, "--lang", "ru", GEOSERVICE_LOCK_WAIT_SECONDS="2",
                   GEOSERVICE_WRITER_STALL_SECONDS="0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    assert time.monotonic() - started < 30
    holder = f"geoservice cli pid {stalled_writer}"
    assert "Ожидание блокировки слоя restriction-zones" in err and holder in err, err
    assert "urn:geoservice:problem:layer.busy" in err and "другой" in err, err


def test_http_gives_up_with_409_naming_the_writer(stalled_writer: int, database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "stall test")
        conn.commit()
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "kk"}
    settings = Settings(database_url=database_url, lock_wait_seconds=1, writer_stall_seconds=0,
                        retry_after_seconds=9)
    from geoservice.app import create_app

    with TestClient(create_app(settings)) as client:
        body = write_json(tmp_path / "z.geojson", zones(2)).read_bytes()
        started = time.monotonic()
        r = client.post(f"/api/layers/{LAYER}/uploads", headers=auth, files={"file": ("z.geojson", body)})
        assert r.status_code == 409, r.text
        assert time.monotonic() - started < 10
        assert r.headers["retry-after"] == "9"
        problem = r.json()
        assert problem["type"] == "urn:geoservice:problem:layer.busy"
        assert f"geoservice cli pid {stalled_writer}" in problem["detail"] and "басқа" in problem["detail"]
        r = client.post(f"/api/layers/{LAYER}/versions/1/restore", headers=auth)
        assert r.status_code == 409, r.text  # the lock comes before looking for the version
        assert r.json()["type"] == "urn:geoservice:problem:layer.busy"


def test_a_stalled_copy_is_ended_by_the_next_writer(stalled_writer: int, database_url: str, tmp_path: Path) -> None:
    small = write_json(tmp_path / "small.geojson", zones(2, prefix="T"))
    proc = _import(database_url, small, GEOSERVICE_LOCK_WAIT_SECONDS="30", GEOSERVICE_WRITER_STALL_SECONDS="1")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, (out, err)
    assert f"geoservice cli pid {stalled_writer}" in err and "its session was ended" in err, err
    with psycopg.connect(database_url) as conn:
        current = conn.execute("SELECT v.feature_count FROM layers l JOIN layer_versions v "
                               "ON v.id = l.current_version_id WHERE l.id = %s", (LAYER,)).fetchone()
    assert current == (2,)


def test_sessions_carry_the_timeouts(database_url: str) -> None:
    """Writers (psycopg) and readers (asyncpg) get keepalives of seconds and an idle-in-
    transaction timeout; a writer idle inside its transaction loses it, and its lock."""
    settings = Settings(idle_in_transaction_timeout=1, tcp_keepalives_idle=7)
    db = Database(database_url, params=libpq_params(settings))
    with db.connection() as conn:
        assert conn.execute("SHOW tcp_keepalives_idle").fetchone() == ("7",)
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone() == ("1s",)
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('layer:restriction-zones', 0))")
        # The client "stalls" between statements: the server ends its session after 1 s, and its
        # lock with it. Polled (not a fixed 2 s): without the timeout the lock is never free.
        with psycopg.connect(database_url, autocommit=True) as other:
            deadline = time.monotonic() + 20
            while True:
                free = other.execute(
                    "SELECT pg_try_advisory_lock(hashtextextended('layer:restriction-zones', 0))").fetchone()
                if free == (True,) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            other.execute("SELECT pg_advisory_unlock_all()")
        assert free == (True,)
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
            conn.execute("SELECT 1")

    async def reader() -> tuple[str, str]:
        pool: asyncpg.Pool = await create_pool(database_url, min_size=1, max_size=1,
                                               server_settings=session_settings(settings))
        try:
            async with pool.acquire() as conn:
                return (await conn.fetchval("SHOW tcp_keepalives_idle"),
                        await conn.fetchval("SHOW idle_in_transaction_session_timeout"))
        finally:
            await pool.close()

    assert asyncio.run(reader()) == ("7", "1s")
