"""A licence's obligations (issue 11), derived from the licence and ``cadastre/obligations.toml``.

``derive(licence, mci)`` is pure: from the licence's kind, block count, issue date, term, status
and conditions it lists what the holder owes and by when (the minimum annual spend per licence
year, with its KZT figure from the MCI value of the year; the annual work report; the signature
bonus; the expiry; the extension and relinquishment; rent or fees). ``recompute`` stores them in
``obligations`` (migration 0018) as valid-time rows: an obligation that changes is closed with the
basis, actor and time of the change and a new row opened, never rewritten. The licence registry
(``cadastre/licences.py``) calls it wherever a licence is issued or changed, so the granting path
(``cadastre/granting.py``) and imports get obligations too.

A status change (met, overdue, waived) is a change of the obligation like any other: close the
open row and open one with the new status (``set_status``)."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cadastre.auctions import minimum_spend
from layers.journal import journal

RULES = Path(__file__).with_name("obligations.toml")
STATUSES = ("open", "met", "overdue", "waived")
# Licence kinds of the registry (licence_states.kind) as the auction rules' table names them.
_SPEND_KIND = "{}-licence"


@dataclass(frozen=True)
class Obligation:
    key: str          # one obligation of a licence: its kind and period, e.g. "minimum_spend:2"
    kind: str         # a kind of obligations.toml
    due_on: dt.date
    parameters: dict[str, Any] = field(default_factory=dict)
    basis: str = ""   # the rule it comes from (obligations.toml version and kind); texts by kind


@lru_cache(maxsize=4)
def rules(path: Path = RULES) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def basis_texts(kind: str) -> dict[str, str]:
    """The legal basis of a kind, in kk, ru and en."""
    return dict(rules()["kinds"][kind]["basis"])


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f")


def derive(licence: Mapping[str, Any], mci: Mapping[int, Decimal] | None = None,
           projected: frozenset[int] = frozenset()) -> list[Obligation]:
    """The obligations of ``licence`` (``kind``, ``blocks``, ``issued_on``, ``term_until``, and
    optionally ``status``, ``conditions``, ``valid_from``), by due date. ``mci``: the MCI value
    per calendar year (``projected``: the years whose value no law sets yet, flagged on the
    amounts); a spend whose year has none carries ``amount_kzt`` None until it is known.
    A terminated or expired licence keeps only what fell due before its state began."""
    data = rules()
    version = str(data["version"])
    kind = str(licence["kind"])
    blocks = licence.get("blocks") or []
    count = len(blocks) if isinstance(blocks, Sequence) and not isinstance(blocks, str) else int(blocks)
    issued: dt.date = licence["issued_on"]
    term: dt.date | None = licence.get("term_until")
    conditions: Mapping[str, Any] = licence.get("conditions") or {}
    mci = mci or {}
    found: list[Obligation] = []

    def add(key: str, name: str, due: dt.date, **parameters: Any) -> None:
        found.append(Obligation(key, name, due, parameters, f"obligations.toml {version} {name}"))

    for name, rule in data["kinds"].items():
        if kind not in rule["licence_kinds"]:
            continue
        how = rule["rule"]
        if how == "annual_minimum_spend" and term is not None:
            figures = minimum_spend(_SPEND_KIND.format(kind), count)
            year = 1
            while figures and (start := _add_years(issued, year - 1)) <= term:
                # DOMAIN.md gives figures for years 1-6 only: later years (an extension) have none.
                period = "years_1_3" if year <= 3 else "years_4_6" if year <= 6 else None
                if period is None:
                    break
                due = min(_add_years(issued, year) - dt.timedelta(days=1), term)
                value = mci.get(start.year)
                add(f"{name}:{year}", name, due, licence_year=year, period=period, blocks=count,
                    mci=figures[period], mci_year=start.year, mci_projected=start.year in projected,
                    mci_value=None if value is None else _money(Decimal(value)),
                    amount_kzt=None if value is None else _money(Decimal(figures[period]) * Decimal(value)))
                year += 1
        elif how == "annual_report":
            last = (term or issued).year
            for year in range(issued.year, last + 1):
                add(f"{name}:{year}", name, dt.date(year + 1, rule["due_month"], rule["due_day"]), report_year=year)
        elif how == "payment_after_issue" and conditions.get(rule["condition"]) is not None:
            add(name, name, issued + dt.timedelta(days=int(rule["days_after_issue"])),
                amount_kzt=str(conditions[rule["condition"]]))
        elif how == "licence_expiry" and term is not None:
            add(name, name, term)
        elif how == "extension" and term is not None and count >= rule["min_blocks"] \
                and not conditions.get("extended"):
            add(name, name, term, min_relinquished=rule["min_relinquished"], years=rule["years"],
                blocks=count, keep_at_most=int(count * (1 - rule["min_relinquished"])))
        elif how == "relinquishment":
            if term is not None and count >= rule["min_blocks"] and not conditions.get("extended"):
                add(f"{name}:term", name, term, share=rule["share"], blocks=count,
                    keep_at_most=int(count * (1 - rule["share"])), condition="extension")
            for i, step in enumerate(conditions.get("relinquishments") or [], start=1):
                add(f"{name}:{i}", name, dt.date.fromisoformat(str(step["by"])), share=step["share"],
                    blocks=count)
        elif how == "annual_payment" and isinstance(conditions.get(rule["condition"]), Mapping):
            rate = conditions[rule["condition"]]
            per_block = rate.get("mci_per_block")
            figure = Decimal(str(per_block)) * count if per_block is not None else Decimal(str(rate["mci"]))
            for year in range(issued.year, (term or issued).year + 1):
                value = mci.get(year)
                add(f"{name}:{year}", name, dt.date(year, rule["due_month"], rule["due_day"]), year=year,
                    mci=_money(figure), mci_projected=year in projected,
                    mci_value=None if value is None else _money(Decimal(value)),
                    amount_kzt=None if value is None else _money(figure * Decimal(value)))
    status = licence.get("status", "active")
    if status in ("terminated", "expired"):
        since = licence.get("valid_from") or issued
        found = [o for o in found if o.due_on < since]
    return sorted(found, key=lambda o: (o.due_on, o.key))


def authority_of(kind: str, mineral: str | None) -> str:
    """The competent authority of a licence: its mineral group's, else its kind's (obligations.toml)."""
    from cadastre.applications import AUTHORITY_OF_GROUP, MINERALS  # the same routing as applications
    if mineral is not None and mineral in MINERALS:
        return AUTHORITY_OF_GROUP[MINERALS[mineral].group]
    return str(rules()["authorities"][kind])


def mci_values(conn: psycopg.Connection) -> dict[int, Decimal]:
    return {int(y): Decimal(v) for y, v in conn.execute("SELECT year, value FROM mci_values")}


def projected_years(conn: psycopg.Connection) -> frozenset[int]:
    return frozenset(int(y) for (y,) in conn.execute("SELECT year FROM mci_values WHERE projected"))


def _close(conn: psycopg.Connection, row_id: int, on: dt.date, actor: str, basis: str) -> None:
    conn.execute("UPDATE obligations SET valid_to = greatest(%s, valid_from), closed_at = clock_timestamp(), "
                 "closed_by = %s, closed_basis = %s WHERE id = %s AND valid_to IS NULL", (on, actor, basis, row_id))


def _open(conn: psycopg.Connection, number: str, o: Obligation, status: str, on: dt.date, actor: str,
          basis: str) -> None:
    conn.execute("INSERT INTO obligations (number, key, kind, due_on, parameters, basis, status, valid_from, "
                 "opened_by, opened_basis) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (number, o.key, o.kind, o.due_on, Jsonb(o.parameters), o.basis, status, on, actor, basis))


def recompute(conn: psycopg.Connection, licence_number: str, *, actor: str, basis: str,
              effective_on: dt.date | None = None) -> dict[str, int]:
    """Store the obligations the licence's current state gives, in the caller's transaction (the
    caller holds the licence registry's lock): unchanged ones stay, changed ones are closed with
    ``basis`` and ``actor`` and reopened as derived, ones no longer owed are closed. From
    ``effective_on`` (default: the day the licence's current state began). Counts what it did."""
    row = conn.execute("SELECT kind, blocks, issued_on, term_until, status, conditions, valid_from "
                       "FROM licence_states WHERE number = %s AND valid_to IS NULL", (licence_number,)).fetchone()
    if row is None:
        raise LookupError(licence_number)
    licence = dict(zip(("kind", "blocks", "issued_on", "term_until", "status", "conditions", "valid_from"),
                       row, strict=True))
    on = effective_on or licence["valid_from"]
    derived = {o.key: o for o in derive(licence, mci_values(conn), projected_years(conn))}
    current = {r[1]: r for r in conn.execute(
        "SELECT id, key, kind, due_on, parameters, basis FROM obligations WHERE number = %s AND valid_to IS NULL "
        "FOR UPDATE", (licence_number,))}
    done = {"kept": 0, "opened": 0, "closed": 0}
    for key, old in current.items():
        new = derived.get(key)
        if new is not None and (old[2], old[3], old[4], old[5]) == (new.kind, new.due_on, new.parameters, new.basis):
            done["kept"] += 1
            derived.pop(key)
            continue
        _close(conn, old[0], on, actor, basis)
        done["closed"] += 1
    for o in derived.values():
        _open(conn, licence_number, o, "open", on, actor, basis)
        done["opened"] += 1
    # One journal row per recompute that changed something (a no-op recompute_all stays silent).
    if done["opened"] or done["closed"]:
        closed = [k for (k,) in conn.execute("SELECT key FROM obligations WHERE id = ANY(%s) AND valid_to IS NOT NULL "
                                             "ORDER BY key", ([r[0] for r in current.values()],))]
        journal(conn, actor, "obligations.recompute", "ok", object=f"obligations:{licence_number}",
                detail={**done, "effective_on": on.isoformat(), "basis": basis[:200],
                        "opened_keys": sorted(derived)[:100], "closed_keys": closed[:100]})
    # The checker (geoservice/obligation_watch.py) looks at once when this commits.
    conn.execute("SELECT pg_notify('obligations_changed', %s)", (licence_number,))
    return done


def recompute_all(conn: psycopg.Connection, *, actor: str, basis: str, effective_on: dt.date) -> int:
    """Recompute every licence's obligations (after the MCI table or the rules changed), under
    the licence registry's lock. Returns how many obligations were opened or closed."""
    # The registry's lock (cadastre/licences.py LOCK_KEY): no licence changes meanwhile.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('licences', 0))")
    numbers = [n for (n,) in conn.execute("SELECT number FROM licence_states WHERE valid_to IS NULL ORDER BY number")]
    changed = 0
    for number in numbers:
        done = recompute(conn, number, actor=actor, basis=basis, effective_on=effective_on)
        changed += done["opened"] + done["closed"]
    return changed


def set_status(conn: psycopg.Connection, obligation_id: int, status: str, *, actor: str, basis: str,
               effective_on: dt.date) -> int:
    """Record that an open obligation is met, overdue, waived (or open again): its row is closed
    and a row with the new status opened. Returns the new row's id."""
    if status not in STATUSES:
        raise ValueError(status)
    row = conn.execute("SELECT number, key, kind, due_on, parameters, basis FROM obligations "
                       "WHERE id = %s AND valid_to IS NULL FOR UPDATE", (obligation_id,)).fetchone()
    if row is None:
        raise LookupError(obligation_id)
    _close(conn, obligation_id, effective_on, actor, basis)
    _open(conn, row[0], Obligation(row[1], row[2], row[3], row[4], row[5]), status, effective_on, actor, basis)
    new = conn.execute("SELECT id FROM obligations WHERE number = %s AND key = %s AND valid_to IS NULL",
                       (row[0], row[1])).fetchone()
    assert new is not None
    journal(conn, actor, "obligations.status", "ok", object=f"obligations:{row[0]}",
            detail={"key": row[1], "status": status, "closed": obligation_id, "opened": int(new[0]),
                    "effective_on": effective_on.isoformat(), "basis": basis[:200]})
    conn.execute("SELECT pg_notify('obligations_changed', %s)", (row[0],))
    return int(new[0])


def at(conn: psycopg.Connection, licence_number: str, day: dt.date | None = None) -> list[dict[str, Any]]:
    """The licence's obligations as they stood on ``day`` (default: the open rows)."""
    # NULL day: the open rows; else the rows whose valid time holds the day.
    rows = conn.execute(
        "SELECT id, key, kind, due_on, parameters, basis, status, valid_from, valid_to, opened_by, opened_basis "
        "FROM obligations WHERE number = %(number)s AND CASE WHEN %(day)s::date IS NULL THEN valid_to IS NULL "
        "ELSE valid_from <= %(day)s::date AND (valid_to IS NULL OR valid_to > %(day)s::date) END "
        "ORDER BY due_on, key", {"number": licence_number, "day": day}).fetchall()
    names = ("id", "key", "kind", "due_on", "parameters", "basis", "status", "valid_from", "valid_to",
             "opened_by", "opened_basis")
    return [dict(zip(names, r, strict=True)) for r in rows]


__all__ = ["Obligation", "at", "authority_of", "basis_texts", "derive", "mci_values", "projected_years", "recompute",
           "recompute_all", "rules", "set_status"]
