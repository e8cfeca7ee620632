"""`geoservice commission add|remove|list`, run as the operator runs them: the roster is data."""

from __future__ import annotations

from tests.test_cli import run

IIN, OTHER = "050505500001", "050505500002"


def test_commission_commands(database_url, db):
    # Tests that load the demo people on this database seat the demo commission person as chair:
    # set them aside for this test and seat them again after it.
    chair = db.execute("DELETE FROM commission_members WHERE commission = 'recognition' AND seat = 'chair' "
                       "RETURNING commission, iin, seat, added_at, added_by").fetchall()
    try:
        res = run(["commission", "add", "recognition", IIN, "--seat", "chair"], database_url)
        assert res.returncode == 0 and "chair of recognition" in res.stdout, res.stderr
        res = run(["commission", "add", "recognition", OTHER, "--seat", "chair"], database_url)
        assert res.returncode == 1 and IIN in res.stderr  # one chair
        res = run(["commission", "add", "recognition", OTHER], database_url)
        assert res.returncode == 0, res.stderr
        res = run(["commission", "add", "no-such", OTHER], database_url)
        assert res.returncode == 1 and "recognition" in res.stderr
        res = run(["commission", "list"], database_url)
        assert f"  {IIN}  chair" in res.stdout and f"  {OTHER}  member" in res.stdout
        assert db.execute("SELECT iin, seat FROM commission_members WHERE iin IN (%s, %s) ORDER BY iin",
                          (IIN, OTHER)).fetchall() == [(IIN, "chair"), (OTHER, "member")]
        res = run(["commission", "remove", "recognition", OTHER], database_url)
        assert res.returncode == 0 and "removed" in res.stdout
        assert db.execute("SELECT count(*) FROM commission_members WHERE iin = %s", (OTHER,)).fetchone()[0] == 0
    finally:
        db.execute("DELETE FROM commission_members WHERE iin IN (%s, %s)", (IIN, OTHER))
        for row in chair:
            db.execute("INSERT INTO commission_members (commission, iin, seat, added_at, added_by) "
                       "VALUES (%s, %s, %s, %s, %s)", row)
