"""A database outage and restart, for real: a private PostgreSQL cluster of this module (never
the shared one) is stopped and started under a running server process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psycopg
import pytest

from geoservice.kernel.outage import is_outage
from importers.pipeline import UploadRequest, run_upload
from layers.access import create_token
from tests.helpers import write_json, zones
from tests.live import free_port
from tests.processes import PrivateCluster, ServerProcess, private_cluster, project_env

ZONES = "/ogc/collections/restriction-zones/items"


@dataclass
class Stage:
    cluster: PrivateCluster
    server: ServerProcess
    token: str
    tmp: Path


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    tmp = tmp_path_factory.mktemp("outage")
    with private_cluster() as pg:
        run_upload(UploadRequest("restriction-zones", write_json(tmp / "z.geojson", zones(3)), "z.geojson"), pg.url)
        with psycopg.connect(pg.url) as conn:
            _, token = create_token(conn, "operator", "outage test")
            conn.commit()
        # The poll is slowed to ten minutes, so that only LISTEN can make an upload visible before
        # a test's (generous, polled) deadline.
        server = ServerProcess({"DATABASE_URL": pg.url, "GEOSERVICE_VAR_DIR": str(tmp / "var"),
                                "GEOSERVICE_DB_CONNECT_TIMEOUT": "1", "GEOSERVICE_RETRY_AFTER_SECONDS": "7",
                                "GEOSERVICE_REGISTRY_POLL_SECONDS": "600"}, tmp / "server.log")
        try:
            server.wait_started()
            server.wait_ready()
            yield Stage(pg, server, token, tmp)
        finally:
            server.stop()


def _requests(stage: Stage) -> list[tuple[str, str, dict[str, str]]]:
    auth = {"Authorization": f"Bearer {stage.token}"}
    return [
        ("GET", ZONES, {}),                                                      # asyncpg pool
        ("GET", "/ogc/collections/restriction-zones/items/Z1", {}),
        ("GET", "/api/layers/restriction-zones", {}),                            # psycopg pool
        ("GET", "/api/layers/restriction-zones/versions", auth),
        ("GET", "/ogc/tiles/WebMercatorQuad/6/22/44", {}),                       # bare ASGI tile route
        ("GET", "/ogc/collections/restriction-zones/tiles/WebMercatorQuad/7/45/89", {}),
        ("GET", "/ogc/tiles/WebMercatorQuad/5/11/22?v=not-this-one", {}),        # registry catch-up
        ("POST", "/api/layers/restriction-zones/versions/1/restore", auth),      # token lookup, writer
    ]


def test_ready_while_the_database_answers(stage: Stage) -> None:
    assert httpx.get(stage.server.base + "/healthz").json() == {"status": "ok"}
    ready = stage.server.wait_ready()
    assert ready["database"] == "ok" and ready["layers"] >= 1 and ready["listening"] is True


def test_an_outage_is_503_with_retry_after_and_nothing_fails_after_recovery(stage: Stage) -> None:
    base = stage.server.base
    stage.cluster.down()
    try:
        # Liveness stays: the process runs. Readiness does not.
        assert httpx.get(base + "/healthz").status_code == 200
        r = httpx.get(base + "/readyz", headers={"Accept-Language": "ru"})
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "7"
        assert "база данных" in r.json()["detail"]
        every = _requests(stage)
        for lang, word, requests in (("kk", "Дерекқор", every), ("ru", "База данных", every[:1]),
                                     ("en", "database", every[-1:])):
            for method, path, headers in requests:
                r = httpx.request(method, base + path, headers={**headers, "Accept-Language": lang}, timeout=30)
                assert r.status_code == 503, (lang, path, r.status_code, r.text)
                assert r.headers["content-type"] == "application/problem+json", path
                assert r.headers["retry-after"] == "7", path
                assert r.headers["content-language"] == lang
                body = r.json()
                assert body["type"] == "urn:geoservice:problem:db.unavailable", (path, body)
                assert word in body["detail"] and "7" in body["detail"], (path, body)
    finally:
        stage.cluster.up()
    stage.server.wait_ready()
    # Recovered: every kind of request answers again, and not one of them fails on a pooled
    # connection the restart killed.
    for _ in range(10):
        for method, path, headers in _requests(stage):
            r = httpx.request(method, base + path, headers=headers, timeout=30)
            assert r.status_code in (200, 204), (path, r.status_code, r.text)
    log = stage.server.log.read_text()
    assert "unhandled error" not in log and "Exception in ASGI application" not in log


def test_after_a_restart_a_cli_import_is_served_without_waiting_for_the_poll(stage: Stage) -> None:
    """The registry's LISTEN connection dies with the database; it must come back (the poll is
    at ten minutes here, so nothing else would make the upload visible in time)."""
    base = stage.server.base
    stage.cluster.down()
    stage.cluster.up()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # listening again within the reconnect backoff
        ready = httpx.get(base + "/readyz").json()
        if ready.get("listening"):
            break
        time.sleep(0.1)
    assert ready.get("listening") is True, ready
    before = httpx.get(base + ZONES, params={"limit": 1}).json()["numberMatched"]
    path = write_json(stage.tmp / "z7.geojson", zones(7, prefix="R"))
    done = subprocess.run([sys.executable, "-m", "geoservice.cli", "import", "restriction-zones", str(path)],
                          env=project_env(DATABASE_URL=stage.cluster.url), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    imported = time.monotonic()
    # Polled up to 30 s (not 1 s, which a loaded machine may exceed): far less than the poll.
    while time.monotonic() - imported < 30:
        if httpx.get(base + ZONES, params={"limit": 1}).json()["numberMatched"] == 7:
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"the import was not served before the poll (numberMatched was {before})")


def test_what_counts_as_an_outage(stage: Stage) -> None:
    """Errors as the drivers really raise them, not built by hand."""
    with pytest.raises(psycopg.OperationalError) as refused:  # nothing listens there
        psycopg.connect(f"postgresql://geoservice@127.0.0.1:{free_port()}/x", connect_timeout=2)
    assert is_outage(refused.value)
    with psycopg.connect(stage.cluster.url, autocommit=True) as killer, \
            psycopg.connect(stage.cluster.url, autocommit=True) as victim:
        pid = victim.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.Error) as terminated:
            victim.execute("SELECT 1")
        assert is_outage(terminated.value)
        # An error of the request's own making is not an outage.
        with pytest.raises(psycopg.Error) as mistake:
            killer.execute("SELECT 1/0")
        assert not is_outage(mistake.value)

    async def closed() -> BaseException:
        conn = await asyncpg.connect(stage.cluster.url)
        await conn.close()
        try:
            await conn.fetchval("SELECT 1")
        except Exception as exc:  # noqa: BLE001
            return exc
        raise AssertionError("no error")

    assert is_outage(asyncio.run(closed()))
    assert not is_outage(ValueError("x")) and not is_outage(FileNotFoundError("upload.bin"))


def test_a_request_on_a_session_the_server_just_ended_is_503_not_500(database_url: str, tmp_path: Path) -> None:
    """A shutting-down PostgreSQL ends idle sessions with a FATAL message, then closes their
    sockets. asyncpg reads that message outside any query and leaves the connection in a state
    that fails its next query with InternalClientError ("another operation (2) is in
    progress"); until the close is read, the pool may hand that connection to a request. Under
    load (bench/restart_under_load.py) a few requests got 500s that way. The proxy holds the
    closes back, so that every pooled session is in that state when the request comes."""
    from fastapi.testclient import TestClient
    from sqlalchemy.engine import make_url

    from geoservice.app import create_app
    from geoservice.kernel.settings import Settings
    from tests.proxy import HoldingProxy

    real = make_url(database_url)
    with HoldingProxy(real.host or "127.0.0.1", real.port or 5432) as proxy:
        settings = Settings(database_url=real.set(host="127.0.0.1", port=proxy.port).render_as_string(False),
                            var_dir=tmp_path, retry_after_seconds=7)
        tiles = iter(f"/ogc/tiles/WebMercatorQuad/6/{y}/{x}" for y in range(20, 28) for x in range(40, 50))
        # The TestClient raises what leaves the app: a 503 answered by the last-resort handler,
        # which Starlette then re-raises (uvicorn logs a traceback and drops the connection),
        # fails the test too.
        with TestClient(create_app(settings)) as client:
            assert client.get(next(tiles)).status_code in (200, 204)
            proxy.hold_closes = True
            try:
                with psycopg.connect(database_url, autocommit=True) as admin:
                    ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND client_port = ANY(%s)",
                                          (list(proxy.upstream_ports),)).fetchone()
                assert ended is not None and ended[0] >= 1
                proxy.wait_held(ended[0])
                time.sleep(0.3)  # the FATAL messages are read by the app's event loop meanwhile
                r = client.get(next(tiles), headers={"Accept-Language": "en"})
            finally:
                proxy.release()  # else the app's shutdown waits for those sessions to end
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["retry-after"] == "7"
            assert r.json()["type"] == "urn:geoservice:problem:db.unavailable"
            # The ends have arrived: the pool replaces those sessions, and nothing fails once ready.
            deadline = time.monotonic() + 10
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "not ready again"
                time.sleep(0.05)
            statuses = [client.get(next(tiles)).status_code for _ in range(10)]
            assert set(statuses) <= {200, 204}, statuses
