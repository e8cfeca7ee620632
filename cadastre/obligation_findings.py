"""The checker's findings as the licence shows them (issue 11, "shown on the licence with its status").

* **Public** (the open registry's licence answer and its ``?at=`` view): each obligation carries
  its ``due`` and ``overdue`` findings (registry facts: a date came close or passed) and an
  ``alert`` for its badge: ``overdue`` (days late) or ``due`` (days left), from the findings open
  on the day viewed.
* **The holder and the licence's authority** (``licence_findings``): every finding, deviations of
  the holder's reports included, each with its notice rendered in the caller's language.
* **The cabinet**: the holder's licences with their open obligations and open findings
  (``holder_overview``), and an officer's open findings of the licences of their authorities,
  newest first (``supervised``).

A finding's status on a past day is taken from its dates: open when found by that day and not
resolved by it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg

from cadastre import checker, licences, obligations, reports
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from layers.access import Person

PUBLIC_KINDS = ("due", "overdue")
# An obligation still to be done (its badge and the cabinet's list); met and waived ones are done.
PENDING = ("open", "overdue")
SUPERVISED_LIMIT = 500


def status_on(status: str, found_on: dt.date, resolved_on: dt.date | None, day: dt.date | None) -> str | None:
    """The finding's status on ``day`` (None: as stored now); None when not yet found by then."""
    if day is None:
        return status
    if found_on > day:
        return None
    return "resolved" if resolved_on is not None and resolved_on <= day else "open"


def _public_rows(conn: psycopg.Connection, number: str, day: dt.date | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT key, kind, threshold, due_on, found_on, status, resolved_on FROM obligation_findings "
        "WHERE number = %s AND kind = ANY(%s) AND (%s::date IS NULL OR found_on <= %s) ORDER BY found_on, id",
        (number, list(PUBLIC_KINDS), day, day)).fetchall()
    out = []
    for key, kind, threshold, due_on, found_on, status, resolved_on in rows:
        now = status_on(status, found_on, resolved_on, day)
        if now is None:
            continue
        out.append({"key": key, "kind": kind, "threshold": threshold if kind == "due" else None,
                    "due_on": due_on.isoformat() if due_on else None, "found_on": found_on.isoformat(),
                    "status": now,
                    "resolved_on": resolved_on.isoformat() if now == "resolved" and resolved_on else None})
    return out


def alert(obligation: Mapping[str, Any], found: Sequence[Mapping[str, Any]], day: dt.date) -> dict[str, Any] | None:
    """The obligation's badge on ``day``: overdue (days late) when an overdue finding is open,
    else due (days left) when a warning is open; None for a met or waived obligation, or with no
    open finding."""
    if obligation["status"] not in PENDING:
        return None
    due_on = dt.date.fromisoformat(obligation["due_on"])
    open_kinds = {f["kind"] for f in found if f["status"] == "open"}
    if "overdue" in open_kinds:
        return {"level": "overdue", "days": max((day - due_on).days, 0)}
    if "due" in open_kinds:
        return {"level": "due", "days": max((due_on - day).days, 0)}
    return None


def attach(conn: psycopg.Connection, number: str, rows: list[dict[str, Any]],
           day: dt.date | None) -> list[dict[str, Any]]:
    """Public obligation rows (``licence_history.public_obligation``) with their ``findings``
    (due and overdue, as of ``day``; None: now) and their ``alert``. A finding belongs to the
    obligation of its key and due date (a moved date is a new obligation's business)."""
    found = _public_rows(conn, number, day)
    when = day or licences.today(conn)
    for row in rows:
        mine = [{k: v for k, v in f.items() if k != "key"} for f in found
                if f["key"] == row["key"] and f["due_on"] == row["due_on"]]
        row["findings"] = mine
        row["alert"] = alert(row, mine, when)
    return rows


# --- for the holder and the authority ---------------------------------------------------------------

def _notice(kind: str, code: str) -> str:
    return checker.NOTICES[code or kind]


def rendered(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A finding with its notice in ``lang`` (the text its notification carried)."""
    params = dict(row["params"] or {})
    notice = _notice(row["kind"], row["code"])
    return {
        "id": row["id"], "key": row["key"], "kind": row["kind"],
        "threshold": row["threshold"] if row["kind"] == "due" else None, "code": row["code"] or None,
        "report": row["report_id"], "due_on": row["due_on"].isoformat() if row["due_on"] else None,
        "found_on": row["found_on"].isoformat(), "found_at": row["found_at"].isoformat(), "status": row["status"],
        "resolved_on": row["resolved_on"].isoformat() if row["resolved_on"] else None,
        "notice": notice, "message": translate(notice, lang, **params), "params": params,
    }


def _readable(conn: psycopg.Connection, who: Person, number: str) -> reports.Licence:
    licence = reports.licence_of(conn, number)
    if licence is None:
        raise Problem("reports.licence_not_found", 404, licence=number[:100])
    if not reports.may_read(who, licence):
        raise Problem("reports.forbidden", 403, licence=licence.number)
    return licence


def licence_findings(conn: psycopg.Connection, who: Person, number: str, lang: str) -> dict[str, Any]:
    """Every finding of the licence, newest first, with its message in ``lang``: its holder, the
    officers of its authority, admins and auditors (404 no such licence, 403 anyone else)."""
    licence = _readable(conn, who, number)
    return {"licence": licence.number, "authority": licence.authority, "holder": licence.held_by(who),
            "findings": [rendered(r, lang) for r in checker.findings(conn, licence.number)]}


def _pending(conn: psycopg.Connection, number: str, lang: str) -> list[dict[str, Any]]:
    # licence_history attaches this module's findings to its rows: imported here, not at the top.
    from cadastre.licence_history import current_obligations

    return [o for o in current_obligations(conn, number, None, lang) if o["status"] in PENDING]


def holder_overview(conn: psycopg.Connection, who: Person, lang: str) -> dict[str, Any]:
    """The licences the caller's account holds, each with its pending obligations (by due date,
    with their badges) and its open findings (deviations too), newest first."""
    day = licences.today(conn)
    out = []
    for held in reports.my_licences(conn, who):
        number = held["number"]
        out.append({**held, "obligations": _pending(conn, number, lang),
                    "findings": [rendered(r, lang) for r in checker.findings(conn, number) if r["status"] == "open"]})
    return {"today": day.isoformat(), "licences": out}


def _pairs(authorities: Iterable[str], conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """The (kind, mineral or '') pairs of current licences that fall to ``authorities``."""
    wanted = set(authorities)
    kinds: list[str] = []
    minerals: list[str] = []
    for kind, mineral in conn.execute("SELECT DISTINCT kind, coalesce(mineral, '') FROM licence_states "
                                      "WHERE valid_to IS NULL").fetchall():
        if obligations.authority_of(kind, mineral or None) in wanted:
            kinds.append(kind)
            minerals.append(mineral)
    return kinds, minerals


def supervised(conn: psycopg.Connection, who: Person, lang: str, *, limit: int = SUPERVISED_LIMIT) -> dict[str, Any]:
    """Open findings of the licences of the officer's authorities (admins and auditors: of every
    licence), newest first, each with its licence, holder and authority."""
    everything = bool(who.roles & reports.READERS)
    kinds, minerals = _pairs(who.authorities, conn) if not everything else ([], [])
    rows = conn.execute(
        "SELECT f.id, f.key, f.kind, f.threshold, f.code, f.report_id, f.due_on, f.found_on, f.found_at, f.status, "
        "f.resolved_on, f.params, f.number, ls.holder_name, ls.kind, ls.mineral FROM obligation_findings f "
        "JOIN licence_states ls ON ls.number = f.number AND ls.valid_to IS NULL "
        "WHERE f.status = 'open' AND (%s OR (ls.kind, coalesce(ls.mineral, '')) IN "
        "  (SELECT * FROM unnest(%s::text[], %s::text[]))) "
        "ORDER BY f.found_at DESC, f.id DESC LIMIT %s",
        (everything, kinds, minerals, limit)).fetchall()
    names = ("id", "key", "kind", "threshold", "code", "report_id", "due_on", "found_on", "found_at", "status",
             "resolved_on", "params")
    out = []
    for r in rows:
        item = rendered(dict(zip(names, r[:12], strict=True)), lang)
        item.update(licence=r[12], holder=r[13], authority=obligations.authority_of(r[14], r[15]))
        out.append(item)
    return {"authorities": sorted(who.authorities), "all": everything, "findings": out}


__all__ = ["PUBLIC_KINDS", "alert", "attach", "holder_overview", "licence_findings", "rendered", "status_on",
           "supervised"]
