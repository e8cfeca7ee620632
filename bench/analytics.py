"""The authorities' dashboard (issue 11): every chart's query on 10,000 licences and 100,000
applications (``bench/analytics_data.py``), median of ``--runs``, against the goal of 1 s per
chart; beside it, where one exists, a peer computing the same figures the plain way: a plain
SELECT of the rows and the aggregate in Python (and, for the stages, the same SQL reading the
runs' JSON state instead of the stage rows the trigger of migration 0022 keeps). The peer's
figures are checked equal to ours.

    .venv/bin/python bench/analytics.py [--database URL] [--runs 5] [--licences 10000] [--applications 100000]

Without ``--database`` a scratch database is made, filled (about a minute) and dropped."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analytics_data import fill  # noqa: E402
from common import scratch_database  # noqa: E402

from cadastre import analytics  # noqa: E402
from cadastre.obligations import authority_of  # noqa: E402
from geoservice.messages import register_all  # noqa: E402

GOAL_S = 1.0
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
FILTERS = {
    "all": analytics.Filters(),
    "at+authority+region": analytics.Filters(at=dt.date(2023, 6, 30), authority="solid-minerals", region="KZ-35"),
    "mineral+range+year": analytics.Filters(mineral="gold", since=dt.date(2020, 1, 1), until=dt.date(2024, 12, 31),
                                            grain="year"),
}


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# --- peers: a plain SELECT, the aggregate in Python ---------------------------------------------------

def peer_authority(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, mineral, blocks in conn.execute(
            "SELECT kind, mineral, blocks FROM licence_states WHERE valid_to IS NULL"):
        c = counts[authority_of(kind, mineral)]
        c[0] += 1
        c[1] += len(blocks)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def peer_region(conn: psycopg.Connection) -> dict[str | None, int]:
    import shapely

    parts = conn.execute("SELECT code, ST_AsBinary(geom) FROM region_parts").fetchall()
    tree = shapely.STRtree(shapely.from_wkb([p[1] for p in parts]))
    # The same point on each surface as ours (PostGIS's; GEOS's own may fall elsewhere).
    points = shapely.from_wkb([r[0] for r in conn.execute(
        "SELECT ST_AsBinary(ST_PointOnSurface(geom)) FROM licence_states WHERE valid_to IS NULL")])
    found: dict[int, str] = {}
    for i, j in zip(*tree.query(points, predicate="intersects"), strict=True):
        # On a border between two regions, the first code, as ours.
        code = parts[int(j)][0]
        found[int(i)] = min(code, found.get(int(i), code))
    return dict(Counter(found.get(i) for i in range(len(points))))


def peer_blocks(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT valid_from, valid_to, cardinality(blocks) FROM licence_states "
                        "WHERE status IN ('active', 'suspended') AND valid_from < coalesce(valid_to, 'infinity')"
                        ).fetchall()
    first = min(r[0] for r in rows)
    out, year, month = {}, first.year, first.month
    today = NOW.date()
    while (year, month) <= (today.year, today.month):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        end = min(nxt - dt.timedelta(days=1), today)
        out[f"{year}-{month:02d}"] = sum(b for f, t, b in rows if f <= end and (t is None or t > end))
        year, month = nxt.year, nxt.month
    return out


def peer_stages(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[int, int]]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for authority, state in conn.execute("SELECT authority, state FROM procedure_runs"):
        for s in state["steps"]:
            if s["role"] == "applicant" or s["due"] is None or s["finished_at"] is None:
                continue
            finished = dt.datetime.fromisoformat(s["finished_at"])
            due = s["return_due"] if s["action"] == "return" and s.get("return_due") else s["due"]
            c = counts[(authority, s["stage"])]
            c[0] += 1
            c[1] += finished <= dt.datetime.fromisoformat(due)
    return {k: (v[0], v[1]) for k, v in counts.items()}


# The first design of the stages chart: the same figures, unpacking every run's JSON state.
STAGES_FROM_JSON = """
SELECT r.authority, s ->> 'stage',
       count(*) FILTER (WHERE (s ->> 'finished_at')::timestamptz < %(asof)s),
       count(*) FILTER (WHERE (s ->> 'finished_at')::timestamptz < %(asof)s AND (s ->> 'finished_at')::timestamptz
           <= CASE WHEN s ->> 'action' = 'return' AND s ->> 'return_due' IS NOT NULL
                   THEN (s ->> 'return_due')::timestamptz ELSE (s ->> 'due')::timestamptz END)
FROM procedure_runs r CROSS JOIN LATERAL jsonb_array_elements(r.state -> 'steps') s
WHERE s ->> 'role' <> 'applicant' AND s ->> 'due' IS NOT NULL
GROUP BY 1, 2"""


def peer_obligations(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    today = NOW.date()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, status, due in conn.execute(
            "SELECT o.kind, o.status, o.due_on FROM obligations o JOIN licence_states s "
            "ON s.number = o.number AND s.valid_to IS NULL WHERE o.valid_to IS NULL"):
        if status == "open" and due >= today:
            counts[kind][0] += 1
        elif status == "overdue" or (status == "open" and due < today):
            counts[kind][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items() if v != [0, 0]}


def ours_as(chart: str, rows: list[dict[str, Any]]) -> Any:
    if chart == "licences_by_authority":
        return {r["authority"]: (r["licences"], r["blocks"]) for r in rows}
    if chart == "licences_by_region":
        return {r["region"]: r["licences"] for r in rows if r["licences"]}
    if chart == "blocks_over_time":
        return {r["period"]: r["blocks"] for r in rows}
    if chart == "stages_on_time":
        return {(r["authority"], r["stage"]): (r["finished"], r["on_time"]) for r in rows if r["finished"]}
    if chart == "obligations":
        return {r["kind"]: (r["open"], r["overdue"]) for r in rows}
    return None


PEERS: dict[str, tuple[str, Callable[[psycopg.Connection], Any]]] = {
    "licences_by_authority": ("SELECT + Python authority_of", peer_authority),
    "licences_by_region": ("SELECT WKB + shapely STRtree", peer_region),
    "blocks_over_time": ("SELECT + Python per month", peer_blocks),
    "stages_on_time": ("SELECT state + Python", peer_stages),
    "obligations": ("SELECT + Python", peer_obligations),
}


def bench(url: str, runs: int) -> bool:
    register_all()
    met = True
    with psycopg.connect(url) as conn:
        conn.execute("SET jit = off")  # as the service's sessions run (short queries)
        sizes = conn.execute("SELECT (SELECT count(*) FROM licence_records), (SELECT count(*) FROM applications), "
                             "(SELECT count(*) FROM procedure_stage_facts), (SELECT count(*) FROM obligations)"
                             ).fetchone()
        print(f"data: {sizes[0]:,} licences, {sizes[1]:,} applications, {sizes[2]:,} procedure stages, "
              f"{sizes[3]:,} obligations; median of {runs} runs; goal {GOAL_S:.0f} s per chart\n")
        print(f"{'chart':24} {'filters':22} {'ours':>9} {'goal':>5}  {'peer':>9} {'peer/ours':>9}  peer")
        total = 0.0
        for chart in analytics.CHARTS:
            for label, f in FILTERS.items():
                ours, rows = median_time(lambda c=chart, f=f: analytics.run(conn, c, f, "en", now=NOW), runs)
                total += ours if label == "all" else 0
                met &= ours < GOAL_S
                peer = ""
                if label == "all" and chart in PEERS:
                    name, fn = PEERS[chart]
                    theirs, result = median_time(lambda fn=fn: fn(conn), runs)
                    same = result == ours_as(chart, rows)
                    peer = f"{theirs * 1000:7.0f}ms {theirs / ours:8.1f}×  {name}{'' if same else '  (DIFFERS!)'}"
                    met &= same
                print(f"{chart:24} {label:22} {ours * 1000:7.0f}ms {'ok' if ours < GOAL_S else 'SLOW':>5}  {peer}")
            if chart == "stages_on_time":
                params = analytics.parameters(analytics.Filters(), NOW)
                theirs, _ = median_time(lambda p=params: conn.execute(STAGES_FROM_JSON, p).fetchall(), runs)
                ours, _ = median_time(lambda: analytics.run(conn, "stages_on_time", analytics.Filters(), "en",
                                                            now=NOW), runs)
                print(f"{'':24} {'all':22} {ours * 1000:7.0f}ms {'':>5}  {theirs * 1000:7.0f}ms "
                      f"{theirs / ours:8.1f}×  the same SQL over the runs' JSON state")
        print(f"\nthe whole dashboard, unfiltered (every chart once, one after the other): {total * 1000:.0f} ms")
    print("goal met" if met else "GOAL NOT MET")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--licences", type=int, default=10_000)
    parser.add_argument("--applications", type=int, default=100_000)
    args = parser.parse_args()
    if args.database:
        sys.exit(0 if bench(args.database, args.runs) else 1)
    with scratch_database("gs_bench_analytics") as url:
        times = fill(url, licences=args.licences, applications=args.applications)
        print("generated in", "  ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        ok = bench(url, args.runs)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
