"""The obligation checker (issue 11): what is coming due, what is overdue, what deviates.

``check(conn, today)`` looks at every licence's open obligations (``obligations``) and the
holders' reports (``obligation_reports``) as of ``today`` and records what it finds in
``obligation_findings`` (migration 0020):

* **due**: an open obligation within a warning mark of its due date (``[checker] warn_days`` of
  obligations.toml, 30/7/1 days);
* **overdue**: an open obligation past its due date; its status becomes ``overdue``
  (``obligations.set_status``, history kept);
* **deviation**: a submitted or accepted report whose spend is below the minimum spend of the
  licence year ending in the report's year (``spend_below_minimum``), or that names blocks the
  licence did not hold in that year (``report_outside_licence``).

A finding is the row's unique key, inserted with ``ON CONFLICT DO NOTHING RETURNING``: only the
run that inserted it notifies (the holder's cabinet accounts and the officers of the licence's
authority; mail through the outbox) and journals it, in the same transaction. Several runs and
several processes at once therefore notify each finding once. Each finding is its own short
transaction, so two concurrent checkers never hold each other's rows (no deadlock) and a long
run does not keep locks. Open findings are resolved when their obligation is met, waived or
closed, or their report returned.

Runs are recorded in ``checker_runs`` (``begin_run``/``finish_run``), which the scheduler reads to
catch up after downtime."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cadastre import obligations
from cadastre.notifications import notify
from layers.journal import journal

ACTOR = "system:checker"
# The notice of each finding (cadastre/messages.py).
NOTICES = {
    "due": "notice.obligation_due",
    "overdue": "notice.obligation_overdue",
    "spend_below_minimum": "notice.obligation_spend_below_minimum",
    "report_outside_licence": "notice.obligation_report_outside_licence",
}
# Reports the checker reads: what the holder filed and what the authority accepted (a returned
# report is no longer the holder's word).
REPORTED = ("submitted", "accepted")
LIMIT = 10_000  # obligations looked at per kind and run; the next run goes on


def warn_days() -> list[int]:
    """The warning marks, in days before the due date, most urgent last (e.g. [30, 7, 1])."""
    days = sorted({int(d) for d in obligations.rules().get("checker", {}).get("warn_days", [30, 7, 1])}, reverse=True)
    if not days or days[-1] < 1:
        raise ValueError("obligations.toml [checker] warn_days must be positive day counts")
    return days


def threshold_for(days_left: int, marks: Sequence[int]) -> int | None:
    """The most urgent mark ``days_left`` has crossed, or None before the first.

    Only the most urgent one: after downtime (or for an obligation that appears close to its date)
    the holder should get one warning that says how close the date is, not the 30-, 7- and 1-day
    warnings at once; the marks already passed are no longer news."""
    crossed = [m for m in marks if days_left <= m]
    return min(crossed) if crossed else None


# --- recipients ------------------------------------------------------------------------------------

def recipients(conn: psycopg.Connection, number: str) -> list[int]:
    """The holder's cabinet accounts (by IIN, or the company's by BIN) and the officers of the
    licence's competent authority, each once."""
    row = conn.execute("SELECT holder_iin, holder_bin, kind, mineral FROM licence_states "
                       "WHERE number = %s AND valid_to IS NULL", (number,)).fetchone()
    if row is None:
        return []
    holder_iin, holder_bin, kind, mineral = row
    authority = obligations.authority_of(kind, mineral)
    found = conn.execute(
        "SELECT id FROM accounts WHERE (%(iin)s::text IS NOT NULL AND iin = %(iin)s) "
        "OR (%(bin)s::text IS NOT NULL AND bin = %(bin)s) "
        "UNION SELECT a.id FROM accounts a JOIN role_grants g ON g.iin = a.iin AND g.role = 'officer' "
        "AND g.authority = %(authority)s WHERE a.bin IS NULL ORDER BY 1",
        {"iin": holder_iin, "bin": holder_bin, "authority": authority}).fetchall()
    return [int(r[0]) for r in found]


# --- findings ---------------------------------------------------------------------------------------

def _record(conn: psycopg.Connection, today: dt.date, number: str, key: str, kind: str, *, due_on: dt.date | None,
            threshold: int = 0, code: str = "", report_id: int | None = None, params: dict[str, Any]) -> bool:
    """Insert the finding and, when this call inserted it, notify and journal it (the caller's
    transaction). False when it was found before, by this or another process."""
    accounts = recipients(conn, number)
    row = conn.execute(
        "INSERT INTO obligation_findings (number, key, kind, threshold, code, report_id, due_on, found_on, params, "
        "notified) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
        (number, key, kind, threshold, code, report_id, due_on, today, Jsonb(params), len(accounts))).fetchone()
    if row is None:
        return False
    notice = NOTICES[code or kind]
    for account_id in accounts:
        notify(conn, account_id, notice, **params)
    journal(conn, ACTOR, "checker.finding", "ok", object=f"licence:{number}",
            detail={"finding": int(row[0]), "key": key, "kind": kind, "threshold": threshold or None,
                    "code": code or None, "report": report_id, "notified": len(accounts), "day": today.isoformat()})
    return True


def _due_and_overdue(conn: psycopg.Connection, today: dt.date, numbers: Sequence[str] | None,
                     counts: dict[str, int]) -> None:
    marks = warn_days()
    # Kinds that are a date, not a duty (the licence's expiry): warned of, never "overdue".
    no_overdue = set(obligations.rules().get("checker", {}).get("no_overdue", []))
    rows = conn.execute(
        "SELECT o.id, o.number, o.key, o.kind, o.due_on FROM obligations o "
        "WHERE o.valid_to IS NULL AND o.status = 'open' AND o.due_on <= %(horizon)s "
        "AND NOT (o.due_on < %(today)s AND o.kind = ANY(%(no_overdue)s)) "
        "AND (%(numbers)s::text[] IS NULL OR o.number = ANY(%(numbers)s)) "
        # Warned of at the mark it stands at already: nothing to do (most runs, most obligations).
        "AND NOT EXISTS (SELECT 1 FROM obligation_findings f WHERE f.number = o.number AND f.key = o.key "
        "  AND f.kind = 'due' AND f.due_on = o.due_on AND o.due_on >= %(today)s AND f.threshold = "
        "  (SELECT min(m) FROM unnest(%(marks)s::integer[]) m WHERE o.due_on - %(today)s <= m)) "
        "ORDER BY o.due_on, o.number, o.key LIMIT %(limit)s",
        {"horizon": today + dt.timedelta(days=marks[0]), "today": today, "no_overdue": sorted(no_overdue),
         "numbers": numbers, "marks": marks, "limit": LIMIT}).fetchall()
    conn.commit()
    for obligation_id, number, key, kind, due_on in rows:
        days_left = (due_on - today).days
        params = {"number": number, "obligation": obligation_name(kind, key), "due_on": due_on.isoformat()}
        with conn.transaction():
            if days_left < 0:
                if kind in no_overdue:
                    continue
                try:
                    obligations.set_status(conn, obligation_id, "overdue", actor=ACTOR,
                                           basis=f"checker: due on {due_on}, not met by {today}",
                                           effective_on=today)
                except LookupError:
                    continue  # changed meanwhile (met, recomputed, or another checker marked it)
                if _record(conn, today, number, key, "overdue", due_on=due_on,
                           params={**params, "days": -days_left}):
                    counts["overdue"] += 1
                continue
            threshold = threshold_for(days_left, marks)
            if threshold is not None and _record(conn, today, number, key, "due", due_on=due_on, threshold=threshold,
                                                 params={**params, "days": days_left}):
                counts["due"] += 1


def obligation_name(kind: str, key: str) -> dict[str, object]:
    """The obligation as a nested message (``obligation.<kind>``: its name in kk/ru/en, with the
    period of its key, e.g. the licence year or the calendar year), so a notice reads in the
    reader's language; the key itself stays in ``key``."""
    return {"message": f"obligation.{kind}", "params": {"period": key.partition(":")[2]}, "key": key}


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _deviations(conn: psycopg.Connection, today: dt.date, numbers: Sequence[str] | None,
                counts: dict[str, int]) -> None:
    # The latest submitted or accepted report per licence and year (a corrected report replaces
    # the one before it), with the licence year's minimum spend ending in that year, and the
    # blocks it names that no state of the licence held during the year.
    rows = conn.execute(
        "SELECT DISTINCT ON (r.number, r.report_year) r.id, r.number, r.report_year, r.spend_kzt, "
        "  s.key, s.due_on, s.parameters->>'amount_kzt', "
        "  ARRAY(SELECT b FROM unnest(r.blocks) b WHERE NOT EXISTS (SELECT 1 FROM licence_states ls "
        "    WHERE ls.number = r.number AND b = ANY(ls.blocks) "
        "    AND ls.valid_from <= make_date(r.report_year, 12, 31) "
        "    AND (ls.valid_to IS NULL OR ls.valid_to > make_date(r.report_year, 1, 1))) ORDER BY b), "
        "  w.due_on "
        "FROM obligation_reports r "
        "LEFT JOIN obligations s ON s.number = r.number AND s.valid_to IS NULL AND s.kind = 'minimum_spend' "
        "  AND extract(year FROM s.due_on) = r.report_year "
        "LEFT JOIN obligations w ON w.number = r.number AND w.valid_to IS NULL "
        "  AND w.key = 'work_report:' || r.report_year "
        "WHERE r.status = ANY(%s) AND (%s::text[] IS NULL OR r.number = ANY(%s)) "
        "ORDER BY r.number, r.report_year, r.id DESC, s.due_on DESC",
        (list(REPORTED), numbers, numbers)).fetchall()
    conn.commit()
    for report_id, number, year, spend, spend_key, spend_due, minimum, outside, report_due in rows:
        minimum_kzt = _money(minimum)
        if spend is not None and spend_key is not None and minimum_kzt is not None and spend < minimum_kzt:
            with conn.transaction():
                if _record(conn, today, number, spend_key, "deviation", code="spend_below_minimum", due_on=spend_due,
                           report_id=report_id,
                           params={"number": number, "year": year, "spend_kzt": format(spend, "f"),
                                   "minimum_kzt": format(minimum_kzt, "f"), "report": report_id}):
                    counts["deviation"] += 1
        if outside:
            with conn.transaction():
                if _record(conn, today, number, f"work_report:{year}", "deviation", code="report_outside_licence",
                           due_on=report_due, report_id=report_id,
                           params={"number": number, "year": year, "blocks": ", ".join(outside),
                                   "report": report_id}):
                    counts["deviation"] += 1


def _resolve(conn: psycopg.Connection, today: dt.date, numbers: Sequence[str] | None) -> int:
    """Resolve the open findings whose cause is gone: a warning when its obligation is no longer
    open at that date; an overdue one when the obligation is met, waived, closed or its date
    moved; a deviation when its report was returned or its obligation met, waived or closed."""
    with conn.transaction():
        row = conn.execute(
            "WITH gone AS (SELECT f.id FROM obligation_findings f "
            "  LEFT JOIN obligations o ON o.number = f.number AND o.key = f.key AND o.valid_to IS NULL "
            "  LEFT JOIN obligation_reports r ON r.id = f.report_id "
            "  WHERE f.status = 'open' AND (%(numbers)s::text[] IS NULL OR f.number = ANY(%(numbers)s)) "
            "  AND CASE f.kind "
            "    WHEN 'due' THEN o.id IS NULL OR o.status <> 'open' OR o.due_on IS DISTINCT FROM f.due_on "
            "    WHEN 'overdue' THEN o.id IS NULL OR o.status IN ('met', 'waived') "
            "      OR o.due_on IS DISTINCT FROM f.due_on "
            "    ELSE r.status = 'returned' OR o.status IN ('met', 'waived') OR (o.id IS NULL AND EXISTS ("
            "      SELECT 1 FROM obligations c WHERE c.number = f.number AND c.key = f.key)) END "
            "  FOR UPDATE OF f SKIP LOCKED) "
            "UPDATE obligation_findings SET status = 'resolved', resolved_at = clock_timestamp(), "
            "resolved_on = %(today)s "
            "WHERE id IN (SELECT id FROM gone) RETURNING 1",
            {"numbers": numbers, "today": today}).fetchall()
    return len(row)


def check(conn: psycopg.Connection, today: dt.date, *, numbers: Sequence[str] | None = None) -> dict[str, int]:
    """Check every licence's obligations (or those of ``numbers``, e.g. the licences a change
    named) as of ``today`` (a Kazakhstan calendar day). Commits as it goes, one transaction per
    finding: ``conn`` must not be inside the caller's transaction. Counts of new findings by kind
    and of findings resolved."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("check() commits per finding: call it outside a transaction")
    counts = {"due": 0, "overdue": 0, "deviation": 0, "resolved": 0}
    names = list(numbers) if numbers is not None else None
    _due_and_overdue(conn, today, names, counts)
    _deviations(conn, today, names, counts)
    counts["resolved"] = _resolve(conn, today, names)
    return counts


# --- runs -------------------------------------------------------------------------------------------

def begin_run(conn: psycopg.Connection, day: dt.date, trigger: str, process: str) -> int:
    with conn.transaction():
        row = conn.execute("INSERT INTO checker_runs (day, trigger, process) VALUES (%s, %s, %s) RETURNING id",
                           (day, trigger, process[:200])).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(conn: psycopg.Connection, run_id: int, counts: dict[str, int], error: str | None = None) -> None:
    with conn.transaction():
        conn.execute("UPDATE checker_runs SET finished_at = clock_timestamp(), counts = %s, error = %s WHERE id = %s",
                     (Jsonb(counts), None if error is None else error[:2000], run_id))


def last_finished(conn: psycopg.Connection) -> dt.datetime | None:
    """When the last run that completed finished (None: never)."""
    row = conn.execute("SELECT max(finished_at) FROM checker_runs WHERE error IS NULL").fetchone()
    conn.commit()
    return row[0] if row else None


def run(conn: psycopg.Connection, today: dt.date, *, trigger: str, process: str,
        numbers: Sequence[str] | None = None) -> dict[str, int]:
    """One recorded run of ``check``: its row in ``checker_runs``, finished with its counts (or
    its error, raised again)."""
    run_id = begin_run(conn, today, trigger, process)
    try:
        counts = check(conn, today, numbers=numbers)
    except Exception as exc:
        conn.rollback()
        finish_run(conn, run_id, {}, f"{type(exc).__name__}: {exc}")
        raise
    finish_run(conn, run_id, counts)
    return counts


def findings(conn: psycopg.Connection, number: str) -> list[dict[str, Any]]:
    """A licence's findings, newest first (what the licence shows with its status)."""
    names = ("id", "key", "kind", "threshold", "code", "report_id", "due_on", "found_on", "found_at", "status",
             "resolved_on", "params", "notified")
    rows = conn.execute("SELECT id, key, kind, threshold, code, report_id, due_on, found_on, found_at, status, "
                        "resolved_on, params, notified FROM obligation_findings WHERE number = %s "
                        "ORDER BY found_at DESC, id DESC", (number,)).fetchall()
    return [dict(zip(names, r, strict=True)) for r in rows]


__all__ = ["NOTICES", "begin_run", "check", "findings", "finish_run", "last_finished", "recipients", "run",
           "threshold_for", "warn_days"]
