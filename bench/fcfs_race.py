"""First come, first served under a race: 200 applicants, each signed in, file at once for
overlapping block sets against a live server process (tests/live.py server_process), after the
one-month window of the area has passed. Reports double grants (blocks pending or granted for two
applications: must be 0), winners, refusals and the p50/p99 of filing; then the same in the
window of an area opened 5 days ago, reporting the lots created.

    .venv/bin/python bench/fcfs_race.py [--applicants 200] [--runs 5]

Each applicant has an RSA-2048 signing certificate of the demo PKI and a session made directly
through cadastre.accounts (as tests/people.py does); the detached CMS over the RFC 8785 JSON of
each application is made before the clock starts. Each run files into a fresh strip of the FCFS
area (3x3-block squares at random places in a 12x6 strip: heavily overlapping), all requests
released at once. The reference peer is GET /healthz at the same concurrency on the same server,
so the filing figures can be read against the server's floor on this machine."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, scratch_database

sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def fire(base: str, requests: list[tuple[str, str, dict[str, str], Any]]) -> list[tuple[float, int, Any]]:
    """All requests at once (one connection each); (seconds, status, body) per request."""
    import httpx

    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        gate = asyncio.Event()

        async def one(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[float, int, Any]:
            await gate.wait()
            start = time.perf_counter()
            try:
                r = await client.request(method, path, headers=headers, json=body)
            except httpx.TransportError as exc:
                return time.perf_counter() - start, 0, str(exc)
            spent = time.perf_counter() - start
            return spent, r.status_code, r.json() if "json" in r.headers.get("content-type", "") else None

        tasks = [asyncio.create_task(one(*req)) for req in requests]
        await asyncio.sleep(0.2)
        gate.set()
        return await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import psycopg

    from cadastre.demo import load_people
    from cadastre.eds.pki import demo_pki
    from tests.applicants import (
        FCFS_AREA,
        WINDOW_AREA,
        application,
        make_applicants,
        open_areas,
        session_token,
        signed,
        square,
    )
    from tests.live import server_process

    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as scratch, scratch_database("geoservice_bench_fcfs") as url:
        with psycopg.connect(url) as conn:
            load_people(conn, Path(scratch) / "pki")
            conn.commit()
        pki = demo_pki(Path(scratch) / "pki")
        open_areas(url)
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            people = make_applicants(conn, pki, args.applicants, prefix="0404047")
            tokens = [session_token(conn, iin) for iin, _ in people]
            conn.commit()
        print(f"{args.applicants} applicants with certificates and sessions in {time.perf_counter() - started:.1f} s")

        def requests(area: tuple[str, int, int], strip: int, width: int, height: int,
                     size: int) -> list[tuple[str, str, dict[str, str], Any]]:
            out = []
            for (iin, cert), token in zip(people, tokens, strict=True):
                dx, dy = rng.randrange(width - size + 1), strip + rng.randrange(height - size + 1)
                body = signed(application(square(area, dx, dy, size), iin), cert)
                out.append(("POST", "/api/applications", {"Authorization": f"Bearer {token}"}, body))
            return out

        def db_check(numbers: list[str]) -> tuple[int, int]:
            with psycopg.connect(url) as conn:
                double = conn.execute(
                    "SELECT count(*) FROM (SELECT c.block_id FROM application_claims c JOIN applications a "
                    "ON a.id = c.application_id WHERE a.number = ANY(%s) AND c.state IN ('pending', 'granted') "
                    "GROUP BY c.block_id HAVING count(DISTINCT c.priority_group) > 1 "
                    "OR count(*) FILTER (WHERE NOT c.in_window) > 1) x", (numbers,)).fetchone()[0]
                lots = conn.execute("SELECT count(*) FROM lots WHERE status = 'forming' AND applications && "
                                    "(SELECT array_agg(id) FROM applications WHERE number = ANY(%s))",
                                    (numbers,)).fetchone()[0]
            return int(double), int(lots)

        rows = []
        with server_process(url, GEOSERVICE_RATE_LIMIT="0") as base:
            asyncio.run(fire(base, [("GET", "/healthz", {}, None)] * 20))  # warm
            for run in range(args.runs):
                health = asyncio.run(fire(base, [("GET", "/healthz", {}, None)] * args.applicants))
                result = asyncio.run(fire(base, requests(FCFS_AREA, 6 * run, 12, 6, 3)))
                bad = [r for r in result if r[1] != 201]
                numbers = [r[2]["number"] for r in result if r[1] == 201]
                won = sum(1 for r in result if r[1] == 201 and r[2]["status"] == "accepted")
                refused_named = sum(1 for r in result if r[1] == 201 and r[2]["status"] == "refused"
                                    and r[2]["reasons"] and all(x["code"] == "reason.block_taken"
                                                                for x in r[2]["reasons"]))
                double, _ = db_check(numbers)
                times = [r[0] for r in result]
                rows.append((run + 1, double, won, refused_named, len(bad), percentile(times, 0.5),
                             percentile(times, 0.99), percentile([h[0] for h in health], 0.5),
                             percentile([h[0] for h in health], 0.99)))
            window = asyncio.run(fire(base, requests(WINDOW_AREA, 0, 14, 14, 2)))
            numbers = [r[2]["number"] for r in window if r[1] == 201]
            in_window = sum(1 for r in window if r[1] == 201 and r[2]["window"] and r[2]["status"] == "accepted")
            double_w, lots = db_check(numbers)
            wtimes = [r[0] for r in window]

    print(f"after the window: {args.applicants} applicants at once, 3x3-block squares in a 12x6 strip, "
          "one server process")
    print(f"{'run':>3} {'double':>7} {'won':>5} {'refused':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'healthz p50':>12} {'p99':>7}")
    for run, double, won, refused, errors, p50, p99, h50, h99 in rows:
        print(f"{run:>3} {double:>7} {won:>5} {refused:>8} {errors:>7} {p50 * 1000:>8.0f} {p99 * 1000:>8.0f} "
              f"{h50 * 1000:>12.0f} {h99 * 1000:>7.0f}")
    p50, p99, h50 = (statistics.median(r[i] for r in rows) * 1000 for i in (5, 6, 7))
    print(f"double grants over all runs: {sum(r[1] for r in rows)} (must be 0); median p50 {p50:.0f} ms, "
          f"p99 {p99:.0f} ms; /healthz at the same concurrency p50 {h50:.0f} ms")
    print(f"window (area opened 5 days ago), 2x2 squares in 14x14: {in_window} accepted with equal priority, "
          f"{lots} lots formed, double grants outside the window rule {double_w}, p50 "
          f"{percentile(wtimes, 0.5) * 1000:.0f} ms, p99 {percentile(wtimes, 0.99) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
