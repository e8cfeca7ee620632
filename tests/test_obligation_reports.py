"""Holders' reports of work and spend (issue 11) end to end, on a database of this module's own:
the holder uploads an attachment and files a report signed with a real CMS of the demo PKI; it is
routed to the licence's authority and waits in its officers' workbench; a non-holder is refused
(in the request's language); the officer's signed acceptance meets the licence's work_report
obligation of the year (the old obligation row closed with the report's number and the officer),
a return carries its reason to the holder, who may send it back; every filing and decision
NOTIFYs obligations_changed with the licence's number."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import licences, workbench
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
    signed,
    square,
)

LICENCE = "LIC-TEST-REPORTS-1"
COMPANY_LICENCE = "LIC-TEST-REPORTS-2"
BLOCKS = square(FCFS_AREA, 20, 20, 2)


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_reports") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    pki = demo_people(app_db, Path(tmp_path_factory.mktemp("reports")) / "pki")
    holder, company = pki.person("applicant"), pki.person("head")
    with psycopg.connect(app_db) as conn:
        for number, who in ((LICENCE, {"iin": holder.person.iin, "name": "АХМЕТОВ СЕРІК"}),
                            (COMPANY_LICENCE, {"bin": company.person.bin, "name": "DEMO LLP"})):
            licences.issue_licence(conn, number=number, holder=who, kind="exploration", mineral="gold",
                                   blocks=BLOCKS if number == LICENCE else square(FCFS_AREA, 24, 20, 1),
                                   issued_on=dt.date(2020, 3, 1), term_until=dt.date(2030, 2, 28),
                                   source="import", basis="test licence", actor="test")
        conn.commit()
    return pki


@pytest.fixture(scope="module")
def stranger(app_db: str, pki: DemoPki) -> tuple[str, Issued]:
    """An officer of another authority (hydrocarbons)."""
    return other_officer(app_db, pki, "0404047")


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def listener(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("LISTEN obligations_changed")
        yield conn


def heard(listener: psycopg.Connection) -> list[str]:
    return [n.payload for n in listener.notifies(timeout=10.0, stop_after=1)]


def attachment(api: TestClient, headers: dict[str, str]) -> int:
    r = api.post("/api/documents", files=[("file", ("report-2024.pdf", b"%PDF-1.4 work report", "application/pdf"))],
                 data={"access_level": "confidential"}, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def report(iin: str | None, year: int, documents: list[int], *, bin_: str | None = None,
           licence: str = LICENCE, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "obligation-report", "applicant": {"iin": iin} if bin_ is None else {"bin": bin_},
        "licence": licence, "report_year": year, "spend_kzt": "18500000.50",
        "works": {"summary": "Geological mapping 1:50 000, 12 trenches, 3 boreholes (840 m)",
                  "figures": {"boreholes": 3, "metres": 840}},
        "blocks": BLOCKS[:2], "documents": documents}
    body.update(more)
    return body


def file(api: TestClient, headers: dict[str, str], body: dict[str, Any], signer: Issued) -> Any:
    return api.post("/api/applications", json=signed(body, signer), headers=headers)


def file_report(api: TestClient, db: psycopg.Connection, pki: DemoPki, year: int) -> str:
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)
    r = file(api, mine, report(me.person.iin, year, [attachment(api, mine)]), me.sign("rsa"))
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    return str(r.json()["number"])


def decide(api: TestClient, db: psycopg.Connection, pki: DemoPki, number: str, action: str,
           reason: str | None = None) -> Any:
    officer = pki.person("officer")
    cms = sign_cms(workbench.canonical_decision(number, "review", action, reason), officer.sign("rsa"), detached=True)
    return api.post(f"/api/applications/{number}/decisions", headers=bearer(db, officer.person.iin),
                    json={"decision": {"stage": "review", "action": action, "reason": reason},
                          "signature": base64.b64encode(cms).decode()})


def row(db: psycopg.Connection, number: str) -> tuple[Any, ...]:
    found = db.execute("SELECT r.number, r.report_year, r.spend_kzt, r.works, r.blocks, r.status, r.reason, "
                       "r.decided_by FROM obligation_reports r JOIN applications a ON a.id = r.application_id "
                       "WHERE a.number = %s", (number,)).fetchone()
    assert found is not None
    return tuple(found)


def listed(api: TestClient, headers: dict[str, str], number: str) -> dict[str, Any]:
    r = api.get(f"/api/licences/{LICENCE}/reports", headers=headers)
    assert r.status_code == 200, r.text
    (found,) = [x for x in r.json()["reports"] if x["number"] == number]
    return dict(found)


def test_the_holder_files_a_signed_report_with_an_attachment(api, db, pki, listener, stranger):
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)
    doc = attachment(api, mine)
    body = report(me.person.iin, 2024, [doc])
    r = file(api, mine, body, me.sign("rsa"))
    assert r.status_code == 201, r.text
    filed = r.json()
    assert (filed["status"], filed["routed_to"], filed["reasons"]) == ("accepted", "solid-minerals", [])
    number = filed["number"]
    assert heard(listener) == [LICENCE]
    assert row(db, number)[:8] == (LICENCE, 2024, pytest.approx(18500000.50), body["works"], BLOCKS[:2],
                                   "submitted", None, None)
    # What was signed is stored and verifies again: the holder's own signature over the payload.
    app = api.get(f"/api/applications/{number}", headers=mine).json()
    assert app["documents"] == [doc] and app["kind"] == "obligation-report"
    trust, revocation = load_trust(db)
    again = verify_cms(base64.b64decode(app["signature"]), app["canonical"].encode(), trust=trust,
                       revocation=revocation, now=clock.now(), purpose="signature")
    assert again.valid and again.signers[0].iin == me.person.iin
    # The holder sees it under review; the authority's officer has it in the queue.
    seen = listed(api, mine, number)
    assert (seen["status"], seen["stage"], seen["spend_kzt"], seen["documents"]) == (
        "submitted", "review", "18500000.50", [doc])
    assert seen["stage_name"] == "Review the report: accept it, or return it with the reason"
    assert listed(api, bearer(db, me.person.iin, lang="ru"), number)["stage_name"].startswith("Рассмотрение отчёта")
    officer = bearer(db, pki.person("officer").person.iin)
    (waiting,) = [i for i in api.get("/api/workbench", headers=officer).json()["queue"] if i["number"] == number]
    assert (waiting["procedure"], waiting["actions"], waiting["authority"]) == (
        "obligation-report", ["accept", "return"], "solid-minerals")
    assert listed(api, officer, number)["status"] == "submitted"
    # Others do not read the licence's reports: another applicant, an officer of another authority.
    for headers in (bearer(db, pki.person("head").person.iin), bearer(db, stranger[0])):
        r = api.get(f"/api/licences/{LICENCE}/reports", headers=headers)
        assert r.status_code == 403 and r.json()["type"].endswith("reports.forbidden"), r.text
    assert api.get("/api/licences/NO-SUCH/reports", headers=mine).status_code == 404
    assert api.get(f"/api/licences/{LICENCE}/reports").status_code == 401
    # The cabinet's list of the holder's licences has it; a second report for the year does not go in.
    assert LICENCE in [x["number"] for x in api.get("/api/reports/licences", headers=mine).json()["licences"]]
    r = file(api, mine, report(me.person.iin, 2024, [doc]), me.sign("rsa"))
    assert r.status_code == 409 and r.json()["type"].endswith("reports.already_filed"), r.text
    assert number in r.json()["detail"]


@pytest.mark.parametrize(("lang", "text"), [("en", "Only the holder"), ("ru", "только её владелец"),
                                            ("kk", "тек оның иесі")])
def test_a_non_holder_is_refused_and_nothing_is_filed(api, db, pki, lang, text):
    other = pki.person("head")  # the company's head, signing in as themselves: not the licence's holder
    headers = bearer(db, other.person.iin, lang=lang)
    doc = attachment(api, headers)
    before = db.execute("SELECT count(*) FROM applications").fetchone()
    r = file(api, headers, report(other.person.iin, 2023, [doc]), other.sign("rsa"))
    assert r.status_code == 403 and r.json()["type"].endswith("reports.not_holder"), r.text
    assert text in r.json()["detail"] and LICENCE in r.json()["detail"]
    assert db.execute("SELECT count(*) FROM applications").fetchone() == before
    # Unknown licence: said so, nothing filed either.
    r = file(api, headers, report(other.person.iin, 2023, [doc], licence="LIC-NONE"), other.sign("rsa"))
    assert r.status_code == 404 and r.json()["type"].endswith("reports.licence_not_found"), r.text


def test_the_company_reports_on_its_licence_through_its_head(api, db, pki):
    signer = pki.person("head")  # the head (register) of the company that holds the licence
    company = bearer(db, signer.person.iin, signer.person.bin)
    body = report(None, 2024, [attachment(api, company)], bin_=signer.person.bin, licence=COMPANY_LICENCE,
                  blocks=[])
    r = file(api, company, body, signer.sign("rsa"))
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    # The same person for themselves is not the holder.
    mine = bearer(db, signer.person.iin)
    r = file(api, mine, report(signer.person.iin, 2024, [attachment(api, mine)], licence=COMPANY_LICENCE),
             signer.sign("rsa"))
    assert r.status_code == 403 and r.json()["type"].endswith("reports.not_holder"), r.text


def test_a_report_without_attachments_or_with_bad_figures_is_not_taken_for_review(api, db, pki):
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)
    r = file(api, mine, report(me.person.iin, 2022, []), me.sign("rsa"))
    assert r.status_code == 201 and r.json()["status"] == "returned", r.text
    assert [x["field"] for x in r.json()["reasons"]] == ["documents"]
    r = file(api, mine, report(me.person.iin, 2019, [attachment(api, mine)], spend_kzt=-5,
                               works={"summary": ""}), me.sign("rsa"))
    assert r.status_code == 201 and r.json()["status"] == "refused", r.text
    assert {x["field"] for x in r.json()["reasons"]} == {"report_year", "spend_kzt", "works"}
    assert "2020" in r.json()["reasons"][0]["message"]
    # Neither waits for a decision: no report row, nothing in the workbench.
    numbers = [r.json()["number"]]
    assert db.execute("SELECT count(*) FROM obligation_reports r JOIN applications a ON a.id = r.application_id "
                      "WHERE a.number = ANY(%s)", (numbers,)).fetchone() == (0,)


def test_the_officer_accepts_and_the_years_report_obligation_is_met(api, db, pki, listener):
    number = file_report(api, db, pki, 2021)
    assert heard(listener) == [LICENCE]
    (before,) = db.execute("SELECT id, status FROM obligations WHERE number = %s AND key = 'work_report:2021' "
                           "AND valid_to IS NULL", (LICENCE,)).fetchall()
    assert before[1] == "open"
    r = decide(api, db, pki, number, "accept")
    assert r.status_code == 200 and (r.json()["status"], r.json()["outcome"]) == ("finished", "granted"), r.text
    assert heard(listener) == [LICENCE]
    officer = f"IIN{pki.person('officer').person.iin}"
    assert row(db, number)[5:] == ("accepted", None, officer)
    # The obligation's history: the open row closed with the report and the officer, a met row opened.
    old = db.execute("SELECT status, valid_to, closed_by, closed_basis FROM obligations WHERE id = %s",
                     (before[0],)).fetchone()
    assert old is not None and old[0] == "open" and old[1] is not None and old[2:] == (officer, number)
    now = db.execute("SELECT status, opened_by, opened_basis FROM obligations WHERE number = %s "
                     "AND key = 'work_report:2021' AND valid_to IS NULL", (LICENCE,)).fetchall()
    assert now == [("met", officer, number)]
    # Other years stay as they were.
    assert db.execute("SELECT status FROM obligations WHERE number = %s AND key = 'work_report:2020' "
                      "AND valid_to IS NULL", (LICENCE,)).fetchone() == ("open",)
    note = db.execute("SELECT params FROM notifications WHERE code = 'notice.run_granted' "
                      "AND params->>'number' = %s", (number,)).fetchone()
    assert note is not None and note[0]["kind"] == "obligation-report"
    mine = bearer(db, pki.person("applicant").person.iin)
    seen = listed(api, mine, number)
    assert (seen["status"], seen["decided_by"], seen["stage"]) == ("accepted", officer, None)
    # Decided: no longer in the queue, and a second decision is refused.
    queue = api.get("/api/workbench", headers=bearer(db, pki.person("officer").person.iin)).json()["queue"]
    assert number not in [i["number"] for i in queue]
    assert decide(api, db, pki, number, "return", "late").status_code == 409


def test_a_return_carries_its_reason_and_the_holder_sends_it_back(api, db, pki, listener, stranger):
    number = file_report(api, db, pki, 2025)
    heard(listener)
    # An officer of another authority cannot decide it.
    iin, cert = stranger
    cms = sign_cms(workbench.canonical_decision(number, "review", "accept", None), cert, detached=True)
    r = api.post(f"/api/applications/{number}/decisions", headers=bearer(db, iin),
                 json={"decision": {"stage": "review", "action": "accept", "reason": None},
                       "signature": base64.b64encode(cms).decode()})
    assert r.status_code == 404, r.text
    assert decide(api, db, pki, number, "return").status_code == 422  # a return needs its reason
    reason = "The drilling logs of boreholes 2 and 3 are missing"
    r = decide(api, db, pki, number, "return", reason)
    assert r.status_code == 200 and r.json()["stage"] == "revision", r.text
    assert heard(listener) == [LICENCE]
    assert row(db, number)[5:7] == ("returned", reason)
    note = db.execute("SELECT n.params, a.iin FROM notifications n JOIN accounts a ON a.id = n.account_id "
                      "WHERE n.code = 'notice.run_returned' AND n.params->>'number' = %s", (number,)).fetchone()
    assert note is not None and note[0]["reason"] == reason and note[1] == pki.person("applicant").person.iin
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)
    seen = listed(api, mine, number)
    assert (seen["status"], seen["reason"], seen["stage"]) == ("returned", reason, "revision")
    # The obligation is not met by a returned report.
    assert db.execute("SELECT status FROM obligations WHERE number = %s AND key = 'work_report:2025' "
                      "AND valid_to IS NULL", (LICENCE,)).fetchone() == ("open",)
    # The holder sends it back (signed): under review again, the reason cleared.
    text = "Logs attached as documents"
    cms = sign_cms(workbench.canonical_decision(number, "revision", "forward", text), me.sign("rsa"), detached=True)
    r = api.post(f"/api/applications/{number}/resubmit", headers=mine,
                 json={"reason": text, "signature": base64.b64encode(cms).decode()})
    assert r.status_code == 200 and r.json()["stage"] == "review", r.text
    assert heard(listener) == [LICENCE]
    assert row(db, number)[5:] == ("submitted", None, None)
    assert decide(api, db, pki, number, "accept").status_code == 200
    assert row(db, number)[5] == "accepted"
