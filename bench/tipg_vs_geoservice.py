"""Serving the block grid: geoservice versus TiPG (and pygeoapi for the items rows) on the same
database and table, side by side in one run.

    .venv/bin/python bench/tipg_vs_geoservice.py [--workers 1] [--runs 3] [--duration 2]
                                                 [--no-pygeoapi] [--no-tiles] [--no-items] [--port 18100]

Each server runs on its own loopback port with the same number of worker processes, all on the
database of DATABASE_URL (else the local cluster) and its table ``public.blocks`` (1.26 million
1'x1' blocks): ours as ``geoservice serve``, TiPG and pygeoapi (PostgreSQL provider) from venvs of
their own under var/ that this script creates from bench/requirements-tipg.txt and
bench/requirements-pygeoapi.txt when missing (their pins would clash with ours). All three run
under uvicorn[standard] (uvloop, httptools).

Measured, for each server, at concurrency 1 and 32, each cell ``--runs`` times (median printed):

* ``items-first``  page 1 of the grid, 1,000 features;
* ``items-deep``   the page after 200,000 features: ours by the cursor of its ``next`` link
                   (found by walking the pages), TiPG and pygeoapi by ``offset=200000``;
* ``cql2-attr``    ``filter=sheet='L-42'`` (cql2-text; ECQL for pygeoapi, which has no cql2-text), 1,000;
* ``cql2-spatial`` ``S_INTERSECTS`` with a 0.5° x 0.5° polygon (1,024 blocks), 1,000;
* ``tiles-warm``   50 fixed WebMercatorQuad tiles z5–z14 over central Kazakhstan, the blocks
                   collection's tileset, after each has been served a few times;
* ``tiles-cold``   the same tiles requested once each, one at a time, right after a restart of our
                   server (its tile cache is in memory; a few requests outside the list warm the
                   process first); TiPG has no tile cache (its cold = warm);

and ``PostgreSQL`` alone: our tile SQL (tiles.sql.tile_sql, the statement the server runs) run
directly with asyncpg, the list in the same order, 2 passes per run between the cold passes,
median per tile — the floor for a cold tile.

Before timing, every URL is checked on every server: status 200, 1,000 features per page and the
same 1,000 blocks on all servers (by block code), tiles that decode as MVT with features. During
timing any non-200 answer or a body of another size than at the check counts as an error (column
``err``). The load generator holds ``concurrency`` keep-alive connections (a small HTTP/1.1
client on httptools: httpx at concurrency 32 was itself the bottleneck), each sending its next
request when the last one is answered, for ``--duration`` seconds; every connection gets at
least one answer and what was sent is always awaited, so a slow server's queue never spills into
the next measurement. Responses are asked uncompressed (``Accept-Encoding: identity``): TiPG
gzips everything when asked, we gzip tiles when asked.

Goals: ours >= 1.5x TiPG's throughput on every row, warm tiles >= 10x, cold tiles within 1.3x of
the PostgreSQL time of the same tiles."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VAR = ROOT / "var"
PAGE = 1000
DEEP = 200_000
ATTR_FILTER = "sheet='L-42'"
POLYGON = "POLYGON((70 48,70.5 48,70.5 48.5,70 48.5,70 48))"
ITEM_SCENARIOS = ("items-first", "items-deep", "cql2-attr", "cql2-spatial")
CONCURRENCIES = (1, 32)
HEADERS = {"Accept": "application/geo+json, application/json;q=0.9, */*;q=0.1", "Accept-Encoding": "identity"}


def fixed_tiles() -> list[tuple[int, int, int]]:
    """50 WebMercatorQuad tiles, z5–z14: per zoom the tile holding 71.0°E 48.5°N (central
    Kazakhstan, south-west of Karaganda) and its four neighbours. Fixed: the same every run."""
    out = []
    for z in range(5, 15):
        n = 1 << z
        x = int((71.0 + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(48.5))) / math.pi) / 2 * n)
        out += [(z, x + dx, y + dy) for dx, dy in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))]
    return out


# --- venvs and servers --------------------------------------------------------------------------

def ensure_venv(path: Path, requirements: Path) -> Path:
    """A venv at ``path`` with ``requirements`` installed (re-installed when the file changes)."""
    stamp = path / f".bench-{hashlib.sha1(requirements.read_bytes()).hexdigest()[:12]}"
    if not stamp.exists():
        print(f"setting up {path.relative_to(ROOT)} from {requirements.relative_to(ROOT)} ...", flush=True)
        if not (path / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        pip = subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q",
                              "--disable-pip-version-check", "-r", str(requirements)], capture_output=True, text=True)
        if pip.returncode != 0:
            raise SystemExit(f"pip install -r {requirements} failed:\n{pip.stdout}{pip.stderr}")
        for old in path.glob(".bench-*"):
            old.unlink()
        stamp.touch()
    return path / "bin"


class Server:
    """A server process group of ours: started with its own session, stopped by its group id."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, health: str,
                 cwd: Path | None = None) -> None:
        self.name, self.cmd, self.env, self.port, self.cwd = name, cmd, env, port, cwd
        self.base = f"http://127.0.0.1:{port}"
        self.health = self.base + health
        self.log_path = VAR / "bench-logs" / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        log.write(f"\n=== start {time.strftime('%H:%M:%S')}: {' '.join(self.cmd)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=self.cwd)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"exited with {self.proc.returncode} while starting")
            try:
                if httpx.get(self.health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.fail(f"not ready after {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def fail(self, why: str) -> None:
        tail = self.log_path.read_text(errors="replace").splitlines()[-25:] if self.log_path.exists() else []
        self.stop()
        raise SystemExit(f"{self.name} {why}; last lines of {self.log_path}:\n" + "\n".join(tail))


def pygeoapi_config(directory: Path, port: int, url: str) -> Path:
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql+psycopg://", "postgresql://", 1))
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "languages": ["en-US"],
                   "cors": False, "pretty_print": False, "limits": {"default_items": 10, "max_items": 10000},
                   "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": "none"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none", "url": "http://127.0.0.1"},
            "license": {"name": "none", "url": "http://127.0.0.1"},
            "provider": {"name": "bench", "url": "http://127.0.0.1"},
            "contact": {k: "x" for k in ("name", "position", "address", "city", "stateorprovince", "postalcode",
                                         "country", "phone", "fax", "email", "hours", "instructions")}
            | {"url": "http://127.0.0.1", "role": "pointOfContact"}},
        "resources": {"blocks": {
            "type": "collection", "title": "blocks", "description": "blocks", "keywords": ["blocks"],
            "extents": {"spatial": {"bbox": [46.3, 40.5, 87.6, 55.6],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "PostgreSQL",
                           "data": {"host": u.host or "127.0.0.1", "port": u.port or 5432, "dbname": u.database,
                                    "user": u.username, "password": u.password or "",
                                    "search_path": ["public"]},
                           "id_field": "id", "table": "blocks", "geom_field": "geom"}]}},
    }
    path = directory / "pygeoapi.yml"
    path.write_text(json.dumps(config, ensure_ascii=False, indent=1))  # JSON is YAML
    return path


# --- checks -------------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    server: Server
    urls: dict[str, list[str]] = field(default_factory=dict)   # scenario -> URLs (cycled)
    sizes: dict[str, int] = field(default_factory=dict)         # URL -> body size at the check


def get(client: httpx.Client, url: str) -> httpx.Response:
    r = client.get(url, headers=HEADERS, timeout=120)
    if r.status_code != 200:
        raise SystemExit(f"check failed: {url} answered {r.status_code}: {r.text[:500]}")
    return r


def page_codes(t: Target, r: httpx.Response) -> list[str]:
    doc = r.json()
    features = doc.get("features") or []
    if len(features) != PAGE or doc.get("numberReturned", PAGE) != PAGE:
        raise SystemExit(f"check failed: {r.url} gave {len(features)} features "
                         f"(numberReturned {doc.get('numberReturned')}), not {PAGE}")
    # Ours: id is the block code; TiPG and pygeoapi: id is the bigint key, code a property.
    return [str(f["id"]) if t.name == "geoservice" else f["properties"]["code"] for f in features]


def check_items(client: httpx.Client, t: Target, urls: dict[str, str]) -> dict[str, list[str]]:
    codes = {}
    for scenario, url in urls.items():
        r = get(client, url)
        codes[scenario] = page_codes(t, r)
        t.urls[scenario] = [url]
        t.sizes[url] = len(r.content)
    return codes


def our_item_urls(client: httpx.Client, base: str) -> dict[str, str]:
    items = f"{base}/ogc/collections/blocks/items"
    first = f"{items}?{urlencode({'limit': PAGE, 'f': 'json'})}"
    # Walk to the page after DEEP features by next links (10,000 a page: 20 requests instead of
    # 200), then ask that cursor for 1,000: the same position as 200 pages of 1,000.
    url = f"{items}?{urlencode({'limit': 10_000, 'f': 'json'})}"
    walked = 0
    for _ in range(DEEP // 10_000):
        doc = get(client, url).json()
        walked += len(doc["features"])
        url = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    assert walked == DEEP, walked
    deep = url.replace("limit=10000", f"limit={PAGE}")
    attr = f"{items}?{urlencode({'limit': PAGE, 'filter-lang': 'cql2-text', 'filter': ATTR_FILTER, 'f': 'json'})}"
    spatial = f"{items}?" + urlencode({"limit": PAGE, "filter-lang": "cql2-text",
                                       "filter": f"S_INTERSECTS(geometry,{POLYGON})", "f": "json"})
    return {"items-first": first, "items-deep": deep, "cql2-attr": attr, "cql2-spatial": spatial}


def tipg_item_urls(base: str) -> dict[str, str]:
    items = f"{base}/collections/public.blocks/items"
    q = {"limit": PAGE, "f": "geojson"}
    return {"items-first": f"{items}?{urlencode(q)}",
            "items-deep": f"{items}?{urlencode(q | {'offset': DEEP})}",
            "cql2-attr": f"{items}?{urlencode(q | {'filter-lang': 'cql2-text', 'filter': ATTR_FILTER})}",
            "cql2-spatial": f"{items}?" + urlencode(q | {"filter-lang": "cql2-text",
                                                         "filter": f"S_INTERSECTS(geom,{POLYGON})"})}


def pygeoapi_item_urls(base: str) -> dict[str, str]:
    # pygeoapi 0.21 parses filter= as ECQL (filter-lang cql-text or none); cql2-text is refused.
    items = f"{base}/collections/blocks/items"
    q = {"limit": PAGE, "f": "json"}
    return {"items-first": f"{items}?{urlencode(q)}",
            "items-deep": f"{items}?{urlencode(q | {'offset': DEEP})}",
            "cql2-attr": f"{items}?{urlencode(q | {'filter': ATTR_FILTER})}",
            "cql2-spatial": f"{items}?" + urlencode(q | {"filter": f"INTERSECTS(geom,{POLYGON})"})}


def mvt_features(data: bytes) -> int:
    import mapbox_vector_tile

    decoded = mapbox_vector_tile.decode(data)
    return sum(len(layer["features"]) for layer in decoded.values())


def check_tiles(client: httpx.Client, t: Target, urls: list[str]) -> list[tuple[int, int]]:
    """(bytes, features) per tile; each must be a 200 MVT with features."""
    out = []
    for url in urls:
        r = get(client, url)
        n = mvt_features(r.content)
        if n == 0:
            raise SystemExit(f"check failed: {url} is an empty tile")
        t.sizes[url] = len(r.content)
        out.append((len(r.content), n))
    t.urls["tiles-warm"] = urls
    return out


# --- load ---------------------------------------------------------------------------------------

@dataclass
class Cell:
    rps: float
    p50: float        # ms
    p99: float        # ms
    n: int
    errors: int
    capped: bool
    client_cpu: float  # share of one core the load generator used

    @staticmethod
    def median(cells: list[Cell]) -> Cell:
        return Cell(statistics.median(c.rps for c in cells), statistics.median(c.p50 for c in cells),
                    statistics.median(c.p99 for c in cells), sum(c.n for c in cells), sum(c.errors for c in cells),
                    any(c.capped for c in cells), statistics.median(c.client_cpu for c in cells))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


class _Answer:
    """httptools callbacks: counts the body, notes the end of the message and whether the
    connection stays open (asked here: once the message is complete, the parser has reset and
    ``should_keep_alive()`` answers False, which made every request open a new connection)."""

    def __init__(self) -> None:
        self.size = 0
        self.done = False
        self.keep_alive = False
        self.parser: Any = None

    def on_body(self, body: bytes) -> None:
        self.size += len(body)

    def on_message_complete(self) -> None:
        self.done = True
        self.keep_alive = self.parser.should_keep_alive()


class RawClient:
    """One keep-alive HTTP/1.1 connection, GET only, parsed by httptools: a load generator that
    costs a fraction of what httpx does per request (with httpx at concurrency 32 the client, not
    the server, was the bottleneck on 2 cores)."""

    def __init__(self, base: str) -> None:
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.head = (f"Host: {self.host}:{self.port}\r\n"
                     + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, url: str) -> tuple[int, int]:
        """(status, body bytes)."""
        import httptools

        u = urlsplit(url)
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\n".encode() + self.head)
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        while not answer.done:
            data = await self.reader.read(1 << 18)
            if not data:
                await self.close()
                raise ConnectionError("closed by the server")
            parser.feed_data(data)
        if not answer.keep_alive:
            await self.close()
        return parser.get_status_code(), answer.size

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def load(urls: list[str], sizes: dict[str, int], opener: str, concurrency: int, duration: float,
               cap: float = 300, max_requests: int = 50_000) -> Cell:
    """Closed loop: ``concurrency`` connections, each sending its next request when the previous
    one is answered, until ``duration`` has passed and every connection has had an answer. What
    was sent is always awaited (cancelling it would leave the server working on it while the next
    measurement runs); ``cap`` is only a safety stop."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    clients = [RawClient(opener) for _ in range(concurrency)]
    # Open the connections first, so that connecting is not timed.
    await asyncio.gather(*(c.get(opener) for c in clients))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    deadline = start + duration

    async def worker(client: RawClient) -> None:
        nonlocal errors, issued
        answered = 0
        while (time.perf_counter() < deadline or answered == 0) and issued < max_requests:
            url = urls[issued % len(urls)]
            issued += 1
            t0 = time.perf_counter()
            try:
                status, size = await client.get(url)
                ok = status == 200 and abs(size - sizes[url]) <= 0.02 * sizes[url] + 64
            except (OSError, ConnectionError):
                ok = False
            latencies.append(time.perf_counter() - t0)
            answered += 1
            errors += not ok

    tasks = [asyncio.create_task(worker(c)) for c in clients]
    _, pending = await asyncio.wait(tasks, timeout=cap)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(c.close() for c in clients))
    if not latencies:
        return Cell(0.0, math.inf, math.inf, 0, errors + len(pending), True, 0.0)
    cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / elapsed
    return Cell(len(latencies) / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000,
                len(latencies), errors + len(pending), bool(pending), cpu)


async def prime(urls: list[str], passes: int) -> None:
    """Every URL ``passes`` times, 4 at a time (results not looked at: the check did that)."""
    async with httpx.AsyncClient(timeout=300, headers=HEADERS,
                                 limits=httpx.Limits(max_connections=4)) as client:
        for _ in range(passes):
            await asyncio.gather(*(client.get(u) for u in urls))


async def warm_process(base: str) -> None:
    """A freshly started server's first requests pay for its lazy start (first pool connections,
    first statements, imports): one items request and two tiles outside the timed list (z4, z15)."""
    client = RawClient(base)
    for path in ("/ogc/collections/blocks/items?limit=1",
                 "/ogc/collections/blocks/tiles/WebMercatorQuad/4/5/11",
                 "/ogc/collections/blocks/tiles/WebMercatorQuad/15/11326/22844"):
        await client.get(base + path)
    await client.close()


async def sequential(urls: list[str], sizes: dict[str, int], opener: str) -> tuple[list[float], int]:
    """Each URL once, one at a time: (latency per URL in s, errors)."""
    out, errors = [], 0
    client = RawClient(opener)
    await client.get(opener)  # open the connection
    for url in urls:
        t0 = time.perf_counter()
        status, size = await client.get(url)
        out.append(time.perf_counter() - t0)
        errors += status != 200 or size != sizes[url]
    await client.close()
    return out, errors


class RawFloor:
    """Our tile statements straight on PostgreSQL (asyncpg, prepared, on a connection of the tile
    service's own kind, tiles.service.Connections: same session settings): the floor for a cold
    tile. Passes through the list (each tile once, in the order the cold pass asks them) are made
    in the same minute as the cold passes, so that whatever else loads the machine weighs on both."""

    def __init__(self, url: str, tiles: list[tuple[int, int, int]]) -> None:
        self.url, self.tiles = url, tiles
        self.times: list[list[float]] = [[] for _ in tiles]
        self.sizes: list[int] = []

    async def __aenter__(self) -> RawFloor:
        from layers.registry import Registry
        from tiles.layers import collection_tileset
        from tiles.service import Connections
        from tiles.sql import tile_sql

        self.pool = Connections(self.url, size=2)
        registry = Registry(self.pool)  # type: ignore[arg-type]  # acquire() is all it uses
        await registry.refresh()
        tileset = collection_tileset("blocks")
        assert tileset is not None
        self.queries = [tile_sql(tileset, registry, "WebMercatorQuad", z, x, y) for z, x, y in self.tiles]
        self.conn = await self.pool.get()
        for q in self.queries:  # untimed: prepares the statements
            self.sizes.append(len(await self.conn.fetchval(q.sql, *q.args) or b""))
        return self

    async def run_pass(self) -> None:
        for i, q in enumerate(self.queries):
            t0 = time.perf_counter()
            await self.conn.fetchval(q.sql, *q.args)
            self.times[i].append(time.perf_counter() - t0)

    def medians(self) -> list[float]:
        return [statistics.median(t) for t in self.times]

    async def __aexit__(self, *exc: object) -> None:
        self.pool.put(self.conn)
        await self.pool.close()


# --- report -------------------------------------------------------------------------------------

def fmt_cell(c: Cell | None) -> tuple[str, str, str]:
    if c is None:
        return "-", "-", "-"
    star = "*" if c.capped else ""
    return f"{c.rps:8.1f}", f"{c.p50:8.1f}{star}", f"{c.p99:8.1f}{star}"


def main() -> None:  # noqa: C901, PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes per server (1 or 2)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0,
                        help="seconds of sending per measurement (every connection gets at least one answer)")
    parser.add_argument("--port", type=int, default=18100, help="ours on PORT, TiPG on PORT+1, pygeoapi PORT+2")
    parser.add_argument("--no-pygeoapi", action="store_true")
    parser.add_argument("--no-tiles", action="store_true")
    parser.add_argument("--no-items", action="store_true", help="only the tile rows (implies --no-pygeoapi)")
    args = parser.parse_args()
    args.no_pygeoapi = args.no_pygeoapi or args.no_items
    items = () if args.no_items else ITEM_SCENARIOS

    from geoservice.kernel.settings import get_settings

    settings = get_settings()
    if settings.database_url is None:
        from geoservice import cluster

        cluster.up(settings)
    url = settings.effective_database_url
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    started = time.monotonic()
    load_start = os.getloadavg()[0]

    tipg_bin = ensure_venv(VAR / "bench-venv", ROOT / "bench" / "requirements-tipg.txt")
    pga_bin = None if args.no_pygeoapi else ensure_venv(VAR / "bench-venv-pygeoapi",
                                                        ROOT / "bench" / "requirements-pygeoapi.txt")
    workers = str(args.workers)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "PYGEOAPI_"))}
    ours = Server("geoservice", [str(Path(sys.executable).with_name("geoservice")), "serve", "--host", "127.0.0.1",
                                 "--port", str(args.port), "--workers", workers],
                  base_env | {"DATABASE_URL": url}, args.port, "/healthz")
    # TiPG as its docs run it (uvicorn tipg.main:app), limited to the one table; its catalog
    # refresh (every 300 s by default) is turned off so that it cannot land inside a measurement.
    tipg = Server("tipg", [str(tipg_bin / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
                           "--port", str(args.port + 1), "--workers", workers],
                  base_env | {"DATABASE_URL": libpq, "TIPG_DB_SCHEMAS": '["public"]',
                              "TIPG_DB_TABLES": '["public.blocks"]', "TIPG_CATALOG_TTL": "0"},
                  args.port + 1, "/healthz")
    servers = [ours, tipg]
    tmp = tempfile.TemporaryDirectory(prefix="bench-pygeoapi-")
    pga = None
    if pga_bin is not None:
        cfg = pygeoapi_config(Path(tmp.name), args.port + 2, url)
        openapi = Path(tmp.name) / "openapi.yml"
        penv = base_env | {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi)}
        subprocess.run([str(pga_bin / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file", str(openapi)],
                       check=True, env=penv, stdout=subprocess.DEVNULL)
        # The Starlette app: requests run in a thread pool (the Flask one under `pygeoapi serve`
        # is a development server).
        pga = Server("pygeoapi", [str(pga_bin / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", "127.0.0.1",
                                  "--port", str(args.port + 2), "--workers", workers],
                     penv, args.port + 2, "/conformance?f=json", cwd=Path(tmp.name))
        servers.append(pga)

    try:
        for s in servers:
            s.start()
        versions = {"tipg": subprocess.run([str(tipg_bin / "python"), "-c", "import tipg; print(tipg.__version__)"],
                                           capture_output=True, text=True).stdout.strip()}
        if pga_bin is not None:
            versions["pygeoapi"] = subprocess.run(
                [str(pga_bin / "python"), "-c", "import pygeoapi; print(pygeoapi.__version__)"],
                capture_output=True, text=True).stdout.strip()

        # --- checks ---
        targets = {"geoservice": Target("geoservice", ours), "tipg": Target("tipg", tipg)}
        if pga is not None:
            targets["pygeoapi"] = Target("pygeoapi", pga)
        with httpx.Client() as client:
            if items:
                codes = {"geoservice": check_items(client, targets["geoservice"], our_item_urls(client, ours.base)),
                         "tipg": check_items(client, targets["tipg"], tipg_item_urls(tipg.base))}
                if pga is not None:
                    codes["pygeoapi"] = check_items(client, targets["pygeoapi"], pygeoapi_item_urls(pga.base))
                for scenario in items:
                    for name in codes:
                        if codes[name][scenario] != codes["geoservice"][scenario]:
                            raise SystemExit(f"check failed: {name} and geoservice return different blocks for "
                                             f"{scenario} ({codes[name][scenario][:2]} ... vs "
                                             f"{codes['geoservice'][scenario][:2]} ...)")
                print(f"checked: every server returns the same {PAGE} blocks for each items scenario "
                      f"(deep page starts at {codes['geoservice']['items-deep'][0]})", flush=True)
            tiles = fixed_tiles()
            tile_info = {}
            if not args.no_tiles:
                for z, x, y in (tiles[0], tiles[-1]):  # a generalised level and the blocks
                    probe = client.get(f"{ours.base}/ogc/collections/blocks/tiles/WebMercatorQuad/{z}/{y}/{x}")
                    if probe.status_code != 200 and not args.no_tiles:
                        print(f"\n*** TILE ROWS SKIPPED: our tile {z}/{y}/{x} answers {probe.status_code} "
                              f"{probe.text[:200]} (database not migrated? `geoservice db migrate`)\n", flush=True)
                        args.no_tiles = True
            if not args.no_tiles:
                # Ours is checked right after its restart for the cold pass (run_all).
                tile_info["tipg"] = check_tiles(client, targets["tipg"], [
                    f"{tipg.base}/collections/public.blocks/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles])
        our_tile_urls = [f"{ours.base}/ogc/collections/blocks/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles]

        results: dict[tuple[str, str, int], list[Cell]] = {}
        cold: dict[str, list[list[float]]] = {"geoservice": [], "tipg": []}
        warm_pass: list[list[float]] = []   # ours, the same pass again right after the cold one
        raw: list[float] = []
        raw_sizes: list[int] = []
        cold_errors = 0

        async def measure(name: str, scenario: str, c: int) -> None:
            t = targets[name]
            cell = await load(t.urls[scenario], t.sizes, t.server.health, c, args.duration)
            results.setdefault((name, scenario, c), []).append(cell)

        async def run_all() -> None:
            nonlocal cold_errors, raw, raw_sizes
            names = list(targets)
            if not args.no_tiles:
                # Cold tiles: ours right after a restart (empty tile cache), each tile once. First an
                # untimed pass that checks our tiles (and records their sizes), then the timed ones.
                ours.restart()
                with httpx.Client() as client:
                    info = []
                    for u in our_tile_urls:
                        r = get(client, u)
                        info.append((len(r.content), mvt_features(r.content)))
                        targets["geoservice"].sizes[u] = len(r.content)
                        if info[-1][1] == 0:
                            raise SystemExit(f"check failed: {u} is an empty tile")
                    targets["geoservice"].urls["tiles-warm"] = our_tile_urls
                    tile_info["geoservice"] = info
                async with RawFloor(url, tiles) as floor:
                    raw_sizes = floor.sizes
                    for run in range(args.runs):
                        ours.restart()
                        await warm_process(ours.base)
                        lat, errs = await sequential(our_tile_urls, targets["geoservice"].sizes, ours.health)
                        cold["geoservice"].append(lat)
                        cold_errors += errs
                        lat, errs = await sequential(our_tile_urls, targets["geoservice"].sizes, ours.health)
                        warm_pass.append(lat)
                        cold_errors += errs
                        for _ in range(2):  # 2 per run: 6 passes with 3 runs
                            await floor.run_pass()
                        lat, errs = await sequential(targets["tipg"].urls["tiles-warm"], targets["tipg"].sizes,
                                                     tipg.health)
                        cold["tipg"].append(lat)
                        cold_errors += errs
                        print(f"  tiles-cold run {run + 1}: ours {sum(cold['geoservice'][-1]) * 1000:.0f} ms, "
                              f"PostgreSQL {sum(t[-1] for t in floor.times) * 1000:.0f} ms, "
                              f"TiPG {sum(cold['tipg'][-1]) * 1000:.0f} ms for {len(tiles)} tiles", flush=True)
                    raw = floor.medians()
            if not args.no_tiles:
                # Warm: every worker process has its own cache; a few passes fill them all.
                for name in ("geoservice", "tipg"):
                    await prime(targets[name].urls["tiles-warm"], 2 * args.workers)
            # Ours was restarted for the cold tiles: let every server (every worker) see each items
            # URL again before timing, as the checks did, so no row times a first request (ours
            # keeps numberMatched per query and version; all keep prepared statements).
            for name in names:
                await prime([u for sc in items for u in targets[name].urls[sc]], 2 * args.workers)
            for run in range(args.runs):
                order = names[run % len(names):] + names[:run % len(names)]  # nobody always first
                for scenario in items + (() if args.no_tiles else ("tiles-warm",)):
                    for c in CONCURRENCIES:
                        for name in order:
                            if scenario == "tiles-warm" and name == "pygeoapi":
                                continue
                            await measure(name, scenario, c)
                print(f"  run {run + 1}/{args.runs} done at {time.monotonic() - started:.0f} s", flush=True)

        try:
            import uvloop  # with uvicorn[standard], as the servers use it

            loop_factory = uvloop.new_event_loop
        except ImportError:
            loop_factory = None
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run_all())
    finally:
        for s in servers:
            s.stop()
        tmp.cleanup()

    # --- report ---
    print()
    print(f"load average (1 min) at the start {load_start:.1f}, at the end {os.getloadavg()[0]:.1f} "
          "(anything else running on the machine shows here)")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; workers per server: {args.workers}; "
          f"runs: {args.runs} (medians), {args.duration} s of sending per measurement")
    print(f"geoservice (this checkout) vs TiPG {versions['tipg']}"
          + (f" vs pygeoapi {versions['pygeoapi']}" if "pygeoapi" in versions else "")
          + "; all on public.blocks (1.26 M blocks), uncompressed responses")
    header = f"{'tool':<11} {'scenario':<13} {'conc':>4} {'req/s':>8} {'p50 ms':>9} {'p99 ms':>9}  {'ours/TiPG':>9} " \
             f"{'ours/pygeoapi':>13}  {'goal':>5}  {'n':>5} {'err':>3}"
    print(header)
    print("-" * len(header))
    verdicts = []
    scenarios = items + (() if args.no_tiles else ("tiles-warm",))
    for scenario in scenarios:
        for c in CONCURRENCIES:
            ours_cell = Cell.median(results[("geoservice", scenario, c)])
            for name in targets:
                if (name, scenario, c) not in results:
                    continue
                cell = Cell.median(results[(name, scenario, c)])
                rps, p50, p99 = fmt_cell(cell)
                ratio_t = ratio_p = goal = ""
                if name == "geoservice":
                    tipg_cell = Cell.median(results[("tipg", scenario, c)])
                    r = ours_cell.rps / tipg_cell.rps if tipg_cell.rps else math.inf
                    need = 10.0 if scenario == "tiles-warm" else 1.5
                    ratio_t = f"{r:8.2f}x"
                    ok = r >= need and cell.errors == 0
                    goal = "ok" if ok else "MISS"
                    verdicts.append((f"{scenario} c={c}: ours/TiPG {r:.2f}x (goal >= {need}x)", ok))
                    if ("pygeoapi", scenario, c) in results:
                        pc = Cell.median(results[("pygeoapi", scenario, c)])
                        ratio_p = f"{ours_cell.rps / pc.rps if pc.rps else math.inf:12.2f}x"
                print(f"{name:<11} {scenario:<13} {c:>4} {rps:>8} {p50:>9} {p99:>9}  {ratio_t:>9} {ratio_p:>13}  "
                      f"{goal:>5}  {cell.n:>5} {cell.errors if cell.errors else '':>3}")
        print()
    if any(Cell.median(v).capped for v in results.values()):
        print("* stopped by the safety cap (300 s): requests still waiting were cancelled and count as errors")
    if not args.no_tiles:
        n = len(tiles)
        per_tile_ours = [statistics.median(run[i] for run in cold["geoservice"]) for i in range(n)]
        per_tile_warm = [statistics.median(run[i] for run in warm_pass) for i in range(n)]
        per_tile_tipg = [statistics.median(run[i] for run in cold["tipg"]) for i in range(n)]
        print("\ntiles-cold: each of the 50 tiles once, one at a time, median per tile over the runs: ours right "
              "after a restart\n(cold), ours again right after (warm: the HTTP round trip of a cached tile), TiPG; "
              "PostgreSQL: our tile SQL run\ndirectly (asyncpg), the list in the same order, 2 passes per run "
              "between the cold ones, median per tile. Sums per zoom band.")
        print(f"{'zooms':<7} {'ours cold':>9} {'ours warm':>9} {'TiPG':>8} {'PostgreSQL':>10} {'cold/PG':>8} "
              f"{'(cold-warm)/PG':>14} {'ours KB':>8} {'TiPG KB':>8} {'ours feat':>9} {'TiPG feat':>9}")
        bands = [(5, 9), (10, 14), (5, 14)]
        cold_ratio = None
        for lo, hi in bands:
            idx = [i for i, (z, _, _) in enumerate(tiles) if lo <= z <= hi]
            o = sum(per_tile_ours[i] for i in idx) * 1000
            w = sum(per_tile_warm[i] for i in idx) * 1000
            tp = sum(per_tile_tipg[i] for i in idx) * 1000
            pg = sum(raw[i] for i in idx) * 1000
            kb_o = sum(tile_info["geoservice"][i][0] for i in idx) / 1024
            kb_t = sum(tile_info["tipg"][i][0] for i in idx) / 1024
            f_o = sum(tile_info["geoservice"][i][1] for i in idx)
            f_t = sum(tile_info["tipg"][i][1] for i in idx)
            print(f"z{lo}-{hi:<4} {o:9.1f} {w:9.1f} {tp:8.1f} {pg:10.1f} {o / pg:7.2f}x {(o - w) / pg:13.2f}x "
                  f"{kb_o:8.0f} {kb_t:8.0f} {f_o:9} {f_t:9}")
            cold_ratio = o / pg
        print("(ms; cold/PG is the goal's ratio; (cold-warm)/PG leaves out the HTTP round trip a cached tile "
              "costs too)")
        assert cold_ratio is not None
        ok = cold_ratio <= 1.3 and cold_errors == 0
        verdicts.append((f"tiles-cold: ours/PostgreSQL {cold_ratio:.2f}x (goal <= 1.3x)", ok))
        if cold_errors:
            print(f"tiles-cold: {cold_errors} answers were errors or differed in size")
        mismatched = [tiles[i] for i in range(n) if raw_sizes[i] != tile_info["geoservice"][i][0]]
        if mismatched:
            print(f"note: {len(mismatched)} tiles served differ in size from the raw SQL's MVT: {mismatched[:5]}")
        print(f"per tile p50: ours cold {statistics.median(per_tile_ours) * 1000:.1f} ms, ours warm "
              f"{statistics.median(per_tile_warm) * 1000:.1f} ms, "
              f"TiPG {statistics.median(per_tile_tipg) * 1000:.1f} ms, "
              f"PostgreSQL {statistics.median(raw) * 1000:.1f} ms")
    print("\ngoals:")
    for text, ok in verdicts:
        print(f"  {'ok  ' if ok else 'MISS'} {text}")
    if results:
        print(f"load generator CPU (share of a core, median over cells): "
              f"{statistics.median(Cell.median(v).client_cpu for v in results.values()):.2f}; "
              f"total time {time.monotonic() - started:.0f} s")
    print(f"server logs: {VAR / 'bench-logs'}")


if __name__ == "__main__":
    main()
