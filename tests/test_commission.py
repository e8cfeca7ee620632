"""The seed 004 commission end to end, on a database of this module's own: a recognition
application reaches its commission stage; members (the table commission_members) cast signed
votes (detached CMS over the RFC 8785 JSON of {application, stage, vote, reason}); the chair or
deputy chair closes the vote and commission_decision decides: no quorum → nothing decided, the
majority of those present, a tie broken by the chair (or by the deputy in the chair's absence).
Non-members, second votes, someone else's signature and closing by an ordinary member are
refused, in kk/ru/en."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts, commission, workbench
from cadastre.eds.pki import DemoPki, Issued, sign_cms
from geoservice.kernel.errors import Problem
from tests.applicants import app_client, bearer, demo_people, make_applicants, programme_database, signed
from tests.helpers import sealed

STAGE = "commission"


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_cm") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return demo_people(app_db, Path(tmp_path_factory.mktemp("commission")) / "pki")


@pytest.fixture(scope="module")
def members(app_db: str, pki: DemoPki) -> list[tuple[str, Issued]]:
    """Five members: [0] the chair, [1] the deputy chair, [2..4] members. The demo commission
    person (seated as chair by the demo) is taken off, so they are a commission-role non-member."""
    with psycopg.connect(app_db) as conn:
        people = make_applicants(conn, pki, 5, prefix="0404047")
        commission.remove_member(conn, "recognition", pki.person("commission").person.iin, actor="test")
        for n, (iin, _) in enumerate(people):
            accounts.grant_role(conn, iin, "commission", actor="test")
            commission.add_member(conn, "recognition", iin, {0: "chair", 1: "deputy_chair"}.get(n, "member"),
                                  actor="test")
        conn.commit()
    return people


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def at_commission(api: TestClient, db: psycopg.Connection, pki: DemoPki) -> str:
    """A recognition application filed and brought by the officer to its commission stage."""
    me = pki.person("applicant")
    mine = bearer(db, me.person.iin)
    account = db.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (me.person.iin,)).fetchone()[0]
    doc = db.execute("INSERT INTO documents (owner_account_id, owner_iin, file_name, content_type, size, sha256, "
                     "access_level, uploaded_by) VALUES (%s, %s, 'plan.pdf', 'application/pdf', 1, %s, "
                     "'confidential', 'test') RETURNING id", (account, me.person.iin, "0" * 64)).fetchone()[0]
    app = {"kind": "industrial-innovation-recognition", "applicant": {"iin": me.person.iin}, "documents": [doc]}
    r = api.post("/api/applications", json=signed(app, me.sign("rsa")), headers=mine)
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    number = str(r.json()["number"])
    officer = pki.person("officer")
    for stage, action in (("accept", "accept"), ("draft_conclusion", "forward")):
        cms = sign_cms(workbench.canonical_decision(number, stage, action, None), officer.sign("rsa"), detached=True)
        r = api.post(f"/api/applications/{number}/decisions", headers=bearer(db, officer.person.iin),
                     json={"decision": {"stage": stage, "action": action, "reason": None},
                           "signature": base64.b64encode(cms).decode()})
        assert r.status_code == 200, r.text
    assert r.json()["stage"] == STAGE
    return number


def vote(api: TestClient, db: psycopg.Connection, who: tuple[str, Issued], number: str, choice: str,
         reason: str | None = None, *, over: bytes | None = None, lang: str = "en") -> Any:
    iin, cert = who
    data = commission.canonical_vote(number, STAGE, choice, reason) if over is None else over
    cms = sign_cms(data, cert, detached=True)
    return api.post(f"/api/applications/{number}/votes", headers=bearer(db, iin, lang=lang),
                    json={"vote": {"stage": STAGE, "vote": choice, "reason": reason},
                          "signature": base64.b64encode(cms).decode()})


def close(api: TestClient, db: psycopg.Connection, who: tuple[str, Issued], number: str,
          reason: str | None = None, lang: str = "en") -> Any:
    iin, cert = who
    cms = sign_cms(commission.canonical_close(number, STAGE, reason), cert, detached=True)
    return api.post(f"/api/applications/{number}/votes/close", headers=bearer(db, iin, lang=lang),
                    json={"close": {"stage": STAGE, "reason": reason}, "signature": base64.b64encode(cms).decode()})


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith(code), body
    return body


def stored_votes(db: psycopg.Connection, number: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.execute(
        "SELECT v.member_iin, v.vote FROM commission_votes v JOIN procedure_runs r ON r.id = v.run_id "
        "WHERE r.number = %s ORDER BY v.id", (number,))]


def finish(api: TestClient, db: psycopg.Connection, pki: DemoPki, number: str) -> Any:
    officer = pki.person("officer")
    cms = sign_cms(workbench.canonical_decision(number, "send_decision", "sign", None), officer.sign("rsa"),
                   detached=True)
    return api.post(f"/api/applications/{number}/decisions", headers=bearer(db, officer.person.iin),
                    json={"decision": {"stage": "send_decision", "action": "sign", "reason": None},
                          "signature": base64.b64encode(cms).decode()})


def test_the_roster_is_data(db, members):
    seats = commission.roster(db, "recognition")
    assert seats.members == sorted(iin for iin, _ in members)
    assert seats.seated("chair") == members[0][0] and seats.seated("deputy_chair") == members[1][0]
    with pytest.raises(Problem) as err:
        commission.add_member(db, "recognition", members[2][0], "chair", actor="test")
    assert err.value.key == "commission.seat_taken"
    with pytest.raises(Problem) as err:
        commission.add_member(db, "no-such-commission", members[2][0], actor="test")
    assert err.value.key == "commission.unknown"
    assert commission.add_member(db, "recognition", members[2][0], "member", actor="test") is False


def test_without_a_quorum_nothing_is_decided(api, db, pki, members):
    number = at_commission(api, db, pki)
    # One member alone cannot decide the stage as the officers decide theirs.
    iin, cert = members[2]
    cms = sign_cms(workbench.canonical_decision(number, STAGE, "approve", None), cert, detached=True)
    r = api.post(f"/api/applications/{number}/decisions", headers=bearer(db, iin),
                 json={"decision": {"stage": STAGE, "action": "approve", "reason": None},
                       "signature": base64.b64encode(cms).decode()})
    problem(r, 409, "workbench.commission_votes")
    # Two of five voted: fewer than half.
    assert vote(api, db, members[2], number, "approve").status_code == 200
    r = vote(api, db, members[3], number, "approve")
    assert r.status_code == 200 and len(r.json()["votes"]) == 2, r.text
    body = problem(close(api, db, members[0], number), 409, "commission.no_quorum")
    assert "2 of 5" in body["detail"]
    run = api.get(f"/api/applications/{number}/run", headers=bearer(db, members[0][0])).json()
    assert run["stage"] == STAGE and run["status"] == "running" and len(run["votes"]) == 2
    assert all(d["stage"] != STAGE for d in run["decisions"])
    # A third vote makes the quorum (3 of 5); the chair closes: approved 3:0.
    assert vote(api, db, members[4], number, "approve").status_code == 200
    r = close(api, db, members[0], number)
    assert r.status_code == 200 and r.json()["stage"] == "send_decision", r.text
    tally = r.json()["decisions"][-1]["tally"]
    assert (tally["quorum"], tally["present"], tally["for"], tally["against"], tally["outcome"]) == \
        (True, 3, 3, 0, "approve")
    assert r.json()["steps"][-2]["action"] == "approve"
    assert (finish(api, db, pki, number).json()["outcome"]) == "granted"


def test_the_majority_of_those_present_decides(api, db, pki, members):
    number = at_commission(api, db, pki)
    for who, choice in ((members[0], "approve"), (members[2], "refuse"), (members[3], "refuse")):
        assert vote(api, db, who, number, choice, "no link to subsoil use" if choice == "refuse" else None
                    ).status_code == 200
    # A refusal needs the reason the applicant reads.
    problem(close(api, db, members[0], number), 422, "procedures.reason_required")
    r = close(api, db, members[0], number, "The activity is not on the list of the rules' annex.")
    assert r.status_code == 200, r.text
    decision = r.json()["decisions"][-1]
    assert (decision["action"], decision["role"], decision["signer_iin"]) == ("refuse", "commission", members[0][0])
    assert decision["tally"]["votes"] == {members[0][0]: "approve", members[2][0]: "refuse",
                                          members[3][0]: "refuse"}
    assert not decision["tally"]["tie_broken_by_chair"]
    r = finish(api, db, pki, number)
    assert (r.json()["outcome"], r.json()["refusal"]) == ("refused", "The activity is not on the list of the "
                                                                     "rules' annex.")
    # The tally is also kept in the run's state with the stage.
    state = db.execute("SELECT state FROM procedure_runs WHERE number = %s", (number,)).fetchone()[0]
    assert next(s for s in state["steps"] if s["stage"] == STAGE)["tally"]["outcome"] == "refuse"


def test_a_tie_is_broken_by_the_chair(api, db, pki, members):
    number = at_commission(api, db, pki)
    for who, choice in ((members[0], "approve"), (members[1], "refuse"), (members[2], "approve"),
                        (members[3], "refuse")):
        assert vote(api, db, who, number, choice).status_code == 200
    r = close(api, db, members[0], number)
    assert r.status_code == 200, r.text
    tally = r.json()["decisions"][-1]["tally"]
    assert (tally["for"], tally["against"], tally["outcome"], tally["tie_broken_by_chair"], tally["chairing"]) == \
        (2, 2, "approve", True, members[0][0])
    assert finish(api, db, pki, number).json()["outcome"] == "granted"


def test_in_the_chairs_absence_the_deputy_chairs(api, db, pki, members):
    number = at_commission(api, db, pki)
    for who, choice in ((members[1], "refuse"), (members[2], "approve"), (members[3], "approve"),
                        (members[4], "refuse")):
        assert vote(api, db, who, number, choice).status_code == 200
    # An ordinary member does not close the vote.
    problem(close(api, db, members[2], number), 403, "commission.not_the_chair")
    r = close(api, db, members[1], number, "The deputy chair's side: not subsoil-related.")
    assert r.status_code == 200, r.text
    tally = r.json()["decisions"][-1]["tally"]
    assert (tally["outcome"], tally["tie_broken_by_chair"], tally["chairing"]) == ("refuse", True, members[1][0])


def test_non_members_and_second_votes_are_refused(api, db, pki, members):
    number = at_commission(api, db, pki)
    outsider = pki.person("commission")  # holds the commission role, but not a seat
    iin = outsider.person.iin
    cert = outsider.sign("rsa")
    texts = {lang: problem(vote(api, db, (iin, cert), number, "approve", lang=lang), 403,
                           "commission.not_a_member")["detail"] for lang in ("en", "ru", "kk")}
    assert "recognition" in texts["en"] and texts["ru"] != texts["en"] and texts["kk"] != texts["ru"]
    # An officer who is not a member neither.
    officer = pki.person("officer")
    problem(vote(api, db, (officer.person.iin, officer.sign("rsa")), number, "approve"), 403,
            "commission.not_a_member")
    assert vote(api, db, members[2], number, "approve").status_code == 200
    problem(vote(api, db, members[2], number, "refuse"), 409, "commission.already_voted")
    # A vote signed over something else, or by someone else, is refused and not counted.
    problem(vote(api, db, members[3], number, "approve", over=commission.canonical_vote(number, STAGE, "refuse",
                                                                                        None)),
            422, "workbench.signature_invalid")
    iin3, _ = members[3]
    problem(vote(api, db, (iin3, members[4][1]), number, "approve"), 422, "workbench.signer_not_caller")
    problem(api.post(f"/api/applications/{number}/votes", headers=bearer(db, iin3),
                     json={"vote": {"stage": STAGE, "vote": "maybe"}, "signature": "AA=="}),
            422, "commission.bad_vote")
    assert stored_votes(db, number) == [(members[2][0], "approve")]
    # Refusals are journaled.
    rejected = sealed(db).execute("SELECT count(*) FROM journal WHERE action = 'procedure.vote' "
                                  "AND result = 'rejected' AND object = %s", (f"application:{number}",)).fetchone()[0]
    assert rejected == 8
    # The stored vote verifies again from its canonical JSON and signature.
    run = api.get(f"/api/applications/{number}/run", headers=bearer(db, members[2][0])).json()
    (stored,) = run["votes"]
    assert stored["canonical"].encode() == commission.canonical_vote(number, STAGE, "approve", None)
    assert stored["signature_valid"] and stored["member_iin"] == members[2][0]


def test_votes_only_at_a_commission_stage(api, db, pki, members):
    number = at_commission(api, db, pki)
    iin, cert = members[2]
    cms = sign_cms(commission.canonical_vote(number, "accept", "approve", None), cert, detached=True)
    r = api.post(f"/api/applications/{number}/votes", headers=bearer(db, iin),
                 json={"vote": {"stage": "accept", "vote": "approve", "reason": None},
                       "signature": base64.b64encode(cms).decode()})
    problem(r, 409, "procedures.not_current")


def test_the_queue_and_overdue_notices_go_to_the_members(api, db, pki, members):
    number = at_commission(api, db, pki)
    for iin, _ in members:
        bearer(db, iin)  # signed in once: each has an account to be notified in

    def queued(iin: str) -> list[str]:
        return [i["number"] for i in api.get("/api/workbench", headers=bearer(db, iin)).json()["queue"]]

    assert number in queued(members[3][0])
    # Holding the commission role without a seat: the vote is not theirs to wait for.
    assert number not in queued(pki.person("commission").person.iin)
    due = db.execute("SELECT due_at FROM procedure_runs WHERE number = %s", (number,)).fetchone()[0]
    assert workbench.notify_overdue(db, due + dt.timedelta(minutes=1)) >= 1
    told = {r[0] for r in db.execute(
        "SELECT a.iin FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE n.code = "
        "'notice.stage_overdue' AND n.params->>'number' = %s", (number,))}
    assert told == {iin for iin, _ in members}


def test_when_every_member_has_voted_the_count_decides(api, db, pki, members):
    number = at_commission(api, db, pki)
    for who in members[:4]:
        assert vote(api, db, who, number, "approve").json()["stage"] == STAGE
    r = vote(api, db, members[4], number, "refuse", "too early")
    assert r.status_code == 200 and r.json()["stage"] == "send_decision", r.text
    decision = r.json()["decisions"][-1]
    assert (decision["action"], decision["signer_iin"]) == ("approve", members[4][0])
    assert decision["canonical"].encode() == commission.canonical_vote(number, STAGE, "refuse", "too early")
    assert (decision["tally"]["for"], decision["tally"]["against"], decision["tally"]["present"]) == (4, 1, 5)
    # Closing a decided vote: the stage is no longer current.
    problem(close(api, db, members[0], number), 409, "procedures.not_current")


def test_a_refusal_by_everyone_takes_their_reasons_or_waits_for_the_chair(api, db, pki, members):
    with_reasons = at_commission(api, db, pki)
    without = at_commission(api, db, pki)
    for n, who in enumerate(members):
        choice = "approve" if n < 2 else "refuse"
        vote(api, db, who, with_reasons, choice, f"reason {n}" if choice == "refuse" else None)
        r = vote(api, db, who, without, choice)
        assert r.status_code == 200, r.text
    run = api.get(f"/api/applications/{with_reasons}/run", headers=bearer(db, members[0][0])).json()
    assert run["stage"] == "send_decision" and run["decisions"][-1]["reason"] == "reason 2; reason 3; reason 4"
    # Nobody said why: the applicant must read a reason, so the chair closes with one.
    assert r.json()["stage"] == STAGE
    r = close(api, db, members[0], without, "Not on the annex's list.")
    assert r.status_code == 200 and r.json()["decisions"][-1]["action"] == "refuse", r.text
