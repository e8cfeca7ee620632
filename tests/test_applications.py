"""E-applications end to end, on a database of this module's own (it appends programme areas to
subsoil-plots, which other modules' tests count): filing with a detached CMS over the RFC 8785
JSON (number, receipt time, notification, journal, re-verification from what is stored), every
refusal and return with its reason, priority after the window (refused naming the blocks and the
earlier number and time), the window making lots, and a race of many filers at once that must
leave no block pending for two applications (the exclusion constraint, not the code, decides)."""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import rfc8785
from fastapi.testclient import TestClient

from cadastre import accounts
from cadastre.applications import file_application
from cadastre.demo import load_people
from cadastre.eds.pki import DEMO_COMPANY_BIN, DemoPki, Identity, demo_pki
from cadastre.eds.verify import verify_cms
from cadastre.eds_trust import load_trust
from cadastre.registers import TableRegisters
from geoservice.kernel import clock
from tests.applicants import (
    FCFS_AREA,
    WINDOW_AREA,
    application,
    make_applicants,
    person,
    programme_database,
    session_token,
    signed,
    square,
)
from tests.helpers import sealed

RFC3339_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_apps") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    directory = Path(tmp_path_factory.mktemp("applications")) / "pki"
    with psycopg.connect(app_db) as conn:
        load_people(conn, directory)
        accounts.grant_role(conn, "880409400785", "officer", "solid-minerals", actor="test")
        conn.commit()
    return demo_pki(directory)


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    settings = dataclasses.replace(get_settings(), database_url=app_db)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def bearer(db: psycopg.Connection, key: str, pki: DemoPki, *, bin_: str | None = None) -> dict[str, str]:
    token = session_token(db, pki.person(key).person.iin, bin_)
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def file(api: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return api.post("/api/applications", json=body, headers=headers)


def codes_of(r: Any) -> list[str]:
    return [reason["code"] for reason in r.json()["reasons"]]


def test_filing_gives_a_number_a_receipt_time_a_notification_and_a_journal_row(api, db, pki):
    me = pki.person("applicant")
    headers = bearer(db, "applicant", pki)
    app = application(square(FCFS_AREA, 0, 0, 2), me.person.iin)
    before = db.execute("SELECT count(*) FROM applications").fetchone()[0]
    r = file(api, headers, signed(app, me.sign("rsa")))
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.match(r"^APP-\d{4}-\d{6}$", body["number"]) and RFC3339_MICRO.match(body["received_at"])
    assert (body["status"], body["routed_to"], body["reasons"], body["window"]) == (
        "accepted", "solid-minerals", [], False)
    assert r.headers["location"] == f"/api/applications/{body['number']}"
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == before + 1
    # The notification carries the number and the time; it reads in every language.
    inbox = api.get("/api/me/notifications", headers=headers).json()
    notes = inbox["notifications"] if isinstance(inbox, dict) else inbox
    note = next(n for n in notes if n["code"] == "notice.application_accepted")
    assert note["params"]["number"] == body["number"] and note["params"]["received_at"] == body["received_at"]
    sealed(db)
    (action, result, detail), = db.execute("SELECT action, result, detail FROM journal WHERE object = %s",
                                           (f"application:{body['number']}",)).fetchall()
    assert (action, result, detail["status"], detail["blocks"]) == ("application.file", "ok", "accepted", 4)
    # What was signed is stored as it was: anyone allowed can verify it again.
    got = api.get(f"/api/applications/{body['number']}", headers=headers).json()
    assert got["canonical"].encode() == rfc8785.dumps(app)
    assert sorted(c["block"] for c in got["claims"]) == sorted(square(FCFS_AREA, 0, 0, 2))
    trust, revocation = load_trust(db)
    again = verify_cms(base64.b64decode(got["signature"]), got["canonical"].encode(), trust=trust,
                       revocation=revocation, now=clock.now(), purpose="signature")
    assert again.valid and again.signers[0].iin == me.person.iin
    # The list has it; an officer of the authority it went to reads it, one of another does not.
    assert body["number"] in [a["number"] for a in api.get("/api/applications", headers=headers).json()["applications"]]
    officer = bearer(db, "officer", pki)
    assert api.get(f"/api/applications/{body['number']}", headers=officer).status_code == 200
    other = bearer(db, "head", pki)
    r = api.get(f"/api/applications/{body['number']}", headers=other)
    assert r.status_code == 404 and r.json()["type"].endswith("applications.not_found")
    assert api.get(f"/api/applications/{body['number']}", headers=bearer(db, "auditor", pki)).status_code == 200


def test_a_signature_over_other_bytes_is_refused(api, db, pki):
    me = pki.person("applicant")
    app = application(square(FCFS_AREA, 10, 0, 1), me.person.iin)
    r = file(api, bearer(db, "applicant", pki), signed(app, me.sign("rsa"), over=b'{"kind":"other"}'))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "refused" and "eds.content_mismatch" in codes_of(r)
    # Refused: nothing claimed.
    assert db.execute("SELECT count(*) FROM application_claims c JOIN applications a ON a.id = c.application_id "
                      "WHERE a.number = %s", (r.json()["number"],)).fetchone()[0] == 0


def test_a_signer_other_than_the_applicant_is_refused(api, db, pki):
    me = pki.person("applicant")
    app = application(square(FCFS_AREA, 12, 0, 1), me.person.iin)
    r = file(api, bearer(db, "applicant", pki), signed(app, pki.person("officer").sign("rsa")))
    assert r.json()["status"] == "refused", r.text
    (reason,) = r.json()["reasons"]
    assert reason["code"] == "reason.signer_not_applicant" and me.person.iin in reason["message"]
    # A login (AUTHENTICATION) key does not sign applications.
    r = file(api, bearer(db, "applicant", pki), signed(app, me.auth("rsa")))
    assert r.json()["status"] == "refused" and "eds.wrong_purpose" in codes_of(r)


def test_for_a_company_the_head_or_the_right_to_sign_not_an_employee(api, db, pki):
    head = pki.person("head")
    headers = bearer(db, "head", pki, bin_=DEMO_COMPANY_BIN)
    study = {"kind": "geological-study-licence", "mineral": "oil"}
    ok = file(api, headers, signed(application(square(FCFS_AREA, 20, 20, 2), bin_=DEMO_COMPANY_BIN, **study),
                                   head.sign("gost")))
    assert (ok.json()["status"], ok.json()["routed_to"]) == ("accepted", "hydrocarbons"), ok.text
    by_signer = file(api, headers, signed(application(square(FCFS_AREA, 20, 20, 2), bin_=DEMO_COMPANY_BIN,
                                                      **study), pki.person("signer").sign("rsa")))
    assert by_signer.json()["status"] == "accepted", by_signer.text
    employee = pki.authorities["nca-rsa"].issue(
        Identity("АХМЕТОВ СЕРІК", pki.person("applicant").person.iin, bin=DEMO_COMPANY_BIN,
                 organisation="ТОО «ДЕМО ГЕОРЕСУРС»"), purpose="signature", roles=["employee"])
    r = file(api, headers, signed(application(square(FCFS_AREA, 20, 20, 2), bin_=DEMO_COMPANY_BIN, **study),
                                  employee))
    assert r.json()["status"] == "refused" and codes_of(r) == ["reason.signer_cannot_sign"], r.text
    # A person's own account cannot file for the company (403, nothing stored).
    before = db.execute("SELECT count(*) FROM applications").fetchone()[0]
    r = file(api, bearer(db, "head", pki), signed(application(square(FCFS_AREA, 20, 20, 2),
                                                              bin_=DEMO_COMPANY_BIN, **study), head.sign("rsa")))
    assert r.status_code == 403 and r.json()["type"].endswith("applications.not_your_applicant")
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == before


def test_more_than_200_blocks_or_apart_are_refused_with_reasons(api, db, pki):
    me = pki.person("applicant")
    headers = {**bearer(db, "applicant", pki), "Accept-Language": "ru"}
    big = square(FCFS_AREA, 0, 10, 15, 14)   # 210 blocks
    r = file(api, headers, signed(application(big, me.person.iin), me.sign("rsa")))
    assert r.json()["status"] == "refused", r.text
    (reason,) = r.json()["reasons"]
    assert reason["code"] == "reason.too_many_blocks" and "210" in reason["message"] and "200" in reason["message"]
    apart = square(FCFS_AREA, 25, 25, 1) + square(FCFS_AREA, 27, 25, 2)
    r = file(api, headers, signed(application(apart, me.person.iin), me.sign("rsa")))
    (reason,) = r.json()["reasons"]
    assert (reason["code"], reason["block"]) == ("reason.not_contiguous", apart[0]), r.text
    assert "не являются смежными" in reason["message"]
    # Corners touching are not contiguous either.
    diagonal = square(FCFS_AREA, 25, 28, 1) + square(FCFS_AREA, 26, 29, 1)
    r = file(api, headers, signed(application(diagonal, me.person.iin), me.sign("rsa")))
    assert codes_of(r) == ["reason.not_contiguous"]


def test_incomplete_is_returned_incorrect_is_refused(api, db, pki):
    me = pki.person("applicant")
    headers = {**bearer(db, "applicant", pki), "Accept-Language": "kk"}
    r = file(api, headers, signed(application(square(FCFS_AREA, 0, 29, 1), me.person.iin, mineral=None),
                                  me.sign("rsa")))
    assert r.json()["status"] == "returned", r.text
    (reason,) = r.json()["reasons"]
    assert (reason["code"], reason["field"]) == ("reason.missing", "mineral") and "пысықтауға" in reason["message"]
    r = file(api, headers, signed(application(square(FCFS_AREA, 0, 29, 1), me.person.iin, mineral="oil"),
                                  me.sign("rsa")))
    assert r.json()["status"] == "refused" and codes_of(r) == ["reason.mineral_not_for_kind"]
    outside = square(("X", 80 * 60, 50 * 60), 0, 0, 1)
    r = file(api, headers, signed(application(outside, me.person.iin), me.sign("rsa")))
    assert [(x["code"], x["block"]) for x in r.json()["reasons"]] == [("reason.outside_programme", outside[0])]
    r = file(api, headers, signed(application("L-43-63-(10ж-5б-14)", me.person.iin), me.sign("rsa")))
    assert codes_of(r) == ["reason.bad_block_list"]
    # A service on a licence: without documents it is returned, routed by its mineral.
    pledge = {"kind": "pledge-registration", "applicant": {"iin": me.person.iin}, "mineral": "clay",
              "licence": "123-EL"}
    r = file(api, headers, signed(pledge, me.sign("rsa")))
    assert (r.json()["status"], r.json()["routed_to"], codes_of(r)) == ("returned", "akimat", ["reason.missing"])


def test_malformed_requests_are_4xx_and_leave_nothing(api, db, pki):
    me = pki.person("applicant")
    headers = bearer(db, "applicant", pki)
    before = db.execute("SELECT count(*) FROM applications").fetchone()[0]
    good = signed(application(square(FCFS_AREA, 5, 5, 1), me.person.iin), me.sign("rsa"))
    cases = [
        ({**good, "application": {**good["application"], "kind": "no-such"}}, 422, "applications.unknown_kind"),
        ({**good, "application": [1]}, 422, "applications.not_an_object"),
        ({**good, "application": {**good["application"], "applicant": {"iin": "12"}}}, 422,
         "applications.bad_applicant"),
        ({**good, "signature": "***"}, 400, "applications.bad_signature"),
        ({**good, "signature": base64.b64encode(b"\x30\x03\x02\x01\x01").decode()}, 400, "eds.malformed"),
        ({"application": good["application"]}, 400, "applications.bad_signature"),
    ]
    for body, status, code in cases:
        r = file(api, headers, body)
        assert (r.status_code, r.json()["type"].rsplit(":", 1)[-1]) == (status, code), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == before
    assert api.post("/api/applications", json=good).status_code == 401


def test_after_the_window_the_later_overlapping_application_is_refused_naming_the_first(api, db, pki):
    me, head = pki.person("applicant"), pki.person("head")
    first = file(api, bearer(db, "applicant", pki),
                 signed(application(square(FCFS_AREA, 0, 3, 3), me.person.iin), me.sign("rsa"))).json()
    assert first["status"] == "accepted"
    later = square(FCFS_AREA, 2, 5, 2)   # overlaps the first at one block (2, 5)
    r = file(api, bearer(db, "head", pki, bin_=DEMO_COMPANY_BIN),
             signed(application(later, bin_=DEMO_COMPANY_BIN), head.sign("rsa")))
    body = r.json()
    assert body["status"] == "refused", r.text
    (reason,) = body["reasons"]
    assert (reason["code"], reason["block"]) == ("reason.block_taken", square(FCFS_AREA, 2, 5, 1)[0])
    assert first["number"] in reason["message"] and first["received_at"] in reason["message"]
    assert body["received_at"] > first["received_at"]


def test_the_window_gives_equal_priority_and_makes_lots(api, db, pki):
    people = [("applicant", None), ("head", DEMO_COMPANY_BIN)]
    filed = []
    for (key, bin_), dx in zip(people, (0, 1), strict=True):
        holder = pki.person(key)
        app = application(square(WINDOW_AREA, dx, 0, 2), None if bin_ else holder.person.iin, bin_)
        filed.append(file(api, bearer(db, key, pki, bin_=bin_), signed(app, holder.sign("rsa"))).json())
    assert [(f["status"], f["window"]) for f in filed] == [("accepted", True), ("accepted", True)], filed
    contested = sorted(set(square(WINDOW_AREA, 0, 0, 2)) & set(square(WINDOW_AREA, 1, 0, 2)))
    (lot,) = filed[1]["lots"]
    assert sorted(lot["blocks"]) == contested and lot["applications"] == 2
    rows = db.execute("SELECT codes, cardinality(applications), status FROM lots WHERE status = 'forming'").fetchall()
    assert [(sorted(c), n, s) for c, n, s in rows] == [(contested, 2, "forming")]
    # The uncontested blocks proceed; the contested ones are pending for both, as a lot.
    got = api.get(f"/api/applications/{filed[0]['number']}", headers=bearer(db, "applicant", pki)).json()
    assert got["lots"] and all(c["window"] for c in got["claims"])
    # The DB itself allows two window claims on a block and refuses any other claim on it.
    first_id, second_id = (db.execute("SELECT id FROM applications WHERE number = %s", (f["number"],)).fetchone()[0]
                           for f in filed)
    only_first = square(WINDOW_AREA, 0, 0, 1)[0]   # wanted by the first applicant alone
    with pytest.raises(psycopg.errors.ExclusionViolation):
        db.execute("INSERT INTO application_claims (application_id, block_id, code, state, in_window, priority_group) "
                   "SELECT %s, block_id, code, 'pending', false, 'app:intruder' FROM application_claims "
                   "WHERE application_id = %s AND code = %s", (second_id, first_id, only_first))


def test_many_filers_at_once_after_the_window_leave_no_block_twice(app_db, pki, db):
    threads = 30
    with psycopg.connect(app_db) as conn:
        people = make_applicants(conn, pki, threads, prefix="0303036")
        persons = [person(conn, iin) for iin, _ in people]
        conn.commit()
        trust, revocation = load_trust(conn)
    # Overlapping 3x3 squares in a 12x6 corner of the area nobody else uses.
    wants = [square(FCFS_AREA, 15 + (n * 5) % 10, 20 + (n * 3) % 5, 3) for n in range(threads)]
    bodies = [signed(application(wants[n], people[n][0]), people[n][1]) for n in range(threads)]
    results: list[Any] = [None] * threads
    barrier = threading.Barrier(threads)

    def run(n: int) -> None:
        with psycopg.connect(app_db) as conn:
            barrier.wait()
            results[n] = file_application(conn, bodies[n]["application"], base64.b64decode(bodies[n]["signature"]),
                                          caller=persons[n], trust=trust, revocation=revocation, now=clock.now(),
                                          registers=TableRegisters(conn), client="test")
            conn.commit()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert all(r is not None for r in results)
    # After the window (the whole area opened 90 days ago): one live claim per block at most.
    twice = db.execute("SELECT block_id, count(*) FROM application_claims WHERE state IN ('pending', 'granted') "
                       "AND area = %s GROUP BY block_id HAVING count(*) > 1", (FCFS_AREA[0],)).fetchall()
    assert twice == []
    winners = [r for r in results if r.status == "accepted"]
    losers = [r for r in results if r.status == "refused"]
    assert winners and losers and len(winners) + len(losers) == threads
    for lost in losers:
        assert lost.reasons and all(x["code"] == "reason.block_taken" for x in lost.reasons)
        earlier = {x["params"]["number"] for x in lost.reasons}
        for number in earlier:
            at = db.execute("SELECT received_at FROM applications WHERE number = %s", (number,)).fetchone()[0]
            assert at < lost.received_at
    # Numbers of the year are gap-free, and their order is the receipt order.
    rows = db.execute("SELECT seq, received_at FROM applications ORDER BY seq").fetchall()
    assert [s for s, _ in rows] == list(range(1, len(rows) + 1))
    assert all(a[1] < b[1] for a, b in zip(rows, rows[1:], strict=False))
