"""`geoservice procedures list`, `geoservice holidays list|add`, run as the operator runs them."""

from __future__ import annotations

from tests.test_cli import run


def test_procedures_and_holidays_commands(database_url, db):
    res = run(["procedures", "list"], database_url)
    assert res.returncode == 0, res.stderr
    assert "pledge-registration" in res.stdout and "15 minutes" in res.stdout and "recognition" in res.stdout
    res = run(["holidays", "list", "--year", "2026", "--lang", "ru"], database_url)
    assert res.returncode == 0, res.stderr
    assert "2026-03-24 Tue  day_off" in res.stdout and "2025-" not in res.stdout.split("\n", 1)[1]
    # A 2028 holiday on a Saturday: the day off moves to Monday with it.
    try:
        res = run(["holidays", "add", "2028-01-01", "New Year", "--name-ru", "Новый год"], database_url)
        assert res.returncode == 0, res.stderr
        assert "2028-01-03 day_off" in res.stdout
        rows = db.execute("SELECT day::text, kind, name_ru FROM holidays WHERE day >= '2028-01-01' "
                          "ORDER BY day").fetchall()
        assert rows == [("2028-01-01", "holiday", "Новый год"), ("2028-01-03", "day_off", "Новый год (2028-01-01)")]
        res = run(["holidays", "add", "2028-01-01", "Again"], database_url)
        assert res.returncode == 1 and "already" in res.stderr
        res = run(["holidays", "add", "2028-01-04", "Worked", "--kind", "working_day"], database_url)
        assert res.returncode == 1 and "weekday" in res.stderr
    finally:
        db.execute("DELETE FROM holidays WHERE day >= '2028-01-01'")
