"""The demo's auction (issue 10; ``geoservice demo load`` and ``geoservice demo auction``, only
with GEOSERVICE_DEMO=1): a lot on the demo programme area put up for auction "Шу-Сарысу-7"
(uranium, 6 x 5 blocks) by the demo officer, starting in a few minutes, with two demo bidders
(АХМЕТОВ, 900315300123, and СӘТБАЕВА, 850721400341, each for themselves) registered with their
demo signing certificates through the real signature path, their fee and deposit confirmed: so
the hall can be tried in two browsers signed in with `geoservice demo sign-in IIN`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import rfc8785

from cadastre import accounts
from cadastre.auction_protocol import demo_operator, trust_demo_operator
from cadastre.auctions import Defaults, confirm_payment, create_auction, register_participant
from cadastre.eds.pki import demo_pki, sign_cms
from cadastre.eds_trust import load_trust
from cadastre.payments import TablePayments
from cadastre.registers import TableRegisters
from layers.access import Person
from layers.grid import block_code

DEMO_ACTOR = "demo"
OFFICER = "officer"                   # demo people's keys (cadastre/eds/pki.py DEMO_PEOPLE)
BIDDERS = ("applicant", "head")
# The demo programme area SF-2026-002 (importers/demo.py): 6 x 5 blocks from 68.90 E, 44.90 N.
WEST, SOUTH, COLUMNS, ROWS = 68.90, 44.90, 6, 5
SHIFTS = 20  # parcels tried eastwards, 6 minutes apart
# Demo figures (the lot's own; the fee, deposit and step follow the settings).
STARTING_BONUS = "25000000.00"


def _person(conn: psycopg.Connection, iin: str) -> Person:
    signed = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(iin, None), method="demo",
                              lifetime=timedelta(minutes=1), client="cli")
    roles, authorities = accounts.granted_roles(conn, iin)
    return Person(signed.account_id, signed.session_id, iin, None, signed.user["name"], frozenset(roles),
                  frozenset(authorities))


def _free_blocks(conn: psycopg.Connection) -> list[str]:
    """The demo parcel, or the first one east of it that no lot being sold holds (a fresh demo
    lot while the last one is still published or open)."""
    for shift in range(SHIFTS):
        west = WEST + shift * COLUMNS / 60
        codes = [block_code(west + (c + 0.5) / 60, SOUTH + (r + 0.5) / 60) for r in range(ROWS) for c in range(COLUMNS)]
        taken = conn.execute("SELECT EXISTS (SELECT 1 FROM auctions WHERE status IN ('published', 'open') "
                             "AND codes && %s)", (codes,)).fetchone()
        if taken is not None and not taken[0]:
            return codes
    raise RuntimeError("no free demo parcel: let the demo lots end first")


def make_demo_auction(conn: psycopg.Connection, pki_directory: Path, *, defaults: Defaults, now: datetime,
                      starts_in: timedelta, grid_datum: str, only_if_none: bool = False,
                      codes: list[str] | None = None) -> str:
    """Make the demo lot and register its two bidders, in the caller's transaction (the demo
    people must be loaded: ``cadastre.demo.load_people``). ``only_if_none``: nothing when a lot is
    already published or open; ``codes``: the lot's blocks (default: the demo area's). Returns
    what was done, for the console."""
    if only_if_none:
        row = conn.execute("SELECT number, status, starts_at FROM auctions WHERE status IN ('published', 'open') "
                           "ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None:
            return f"demo auction: {row[0]} is {row[1]} (starts {row[2]:%Y-%m-%d %H:%M:%S %Z}); none made"
    pki = demo_pki(pki_directory)
    codes = codes or _free_blocks(conn)
    starts_at = now + starts_in
    officer = _person(conn, pki.person(OFFICER).person.iin)
    lot = create_auction(conn, {"parcel": {"blocks": codes}, "kind": "exploration-licence", "mineral": "uranium",
                                "name": "Шу-Сарысу-7 (демо)", "starting_bonus": STARTING_BONUS,
                                "starts_at": starts_at.isoformat()},
                         caller=officer, defaults=defaults, now=now, grid_datum=grid_datum, client="cli")
    trust, revocation = load_trust(conn)
    lines = [f"demo auction {lot['number']} (id {lot['id']}): {lot['name']}, starts {lot['starts_at']}, "
             f"starting bonus {lot['starting_bonus']} KZT, step {lot['step']}"]
    for key in BIDDERS:
        holder = pki.person(key)
        iin = holder.person.iin
        confirm_payment(conn, lot["id"], iin, ["fee", "deposit"], payments=TablePayments(conn),
                        registers=TableRegisters(conn), actor=DEMO_ACTOR, reference="demo", client="cli")
        registration = {"auction": lot["number"], "applicant": {"iin": iin}}
        signature = sign_cms(rfc8785.dumps(registration), holder.sign("rsa"), detached=True)
        answer, _ = register_participant(conn, lot["id"], registration, signature, caller=_person(conn, iin),
                                         trust=trust, revocation=revocation, now=now, registers=TableRegisters(conn),
                                         payments=TablePayments(conn), client="cli")
        lines.append(f"  bidder {holder.person.full_name} ({iin}): participant {answer['participant']}, "
                     f"{answer['status']}; sign in: geoservice demo sign-in {iin}")
    return "\n".join(lines)


def trust_operator(conn: psycopg.Connection, operator_directory: Path) -> str:
    """The demo operator, made once under ``operator_directory`` (``var/operator``, where the
    server makes it when no operator key is configured), and its CA and CRL trusted, in the
    caller's transaction: so that ``geoservice auction verify`` accepts the demo's protocols."""
    key = demo_operator(operator_directory)
    trust_demo_operator(conn, operator_directory, actor=DEMO_ACTOR)
    return f"demo operator {key.subject}: its CA and CRL trusted ({operator_directory})"
