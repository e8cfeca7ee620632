"""Demo licences with obligations (issue 11), part of `geoservice demo load`.

Two licences of the demo holders, dated from the day of the first load so that the checker finds
something at once: on the first, a relinquishment three days overdue; on the second (won at an
auction), the signature bonus due in 7 days. Whatever else of theirs fell due before the load is
recorded as met, so the demo shows exactly one overdue obligation and one coming due.

The demo holder, the demo company's head and the demo officer get cabinet accounts with an email
(at the reserved ``.invalid`` domain), so the findings reach their cabinets and, through the
outbox, the local SMTP sink of `make serve` even before anyone signs in. Loading again changes
nothing: existing licences are kept as they are (their dates move on with the calendar)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from cadastre import licences, obligations
from cadastre.eds.pki import DEMO_COMPANY_BIN, DEMO_COMPANY_NAME, DEMO_PEOPLE
from layers.grid import block_code

DEMO_ACTOR = "demo"
BASIS = "Demo data set (geoservice demo load)"
OVERDUE_DAYS = 3
DUE_IN_DAYS = 7
EMAIL_DOMAIN = "demo.geoservice.invalid"


@dataclass(frozen=True)
class DemoLicence:
    number: str
    holder: dict[str, str]
    mineral: str
    west: float          # the south-west corner of its blocks (degrees)
    south: float
    columns: int
    rows: int
    issued_days_ago: int
    # The obligation left open to show (key), with the rest that fell due recorded as met.
    shows: str

    def codes(self) -> list[str]:
        return [block_code(self.west + (c + 0.5) / 60, self.south + (r + 0.5) / 60)
                for r in range(self.rows) for c in range(self.columns)]


def _person(role: str) -> Any:
    return next(p for p in DEMO_PEOPLE if p.key == role)


def demo_licences() -> tuple[DemoLicence, ...]:
    applicant = _person("applicant")
    holder = {"iin": applicant.iin, "name": f"{applicant.surname} {applicant.name} {applicant.patronymic}"}
    return (
        # Karaganda region: copper, 3 x 2 blocks; a relinquishment step overdue.
        DemoLicence("KZ-EL-DEMO-0001", holder, "copper", 73.50, 48.20, 3, 2, 200, "relinquishment:1"),
        # Abai region: gold, won at auction; the signature bonus due in a week.
        DemoLicence("KZ-EL-DEMO-0002", {"bin": DEMO_COMPANY_BIN, "name": DEMO_COMPANY_NAME}, "gold",
                    80.30, 49.40, 2, 2, 10 - DUE_IN_DAYS, "signature_bonus"),
    )


def _conditions(licence: DemoLicence, today: dt.date) -> dict[str, Any]:
    if licence.shows == "relinquishment:1":
        return {"relinquishments": [{"by": (today - dt.timedelta(days=OVERDUE_DAYS)).isoformat(), "share": 0.2}]}
    return {"signature_bonus": "250000000.00", "auction": "AUC-2026-DEMO"}


def ensure_accounts(conn: psycopg.Connection) -> int:
    """Cabinet accounts with emails for the demo holder, the company's head and the officer (an
    account made at sign-in is kept; only a missing email is filled)."""
    made = 0
    for role, bin_, organisation in (("applicant", None, None), ("head", DEMO_COMPANY_BIN, DEMO_COMPANY_NAME),
                                     ("officer", None, None)):
        p = _person(role)
        row = conn.execute(
            "INSERT INTO accounts (iin, bin, name, organisation, email) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (iin, (coalesce(bin, ''))) DO UPDATE SET email = coalesce(accounts.email, EXCLUDED.email) "
            "RETURNING xmax = 0",
            (p.iin, bin_, f"{p.surname} {p.name} {p.patronymic}", organisation,
             f"{role}@{EMAIL_DOMAIN}")).fetchone()
        made += bool(row and row[0])
    return made


def load_licences(conn: psycopg.Connection, today: dt.date | None = None,
                  chosen: tuple[DemoLicence, ...] | None = None) -> str:
    """Issue the demo licences (``chosen``: others, for tests) that are missing, in the caller's
    transaction; a line to print."""
    day = today or licences.today(conn)
    accounts = ensure_accounts(conn)
    issued = []
    for d in demo_licences() if chosen is None else chosen:
        if conn.execute("SELECT 1 FROM licence_records WHERE number = %s", (d.number,)).fetchone():
            continue
        issued_on = day - dt.timedelta(days=d.issued_days_ago)
        licences.issue_licence(
            conn, number=d.number, holder=d.holder, kind="exploration", mineral=d.mineral, blocks=d.codes(),
            issued_on=issued_on, term_until=issued_on.replace(year=issued_on.year + 6) - dt.timedelta(days=1),
            conditions=_conditions(d, day), source="demo", basis=BASIS, actor=DEMO_ACTOR, client="cli",
            publish_now=False)
        # Earlier obligations were met: the demo shows one overdue obligation, not a backlog.
        for o in obligations.at(conn, d.number):
            if o["due_on"] < day and o["key"] != d.shows and o["status"] == "open":
                obligations.set_status(conn, o["id"], "met", actor=DEMO_ACTOR, basis=BASIS, effective_on=day)
        issued.append(d.number)
    if issued:
        licences.publish(conn, actor=DEMO_ACTOR, client="cli")
    return (f"demo licences: {', '.join(issued) or 'already loaded'}; accounts with email made: {accounts} "
            f"(mail goes to *@{EMAIL_DOMAIN}; `geoservice mail list` shows what the local sink received)")


__all__ = ["DemoLicence", "demo_licences", "ensure_accounts", "load_licences"]
