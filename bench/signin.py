"""Sign-in latency at 50 concurrent users: challenge + attached-CMS verification + session, against
a live server process, beside a reference peer on the same server (a plain GET of /healthz at the
same concurrency). Prints p50/p99 of each and the ratios.

    .venv/bin/python bench/signin.py [--users 50] [--duration 5] [--runs 3]

The server is one uvicorn process (tests/live.py server_process), as `geoservice serve` runs by
default.

A sign-in is two round trips: GET /api/auth/challenge, then POST /api/auth/login with an attached
CMS over the nonce made with a demo person's RSA-2048 login key (cadastre/eds/pki.py; the CMS is
made by this client between the two requests, and that time is not counted). The server checks
the signature, the chain to the demo root, validity, the CRL, the EKU, uses the nonce up, checks
the register and opens a session (one account upsert, one session row, journal rows).
The anonymous rate limiter is off for both peers (GEOSERVICE_RATE_LIMIT=0): 50 users on one
loopback address would be throttled long before the server is."""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, scratch_database

sys.path.insert(0, str(ROOT))

VALID = ("applicant", "head", "signer", "officer", "commission", "admin", "auditor")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_peer(base: str, users: int, duration: float, step: object) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + duration
    # Idle connections are dropped by the client before uvicorn's 5 s keep-alive ends: a request
    # sent on a connection the server is closing fails with ReadError (a race, not an answer).
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def user(number: int) -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                try:
                    latencies.append(await step(client, number))  # type: ignore[operator]
                except AssertionError:
                    errors += 1
        await asyncio.gather(*(user(i) for i in range(users)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per peer and run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import psycopg

    from cadastre.demo import load_people
    from cadastre.eds.pki import demo_pki, sign_cms
    from tests.live import server_process

    with tempfile.TemporaryDirectory() as scratch, scratch_database("geoservice_bench_signin") as url:
        pki_dir = Path(scratch) / "pki"
        with psycopg.connect(url) as conn:
            load_people(conn, pki_dir)   # register, roles, the demo CA trusted
            conn.commit()
        pki = demo_pki(pki_dir)
        signers = [pki.person(key).auth("rsa") for key in VALID]

        async def sign_in(client: object, number: int) -> float:
            start = time.perf_counter()
            r = await client.get("/api/auth/challenge")  # type: ignore[attr-defined]
            assert r.status_code == 200, r.text
            spent = time.perf_counter() - start
            cms = sign_cms(r.json()["nonce"].encode(), signers[number % len(signers)])   # the browser's part
            body = {"cms": base64.b64encode(cms).decode()}
            start = time.perf_counter()
            r = await client.post("/api/auth/login", json=body)  # type: ignore[attr-defined]
            assert r.status_code == 200, r.text
            return spent + time.perf_counter() - start

        async def health(client: object, _number: int) -> float:
            start = time.perf_counter()
            r = await client.get("/healthz")  # type: ignore[attr-defined]
            assert r.status_code == 200
            return time.perf_counter() - start

        env = {"GEOSERVICE_RATE_LIMIT": "0"}
        results: dict[str, list[tuple[float, float, int, int]]] = {"health": [], "sign-in": []}
        with server_process(url, **env) as base:
            asyncio.run(run_peer(base, args.users, 1.0, sign_in))   # warm: pools, trust cache
            for run in range(args.runs):
                # Alternate which peer goes first.
                order = [("health", health), ("sign-in", sign_in)]
                for name, step in order if run % 2 == 0 else order[::-1]:
                    latencies, errors = asyncio.run(run_peer(base, args.users, args.duration, step))
                    results[name].append((percentile(latencies, 0.5), percentile(latencies, 0.99),
                                          len(latencies), errors))

    print(f"{args.users} concurrent users, {args.duration:g} s per peer and run, {args.runs} runs, "
          "one server process; medians over runs")
    print(f"{'peer':<10} {'p50 ms':>9} {'p99 ms':>9} {'per s':>9} {'errors':>7}")
    summary = {}
    for name, rows in results.items():
        p50 = statistics.median(r[0] for r in rows) * 1000
        p99 = statistics.median(r[1] for r in rows) * 1000
        rate = statistics.median(r[2] for r in rows) / args.duration
        errors = sum(r[3] for r in rows)
        summary[name] = (p50, p99, rate)
        print(f"{name:<10} {p50:>9.1f} {p99:>9.1f} {rate:>9.0f} {errors:>7}")
    (h50, h99, hrate), (s50, s99, srate) = summary["health"], summary["sign-in"]
    print(f"sign-in / health: p50 {s50 / h50:.1f}x, p99 {s99 / h99:.1f}x, throughput {srate / hrate:.2f}x")


if __name__ == "__main__":
    main()
