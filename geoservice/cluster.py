"""A project-local PostgreSQL cluster under ``var/`` so that ``make serve`` needs no system
database. When run as root, the cluster runs as the unprivileged ``postgres`` OS user (Debian's
package creates it), because PostgreSQL refuses to run as root."""

from __future__ import annotations

import fcntl
import os
import pwd
import subprocess
import time
from pathlib import Path

from geoservice.kernel.settings import Settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVICE_USER = "postgres"


class ClusterError(RuntimeError):
    pass


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    var = settings.var_dir.resolve()
    return var / "pgdata", var / "run", var / "log" / "postgresql.log"


def _as_service_user() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError as exc:  # pragma: no cover - Debian's postgresql package always creates it
        raise ClusterError(f"running as root needs the OS user {SERVICE_USER!r}") from exc
    return ["runuser", "-u", SERVICE_USER, "--"], user


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    prefix, _ = _as_service_user()
    return subprocess.run(prefix + cmd, check=True, text=True, capture_output=True, **kw)  # type: ignore[call-overload]


def _chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for p in [path, *path.rglob("*")]:
        os.chown(p, user.pw_uid, user.pw_gid)


def is_running(settings: Settings) -> bool:
    pgdata, _, _ = _paths(settings)
    if not (pgdata / "PG_VERSION").exists():
        return False
    prefix, _ = _as_service_user()  # pg_ctl refuses to run as root, even for "status"
    res = subprocess.run(prefix + [str(PG_BIN / "pg_ctl"), "status", "-D", str(pgdata)], capture_output=True,
                         text=True)
    return res.returncode == 0


def up(settings: Settings) -> str:
    """Create (first time) and start the cluster, then make sure the database exists."""
    if settings.database_url:
        return "DATABASE_URL is set: using it, no local cluster started"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # Several processes (xdist workers, make targets) may race to start the same cluster.
    with open(settings.var_dir / ".cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _up_locked(settings)


def _up_locked(settings: Settings) -> str:
    pgdata, rundir, logfile = _paths(settings)
    _, user = _as_service_user()
    for d in (pgdata.parent, rundir, logfile.parent):
        d.mkdir(parents=True, exist_ok=True)
    # The service user must be able to reach var/ through the project's parent folders.
    _chown_tree(settings.var_dir.resolve(), user) if not (pgdata / "PG_VERSION").exists() else None
    if not (pgdata / "PG_VERSION").exists():
        _run([str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "geoservice", "--auth=trust",
              "--encoding=UTF8", "--locale=C.UTF-8"])
        with open(pgdata / "postgresql.auto.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {settings.pg_port}\n"
                f"unix_socket_directories = '{rundir}'\n"
                "shared_buffers = '512MB'\nwork_mem = '32MB'\nmaintenance_work_mem = '256MB'\n"
                "max_wal_size = '2GB'\nsynchronous_commit = off\nfsync = on\n"
                "jit = off\nmax_connections = 200\n"
            )
    if not is_running(settings):
        _run([str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(pgdata), "-l", str(logfile)])
    wait_ready(settings)
    ensure_database(settings, settings.pg_database)
    return f"PostgreSQL running on 127.0.0.1:{settings.pg_port} (data in {pgdata})"


def wait_ready(settings: Settings, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(settings.pg_port)],
                             capture_output=True)
        if res.returncode == 0:
            return
        time.sleep(0.2)
    raise ClusterError("PostgreSQL did not become ready")


def ensure_database(settings: Settings, name: str) -> None:
    import psycopg
    from psycopg import sql

    admin = f"postgresql://geoservice@127.0.0.1:{settings.pg_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def down(settings: Settings) -> str:
    if settings.database_url:
        return "DATABASE_URL is set: no local cluster to stop"
    pgdata, _, _ = _paths(settings)
    if not is_running(settings):
        return "PostgreSQL is not running"
    _run([str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(pgdata)])
    return "PostgreSQL stopped"


def restart(settings: Settings) -> None:
    """``pg_ctl restart -m fast``: sessions are ended at once (their clients see 57P01) and the
    cluster is back, accepting connections, when this returns. Only a cluster of ours."""
    if settings.database_url:
        raise ClusterError("DATABASE_URL is set: no local cluster to restart")
    pgdata, _, logfile = _paths(settings)
    # -l again: without it the new postmaster would write to (and hold open) our captured stdout.
    _run([str(PG_BIN / "pg_ctl"), "restart", "-m", "fast", "-w", "-t", "60", "-D", str(pgdata), "-l", str(logfile)])


def status(settings: Settings) -> str:
    if settings.database_url:
        return "external database (DATABASE_URL)"
    return "running" if is_running(settings) else "stopped"

