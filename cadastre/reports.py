"""Holders' signed reports of work and spend on their licences (issue 11).

A report is an e-application of kind ``obligation-report`` (cadastre/applications.py): signed like
every application (a detached CMS over the RFC 8785 JSON of the payload), with its documents
attached, filed by the licence's holder only and routed to the licence's competent authority
(``obligations.authority_of``). Filing it also writes its ``obligation_reports`` row (migration
0021, status ``submitted``) in the filing's transaction; the ``obligation-report`` procedure
(cadastre/procedures.toml) then goes through the officer's workbench:

* **accept**: the row becomes ``accepted`` and the licence's ``work_report:<year>`` obligation
  ``met`` (``obligations.set_status``: the open row closed, basis the report's number, actor the
  officer);
* **return** (with its reason): the row becomes ``returned`` with the reason; the holder is
  notified by the workbench and may send it back (the resubmit route: ``submitted`` again) or
  file a new report for the year.

At most one report per licence and year is ``submitted`` or ``accepted`` (a partial unique
index; checked first, under the filing's number lock, to answer a clear problem). Every filing
and decision emits ``NOTIFY obligations_changed`` with the licence's number, on commit, for the
obligations checker.

Payload fields besides the application's own: ``licence`` (its number), ``report_year`` (a
calendar year from the licence's issue to this one), ``spend_kzt`` (a number, or a decimal text
with at most two decimals, not negative), ``works`` (``{"summary": text, "figures": {name:
number}}``, figures optional) and ``blocks`` (the block codes worked; may be empty)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cadastre import obligations, procedures
from cadastre.applications import KZ, Reason, rfc3339
from cadastre.workbench import Decided, on_decided
from geoservice.kernel.errors import Problem
from layers.access import Person
from layers.grid import BlockListError, parse_block_list

KIND = "obligation-report"
CHANNEL = "obligations_changed"
MAX_SUMMARY = 4000
MAX_FIGURES = 50
MAX_BLOCK_ITEMS = 1000
MAX_SPEND = Decimal("1e17")  # numeric(20, 2)
MONEY = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,2})?$")
READERS = frozenset({"admin", "auditor"})


@dataclass(frozen=True)
class Licence:
    number: str
    kind: str
    mineral: str | None
    holder_iin: str | None
    holder_bin: str | None
    blocks: list[str]
    issued_on: dt.date

    @property
    def authority(self) -> str:
        return obligations.authority_of(self.kind, self.mineral)

    def held_by(self, who: Person) -> bool:
        """The caller's cabinet account is the holder's: the person's own (no company), or the
        company's."""
        if self.holder_bin is not None:
            return who.bin == self.holder_bin
        return who.bin is None and who.iin == self.holder_iin


def licence_of(conn: psycopg.Connection, number: str) -> Licence | None:
    """The licence's current state, or None when no such licence exists."""
    row = conn.execute("SELECT number, kind, mineral, holder_iin, holder_bin, blocks, issued_on FROM licence_states "
                       "WHERE number = %s AND valid_to IS NULL", (number[:100],)).fetchone()
    return None if row is None else Licence(row[0], row[1], row[2], row[3], row[4], list(row[5]), row[6])


@dataclass(frozen=True)
class Report:
    """A report's data as checked at filing: the reasons it is returned or refused for (the
    application's reasons), the licence and its authority, and what goes into its row."""
    reasons: list[Reason] = field(default_factory=list)
    licence: Licence | None = None
    year: int | None = None
    spend: Decimal | None = None
    works: dict[str, Any] = field(default_factory=dict)
    blocks: list[str] = field(default_factory=list)

    @property
    def authority(self) -> str | None:
        return self.licence.authority if self.licence is not None else None


def _missing(name: str) -> Reason:
    return Reason("reason.missing", {"field": name}, field=name, incomplete=True)


def _spend(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            spend = Decimal(str(value))
        elif isinstance(value, str) and MONEY.match(value):
            spend = Decimal(value)
        else:
            return None
    except InvalidOperation:
        return None
    if not spend.is_finite() or spend < 0 or spend >= MAX_SPEND or spend != spend.quantize(Decimal("0.01")):
        return None
    return spend


def _works(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not set(value) <= {"summary", "figures"}:
        return None
    summary = value.get("summary")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY:
        return None
    figures = value.get("figures", {})
    if figures is None:
        figures = {}
    if not isinstance(figures, dict) or len(figures) > MAX_FIGURES or not all(
            isinstance(k, str) and 0 < len(k) <= 200 and isinstance(v, int | float) and not isinstance(v, bool)
            for k, v in figures.items()):
        return None
    return {"summary": summary.strip(), "figures": figures}


def check_report(conn: psycopg.Connection, payload: dict[str, Any], caller: Person, *, today: dt.date) -> Report:
    """The report's own checks at filing, before anything is stored. Not the holder (or no such
    licence): a Problem, nothing filed. Otherwise the reasons (missing fields return it for
    revision; wrong ones refuse it), as ``check_content`` gives those of other kinds. A missing
    licence number is ``check_content``'s reason already (``requires``)."""
    number = payload.get("licence")
    if not isinstance(number, str) or not number.strip() or len(number) > 100:
        return Report()
    licence = licence_of(conn, number.strip())
    if licence is None:
        raise Problem("reports.licence_not_found", 404, licence=number.strip()[:100])
    if not licence.held_by(caller):
        raise Problem("reports.not_holder", 403, licence=licence.number)
    reasons: list[Reason] = []
    year = payload.get("report_year")
    if year is None:
        reasons.append(_missing("report_year"))
        year = None
    elif isinstance(year, bool) or not isinstance(year, int) or not licence.issued_on.year <= year <= today.year:
        reasons.append(Reason("reason.report_year", {"first": licence.issued_on.year, "last": today.year},
                              field="report_year"))
        year = None
    raw_spend = payload.get("spend_kzt")
    spend = _spend(raw_spend)
    if raw_spend is None:
        reasons.append(_missing("spend_kzt"))
    elif spend is None:
        reasons.append(Reason("reason.report_spend", field="spend_kzt"))
    raw_works = payload.get("works")
    works = _works(raw_works)
    if raw_works is None:
        reasons.append(_missing("works"))
    elif works is None:
        reasons.append(Reason("reason.report_works", {"limit": MAX_SUMMARY}, field="works"))
    blocks: list[str] = []
    items = payload.get("blocks", [])
    if items is None:
        items = []
    if not isinstance(items, list) or len(items) > MAX_BLOCK_ITEMS or not all(isinstance(i, str) for i in items):
        reasons.append(Reason("reason.bad_field", {"field": "blocks"}, field="blocks"))
    else:
        # Blocks the licence no longer has (relinquished since the year) are the checker's to
        # weigh, not a reason to refuse the report.
        for i, text in enumerate(items):
            try:
                blocks += parse_block_list(text)
            except BlockListError as exc:
                reasons.append(Reason("reason.bad_block_list", {"token": exc.token, "position": exc.position},
                                      field=f"blocks[{i}]"))
                break
    return Report(reasons, licence, year, spend, works or {}, list(dict.fromkeys(blocks)))


def _changed(conn: psycopg.Connection, licence: str) -> None:
    # Delivered on commit, so the checker sees the committed report.
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, licence))


def _taken(conn: psycopg.Connection, licence: str, year: int, *, but: int | None = None) -> None:
    row = conn.execute(
        "SELECT a.number, r.status FROM obligation_reports r LEFT JOIN applications a ON a.id = r.application_id "
        "WHERE r.number = %s AND r.report_year = %s AND r.status IN ('submitted', 'accepted') "
        "AND r.application_id IS DISTINCT FROM %s LIMIT 1", (licence, year, but)).fetchone()
    if row is not None:
        raise Problem("reports.already_filed", 409, licence=licence, year=year, number=row[0] or "-",
                      state=row[1])


def record_report(conn: psycopg.Connection, report: Report, application_id: int) -> None:
    """The accepted filing's report row (``submitted``), in the filing's transaction; under the
    number lock, so the one-per-year check cannot race another filing."""
    assert report.licence is not None and report.year is not None and report.spend is not None
    _taken(conn, report.licence.number, report.year)
    conn.execute(
        "INSERT INTO obligation_reports (number, report_year, spend_kzt, works, blocks, application_id, status) "
        "VALUES (%s, %s, %s, %s, %s, %s, 'submitted')",
        (report.licence.number, report.year, report.spend, Jsonb(report.works), report.blocks, application_id))
    _changed(conn, report.licence.number)


@on_decided
def report_decided(conn: psycopg.Connection, decided: Decided) -> None:
    """The workbench's decision on a report's run, mirrored on its row (and its obligation)."""
    if decided.kind != KIND:
        return
    row = conn.execute("SELECT id, number, report_year, status FROM obligation_reports WHERE application_id = %s "
                       "FOR UPDATE", (decided.application_id,)).fetchone()
    if row is None:
        return
    report_id, licence, year, _ = row
    if decided.action == "return":
        conn.execute("UPDATE obligation_reports SET status = 'returned', reason = %s, decided_at = %s, "
                     "decided_by = %s WHERE id = %s", (decided.reason, decided.at, decided.actor, report_id))
    elif decided.role == "applicant":
        # Sent back after revision: under review again, unless another report of the year is.
        _taken(conn, licence, year, but=decided.application_id)
        conn.execute("UPDATE obligation_reports SET status = 'submitted', reason = NULL, decided_at = NULL, "
                     "decided_by = NULL WHERE id = %s", (report_id,))
    elif decided.finished and decided.outcome == "granted":
        conn.execute("UPDATE obligation_reports SET status = 'accepted', reason = NULL, decided_at = %s, "
                     "decided_by = %s WHERE id = %s", (decided.at, decided.actor, report_id))
        due = conn.execute("SELECT id FROM obligations WHERE number = %s AND key = %s AND valid_to IS NULL "
                           "AND status <> 'met'", (licence, f"work_report:{year}")).fetchone()
        if due is not None:
            obligations.set_status(conn, int(due[0]), "met", actor=decided.actor, basis=decided.number,
                                   effective_on=decided.at.astimezone(KZ).date())
    else:
        return
    _changed(conn, licence)


# --- reading ----------------------------------------------------------------------------------------

def may_read(who: Person, licence: Licence) -> bool:
    """The holder, the officers of the licence's authority, admins and auditors."""
    if who.roles & READERS or licence.held_by(who):
        return True
    return "officer" in who.roles and licence.authority in who.authorities


def _stage_name(stage: str | None, lang: str) -> str | None:
    if stage is None:
        return None
    names = procedures.procedure(KIND).stage(stage).names
    return names.get(lang, names["en"])


def list_reports(conn: psycopg.Connection, who: Person, number: str, *, lang: str = "en") -> dict[str, Any]:
    """The licence's reports, newest year first, with their status, the reason of a return, and
    where their run stands (the stage's name in ``lang``). No such licence: 404; not the
    caller's to read: 403."""
    licence = licence_of(conn, number)
    if licence is None:
        raise Problem("reports.licence_not_found", 404, licence=number[:100])
    if not may_read(who, licence):
        raise Problem("reports.forbidden", 403, licence=licence.number)
    rows = conn.execute(
        "SELECT a.number, r.report_year, r.spend_kzt, r.works, r.blocks, r.status, r.reason, r.submitted_at, "
        "r.decided_at, r.decided_by, a.documents, p.stage, p.due_at FROM obligation_reports r "
        "JOIN applications a ON a.id = r.application_id LEFT JOIN procedure_runs p ON p.application_id = a.id "
        "WHERE r.number = %s ORDER BY r.report_year DESC, r.id DESC", (licence.number,)).fetchall()
    reports = [{"number": n, "report_year": y, "spend_kzt": format(s, "f") if s is not None else None,
                "works": w, "blocks": list(b), "status": st, "reason": reason,
                "submitted_at": rfc3339(sub), "decided_at": rfc3339(dec) if dec else None, "decided_by": by,
                "documents": list(docs), "stage": stage, "stage_name": _stage_name(stage, lang),
                "due_at": rfc3339(due) if due else None}
               for n, y, s, w, b, st, reason, sub, dec, by, docs, stage, due in rows]
    return {"licence": licence.number, "authority": licence.authority, "holder": licence.held_by(who),
            "reports": reports}


def my_licences(conn: psycopg.Connection, who: Person) -> list[dict[str, Any]]:
    """The licences the caller's account holds (the cabinet's report form lists them)."""
    if who.bin is not None:
        clause, value = "holder_bin = %s", who.bin
    else:
        clause, value = "holder_iin = %s AND holder_bin IS NULL", who.iin
    rows = conn.execute(
        "SELECT number, kind, mineral, issued_on, term_until, status, blocks FROM licence_states "  # noqa: S608
        f"WHERE valid_to IS NULL AND {clause} ORDER BY issued_on DESC, number", (value,)).fetchall()
    return [{"number": n, "kind": k, "mineral": m, "issued_on": i.isoformat(),
             "term_until": t.isoformat() if t else None, "status": s, "blocks": len(b)}
            for n, k, m, i, t, s, b in rows]


__all__ = ["KIND", "Licence", "Report", "check_report", "licence_of", "list_reports", "may_read", "my_licences",
           "record_report", "report_decided"]
