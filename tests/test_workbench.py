"""Procedure runs and the officer's workbench end to end, on a database of this module's own:
a signed-in applicant files, the officer of the authority it was routed to works it through the
exploration-licence procedure with signed decisions (detached CMS over the RFC 8785 JSON of
{application, stage, action, reason}) to approval, a return with its reason, a refusal that
releases the blocks; officers of another authority, bad signatures and other signers are
refused; the queue sorts by time left and flags (and notifies once) overdue stages."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts, commission, granting, workbench
from cadastre.applications import KINDS
from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, Issued, demo_pki, sign_cms
from cadastre.eds.verify import verify_cms
from cadastre.eds_trust import load_trust
from cadastre.procedures import procedures
from geoservice.api.workbench import OverdueWatch
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.settings import get_settings
from tests.applicants import (
    APPROVAL,
    FCFS_AREA,
    app_client,
    application,
    bearer,
    other_officer,
    person,
    programme_database,
    signed,
    square,
)
from tests.helpers import sealed


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_wb") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    directory = Path(tmp_path_factory.mktemp("workbench")) / "pki"
    with psycopg.connect(app_db) as conn:
        load_people(conn, directory)
        # Exploration licences for gold go to the authority for solid minerals.
        accounts.grant_role(conn, "880409400785", "officer", "solid-minerals", actor="test")
        conn.commit()
    return demo_pki(directory)


@pytest.fixture(scope="module")
def stranger(app_db: str, pki: DemoPki) -> tuple[str, Issued]:
    """An officer of another authority (hydrocarbons), with a signing certificate."""
    return other_officer(app_db, pki, "0303036")


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def file(api: TestClient, db: psycopg.Connection, pki: DemoPki, codes: list[str]) -> str:
    me = pki.person("applicant")
    r = api.post("/api/applications", json=signed(application(codes, me.person.iin), me.sign("rsa")),
                 headers=bearer(db, me.person.iin))
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    assert r.json()["routed_to"] == "solid-minerals"
    return str(r.json()["number"])


def decide(api: TestClient, headers: dict[str, str], signer: Issued, number: str, stage: str, action: str,
           reason: str | None = None, *, over: bytes | None = None) -> Any:
    data = workbench.canonical_decision(number, stage, action, reason) if over is None else over
    cms = sign_cms(data, signer, detached=True)
    return api.post(f"/api/applications/{number}/decisions", headers=headers,
                    json={"decision": {"stage": stage, "action": action, "reason": reason},
                          "signature": base64.b64encode(cms).decode()})


def officer(db: psycopg.Connection, pki: DemoPki) -> tuple[dict[str, str], Issued]:
    holder = pki.person("officer")
    return bearer(db, holder.person.iin), holder.sign("rsa")


def claims(db: psycopg.Connection, number: str) -> set[str]:
    return {r[0] for r in db.execute("SELECT c.state FROM application_claims c JOIN applications a "
                                     "ON a.id = c.application_id WHERE a.number = %s", (number,))}


def notices(db: psycopg.Connection, code: str, number: str) -> list[dict[str, Any]]:
    return [r[0] for r in db.execute("SELECT params FROM notifications WHERE code = %s AND params->>'number' = %s",
                                     (code, number))]


def test_every_kind_names_a_declared_procedure():
    declared = procedures()
    assert all(k.procedure in declared for k in KINDS.values() if k.procedure is not None)
    assert KINDS["exploration-licence"].procedure == "exploration-licence"


def test_the_officer_works_an_application_to_approval_with_signed_decisions(api, db, pki):
    codes = square(FCFS_AREA, 0, 0, 2)
    number = file(api, db, pki, codes)
    granted: list[workbench.GrantedApplication] = []
    hook = workbench.on_granted(lambda conn, app: granted.append(app))
    try:
        headers, cert = officer(db, pki)
        # Before anyone else files, the parcel check names the pending application and its blocks.
        check = api.post("/api/parcels/check", json={"parcel": {"blocks": codes}}).json()
        (pending,) = [o for o in check["overlaps"] if o["kind"] == "application"]
        assert pending["id"] == number and pending["severity"] == "refusal" and pending["geometry"]
        run = api.get(f"/api/applications/{number}/run", headers=headers).json()
        assert (run["procedure"], run["status"], run["stage"], run["decisions"]) == (
            "exploration-licence", "running", "register", [])
        for i, (stage, action) in enumerate(APPROVAL):
            assert claims(db, number) == {"pending"} and granted == []
            r = decide(api, headers, cert, number, stage, action)
            assert r.status_code == 200, (stage, r.text)
            body = r.json()
            assert len(body["decisions"]) == i + 1
            assert body["stage"] == (APPROVAL[i + 1][0] if i + 1 < len(APPROVAL) else None)
    finally:
        workbench.ON_GRANTED.remove(hook)
    assert (body["status"], body["outcome"]) == ("finished", "granted")
    assert claims(db, number) == {"granted"}
    (app,) = granted
    assert (app.number, sorted(app.blocks), app.kind, app.routed_to) == (
        number, sorted(codes), "exploration-licence", "solid-minerals")
    assert app.application["applicant"] == {"iin": pki.person("applicant").person.iin}
    assert notices(db, "notice.run_granted", number) == [{"number": number, "kind": "exploration-licence"}]
    # The approval issued the licence in the same transaction: open registry, map layer, feed.
    licence = api.get(f"/api/licences/{granting.licence_number(number)}").json()
    assert (licence["holder"]["iin"], licence["kind"], licence["status"], licence["source"]) == (
        pki.person("applicant").person.iin, "exploration", "active", number)
    assert sorted(licence["blocks"]) == sorted(codes)
    check = api.post("/api/parcels/check", json={"parcel": {"blocks": codes}}).json()
    assert [o["id"] for o in check["overlaps"] if o["kind"] == "licence"] == [granting.licence_number(number)]
    assert not [o for o in check["overlaps"] if o["kind"] == "application"]  # granted, no longer pending
    # In the change feed once the journal row is sealed (the app's sealer: within a second when
    # idle; polled for longer, a loaded machine may be slower).
    deadline, url = time.monotonic() + 30, f"/api/licences/{granting.licence_number(number)}"
    while not any(item["url"].endswith(url) for item in api.get("/api/licences/feed").json()["items"]):
        assert time.monotonic() < deadline, "the licence is not in the change feed"
        time.sleep(0.05)
    # The applicant reads the run; every decision can be verified again from what is stored.
    mine = api.get(f"/api/applications/{number}/run", headers=bearer(db, pki.person("applicant").person.iin)).json()
    assert [d["action"] for d in mine["decisions"]] == [a for _, a in APPROVAL]
    trust, revocation = load_trust(db)
    for d in mine["decisions"]:
        again = verify_cms(base64.b64decode(d["signature"]), d["canonical"].encode(), trust=trust,
                           revocation=revocation, now=clock.now(), purpose="signature")
        assert again.valid and again.signers[0].iin == pki.person("officer").person.iin
        assert d["canonical"].encode() == workbench.canonical_decision(number, d["stage"], d["action"], None)
    # A finished run takes no more decisions.
    r = decide(api, headers, cert, number, "send", "forward")
    assert r.status_code == 409 and r.json()["type"].endswith("procedures.finished")
    sealed(db)
    actions = [r[0] for r in db.execute("SELECT action FROM journal WHERE object = %s AND result = 'ok' ORDER BY seq",
                                        (f"application:{number}",))]
    assert actions == ["application.file"] + ["procedure.decide"] * len(APPROVAL)
    filed = db.execute("SELECT detail FROM journal WHERE object = %s AND action = 'application.file'",
                       (f"application:{number}",)).fetchone()[0]
    assert filed["procedure"] == "exploration-licence"


def test_a_return_carries_its_reason_to_the_applicant(api, db, pki):
    number = file(api, db, pki, square(FCFS_AREA, 5, 0, 1))
    headers, cert = officer(db, pki)
    r = decide(api, headers, cert, number, "register", "return")
    assert r.status_code == 422 and r.json()["type"].endswith("procedures.reason_required")
    r = decide(api, headers, cert, number, "register", "return", "The geological report is missing")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["stage"], body["role"]) == ("returned", "revision", "applicant")
    assert body["steps"][0]["reason"] == "The geological report is missing"
    (note,) = notices(db, "notice.run_returned", number)
    assert note == {"number": number, "stage": "register", "reason": "The geological report is missing"}
    assert claims(db, number) == {"pending"}  # a return keeps the blocks
    # The applicant's revision is theirs: an officer cannot act for them.
    r = decide(api, headers, cert, number, "revision", "forward")
    assert r.status_code == 403 and r.json()["type"].endswith("procedures.role_not_allowed")


def resubmit(api: TestClient, headers: dict[str, str], signer: Issued, number: str, reason: str | None = None) -> Any:
    cms = sign_cms(workbench.canonical_decision(number, "revision", "forward", reason), signer, detached=True)
    return api.post(f"/api/applications/{number}/resubmit", headers=headers,
                    json={"reason": reason, "signature": base64.b64encode(cms).decode()})


def test_the_applicant_resubmits_a_returned_application(api, db, pki, stranger):
    number = file(api, db, pki, square(FCFS_AREA, 6, 0, 1))
    headers, cert = officer(db, pki)
    owner = pki.person("applicant")
    mine = bearer(db, owner.person.iin)
    # Not at the applicant's stage yet: the run is not theirs to act on.
    r = resubmit(api, mine, owner.sign("rsa"), number)
    assert r.status_code == 404 and r.json()["type"].endswith("workbench.not_found"), r.text
    r = decide(api, headers, cert, number, "register", "return", "The geological report is missing")
    assert r.status_code == 200 and r.json()["stage"] == "revision", r.text
    # Another applicant cannot send it back; nor may anyone sign for the owner.
    iin, other = stranger
    r = resubmit(api, bearer(db, iin), other, number)
    assert r.status_code == 404 and r.json()["type"].endswith("workbench.not_found"), r.text
    r = resubmit(api, mine, cert, number)
    assert r.status_code == 422 and r.json()["type"].endswith("workbench.signer_not_caller"), r.text
    # Officers still act through their own route only; the owner not through theirs.
    r = decide(api, mine, owner.sign("rsa"), number, "revision", "forward")
    assert r.status_code == 403
    r = resubmit(api, mine, owner.sign("rsa"), number, "The report is attached")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["stage"], body["role"]) == ("running", "register", "officer")
    revision, back = body["steps"][-2:]
    assert (revision["stage"], revision["action"], revision["reason"]) == ("revision", "forward",
                                                                            "The report is attached")
    # The stage that returned it starts again when it comes back, with a fresh deadline.
    assert back["started_at"] == revision["finished_at"] and back["due_at"] == body["due_at"] is not None
    assert body["steps"][0]["stage"] == "register" and body["due_at"] >= body["steps"][0]["due_at"]
    decision = body["decisions"][-1]
    assert (decision["stage"], decision["role"], decision["signer_iin"]) == ("revision", "applicant",
                                                                               owner.person.iin)
    assert decision["canonical"].encode() == workbench.canonical_decision(
        number, "revision", "forward", "The report is attached")
    trust, revocation = load_trust(db)
    verified = verify_cms(base64.b64decode(decision["signature"]), decision["canonical"].encode(), trust=trust,
                          revocation=revocation, now=clock.now(), purpose="signature")
    assert verified.valid and verified.signers[0].iin == owner.person.iin
    (note,) = notices(db, "notice.run_resubmitted", number)
    assert note == {"number": number, "stage": "register"}
    recipient = db.execute("SELECT a.iin FROM notifications n JOIN accounts a ON a.id = n.account_id "
                           "WHERE n.code = 'notice.run_resubmitted' AND n.params->>'number' = %s", (number,)).fetchone()
    assert recipient == (pki.person("officer").person.iin,)
    sealed(db)
    journaled = db.execute("SELECT actor, detail->>'role', detail->>'next' FROM journal WHERE action = "
                           "'procedure.decide' AND result = 'ok' AND object = %s ORDER BY seq DESC LIMIT 1",
                           (f"application:{number}",)).fetchone()
    assert journaled == (f"IIN{owner.person.iin}", "applicant", "register")
    # Back at an officer's stage: the owner cannot act again, the officer goes on.
    r = resubmit(api, mine, owner.sign("rsa"), number)
    assert r.status_code == 404
    r = decide(api, headers, cert, number, "register", "forward")
    assert r.status_code == 200 and r.json()["stage"] == "assign_department", r.text


def test_a_refusal_releases_the_claims(api, db, pki):
    codes = square(FCFS_AREA, 8, 0, 2)
    number = file(api, db, pki, codes)
    headers, cert = officer(db, pki)
    for stage, action in APPROVAL[:3]:
        assert decide(api, headers, cert, number, stage, action).status_code == 200
    r = decide(api, headers, cert, number, "check", "refuse", "The blocks overlap a nature reserve")
    assert r.status_code == 200 and r.json()["stage"] == "prepare", r.text
    assert claims(db, number) == {"pending"}  # final only once the refusal is signed and sent
    for stage, action in APPROVAL[4:]:
        r = decide(api, headers, cert, number, stage, action)
        assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["outcome"], body["refusal"]) == (
        "finished", "refused", "The blocks overlap a nature reserve")
    assert claims(db, number) == {"released"}
    (note,) = notices(db, "notice.run_refused", number)
    assert note["reason"] == "The blocks overlap a nature reserve"
    got = api.get(f"/api/applications/{number}", headers=bearer(db, pki.person("applicant").person.iin)).json()
    assert got["status"] == "refused"
    assert [x["code"] for x in got["reasons"]] == ["reason.refused_in_procedure"]
    assert "nature reserve" in got["reasons"][0]["message"]
    # The blocks are free again: a new application for them is accepted.
    assert file(api, db, pki, codes) != number


def test_an_officer_of_another_authority_is_refused(api, db, pki, stranger):
    number = file(api, db, pki, square(FCFS_AREA, 12, 0, 1))
    iin, cert = stranger
    headers = bearer(db, iin)
    r = decide(api, headers, cert, number, "register", "forward")
    assert r.status_code == 404 and r.json()["type"].endswith("workbench.not_found"), r.text
    assert api.get(f"/api/applications/{number}/run", headers=headers).status_code == 404
    assert number not in [i["number"] for i in api.get("/api/workbench", headers=headers).json()["queue"]]
    # Applicants do not decide at all; the commission does not act at an officer's stage.
    applicant = pki.person("applicant")
    r = decide(api, bearer(db, applicant.person.iin), applicant.sign("rsa"), number, "register", "forward")
    assert r.status_code == 403
    commission = pki.person("commission")
    r = decide(api, bearer(db, commission.person.iin), commission.sign("rsa"), number, "register", "forward")
    assert r.status_code == 404
    assert api.get(f"/api/applications/{number}/run", headers=officer(db, pki)[0]).json()["decisions"] == []


def test_a_decision_with_a_bad_signature_is_refused(api, db, pki):
    number = file(api, db, pki, square(FCFS_AREA, 14, 0, 1))
    headers, cert = officer(db, pki)
    # Signed over other bytes (another action than the one sent).
    r = decide(api, headers, cert, number, "register", "forward",
               over=workbench.canonical_decision(number, "register", "return", "x"))
    assert r.status_code == 422 and r.json()["type"].endswith("workbench.signature_invalid"), r.text
    # Signed by someone else (the applicant's valid signing key).
    r = decide(api, headers, pki.person("applicant").sign("rsa"), number, "register", "forward")
    assert r.status_code == 422 and r.json()["type"].endswith("workbench.signer_not_caller"), r.text
    # A login key does not sign decisions; garbage is not a signature.
    r = decide(api, headers, pki.person("officer").auth("rsa"), number, "register", "forward")
    assert r.status_code == 422 and r.json()["type"].endswith("workbench.signature_invalid")
    r = api.post(f"/api/applications/{number}/decisions", headers=headers,
                 json={"decision": {"stage": "register", "action": "forward", "reason": None}, "signature": "***"})
    assert r.status_code == 400 and r.json()["type"].endswith("workbench.bad_signature")
    run = api.get(f"/api/applications/{number}/run", headers=headers).json()
    assert (run["stage"], run["decisions"]) == ("register", [])
    sealed(db)
    rejected = db.execute("SELECT count(*) FROM journal WHERE object = %s AND action = 'procedure.decide' "
                          "AND result = 'rejected'", (f"application:{number}",)).fetchone()[0]
    assert rejected == 4


def test_the_queue_sorts_by_time_left_and_flags_overdue_stages_once(api, db, pki, app_db):
    waiting = file(api, db, pki, square(FCFS_AREA, 16, 0, 1))
    later = file(api, db, pki, square(FCFS_AREA, 18, 0, 1))
    headers, cert = officer(db, pki)
    for stage, action in APPROVAL[:3]:
        assert decide(api, headers, cert, later, stage, action).status_code == 200
    # Now: register (15 office minutes) is due soon, check (20 calendar days) much later.
    items = api.get("/api/workbench", headers=headers).json()["queue"]
    mine = [i for i in items if i["number"] in (waiting, later)]
    assert [(i["number"], i["stage"]) for i in mine] == [(waiting, "register"), (later, "check")]
    lefts = [i["seconds_left"] for i in items]
    assert lefts == sorted(lefts) and "accept" in mine[1]["actions"]
    # A day past the registration's deadline, the registration is overdue, the check is not:
    # flagged, first, notified once. (Not "three days on": 15 office minutes from a Friday evening
    # before a long holiday, e.g. Nauryz or the New Year, fall due more than three days later.)
    officer_person = person(db, pki.person("officer").person.iin)
    future = clock.now() + dt.timedelta(seconds=max(mine[0]["seconds_left"], 0), days=1)
    with db.transaction():
        items = workbench.queue(db, officer_person, future)
    mine = {i["number"]: i for i in items if i["number"] in (waiting, later)}
    assert mine[waiting]["overdue"] and mine[waiting]["seconds_left"] < 0
    assert not mine[later]["overdue"] and mine[later]["seconds_left"] > 0
    assert [i["number"] for i in items].index(waiting) < [i["number"] for i in items].index(later)
    assert all(i["overdue"] for i in items[:[i["number"] for i in items].index(waiting) + 1])
    (note,) = notices(db, "notice.stage_overdue", waiting)
    assert note["stage"] == "register"
    assert notices(db, "notice.stage_overdue", later) == []
    with db.transaction():
        assert workbench.notify_overdue(db, future) == 0
        workbench.queue(db, officer_person, future)
    assert len(notices(db, "notice.stage_overdue", waiting)) == 1
    # The server's background watch does the same, as the service's role, once per stage.
    third = file(api, db, pki, square(FCFS_AREA, 20, 0, 1))
    (left,) = [i["seconds_left"] for i in api.get("/api/workbench", headers=headers).json()["queue"]
               if i["number"] == third]
    future = clock.now() + dt.timedelta(seconds=max(left, 0), days=1)  # a day past its deadline
    watch = OverdueWatch(Database(dataclasses.replace(get_settings(), database_url=app_db).service_database_url))
    with clock.frozen(future):
        assert watch.once() >= 1 and watch.once() == 0
    assert [n["stage"] for n in notices(db, "notice.stage_overdue", third)] == ["register"]
    # The officer of another authority gets no notice of it.
    recipients = {r[0] for r in db.execute("SELECT a.iin FROM notifications n JOIN accounts a ON a.id = n.account_id "
                                           "WHERE n.code = 'notice.stage_overdue' AND n.params->>'number' = %s",
                                           (waiting,))}
    assert recipients == {pki.person("officer").person.iin}


def test_the_commission_decides_at_its_stage_of_the_recognition(api, db, pki):
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)  # signs in: the account exists
    account = db.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (me.person.iin,)).fetchone()[0]
    doc = db.execute("INSERT INTO documents (owner_account_id, owner_iin, file_name, content_type, size, sha256, "
                     "access_level, uploaded_by) VALUES (%s, %s, 'plan.pdf', 'application/pdf', 1, %s, "
                     "'confidential', 'test') RETURNING id", (account, me.person.iin, "0" * 64)).fetchone()[0]
    app = {"kind": "industrial-innovation-recognition", "applicant": {"iin": me.person.iin}, "documents": [doc]}
    r = api.post("/api/applications", json=signed(app, me.sign("rsa")), headers=mine)
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    number = r.json()["number"]
    headers, cert = officer(db, pki)
    for stage, action in (("accept", "accept"), ("draft_conclusion", "forward")):
        assert decide(api, headers, cert, number, stage, action).status_code == 200
    # The commission's stage is not the officer's; it is in the commission's queue, not the officer's.
    r = decide(api, headers, cert, number, "commission", "approve")
    assert r.status_code == 403 and r.json()["type"].endswith("procedures.role_not_allowed")
    member = pki.person("commission")
    member_headers = bearer(db, member.person.iin)
    assert number in [i["number"] for i in api.get("/api/workbench", headers=member_headers).json()["queue"]]
    assert number not in [i["number"] for i in api.get("/api/workbench", headers=headers).json()["queue"]]
    # One member does not decide it as an officer decides theirs: the members vote
    # (tests/test_commission.py). The demo commission member chairs it alone: their vote is all.
    r = decide(api, member_headers, member.sign("rsa"), number, "commission", "approve")
    assert r.status_code == 409 and r.json()["type"].endswith("workbench.commission_votes")
    cms = sign_cms(commission.canonical_vote(number, "commission", "approve", None), member.sign("rsa"),
                   detached=True)
    r = api.post(f"/api/applications/{number}/votes", headers=member_headers,
                 json={"vote": {"stage": "commission", "vote": "approve", "reason": None},
                       "signature": base64.b64encode(cms).decode()})
    assert r.status_code == 200 and r.json()["stage"] == "send_decision", r.text
    assert r.json()["decisions"][-1]["role"] == "commission"
    assert r.json()["decisions"][-1]["tally"]["votes"] == {member.person.iin: "approve"}
    r = decide(api, headers, cert, number, "send_decision", "sign")
    assert (r.json()["status"], r.json()["outcome"]) == ("finished", "granted"), r.text
    assert notices(db, "notice.run_granted", number) == [{"number": number,
                                                          "kind": "industrial-innovation-recognition"}]
