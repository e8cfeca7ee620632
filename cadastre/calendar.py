"""Kazakhstan's working days and procedure deadlines.

A ``Calendar`` holds the ``holidays`` table (migration 0012) loaded once; everything else here is
pure. Deadlines count in Asia/Almaty time: Kazakhstan has one time zone, UTC+5, since 1 March 2024.
A fixed offset, not the host's tz database, so a machine with tzdata older than 2024a still agrees.

How each unit counts (README, "Procedures and working days"):
* ``minutes``, ``hours``: working time. Seed 003 gives these stage times ("15 (он бес) минут
  ішінде", "3 (үш) сағат ішінде") for the provider's staff, and names only one schedule, the
  office's: Monday to Friday 9.00–17.30 with a lunch break 13.00–14.30 (seed 003 lines 439–440).
  An application arriving at 17.20 on a Friday is not late at 20.35; the clock runs in office
  hours of working days only.
* ``working_days``: the end (23:59:59.999999 local) of the Nth working day after the start day;
  the start day itself does not count (the Civil Code's rule: a term runs from the next day).
* ``calendar_days``: the end of the Nth calendar day after the start day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from layers.store import journal

ALMATY = clock.KAZAKHSTAN
UNITS = ("minutes", "hours", "working_days", "calendar_days")
KINDS = ("holiday", "day_off", "working_day")
# Seed 003 lines 439–440: 9.00–17.30, lunch 13.00–14.30.
OFFICE_HOURS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(9, 0), dt.time(13, 0)),
    (dt.time(14, 30), dt.time(17, 30)),
)
END_OF_DAY = dt.time.max


@dataclass(frozen=True)
class Day:
    """One row of ``holidays``."""
    day: dt.date
    kind: str
    names: dict[str, str]
    moved_from: dt.date | None = None
    basis: str | None = None


class Calendar:
    """Weekends, the operator's holidays and transfers, and office hours. ``years`` are the years
    the holidays table covers: counting into a year it does not cover is refused rather than
    guessed, since a missing Nauryz would shorten every deadline across it."""

    def __init__(self, days: Iterable[Day] = (), *, years: Iterable[int] | None = None,
                 office_hours: tuple[tuple[dt.time, dt.time], ...] = OFFICE_HOURS) -> None:
        self.days: dict[dt.date, Day] = {d.day: d for d in days}
        self.years = frozenset(years) if years is not None else frozenset(d.year for d in self.days)
        self.office_hours = office_hours

    def _covered(self, day: dt.date) -> None:
        if day.year not in self.years:
            known = ", ".join(str(y) for y in sorted(self.years)) or "-"
            raise Problem("calendar.year_not_covered", 503, year=day.year, years=known)

    def is_working_day(self, day: dt.date) -> bool:
        self._covered(day)
        entry = self.days.get(day)
        if entry is not None:
            return entry.kind == "working_day"
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day after ``day``."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """``start`` plus ``amount`` of office time on working days (local time)."""
        t = start.astimezone(ALMATY)
        left = amount
        day = t.date()
        while True:
            if self.is_working_day(day):
                for opens, closes in self.office_hours:
                    begin = dt.datetime.combine(day, opens, ALMATY)
                    end = dt.datetime.combine(day, closes, ALMATY)
                    if t >= end:
                        continue
                    t = max(t, begin)
                    if left <= end - t:
                        return t + left
                    left -= end - t
                    t = end
            day = self.next_working_day(day)
            t = dt.datetime.combine(day, self.office_hours[0][0], ALMATY)


def load_calendar(conn: Any) -> Calendar:
    """The holidays table as a Calendar (psycopg connection)."""
    rows = conn.execute(
        "SELECT day, kind, name_kk, name_ru, name_en, moved_from, basis FROM holidays ORDER BY day").fetchall()
    return Calendar(Day(day, kind, {"kk": kk, "ru": ru, "en": en}, moved_from, basis)
                    for day, kind, kk, ru, en, moved_from, basis in rows)


def is_working_day(conn_or_calendar: Any, day: dt.date) -> bool:
    """Whether ``day`` is a working day in Kazakhstan (a Calendar, or a connection to load one from)."""
    calendar = conn_or_calendar if isinstance(conn_or_calendar, Calendar) else load_calendar(conn_or_calendar)
    return calendar.is_working_day(day)


def add_deadline(start: dt.datetime, amount: int, unit: str, calendar: Calendar) -> dt.datetime:
    """When a stage begun at ``start`` is due (Asia/Almaty time); see the module's note for units."""
    if start.tzinfo is None:
        raise ValueError("start must carry its time zone")
    if unit not in UNITS:
        raise Problem("calendar.bad_unit", 422, unit=unit, units=", ".join(UNITS))
    if amount < 0:
        raise Problem("calendar.bad_amount", 422, amount=amount)
    local = start.astimezone(ALMATY)
    if unit == "minutes":
        return calendar.add_working_time(local, dt.timedelta(minutes=amount))
    if unit == "hours":
        return calendar.add_working_time(local, dt.timedelta(hours=amount))
    if unit == "working_days":
        return dt.datetime.combine(calendar.add_working_days(local.date(), amount), END_OF_DAY, ALMATY)
    day = local.date() + dt.timedelta(days=amount)
    calendar._covered(day)  # the same promise as the other units: no counting past the table
    return dt.datetime.combine(day, END_OF_DAY, ALMATY)


def add_holiday(conn: Any, day: dt.date, names: dict[str, str], *, kind: str = "holiday",
                moved_from: dt.date | None = None, basis: str | None = None, actor: str = "cli") -> None:
    """The operator's new row in ``holidays`` (a decree's transfer, next year's dates)."""
    if kind not in KINDS:
        raise Problem("calendar.bad_kind", 422, kind=kind, kinds=", ".join(KINDS))
    if kind == "working_day" and day.weekday() < 5:
        raise Problem("calendar.working_day_on_weekday", 422, day=day.isoformat())
    if kind == "day_off" and day.weekday() >= 5:
        raise Problem("calendar.day_off_on_weekend", 422, day=day.isoformat())
    exists = conn.execute("SELECT kind FROM holidays WHERE day = %s", (day,)).fetchone()
    if exists is not None:
        raise Problem("calendar.day_exists", 409, day=day.isoformat(), kind=exists[0])
    conn.execute(
        "INSERT INTO holidays (day, kind, name_kk, name_ru, name_en, moved_from, basis, added_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (day, kind, names["kk"], names["ru"], names["en"], moved_from, basis, actor))
    # Deadlines count by this table: who changed it, and when, is on the journal.
    journal(conn, actor, "holidays.add", "ok", object=f"holiday:{day.isoformat()}", client="cli",
            detail={"kind": kind, "moved_from": moved_from.isoformat() if moved_from else None, "basis": basis})


def weekend_transfer(calendar: Calendar, holiday: dt.date) -> dt.date | None:
    """The weekday a public holiday on a weekend moves its day off to: the next working day not
    already taken (``None`` when the holiday is on a weekday)."""
    if holiday.weekday() < 5:
        return None
    return calendar.next_working_day(holiday)
