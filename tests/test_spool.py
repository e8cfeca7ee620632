"""Upload spools live under the service's var/ and a killed process's spool is swept at the next
start, while the spools of processes still alive (other workers sharing var/) are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

from geoservice.spool import NEW, PREFIX, spool, sweep
from layers.access import create_token
from tests.helpers import many_zones, write_json
from tests.processes import ServerProcess, project_env

HOLDER = """
import sys, time
from pathlib import Path
from geoservice.spool import spool
with spool(Path(sys.argv[1])) as work:
    (work / "upload.bin").write_bytes(b"x" * 1000)
    print(work, flush=True)
    time.sleep(600)
"""


def test_sweep_keeps_live_owners_and_removes_dead_ones(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    other = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], env=project_env(), stdout=subprocess.PIPE,
                             text=True)
    try:
        theirs = Path(other.stdout.readline().strip())  # type: ignore[union-attr]
        with spool(root) as ours:
            assert ours.parent == root and ours.name.startswith(f"{PREFIX}{os.getpid()}-")
            young = root / f"{NEW}abc"
            young.mkdir()
            stale = root / f"{NEW}def"
            stale.mkdir()
            os.utime(stale, (time.time() - 3600, time.time() - 3600))
            assert sweep(root) == [stale]
            assert ours.is_dir() and theirs.is_dir() and young.is_dir()
            other.send_signal(signal.SIGKILL)
            other.wait(timeout=10)
            assert sweep(root) == [theirs]  # its owner died: nothing holds the lock any more
            assert ours.is_dir()
        assert not ours.exists()  # removed by its owner at the end
    finally:
        other.kill()
        other.wait(timeout=10)


def test_a_server_killed_during_an_upload_leaves_nothing_after_its_restart(database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "spool test")
        conn.commit()
    var = tmp_path / "var"
    env = {"DATABASE_URL": database_url, "GEOSERVICE_VAR_DIR": str(var)}
    body = write_json(tmp_path / "big.geojson", many_zones(20000)).read_bytes()
    server = ServerProcess(env, tmp_path / "server.log")
    try:
        server.wait_started()

        def upload() -> None:
            try:
                httpx.post(server.base + "/api/layers/restriction-zones/uploads",
                           headers={"Authorization": f"Bearer {token}"},
                           files={"file": ("big.geojson", body)}, timeout=120)
            except httpx.HTTPError:
                pass  # the server dies under it

        thread = threading.Thread(target=upload)
        thread.start()
        spool_dir = var / "spool"
        deadline = time.monotonic() + 60
        left: list[Path] = []
        while time.monotonic() < deadline and not left:
            left = [p for p in spool_dir.glob(f"{PREFIX}*") if (p / "upload.bin").exists()] \
                if spool_dir.exists() else []
            time.sleep(0.01)
        assert left, "the upload never reached the spool"
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        thread.join(timeout=30)
        assert all(p.is_dir() for p in left)  # what a killed process leaves behind
        assert not list(Path("/tmp").glob(f"gs-upload-{server.proc.pid}-*"))  # nothing in /tmp either
    finally:
        server.stop()
    again = ServerProcess(env, tmp_path / "server2.log")
    try:
        again.wait_started()
        assert not any(p.exists() for p in left)
        assert "removed the upload spool" in again.log.read_text()
    finally:
        again.stop()
