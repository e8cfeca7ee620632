"""Kazakhstan's working days and deadlines, on the holidays table migration 0012 ships."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from cadastre.calendar import (
    ALMATY,
    Calendar,
    Day,
    add_deadline,
    add_holiday,
    is_working_day,
    load_calendar,
    weekend_transfer,
)
from geoservice.kernel.errors import Problem
from tests.helpers import sealed


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ALMATY)


def end_of(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime.combine(dt.date(y, m, d), dt.time.max, ALMATY)


@pytest.fixture(scope="module")
def cal(database_url: str) -> Calendar:
    with psycopg.connect(database_url) as conn:
        return load_calendar(conn)


def test_shipped_years_and_known_days(cal: Calendar, db) -> None:
    assert cal.years == {2025, 2026, 2027}
    assert is_working_day(db, dt.date(2025, 3, 24)) is False  # through a connection too
    for day in ("2025-01-01", "2025-01-02", "2025-01-03", "2025-01-07", "2025-03-10", "2025-03-21",
                "2025-03-24", "2025-03-25", "2025-06-06", "2025-07-07", "2025-09-01", "2025-10-27",
                "2025-12-16", "2026-01-02", "2026-03-09", "2026-03-23", "2026-03-24", "2026-03-25",
                "2026-05-11", "2026-05-27", "2026-08-31", "2026-10-26", "2027-01-04", "2027-03-24",
                "2027-05-03", "2027-05-10"):
        assert not cal.is_working_day(dt.date.fromisoformat(day)), day
    # The 2025 transfer made Sunday 5 January a working day; ordinary weekdays work.
    for day in ("2025-01-05", "2025-01-06", "2025-03-20", "2025-03-26", "2026-01-05", "2026-07-07",
                "2027-05-17"):
        assert cal.is_working_day(dt.date.fromisoformat(day)), day
    assert not cal.is_working_day(dt.date(2025, 1, 4))  # an ordinary Saturday
    assert not cal.is_working_day(dt.date(2025, 1, 12))  # an ordinary Sunday


def test_every_weekend_holiday_moves_by_the_rule_and_religious_days_do_not(cal: Calendar) -> None:
    """Recompute the rule from the rows: each public holiday on a weekend has its day off on the
    next working day not taken; 7 January and Kurban ait never move."""
    holidays = [d for d in cal.days.values() if d.kind == "holiday"]
    moved = {d.moved_from: d.day for d in cal.days.values() if d.kind == "day_off" and d.moved_from}
    bare = Calendar([d for d in cal.days.values() if d.kind != "day_off" or d.moved_from is None],
                    years=cal.years)
    checked = 0
    for h in sorted(holidays, key=lambda d: d.day):
        religious = h.names["en"] in ("Orthodox Christmas", "Kurban ait, first day")
        if h.day.weekday() < 5 or religious:
            assert h.day not in moved, h
            continue
        expected = weekend_transfer(bare, h.day)
        assert moved[h.day] == expected, (h.day, moved[h.day], expected)
        bare.days[expected] = Day(expected, "day_off", h.names, h.day)
        checked += 1
    assert checked == 16 and len(moved) == 16


def test_working_days_before_nauryz_new_year_and_across_years(cal: Calendar) -> None:
    # The Thursday before Nauryz 2025: Friday 21 (Nauryz), 22-23 weekend, 24-25 moved days off.
    assert add_deadline(local(2025, 3, 20, 15), 1, "working_days", cal) == end_of(2025, 3, 26)
    # Friday before Nauryz 2026: 21-22 weekend, 23 Nauryz, 24-25 moved days off.
    assert add_deadline(local(2026, 3, 20, 10), 1, "working_days", cal) == end_of(2026, 3, 26)
    # 2 January 2025: 3 January off by transfer, Sunday 5 January worked instead.
    assert add_deadline(local(2025, 1, 2, 12), 1, "working_days", cal) == end_of(2025, 1, 5)
    # From 29 December 2025 across New Year: 30, 31 December, then Monday 5 January 2026.
    assert add_deadline(local(2025, 12, 29, 9), 3, "working_days", cal) == end_of(2026, 1, 5)
    # Seed 003's 13 working days from Friday 25 April 2025: 1, 7, 9 May are off (19 May, not 14).
    assert add_deadline(local(2025, 4, 25, 11), 13, "working_days", cal) == end_of(2025, 5, 19)
    # The start day does not count, even when it is a day off.
    assert add_deadline(local(2025, 6, 6, 12), 1, "working_days", cal) == end_of(2025, 6, 9)
    # Local day, not UTC day: 20:00 UTC on 20 March is already 21 March in Almaty.
    utc = dt.datetime(2025, 3, 20, 20, 0, tzinfo=dt.UTC)
    assert add_deadline(utc, 1, "working_days", cal) == end_of(2025, 3, 26)


def test_calendar_days(cal: Calendar) -> None:
    assert add_deadline(local(2025, 3, 20, 15), 20, "calendar_days", cal) == end_of(2025, 4, 9)
    assert add_deadline(local(2025, 12, 31, 23, 30), 1, "calendar_days", cal) == end_of(2026, 1, 1)


def test_hours_and_minutes_count_office_time_of_working_days(cal: Calendar) -> None:
    # 16:00 Thursday before Nauryz 2025 + 3 h: 1.5 h that day, 1.5 h from Wednesday 26 March 9:00.
    assert add_deadline(local(2025, 3, 20, 16), 3, "hours", cal) == local(2025, 3, 26, 10, 30)
    # 15 minutes from a Kurban ait morning: Monday 9:15.
    assert add_deadline(local(2025, 6, 6, 10), 15, "minutes", cal) == local(2025, 6, 9, 9, 15)
    # Across lunch (13:00-14:30).
    assert add_deadline(local(2025, 6, 2, 12, 30), 60, "minutes", cal) == local(2025, 6, 2, 15, 0)
    # Before opening, and exactly up to closing.
    assert add_deadline(local(2025, 6, 3, 7), 15, "minutes", cal) == local(2025, 6, 3, 9, 15)
    assert add_deadline(local(2025, 6, 2, 14, 30), 3, "hours", cal) == local(2025, 6, 2, 17, 30)
    # Seed 003's pledge stages end to end from Monday 2 June 2025, 9:00 (16 h 15 min of office time).
    t = local(2025, 6, 2, 9)
    for amount, unit in ((15, "minutes"), (3, "hours"), (5, "hours"), (4, "hours"), (2, "hours"), (2, "hours")):
        t = add_deadline(t, amount, unit, cal)
    assert t == local(2025, 6, 4, 11, 15)  # 7 h a day: Monday, Tuesday, 2 h 15 min on Wednesday
    # Given in UTC, answered in Almaty time.
    got = add_deadline(dt.datetime(2025, 6, 2, 4, 0, tzinfo=dt.UTC), 1, "hours", cal)
    assert got == local(2025, 6, 2, 10) and got.utcoffset() == dt.timedelta(hours=5)
    # The New Year 2026 weekend: 31 December 17:00 + 1 h → Monday 5 January 9:30.
    assert add_deadline(local(2025, 12, 31, 17), 1, "hours", cal) == local(2026, 1, 5, 9, 30)


def test_a_transferred_working_saturday() -> None:
    """A decree makes a Saturday work: the deadline lands on it."""
    saturday = dt.date(2025, 11, 15)
    names = {"kk": "Жұмыс күні", "ru": "Рабочий день", "en": "Working day"}
    cal = Calendar([Day(saturday, "working_day", names)], years={2025})
    assert cal.is_working_day(saturday)
    assert add_deadline(local(2025, 11, 14, 10), 1, "working_days", cal) == end_of(2025, 11, 15)
    assert add_deadline(local(2025, 11, 14, 17), 1, "hours", cal) == local(2025, 11, 15, 9, 30)
    assert add_deadline(local(2025, 11, 14, 17), 1, "hours", Calendar(years={2025})) == local(2025, 11, 17, 9, 30)


def test_no_counting_past_the_table(cal: Calendar) -> None:
    with pytest.raises(Problem) as err:
        add_deadline(local(2027, 12, 30, 10), 5, "working_days", cal)
    assert err.value.key == "calendar.year_not_covered" and err.value.params["year"] == 2028
    with pytest.raises(Problem) as err:
        add_deadline(local(2027, 12, 20, 10), 20, "calendar_days", cal)
    assert err.value.key == "calendar.year_not_covered"
    with pytest.raises(Problem) as err:
        add_deadline(local(2025, 1, 1), 1, "weeks", cal)
    assert err.value.key == "calendar.bad_unit"
    with pytest.raises(ValueError):
        add_deadline(dt.datetime(2025, 6, 2, 9), 1, "hours", cal)


def test_the_operator_adds_a_day(db) -> None:
    names = {"kk": "Сынақ", "ru": "Проба", "en": "Trial"}
    with pytest.raises(Problem) as err:
        add_holiday(db, dt.date(2025, 6, 2), names, kind="working_day")  # a Monday
    assert err.value.key == "calendar.working_day_on_weekday"
    with pytest.raises(Problem) as err:
        add_holiday(db, dt.date(2025, 3, 22), names)
    assert err.value.key == "calendar.day_exists"
    # The table refuses what the function would, even written around it.
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("INSERT INTO holidays (day, kind, name_kk, name_ru, name_en) VALUES "
                   "('2025-06-07', 'day_off', 'a', 'b', 'c')")
    add_holiday(db, dt.date(2025, 11, 17), names, kind="day_off", basis="test")
    try:
        assert not load_calendar(db).is_working_day(dt.date(2025, 11, 17))
        row = sealed(db).execute("SELECT actor, result, detail->>'kind' FROM journal WHERE action = 'holidays.add' "
                                 "AND object = 'holiday:2025-11-17' ORDER BY seq DESC LIMIT 1").fetchone()
        assert row == ("cli", "ok", "day_off")
    finally:
        db.execute("DELETE FROM holidays WHERE day = '2025-11-17'")
