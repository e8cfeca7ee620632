"""The obligation checker and its scheduler (issue 11): warnings at 30/7/1 days, overdue
obligations, deviations of reports; each finding notified once (to the holder's cabinet and the
authority's officers, mail through the outbox to a real SMTP sink) across runs, concurrent OS
processes and server restarts. The module has a database of its own: the checker looks at every
licence, and the servers it starts check on the real calendar."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cadastre import checker, obligations
from cadastre import licences as reg
from cadastre.outbox import SmtpSender, deliver_due
from geoservice.kernel import clock
from geoservice.kernel.db import with_database
from geoservice.kernel.settings import Settings
from layers.grid import parse_block_list
from tests.processes import ROOT, ServerProcess, project_env
from tests.smtp_sink import SmtpSink

ISSUED = dt.date(2025, 3, 1)
TERM = dt.date(2031, 2, 28)
YEAR_ONE_DUE = dt.date(2026, 2, 28)     # minimum_spend:1 of a licence issued on ISSUED
BLOCK = "L-43-63-(10а-5б-1)"
OUTSIDE_BLOCK = "L-43-63-(10а-5б-2)"
OFFICER_IIN = "870101300111"


@pytest.fixture(scope="module")
def url(database_url: str) -> Iterator[str]:
    name = f"geoservice_checker_{uuid.uuid4().hex[:8]}"
    admin = with_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    own = with_database(database_url, name)
    try:
        from geoservice.migrate import migrate

        migrate(own)
        with psycopg.connect(own) as conn:
            # An officer of the licences' authority (copper: solid minerals), with mail.
            conn.execute("INSERT INTO role_grants (iin, role, authority) VALUES (%s, 'officer', 'solid-minerals')",
                         (OFFICER_IIN,))
            conn.execute("INSERT INTO accounts (iin, name, email) VALUES (%s, 'Officer', 'officer@gov.test')",
                         (OFFICER_IIN,))
        yield own
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def service(url: str) -> Iterator[psycopg.Connection]:
    """The service's role, as the servers run the checker."""
    with psycopg.connect(Settings(database_url=url).service_database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def owner(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def unique_iin() -> str:
    return f"9{uuid.uuid4().int % 10**11:011d}"


def licence(url: str, *, issued: dt.date = ISSUED, term: dt.date = TERM, email: bool = True) -> tuple[str, int]:
    """A one-block copper exploration licence of a new holder with a cabinet account; its number
    and the holder's account id."""
    number = f"T-{uuid.uuid4().hex[:10]}"
    iin = unique_iin()
    with psycopg.connect(url) as conn:
        row = conn.execute("INSERT INTO accounts (iin, name, email) VALUES (%s, 'Holder', %s) RETURNING id",
                           (iin, f"{iin}@holder.test" if email else None)).fetchone()
        reg.issue_licence(conn, number=number, holder={"iin": iin, "name": "Holder"}, kind="exploration",
                          mineral="copper", blocks=BLOCK, issued_on=issued, term_until=term, source="import",
                          basis="test", actor="test", publish_now=False)
    assert row is not None
    return number, int(row[0])


def found(conn: psycopg.Connection, number: str) -> list[tuple[str, str, int, str]]:
    rows = conn.execute("SELECT key, kind, threshold, code FROM obligation_findings WHERE number = %s "
                        "ORDER BY id", (number,)).fetchall()
    conn.commit()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def notices(conn: psycopg.Connection, account_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute("SELECT code, params FROM notifications WHERE account_id = %s ORDER BY id",
                        (account_id,)).fetchall()
    conn.commit()
    return [(r[0], r[1]) for r in rows]


def officer(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT id FROM accounts WHERE iin = %s", (OFFICER_IIN,)).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def unsent(service: psycopg.Connection) -> int:
    """Mail queued and still to be tried (not sent, not given up)."""
    row = service.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL"
                          ).fetchone()
    service.commit()
    return int(row[0]) if row else 0


def no_duplicate_notifications(conn: psycopg.Connection) -> None:
    dupes = conn.execute("SELECT account_id, code, params, count(*) FROM notifications "
                         "GROUP BY account_id, code, params HAVING count(*) > 1").fetchall()
    conn.commit()
    assert dupes == []


def test_warnings_at_30_7_1_then_overdue_once(service: psycopg.Connection, url: str) -> None:
    number, holder = licence(url)
    only = [number]
    assert checker.threshold_for(40, checker.warn_days()) is None
    steps = [(dt.date(2026, 1, 20), []),                                    # 39 days: nothing yet
             (dt.date(2026, 1, 29), [("minimum_spend:1", "due", 30, "")]),  # 30 days
             (dt.date(2026, 1, 30), []),                                    # 29: the 30 mark was given
             (dt.date(2026, 2, 21), [("minimum_spend:1", "due", 7, "")]),
             (dt.date(2026, 2, 27), [("minimum_spend:1", "due", 1, "")]),
             (YEAR_ONE_DUE, []),                                            # due today: the 1 mark stands
             (dt.date(2026, 3, 1), [("minimum_spend:1", "overdue", 0, "")])]
    seen: list[tuple[str, str, int, str]] = []
    for day, new in steps:
        checker.check(service, day, numbers=only)
        seen += new
        assert found(service, number) == seen, day
    # The holder and the authority's officer got each finding, once, as a notice in the cabinet.
    codes = [c for c, _ in notices(service, holder)]
    assert codes == ["notice.obligation_due"] * 3 + ["notice.obligation_overdue"]
    assert [p["days"] for _, p in notices(service, holder)] == [30, 7, 1, 1]
    assert [c for c, p in notices(service, officer(service)) if p["number"] == number] == codes
    # The obligation is overdue now (history kept), the warnings resolved, the overdue one open.
    spend = next(o for o in obligations.at(service, number) if o["key"] == "minimum_spend:1")
    assert spend["status"] == "overdue" and spend["opened_by"] == checker.ACTOR
    status = dict(service.execute("SELECT kind || threshold, status FROM obligation_findings WHERE number = %s",
                                  (number,)).fetchall())
    assert status == {"due30": "resolved", "due7": "resolved", "due1": "resolved", "overdue0": "open"}
    # A run again, any day after: nothing new, nobody notified twice, no mail queued twice.
    outbox = service.execute("SELECT count(*) FROM outbox").fetchone()
    for day in (dt.date(2026, 3, 1), dt.date(2026, 3, 2)):
        assert checker.check(service, day, numbers=only) == {"due": 0, "overdue": 0, "deviation": 0, "resolved": 0}
    assert len(notices(service, holder)) == 4
    assert service.execute("SELECT count(*) FROM outbox").fetchone() == outbox
    # Met at last: the overdue finding resolves.
    obligations.set_status(service, spend["id"], "met", actor="officer", basis="paid late",
                           effective_on=dt.date(2026, 3, 10))
    service.commit()
    assert checker.check(service, dt.date(2026, 3, 10), numbers=only)["resolved"] == 1
    assert service.execute("SELECT status, resolved_on FROM obligation_findings WHERE number = %s AND kind = "
                           "'overdue'", (number,)).fetchone() == ("resolved", dt.date(2026, 3, 10))
    service.commit()
    # The journal has each finding.
    rows = service.execute("SELECT count(*) FROM journal_intake WHERE action = 'checker.finding' "
                           "AND object = %s", (f"licence:{number}",)).fetchone()
    sealed = service.execute("SELECT count(*) FROM journal WHERE action = 'checker.finding' AND object = %s",
                             (f"licence:{number}",)).fetchone()
    assert rows is not None and sealed is not None and rows[0] + sealed[0] == 4


def test_after_downtime_only_the_most_urgent_warning(service: psycopg.Connection, url: str) -> None:
    number, holder = licence(url)
    other, _ = licence(url)
    checker.check(service, dt.date(2026, 1, 10), numbers=[number, other])  # 49 days: nothing
    # Down until 3 days before: the 30- and 7-day marks have both passed; one warning, the 7-day one.
    checker.check(service, dt.date(2026, 2, 25), numbers=[number])
    assert found(service, number) == [("minimum_spend:1", "due", 7, "")]
    assert [p["days"] for _, p in notices(service, holder)] == [3]
    # The other licence's checker was down past the date: overdue, and no stale warnings.
    checker.check(service, dt.date(2026, 3, 5), numbers=[other])
    assert found(service, other) == [("minimum_spend:1", "overdue", 0, "")]


def test_deviations_of_reports(service: psycopg.Connection, owner: psycopg.Connection, url: str) -> None:
    number, holder = licence(url)
    minimum = 1200 * 3932  # one block, years 1-3, the MCI of 2025 (the year the licence year begins)
    report = owner.execute(
        "INSERT INTO obligation_reports (number, report_year, spend_kzt, blocks, status) "
        "VALUES (%s, 2026, %s, %s, 'submitted') RETURNING id",
        (number, minimum - 1, parse_block_list(BLOCK) + parse_block_list(OUTSIDE_BLOCK))).fetchone()
    # A report that is fine: spend above the minimum, blocks of the licence (no finding).
    owner.execute("INSERT INTO obligation_reports (number, report_year, spend_kzt, blocks, status) "
                  "VALUES (%s, 2025, %s, %s, 'accepted')", (number, minimum * 2, parse_block_list(BLOCK)))
    assert report is not None
    counts = checker.check(service, dt.date(2025, 6, 1), numbers=[number])
    assert counts["deviation"] == 2
    assert found(service, number) == [("minimum_spend:1", "deviation", 0, "spend_below_minimum"),
                                      ("work_report:2026", "deviation", 0, "report_outside_licence")]
    got = dict(notices(service, holder))
    assert got["notice.obligation_spend_below_minimum"]["minimum_kzt"] == str(minimum)
    assert got["notice.obligation_report_outside_licence"]["blocks"] == parse_block_list(OUTSIDE_BLOCK)[0]
    assert checker.check(service, dt.date(2025, 6, 2), numbers=[number])["deviation"] == 0
    # The authority returns the report: both deviations resolve.
    owner.execute("UPDATE obligation_reports SET status = 'returned' WHERE id = %s", (report[0],))
    assert checker.check(service, dt.date(2025, 6, 3), numbers=[number])["resolved"] == 2


def test_mail_reaches_the_smtp_sink(service: psycopg.Connection, url: str, smtp_sink: SmtpSink) -> None:
    number, holder = licence(url)
    checker.check(service, dt.date(2026, 2, 21), numbers=[number])
    sender = SmtpSender(smtp_sink.host, smtp_sink.port, sender="geoservice@test", tls="none")
    deliver_due(service, sender, clock.now() + dt.timedelta(seconds=1))
    to_holder = [m for m in smtp_sink.messages if m["To"].startswith(service.execute(
        "SELECT email FROM accounts WHERE id = %s", (holder,)).fetchone()[0])]  # type: ignore[index]
    assert len(to_holder) == 1
    body = to_holder[0].get_content()
    assert number in body and "2026-02-28" in body and "осталось дней: 7" in body


def cli_check(url: str, day: str, sink: SmtpSink) -> subprocess.Popen[str]:
    env = project_env(DATABASE_URL=url, GEOSERVICE_LOCAL_SETTINGS="", GEOSERVICE_SMTP_HOST=sink.host,
                      GEOSERVICE_SMTP_PORT=str(sink.port), GEOSERVICE_SMTP_TLS="none")
    return subprocess.Popen([sys.executable, "-m", "geoservice.cli", "obligations", "check", "--day", day],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_at_once_notify_each_finding_once(service: psycopg.Connection, url: str,
                                                        smtp_sink: SmtpSink) -> None:
    made = [licence(url) for _ in range(8)]
    start = service.execute("SELECT clock_timestamp()").fetchone()
    # Two OS processes check the same day at the same moment (and send the mail).
    runs = [cli_check(url, "2026-03-02", smtp_sink) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    for number, holder in made:
        # Overdue (the 28 February spend), once; its notice once to the holder.
        assert found(service, number) == [("minimum_spend:1", "overdue", 0, "")]
        assert [c for c, _ in notices(service, holder)] == ["notice.obligation_overdue"]
    no_duplicate_notifications(service)
    sent = service.execute("SELECT dedup_key FROM outbox WHERE sent_at > %s", start).fetchall()
    service.commit()
    ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(ids) == len(set(ids)) == len(sent) >= 16  # the holders' and the officer's, each once


# --- the scheduler in real server processes (real calendar) ----------------------------------------

def licence_due_in(url: str, days: int) -> tuple[str, int]:
    """A licence whose first-year minimum spend falls due ``days`` from today."""
    today = clock.today_in_kazakhstan()
    due_plus_one = today + dt.timedelta(days=days + 1)
    if due_plus_one.month == 2 and due_plus_one.day == 29:
        # No 29 February the year before (on today's calendar around 21 February of a leap year):
        # issued a day earlier, due a day earlier, still within the same warning mark (7 > 6 > 1).
        due_plus_one -= dt.timedelta(days=1)
    issued = due_plus_one.replace(year=due_plus_one.year - 1)
    return licence(url, issued=issued, term=issued + dt.timedelta(days=6 * 365))


def until(what: Callable[[], Any], timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def server_env(url: str, sink: SmtpSink, interval: float) -> dict[str, str]:
    return {"DATABASE_URL": url, "GEOSERVICE_LOCAL_SETTINGS": "", "GEOSERVICE_CHECKER_INTERVAL_SECONDS": str(interval),
            "GEOSERVICE_SMTP_HOST": sink.host, "GEOSERVICE_SMTP_PORT": str(sink.port), "GEOSERVICE_SMTP_TLS": "none"}


def week_warning(conn: psycopg.Connection, number: str) -> tuple[str, dt.datetime] | None:
    """Who found the 7-day warning of the licence (the run that was going then), when found."""
    row = conn.execute("SELECT r.process, f.found_at FROM obligation_findings f JOIN checker_runs r "
                       "ON f.found_at BETWEEN r.started_at AND coalesce(r.finished_at, 'infinity') "
                       "WHERE f.number = %s AND f.kind = 'due' AND f.threshold = 7 ORDER BY r.id DESC LIMIT 1",
                       (number,)).fetchone()
    conn.commit()
    return (row[0], row[1]) if row else None


def week_notices(conn: psycopg.Connection, account_id: int) -> int:
    """The account's warnings of its first-year spend (the licence has other, older findings)."""
    return sum(1 for c, p in notices(conn, account_id)
               if c == "notice.obligation_due" and p["obligation"]["key"] == "minimum_spend:1")


def pid_of(process: str) -> int:
    return int(process.rsplit(":", 1)[1])


def test_one_server_checks_another_takes_over_when_it_dies(service: psycopg.Connection, url: str,
                                                           smtp_sink: SmtpSink, tmp_path: Path) -> None:
    servers = [ServerProcess(server_env(url, smtp_sink, 2.0), tmp_path / f"s{n}.log") for n in (1, 2)]
    try:
        for s in servers:
            s.wait_started()
        # A change is checked at once (NOTIFY), by one of them.
        number, holder = licence_due_in(url, 7)
        first = until(lambda: week_warning(service, number), 20)
        holder_pid = pid_of(first[0])
        assert holder_pid in {s.proc.pid for s in servers}
        # Only the lock holder runs the checker.
        processes = {p for (p,) in service.execute("SELECT DISTINCT process FROM checker_runs "
                                                   "WHERE trigger <> 'cli'").fetchall()}
        service.commit()
        assert {pid_of(p) for p in processes} <= {holder_pid} | {s.proc.pid for s in servers}
        assert len({pid_of(p) for p in processes} & {s.proc.pid for s in servers}) == 1
        until(lambda: any(number in m.get_content() for m in smtp_sink.messages), 20)
        # Mail is at least once: a process killed between the SMTP server's "250 OK" and its commit
        # leaves that message to be sent again. So the kill waits until nothing is in flight;
        # then any second copy would be a real duplicate.
        until(lambda: unsent(service) == 0, 30)
        # The holder dies; a change meanwhile is found by the other one on its next round.
        dead = next(s for s in servers if s.proc.pid == holder_pid)
        os.kill(dead.proc.pid, signal.SIGKILL)
        dead.proc.wait(timeout=10)
        later, later_holder = licence_due_in(url, 7)
        survivor = next(s for s in servers if s is not dead)
        second = until(lambda: week_warning(service, later), 30)
        assert pid_of(second[0]) == survivor.proc.pid
        until(lambda: any(later in m.get_content() for m in smtp_sink.messages), 20)
        time.sleep(3)  # a few more rounds: still nothing twice
        for account in (holder, later_holder):
            assert week_notices(service, account) == 1
        no_duplicate_notifications(service)
        ids = [m["Message-ID"] for m in smtp_sink.messages]
        assert len(ids) == len(set(ids))
    finally:
        for s in servers:
            s.stop()


def test_a_missed_run_catches_up_at_start(service: psycopg.Connection, url: str, smtp_sink: SmtpSink,
                                          tmp_path: Path) -> None:
    # The last run long ago (the service was down for a day): a server's first round catches up.
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE checker_runs SET started_at = started_at - interval '1 day', "
                     "finished_at = finished_at - interval '1 day'")
    # While no server runs, a licence comes close to a deadline (a NOTIFY nobody hears).
    number, holder = licence_due_in(url, 7)
    server = ServerProcess(server_env(url, smtp_sink, 3600.0), tmp_path / "s.log")
    try:
        server.wait_started()
        who = until(lambda: week_warning(service, number), 30)
        assert pid_of(who[0]) == server.proc.pid
        row = service.execute("SELECT trigger FROM checker_runs WHERE process = %s ORDER BY id LIMIT 1",
                              (who[0],)).fetchone()
        service.commit()
        assert row == ("start",)
        until(lambda: any(number in m.get_content() for m in smtp_sink.messages), 20)
        assert week_notices(service, holder) == 1
    finally:
        server.stop()


def test_every_obligation_kind_is_named_in_the_notices_language() -> None:
    from cadastre.checker import obligation_name
    from geoservice.kernel.i18n import translate
    from geoservice.messages import register_all

    register_all()
    for kind in obligations.rules()["kinds"]:
        names = {lang: translate(f"obligation.{kind}", lang, period="2") for lang in ("kk", "ru", "en")}
        assert all(n != f"obligation.{kind}" for n in names.values()), kind
        assert len(set(names.values())) == 3, names
    params = {"number": "L-1", "obligation": obligation_name("work_report", "work_report:2026"), "due_on": "2027-04-30",
              "days": 7}
    assert translate("notice.obligation_due", "ru", **params) == (
        "Лицензия L-1: срок обязательства ежегодный отчёт о работах за 2026 год — 2027-04-30 (осталось дней: 7).")
    assert "2026 жылғы жұмыстар туралы жылдық есеп" in translate("notice.obligation_due", "kk", **params)
