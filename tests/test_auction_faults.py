"""Faults in the auction hall (issue 10, "Faults"), for real:

* a PostgreSQL restart mid-auction under a running server process (a private cluster of this
  module, stopped and started as tests/test_outage.py does; never the shared one): every
  acknowledged bid is in the journal, the end time is the one the journal says, the hub LISTENs
  again, a client that stayed connected and one that reconnects with ``?since`` both catch up, a
  bid sent while the database is away is not acknowledged and its retry with the same key is
  accepted once;
* a burst of duplicate bid messages (one idempotency key, many times, from two connections of
  the same participant and by POST at once): accepted at most once, every duplicate answered
  with the first answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from cadastre import auction_journal
from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, Issued, demo_pki
from layers.access import Person
from tests.applicants import make_applicants, person, session_token
from tests.processes import PrivateCluster, ServerProcess, private_cluster
from tests.test_bidding import (
    START,
    STEP,
    bid_of,
    body,
    make_auction,
    register,
    until,
    ws_url,
)

LISTENING_SQL = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' "
                 "AND query ILIKE 'LISTEN %%auction_events%%'")


# --- a PostgreSQL restart mid-auction ------------------------------------------------------------------

class Stage:
    def __init__(self, cluster: PrivateCluster, process: ServerProcess, people: list[tuple[Person, Issued]]) -> None:
        self.cluster, self.server, self.people = cluster, process, people


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    tmp = Path(tmp_path_factory.mktemp("auction-faults"))
    with private_cluster() as pg:
        with psycopg.connect(pg.url) as c:
            load_people(c, tmp / "pki")
            c.commit()
        own_pki: DemoPki = demo_pki(tmp / "pki")
        with psycopg.connect(pg.url) as c:
            people = [(person(c, iin), cert) for iin, cert in make_applicants(c, own_pki, 2, prefix="0505055")]
            c.commit()
        process = ServerProcess({"DATABASE_URL": pg.url, "GEOSERVICE_VAR_DIR": str(tmp / "var"),
                                "GEOSERVICE_DB_CONNECT_TIMEOUT": "1", "GEOSERVICE_RETRY_AFTER_SECONDS": "1"},
                               tmp / "server.log")
        try:
            process.wait_started()
            process.wait_ready()
            yield Stage(pg, process, people)
        finally:
            process.stop()


def _listening(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        return int(c.execute(LISTENING_SQL).fetchone()[0])  # type: ignore[index]


def _wait_listening(url: str, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (n := _listening(url)) >= 1:
                return n
        except psycopg.OperationalError:
            pass
        time.sleep(0.1)
    return 0


async def answered(ws: Any, timeout: float = 30) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The answer to the bid just sent and, for an ack, the first state that includes it (it may
    come before the ack: the room can be woken by the commit's NOTIFY before the ack is queued)."""
    answer: dict[str, Any] | None = None
    states: list[dict[str, Any]] = []

    async def loop() -> tuple[dict[str, Any], dict[str, Any] | None]:
        nonlocal answer
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] in ("ack", "rejected", "error") and answer is None:
                answer = frame
            elif frame["type"] == "state":
                states.append(frame)
            if answer is not None and answer["type"] != "ack":
                return answer, None
            if answer is not None:
                done = [x for x in states if x["seq"] >= answer["seq"]]
                if done:
                    return answer, done[0]
    return await asyncio.wait_for(loop(), timeout)


def test_a_postgresql_restart_mid_auction_loses_no_acknowledged_bid(stage: Stage) -> None:
    url, base = stage.cluster.url, stage.server.base
    (a, a_cert), (b, b_cert) = stage.people
    with psycopg.connect(url) as c:
        # Close to its end with a 5-minute extension: each accepted bid moves the end.
        auction = make_auction(c, ends_in=timedelta(minutes=3), extension=timedelta(minutes=5))
        register(c, auction, 1, a)
        register(c, auction, 2, b)
        a_auth = {"Authorization": f"Bearer {session_token(c, a.iin)}"}
        b_auth = {"Authorization": f"Bearer {session_token(c, b.iin)}"}
        c.commit()
    assert _wait_listening(url) >= 1, "the hub is not listening to begin with"

    async def run() -> dict[str, Any]:
        acked: list[dict[str, Any]] = []
        async with connect(ws_url(base, auction), additional_headers=a_auth) as wa, \
                connect(ws_url(base, auction), additional_headers=b_auth) as wb:
            await until(wa, lambda f: f["type"] == "state")
            await until(wb, lambda f: f["type"] == "state")
            for ws, amount, cert in ((wa, START, a_cert), (wb, START + STEP, b_cert)):
                await ws.send(json.dumps({"type": "bid", **body(bid_of(auction, amount), cert)}))
                answer, state = await answered(ws)
                assert answer["type"] == "ack" and state is not None, answer
                acked.append(answer)
            seen_b = state["seq"]  # what B has seen when the database goes away

            await asyncio.to_thread(stage.cluster.down)
            try:
                # While the database is away a bid is not acknowledged: an error naming its key.
                away = bid_of(auction, START + 2 * STEP, "while-away")
                await wa.send(json.dumps({"type": "bid", **body(away, a_cert)}))
                answer, _ = await answered(wa)
                assert answer["type"] == "error" and answer["code"] == "db.unavailable", answer
                assert answer["idempotency_key"] == "while-away"
            finally:
                await asyncio.to_thread(stage.cluster.up)
            # B's connection went away meanwhile (as a client's may): B comes back with ?since.
            await wb.close()
            assert await asyncio.to_thread(_wait_listening, url) >= 1, "the hub did not LISTEN again"
            # The same bid again, same key: accepted, once.
            deadline = time.monotonic() + 30
            while True:
                await wa.send(json.dumps({"type": "bid", **body(away, a_cert)}))
                answer, state_a = await answered(wa)
                if answer["type"] != "error" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert answer["type"] == "ack" and answer["amount"] == "1100000.00", answer
            acked.append(answer)
            # The connection that stayed got the new state (its room reads the journal again).
            assert state_a is not None and state_a["seq"] >= answer["seq"]
            async with connect(ws_url(base, auction, since=seen_b), additional_headers=b_auth) as wb2:
                frames = [json.loads(await asyncio.wait_for(wb2.recv(), 10))]
                while frames[-1]["type"] != "state":
                    frames.append(json.loads(await asyncio.wait_for(wb2.recv(), 10)))
            return {"acked": acked, "state_a": state_a, "frames": frames, "seen_b": seen_b}

    out = asyncio.run(run())
    acked, frames = out["acked"], out["frames"]
    with psycopg.connect(url) as c:
        events = auction_journal.events(c, auction)
        row = c.execute("SELECT ends_at, current_bonus, leader, last_seq, status FROM auctions WHERE id = %s",
                        (auction,)).fetchone()
        keys = c.execute("SELECT idempotency_key FROM auction_bids WHERE auction_id = %s AND accepted",
                         (auction,)).fetchall()
    submitted = {e.seq: e for e in events if e.kind == "bid.submitted"}
    # Every acknowledged bid is in the journal, with its amount; nothing accepted twice.
    assert [(a["seq"], a["amount"]) for a in acked] == [(s, auction_journal.money(submitted[s].amount))
                                                        for s in sorted(submitted)]
    assert sorted(k for (k,) in keys).count("while-away") == 1 and len(keys) == 3
    ends_at, current, leader, last_seq, status = row
    # The end is the one the journal's extensions say (the first bid fell within the window).
    extensions = [e for e in events if e.kind == "auction.extended"]
    assert extensions and extensions[-1].detail["to"] == auction_journal.stamp(ends_at)
    assert status == "open" and (current, leader) == (START + 2 * STEP, 1)
    for state in (out["state_a"], frames[-1]):
        assert state["ends_at"] == auction_journal.stamp(ends_at), state
        assert (state["current_bonus"], state["leader"], state["status"]) == ("1100000.00", 1, "open")
    # The reconnecting client got every event after what it had seen, in order, none twice, as
    # the journal has them, up to the state it was sent.
    caught = [(f["seq"], f["kind"]) for f in frames if f["type"] == "event"]
    upto = frames[-1]["seq"]
    assert caught == [(e.seq, e.kind) for e in events if out["seen_b"] < e.seq <= upto], caught
    assert acked[-1]["seq"] in dict(caught) and upto <= last_seq
    log = stage.server.log.read_text()
    assert "Exception in ASGI application" not in log


# --- a burst of duplicates ------------------------------------------------------------------------------

def test_a_burst_of_replayed_bids_is_accepted_once_and_every_duplicate_gets_the_first_answer(stage: Stage) -> None:
    server = stage.server.base
    (a, a_cert), (b, _) = stage.people
    conn = psycopg.connect(stage.cluster.url)
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    token = session_token(conn, a.iin)
    conn.commit()
    auth = {"Authorization": f"Bearer {token}"}
    good = body(bid_of(auction, START, "burst-good"), a_cert)
    low = body(bid_of(auction, START - 1, "burst-low"), a_cert)

    async def run() -> tuple[list[dict[str, Any]], list[httpx.Response]]:
        async with connect(ws_url(server, auction), additional_headers=auth) as w1, \
                connect(ws_url(server, auction), additional_headers=auth) as w2:
            await until(w1, lambda f: f["type"] == "state")
            await until(w2, lambda f: f["type"] == "state")
            # Within the participant's burst (10, shared by both sockets): 2 x (3 good + 2 low).
            for _ in range(3):
                for ws in (w1, w2):
                    await ws.send(json.dumps({"type": "bid", **good}))
            for ws in (w1, w2, w1, w2):
                await ws.send(json.dumps({"type": "bid", **low}))
            async with httpx.AsyncClient(base_url=server, headers=auth, timeout=30) as http:
                posts = await asyncio.gather(*(http.post(f"/api/auctions/{auction}/bids", json=good)
                                               for _ in range(4)))
            answers = []
            for ws in (w1, w2):
                for _ in range(5):
                    answers.append(await until(ws, lambda f: f["type"] in ("ack", "rejected", "error")))
            return answers, list(posts)

    answers, posts = asyncio.run(run())
    acks = [x for x in answers if x["idempotency_key"] == "burst-good"]
    rejections = [x for x in answers if x["idempotency_key"] == "burst-low"]
    assert len(acks) == 6 and len(rejections) == 4, answers
    # Every duplicate answered with the first answer, word for word.
    assert all(x == acks[0] for x in acks) and acks[0]["type"] == "ack" and acks[0]["amount"] == "1000000.00"
    assert all(x == rejections[0] for x in rejections) and rejections[0]["type"] == "rejected"
    assert all(p.status_code == 201 and p.json()["seq"] == acks[0]["seq"] for p in posts), [p.text for p in posts]
    rows = conn.execute("SELECT idempotency_key, accepted, seq FROM auction_bids WHERE auction_id = %s ORDER BY seq",
                        (auction,)).fetchall()
    assert sorted((k, ok) for k, ok, _ in rows) == [("burst-good", True), ("burst-low", False)]
    submitted = [e for e in auction_journal.events(conn, auction) if e.kind in ("bid.submitted", "bid.rejected")]
    conn.close()
    assert len(submitted) == 2
