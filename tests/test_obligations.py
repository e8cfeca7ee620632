"""Obligations of licences (issue 11): derived from the licence and the rules file (figures of
DOMAIN.md), the MCI table, and stored with their history when a licence is granted or changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from cadastre import granting, obligations, workbench
from cadastre import licences as reg
from geoservice.kernel.settings import get_settings
from layers.grid import parse_block_list

ISSUED = dt.date(2025, 3, 1)
TERM = dt.date(2031, 2, 28)
MCI = {2025: Decimal(3932), 2026: Decimal(4325), 2027: Decimal(4325)}
OFFICER = "IIN870101300111"
TWELVE = "L-43-63-(10а-5б-1,2,3,4,5,6,7,8,9,10,11,12)"


def exploration(blocks: int, **over: object) -> dict[str, object]:
    return {"kind": "exploration", "blocks": blocks, "issued_on": ISSUED, "term_until": TERM, **over}


def spend(found: list[obligations.Obligation]) -> list[tuple[int, int, str | None]]:
    return [(o.parameters["licence_year"], o.parameters["mci"], o.parameters["amount_kzt"])
            for o in found if o.kind == "minimum_spend"]


@pytest.mark.parametrize(("blocks", "first", "later"), [
    (1, 1200, 1200), (4, 1800, 2300), (8, 2300, 3500), (15, 2300 + 5 * 120, 3500 + 5 * 180)])
def test_minimum_spend_by_blocks(blocks: int, first: int, later: int) -> None:
    found = obligations.derive(exploration(blocks), MCI)
    # Six licence years, each due on its last day; KZT = MCI x the value of the year it begins in
    # (no value known for 2028 on: the amount waits for it).
    assert spend(found) == [
        (1, first, str(first * 3932)), (2, first, str(first * 4325)), (3, first, str(first * 4325)),
        (4, later, None), (5, later, None), (6, later, None)]
    dues = [o.due_on for o in found if o.kind == "minimum_spend"]
    assert dues == [dt.date(2026, 2, 28), dt.date(2027, 2, 28), dt.date(2028, 2, 29), dt.date(2029, 2, 28),
                    dt.date(2030, 2, 28), TERM]
    assert {o.parameters["period"] for o in found if o.kind == "minimum_spend"} == {"years_1_3", "years_4_6"}
    kinds = {o.kind for o in found}
    assert {"work_report", "expiry"} <= kinds
    # Extension and relinquishment only from 10 blocks on.
    assert ({"extension", "relinquishment"} <= kinds) == (blocks >= 10)
    assert "signature_bonus" not in kinds and "rent" not in kinds


def test_other_kinds_and_conditions() -> None:
    # A mining licence owes no exploration spend; a bonus and rent come from its conditions.
    found = obligations.derive({"kind": "mining", "blocks": 3, "issued_on": ISSUED, "term_until": TERM,
                                "conditions": {"signature_bonus": "125000000", "rent": {"mci_per_block": 10}}},
                               MCI)
    by_kind = {o.kind: o for o in found}
    assert "minimum_spend" not in by_kind and "extension" not in by_kind
    assert by_kind["signature_bonus"].due_on == ISSUED + dt.timedelta(days=10)
    assert by_kind["signature_bonus"].parameters["amount_kzt"] == "125000000"
    rent = {o.key: o.parameters for o in found if o.kind == "rent"}
    assert rent["rent:2025"]["amount_kzt"] == str(30 * 3932) and rent["rent:2026"]["amount_kzt"] == str(30 * 4325)
    assert rent["rent:2028"]["amount_kzt"] is None
    # A terminated licence keeps what fell due before it ended.
    ended = obligations.derive(exploration(1, status="terminated", valid_from=dt.date(2027, 6, 1)), MCI)
    assert ended and all(o.due_on < dt.date(2027, 6, 1) for o in ended)
    assert [y for y, _, _ in spend(ended)] == [1, 2]
    # Every kind has its legal basis in three languages.
    for kind in obligations.rules()["kinds"]:
        assert set(obligations.basis_texts(kind)) == {"kk", "ru", "en"}


@pytest.fixture
def service(database_url: str) -> Iterator[psycopg.Connection]:
    get_settings.cache_clear()
    with psycopg.connect(get_settings().service_database_url) as conn:
        yield conn


def test_mci_table(database_url: str, service: psycopg.Connection) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT year, value, projected, basis FROM mci_values ORDER BY year").fetchall()
    assert [(y, v, p) for y, v, p, _ in rows] == [(2025, 3932, False), (2026, 4325, False), (2027, 4325, True)]
    assert "Projection" in rows[2][3]
    assert obligations.mci_values(service) == MCI
    # The operator's table: the service reads it and does not write it.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute("UPDATE mci_values SET value = 1 WHERE year = 2025")
    service.rollback()


def grant(database_url: str, service: psycopg.Connection, number: str) -> str:
    """A licence issued through the granting hook, as a finished procedure run issues it."""
    with psycopg.connect(database_url) as conn:
        account = conn.execute("INSERT INTO accounts (iin, name) VALUES ('900315300123', 'Сапар Ерлан') "
                               "ON CONFLICT DO NOTHING RETURNING id").fetchone()
        if account is None:
            account = conn.execute("SELECT id FROM accounts WHERE iin = '900315300123'").fetchone()
        conn.commit()
    assert account is not None
    granting.licence_from_application(service, workbench.GrantedApplication(
        0, number, "exploration-licence", "copper", "900315300123", None, account[0], "solid-minerals",
        dt.datetime(2025, 2, 1, tzinfo=dt.UTC), {}, parse_block_list(TWELVE), [],
        dt.datetime(2025, 3, 1, 6, tzinfo=dt.UTC), OFFICER, "exploration"))
    service.commit()
    return granting.licence_number(number)


def test_recompute_on_grant_and_change_keeps_history(database_url: str, service: psycopg.Connection) -> None:
    number = grant(database_url, service, "APP-2025-000901")
    opened = obligations.at(service, number)
    assert {o["opened_by"] for o in opened} == {OFFICER} and all(o["status"] == "open" for o in opened)
    assert all(o["valid_from"] == ISSUED for o in opened)
    spends = {o["key"]: o["parameters"] for o in opened if o["kind"] == "minimum_spend"}
    assert spends["minimum_spend:1"]["mci"] == 2300 + 2 * 120
    assert spends["minimum_spend:1"]["amount_kzt"] == str(2540 * 3932)
    assert {"extension", "relinquishment", "expiry"} <= {o["kind"] for o in opened}
    expiry = next(o for o in opened if o["kind"] == "expiry")
    assert expiry["due_on"] == dt.date(2031, 2, 28)

    # Five blocks relinquished: the spend figures change, extension and relinquishment fall away;
    # the old rows are closed with the basis, the expiry row stays as it was.
    reg.change_licence(service, number, {"blocks": "L-43-63-(10а-5б-1,2,3,4,5)"}, basis="Order No. 7",
                       actor="IIN880409400785", effective_on=dt.date(2026, 6, 1))
    service.commit()
    now = obligations.at(service, number)
    assert {o["kind"] for o in now} >= {"minimum_spend", "expiry"}
    assert not {"extension", "relinquishment"} & {o["kind"] for o in now}
    spends = {o["key"]: o for o in now if o["kind"] == "minimum_spend"}
    assert spends["minimum_spend:4"]["parameters"]["mci"] == 2300
    assert spends["minimum_spend:4"]["opened_basis"] == "Order No. 7"
    assert spends["minimum_spend:4"]["valid_from"] == dt.date(2026, 6, 1)
    assert next(o for o in now if o["kind"] == "expiry")["id"] == expiry["id"]
    # As of the day before, the old figures stand.
    before = obligations.at(service, number, dt.date(2026, 5, 31))
    assert {o["id"] for o in before} == {o["id"] for o in opened}
    # The spend of the licence year that begins in 2027 uses the projected MCI, and says so.
    assert spends["minimum_spend:3"]["parameters"]["mci_projected"] is True
    assert spends["minimum_spend:2"]["parameters"]["mci_projected"] is False
    closed = service.execute(
        "SELECT count(*), min(closed_basis), min(closed_by), bool_and(valid_to = '2026-06-01') FROM obligations "
        "WHERE number = %s AND valid_to IS NOT NULL", (number,)).fetchone()
    # Six spends, the extension and the relinquishment; the reports and the expiry stand as they were.
    assert closed is not None and closed[0] == 8
    assert {o["id"] for o in now if o["kind"] in ("work_report", "expiry")} == \
        {o["id"] for o in opened if o["kind"] in ("work_report", "expiry")}
    assert closed[1:] == ("Order No. 7", "IIN880409400785", True)

    # A status is a change too: met closes the open row and opens one, history kept.
    row = spends["minimum_spend:1"]
    new_id = obligations.set_status(service, row["id"], "met", actor=OFFICER, basis="report accepted",
                                    effective_on=dt.date(2026, 6, 2))
    service.commit()
    assert new_id != row["id"]
    assert next(o for o in obligations.at(service, number) if o["key"] == "minimum_spend:1")["status"] == "met"
    # Recomputing an unchanged licence changes nothing.
    assert obligations.recompute(service, number, actor=OFFICER, basis="again")["opened"] == 0
    service.rollback()

    # Nobody rewrites the history: the service may not delete, the owner's triggers refuse rewrites.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute("DELETE FROM obligations WHERE number = %s", (number,))
    service.rollback()
    with psycopg.connect(database_url) as conn:
        for statement in ("UPDATE obligations SET status = 'waived' WHERE id = %s",
                          "UPDATE obligations SET closed_basis = 'other' WHERE id = %s",
                          "DELETE FROM obligations WHERE id = %s"):
            with pytest.raises(psycopg.errors.RestrictViolation):
                conn.execute(statement, (row["id"],))
            conn.rollback()


@pytest.fixture
def mci_restored(database_url: str) -> Iterator[None]:
    """The shipped MCI table back after a test changed it (later tests of the database read it)."""
    with psycopg.connect(database_url) as conn:
        shipped = conn.execute("SELECT year, value, basis, projected FROM mci_values").fetchall()
    yield
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM mci_values")
        for row in shipped:
            conn.execute("INSERT INTO mci_values (year, value, basis, projected) VALUES (%s, %s, %s, %s)", row)


def test_a_new_mci_value_recomputes_the_amounts(database_url: str, service: psycopg.Connection,
                                                mci_restored: None) -> None:
    number = grant(database_url, service, "APP-2025-000902")
    year3 = next(o for o in obligations.at(service, number) if o["key"] == "minimum_spend:3")
    with psycopg.connect(database_url) as conn:
        # The operator enters the law's value for 2027 and one for 2028.
        conn.execute("UPDATE mci_values SET value = 4500, projected = false, basis = 'test law' WHERE year = 2027")
        conn.execute("INSERT INTO mci_values (year, value, basis) VALUES (2028, 4700, 'test law')")
        changed = obligations.recompute_all(conn, actor="operator", basis="MCI 2027-2028 set",
                                            effective_on=dt.date(2026, 11, 1))
        conn.commit()
    # Years 3 and 4 of this licence, each closed and reopened (other tests' licences share the database).
    assert changed >= 4
    assert service.execute("SELECT array_agg(key ORDER BY key) FROM obligations WHERE number = %s "
                           "AND closed_basis = 'MCI 2027-2028 set'", (number,)).fetchone() == (
        ["minimum_spend:3", "minimum_spend:4"],)
    now = {o["key"]: o for o in obligations.at(service, number) if o["kind"] == "minimum_spend"}
    assert now["minimum_spend:3"]["parameters"]["amount_kzt"] == str(2540 * 4500)
    assert now["minimum_spend:3"]["parameters"]["mci_projected"] is False
    assert now["minimum_spend:4"]["parameters"]["amount_kzt"] == str(3860 * 4700)
    assert now["minimum_spend:5"]["parameters"]["amount_kzt"] is None
    old = service.execute("SELECT closed_basis, closed_by, valid_to, parameters->>'amount_kzt' FROM obligations "
                          "WHERE id = %s", (year3["id"],)).fetchone()
    assert old == ("MCI 2027-2028 set", "operator", dt.date(2026, 11, 1), str(2540 * 4325))
