"""Bids in the auction hall (issue 10) and the closing of auctions whose end has passed.

* **Signed bids.** A bid is ``{"auction", "amount", "idempotency_key"}`` with a detached CMS over
  its RFC 8785 JSON, verified as applications are (``cadastre.applications``): the signer must be
  the participant, the person, or for a company its head or a holder of the right to sign.
* **One total order per lot.** Everything a bid decides (admitted? open? high enough?) is read
  under the auction row's lock, the one ``auction_journal.append`` takes, and written in the same
  transaction as its journal event, so the journal's seq order is the bids' order and
  ``current_bonus`` is always the highest accepted amount. ``place_bid`` commits itself: the
  caller acknowledges only what it returns, i.e. what is committed.
* **Every attempt is stored** (``auction_bids``, accepted or not, with the signed JSON and the
  CMS) and journaled (``bid.submitted`` / ``bid.rejected``), except when there is nothing to
  attach it to: a caller who is not a participant (a Problem), or an auction already final, whose
  row and journal are frozen (the rejection is answered, not stored).
* **Idempotency.** ``(auction, participant, idempotency_key)`` is unique: a replay, even one
  racing the first, gets the first answer and writes nothing.
* **The end is the database's.** The trigger of migration 0016 refuses an accepted bid at or after
  ``ends_at`` by ``clock_timestamp()`` (SQLSTATE GSA01) whatever this process believed; that
  becomes a rejection, written in a fresh transaction. A bid within ``extension`` of the end moves
  the end by ``extension`` (journaled ``auction.extended``).
* **Closing** (``close_due``): ``auction.closed``, then ``deal.concluded`` when someone bid, then the
  row's status, winner and final bonus, in one transaction (the row freezes at that UPDATE)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
import rfc8785
from psycopg.types.json import Jsonb

from cadastre import auction_journal
from cadastre.applications import signature_reasons
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms
from cadastre.registers import StateRegisters
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from layers.access import Person

log = logging.getLogger("geoservice.auctions")

# Bid amounts as the hall sends them: a decimal string (tenge), integers or with a fraction.
AMOUNT = re.compile(r"^[0-9]{1,18}(\.[0-9]+)?$")
CENT = Decimal("0.01")
GSA_NOT_OPEN = "GSA01"
GSA_IMMUTABLE = "GSA00"
BID_KEYS = frozenset({"auction", "amount", "idempotency_key"})
FINAL = frozenset({"closed", "cancelled", "failed"})


@dataclass(frozen=True)
class BidAnswer:
    """The answer to one bid: accepted (``seq`` of its ``bid.submitted``) or rejected with its
    reasons (code + params; ``seq`` of its ``bid.rejected``, None when it could not be stored).
    ``replay``: the stored answer of an earlier bid with the same idempotency key."""
    accepted: bool
    idempotency_key: str
    amount: str
    participant: int | None
    seq: int | None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    replay: bool = False
    op: str = "bid"

    def rendered_reasons(self, lang: str) -> list[dict[str, Any]]:
        return [{"code": r["code"], "message": translate(r["code"], lang, **(r.get("params") or {}))}
                for r in self.reasons]

    def message(self, lang: str) -> dict[str, Any]:
        """The hall's answer frame (auctions.md): ``ack`` or ``rejected``."""
        if self.accepted:
            ack = {"type": "ack", "idempotency_key": self.idempotency_key, "seq": self.seq, "amount": self.amount}
            return ack if self.op == "bid" else {**ack, "op": self.op}
        return {"type": "rejected", "idempotency_key": self.idempotency_key, "seq": self.seq,
                "reasons": self.rendered_reasons(lang)}


def reason(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "params": params}


def canonical(bid: dict[str, Any]) -> bytes:
    """The bytes the bidder signs: RFC 8785 JSON of the ``bid`` object."""
    return rfc8785.dumps(bid)


@dataclass(frozen=True)
class Wanted:
    """What a well-formed bid object asks: a new bid, or (where the lot allows bid changes) to
    withdraw or change one's own earlier accepted bid, named by its journal seq."""
    op: str  # "bid" | "withdraw" | "change"
    key: str
    amount: Decimal | None
    target: int | None = None


SHAPES = {frozenset(BID_KEYS): "bid", frozenset({"auction", "withdraw", "idempotency_key"}): "withdraw",
          frozenset({"auction", "change", "amount", "idempotency_key"}): "change"}


def _amount(value: Any) -> Decimal:
    if not isinstance(value, str) or not AMOUNT.match(value):
        raise Problem("bidding.bad_amount", 422, amount=str(value)[:40])
    try:
        return Decimal(value)
    except InvalidOperation:
        raise Problem("bidding.bad_amount", 422, amount=value[:40]) from None


def check_shape(auction_id: int, bid: Any) -> Wanted:
    """What must hold before anything is stored (a Problem otherwise): the bid object with exactly
    its fields (``auction``, ``amount``, ``idempotency_key``; or ``withdraw``: SEQ instead of the
    amount; or ``change``: SEQ with the new amount), for this auction, amounts as decimal strings,
    a key of 1..100 chars."""
    op = SHAPES.get(frozenset(bid)) if isinstance(bid, dict) else None
    if op is None:
        raise Problem("bidding.malformed", 422, expected="auction, amount, idempotency_key")
    if type(bid["auction"]) is not int or bid["auction"] != auction_id:
        raise Problem("bidding.other_auction", 422, auction=auction_id)
    key = bid["idempotency_key"]
    if not isinstance(key, str) or not 1 <= len(key) <= 100:
        raise Problem("bidding.bad_key", 422)
    target = bid.get(op) if op != "bid" else None
    if op != "bid" and (type(target) is not int or not 0 < target < 2**62):
        raise Problem("bidding.bad_target", 422)
    return Wanted(op, key, _amount(bid["amount"]) if "amount" in bid else None, target)


def participant_of(conn: psycopg.Connection, auction_id: int, caller: Person) -> tuple[int, str | None, str | None,
                                                                                       str]:
    """The caller's registration in the auction: (number, iin, bin, status). The cabinet's
    account is per (IIN, BIN): a person acting for a company bids as the company."""
    if caller.bin is not None:
        row = conn.execute("SELECT number, iin, bin, status FROM auction_participants WHERE auction_id = %s "
                           "AND bin = %s", (auction_id, caller.bin)).fetchone()
    else:
        row = conn.execute("SELECT number, iin, bin, status FROM auction_participants WHERE auction_id = %s "
                           "AND iin = %s AND bin IS NULL", (auction_id, caller.iin)).fetchone()
    if row is None:
        raise Problem("bidding.not_a_participant", 403)
    return int(row[0]), row[1], row[2], row[3]


def _stored(conn: psycopg.Connection, auction_id: int, participant: int, key: str) -> BidAnswer | None:
    row = conn.execute("SELECT b.accepted, b.amount, b.seq, b.reasons, e.kind FROM auction_bids b "
                       "JOIN auction_events e ON e.auction_id = b.auction_id AND e.seq = b.seq "
                       "WHERE b.auction_id = %s AND b.participant = %s AND b.idempotency_key = %s",
                       (auction_id, participant, key)).fetchone()
    if row is None:
        return None
    op = {"bid.withdrawn": "withdraw", "bid.changed": "change"}.get(row[4], "bid")
    return BidAnswer(bool(row[0]) or row[4] == "bid.withdrawn", key, auction_journal.money(row[1]) or "",
                     participant, int(row[2]), list(row[3] or []), replay=True, op=op)


def place_bid(conn: psycopg.Connection, auction_id: int, bid_payload: Any, signature: bytes, caller: Person, *,
              trust: TrustStore, revocation: RevocationSource, registers: StateRegisters,
              now: datetime) -> BidAnswer:
    """Decide, store and journal one bid, and COMMIT (``conn`` must not be in autocommit mode, and
    hold no work of the caller's: it is committed or rolled back here). A malformed request or a
    caller who is not a participant raises a Problem and leaves nothing."""
    wanted = check_shape(auction_id, bid_payload)
    key = wanted.key
    if conn.execute("SELECT 1 FROM auctions WHERE id = %s", (auction_id,)).fetchone() is None:
        raise Problem("bidding.unknown_auction", 404, auction=auction_id)
    number, iin, bin_, status = participant_of(conn, auction_id, caller)
    stored = _stored(conn, auction_id, number, key)
    if stored is not None:
        conn.rollback()
        return stored
    data = canonical(bid_payload)
    if not signature:
        raise Problem("bidding.bad_signature", 400)
    # The signature is checked before the lock: verifying (GOST especially) must not hold the lot.
    result = verify_cms(signature, data, trust=trust, revocation=revocation, now=now, purpose="signature")
    reasons = [reason(r.code, **r.params) for r in signature_reasons(result, iin, bin_, registers)]
    if result.content is not None and result.content != data:
        reasons.append(reason("bidding.attached_other_content"))
    conn.commit()  # end the read transaction: the decision's reads happen under the lock
    params = {"number": number, "wanted": wanted, "key": key, "data": data.decode(), "signature": signature,
              "verification": Jsonb(result.as_dict())}
    try:
        with conn.transaction():
            answer = _decide(conn, auction_id, params, reasons, status)
    except psycopg.errors.UniqueViolation:
        # The same key raced us and committed first: its answer is the answer.
        again = _stored(conn, auction_id, number, key)
        conn.commit()
        if again is None:
            raise
        return again
    except psycopg.DatabaseError as exc:
        if exc.sqlstate != GSA_NOT_OPEN:
            raise
        # The database's clock says the end has passed: a rejection, in a fresh transaction.
        with conn.transaction():
            answer = _decide(conn, auction_id, params, reasons + [reason("bidding.ended")], status)
    conn.commit()
    return answer


LIVE_SQL = ("SELECT b.seq, b.amount, b.participant FROM auction_bids b WHERE b.auction_id = %s AND b.accepted "
            "AND NOT EXISTS (SELECT 1 FROM auction_events e WHERE e.auction_id = b.auction_id "
            "AND e.kind IN ('bid.withdrawn', 'bid.changed') AND e.detail->>'bid_seq' = b.seq::text)")


def _decide(conn: psycopg.Connection, auction_id: int, p: dict[str, Any], reasons: list[dict[str, Any]],
            participant_status: str) -> BidAnswer:
    row = conn.execute("SELECT status, ends_at, current_bonus, starting_bonus, step, extension, number, bid_changes "
                       "FROM auctions WHERE id = %s FOR UPDATE", (auction_id,)).fetchone()
    assert row is not None
    status, ends_at, current, starting, step, extension, auction_number, bid_changes = row
    # The bid's time is when it got the lock (its place in the order), read after the wait.
    db_now = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
    # Under the lock, a replay that raced us and committed first is visible now (read committed).
    stored = _stored(conn, auction_id, p["number"], p["key"])
    if stored is not None:
        return stored
    wanted: Wanted = p["wanted"]
    reasons = list(reasons)
    if participant_status != "admitted":
        reasons.append(reason("bidding.not_admitted"))
    if status != "open":
        reasons.append(reason("bidding.not_open", number=auction_number, status=status))
    target = None
    if wanted.op != "bid":
        if not bid_changes:
            reasons.append(reason("bidding.changes_off", number=auction_number))
        else:
            target = conn.execute(LIVE_SQL + " AND b.seq = %s", (auction_id, wanted.target)).fetchone()
            if target is None or target[2] != p["number"]:
                reasons.append(reason("bidding.no_such_bid", seq=wanted.target))
    amount = wanted.amount if wanted.amount is not None else (target[1] if target else Decimal(0))
    if wanted.op != "withdraw":
        if amount != amount.quantize(CENT):
            reasons.append(reason("bidding.amount_precision", amount=str(amount)))
        minimum = starting if current is None else current + step
        if amount < minimum:
            reasons.append(reason("bidding.too_low", amount=auction_journal.money(amount),
                                  minimum=auction_journal.money(minimum)))
    # An otherwise good bid after the end is left to the database's trigger (GSA01, the one
    # authority on the end); a bid rejected anyway says the end has passed too.
    if status == "open" and db_now >= ends_at and not any(r["code"] == "bidding.ended" for r in reasons) and (
            reasons or wanted.op == "withdraw"):
        reasons.append(reason("bidding.ended"))
    text = auction_journal.money(amount) or ""
    if status in FINAL:
        # A final auction's row and journal are frozen: the answer cannot be stored.
        return BidAnswer(False, p["key"], text, p["number"], None, reasons, op=wanted.op)
    ok = not reasons
    detail: dict[str, Any] = {"idempotency_key": p["key"]}
    if wanted.op != "bid":
        detail.update(op=wanted.op, bid_seq=wanted.target or 0)
    if not ok:
        detail["reasons"] = ",".join(r["code"] for r in reasons)
    kind = ("bid.rejected" if not ok else "bid.submitted" if wanted.op == "bid"
            else "bid.withdrawn" if wanted.op == "withdraw" else "bid.changed")
    if ok and wanted.op == "change":
        detail["from"] = auction_journal.money(target[1]) or ""  # type: ignore[index]
    event = auction_journal.append(conn, auction_id, kind, participant=p["number"], amount=amount.quantize(CENT),
                                   detail=detail)
    # A withdrawal is stored as not accepted: only bids and changed bids carry an amount that counts.
    accepted = ok and wanted.op != "withdraw"
    conn.execute("INSERT INTO auction_bids (auction_id, participant, amount, idempotency_key, canonical, signature, "
                 "verification, accepted, seq, reasons) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (auction_id, p["number"], amount.quantize(CENT), p["key"], p["data"], p["signature"],
                  p["verification"], accepted, event.seq, Jsonb(reasons)))
    if ok and wanted.op == "bid":
        conn.execute("UPDATE auctions SET current_bonus = %s, leader = %s WHERE id = %s",
                     (amount, p["number"], auction_id))
    elif ok:
        # The head is the highest bid still standing (a withdrawal may lower it).
        best = conn.execute(LIVE_SQL + " ORDER BY b.amount DESC, b.seq LIMIT 1", (auction_id,)).fetchone()
        conn.execute("UPDATE auctions SET current_bonus = %s, leader = %s WHERE id = %s",
                     (best[1] if best else None, best[2] if best else None, auction_id))
    if accepted and extension > timedelta(0) and ends_at - db_now < extension:
        new_end = ends_at + extension
        auction_journal.append(conn, auction_id, "auction.extended", detail={
            "from": auction_journal.stamp(ends_at), "to": auction_journal.stamp(new_end), "by_seq": event.seq})
        conn.execute("UPDATE auctions SET ends_at = %s WHERE id = %s", (new_end, auction_id))
    return BidAnswer(ok, p["key"], text, p["number"], event.seq, reasons, op=wanted.op)


# --- closing -----------------------------------------------------------------------------------------

def close_due(conn: psycopg.Connection, now: datetime,
              protocol: Callable[[psycopg.Connection, int], Any] | None = None) -> list[int]:
    """Close every open auction whose end has passed by the database's clock (and ``now``, never
    earlier than the database would): journal ``auction.closed`` and, when someone bid,
    ``deal.concluded`` (the winner's participant number, the final bonus), then set the status,
    winner, final bonus and closing time, in one transaction per auction; then ``protocol(conn,
    id)`` (the app passes cadastre.auction_protocol's maker with the operator's key) in its own.
    Safe with several processes: each auction is re-read under its lock. Returns the closed ids.
    Commits (``conn`` must not be in autocommit mode)."""
    due = [int(r[0]) for r in conn.execute(
        "SELECT id FROM auctions WHERE status = 'open' AND ends_at <= least(%s, clock_timestamp()) ORDER BY ends_at",
        (now,))]
    conn.commit()
    closed = []
    for auction_id in due:
        with conn.transaction():
            row = conn.execute("SELECT status, ends_at <= clock_timestamp(), leader, current_bonus, name, ends_at "
                               "FROM auctions WHERE id = %s FOR UPDATE", (auction_id,)).fetchone()
            if row is None or row[0] != "open" or not row[1]:
                continue  # another process closed it, or a bid extended it meanwhile
            _, _, leader, bonus, name, ends_at = row
            auction_journal.append(conn, auction_id, "auction.closed",
                                   detail={"ends_at": auction_journal.stamp(ends_at), "name": name})
            if leader is not None:
                auction_journal.append(conn, auction_id, "deal.concluded", participant=leader, amount=bonus,
                                       detail={"winner": leader, "name": name})
            conn.execute("UPDATE auctions SET status = 'closed', winner = %s, final_bonus = %s, "
                         "closed_at = clock_timestamp() WHERE id = %s", (leader, bonus, auction_id))
        conn.commit()
        closed.append(auction_id)
        if protocol is not None:
            try:
                with conn.transaction():
                    protocol(conn, auction_id)
                conn.commit()
            except Exception:  # noqa: BLE001 - the close is committed; the protocol can be made again
                conn.rollback()
                log.exception("the protocol of auction %s could not be made", auction_id)
    return closed


def journal_presence(conn: psycopg.Connection, auction_id: int, caller: Person, kind: str) -> int | None:
    """``participant.login`` / ``participant.logout`` for an admitted participant entering or
    leaving the hall (watchers are not journaled); nothing once the auction is final. Returns the
    participant number journaled, if any. Commits."""
    try:
        number, _, _, status = participant_of(conn, auction_id, caller)
    except Problem:
        conn.rollback()
        return None
    if status != "admitted":
        conn.rollback()
        return None
    try:
        with conn.transaction():
            row = conn.execute("SELECT status FROM auctions WHERE id = %s FOR UPDATE", (auction_id,)).fetchone()
            if row is None or row[0] in FINAL:
                return None
            auction_journal.append(conn, auction_id, kind, participant=number)
    finally:
        conn.commit()
    return number


def journal_presences(conn: psycopg.Connection, auction_id: int,
                      entries: list[tuple[Person, str]]) -> list[int | None]:
    """``journal_presence`` for several (caller, kind) at once, in their order, in ONE transaction
    (one row lock, one commit): the hall's opening, a thousand logins within seconds, is bound by
    the commits when each is its own. Returns each entry's participant number journaled, if any."""
    numbers: list[int | None] = []
    for caller, _ in entries:
        try:
            number, _, _, status = participant_of(conn, auction_id, caller)
        except Problem:
            number, status = 0, "none"
        numbers.append(number if status == "admitted" else None)
    try:
        with conn.transaction():
            row = conn.execute("SELECT status FROM auctions WHERE id = %s FOR UPDATE", (auction_id,)).fetchone()
            if row is None or row[0] in FINAL:
                return [None] * len(entries)
            for number, (_, kind) in zip(numbers, entries, strict=True):
                if number is not None:
                    auction_journal.append(conn, auction_id, kind, participant=number)
    finally:
        conn.commit()
    return numbers


__all__ = ["BidAnswer", "canonical", "check_shape", "close_due", "journal_presence", "journal_presences",
           "participant_of", "place_bid"]
