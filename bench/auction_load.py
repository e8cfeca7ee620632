"""The auction hall under load (issue 10, "Numbers"): 1,000 WebSocket bidders on one lot served
by `geoservice serve --workers 2` (one port, the two worker processes share the listening
socket), and 100 lots in parallel with 10 bidders each at rising offered rates.

    .venv/bin/python bench/auction_load.py [--bidders 1000] [--runs 3] [--paced 40] [--rate 2]
                                           [--burst 100] [--lots 100] [--per-lot 10]
                                           [--rates 20,50,100,200,400] [--step-seconds 4]
                                           [--workers 2] [--only one,many]

Every bidder is a person of the register with an RSA-2048 signing certificate of the demo PKI
(the certificates share a handful of keys: generating 1,000 keys would take minutes and changes
nothing the server does), an account and a session made through cadastre.accounts, and an
admitted participant row written in SQL (as tests/test_bidding.py does). Each bidder is an asyncio
`websockets` client with its own connection and `Authorization: Bearer` session, without
permessage-deflate unless `--deflate` (browsers offer it, and uvicorn then compresses every frame
once per connection: see bench/README.md). Bids are real: a detached CMS over the RFC 8785 JSON of each
bid, all made before the clock starts.

Run 1 (one lot, `--bidders` clients), `--runs` times on a fresh lot each:
* connect every client (their `participant.login` events fan out too), wait until every client
  has the journal's head; RSS of the worker processes before and after (per connection);
* **paced**: `--paced` bids at `--rate` a second, bidders in turn, amounts starting bonus + k*step
  (each valid when sent), and after every 10th a deliberately too-low one (the amount just
  accepted, from the next bidder): latency from a bid's send to its event (by seq; an `event`
  frame, or one of a `state` frame's `events`) having reached EVERY client;
* **burst**: `--burst` bids back to back (the next sent when the previous is acknowledged):
  accepted bids/s on one lot and the same latency;
* checks against the journal: every ack is one `auction_bids` row and one `bid.submitted`/
  `bid.rejected` event with that seq, every accepted row was acknowledged (lost / duplicated: must
  be 0), and every client got every bid's event exactly once.
The peer: a plain `websockets` broadcast server (one process) with the same clients: for a
client's message it answers the sender, then broadcasts (`websockets.broadcast`) one frame of the
size of our `state` frame with the bid's event in it to every client, as the hall does (before the
hall sent one frame per event: the peer then sent two, the `event` and the `state`); the same paced
and back-to-back schedules, same latency. Server and client CPU per bid are printed beside.

Run 2: `--lots` lots with `--per-lot` bidders each (all connected at once), bids offered open-loop
at each rate of `--rates` (bids/s over all lots, round robin over the lots) for `--step-seconds`:
accepted/s, latency to every client of the lot, rejections and errors per step; stops after the
step where p99 passes 1 s or errors appear.

Clients and servers share the 2 cores: the client process (1,000 connections receiving every
broadcast) is a good part of the load. Load average is printed; the machine is shared."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import ROOT, scratch_database

sys.path.insert(0, str(ROOT))

START = Decimal("1000000.00")
STEP = Decimal("50000.00")
SEQ = re.compile(r'"seq":(\d+)')
WAIT_SECONDS = 20.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


# --- people, lots and signed bids ----------------------------------------------------------------------

@dataclass
class Bidder:
    iin: str
    cert: Any
    token: str
    account_id: int


def make_bidders(url: str, pki: Any, count: int) -> list[Bidder]:
    import psycopg

    from cadastre import accounts
    from cadastre.eds.pki import Identity, KeyPair
    from cadastre.registers import TableRegisters

    keys = [KeyPair.generate("RSA-SHA256") for _ in range(8)]
    ca = pki.authorities["nca-rsa"]
    out = []
    with psycopg.connect(url) as conn:
        iins = [f"0505055{n:05d}" for n in range(count)]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO register_entries (type, id, name, status) VALUES ('individual', %s, %s, "
                            "'active') ON CONFLICT (type, id) DO NOTHING",
                            [(iin, f"ҚАТЫСУШЫ {n}") for n, iin in enumerate(iins)])
        registers = TableRegisters(conn)
        for n, iin in enumerate(iins):
            cert = ca.issue(Identity(f"ҚАТЫСУШЫ{n}", iin=iin), purpose="signature", key=keys[n % len(keys)])
            result = accounts.sign_in(conn, registers, accounts.Identity(iin), method="demo",
                                      lifetime=timedelta(hours=3), client="bench")
            out.append(Bidder(iin, cert, result.token, int(result.account_id)))
        conn.commit()
    return out


def make_lot(conn: Any, bidders: list[Bidder]) -> int:
    number = f"AUC-9{uuid.uuid4().int % 1000:03d}-{uuid.uuid4().int % 10**8:08d}"
    row = conn.execute(
        "INSERT INTO auctions (number, name, kind, geom, area_km2, block_count, starting_bonus, participation_fee, "
        "deposit, step, starts_at, duration, extension, ends_at, status, created_by) VALUES (%s, 'Жүктеме', "
        "'exploration-licence', ST_Multi(ST_MakeEnvelope(70, 48, 70.1, 48.1, 4326)), 10, 4, %s, 10000, %s, %s, "
        "clock_timestamp() - interval '1 hour', interval '1 minute', interval '1 minute', "
        "clock_timestamp() + interval '6 hours', 'open', 'bench') RETURNING id",
        (number, START, START, STEP)).fetchone()
    auction = int(row[0])
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO auction_participants (auction_id, number, iin, account_id, signer_iin, canonical, "
                        "signature, verification, status) VALUES (%s, %s, %s, %s, %s, '{}', '\\x00', '{}', "
                        "'admitted')", [(auction, n + 1, b.iin, b.account_id, b.iin) for n, b in enumerate(bidders)])
    conn.commit()
    return auction


@dataclass
class Bid:
    auction: int
    bidder: int       # index into the lot's clients
    amount: Decimal
    key: str
    text: str         # the frame, signed
    valid: bool       # meant to be accepted (False: deliberately too low)


def sign_bid(auction: int, bidder_index: int, cert: Any, amount: Decimal, valid: bool) -> Bid:
    import rfc8785

    from cadastre.eds.pki import sign_cms

    key = uuid.uuid4().hex
    bid = {"auction": auction, "amount": str(amount), "idempotency_key": key}
    cms = sign_cms(rfc8785.dumps(bid), cert, detached=True)
    frame = json.dumps({"type": "bid", "bid": bid, "signature": base64.b64encode(cms).decode()})
    return Bid(auction, bidder_index, amount, key, frame, valid)


def schedule(auction: int, certs: list[Any], count: int, *, first_k: int = 0, too_low_every: int = 10) -> list[Bid]:
    """``count`` valid bids in turn (amount START + k*STEP), with a too-low one after every
    ``too_low_every``-th (the amount just bid, from the next bidder)."""
    out = []
    n = len(certs)
    for k in range(first_k, first_k + count):
        out.append(sign_bid(auction, k % n, certs[k % n], START + k * STEP, True))
        if too_low_every and (k + 1) % too_low_every == 0:
            out.append(sign_bid(auction, (k + 1) % n, certs[(k + 1) % n], START + k * STEP, False))
    return out


# --- the clients -------------------------------------------------------------------------------------

@dataclass(eq=False)
class Conn:
    """One client: every frame's arrival time by seq (events), and the answers to its bids."""
    ws: Any = None
    events: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0
    head: int = 0                       # the highest seq seen (event or state)
    answers: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    errors: int = 0
    closed: int | None = None
    task: asyncio.Task[None] | None = None
    seq_waiters: dict[int, list[asyncio.Future[None]]] = field(default_factory=dict)

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for text in self.ws:
                now = time.perf_counter()
                if text.startswith('{"type":"event"'):
                    m = SEQ.search(text)
                    if m:
                        seq = int(m.group(1))
                        if seq in self.events:
                            self.duplicates += 1
                        else:
                            self.events[seq] = now
                        self._seen(seq)
                elif text.startswith('{"type":"state"'):
                    if '"events":[{' in text:  # the events since the previous frame
                        for event in json.loads(text)["events"]:
                            seq = int(event["seq"])
                            if seq in self.events:
                                self.duplicates += 1
                            else:
                                self.events[seq] = now
                    m = SEQ.search(text)  # the state's own seq comes before its events
                    if m:
                        self._seen(int(m.group(1)))
                elif text.startswith('{"type":"ack"') or text.startswith('{"type":"rejected"'):
                    frame = json.loads(text)
                    key = frame.get("idempotency_key")
                    self.answers[key] = (now, frame)
                    fut = self.waiting.pop(key, None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                elif text.startswith('{"type":"peer-state"'):
                    pass
                elif text.startswith('{"type":"peer"'):
                    self._peer(text, now)
                else:
                    self.errors += 1
                    for fut in self.waiting.values():
                        if not fut.done():
                            fut.set_result(json.loads(text))
                    self.waiting.clear()
        except ConnectionClosed as exc:
            self.closed = exc.rcvd.code if exc.rcvd else -1
        finally:
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_result({"type": "closed"})

    def _seen(self, seq: int) -> None:
        if seq > self.head:
            self.head = seq
            for s in [s for s in self.seq_waiters if s <= seq]:
                for fut in self.seq_waiters.pop(s):
                    if not fut.done():
                        fut.set_result(None)

    def _peer(self, text: str, now: float) -> None:
        m = SEQ.search(text)
        if m:
            seq = int(m.group(1))
            if seq in self.events:
                self.duplicates += 1
            else:
                self.events[seq] = now
            self._seen(seq)

    async def reached(self, seq: int) -> None:
        if self.head >= seq:
            return
        fut = asyncio.get_running_loop().create_future()
        self.seq_waiters.setdefault(seq, []).append(fut)
        await fut

    async def send_bid(self, bid: Bid) -> tuple[float, dict[str, Any]]:
        fut = asyncio.get_running_loop().create_future()
        self.waiting[bid.key] = fut
        sent = time.perf_counter()
        await self.ws.send(bid.text)
        try:
            frame = await asyncio.wait_for(fut, WAIT_SECONDS)
        except TimeoutError:
            frame = {"type": "timeout"}
        return sent, frame


DEFLATE = False  # --deflate: offer permessage-deflate as browsers do


async def connect_all(uri_of: list[str], tokens: list[str], *, at_once: int = 100) -> list[Conn]:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(at_once)

    async def one(uri: str, token: str) -> Conn:
        async with gate:
            c = Conn()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            c.ws = await connect(uri, additional_headers=headers, max_size=2**20, ping_interval=None,
                                 open_timeout=120, close_timeout=5,
                                 compression="deflate" if DEFLATE else None)
            c.task = asyncio.create_task(c.read())
            return c

    return list(await asyncio.gather(*(one(u, t) for u, t in zip(uri_of, tokens, strict=True))))


async def close_all(conns: list[Conn]) -> None:
    await asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)
    await asyncio.gather(*(c.task for c in conns if c.task), return_exceptions=True)


async def all_reached(conns: list[Conn], seq: int) -> float:
    await asyncio.gather(*(c.reached(seq) for c in conns))
    return time.perf_counter()


# --- measuring one lot ----------------------------------------------------------------------------

@dataclass
class Sent:
    bid: Bid
    sent: float
    frame: dict[str, Any]
    done: float = float("nan")      # the last client got the event
    acked: float = float("nan")     # the bidder got its answer


async def one_bid(conns: list[Conn], bid: Bid) -> Sent:
    sent, frame = await conns[bid.bidder].send_bid(bid)
    out = Sent(bid, sent, frame, acked=time.perf_counter())
    seq = frame.get("seq")
    if frame.get("type") == "ack" and isinstance(seq, int):
        try:
            out.done = await asyncio.wait_for(all_reached(conns, seq), WAIT_SECONDS)
        except TimeoutError:
            pass
    return out


async def paced(conns: list[Conn], bids: list[Bid], rate: float) -> list[Sent]:
    """Valid bids at ``rate`` a second (a too-low one right after its valid predecessor's ack)."""
    tasks = []
    t0 = time.perf_counter()
    i = 0
    slot = 0
    while i < len(bids):
        group = [bids[i]]
        if i + 1 < len(bids) and not bids[i + 1].valid:
            group.append(bids[i + 1])
        i += len(group)
        delay = t0 + slot / rate - time.perf_counter()
        slot += 1
        if delay > 0:
            await asyncio.sleep(delay)

        async def run(group: list[Bid] = group) -> list[Sent]:
            return [await one_bid(conns, b) for b in group]
        tasks.append(asyncio.create_task(run()))
    return [s for group in await asyncio.gather(*tasks) for s in group]


async def burst(conns: list[Conn], bids: list[Bid]) -> tuple[list[Sent], float]:
    """Back to back: each bid sent when the previous one is acknowledged; the broadcasts are
    awaited concurrently."""
    out: list[Sent] = []
    waits = []
    t0 = time.perf_counter()
    last_answer = t0
    for bid in bids:
        sent, frame = await conns[bid.bidder].send_bid(bid)
        last_answer = time.perf_counter()
        s = Sent(bid, sent, frame, acked=last_answer)
        out.append(s)
        seq = frame.get("seq")
        if frame.get("type") == "ack" and isinstance(seq, int):
            async def wait(s: Sent = s, seq: int = seq) -> None:
                with _suppress_timeout():
                    s.done = await asyncio.wait_for(all_reached(conns, seq), WAIT_SECONDS)
            waits.append(asyncio.create_task(wait()))
    await asyncio.gather(*waits)
    return out, last_answer - t0


class _suppress_timeout:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, *_: Any) -> bool:
        return kind is TimeoutError


def latencies(sent: list[Sent]) -> list[float]:
    return [(s.done - s.sent) * 1000 for s in sent if s.frame.get("type") == "ack" and s.done == s.done]


def ack_latencies(sent: list[Sent]) -> list[float]:
    return [(s.acked - s.sent) * 1000 for s in sent if s.frame.get("type") == "ack" and s.acked == s.acked]


def journal_check(url: str, auction: int, sent: list[Sent], conns: list[Conn]) -> dict[str, int]:
    """Acks against the journal, and every client's events against the bids' seqs."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT b.idempotency_key, b.seq, b.accepted, e.kind FROM auction_bids b JOIN "
                            "auction_events e ON e.auction_id = b.auction_id AND e.seq = b.seq "
                            "WHERE b.auction_id = %s", (auction,)).fetchall()
        events = conn.execute("SELECT kind, count(*) FROM auction_events WHERE auction_id = %s GROUP BY kind",
                              (auction,)).fetchall()
    by_key: dict[str, list[tuple[int, bool, str]]] = {}
    for key, seq, accepted, kind in rows:
        by_key.setdefault(key, []).append((int(seq), bool(accepted), kind))
    answered = {s.bid.key: s.frame for s in sent}
    lost = duplicated = mismatched = unanswered = unacked_accepted = 0
    for key, frame in answered.items():
        found = by_key.get(key, [])
        if frame.get("type") not in ("ack", "rejected"):
            unanswered += 1
            continue
        if not found:
            lost += 1
        elif len(found) > 1:
            duplicated += 1
        elif found[0][0] != frame.get("seq") or found[0][1] != (frame["type"] == "ack") or \
                found[0][2] != ("bid.submitted" if frame["type"] == "ack" else "bid.rejected"):
            mismatched += 1
    for key, found in by_key.items():
        if any(a for _, a, _ in found) and answered.get(key, {}).get("type") != "ack":
            unacked_accepted += 1
    bid_seqs = [s.frame["seq"] for s in sent if s.frame.get("type") in ("ack", "rejected")]
    missing = sum(1 for c in conns for seq in bid_seqs if seq not in c.events)
    kinds = {k: int(n) for k, n in events}
    return {"lost": lost, "duplicated": duplicated, "mismatched": mismatched, "unanswered": unanswered,
            "accepted_unacked": unacked_accepted, "client_missing": missing,
            "client_duplicates": sum(c.duplicates for c in conns),
            "too_low_accepted": sum(1 for s in sent if not s.bid.valid and s.frame.get("type") == "ack"),
            "valid_rejected": sum(1 for s in sent if s.bid.valid and s.frame.get("type") == "rejected"),
            "journal_submitted": kinds.get("bid.submitted", 0), "journal_rejected": kinds.get("bid.rejected", 0)}


# --- the servers ---------------------------------------------------------------------------------

class Server:
    """`geoservice serve --workers N` on a free port, logs in a file."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        from tests.live import free_port

        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "GEOSERVICE_RATE_LIMIT": "0"}
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from geoservice.cli import main; main()", "serve", "--workers", str(workers),
             "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log}") from None
                time.sleep(0.2)
        time.sleep(1.0)  # the other worker
        # The workers (uvicorn's Multiprocess spawns them), not multiprocessing's resource tracker.
        self.workers = [p for p in children(self.process.pid) if b"resource_tracker" not in
                        Path(f"/proc/{p}/cmdline").read_bytes()] or [self.process.pid]

    def rss_kb(self) -> int:
        return sum(rss_kb(p) for p in self.workers)

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in self.workers)

    def quiet(self, cap: float = 120.0) -> float:
        """Wait until the workers use under 10 % of a core over a second (the logouts of the last
        run's clients are journaled and fanned out after they leave); the seconds waited."""
        t = time.perf_counter()
        while time.perf_counter() - t < cap:
            before = self.cpu()
            time.sleep(1.0)
            if self.cpu() - before < 0.1:
                break
        return time.perf_counter() - t

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


PEER = r'''
import asyncio, sys, json
from websockets.asyncio.server import serve, broadcast

EVENT = "x" * int(sys.argv[2])
STATE = "y" * int(sys.argv[3])
clients = set()

async def hall(ws):
    clients.add(ws)
    try:
        async for message in ws:
            seq = int(message.split()[1])
            # What our hall sends: the ack to the sender, then to everyone the state with the
            # bid's event in it (one frame of the same size as ours; STATE empty: no second frame).
            await ws.send('{"type":"peer","seq":%d}' % seq)
            broadcast(clients, '{"type":"peer","seq":%d,"pad":"%s"}' % (seq, EVENT))
            if STATE:
                broadcast(clients, '{"type":"peer-state","seq":%d,"pad":"%s"}' % (seq, STATE))
    finally:
        clients.discard(ws)

async def main():
    async with serve(hall, "127.0.0.1", int(sys.argv[1]), max_size=2**20, ping_interval=None):
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
'''


class Peer:
    def __init__(self, event_bytes: int, state_bytes: int) -> None:
        from tests.live import free_port

        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-c", PEER, str(self.port), str(event_bytes),
                                         str(state_bytes)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.process.stdout.readline()

    def rss_kb(self) -> int:
        return rss_kb(self.process.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def peer_bid(conns: list[Conn], bidder: int, seq: int) -> Sent:
    c = conns[bidder]
    sent = time.perf_counter()
    await c.ws.send(f"b {seq}")
    await asyncio.wait_for(c.reached(seq), WAIT_SECONDS)
    s = Sent(Bid(0, bidder, Decimal(0), str(seq), "", True), sent, {"type": "ack", "seq": seq})
    s.done = await asyncio.wait_for(all_reached(conns, seq), WAIT_SECONDS)
    return s


async def peer_run(port: int, n: int, paced_count: int, rate: float, burst_count: int,
                   rss: Any, cpu: Any) -> dict[str, Any]:
    uri = f"ws://127.0.0.1:{port}/"
    before = rss()
    conns = await connect_all([uri] * n, [""] * n)
    await asyncio.sleep(1.0)
    after = rss()
    seq = 0
    tasks = []
    cpu0, client0 = cpu(), time.process_time()
    t0 = time.perf_counter()
    for i in range(paced_count):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        seq += 1
        tasks.append(asyncio.create_task(peer_bid(conns, seq % n, seq)))
    paced_sent = await asyncio.gather(*tasks)
    burst_sent = []
    waits = []
    t0 = time.perf_counter()
    for _ in range(burst_count):
        seq += 1
        c = conns[seq % n]
        sent = time.perf_counter()
        await c.ws.send(f"b {seq}")
        await asyncio.wait_for(c.reached(seq), WAIT_SECONDS)   # its own copy is its "ack"
        s = Sent(Bid(0, seq % n, Decimal(0), str(seq), "", True), sent, {"type": "ack", "seq": seq})
        burst_sent.append(s)

        async def wait(s: Sent = s, seq: int = seq) -> None:
            s.done = await asyncio.wait_for(all_reached(conns, seq), WAIT_SECONDS)
        waits.append(asyncio.create_task(wait()))
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*waits)
    bids = paced_count + burst_count
    server_ms, client_ms = (cpu() - cpu0) * 1000 / bids, (time.process_time() - client0) * 1000 / bids
    await close_all(conns)
    return {"paced": latencies(paced_sent), "burst": latencies(burst_sent), "burst_rate": burst_count / elapsed,
            "rss_per_conn": (after - before) / n, "server_ms": server_ms, "client_ms": client_ms}


# --- run 1 ---------------------------------------------------------------------------------------------

async def settle(conns: list[Conn], url: str, auction: int) -> int:
    """Wait until every client has the journal's head (the login events' fan-out done)."""
    import psycopg

    last = -1
    while True:
        with psycopg.connect(url) as conn:
            head = int(conn.execute("SELECT last_seq FROM auctions WHERE id = %s", (auction,)).fetchone()[0])
        if head == last:
            try:
                await asyncio.wait_for(asyncio.gather(*(c.reached(head) for c in conns)), 30)
                return head
            except TimeoutError:
                pass
        last = head
        await asyncio.sleep(0.5)


async def one_lot_run(url: str, server: Server, auction: int, bidders: list[Bidder], paced_bids: list[Bid],
                      burst_bids: list[Bid], rate: float) -> dict[str, Any]:
    uri = f"ws://127.0.0.1:{server.port}/api/auctions/{auction}/live"
    before = server.rss_kb()
    t, wall = time.perf_counter(), time.time()
    conns = await connect_all([uri] * len(bidders), [b.token for b in bidders])
    connected = time.perf_counter() - t
    head = await settle(conns, url, auction)
    settled = time.perf_counter() - t
    import psycopg
    with psycopg.connect(url) as conn:
        # When the last login was journaled (the database's clock, same machine): the storm's
        # time is that plus the fan-out of what was journaled.
        last_login = conn.execute("SELECT extract(epoch FROM max(at)) FROM auction_events WHERE auction_id = %s "
                                  "AND kind = 'participant.login'", (auction,)).fetchone()[0]
    journaled = float(last_login) - wall if last_login is not None else float("nan")
    after = server.rss_kb()
    cpu0, client0 = server.cpu(), time.process_time()
    paced_sent = await paced(conns, paced_bids, rate)
    burst_sent, burst_time = await burst(conns, burst_bids)
    await asyncio.sleep(0.5)
    bids = len(paced_bids) + len(burst_bids)
    server_ms, client_ms = (server.cpu() - cpu0) * 1000 / bids, (time.process_time() - client0) * 1000 / bids
    check = journal_check(url, auction, paced_sent + burst_sent, conns)
    closed = sum(1 for c in conns if c.closed is not None)
    errors = sum(c.errors for c in conns)
    await close_all(conns)
    accepted_burst = sum(1 for s in burst_sent if s.frame.get("type") == "ack")
    return {"connect": connected, "settle": settled, "journaled": journaled,
            "login_events": head, "rss_before": before, "rss_after": after,
            "rss_per_conn": (after - before) / len(bidders), "paced": latencies(paced_sent),
            "paced_ack": ack_latencies(paced_sent), "burst_ack": ack_latencies(burst_sent),
            "burst": latencies(burst_sent), "burst_rate": accepted_burst / burst_time, "check": check,
            "closed": closed, "errors": errors, "server_ms": server_ms, "client_ms": client_ms,
            "paced_accepted": sum(1 for s in paced_sent if s.frame.get("type") == "ack"),
            "paced_rejected": sum(1 for s in paced_sent if s.frame.get("type") == "rejected"),
            "burst_accepted": accepted_burst,
            "burst_rejected": sum(1 for s in burst_sent if s.frame.get("type") == "rejected")}


def ms(values: list[float]) -> str:
    return f"{percentile(values, 0.5):7.1f} {percentile(values, 0.99):7.1f}"


def run_one(args: argparse.Namespace, url: str, bidders: list[Bidder], server: Server) -> None:
    import psycopg

    certs = [b.cert for b in bidders]
    plans = []
    t = time.perf_counter()
    with psycopg.connect(url) as conn:
        for _ in range(args.runs):
            auction = make_lot(conn, bidders)
            bids = schedule(auction, certs, args.paced + args.burst)
            valid_seen = 0
            cut = len(bids)
            for i, b in enumerate(bids):
                if b.valid:
                    valid_seen += 1
                    if valid_seen == args.paced + 1:
                        cut = i
                        break
            plans.append((auction, bids[:cut], bids[cut:]))
    print(f"run 1: {args.runs} lots, {sum(len(p[1]) + len(p[2]) for p in plans)} bids signed in "
          f"{time.perf_counter() - t:.1f} s")
    event_bytes = state_bytes = 0
    ours, peers = [], []
    for run, (auction, paced_bids, burst_bids) in enumerate(plans):
        server.quiet()
        result = asyncio.run(one_lot_run(url, server, auction, bidders, paced_bids, burst_bids, args.rate))
        ours.append(result)
        if not event_bytes:
            with psycopg.connect(url) as conn:
                from cadastre import auction_journal
                from geoservice.api.auction_live import STATE_SQL, state_frame
                ev = [e for e in auction_journal.events(conn, auction) if e.kind == "bid.submitted"][0]
                event_bytes = len(json.dumps({"type": "event", **ev.public()}, separators=(",", ":"),
                                             ensure_ascii=False).encode())
                row = conn.execute(STATE_SQL.replace("$1", "%s"), (auction,), ).fetchone()
                names = ["id", "number", "status", "current_bonus", "starting_bonus", "step", "leader", "ends_at",
                         "last_seq", "now"]
                state_bytes = len(json.dumps(state_frame(dict(zip(names, row, strict=True))),
                                             separators=(",", ":")).encode()) + 10
        # One frame: the state (with `"events":[...]`) carrying the bid's event.
        peer = Peer(max(0, event_bytes + state_bytes + 12 - 30), 0)
        try:
            peers.append(asyncio.run(peer_run(peer.port, len(bidders), sum(1 for b in paced_bids if b.valid),
                                              args.rate, sum(1 for b in burst_bids if b.valid), peer.rss_kb, peer.cpu)))
        finally:
            peer.stop()
        r, p = result, peers[-1]
        print(f"  run {run + 1} (load {load()}): connect {r['connect']:.1f} s, all at the head "
              f"{r['settle']:.1f} s ({r['login_events']} login events, the last journaled at "
              f"{r['journaled']:.1f} s); paced p50/p99 {ms(r['paced'])} ms "
              f"(peer {ms(p['paced'])}); burst {r['burst_rate']:.0f} bids/s p50/p99 {ms(r['burst'])} ms "
              f"(peer {p['burst_rate']:.0f}/s {ms(p['burst'])}); RSS {r['rss_before'] // 1024} -> "
              f"{r['rss_after'] // 1024} MB; closed {r['closed']}, errors {r['errors']}")
        print(f"    send -> ack p50/p99: paced {ms(r['paced_ack'])} ms, back to back {ms(r['burst_ack'])} ms")
        print(f"    paced accepted/rejected {r['paced_accepted']}/{r['paced_rejected']}, burst "
              f"{r['burst_accepted']}/{r['burst_rejected']}; checks {r['check']}")

    def med(rows: list[dict[str, Any]], key: str, q: float | None = None) -> float:
        if q is None:
            return statistics.median(r[key] for r in rows)
        return statistics.median(percentile(r[key], q) for r in rows)

    print(f"\nrun 1: one lot, {len(bidders)} WebSocket bidders, `geoservice serve --workers {args.workers}`, "
          f"medians of {args.runs} runs (peer: plain websockets broadcast server, one process)")
    print(f"{'row':<40} {'ours':>10} {'peer':>10} {'ratio':>7}")
    rows = [
        (f"paced ({args.rate:g}/s) p50 ms", med(ours, "paced", 0.5), med(peers, "paced", 0.5)),
        (f"paced ({args.rate:g}/s) p99 ms (goal < 100)", med(ours, "paced", 0.99), med(peers, "paced", 0.99)),
        ("back to back: accepted bids/s", med(ours, "burst_rate"), med(peers, "burst_rate")),
        ("back to back p50 ms", med(ours, "burst", 0.5), med(peers, "burst", 0.5)),
        ("back to back p99 ms", med(ours, "burst", 0.99), med(peers, "burst", 0.99)),
        # A fresh server's figure: later runs reuse what the allocator kept from the first.
        ("RSS per connection KB (ours: run 1)", ours[0]["rss_per_conn"], med(peers, "rss_per_conn")),
        ("server CPU ms per bid (all processes)", med(ours, "server_ms"), med(peers, "server_ms")),
        ("client CPU ms per bid (this process)", med(ours, "client_ms"), med(peers, "client_ms")),
    ]
    for name, a, b in rows:
        print(f"{name:<40} {a:>10.1f} {b:>10.1f} {a / b if b else float('nan'):>7.2f}")
    keys = ["lost", "duplicated", "mismatched", "unanswered", "accepted_unacked", "client_missing",
            "client_duplicates", "too_low_accepted", "valid_rejected"]
    print("journal vs acks, summed over runs (all must be 0): "
          + ", ".join(f"{k} {sum(r['check'][k] for r in ours)}" for k in keys))


# --- run 2 -------------------------------------------------------------------------------------------

async def many_lots(args: argparse.Namespace, url: str, server: Server, lots: list[int],
                    bidders: list[Bidder], plans: dict[int, list[Bid]], rates: list[float]) -> list[dict[str, Any]]:
    per = args.per_lot
    uris, tokens = [], []
    for j, auction in enumerate(lots):
        for i in range(per):
            uris.append(f"ws://127.0.0.1:{server.port}/api/auctions/{auction}/live")
            tokens.append(bidders[j * per + i].token)
    conns = await connect_all(uris, tokens)
    rooms = {auction: conns[j * per:(j + 1) * per] for j, auction in enumerate(lots)}
    import psycopg
    with psycopg.connect(url) as conn:
        heads = dict(conn.execute("SELECT id, last_seq FROM auctions WHERE id = ANY(%s)", (lots,)).fetchall())
    await asyncio.gather(*(c.reached(int(heads[a])) for a in lots for c in rooms[a]))
    nexts = {a: 0 for a in lots}
    out = []
    for rate in rates:
        total = int(rate * args.step_seconds)
        tasks = []
        t0 = time.perf_counter()
        for i in range(total):
            auction = lots[i % len(lots)]
            bid = plans[auction][nexts[auction]]
            nexts[auction] += 1
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one_bid(rooms[auction], bid)))
        offered_for = time.perf_counter() - t0
        sent = await asyncio.gather(*tasks)
        end = max((s.done for s in sent if s.done == s.done), default=time.perf_counter())
        accepted = sum(1 for s in sent if s.frame.get("type") == "ack")
        rejected = sum(1 for s in sent if s.frame.get("type") == "rejected")
        errors = len(sent) - accepted - rejected
        lat = latencies(sent)
        out.append({"rate": rate, "offered": total / offered_for, "accepted_per_s": accepted / max(end - t0, 1e-9),
                    "accepted": accepted, "rejected": rejected, "errors": errors, "p50": percentile(lat, 0.5),
                    "p99": percentile(lat, 0.99), "load": load(),
                    "closed": sum(1 for c in conns if c.closed is not None)})
        r = out[-1]
        print(f"  {rate:>6g}/s offered ({r['offered']:.0f}/s kept): accepted {r['accepted_per_s']:.0f}/s "
              f"({accepted} ok, {rejected} rejected, {errors} errors), p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
              f"closed {r['closed']}, load {r['load']}")
        if errors or r["closed"] or r["p99"] > 1000:
            break
        await asyncio.sleep(1.0)
    await close_all(conns)
    return out


def run_many(args: argparse.Namespace, url: str, bidders: list[Bidder], server: Server) -> None:
    import psycopg

    rates = [float(x) for x in args.rates.split(",")]
    per_lot_bids = int(sum(rates) * args.step_seconds / args.lots) + 2
    t = time.perf_counter()
    lots, plans = [], {}
    with psycopg.connect(url) as conn:
        for j in range(args.lots):
            group = bidders[j * args.per_lot:(j + 1) * args.per_lot]
            auction = make_lot(conn, group)
            lots.append(auction)
            plans[auction] = schedule(auction, [b.cert for b in group], per_lot_bids, too_low_every=0)
    waited = server.quiet()
    print(f"\nrun 2: {args.lots} lots x {args.per_lot} bidders, {per_lot_bids * args.lots} bids signed in "
          f"{time.perf_counter() - t:.1f} s; {args.step_seconds:g} s per offered rate (server quiet after "
          f"{waited:.0f} s)")
    asyncio.run(many_lots(args, url, server, lots, bidders, plans, rates))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bidders", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paced", type=int, default=40, help="paced valid bids per run")
    parser.add_argument("--rate", type=float, default=2.0, help="paced bids per second")
    parser.add_argument("--burst", type=int, default=100, help="back-to-back valid bids per run")
    parser.add_argument("--lots", type=int, default=100)
    parser.add_argument("--per-lot", type=int, default=10)
    parser.add_argument("--rates", default="20,50,100,200,400")
    parser.add_argument("--step-seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="one,many")
    parser.add_argument("--deflate", action="store_true",
                        help="clients offer permessage-deflate (as browsers do): every frame is compressed per "
                             "connection by the server and inflated by the client")
    args = parser.parse_args()
    global DEFLATE
    DEFLATE = args.deflate
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass

    import psycopg

    from cadastre.demo import load_people
    from cadastre.eds.pki import demo_pki

    print(f"load average at the start: {load()}")
    people = max(args.bidders if "one" in args.only else 0, args.lots * args.per_lot if "many" in args.only else 0)
    with tempfile.TemporaryDirectory() as scratch, scratch_database("geoservice_bench_auction") as url:
        with psycopg.connect(url) as conn:
            load_people(conn, Path(scratch) / "pki")
            conn.commit()
        pki = demo_pki(Path(scratch) / "pki")
        t = time.perf_counter()
        bidders = make_bidders(url, pki, people)
        print(f"{people} bidders with certificates and sessions in {time.perf_counter() - t:.1f} s")
        server = Server(url, args.workers, Path(scratch) / "server.log")
        print(f"server: geoservice serve --workers {args.workers} on port {server.port}, worker pids "
              f"{server.workers}")
        try:
            if "one" in args.only:
                run_one(args, url, bidders[:args.bidders], server)
            if "many" in args.only:
                run_many(args, url, bidders, server)
        finally:
            server.stop()
            text = (Path(scratch) / "server.log").read_text(errors="replace")
            warnings = [line for line in text.splitlines() if "WARNING" in line or "Traceback" in line]
            print(f"server log: {len(text.splitlines())} lines, {len(warnings)} warnings/tracebacks")
            for line in warnings[:10]:
                print("   ", line[:200])
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
