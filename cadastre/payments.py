"""The payments adapter of auctions (issue 10): whether a participant has paid the lot's
participation fee and guarantee deposit.

``Payments`` is the adapter; ``TablePayments`` is the one that ships, reading and writing table
``payments`` (migration 0016, append-only): a confirmation is recorded once per (auction, payer,
purpose) by ``geoservice payments confirm LOT IIN|BIN``. A production adapter asks the payment
operator instead and is passed where ``TablePayments`` is now."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import psycopg

PURPOSES = ("fee", "deposit", "bonus")


class Payments(Protocol):
    """What auctions ask of the payment operator."""

    def paid(self, auction_id: int, payer: str) -> dict[str, Decimal]:
        """The confirmed amounts of ``payer`` (an IIN or BIN) for the auction, by purpose."""

    def confirm(self, auction_id: int, payer: str, purpose: str, amount: Decimal, *, confirmed_by: str,
                reference: str | None = None) -> bool:
        """Record a confirmation; False when that purpose was confirmed already (kept as it was)."""


class TablePayments:
    """Confirmations stored in table ``payments``, in the caller's transaction."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def paid(self, auction_id: int, payer: str) -> dict[str, Decimal]:
        rows = self.conn.execute("SELECT purpose, amount FROM payments WHERE auction_id = %s AND payer = %s",
                                 (auction_id, payer)).fetchall()
        return {purpose: Decimal(amount) for purpose, amount in rows}

    def confirm(self, auction_id: int, payer: str, purpose: str, amount: Decimal, *, confirmed_by: str,
                reference: str | None = None) -> bool:
        if purpose not in PURPOSES:
            raise ValueError(purpose)
        row = self.conn.execute(
            "INSERT INTO payments (auction_id, payer, purpose, amount, reference, confirmed_by) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (auction_id, payer, purpose) DO NOTHING RETURNING id",
            (auction_id, payer, purpose, amount, reference, confirmed_by)).fetchone()
        return row is not None


def covers(paid: dict[str, Decimal], fee: Decimal, deposit: Decimal) -> list[str]:
    """What is still missing of the fee and the deposit ("fee", "deposit"), given what was paid."""
    missing = []
    if paid.get("fee", Decimal(-1)) < fee:
        missing.append("fee")
    if paid.get("deposit", Decimal(-1)) < deposit:
        missing.append("deposit")
    return missing
