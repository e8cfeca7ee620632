"""A PostgreSQL restart under hostile load: how long requests get 503, what else they get
meanwhile, how soon the service serves again, and whether anything fails after it says it is
ready (it must not).

    .venv/bin/python bench/restart_under_load.py [--runs 3] [--before 10] [--after 15] [--cap 60]

Needs nothing but PostgreSQL 15 + PostGIS installed: the bench makes a PostgreSQL cluster of its
own in a temporary folder on a free port (geoservice.cluster, as the ``postgres`` OS user when
run as root), migrates it and loads the demo data into it (``GEOSERVICE_DEMO=1 geoservice demo
load``: the whole block grid, ~20 s), and removes it all at the end, on failure too. It never
touches any other cluster (DATABASE_URL is ignored), because it restarts the one it uses.

Each run starts ``geoservice serve`` (one worker) afresh on that cluster, then runs the load of
bench/hostile_load.py's ``hostile`` scenario: 32 readers of items, CQL2 and tiles, each from an
address of its own (127.0.0.10-41), and 16 connections from one address (127.0.1.1) sending
``filter=ACCENTI(CASEI(code)) LIKE ACCENTI(CASEI('%zq1%'))`` on ``blocks`` again as soon as
answered. After ``--before`` seconds the cluster is restarted (``pg_ctl restart -m fast``:
every session ended at once). Meanwhile ``/readyz`` is asked every 50 ms (from 127.0.0.8) and a
probe connects to PostgreSQL every 25 ms to see when the restarted cluster accepts connections
("database back"). The load goes on for ``--after`` seconds once ``/readyz`` is 200 again, and
stops, marked as a failure, if it is not within ``--cap`` seconds; what is in flight is awaited
for at most ``--cap`` seconds more. Loopback only.

A reader or an expensive client pauses 50 ms after any answer but 2xx/304, so that the outage is
probed at ~20 Hz per connection without a storm that would only measure the rate limit (a client
honouring ``Retry-After`` would wait 5 s).

Reported per run, then as medians over the runs:

* database away: from the start of the restart to the probe's first connection to the new cluster;
* 503 span: from the first to the last 503 answered to a reader (the expensive client gets 503s
  from its budget at any time, so it does not count here);
* database back -> first 200 to a reader's items request (tiles may come from the cache of
  tiles in memory, so they say nothing about the database), and -> ``/readyz`` 200 (its first 200
  after its last refusal, else to a poll sent once the database was back);
* statuses during the outage (restart start -> ``/readyz`` 200 again) other than 503, 200 (and
  204, an empty tile), 304 and 429, from anyone, and 503s without ``Retry-After``: defects, listed
  with their problem type;
* errors after recovery: answers to readers' requests sent after ``/readyz`` was 200 again that
  are neither 2xx, 304 nor 429: must be 0 (listed when not); what the expensive client got after
  recovery besides 200, 429 and the budget's 503 (``ogc.busy``, ``http.timeout``) is listed too;
* answers by status for every second around the restart, the server's RSS before (after a
  warm-up) and after the load, and tracebacks in the server's log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from hostile_load import EXPENSIVE, HOSTILE, OK, READERS, Client, reader_targets, rss_kb  # noqa: E402
from tipg_vs_geoservice import Server  # noqa: E402

from geoservice import cluster  # noqa: E402
from geoservice.kernel.settings import Settings  # noqa: E402

SHARED_PORT = 55432            # the engineers' shared cluster: never ours to restart
PAUSE = 0.05                   # after a refusal, before the next request on that connection
OUTAGE_OK = {503, 200, 204, 304, 429}  # 204: a tile with no features, as 200
HOSTILE_OK = {200, 429}
BUDGET = {"ogc.busy", "http.timeout"}  # the expensive client's 503s by design, outage or not


@dataclass
class Answer:
    sent: float
    done: float
    who: str            # reader | hostile | readyz
    kind: str           # items | tile | expensive | readyz
    status: int         # 0: the connection failed
    problem: str = ""   # the problem type's last part (refusals only)
    retry_after: bool = False


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    restart_at: float = math.nan
    restart_returned: float = math.nan
    db_back: float = math.nan
    unanswered: list[str] = field(default_factory=list)
    rss_before: int = 0
    rss_after: int = 0
    log_errors: list[str] = field(default_factory=list)

    def of(self, who: str) -> list[Answer]:
        return [a for a in self.answers if a.who == who]

    @property
    def ready_again(self) -> float:
        """When ``/readyz`` answered 200 after its last refusal following the restart (or, if it
        never refused, its first 200 asked once the database was back); NaN if it never did."""
        polls = [a for a in self.of("readyz") if a.sent >= self.restart_at]
        refused = [a.done for a in polls if a.status != 200]
        if refused:
            after = [a.done for a in polls if a.status == 200 and a.done > max(refused)]
        else:
            after = [a.done for a in polls if a.status == 200 and a.sent >= self.db_back]
        return min(after) if after else math.nan

    @property
    def span_503(self) -> float:
        done = [a.done for a in self.of("reader") if a.status == 503]
        return max(done) - min(done) if done else 0.0

    @property
    def first_200(self) -> float:
        done = [a.done for a in self.of("reader") if a.kind == "items" and a.status == 200 and a.done >= self.db_back]
        return min(done) - self.db_back if done else math.nan

    def during_outage(self) -> list[Answer]:
        end = self.ready_again if not math.isnan(self.ready_again) else math.inf
        return [a for a in self.answers if a.who != "readyz" and self.restart_at <= a.done <= end]

    def outage_defects(self) -> Counter[str]:
        bad: Counter[str] = Counter()
        for a in self.during_outage():
            if a.status not in OUTAGE_OK:
                bad[f"{a.who} {a.kind} {a.status} {a.problem or '-'}"] += 1
            elif a.status == 503 and not a.retry_after:
                bad[f"{a.who} {a.kind} 503 {a.problem or '-'} without Retry-After"] += 1
        return bad

    def errors_after_recovery(self) -> Counter[str]:
        ready, bad = self.ready_again, Counter[str]()  # never ready again: the run failed anyway
        for a in self.of("reader"):
            if a.sent >= ready and a.status not in OK and a.status != 429:
                bad[f"{a.kind} {a.status} {a.problem or '-'}"] += 1
        return bad

    def hostile_after_recovery(self) -> Counter[str]:
        ready, bad = self.ready_again, Counter[str]()
        for a in self.of("hostile"):
            if a.sent >= ready and a.status not in HOSTILE_OK and not (a.status == 503 and a.problem in BUDGET):
                bad[f"{a.status} {a.problem or '-'}"] += 1
        return bad

    def timeline(self, before: int = 2, after: int = 2) -> list[str]:
        """Answers by second around the restart (second 0 starts with it)."""
        end = self.ready_again if not math.isnan(self.ready_again) else max(a.done for a in self.answers)
        lines = []
        for second in range(-before, math.ceil(end - self.restart_at) + after):
            lo, hi = self.restart_at + second, self.restart_at + second + 1
            cells = []
            for who in ("reader", "hostile", "readyz"):
                counts = Counter(a.status for a in self.of(who) if lo <= a.done < hi)
                cells.append(f"{who} " + (" ".join(f"{s}:{n}" for s, n in sorted(counts.items())) or "-"))
            marks = [name for name, t in (("restart", self.restart_at), ("pg_ctl returned", self.restart_returned),
                                          ("database back", self.db_back), ("ready", self.ready_again))
                     if lo <= t < hi]
            lines.append(f"    {second:+3d} s  {' | '.join(cells)}" + (f"   <- {', '.join(marks)}" if marks else ""))
        return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def problem_type(body: bytes) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(body)["type"]).rsplit(":", 1)[-1]
    return "?"


@contextlib.contextmanager
def private_cluster() -> Iterator[Settings]:
    """A PostgreSQL cluster of the bench's own, migrated, with the demo data; removed afterwards."""
    from geoservice.migrate import migrate

    var = Path(tempfile.mkdtemp(prefix="gs-bench-restart-", dir="/tmp"))  # /tmp: the postgres user reaches it
    settings = Settings(var_dir=var, pg_port=free_port())
    assert settings.pg_port != SHARED_PORT and not settings.database_url
    try:
        started = time.monotonic()
        cluster.up(settings)
        migrate(settings.cluster_url)
        env = {**server_env(settings), "GEOSERVICE_DEMO": "1"}
        loaded = subprocess.run([geoservice_cli(), "demo", "load"], env=env, capture_output=True, text=True)
        if loaded.returncode != 0:
            raise SystemExit(f"demo load failed:\n{loaded.stdout[-2000:]}\n{loaded.stderr[-2000:]}")
        # As a database in service would be: else the first run's reads set hint bits on the
        # fresh grid and its restart's shutdown checkpoint writes them (seconds more away).
        with psycopg.connect(settings.cluster_url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            conn.execute("CHECKPOINT")
        print(f"private cluster on 127.0.0.1:{settings.pg_port} in {var}, demo data loaded in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        yield settings
    finally:
        with contextlib.suppress(Exception):
            cluster.down(settings)
        shutil.rmtree(var, ignore_errors=True)


def geoservice_cli() -> str:
    return str(Path(sys.executable).with_name("geoservice"))


def server_env(settings: Settings) -> dict[str, str]:
    # The caller's GEOSERVICE_* settings are left out: the figures are the defaults'.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    return {**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": settings.cluster_url,
            "GEOSERVICE_VAR_DIR": str(settings.var_dir / "service")}


async def postmaster_started(url: str) -> object:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=1)
    try:
        return await conn.fetchval("SELECT pg_postmaster_start_time()")
    finally:
        await conn.close()


async def one_run(settings: Settings, base: str, pid: int, args: argparse.Namespace, seed: int) -> Run:
    run = Run()
    warm = Client(base, "127.0.0.9")
    for target in ("/ogc/collections/blocks/items?limit=100", "/ogc/collections/restriction-zones/items",
                   "/ogc/tiles/WebMercatorQuad/5/11/22"):
        await warm.get(target)
    await warm.close()
    run.rss_before = rss_kb(pid)
    url = f"postgresql://geoservice@127.0.0.1:{settings.pg_port}/postgres"
    old_postmaster = await postmaster_started(url)
    end = math.inf          # set once /readyz is 200 again
    inflight: dict[int, tuple[str, float]] = {}

    async def ask(client: Client, who: str, kind: str, target: str, key: int) -> Answer:
        sent = time.monotonic()
        inflight[key] = (f"{who} {target}", sent)
        try:
            status = await client.get(target)
        except Exception:  # noqa: BLE001 - refused, reset, closed, unparsable: no HTTP answer at all
            status = 0
        del inflight[key]
        answer = Answer(sent, time.monotonic(), who, kind, status)
        if status >= 400:
            answer.problem, answer.retry_after = problem_type(client.problem), client.retry_after is not None
        run.answers.append(answer)
        return answer

    async def reader(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        client = Client(base, f"127.0.0.{10 + i}")
        try:
            while time.monotonic() < end:
                target = reader_targets(rnd)
                kind = "tile" if target.startswith("/ogc/tiles/") else "items"
                if (await ask(client, "reader", kind, target, i)).status not in OK:
                    await asyncio.sleep(PAUSE)
        finally:
            await client.close()

    async def attacker(i: int) -> None:
        client = Client(base, "127.0.1.1")
        target = "/ogc/collections/blocks/items?filter=" + quote(EXPENSIVE)
        try:
            while time.monotonic() < end:
                if (await ask(client, "hostile", "expensive", target, 100 + i)).status != 200:
                    await asyncio.sleep(PAUSE)
        finally:
            await client.close()

    async def readiness() -> None:
        client = Client(base, "127.0.0.8")
        try:
            while time.monotonic() < end:
                await ask(client, "readyz", "readyz", "/readyz", 200)
                await asyncio.sleep(0.05)
        finally:
            await client.close()

    async def probe() -> None:
        """The database is back when a connection reaches a postmaster started after ours."""
        while True:
            with contextlib.suppress(Exception):  # refused, shutting down, starting up: not yet
                if await postmaster_started(url) != old_postmaster:
                    run.db_back = time.monotonic()
                    return
            await asyncio.sleep(0.025)

    tasks = [asyncio.create_task(reader(i)) for i in range(READERS)]
    tasks += [asyncio.create_task(attacker(i)) for i in range(HOSTILE)]
    tasks.append(asyncio.create_task(readiness()))
    try:
        await asyncio.sleep(args.before)
        run.restart_at = time.monotonic()
        prober = asyncio.create_task(probe())
        await asyncio.to_thread(cluster.restart, settings)
        run.restart_returned = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(prober, timeout=args.cap)
        deadline = run.restart_at + args.cap
        while math.isnan(run.ready_again) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        end = (run.ready_again + args.after) if not math.isnan(run.ready_again) else time.monotonic()
        # What was sent is awaited (up to ``cap``): a request that never ends is a finding too.
        await asyncio.wait(tasks, timeout=max(0.0, end - time.monotonic()) + args.cap)
    finally:
        end = -math.inf
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    run.unanswered = [f"{what} (sent {sent - run.restart_at:+.1f} s)" for what, sent in inflight.values()]
    run.rss_after = rss_kb(pid)
    return run


def log_errors(path: Path, offset: int) -> list[str]:
    with open(path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return [line for line in text.splitlines()
            if "Traceback" in line or "Exception in ASGI application" in line or "unhandled error" in line]


def report_run(n: int, r: Run) -> None:
    ready = r.ready_again - r.db_back
    print(f"\nrun {n}: database away {r.db_back - r.restart_at:.2f} s (pg_ctl restart took "
          f"{r.restart_returned - r.restart_at:.2f} s), reader 503s over {r.span_503:.2f} s, "
          f"database back -> first items 200 {r.first_200:.2f} s, -> /readyz 200 {ready:.2f} s")
    counts = Counter(a.who for a in r.answers)
    print(f"  answers: {counts['reader']} reader, {counts['hostile']} expensive, {counts['readyz']} /readyz; "
          f"RSS {r.rss_before / 1024:.0f} -> {r.rss_after / 1024:.0f} MB")
    outage = Counter(f"{a.who} {a.status}" for a in r.during_outage())
    print(f"  during the outage: {dict(sorted(outage.items()))}")
    for label, found in (("DEFECTS during the outage", r.outage_defects()),
                         ("ERRORS AFTER RECOVERY (readers)", r.errors_after_recovery()),
                         ("expensive client after recovery, besides 200/429/budget 503",
                          r.hostile_after_recovery())):
        if found:
            print(f"  {label}: {dict(found)}")
    if r.unanswered:
        print(f"  UNANSWERED after the cap: {r.unanswered[:10]}")
    if r.log_errors:
        print(f"  server log: {len(r.log_errors)} error lines, e.g. {r.log_errors[:3]}")
    print("  answers by status, per second from the restart's start:")
    print("\n".join(r.timeline()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=float, default=10.0, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load once /readyz is 200 again")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds to wait for recovery, then for in-flight")
    args = parser.parse_args()
    # SIGTERM as an exception, so that the server and the cluster are torn down then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"{READERS} readers, {HOSTILE} expensive filters, restart after {args.before:g} s, "
          f"{args.after:g} s after recovery, {args.runs} runs", flush=True)
    runs: list[Run] = []
    with private_cluster() as settings:
        for n in range(1, args.runs + 1):
            port = free_port()
            server = Server("restart-under-load", [geoservice_cli(), "serve", "--port", str(port)],
                            server_env(settings), port, "/readyz")
            offset = server.log_path.stat().st_size if server.log_path.exists() else 0
            server.start()
            try:
                assert server.proc is not None
                r = asyncio.run(one_run(settings, server.base, server.proc.pid, args, n))
            finally:
                server.stop()
            r.log_errors = log_errors(server.log_path, offset)
            runs.append(r)
            report_run(n, r)

    def median(f: object) -> float:
        return statistics.median(f(r) for r in runs)  # type: ignore[operator]

    errors = [sum(r.errors_after_recovery().values()) for r in runs]
    defects = sum((r.outage_defects() for r in runs), Counter[str]())
    rows = [
        ("database away (restart start -> new cluster accepts)", f"{median(lambda r: r.db_back - r.restart_at):.2f} s"),
        ("seconds of 503 to readers (first -> last)", f"{median(lambda r: r.span_503):.2f} s"),
        ("database back -> first 200 (reader, items)", f"{median(lambda r: r.first_200):.2f} s"),
        ("database back -> /readyz 200", f"{median(lambda r: r.ready_again - r.db_back):.2f} s"),
        ("RSS before -> after", f"{median(lambda r: r.rss_before) / 1024:.0f} -> "
                                f"{median(lambda r: r.rss_after) / 1024:.0f} MB"),
        ("other statuses during the outage (all runs)", str(dict(defects) or "none")),
        ("errors after recovery per run (must be 0)", str(errors)),
        ("unanswered after the cap per run", str([len(r.unanswered) for r in runs])),
        ("server log error lines per run", str([len(r.log_errors) for r in runs])),
    ]
    print(f"\nmedians over {len(runs)} runs")
    for label, value in rows:
        print(f"  {label + ':':55} {value}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if any(errors) or defects or any(r.unanswered for r in runs) or any(math.isnan(r.ready_again) for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
