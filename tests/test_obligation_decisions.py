"""Officers' signed decisions on obligations (issue 11): a payment recorded as met by an officer
of the licence's authority, signed (detached CMS over RFC 8785 JSON, verifiable again later),
kept with the obligation's history, notified, and the checker's finding resolved at once;
everybody else refused with a reason in their language."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import checker, licences, obligation_decisions, obligations
from cadastre.eds.pki import DemoPki, Issued, sign_cms
from cadastre.eds.verify import verify_cms
from cadastre.eds_trust import load_trust
from geoservice.kernel import clock
from tests.applicants import (
    FCFS_AREA,
    app_client,
    bearer,
    demo_people,
    other_officer,
    programme_database,
    square,
)

LICENCE = "LIC-TEST-DECISIONS-1"
ISSUED = dt.date(2026, 1, 5)
BONUS_DUE = ISSUED + dt.timedelta(days=10)


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_decisions") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    pki = demo_people(app_db, Path(tmp_path_factory.mktemp("decisions")) / "pki")
    holder = pki.person("applicant")
    with psycopg.connect(app_db) as conn:
        licences.issue_licence(conn, number=LICENCE, holder={"iin": holder.person.iin, "name": "АХМЕТОВ СЕРІК"},
                               kind="exploration", mineral="gold", blocks=square(FCFS_AREA, 30, 30, 2),
                               issued_on=ISSUED, term_until=dt.date(2032, 1, 4),
                               conditions={"signature_bonus": "120000000.00"}, source="import",
                               basis="test licence", actor="test")
        conn.commit()
    return pki


@pytest.fixture(scope="module")
def stranger(app_db: str, pki: DemoPki) -> tuple[str, Issued]:
    """An officer of another authority (hydrocarbons)."""
    return other_officer(app_db, pki, "0404048")


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def decision(status: str = "met", **over: Any) -> dict[str, Any]:
    body = {"licence": LICENCE, "obligation": "signature_bonus", "status": status,
            "basis": "Payment order No. 4471 of 12.01.2026", "effective_on": "2026-01-19", "document": None,
            "amount_kzt": "120000000.00"}
    body.update(over)
    return body


def post(api: TestClient, headers: dict[str, str], body: dict[str, Any], signer: Issued, *,
         key: str = "signature_bonus", over: bytes | None = None) -> Any:
    cms = sign_cms(over or obligation_decisions.canonical(body), signer, detached=True)
    return api.post(f"/api/licences/{LICENCE}/obligations/{key}/decisions", headers=headers,
                    json={"decision": body, "signature": base64.b64encode(cms).decode()})


def journaled(db: psycopg.Connection, result: str) -> int:
    # Sealed into the chain or still in the intake (the sealer runs every 0.2 s).
    row = db.execute("SELECT (SELECT count(*) FROM journal WHERE action = 'obligations.decide' AND result = %(r)s) "
                     "+ (SELECT count(*) FROM journal_intake WHERE action = 'obligations.decide' AND result = %(r)s)",
                     {"r": result}).fetchone()
    return int(row[0]) if row else 0


def bonus(db: psycopg.Connection) -> dict[str, Any]:
    return next(o for o in obligations.at(db, LICENCE) if o["key"] == "signature_bonus")


def test_refusals_change_nothing(api: TestClient, db: psycopg.Connection, pki: DemoPki,
                                 stranger: tuple[str, Issued]) -> None:
    holder, officer = pki.person("applicant"), pki.person("officer")
    before = bonus(db)
    # The holder is no officer: the route is for officers and administrators.
    r = post(api, bearer(db, holder.person.iin), decision(), holder.sign("rsa"))
    assert r.status_code == 403
    # An officer of another authority, told so in Russian.
    r = post(api, bearer(db, stranger[0], lang="ru"), decision(), stranger[1])
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "уполномоченного органа" in r.json()["detail"] and LICENCE in r.json()["detail"]
    mine = bearer(db, officer.person.iin, lang="kk")
    # Signed something else than what is sent.
    r = post(api, mine, decision(), officer.sign("rsa"), over=obligation_decisions.canonical(decision(basis="x")))
    assert r.status_code == 422, r.text
    # A date after today, a bad amount, an obligation the licence does not have.
    tomorrow = (clock.today_in_kazakhstan() + dt.timedelta(days=1)).isoformat()
    assert post(api, mine, decision(effective_on=tomorrow), officer.sign("rsa")).status_code == 422
    r = post(api, mine, decision(amount_kzt="12,5"), officer.sign("rsa"))
    assert r.status_code == 422 and "amount_kzt" in r.json()["detail"]
    r = post(api, mine, decision(obligation="rent:2026"), officer.sign("rsa"), key="rent:2026")
    assert r.status_code == 404 and "rent:2026" in r.json()["detail"]
    # The status it already has.
    assert post(api, mine, decision(status="open"), officer.sign("rsa")).status_code == 409
    assert bonus(db)["id"] == before["id"] and bonus(db)["status"] == "open"
    assert db.execute("SELECT count(*) FROM obligation_decisions").fetchone() == (0,)
    assert journaled(db, "rejected") >= 6   # the holder was turned away at the door (role), not journaled


def test_a_payment_recorded_as_met_resolves_the_overdue_finding(api: TestClient, db: psycopg.Connection,
                                                                pki: DemoPki) -> None:
    holder, officer = pki.person("applicant"), pki.person("officer")
    holders = bearer(db, holder.person.iin, lang="ru")   # the holder has a cabinet account to be told in
    # The bonus was not paid in time: the checker marks it overdue and says so.
    checker.check(db, BONUS_DUE + dt.timedelta(days=2), numbers=[LICENCE])
    overdue = [f for f in checker.findings(db, LICENCE) if f["key"] == "signature_bonus" and f["kind"] == "overdue"]
    assert [f["status"] for f in overdue] == ["open"] and bonus(db)["status"] == "overdue"
    db.execute("LISTEN obligations_changed")
    mine = bearer(db, officer.person.iin, lang="ru")
    # Not before the obligation became overdue (its rows follow each other in time), said plainly.
    r = post(api, mine, decision(effective_on="2026-01-12"), officer.sign("rsa"))
    assert r.status_code == 422 and "2026-01-17" in r.json()["detail"]
    r = post(api, mine, decision(), officer.sign("rsa"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["status"], made["obligation"], made["amount_kzt"], made["signer"]["iin"]) == (
        "met", "signature_bonus", "120000000.00", officer.person.iin)
    assert [n.payload for n in db.notifies(timeout=10.0, stop_after=1)] == [LICENCE]
    # The obligation's history: the overdue row closed by the officer's signed decision.
    now = bonus(db)
    assert now["status"] == "met" and now["opened_by"] == f"IIN{officer.person.iin}"
    assert now["opened_basis"].startswith("signed decision: Payment order No. 4471")
    assert now["valid_from"] == dt.date(2026, 1, 19)
    # What was signed verifies again, from the stored row alone.
    stored = db.execute("SELECT canonical, signature FROM obligation_decisions WHERE id = %s",
                        (made["id"],)).fetchone()
    assert stored is not None
    trust, revocation = load_trust(db)
    again = verify_cms(bytes(stored[1]), stored[0].encode(), trust=trust, revocation=revocation,
                       now=clock.now(), purpose="signature")
    assert again.valid and again.signers[0].iin == officer.person.iin
    assert stored[0].encode() == obligation_decisions.canonical(decision())
    # The holder is told, in their language; the checker resolves its finding.
    inbox = api.get("/api/me/notifications", headers=holders).json()
    assert any("теперь: исполнено" in n["text"] and LICENCE in n["text"] for n in inbox["notifications"])
    checker.check(db, BONUS_DUE + dt.timedelta(days=3), numbers=[LICENCE])
    assert [f["status"] for f in checker.findings(db, LICENCE)
            if f["key"] == "signature_bonus" and f["kind"] == "overdue"] == ["resolved"]
    # The holder reads the decisions with what was signed; someone else may not.
    listed = api.get(f"/api/licences/{LICENCE}/obligations/decisions", headers=bearer(db, holder.person.iin))
    assert listed.status_code == 200
    assert [(d["obligation"], d["status"]) for d in listed.json()["decisions"]] == [("signature_bonus", "met")]
    assert base64.b64decode(listed.json()["decisions"][0]["signature"]) == bytes(stored[1])
    other = pki.person("head")
    assert api.get(f"/api/licences/{LICENCE}/obligations/decisions",
                   headers=bearer(db, other.person.iin)).status_code == 403
    assert journaled(db, "ok") == 1
