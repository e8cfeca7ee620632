"""The auction's event journal and what the database enforces (migration 0016): gap-free numbers
per lot under concurrency, the SHA-256 chain, append-only rows, frozen final auctions, and the
end time checked by the database's clock."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from cadastre import auction_journal
from cadastre.auction_journal import append, chain_problems, events

SQUARE = "SRID=4326;MULTIPOLYGON(((70 45,70.1 45,70.1 45.1,70 45.1,70 45)))"


def make_auction(conn: psycopg.Connection, *, status: str = "published", offset: int = 60,
                 minutes: int = 60) -> int:
    """An auction row; by default it starts an hour from now, so that no live server's ticker (an
    app of another test on the same database) opens or fails it while the test works on it."""
    number = f"AUC-2026-{uuid.uuid4().int % 10**8:08d}"
    row = conn.execute(
        """INSERT INTO auctions (number, name, kind, geom, area_km2, block_count, starting_bonus,
                participation_fee, deposit, step, starts_at, duration, extension, ends_at, status, created_by)
            VALUES (%s, 'Test plot', 'exploration-licence', %s, 87.5, 1, 1000000, 10000, 1000000, 50000,
                    now() + make_interval(mins => %s), make_interval(mins => %s), interval '5 minutes',
                    now() + make_interval(mins => %s + %s), %s, 'test')
            RETURNING id""", (number, SQUARE, offset, minutes, offset, minutes, status)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def auction(db: psycopg.Connection) -> Iterator[int]:
    yield make_auction(db)


def test_events_are_numbered_and_chained(db: psycopg.Connection, auction: int) -> None:
    with db.transaction():
        first = append(db, auction, "auction.published", detail={"name": "Test plot"})
        second = append(db, auction, "auction.opened")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == auction_journal.GENESIS and second.prev_hash == first.hash
    stored = events(db, auction)
    assert [e.seq for e in stored] == [1, 2] and stored[0].detail == {"name": "Test plot"}
    head = db.execute("SELECT last_seq, last_hash FROM auctions WHERE id = %s", (auction,)).fetchone()
    assert head is not None
    assert chain_problems(stored, (head[0], bytes(head[1]))) == []
    assert events(db, auction, since=1) == stored[1:]
    # Anyone recomputing from an export catches an altered amount, a gap, or a stale head.
    forged = [stored[0], dataclasses.replace(stored[1], amount=Decimal("5"))]
    assert any("hash does not match" in p for p in chain_problems(forged))
    assert any("expected 1" in p for p in chain_problems(stored[1:]))
    assert chain_problems(stored, (1, bytes(head[1])))


def test_a_microsecond_stamp_and_a_two_place_amount(db: psycopg.Connection, auction: int) -> None:
    with db.transaction():
        event = append(db, auction, "auction.opened", amount=1000000)
    public = event.public()
    assert public["amount"] == "1000000.00"
    assert len(public["at"]) == len("2026-11-30T13:34:22.123456Z") and public["at"].endswith("Z")
    with pytest.raises(ValueError):
        append(db, auction, "auction.reopened")


def test_concurrent_writers_get_one_gap_free_order(database_url: str, db: psycopg.Connection,
                                                   auction: int) -> None:
    def writer(n: int) -> None:
        with psycopg.connect(database_url) as conn:
            for i in range(10):
                with conn.transaction():
                    append(conn, auction, "bid.rejected", participant=n, detail={"i": i})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = events(db, auction)
    assert [e.seq for e in stored] == list(range(1, 41))
    assert chain_problems(stored) == []


def test_the_journal_is_append_only_even_for_the_owner(db: psycopg.Connection, auction: int) -> None:
    with db.transaction():
        append(db, auction, "auction.published")
    for statement in ("UPDATE auction_events SET kind = 'auction.opened' WHERE auction_id = %s",
                      "DELETE FROM auction_events WHERE auction_id = %s"):
        with pytest.raises(psycopg.DatabaseError, match="gs_immutable"):
            db.execute(statement, (auction,))


def test_a_closed_auction_is_frozen(db: psycopg.Connection, auction: int) -> None:
    with db.transaction():
        append(db, auction, "auction.closed")
        db.execute("UPDATE auctions SET status = 'closed', closed_at = now() WHERE id = %s", (auction,))
    with pytest.raises(psycopg.DatabaseError, match="gs_immutable"):
        db.execute("UPDATE auctions SET final_bonus = 1 WHERE id = %s", (auction,))
    with pytest.raises(psycopg.DatabaseError, match="gs_immutable"), db.transaction():
        append(db, auction, "bid.submitted", participant=1, amount=2)
    assert [e.kind for e in events(db, auction)] == ["auction.closed"]


def _bid(conn: psycopg.Connection, auction: int, key: str) -> None:
    with conn.transaction():
        event = append(conn, auction, "bid.submitted", participant=1, amount=1050000)
        conn.execute("""INSERT INTO auction_bids (auction_id, participant, amount, idempotency_key, canonical,
                            signature, verification, accepted, seq)
                        VALUES (%s, 1, 1050000, %s, '{}', '\\x00', '{}', true, %s)""", (auction, key, event.seq))


def test_the_database_enforces_the_end_time(db: psycopg.Connection) -> None:
    ended = make_auction(db, status="open", offset=-120)
    running = make_auction(db, status="open", offset=-1)
    for auction in (ended, running):
        db.execute("""INSERT INTO accounts (iin, name) VALUES ('900315300123', 'Bidder')
                      ON CONFLICT DO NOTHING""")
        db.execute("""INSERT INTO auction_participants (auction_id, number, iin, account_id, canonical, signature,
                          verification)
                      SELECT %s, 1, '900315300123', id, '{}', '\\x00', '{}' FROM accounts
                      WHERE iin = '900315300123' LIMIT 1""", (auction,))
    with pytest.raises(psycopg.DatabaseError, match="gs_auction_not_open") as refused:
        _bid(db, ended, "k1")
    assert refused.value.sqlstate == "GSA01"
    assert events(db, ended) == []  # the refused bid's transaction left nothing
    _bid(db, running, "k1")
    with pytest.raises(psycopg.errors.UniqueViolation):  # a replayed bid: accepted at most once
        _bid(db, running, "k1")
    assert [e.seq for e in events(db, running)] == [1]
