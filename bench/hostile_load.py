"""Ordinary readers under hostile load: 32 readers of items, CQL2 and tiles, alone and with 16
clients sending an expensive filter over and over, on our server with its limits and on the same
server with the limits off (as it was before issue 7), side by side in one run.

    .venv/bin/python bench/hostile_load.py [--runs 3] [--duration 10] [--port 18400]

Needs the demo data in the database of DATABASE_URL (``GEOSERVICE_DEMO=1 geoservice demo load``:
the whole block grid, 1.26 million blocks). Loopback only; bounded in count and time (each
scenario ``--duration`` seconds, then at most ``--cap`` seconds for what is in flight).

Scenarios, one server process (``geoservice serve``, one worker) started afresh for each, in
alternating order within every run:

* ``quiet``: the 32 readers alone, limits on (the defaults);
* ``hostile``: the 32 readers plus 16 connections each sending
  ``filter=ACCENTI(CASEI(code)) LIKE ACCENTI(CASEI('%zq1%'))`` on ``blocks`` as soon as the last
  one is answered (50 ms later when refused), limits on;
* ``unlimited``: the same hostile load on a server without the limits: no budget for expensive
  queries (GEOSERVICE_EXPENSIVE_CONCURRENCY=64), no rate limit, the old 60 s statement timeout.

Every reader connects from an address of its own (127.0.0.10-41), as readers on the internet do,
so that the per-address rate limit sees 32 readers; the 16 hostile connections share one address
(127.0.1.1), as one client sending 16 requests at once. Readers loop over: a page of blocks at a
random place (bbox), the first page of blocks, a page of restriction zones, a CQL2 filter that an
index narrows (``sheet = ...``) and one with a small S_INTERSECTS, and map tiles (zoom 5-12, random
places in Kazakhstan).

For each scenario and run: ordinary requests answered, their error rate (anything but 200, 204
and 304), p50 and p99 latency, what the expensive requests got (200, 503, 429, ...), and the
server's RSS before (after a warm-up) and after the load. Printed: the median over the runs of
each, the load average at the start and the end, and the ratios hostile/quiet and unlimited/hostile
of the readers' p99."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tipg_vs_geoservice import Server  # noqa: E402 - after the path set-up

EXPENSIVE = "ACCENTI(CASEI(code)) LIKE ACCENTI(CASEI('%zq1%'))"
READERS, HOSTILE = 32, 16
OK = {200, 204, 304}
KAZAKHSTAN = (47.0, 41.0, 86.0, 55.0)   # west, south, east, north: where readers look


class Client:
    """One keep-alive HTTP/1.1 connection from a given local address, GET only, parsed by
    httptools (a load generator that costs the server's machine little)."""

    def __init__(self, base: str, local: str) -> None:
        u = urlsplit(base)
        self.host, self.port, self.local = u.hostname or "127.0.0.1", u.port or 80, local
        self.head = (f"Host: {self.host}:{self.port}\r\nAccept: application/geo+json, application/json;q=0.9\r\n"
                     "Accept-Encoding: identity\r\n\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        # Of the last answer, when it was a refusal (status >= 400): its body (problem+json) and
        # Retry-After; kept for that case only, so that 200s cost the load generator nothing more.
        self.problem = b""
        self.retry_after: str | None = None

    async def get(self, target: str) -> int:
        import httptools

        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20,
                                                                     local_addr=(self.local, 0))
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\n".encode() + self.head)
        done = asyncio.Event()
        body: list[bytes] = []
        self.problem, self.retry_after = b"", None
        client = self

        class Answer:
            def on_header(self, name: bytes, value: bytes) -> None:
                if name.lower() == b"retry-after":
                    client.retry_after = value.decode("latin-1")

            def on_body(self, chunk: bytes) -> None:
                if parser.get_status_code() >= 400:
                    body.append(chunk)

            def on_message_complete(self) -> None:
                done.set()

        parser = httptools.HttpResponseParser(Answer())
        while not done.is_set():
            data = await self.reader.read(1 << 18)
            if not data:
                await self.close()
                raise ConnectionError("closed by the server")
            parser.feed_data(data)
        self.problem = b"".join(body)
        if not parser.should_keep_alive():
            await self.close()
        return int(parser.get_status_code())

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def reader_targets(rnd: random.Random) -> str:
    """The next request of an ordinary reader."""
    kind = rnd.randrange(6)
    west = rnd.uniform(KAZAKHSTAN[0], KAZAKHSTAN[2] - 0.5)
    south = rnd.uniform(KAZAKHSTAN[1], KAZAKHSTAN[3] - 0.5)
    if kind == 0:
        return f"/ogc/collections/blocks/items?limit=100&bbox={west:.3f},{south:.3f},{west + 0.3:.3f},{south + 0.3:.3f}"
    if kind == 1:
        return "/ogc/collections/blocks/items?limit=100"
    if kind == 2:
        return "/ogc/collections/restriction-zones/items"
    if kind == 3:
        sheet = f"{'KLMN'[rnd.randrange(4)]}-{rnd.randrange(39, 46)}"
        return "/ogc/collections/blocks/items?limit=100&filter=" + quote(f"sheet = '{sheet}'")
    if kind == 4:
        box = f"BBOX({west:.3f},{south:.3f},{west + 0.2:.3f},{south + 0.2:.3f})"
        return "/ogc/collections/blocks/items?limit=100&filter=" + quote(f"S_INTERSECTS(geometry, {box})")
    import math

    z = rnd.randrange(5, 13)
    lon, lat = rnd.uniform(KAZAKHSTAN[0], KAZAKHSTAN[2]), rnd.uniform(KAZAKHSTAN[1], KAZAKHSTAN[3])
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}"


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    expensive: Counter[int] = field(default_factory=Counter)
    rss_before: int = 0
    rss_after: int = 0

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def scenario(base: str, pid: int, hostile: bool, duration: float, cap: float, seed: int) -> Result:
    result = Result()
    warm = Client(base, "127.0.0.9")
    for target in ("/ogc/collections/blocks/items?limit=100", "/ogc/collections/restriction-zones/items",
                   "/ogc/tiles/WebMercatorQuad/5/11/22"):
        await warm.get(target)
    await warm.close()
    result.rss_before = rss_kb(pid)
    end = time.monotonic() + duration

    async def reader(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        client = Client(base, f"127.0.0.{10 + i}")
        try:
            while time.monotonic() < end:
                target = reader_targets(rnd)
                started = time.monotonic()
                try:
                    status = await client.get(target)
                except ConnectionError:
                    result.errors += 1
                    continue
                if status in OK:
                    result.latencies.append(time.monotonic() - started)
                else:
                    result.errors += 1
        finally:
            await client.close()

    async def attacker(i: int) -> None:
        client = Client(base, "127.0.1.1")
        target = "/ogc/collections/blocks/items?filter=" + quote(EXPENSIVE)
        try:
            while time.monotonic() < end:
                try:
                    status = await client.get(target)
                except ConnectionError:
                    status = 0
                result.expensive[status] += 1
                if status != 200:
                    await asyncio.sleep(0.05)
        finally:
            await client.close()

    tasks = [asyncio.create_task(reader(i)) for i in range(READERS)]
    if hostile:
        tasks += [asyncio.create_task(attacker(i)) for i in range(HOSTILE)]
    # What was sent is awaited (up to ``cap``): the server must not carry work into the next scenario.
    _, pending = await asyncio.wait(tasks, timeout=duration + cap)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result.rss_after = rss_kb(pid)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds to wait for what is in flight")
    parser.add_argument("--port", type=int, default=18400)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a database with the demo data (geoservice demo load)")
    geoservice = str(Path(sys.executable).with_name("geoservice"))
    limited = {**os.environ, "PYTHONPATH": str(ROOT)}
    unlimited = {**limited, "GEOSERVICE_EXPENSIVE_CONCURRENCY": "64", "GEOSERVICE_EXPENSIVE_WAIT": "60",
                 "GEOSERVICE_RATE_LIMIT": "0", "GEOSERVICE_STATEMENT_TIMEOUT": "60"}
    scenarios = {"quiet": (limited, False), "hostile": (limited, True), "unlimited": (unlimited, True)}
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"{READERS} readers, {HOSTILE} expensive filters, {args.duration:g} s per scenario, {args.runs} runs")
    results: dict[str, list[Result]] = {name: [] for name in scenarios}
    for run in range(args.runs):
        order = list(scenarios) if run % 2 == 0 else list(reversed(scenarios))
        for name in order:
            env, hostile = scenarios[name]
            server = Server(f"hostile-{name}", [geoservice, "serve", "--port", str(args.port)], env, args.port,
                            "/healthz")
            server.start()
            try:
                assert server.proc is not None
                r = asyncio.run(scenario(server.base, server.proc.pid, hostile, args.duration, args.cap, run))
            finally:
                server.stop()
            results[name].append(r)
            print(f"  run {run + 1} {name:9}: {r.count:6} ordinary, errors {r.errors / max(1, r.count):.2%}, "
                  f"p50 {r.percentile(0.5) * 1000:7.1f} ms, p99 {r.percentile(0.99) * 1000:8.1f} ms, "
                  f"expensive {dict(sorted(r.expensive.items()))}, RSS {r.rss_before / 1024:.0f} -> "
                  f"{r.rss_after / 1024:.0f} MB", flush=True)

    def median(name: str, f: object) -> float:
        return statistics.median(f(r) for r in results[name])  # type: ignore[operator]

    print(f"\nmedians over {args.runs} runs")
    print(f"{'scenario':10} {'ordinary':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>9} {'expensive 200/503/429':>22} "
          f"{'RSS before':>11} {'RSS after':>10}")
    for name in scenarios:
        exp = "/".join(f"{median(name, lambda r, s=s: r.expensive.get(s, 0)):.0f}" for s in (200, 503, 429))
        print(f"{name:10} {median(name, lambda r: r.count):9.0f} "
              f"{median(name, lambda r: r.errors / max(1, r.count)):7.2%} "
              f"{median(name, lambda r: r.percentile(0.5)) * 1000:8.1f} "
              f"{median(name, lambda r: r.percentile(0.99)) * 1000:9.1f} {exp:>22} "
              f"{median(name, lambda r: r.rss_before) / 1024:8.0f} MB "
              f"{median(name, lambda r: r.rss_after) / 1024:7.0f} MB")
    quiet, hostile, unlim = (median(n, lambda r: r.percentile(0.99)) for n in ("quiet", "hostile", "unlimited"))
    print(f"\nreaders' p99: hostile/quiet {hostile / quiet:.2f} (goal: p99 under hostile load < 1 s: "
          f"{hostile * 1000:.0f} ms), unlimited/hostile {unlim / hostile:.1f}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
