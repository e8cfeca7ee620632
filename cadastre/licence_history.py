"""A licence's change history with its obligations (issue 11, "Change history as of a date").

``history(conn, number, at, lang)`` merges the licence's own changes (``licence_changes``: what
changed, on which basis, by whom, effective when) with the changes of its obligations (rows of
``obligations`` opened and closed, each with its basis and actor) into one list in the order
they were recorded, and gives the licence and its obligations as they stood on ``at``.

Everything here is the open registry's: the licence's figures and the obligations derived from
them, with the basis and the actor the licence's own history already shows. Obligations are
served in a public form (``public_obligation``): no parameters beyond the licence's figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import psycopg

from cadastre import licences, obligation_findings, obligations

LANGS = ("kk", "ru", "en")


def _amount(parameters: Mapping[str, Any]) -> str | None:
    value = parameters.get("amount_kzt")
    return None if value is None else str(value)


def public_obligation(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """An obligation row as the open registry shows it, its legal basis in ``lang``."""
    parameters = dict(row["parameters"] or {})
    texts = obligations.basis_texts(str(row["kind"]))
    return {
        "id": row["id"], "key": row["key"], "kind": row["kind"], "due_on": row["due_on"].isoformat(),
        "status": row["status"], "amount_kzt": _amount(parameters), "parameters": parameters,
        "legal_basis": texts.get(lang) or texts["en"], "rule": row["basis"],
        "since": row["valid_from"].isoformat(),
    }


def current_obligations(conn: psycopg.Connection, number: str, day: dt.date | None, lang: str) -> list[dict[str, Any]]:
    """The licence's obligations as they stood on ``day`` (None: the open rows), by due date, each
    with the checker's due and overdue findings of that day and its badge (``alert``)."""
    rows = [public_obligation(r, lang) for r in obligations.at(conn, number, day)]
    return obligation_findings.attach(conn, number, rows, day)


Event = tuple[dt.datetime, int, dict[str, Any]]   # when recorded, order within one moment, the event


def _obligation_events(conn: psycopg.Connection, number: str, lang: str) -> list[Event]:
    rows = conn.execute(
        "SELECT id, key, kind, due_on, parameters, basis, status, valid_from, valid_to, opened_at, opened_by, "
        "opened_basis, closed_at, closed_by, closed_basis FROM obligations WHERE number = %s ORDER BY id",
        (number,)).fetchall()
    names = ("id", "key", "kind", "due_on", "parameters", "basis", "status", "valid_from", "valid_to", "opened_at",
             "opened_by", "opened_basis", "closed_at", "closed_by", "closed_basis")
    previous: dict[str, dict[str, Any]] = {}   # the row a key had before (rows of a key follow each other)
    out: list[Event] = []
    for values in rows:
        r = dict(zip(names, values, strict=True))
        brief = {"id": r["id"], "key": r["key"], "kind": r["kind"], "due_on": r["due_on"].isoformat(),
                 "status": r["status"], "amount_kzt": _amount(r["parameters"] or {}),
                 "legal_basis": public_obligation(r, lang)["legal_basis"]}
        before = previous.get(r["key"])
        opened = {"type": "obligation", "action": "opened", "at": r["opened_at"].isoformat(),
                  "effective_on": r["valid_from"].isoformat(), "obligation": brief,
                  "previous": None if before is None else {k: before[k] for k in ("id", "status", "due_on",
                                                                                  "amount_kzt")},
                  "basis": {"document": None, "text": r["opened_basis"]}, "actor": r["opened_by"]}
        out.append((r["opened_at"], 2, opened))
        if r["closed_at"] is not None:
            out.append((r["closed_at"], 1, {
                "type": "obligation", "action": "closed", "at": r["closed_at"].isoformat(),
                "effective_on": r["valid_to"].isoformat(), "obligation": brief,
                "basis": {"document": None, "text": r["closed_basis"]}, "actor": r["closed_by"]}))
        previous[r["key"]] = brief
    return out


def events(conn: psycopg.Connection, number: str, lang: str, until: dt.date | None = None) -> list[dict[str, Any]]:
    """The licence's changes and its obligations' changes in the order they were recorded (a
    licence change first, then the obligations it closed, then those it opened); ``until``:
    only those in effect by that day."""
    merged: list[Event] = []
    rows = conn.execute(
        "SELECT id, at, effective_on, action, changes, basis_document, basis_text, actor FROM licence_changes "
        "WHERE number = %s ORDER BY id", (number,)).fetchall()
    for r in rows:
        merged.append((r[1], 0, {"type": "licence", "action": r[3], "at": r[1].isoformat(),
                                 "effective_on": r[2].isoformat(), "change": r[0], "changes": r[4],
                                 "basis": {"document": r[5], "text": r[6]}, "actor": r[7]}))
    merged += _obligation_events(conn, number, lang)
    merged.sort(key=lambda e: (e[0], e[1]))
    return [e for _, _, e in merged if until is None or e["effective_on"] <= until.isoformat()]


def exists(conn: psycopg.Connection, number: str) -> bool:
    return conn.execute("SELECT 1 FROM licence_records WHERE number = %s", (number,)).fetchone() is not None


def history(conn: psycopg.Connection, number: str, at: dt.date | None, lang: str) -> dict[str, Any] | None:
    """The licence as it stood on ``at`` (default today) with its obligations of that day and the
    merged history (up to ``at`` when given). None when there is no such licence, or (with
    ``at``) when it did not stand on that day."""
    if lang not in LANGS:
        raise ValueError(lang)
    if not exists(conn, number):
        return None
    day = at or licences.today(conn)
    licence = licences.get_licence(conn, number, day)
    if licence is None and at is not None:
        return None
    if licence is not None:
        licence.pop("history", None)   # the merged history below has it, with the obligations
    return {
        "number": number, "at": day.isoformat(), "licence": licence,
        # As of a date: the rows whose valid time holds it; today: the open rows.
        "obligations": current_obligations(conn, number, at, lang),
        "history": events(conn, number, lang, at),
    }


__all__ = ["current_obligations", "events", "exists", "history", "public_obligation"]
