"""Journal appends with the hash chain, end to end, against plain INSERTs into a table of the same
shape without the chain (an identity number, no trigger), at 32 concurrent writers each doing
single-row transactions. Goal: the chain at least 0.5x the plain inserts' throughput.

    .venv/bin/python bench/journal_append.py [--clients 32] [--seconds 8] [--runs 3] [--sealers 1]
                                             [--modes autocommit,explicit] [--sync server,on]
                                             [--before]

The writers are pgbench clients (C, one connection each, so the driver's own overhead is the
same on both sides and small), on a scratch database made for the run (``gs_bench_journal_*``,
dropped afterwards).

* **chained**: the writers insert into ``journal_intake`` (what ``layers.journal.journal()``
  does) while ``--sealers`` of the server's own background sealers (``layers.journal.Sealer`` on
  an asyncpg pool, as ``geoservice serve`` runs one per process) seal concurrently. What counts
  is rows *in the chain* per second: the rows written, over pgbench's time plus the tail until
  the last of them is sealed (measured from pgbench's exit: a little more than the true tail).
* **plain**: the same INSERTs into ``journal_plain`` (the journal's columns, an identity
  number, no trigger), rows per second by pgbench's time.

Two kinds of transaction:

* ``autocommit``: the INSERT alone, its own transaction (one round trip);
* ``explicit``: BEGIN; INSERT; COMMIT as three round trips, as a caller that journals inside its
  own transaction does.

``--sync``: ``server`` keeps the server's synchronous_commit, ``on`` makes every writer wait for
its commit's WAL flush. Each measurement alternates which side goes first; medians of ``--runs``.
``--before`` also measures the design this replaced (a trigger locking the head row until the
writer's commit, numbering and chaining inside the writer's transaction), autocommit at the
server's commit setting. At the end the chain is verified (``layers.journal.verify_chain``), the
numbers counted and the intake checked empty."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import scratch_database  # noqa: E402

PLAIN_TABLE = """
CREATE TABLE journal_plain (LIKE journal INCLUDING DEFAULTS);
ALTER TABLE journal_plain ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY, ADD PRIMARY KEY (seq),
    ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;
"""

# The design before sealing after commit (``--before``): a BEFORE INSERT trigger locks a head row
# until the writer's transaction ends, numbers, stamps and chains the row.
BEFORE_TABLE = r"""
CREATE TABLE journal_locked (LIKE journal INCLUDING DEFAULTS);
ALTER TABLE journal_locked ADD PRIMARY KEY (seq);
CREATE TABLE bench_locked_head (one boolean PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO bench_locked_head VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');
CREATE FUNCTION bench_locked_chain() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    v_seq bigint;
    v_hash bytea;
BEGIN
    SELECT seq, hash INTO STRICT v_seq, v_hash FROM bench_locked_head FOR UPDATE;
    NEW.seq := v_seq + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := v_hash;
    NEW.hash := sha256(v_hash || journal_canonical(NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.result, NEW.object,
                                                   NEW.layer_id, NEW.version, NEW.client, NEW.detail));
    UPDATE bench_locked_head SET seq = NEW.seq, hash = NEW.hash;
    RETURN NEW;
END $fn$;
CREATE TRIGGER chain BEFORE INSERT ON journal_locked FOR EACH ROW EXECUTE FUNCTION bench_locked_chain();
"""

INSERT = ("INSERT INTO {table} (actor, action, result, object, client, detail) VALUES "
          "('IIN' || :client_id, 'bench.append', 'ok', 'bench:' || :i, 'bench', jsonb_build_object('i', :i));")

PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"


def script(table: str, mode: str) -> str:
    body = "\\set i random(1, 1000000)\n"
    insert = INSERT.format(table=table)
    return body + (insert + "\n" if mode == "autocommit" else f"BEGIN;\n{insert}\nCOMMIT;\n")


def pgbench(url: str, table: str, mode: str, clients: int, seconds: float, sync: str,
            workdir: Path) -> tuple[int, float]:
    """(transactions done, pgbench's rate of them without the connection time)."""
    path = workdir / f"{table}_{mode}.sql"
    path.write_text(script(table, mode))
    env = dict(os.environ)
    if sync != "server":
        env["PGOPTIONS"] = f"-c synchronous_commit={sync}"
    out = subprocess.run([PGBENCH, "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(int(seconds)),
                          "-f", str(path), url], capture_output=True, text=True, env=env, timeout=seconds * 10 + 60)
    if out.returncode != 0:
        raise SystemExit(f"pgbench failed: {out.stderr}\n{out.stdout}")
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    done = re.search(r"number of transactions actually processed: (\d+)", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    if found is None or done is None:
        raise SystemExit(f"no tps in pgbench's output:\n{out.stdout}")
    if failed and int(failed.group(1)):
        raise SystemExit(f"pgbench: {failed.group(1)} failed transactions on {table}:\n{out.stdout}")
    return int(done.group(1)), float(found.group(1))


class BackgroundSealers:
    """``n`` of the server's sealers (``layers.journal.Sealer``, each on its own asyncpg pool,
    as one per server process), on an event loop in a thread of their own."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sealers", daemon=True)
        self.sealers: list[Any] = []
        self.pools: list[Any] = []

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def __enter__(self) -> BackgroundSealers:
        from geoservice.kernel.pools import create_pool
        from layers.journal import Sealer

        async def begin() -> None:
            for _ in range(self.n):
                pool = await create_pool(self.url, min_size=1, max_size=2)
                sealer = Sealer(pool)
                await sealer.start()
                self.pools.append(pool)
                self.sealers.append(sealer)

        self.thread.start()
        self._run(begin())
        return self

    def __exit__(self, *exc: object) -> None:
        async def end() -> None:
            for sealer, pool in zip(self.sealers, self.pools, strict=True):
                await sealer.stop()
                await pool.close()

        self._run(end())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def head(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT seq FROM journal_head").fetchone()[0])  # type: ignore[index]


def chained(url: str, mode: str, clients: int, seconds: float, sync: str, workdir: Path) -> tuple[float, float]:
    """(rows in the chain per second, the tail after the writers stopped, in seconds)."""
    with psycopg.connect(url, autocommit=True) as conn:
        start = head(conn)
        done, tps = pgbench(url, "journal_intake", mode, clients, seconds, sync, workdir)
        stopped = time.monotonic()
        # The sealers' work, not ours: we only look, until every committed row is in the chain.
        while head(conn) < start + done or conn.execute("SELECT 1 FROM journal_intake LIMIT 1").fetchone():
            time.sleep(0.002)
        tail = time.monotonic() - stopped
        rows = head(conn) - start
    return rows / (done / tps + tail), tail


def measure(url: str, mode: str, args: argparse.Namespace, sync: str, workdir: Path) -> tuple[float, float, float]:
    """Medians of ``--runs`` (alternating which side goes first): chained rows/s, plain rows/s,
    the chained side's tail."""
    chain, plain, tails = [], [], []
    for run in range(args.runs):
        for side in ("chained", "plain") if run % 2 == 0 else ("plain", "chained"):
            if side == "chained":
                rate, tail = chained(url, mode, args.clients, args.seconds, sync, workdir)
                chain.append(rate)
                tails.append(tail)
            else:
                plain.append(pgbench(url, "journal_plain", mode, args.clients, args.seconds, sync, workdir)[1])
    print(f"    runs: chained {[round(x) for x in chain]}, plain {[round(x) for x in plain]}, "
          f"tails {[round(t * 1000) for t in tails]} ms", flush=True)
    return statistics.median(chain), statistics.median(plain), statistics.median(tails)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sealers", type=int, default=1, help="background sealers (server processes)")
    parser.add_argument("--modes", default="autocommit,explicit")
    parser.add_argument("--sync", default="server,on")
    parser.add_argument("--before", action="store_true",
                        help="also measure the design this replaced (autocommit, the server's synchronous_commit)")
    args = parser.parse_args()
    from geoservice.messages import register_all

    register_all()

    with scratch_database("gs_bench_journal") as url, tempfile.TemporaryDirectory() as tmp:
        from layers.journal import verify_chain

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(PLAIN_TABLE)
            conn.execute(BEFORE_TABLE)
            server_sync = conn.execute("SHOW synchronous_commit").fetchone()[0]  # type: ignore[index]
            fsync = conn.execute("SHOW fsync").fetchone()[0]  # type: ignore[index]
        print(f"{args.clients} writers, {args.sealers} sealer(s), {args.seconds:g} s per measurement, median of "
              f"{args.runs}; server: synchronous_commit={server_sync}, fsync={fsync}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'sync':<16}{'transaction':<12}{'chained rows/s':>16}{'plain rows/s':>14}{'ratio':>8}{'tail':>9}"
              "  goal >= 0.5")
        with BackgroundSealers(url, args.sealers):
            for sync in args.sync.split(","):
                for mode in args.modes.split(","):
                    c, p, tail = measure(url, mode, args, sync, Path(tmp))
                    label = f"server ({server_sync})" if sync == "server" else sync
                    print(f"{label:<16}{mode:<12}{c:>16,.0f}{p:>14,.0f}{c / p:>8.2f}{tail * 1000:>7.0f}ms  "
                          f"{'met' if c / p >= 0.5 else 'NOT MET'}", flush=True)
        if args.before:
            locked, plain = [], []
            for run in range(args.runs):
                order = (("journal_locked", locked), ("journal_plain", plain))
                for table, into in order if run % 2 == 0 else reversed(order):
                    into.append(pgbench(url, table, "autocommit", args.clients, args.seconds, "server",
                                        Path(tmp))[1])
            b, p = statistics.median(locked), statistics.median(plain)
            print(f"before (head locked to commit), autocommit: {b:,.0f} rows/s vs plain {p:,.0f}: {b / p:.2f}   "
                  f"runs: {[round(x) for x in locked]}, plain {[round(x) for x in plain]}", flush=True)
        with psycopg.connect(url) as conn:
            report = verify_chain(conn)
            gaps = conn.execute("SELECT max(seq) - min(seq) + 1 - count(*) FROM journal").fetchone()[0]  # type: ignore[index]
            waiting = conn.execute("SELECT count(*) FROM journal_intake").fetchone()[0]  # type: ignore[index]
        print(f"chain after the bench: {report.text('en')} Missing numbers: {gaps}, intake rows left: {waiting}, "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
