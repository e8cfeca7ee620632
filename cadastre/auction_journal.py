"""An auction's own event journal (seed 001): one row per event, numbered per auction without
gaps, stamped by the database's clock to the microsecond, chained by SHA-256.

``append`` is the only writer. It takes the auction row's lock (``SELECT ... FOR UPDATE``), so
events of one lot are totally ordered and numbered in the order they commit; the caller does the
rest of its change (the bid row, the new bonus, the end time) in the same transaction, and only
acknowledges after the commit. A NOTIFY on ``auction_events`` (``"<auction id>:<seq>"``) is sent
at the commit: it is a wake-up only, since a listener can miss it; readers catch up with
``events(since=SEQ)``.

The hash covers ``prev_hash`` followed by ``canonical(event)``: the RFC 8785 JSON of
``{"auction", "seq", "at", "kind", "participant", "amount", "detail"}`` with ``at`` as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``amount`` as a decimal string with two places (or null),
so anyone can recompute the chain from an export. Once an auction is closed, cancelled or
failed its row is frozen (migration 0016), so nothing can be appended after the final event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import rfc8785
from psycopg.types.json import Jsonb

GENESIS = bytes(32)
CHANNEL = "auction_events"
KINDS = frozenset({
    "auction.published", "auction.opened", "auction.extended", "auction.closed", "auction.cancelled",
    "auction.failed", "participant.registered", "participant.admitted", "participant.refused",
    "participant.identified", "participant.login", "participant.logout", "bid.submitted", "bid.rejected",
    "bid.withdrawn", "bid.changed", "deal.concluded"})
_SELECT = ("SELECT auction_id, seq, at, kind, participant, amount, detail, prev_hash, hash "
           "FROM auction_events WHERE auction_id = %s AND seq > %s ORDER BY seq")


def stamp(at: datetime) -> str:
    """The journal's time: UTC, six digits of microseconds (seed 001 asks for 0.1 s at least)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def money(amount: Decimal | int | str | None) -> str | None:
    """An amount as the journal writes it: a decimal string with two places."""
    return None if amount is None else f"{Decimal(amount).quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class Event:
    auction_id: int
    seq: int
    at: datetime
    kind: str
    participant: int | None
    amount: Decimal | None
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: bytes = GENESIS
    hash: bytes = GENESIS

    def canonical(self) -> bytes:
        return canonical(self.auction_id, self.seq, self.at, self.kind, self.participant, self.amount,
                         self.detail)

    def public(self) -> dict[str, Any]:
        """What clients of the hall and the protocol see (participants by number only)."""
        return {"seq": self.seq, "at": stamp(self.at), "kind": self.kind, "participant": self.participant,
                "amount": money(self.amount), "detail": self.detail, "hash": self.hash.hex()}


def canonical(auction_id: int, seq: int, at: datetime, kind: str, participant: int | None,
              amount: Decimal | int | str | None, detail: dict[str, Any]) -> bytes:
    return rfc8785.dumps({"auction": auction_id, "seq": seq, "at": stamp(at), "kind": kind,
                          "participant": participant, "amount": money(amount), "detail": detail})


def event_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


def append(conn: psycopg.Connection, auction_id: int, kind: str, *, participant: int | None = None,
           amount: Decimal | int | str | None = None, detail: dict[str, Any] | None = None) -> Event:
    """Journal one event of ``auction_id`` in the caller's transaction, under the auction row's
    lock (taken here if the caller has not taken it yet; held until the commit). Raises
    ``LookupError`` for an unknown auction; the database refuses it (``gs_immutable``) once the
    auction is final."""
    if kind not in KINDS:
        raise ValueError(f"unknown auction event kind {kind!r}")
    detail = dict(detail or {})
    row = conn.execute("SELECT last_seq, last_hash, clock_timestamp() FROM auctions WHERE id = %s FOR UPDATE",
                       (auction_id,)).fetchone()
    if row is None:
        raise LookupError(auction_id)
    seq, prev_hash, at = int(row[0]) + 1, bytes(row[1]), row[2]
    value = None if amount is None else Decimal(money(amount) or "0")
    digest = event_hash(prev_hash, canonical(auction_id, seq, at, kind, participant, value, detail))
    conn.execute("INSERT INTO auction_events (auction_id, seq, at, kind, participant, amount, detail, prev_hash, "
                 "hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (auction_id, seq, at, kind, participant, value, Jsonb(detail), prev_hash, digest))
    conn.execute("UPDATE auctions SET last_seq = %s, last_hash = %s WHERE id = %s", (seq, digest, auction_id))
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{auction_id}:{seq}"))
    return Event(auction_id, seq, at, kind, participant, value, detail, prev_hash, digest)


def _event(row: Sequence[Any]) -> Event:
    return Event(int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6] or {}, bytes(row[7]),
                 bytes(row[8]))


def events(conn: psycopg.Connection, auction_id: int, since: int = 0, limit: int | None = None) -> list[Event]:
    """The auction's events after ``since``, in order (a client reconnecting with ?since=SEQ)."""
    rows = conn.execute(_SELECT + " LIMIT %s", (auction_id, since, limit))
    return [_event(row) for row in rows]


def chain_problems(chain: Iterable[Event], head: tuple[int, bytes] | None = None) -> list[str]:
    """Recompute the chain from the rows as stored: gaps, broken links and wrong hashes, and,
    given the auction's ``(last_seq, last_hash)``, whether the head matches. Empty when sound."""
    problems: list[str] = []
    prev_hash, expected = GENESIS, 1
    for event in chain:
        if event.seq != expected:
            problems.append(f"seq {event.seq}: expected {expected}")
        if event.prev_hash != prev_hash:
            problems.append(f"seq {event.seq}: prev_hash does not match the previous event")
        if event_hash(event.prev_hash, event.canonical()) != event.hash:
            problems.append(f"seq {event.seq}: hash does not match the event")
        prev_hash, expected = event.hash, event.seq + 1
    if head is not None and (head[0] != expected - 1 or bytes(head[1]) != (prev_hash if expected > 1 else GENESIS)):
        problems.append(f"head {head[0]} does not match the journal's last event {expected - 1}")
    return problems
