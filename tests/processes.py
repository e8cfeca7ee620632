"""Real processes for operations tests: a private, throwaway PostgreSQL cluster that a test may
stop and start (never the shared one on 55432, which other tests use meanwhile), and the server
as its own OS process (``geoservice serve``) that a test may signal, kill or starve."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from geoservice import cluster
from geoservice.kernel.settings import Settings
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PrivateCluster:
    settings: Settings

    @property
    def url(self) -> str:
        return self.settings.cluster_url

    def down(self) -> None:
        cluster.down(self.settings)

    def up(self) -> None:
        cluster.up(self.settings)


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A PostGIS cluster of the test's own on a free port, migrated; removed at the end. Its
    folder is under /tmp (not pytest's 0700 tmp_path): as root, the cluster runs as the
    ``postgres`` user, who must reach it."""
    from geoservice.migrate import migrate

    var = Path(tempfile.mkdtemp(prefix="gs-test-pg-", dir="/tmp"))
    settings = Settings(var_dir=var, pg_port=free_port())
    try:
        cluster.up(settings)
        migrate(settings.cluster_url)
        yield PrivateCluster(settings)
    finally:
        with contextlib.suppress(Exception):
            cluster.down(settings)
        shutil.rmtree(var, ignore_errors=True)


def project_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(overrides)
    return env


class ServerProcess:
    """``geoservice serve`` in a process of its own, with the given environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "geoservice.cli", "serve", "--port", str(self.port)],
                env=project_env(**env), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_started(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def wait_ready(self, timeout: float = 30.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                last = httpx.get(self.base + "/readyz", timeout=3)
                if last.status_code == 200:
                    return last.json()  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"not ready: {last.text if last is not None else 'no answer'}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGCONT)  # in case a test stopped it
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
