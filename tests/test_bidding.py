"""Bids in the auction hall (cadastre/bidding.py, geoservice/api/auction_live.py) on real PostGIS
with real signatures of the demo PKI: accepted and rejected bids (too low, not admitted, not
open, wrong signer), idempotent replays, the extension, the database's end, closing, one total
order under concurrent bidders, and the WebSocket hall against a live uvicorn server (two
clients get the broadcast, ?since catches up, a bad client closes only its own socket)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import rfc8785
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cadastre import auction_journal, bidding
from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, Issued, demo_pki, sign_cms
from cadastre.eds_trust import load_trust
from cadastre.registers import TableRegisters
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import get_settings
from layers.access import Person
from tests.applicants import make_applicants, person, session_token
from tests.live import live_server

STEP = Decimal("50000.00")
START = Decimal("1000000.00")


@pytest.fixture(scope="module")
def pki(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    directory = Path(tmp_path_factory.mktemp("bidding")) / "pki"
    with psycopg.connect(database_url) as conn:
        load_people(conn, directory)
        conn.commit()
    return demo_pki(directory)


@pytest.fixture(scope="module")
def bidders(database_url: str, pki: DemoPki) -> list[tuple[Person, Issued]]:
    """Eight people in the register with signing certificates and cabinet accounts."""
    with psycopg.connect(database_url) as conn:
        made = make_applicants(conn, pki, 8, prefix="0404045")
        out = [(person(conn, iin), cert) for iin, cert in made]
        conn.commit()
    return out


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as c:
        yield c


def make_auction(conn: psycopg.Connection, *, status: str = "open", ends_in: timedelta = timedelta(minutes=30),
                 extension: timedelta = timedelta(minutes=5)) -> int:
    number = f"AUC-9{uuid.uuid4().int % 1000:03d}-{uuid.uuid4().int % 10**8:08d}"
    row = conn.execute(
        "INSERT INTO auctions (number, name, kind, geom, area_km2, block_count, starting_bonus, participation_fee, "
        "deposit, step, starts_at, duration, extension, ends_at, status, created_by) VALUES (%s, 'Тест учаскесі', "
        "'exploration-licence', ST_Multi(ST_MakeEnvelope(70, 48, 70.1, 48.1, 4326)), 10, 4, %s, 10000, %s, %s, "
        "clock_timestamp() - interval '1 hour', interval '1 minute', %s, clock_timestamp() + %s, %s, 'test') "
        "RETURNING id", (number, START, START, STEP, extension, ends_in, status)).fetchone()
    conn.commit()
    return int(row[0])


def end_now(conn: psycopg.Connection, auction_id: int) -> None:
    """The auction's end is now (by the database's clock): a test moves it once its bids are in,
    rather than making the auction end a few wall-clock seconds after it was made."""
    conn.execute("UPDATE auctions SET ends_at = clock_timestamp() WHERE id = %s", (auction_id,))
    conn.commit()


def register(conn: psycopg.Connection, auction_id: int, number: int, who: Person, status: str = "admitted") -> None:
    conn.execute("INSERT INTO auction_participants (auction_id, number, iin, account_id, signer_iin, canonical, "
                 "signature, verification, status) VALUES (%s, %s, %s, %s, %s, '{}', '\\x00', '{}', %s)",
                 (auction_id, number, who.iin, who.account_id, who.iin, status))
    conn.commit()


def bid_of(auction_id: int, amount: Decimal | str, key: str | None = None) -> dict[str, Any]:
    return {"auction": auction_id, "amount": str(amount), "idempotency_key": key or uuid.uuid4().hex}


def signature(bid: dict[str, Any], cert: Issued) -> bytes:
    return sign_cms(rfc8785.dumps(bid), cert, detached=True)


def place(conn: psycopg.Connection, auction_id: int, bid: dict[str, Any], who: Person,
          cert: Issued) -> bidding.BidAnswer:
    trust, revocation = load_trust(conn)
    conn.commit()
    return bidding.place_bid(conn, auction_id, bid, signature(bid, cert), who, trust=trust, revocation=revocation,
                             registers=TableRegisters(conn), now=clock.now())


def head(conn: psycopg.Connection, auction_id: int) -> tuple[Any, ...]:
    row = conn.execute("SELECT current_bonus, leader, ends_at, last_seq, status FROM auctions WHERE id = %s",
                       (auction_id,)).fetchone()
    conn.commit()
    return tuple(row)  # type: ignore[arg-type]


def kinds(conn: psycopg.Connection, auction_id: int) -> list[str]:
    out = [e.kind for e in auction_journal.events(conn, auction_id)]
    conn.commit()
    return out


def codes(answer: bidding.BidAnswer) -> list[str]:
    return [r["code"] for r in answer.reasons]


# --- the domain -------------------------------------------------------------------------------------

def test_accepted_and_too_low_bids_are_stored_journaled_and_move_the_head(conn, bidders):
    (a, a_cert), (b, b_cert) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    below = place(conn, auction, bid_of(auction, START - 1), a, a_cert)
    assert not below.accepted and codes(below) == ["bidding.too_low"]
    assert below.reasons[0]["params"] == {"amount": "999999.00", "minimum": "1000000.00"}
    first = place(conn, auction, bid_of(auction, START), a, a_cert)
    assert first.accepted and first.amount == "1000000.00" and first.participant == 1
    # The next bid must be at least the current bonus plus one step.
    short = place(conn, auction, bid_of(auction, START + STEP - Decimal("0.01")), b, b_cert)
    assert codes(short) == ["bidding.too_low"]
    second = place(conn, auction, bid_of(auction, START + STEP), b, b_cert)
    assert second.accepted and second.seq == first.seq + 2
    assert head(conn, auction)[:2] == (START + STEP, 2)
    assert kinds(conn, auction) == ["bid.rejected", "bid.submitted", "bid.rejected", "bid.submitted"]
    rows = conn.execute("SELECT participant, amount, accepted, seq, canonical FROM auction_bids WHERE auction_id = %s "
                        "ORDER BY seq", (auction,)).fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [(1, False, 1), (1, True, 2), (2, False, 3), (2, True, 4)]
    assert json.loads(rows[1][4]) == {"auction": auction, "amount": "1000000.00",
                                      "idempotency_key": json.loads(rows[1][4])["idempotency_key"]}
    # The rejection's reasons read in every language.
    assert "1050000.00" in second.message("en")["amount"]
    assert [r["message"] for r in short.rendered_reasons("kk")][0] != [r["message"] for r in
                                                                       short.rendered_reasons("ru")][0]
    last_hash = conn.execute("SELECT last_hash FROM auctions WHERE id = %s", (auction,)).fetchone()[0]
    assert auction_journal.chain_problems(auction_journal.events(conn, auction), (4, bytes(last_hash))) == []


def test_rejections_not_admitted_not_open_wrong_signer_precision_and_strangers(conn, bidders):
    (a, a_cert), (b, b_cert), (c, c_cert) = bidders[0], bidders[1], bidders[2]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b, status="registered")
    not_admitted = place(conn, auction, bid_of(auction, START), b, b_cert)
    assert codes(not_admitted) == ["bidding.not_admitted"] and not_admitted.seq is not None
    # A's bid signed with C's certificate: the signer must be the participant.
    wrong = place(conn, auction, bid_of(auction, START), a, c_cert)
    assert codes(wrong) == ["reason.signer_not_applicant"]
    precise = place(conn, auction, bid_of(auction, "1000000.001"), a, a_cert)
    assert codes(precise) == ["bidding.amount_precision"]
    # Signed over other bytes than the bid.
    bid = bid_of(auction, START)
    trust, revocation = load_trust(conn)
    forged = bidding.place_bid(conn, auction, bid, signature({**bid, "amount": "9"}, a_cert), a, trust=trust,
                               revocation=revocation, registers=TableRegisters(conn), now=clock.now())
    assert not forged.accepted and codes(forged)
    with pytest.raises(Problem) as refused:
        place(conn, auction, bid_of(auction, START), c, c_cert)
    assert refused.value.key == "bidding.not_a_participant"
    conn.rollback()
    with pytest.raises(Problem) as malformed:
        place(conn, auction, {"auction": auction, "amount": 1000000}, a, a_cert)
    assert malformed.value.key == "bidding.malformed"
    conn.rollback()
    assert head(conn, auction)[0] is None
    assert kinds(conn, auction) == ["bid.rejected"] * 4
    published = make_auction(conn, status="published")
    register(conn, published, 1, a)
    early = place(conn, published, bid_of(published, START), a, a_cert)
    assert codes(early) == ["bidding.not_open"] and kinds(conn, published) == ["bid.rejected"]


def test_a_replayed_key_gets_the_first_answer_and_writes_nothing(database_url, conn, bidders):
    (a, a_cert) = bidders[0]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    first = place(conn, auction, bid_of(auction, START, "key-1"), a, a_cert)
    again = place(conn, auction, bid_of(auction, START, "key-1"), a, a_cert)
    other = place(conn, auction, bid_of(auction, START + 10 * STEP, "key-1"), a, a_cert)
    assert first.accepted and not first.replay
    assert (again.accepted, again.seq, again.amount, again.replay) == (True, first.seq, "1000000.00", True)
    assert (other.seq, other.amount) == (first.seq, "1000000.00")
    assert conn.execute("SELECT count(*) FROM auction_bids WHERE auction_id = %s", (auction,)).fetchone()[0] == 1
    assert kinds(conn, auction) == ["bid.submitted"]
    # A burst of the same bid at once: accepted once.
    bid = bid_of(auction, START + STEP, "key-2")
    answers: list[bidding.BidAnswer] = []

    def send() -> None:
        with psycopg.connect(database_url) as own:
            answers.append(place(own, auction, bid, a, a_cert))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 6 and {(x.accepted, x.seq) for x in answers} == {(True, first.seq + 1)}
    assert conn.execute("SELECT count(*) FROM auction_bids WHERE auction_id = %s", (auction,)).fetchone()[0] == 2


def test_a_bid_in_the_last_minutes_extends_the_end(conn, bidders):
    (a, a_cert) = bidders[0]
    auction = make_auction(conn, ends_in=timedelta(minutes=2), extension=timedelta(minutes=5))
    register(conn, auction, 1, a)
    before = head(conn, auction)[2]
    answer = place(conn, auction, bid_of(auction, START), a, a_cert)
    assert answer.accepted
    after = head(conn, auction)[2]
    assert after - before == timedelta(minutes=5)
    events = auction_journal.events(conn, auction)
    assert [e.kind for e in events] == ["bid.submitted", "auction.extended"]
    assert events[1].detail == {"from": auction_journal.stamp(before), "to": auction_journal.stamp(after),
                                "by_seq": answer.seq}
    # Far from the end: no extension.
    calm = make_auction(conn, ends_in=timedelta(minutes=30))
    register(conn, calm, 1, a)
    place(conn, calm, bid_of(calm, START), a, a_cert)
    assert kinds(conn, calm) == ["bid.submitted"]


def test_the_database_refuses_accepted_bids_after_the_end(conn, bidders):
    (a, a_cert) = bidders[0]
    auction = make_auction(conn, ends_in=timedelta(seconds=-1))
    register(conn, auction, 1, a)
    # A good bid after the end reaches the trigger (GSA01): its bid.submitted is rolled back and
    # the rejection is written in a fresh transaction, with the same seq.
    late = place(conn, auction, bid_of(auction, START), a, a_cert)
    assert codes(late) == ["bidding.ended"] and late.seq == 1
    assert head(conn, auction)[0] is None and kinds(conn, auction) == ["bid.rejected"]
    low_and_late = place(conn, auction, bid_of(auction, START - 1), a, a_cert)
    assert codes(low_and_late) == ["bidding.too_low", "bidding.ended"]
    # Whatever a process believes, an accepted bid after ends_at fails at its INSERT.
    with pytest.raises(psycopg.DatabaseError) as refused:
        auction_journal.append(conn, auction, "bid.submitted", participant=1, amount=START)
        conn.execute("INSERT INTO auction_bids (auction_id, participant, amount, idempotency_key, canonical, "
                     "signature, verification, accepted, seq) VALUES (%s, 1, %s, 'x', '{}', '\\x00', '{}', true, 2)",
                     (auction, START))
    assert refused.value.sqlstate == bidding.GSA_NOT_OPEN
    conn.rollback()


def test_close_due_concludes_the_deal_and_freezes_the_row(conn, bidders):
    (a, a_cert), (b, b_cert) = bidders[0], bidders[1]
    # Not a few seconds of wall clock to the end: on a loaded machine the two signed bids could
    # take longer, and be refused as late. The end is moved to now once they are in.
    auction = make_auction(conn, ends_in=timedelta(minutes=10), extension=timedelta(0))
    empty = make_auction(conn, ends_in=timedelta(seconds=-1))
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    place(conn, auction, bid_of(auction, START), a, a_cert)
    place(conn, auction, bid_of(auction, START + STEP), b, b_cert)
    closed_first = bidding.close_due(conn, clock.now(), protocol=None)
    assert empty in closed_first and auction not in closed_first
    assert kinds(conn, empty) == ["auction.closed"]
    end_now(conn, auction)
    assert auction in bidding.close_due(conn, clock.now(), protocol=None)
    assert auction not in bidding.close_due(conn, clock.now(), protocol=None)  # closed once
    events = auction_journal.events(conn, auction)
    assert [e.kind for e in events][-2:] == ["auction.closed", "deal.concluded"]
    assert (events[-1].participant, events[-1].amount, events[-1].detail["winner"]) == (2, START + STEP, 2)
    row = conn.execute("SELECT status, winner, final_bonus, closed_at IS NOT NULL FROM auctions WHERE id = %s",
                       (auction,)).fetchone()
    assert tuple(row) == ("closed", 2, START + STEP, True)
    conn.commit()
    with pytest.raises(psycopg.DatabaseError) as frozen:
        conn.execute("UPDATE auctions SET final_bonus = 1 WHERE id = %s", (auction,))
    assert frozen.value.sqlstate == "GSA00"
    conn.rollback()
    # A bid on a closed auction is answered, not stored (the row and journal are frozen).
    late = place(conn, auction, bid_of(auction, START + 3 * STEP), a, a_cert)
    assert not late.accepted and late.seq is None and "bidding.not_open" in codes(late)


def test_concurrent_bidders_get_one_total_order(database_url, conn, bidders):
    auction = make_auction(conn)
    for n, (who, _) in enumerate(bidders, start=1):
        register(conn, auction, n, who)
    acked: list[bidding.BidAnswer] = []
    lock = threading.Lock()

    def bidder(who: Person, cert: Issued) -> None:
        with psycopg.connect(database_url) as own:
            for _ in range(6):
                current = head(own, auction)[0]
                answer = place(own, auction, bid_of(auction, START if current is None else current + STEP), who, cert)
                with lock:
                    acked.append(answer)

    threads = [threading.Thread(target=bidder, args=pair) for pair in bidders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = auction_journal.events(conn, auction)
    accepted = [e for e in events if e.kind == "bid.submitted"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) == len(acked) == 48
    # In journal order, every accepted amount is at least the previous plus one step.
    amounts = [e.amount for e in accepted]
    assert amounts[0] == START and all(y >= x + STEP for x, y in zip(amounts, amounts[1:], strict=False))
    assert {x.seq for x in acked if x.accepted} == {e.seq for e in accepted}
    current, leader, _, last_seq, _ = head(conn, auction)
    assert current == max(amounts) and leader == accepted[-1].participant and last_seq == len(events)
    row = conn.execute("SELECT last_hash FROM auctions WHERE id = %s", (auction,)).fetchone()
    assert auction_journal.chain_problems(events, (last_seq, bytes(row[0]))) == []


# --- the hall over HTTP and the WebSocket ------------------------------------------------------------

@pytest.fixture(scope="module")
def server(database_url: str, pki: DemoPki) -> Iterator[str]:
    with live_server() as base:
        yield base


def body(bid: dict[str, Any], cert: Issued) -> dict[str, Any]:
    return {"bid": bid, "signature": base64.b64encode(signature(bid, cert)).decode()}


def test_post_bid_acknowledges_after_commit_and_rejects_with_reasons(server, conn, bidders):
    (a, a_cert) = bidders[0]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    headers = {"Authorization": f"Bearer {session_token(conn, a.iin)}", "Accept-Language": "ru"}
    conn.commit()
    r = httpx.post(f"{server}/api/auctions/{auction}/bids", json=body(bid_of(auction, START, "h1"), a_cert),
                   headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"accepted": True, "idempotency_key": "h1", "seq": 1, "amount": "1000000.00",
                        "participant": 1, "replay": False}
    assert head(conn, auction)[0] == START
    low = httpx.post(f"{server}/api/auctions/{auction}/bids", json=body(bid_of(auction, START, "h2"), a_cert),
                     headers=headers)
    assert low.status_code == 422 and low.headers["content-type"].startswith("application/problem+json")
    problem = low.json()
    assert problem["reasons"][0]["code"] == "bidding.too_low" and "1050000.00" in problem["reasons"][0]["message"]
    assert problem["seq"] == 2
    anonymous = httpx.post(f"{server}/api/auctions/{auction}/bids", json=body(bid_of(auction, START), a_cert))
    assert anonymous.status_code == 401


def ws_url(base: str, auction: int, since: int | None = None) -> str:
    return base.replace("http://", "ws://") + f"/api/auctions/{auction}/live" + (f"?since={since}" if since is not None
                                                                                  else "")


async def until(ws: Any, test: Any, timeout: float = 10, held: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The first frame that passes `test`; frames passed over are kept in `held` when given, and searched first."""
    for frame in list(held or ()):
        held.remove(frame)  # type: ignore[union-attr]
        if test(frame):
            return frame

    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if test(frame):
                return frame
            if held is not None:
                held.append(frame)
    return await asyncio.wait_for(loop(), timeout)


def test_two_clients_get_the_broadcast_and_the_ack_comes_after_commit(server, conn, bidders):
    (a, a_cert), (b, _) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    a_token, b_token = session_token(conn, a.iin), session_token(conn, b.iin)
    conn.commit()

    async def run() -> None:
        async with connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {a_token}"}) as wa, \
                connect(ws_url(server, auction), additional_headers={"Cookie": f"gs_session={b_token}"}) as wb:
            sa = await until(wa, lambda f: f["type"] == "state")
            sb = await until(wb, lambda f: f["type"] == "state")
            assert (sa["you"], sb["you"], sa["status"], sa["current_bonus"], sa["step"]) == (
                1, None, "open", None, "50000.00")
            bid = bid_of(auction, START, "ws-1")
            await wa.send(json.dumps({"type": "bid", **body(bid, a_cert)}))
            # The broadcast and the ack travel separately, so either may come first: keep what is passed over.
            held: list[dict[str, Any]] = []
            ack = await until(wa, lambda f: f["type"] in ("ack", "rejected", "error"), held=held)
            assert ack["type"] == "ack" and ack["amount"] == "1000000.00", ack
            # Committed before the ack: the database has it.
            assert head(conn, auction)[0] == START
            for ws, you, kept in ((wa, 1, held), (wb, None, [])):
                # One frame: the state with the bid's event in it (the login is journaled, not shown).
                state = await until(ws, lambda f: f["type"] == "state" and f["current_bonus"] is not None,
                                    held=kept)
                assert (state["current_bonus"], state["leader"], state["you"]) == ("1000000.00", 1, you)
                assert [(e["seq"], e["kind"], e["participant"]) for e in state["events"]] == [
                    (ack["seq"], "bid.submitted", 1)], state
            # The watcher may not bid.
            await wb.send(json.dumps({"type": "bid", **body(bid, a_cert)}))
            assert (await until(wb, lambda f: f["type"] == "error"))["code"] == "bidding.watch_only"

    asyncio.run(run())
    assert kinds(conn, auction)[:2] == ["participant.login", "bid.submitted"]
    # The logout is journaled by the server once it sees the close: wait for it.
    deadline = time.monotonic() + 10
    while kinds(conn, auction)[-1] != "participant.logout" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kinds(conn, auction)[-1] == "participant.logout"


def test_reconnect_with_since_gets_the_missed_events(server, conn, bidders):
    (a, a_cert), (b, b_cert) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    token = session_token(conn, b.iin)
    conn.commit()
    place(conn, auction, bid_of(auction, START), a, a_cert)
    missed = [place(conn, auction, bid_of(auction, START + STEP), b, b_cert).seq,
              place(conn, auction, bid_of(auction, START + 2 * STEP), a, a_cert).seq]

    async def run() -> list[dict[str, Any]]:
        async with connect(ws_url(server, auction, since=1), additional_headers={"Authorization": f"Bearer {token}"}) \
                as ws:
            frames = []
            while not frames or frames[-1]["type"] != "state":
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return frames

    frames = asyncio.run(run())
    assert [f["seq"] for f in frames if f["type"] == "event"][:2] == missed
    assert frames[-1]["current_bonus"] == "1100000.00" and frames[-1]["you"] == 2



def test_events_of_one_wake_up_reach_each_client_in_one_state_frame(server, conn, bidders, database_url):
    """Events committed together wake the room once: every client gets ONE state frame with them
    (presence left out), and a client that reconnects with ?since gets all of them, presence too,
    from the journal as event frames."""
    (a, _), (b, _) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    a_token, b_token = session_token(conn, a.iin), session_token(conn, b.iin)
    conn.commit()

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int]:
        async with connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {a_token}"}) as wa, \
                connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {b_token}"}) as wb:
            await until(wa, lambda f: f["type"] == "state")
            await until(wb, lambda f: f["type"] == "state")
            # A's login is journaled by the server; wait for it so that it is not in the batch.
            deadline = time.monotonic() + 10
            while "participant.login" not in kinds(conn, auction) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            before = head(conn, auction)[3]
            conn.commit()
            await asyncio.to_thread(_journal_together, auction)
            got = []
            for ws in (wa, wb):
                got.append(await until(ws, lambda f: f["type"] == "state" and f["seq"] >= before + 4))
            # While A (a participant) is still connected: its logout would be journaled after.
            async with connect(ws_url(server, auction, since=before),
                               additional_headers={"Authorization": f"Bearer {b_token}"}) as wc:
                caught = [json.loads(await asyncio.wait_for(wc.recv(), 10))]
                while caught[-1]["type"] != "state":
                    caught.append(json.loads(await asyncio.wait_for(wc.recv(), 10)))
        return got[0:1], got[1:2], caught, before

    def _journal_together(auction_id: int) -> None:
        with psycopg.connect(database_url) as other:
            for kind in ("bid.rejected", "participant.logout", "bid.rejected", "auction.extended"):
                auction_journal.append(other, auction_id, kind, participant=1 if kind != "auction.extended" else None,
                                       detail={"reason": "test"} if kind != "participant.logout" else {})
            other.commit()

    (sa,), (sb,), caught, before = asyncio.run(run())
    for state, you in ((sa, 1), (sb, None)):
        assert state["seq"] == before + 4 and state["you"] == you
        assert [(e["seq"], e["kind"]) for e in state["events"]] == [
            (before + 1, "bid.rejected"), (before + 3, "bid.rejected"), (before + 4, "auction.extended")], state
    assert [(f["seq"], f["kind"]) for f in caught[:-1]] == [
        (before + 1, "bid.rejected"), (before + 2, "participant.logout"), (before + 3, "bid.rejected"),
        (before + 4, "auction.extended")]
    assert all(f["type"] == "event" for f in caught[:-1])
    assert caught[-1]["seq"] == before + 4 and caught[-1]["events"] == []


def test_a_bad_client_closes_only_its_own_connection(server, conn, bidders):
    (a, a_cert), (b, _) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    a_token, b_token = session_token(conn, a.iin), session_token(conn, b.iin)
    conn.commit()

    async def run() -> None:
        auth = {"Authorization": f"Bearer {a_token}"}
        async with connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {b_token}"}) as good:
            await until(good, lambda f: f["type"] == "state")
            # Malformed JSON: an error frame, the connection stays.
            async with connect(ws_url(server, auction), additional_headers=auth) as bad:
                await until(bad, lambda f: f["type"] == "state")
                await bad.send("{not json")
                assert (await until(bad, lambda f: f["type"] == "error"))["code"] == "bidding.not_json"
                await bad.send(json.dumps({"type": "hello"}))
                assert (await until(bad, lambda f: f["type"] == "error"))["code"] == "bidding.unknown_type"
                # Oversize: closed with 1009.
                await bad.send("x" * (17 * 1024))
                with pytest.raises(ConnectionClosed) as closed:
                    await until(bad, lambda f: False)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
            # A flood: closed with 1008 (burst 10, 5 a second).
            async with connect(ws_url(server, auction), additional_headers=auth) as flood:
                await until(flood, lambda f: f["type"] == "state")
                with pytest.raises(ConnectionClosed) as closed:
                    for _ in range(50):
                        await flood.send("{}")
                    await until(flood, lambda f: False)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            # The good client is still served: a bid by the other participant reaches it.
            place(conn, auction, bid_of(auction, START), a, a_cert)
            state = await until(good, lambda f: f["type"] == "state" and f["current_bonus"] == "1000000.00")
            assert state["leader"] == 1
        # Without a session: 4401.
        async with connect(ws_url(server, auction)) as anonymous:
            with pytest.raises(ConnectionClosed) as closed:
                await anonymous.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    asyncio.run(run())


def test_the_ticker_closes_the_auction_and_the_hall_sees_it(server, conn, bidders):
    (a, a_cert) = bidders[0]
    auction = make_auction(conn, ends_in=timedelta(minutes=10), extension=timedelta(0))
    register(conn, auction, 1, a)
    token = session_token(conn, a.iin)
    conn.commit()

    async def run() -> dict[str, Any]:
        async with connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await until(ws, lambda f: f["type"] == "state")
            assert place(conn, auction, bid_of(auction, START), a, a_cert).accepted
            end_now(conn, auction)  # the bid is in: only now may the end come (not by a wall-clock guess)
            return await until(ws, lambda f: f["type"] == "state" and f["status"] == "closed", timeout=15)

    final = asyncio.run(run())
    assert (final["current_bonus"], final["leader"]) == ("1000000.00", 1)
    row = conn.execute("SELECT status, winner, final_bonus FROM auctions WHERE id = %s", (auction,)).fetchone()
    assert tuple(row) == ("closed", 1, START)


def test_withdrawn_and_changed_bids_only_where_the_lot_allows_them(conn, bidders):
    (a, a_cert), (b, b_cert) = bidders[0], bidders[1]
    strict = make_auction(conn)
    register(conn, strict, 1, a)
    first = place(conn, strict, bid_of(strict, START), a, a_cert)
    refused = place(conn, strict, {"auction": strict, "withdraw": first.seq, "idempotency_key": "w1"}, a, a_cert)
    assert codes(refused) == ["bidding.changes_off"] and refused.op == "withdraw"
    assert kinds(conn, strict) == ["bid.submitted", "bid.rejected"] and head(conn, strict)[0] == START

    loose = make_auction(conn)
    conn.execute("UPDATE auctions SET bid_changes = true WHERE id = %s", (loose,))
    conn.commit()
    register(conn, loose, 1, a)
    register(conn, loose, 2, b)
    a1 = place(conn, loose, bid_of(loose, START), a, a_cert)
    b1 = place(conn, loose, bid_of(loose, START + STEP), b, b_cert)
    # Only one's own standing bid.
    theirs = place(conn, loose, {"auction": loose, "withdraw": b1.seq, "idempotency_key": "w2"}, a, a_cert)
    assert codes(theirs) == ["bidding.no_such_bid"]
    # B withdraws the leading bid: the head falls back to A's.
    withdrawn = place(conn, loose, {"auction": loose, "withdraw": b1.seq, "idempotency_key": "w3"}, b, b_cert)
    assert withdrawn.accepted and withdrawn.message("en")["op"] == "withdraw"
    assert head(conn, loose)[:2] == (START, 1)
    again = place(conn, loose, {"auction": loose, "withdraw": b1.seq, "idempotency_key": "w3"}, b, b_cert)
    assert again.replay and again.accepted and again.seq == withdrawn.seq
    twice = place(conn, loose, {"auction": loose, "withdraw": b1.seq, "idempotency_key": "w4"}, b, b_cert)
    assert codes(twice) == ["bidding.no_such_bid"]
    # A changes its bid upwards (at least the current bonus plus a step).
    low = place(conn, loose, {"auction": loose, "change": a1.seq, "amount": str(START + 1),
                              "idempotency_key": "c1"}, a, a_cert)
    assert codes(low) == ["bidding.too_low"]
    changed = place(conn, loose, {"auction": loose, "change": a1.seq, "amount": str(START + 2 * STEP),
                                  "idempotency_key": "c2"}, a, a_cert)
    assert changed.accepted and head(conn, loose)[:2] == (START + 2 * STEP, 1)
    events = auction_journal.events(conn, loose)
    assert [e.kind for e in events] == ["bid.submitted", "bid.submitted", "bid.rejected", "bid.withdrawn",
                                        "bid.rejected", "bid.rejected", "bid.changed"]
    assert events[3].detail["bid_seq"] == b1.seq and events[-1].detail["from"] == "1000000.00"


def test_the_ticker_opens_a_published_auction_on_time(server, conn, bidders):
    """open_due (engineer A's cadastre.auctions when merged; the minimal transition until then)
    runs in the server's ticker: the hall sees the auction open."""
    (a, _), (b, _) = bidders[0], bidders[1]
    auction = make_auction(conn, status="published")
    conn.execute("UPDATE auctions SET starts_at = clock_timestamp() + interval '1 second' WHERE id = %s", (auction,))
    conn.commit()
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    token = session_token(conn, a.iin)
    conn.commit()

    async def run() -> dict[str, Any]:
        async with connect(ws_url(server, auction), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            first = await until(ws, lambda f: f["type"] == "state")
            assert first["status"] == "published"
            return await until(ws, lambda f: f["type"] == "state" and f["status"] == "open", timeout=15)

    assert asyncio.run(run())["you"] == 1
    assert "auction.opened" in kinds(conn, auction)


def test_the_ticker_makes_the_protocol_once_closed(server, conn, bidders):
    """After the lead merges engineer C's cadastre/auction_protocol.py: the closing tick stores
    the protocol, and it agrees with the journal."""
    from cadastre import auction_protocol as protocol
    (a, a_cert) = bidders[0]
    auction = make_auction(conn, ends_in=timedelta(minutes=10), extension=timedelta(0))
    register(conn, auction, 1, a)
    assert place(conn, auction, bid_of(auction, START), a, a_cert).accepted
    end_now(conn, auction)  # the bid is in: only now may the end come (not by a wall-clock guess)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = conn.execute("SELECT canonical FROM auction_protocols WHERE auction_id = %s", (auction,)).fetchone()
        conn.commit()
        if row is not None:
            break
        time.sleep(0.2)
    assert row is not None, "no protocol"
    body = json.loads(row[0])
    assert body["winner"]["participant"] == 1 and body["winner"]["bonus"] == "1000000.00"
    # The server signed with the demo operator (no operator key configured): trust its CA, verify.
    protocol.trust_demo_operator(conn, get_settings().var_dir / "operator", actor="test")
    conn.commit()
    report = protocol.verify(conn, auction)
    conn.commit()
    assert report.ok, report.problems


def test_two_processes_share_the_hall_and_a_killed_one_loses_nothing(database_url, conn, bidders, tmp_path):
    """Two server processes: a bid on one reaches a client of the other (NOTIFY wake-up, journal
    catch-up). Then ``kill -9`` of the first right after an acknowledged bid: the bid is in the
    journal, its client reconnects to the other process with ?since and gets what it missed, and
    a restarted process serves the same state and end time."""
    import os
    import signal

    from tests.processes import ServerProcess

    (a, a_cert), (b, b_cert) = bidders[0], bidders[1]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    a_auth = {"Authorization": f"Bearer {session_token(conn, a.iin)}"}
    b_auth = {"Authorization": f"Bearer {session_token(conn, b.iin)}"}
    conn.commit()
    first, second = (ServerProcess({"DATABASE_URL": database_url}, tmp_path / f"s{n}.log") for n in (1, 2))
    restarted = None
    try:
        first.wait_started()
        second.wait_started()

        async def before_the_kill() -> int:
            async with connect(ws_url(first.base, auction), additional_headers=a_auth) as wa, \
                    connect(ws_url(second.base, auction), additional_headers=b_auth) as wb:
                await until(wa, lambda f: f["type"] == "state")
                await until(wb, lambda f: f["type"] == "state")
                await wa.send(json.dumps({"type": "bid", **body(bid_of(auction, START), a_cert)}))
                ack = await until(wa, lambda f: f["type"] in ("ack", "rejected", "error"))
                assert ack["type"] == "ack", ack
                seen = await until(wb, lambda f: f["type"] == "state" and f["current_bonus"] == "1000000.00")
                assert seen["leader"] == 1 and seen["seq"] >= ack["seq"]
                await wa.send(json.dumps({"type": "bid", **body(bid_of(auction, START + 2 * STEP), a_cert)}))
                ack = await until(wa, lambda f: f["type"] in ("ack", "rejected", "error"))
                assert ack["type"] == "ack", ack
                os.kill(first.proc.pid, signal.SIGKILL)  # right after the acknowledgement
                first.proc.wait(timeout=10)
                return int(ack["seq"])

        acked = asyncio.run(before_the_kill())
        events = auction_journal.events(conn, auction)
        conn.commit()
        assert any(e.seq == acked and e.kind == "bid.submitted" and e.amount == START + 2 * STEP for e in events)
        # Meanwhile B bids; A comes back on the other process with what it had seen.
        missed = place(conn, auction, bid_of(auction, START + 3 * STEP), b, b_cert)

        async def after_the_kill() -> list[dict[str, Any]]:
            async with connect(ws_url(second.base, auction, since=acked), additional_headers=a_auth) as wa:
                frames = [json.loads(await asyncio.wait_for(wa.recv(), 10))]
                while frames[-1]["type"] != "state":
                    frames.append(json.loads(await asyncio.wait_for(wa.recv(), 10)))
                return frames

        frames = asyncio.run(after_the_kill())
        assert missed.seq in [f["seq"] for f in frames if f["type"] == "event"]
        assert all(f["seq"] > acked for f in frames if f["type"] == "event")
        assert (frames[-1]["current_bonus"], frames[-1]["leader"]) == ("1150000.00", 2)
        restarted = ServerProcess({"DATABASE_URL": database_url}, tmp_path / "s3.log")
        restarted.wait_started()

        async def restarted_state() -> dict[str, Any]:
            async with connect(ws_url(restarted.base, auction), additional_headers=a_auth) as wa:
                return await until(wa, lambda f: f["type"] == "state")

        state = asyncio.run(restarted_state())
        ends_at = head(conn, auction)[2]
        assert state["ends_at"] == auction_journal.stamp(ends_at) and state["current_bonus"] == "1150000.00"
    finally:
        for server_process in (first, second, restarted):
            if server_process is not None:
                server_process.stop()


def test_a_writer_that_fell_behind_sends_the_waiting_state_frames_as_one() -> None:
    """Frames queued while a client's writer was busy go as one state frame with all their events
    in order; frames it already has (an older room frame after its first state) are skipped."""
    from geoservice.api.auction_live import Client, Frame

    sent: list[str] = []

    class Socket:
        async def send_text(self, text: str) -> None:
            sent.append(text)

    def state(seq: int) -> str:
        return json.dumps({"type": "state", "seq": seq}, separators=(",", ":"))

    def event(seq: int, kind: str) -> Any:
        return auction_journal.Event(1, seq, clock.now(), kind, 1, None, {}, b"", b"")

    async def merged() -> None:
        client = Client(Socket(), None, None, "en", seq=5)  # type: ignore[arg-type]
        client.put(Frame.state(state(5), 6, 5, []))
        client.put(Frame.state(state(6), 6, 6, [event(6, "bid.submitted")]))
        client.put(Frame.state(state(4), 3, 4, [event(4, "bid.submitted")]))  # older: skipped
        client.put(Frame.state(state(8), 7, 8, [event(7, "participant.login"), event(8, "bid.rejected")]))
        client.close(1000)
        await client.write()
        assert client.seq == 8

    asyncio.run(merged())
    assert len(sent) == 1, sent
    frame = json.loads(sent[0])
    assert (frame["seq"], frame["you"]) == (8, None)
    assert [(e["seq"], e["kind"]) for e in frame["events"]] == [(6, "bid.submitted"), (8, "bid.rejected")]


def test_the_server_does_not_compress_websocket_frames() -> None:
    """The hall's frames are small JSON: per-message deflate cost CPU and memory per connection
    (bench/README.md, auction_load.py --deflate), so `geoservice serve` does not offer it."""
    from geoservice.server import server_config

    config = server_config(get_settings(), host="127.0.0.1", port=0, workers=2)
    assert config.ws_per_message_deflate is False


def test_logins_and_logouts_are_journaled_together_in_arrival_order(conn, bidders):
    """The opening's logins go to the journal in batches (one transaction each); a watcher, not a
    participant, is not journaled; nothing once the auction is final."""
    (a, _), (b, _), (c, _) = bidders[0], bidders[1], bidders[2]
    auction = make_auction(conn)
    register(conn, auction, 1, a)
    register(conn, auction, 2, b)
    conn.commit()
    numbers = bidding.journal_presences(conn, auction, [(a, "participant.login"), (c, "participant.login"),
                                                        (b, "participant.login"), (a, "participant.logout")])
    assert numbers == [1, None, 2, 1]
    events = auction_journal.events(conn, auction)
    conn.commit()
    assert [(e.kind, e.participant) for e in events] == [
        ("participant.login", 1), ("participant.login", 2), ("participant.logout", 1)]
    assert auction_journal.chain_problems(events) == []
    final = make_auction(conn, status="closed")
    register(conn, final, 1, a)
    conn.commit()
    assert bidding.journal_presences(conn, final, [(a, "participant.login")]) == [None]
    assert kinds(conn, final) == []
