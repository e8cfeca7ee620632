"""The demo's licences (issue 11): exactly one obligation overdue and one due in 7 days on the day
of the load, holders and officer reachable by mail, and loading again changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from cadastre import licences, obligations
from cadastre.demo_licences import EMAIL_DOMAIN, demo_licences, load_licences
from tests.applicants import programme_database


@pytest.fixture(scope="module")
def database_url(database_url: str) -> Iterator[str]:
    """A database of the module's own: the demo's licences (a gold one among them) must not join
    what other modules on the worker filter and count (test_licences' filters saw them)."""
    with programme_database(database_url, "geoservice_demo_licences") as url:
        yield url


def test_demo_licences_show_one_overdue_and_one_coming_due(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        # The registry's today (licences are not issued in the future); on a day after 30 April
        # the load also records the licence's first work report as met.
        DAY = licences.today(conn)  # noqa: N806
        first = load_licences(conn, DAY)
        conn.commit()
        numbers = [d.number for d in demo_licences()]
        assert all(n in first for n in numbers)
        open_rows = [o | {"number": n} for n in numbers for o in obligations.at(conn, n)]
        past = [(o["number"], o["key"], o["status"]) for o in open_rows if o["due_on"] < DAY and o["status"] == "open"]
        assert past == [("KZ-EL-DEMO-0001", "relinquishment:1", "open")]
        assert next(o for o in open_rows if o["key"] == "relinquishment:1")["due_on"] == DAY - dt.timedelta(days=3)
        soon = [(o["number"], o["key"]) for o in open_rows if DAY <= o["due_on"] <= DAY + dt.timedelta(days=7)]
        assert soon == [("KZ-EL-DEMO-0002", "signature_bonus")]
        assert next(o for o in open_rows if o["key"] == "signature_bonus")["due_on"] == DAY + dt.timedelta(days=7)
        # Each of them has an email: the demo's, unless the account (made by an earlier sign-in in
        # this database) already had one, which is kept.
        people = {"applicant": ("900315300123", None), "head": ("850721400341", "150140000121"),
                  "officer": ("880409400785", None)}
        for role, (iin, bin_) in people.items():
            row = conn.execute("SELECT email FROM accounts WHERE iin = %s AND bin IS NOT DISTINCT FROM %s",
                               (iin, bin_)).fetchone()
            assert row is not None and row[0], role
            assert row[0] == f"{role}@{EMAIL_DOMAIN}" or not row[0].endswith(EMAIL_DOMAIN), row
        # The licences are in the registry's layer, and a second load changes nothing.
        before = conn.execute("SELECT count(*) FROM obligations").fetchone()
        assert "already loaded" in load_licences(conn, DAY + dt.timedelta(days=1))
        conn.commit()
        assert conn.execute("SELECT count(*) FROM obligations").fetchone() == before
        states = conn.execute("SELECT number, holder_iin, holder_bin, status FROM licence_states "
                              "WHERE number = ANY(%s) AND valid_to IS NULL ORDER BY number", (numbers,)).fetchall()
        assert [(s[0], s[3]) for s in states] == [(n, "active") for n in numbers]


def test_what_fell_due_before_the_load_is_recorded_met(database_url: str) -> None:
    old = replace(demo_licences()[0], number="KZ-EL-DEMO-OLD", west=74.5, issued_days_ago=800)
    with psycopg.connect(database_url) as conn:
        day = licences.today(conn)
        load_licences(conn, day, (old,))
        conn.commit()
        rows = obligations.at(conn, old.number)
        past = {o["key"]: o["status"] for o in rows if o["due_on"] < day}
        # Two years in: the first licence year's spend and a work report fell due, and are met.
        assert past.pop("relinquishment:1") == "open"
        assert past and set(past.values()) == {"met"}, past
        assert any(k.startswith("minimum_spend:") for k in past) and any(k.startswith("work_report:") for k in past)
        basis = conn.execute("SELECT DISTINCT opened_basis FROM obligations WHERE number = %s AND status = 'met'",
                             (old.number,)).fetchall()
        assert basis == [("Demo data set (geoservice demo load)",)]
