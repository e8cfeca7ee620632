"""Attribute-filtered pages of the block grid against unfiltered ones, and every page against
PostgreSQL's own time for the same statement, side by side in one run.

    .venv/bin/python bench/filtered_pages.py [--runs 5] [--requests 25] [--port 18300] [--only NAME,...]

Needs the demo data (``geoservice demo load``: table ``public.blocks`` with the whole grid) in the
database of DATABASE_URL, migrated to the latest revision. Starts ``geoservice serve`` (one worker)
on ``--port``, stops it at the end.

For every scenario (a page of our ``/ogc/collections/blocks/items``), each run measures, in
alternating order:

* ours: ``--requests`` sequential requests on one keep-alive connection (the small httptools
  client of tipg_vs_geoservice.py), median latency;
* PostgreSQL: the statement our server runs for that page (``geoservice.ogc.features.page_sql``:
  the same text and parameters, built from the same URL) executed ``--requests`` times on an
  asyncpg connection with the server's session settings (prepared, as the server's statements
  are), median, rows fetched as the server fetches them.

The HTTP hop alone is measured too (row ``http-floor``): the bytes of our unfiltered page served
as a constant by a bare Starlette app under the same uvicorn (port ``--port`` + 1), no database:
what any server of ours pays on top of PostgreSQL to hand such a page to a client.

Every URL is fetched once before timing (checked: 200, the expected number of features; our
server keeps ``numberMatched`` per query and version, so no timed request counts). The medians
over the runs are printed with two ratios: ``ours/PG`` (goal <= 1.3) and, for a filtered page,
``vs unfiltered``: its time over the unfiltered page with the same number of features (goal
<= 1.5 for the equality filters on indexed attributes and CQL2 equality). The load average at the
start and the end is printed first: on a shared 2-core machine other work shows in the numbers."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tipg_vs_geoservice import HEADERS, RawClient, Server  # noqa: E402 - after the path set-up

ITEMS = "/ogc/collections/blocks/items"
PAGE = 1000
SHEET, SHEET100K, CODE = "L-42", "L-42-61", "L-42-61-(10а-5а-1)"
POLYGON = "POLYGON((70 48,70.5 48,70.5 48.5,70 48.5,70 48))"   # 1,024 blocks, as in tipg_vs_geoservice.py
SMALL = 100   # below this many features the fixed cost of a request (~1 ms) swamps any ratio to PostgreSQL


@dataclass
class Scenario:
    name: str
    params: dict[str, str]
    features: int
    baseline: str | None = None      # the unfiltered scenario of the same page size
    goal: bool = False               # counts for the "filtered within 1.5x" goal
    skip: int = 0                    # start after this many features (walked by next links)
    prev: bool = False               # then follow that page's prev link
    url: str = ""


FLOOR_APP = """
import os
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = open(os.environ["BENCH_BODY"], "rb").read()


async def page(request):
    return Response(BODY, media_type="application/geo+json")


async def ok(request):
    return Response(b"ok")


app = Starlette(routes=[Route("/page", page), Route("/healthz", ok)])
"""


def scenarios() -> list[Scenario]:
    cql2_json = json.dumps({"op": "=", "args": [{"property": "sheet"}, SHEET]})
    return [
        Scenario("unfiltered", {"limit": "1000"}, PAGE),
        Scenario("unfiltered-600", {"limit": "600"}, 600),
        Scenario("unfiltered-1", {"limit": "1"}, 1),
        Scenario("unfiltered-deep", {"limit": "1000"}, PAGE, skip=200_000),
        Scenario("sheet", {"limit": "1000", "sheet": SHEET}, PAGE, "unfiltered", True),
        Scenario("sheet-deep", {"limit": "1000", "sheet": SHEET}, PAGE, "unfiltered-deep", True, skip=50_000),
        Scenario("sheet-prev", {"limit": "1000", "sheet": SHEET}, PAGE, "unfiltered-deep", True, skip=50_000,
                 prev=True),
        Scenario("sheet100k", {"limit": "1000", "sheet100k": SHEET100K}, 600, "unfiltered-600", True),
        Scenario("code", {"limit": "1000", "code": CODE}, 1, "unfiltered-1", True),
        Scenario("cql2-sheet", {"limit": "1000", "filter": f"sheet='{SHEET}'"}, PAGE, "unfiltered", True),
        Scenario("cql2-sheet-deep", {"limit": "1000", "filter": f"sheet='{SHEET}'"}, PAGE, "unfiltered-deep", True,
                 skip=50_000),
        Scenario("cql2json-sheet", {"limit": "1000", "filter-lang": "cql2-json", "filter": cql2_json}, PAGE,
                 "unfiltered", True),
        Scenario("cql2-sheet100k", {"limit": "1000", "filter": f"sheet100k='{SHEET100K}'"}, 600, "unfiltered-600",
                 True),
        Scenario("cql2-code", {"limit": "1000", "filter": f"code='{CODE}'"}, 1, "unfiltered-1", True),
        Scenario("cql2-spatial", {"limit": "1000", "filter": f"S_INTERSECTS(geometry,{POLYGON})"}, PAGE, "unfiltered"),
        Scenario("sortby-sheet", {"limit": "1000", "sortby": "sheet"}, PAGE, "unfiltered"),
        Scenario("sortby-sheet-deep", {"limit": "1000", "sortby": "sheet"}, PAGE, "unfiltered-deep", skip=200_000),
        Scenario("sortby-code", {"limit": "1000", "sortby": "code"}, PAGE, "unfiltered"),
        Scenario("sheet+sortby-code", {"limit": "1000", "sheet": SHEET, "sortby": "code"}, PAGE, "unfiltered"),
    ]


def find_url(client: httpx.Client, base: str, s: Scenario) -> str:
    """The URL of the scenario's page: its parameters, and for a deep page the cursor of the next
    link after ``skip`` features (walked 10,000 at a time, then asked for the page size)."""
    params = dict(s.params) | {"f": "json"}
    url = f"{base}{ITEMS}?{urlencode(params)}"
    if s.skip:
        walked = 0
        url = f"{base}{ITEMS}?{urlencode(params | {'limit': '10000'})}"
        while walked < s.skip:
            doc = client.get(url, headers=HEADERS, timeout=600).json()
            walked += len(doc["features"])
            url = next(link["href"] for link in doc["links"] if link["rel"] == "next")
        assert walked == s.skip, (s.name, walked)
        url = url.replace("limit=10000", f"limit={params['limit']}")
    if s.prev:
        doc = client.get(url, headers=HEADERS, timeout=600).json()
        url = next(link["href"] for link in doc["links"] if link["rel"] == "prev")
    r = client.get(url, headers=HEADERS, timeout=600)
    if r.status_code != 200 or len(r.json()["features"]) != s.features:
        raise SystemExit(f"check failed: {s.name}: {url} answered {r.status_code} "
                         f"with {len(r.json().get('features', []))} features, expected {s.features}")
    return url


class Direct:
    """The server's page statements straight on PostgreSQL, built from the same URLs."""

    async def open(self, url: str) -> None:
        from geoservice.kernel.db import libpq_url
        from geoservice.kernel.pools import create_pool
        from geoservice.registry import Registry

        self.pool = await create_pool(libpq_url(url), min_size=1, max_size=1)
        self.registry = Registry(self.pool)
        await self.registry.refresh()
        self.conn = await self.pool.acquire()

    def statement(self, page_url: str) -> tuple[str, list[object]]:
        from starlette.requests import Request

        from geoservice.ogc.features import page_sql
        from geoservice.ogc.routes import parse_items_query

        query = urlsplit(page_url).query
        request = Request({"type": "http", "method": "GET", "path": ITEMS, "headers": [],
                           "query_string": urlencode(parse_qsl(query)).encode()})
        collection = self.registry.get("blocks")
        assert collection is not None
        p = page_sql(parse_items_query(request, collection, authorised=False))
        return p.sql, p.params

    async def close(self) -> None:
        await self.pool.release(self.conn)
        await self.pool.close()


async def time_ours(base: str, url: str, n: int) -> float:
    client = RawClient(base)
    await client.get(url)  # opens the connection, untimed
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = await client.get(url)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"{url} answered {status} while timing")
    await client.close()
    return statistics.median(times)


async def time_pg(direct: Direct, sql: str, params: list[object], n: int) -> float:
    await direct.conn.fetch(sql, *params)  # untimed: prepares
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await direct.conn.fetch(sql, *params)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=25, help="timed requests per scenario, run and side")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--only", default="", help="comma-separated scenario names (baselines are added)")
    args = parser.parse_args()

    from geoservice.kernel.settings import get_settings

    db_url = get_settings().effective_database_url
    load_start = os.getloadavg()
    chosen = scenarios()
    if args.only:
        names = set(args.only.split(","))
        names |= {s.baseline for s in chosen if s.name in names and s.baseline}
        chosen = [s for s in chosen if s.name in names]
    ours = Server("geoservice-filtered", [str(Path(sys.executable).with_name("geoservice")), "serve", "--host",
                                          "127.0.0.1", "--port", str(args.port)],
                  dict(os.environ) | {"DATABASE_URL": db_url}, args.port, "/healthz")
    results: dict[str, dict[str, list[float]]] = {s.name: {"ours": [], "pg": []} for s in chosen}
    statements: dict[str, tuple[str, list[object]]] = {}
    floor: list[float] = []
    started = time.monotonic()
    tmp = tempfile.TemporaryDirectory(prefix="bench-floor-")
    (Path(tmp.name) / "floor_app.py").write_text(FLOOR_APP)
    body_path = Path(tmp.name) / "page.json"
    floor_server = Server("http-floor", [str(Path(sys.executable).with_name("uvicorn")), "floor_app:app", "--host",
                                         "127.0.0.1", "--port", str(args.port + 1), "--log-level", "warning"],
                          dict(os.environ) | {"BENCH_BODY": str(body_path)}, args.port + 1, "/healthz",
                          cwd=Path(tmp.name))
    ours.start()
    try:
        with httpx.Client() as client:
            for s in chosen:
                s.url = find_url(client, ours.base, s)
                r = client.get(s.url, headers=HEADERS, timeout=600)  # a second time: every cache warm
                if s.name == "unfiltered":
                    body_path.write_bytes(r.content)
        print(f"checked {len(chosen)} pages in {time.monotonic() - started:.0f} s", flush=True)
        if body_path.exists():
            floor_server.start()

        async def run_all() -> None:
            direct = Direct()
            await direct.open(db_url)
            try:
                for s in chosen:
                    statements[s.name] = direct.statement(s.url)
                for run in range(args.runs):
                    for s in chosen:
                        sql, params = statements[s.name]
                        if run % 2 == 0:
                            results[s.name]["ours"].append(await time_ours(ours.base, s.url, args.requests))
                            results[s.name]["pg"].append(await time_pg(direct, sql, params, args.requests))
                        else:
                            results[s.name]["pg"].append(await time_pg(direct, sql, params, args.requests))
                            results[s.name]["ours"].append(await time_ours(ours.base, s.url, args.requests))
                    if floor_server.proc is not None:
                        floor.append(await time_ours(floor_server.base, f"{floor_server.base}/page", args.requests))
                    print(f"  run {run + 1}/{args.runs} done at {time.monotonic() - started:.0f} s", flush=True)
            finally:
                await direct.close()

        asyncio.run(run_all())
    finally:
        ours.stop()
        floor_server.stop()
        tmp.cleanup()

    load_end = os.getloadavg()
    print(f"\nload average (1/5/15 min) at the start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}, "
          f"at the end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}; {os.cpu_count()} cores")
    print(f"{args.runs} runs x {args.requests} sequential requests per side; medians of the per-run medians (ms)")
    header = (f"{'scenario':<18} {'feat':>5} {'ours':>8} {'PG':>8} {'ours/PG':>8} {'goal':>5}  "
              f"{'vs unfiltered':>13} {'goal':>5}")
    print(header)
    print("-" * len(header))
    med = {name: {k: statistics.median(v) * 1000 for k, v in r.items()} for name, r in results.items()}
    misses = []
    for s in chosen:
        o, pg = med[s.name]["ours"], med[s.name]["pg"]
        ratio_pg = o / pg
        ok_pg = ratio_pg <= 1.3 or s.features < SMALL
        vs = goal = ""
        if s.baseline and s.baseline in med:
            r = o / med[s.baseline]["ours"]
            vs = f"{r:12.2f}x"
            if s.goal:
                goal = "ok" if r <= 1.5 else "MISS"
                if r > 1.5:
                    misses.append(f"{s.name}: {r:.2f}x the unfiltered page (goal <= 1.5x)")
        if ratio_pg > 1.3 and s.features >= SMALL:
            misses.append(f"{s.name}: ours/PG {ratio_pg:.2f}x (goal <= 1.3x)")
        verdict = "-" if s.features < SMALL else "ok" if ok_pg else "MISS"
        print(f"{s.name:<18} {s.features:>5} {o:8.2f} {pg:8.2f} {ratio_pg:7.2f}x {verdict:>5}  "
              f"{vs:>13} {goal:>5}")
    if floor:
        f = statistics.median(floor) * 1000
        o, pg = med["unfiltered"]["ours"], med["unfiltered"]["pg"]
        print(f"{'http-floor':<18} {PAGE:>5} {f:8.2f}  (our unfiltered page as a constant from a bare Starlette app: "
              f"the HTTP hop)\nunfiltered: ours {o:.2f} = PostgreSQL {pg:.2f} + HTTP hop {f:.2f} + our own handling "
              f"{o - pg - f:.2f} ms")
    print("\ngoals: " + ("all met" if not misses else "MISSED:\n  " + "\n  ".join(misses)))
    print(f"total time {time.monotonic() - started:.0f} s; server log: {ours.log_path}")


if __name__ == "__main__":
    main()
