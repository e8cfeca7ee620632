"""Build the whole country's 1'x1' block grid several times and print the median time and rows/s
(goal: under 2 minutes on a 2-core machine).

    .venv/bin/python bench/grid_build.py [DATABASE_URL] [--runs 3] [--workers 2] [--datum EPSG:4326]

The grid is built into the database given as argument, else into DATABASE_URL, else into a
scratch database on the local cluster (migrated, dropped at the end). A given database must be
migrated to 0002_block_grid; its ``blocks`` table is replaced (by the same grid)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import scratch_database  # noqa: E402

from geoservice.kernel.settings import get_settings  # noqa: E402
from layers.grid_build import build_grid  # noqa: E402


def run(url: str, runs: int, workers: int, datum: str | None) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        if conn.execute("SELECT to_regclass('blocks')").fetchone() in (None, (None,)):
            sys.exit("table blocks is missing: migrate the database first (geoservice db migrate)")
        server = conn.execute("SELECT current_setting('server_version')").fetchone()
    times: list[float] = []
    count = 0
    for i in range(runs):
        started = time.perf_counter()
        count = build_grid(url, progress=False, workers=workers, datum=datum or get_settings().grid_datum)
        times.append(time.perf_counter() - started)
        print(f"run {i + 1}: {count} blocks in {times[-1]:.2f} s", flush=True)
    median = statistics.median(times)
    print(f"PostgreSQL {server[0] if server else '?'}, {os.cpu_count()} CPUs, workers={workers}, "
          f"datum={datum or 'setting'}")
    print(f"median of {runs}: {median:.2f} s, {count / median:,.0f} blocks/s ({count} blocks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datum", default=None, help="EPSG:4326 or EPSG:4284 (default: the setting)")
    args = parser.parse_args()
    with nullcontext(args.url) if args.url else scratch_database("geoservice_bench_grid") as url:
        run(url, args.runs, args.workers, args.datum)


if __name__ == "__main__":
    main()
