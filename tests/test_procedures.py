"""Procedures as data: the declarations, the pure engine, the seed 004 commission."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from cadastre.calendar import ALMATY, Calendar, load_calendar
from cadastre.procedures import (
    DECLARATIONS,
    State,
    act,
    by_time_left,
    commission_decision,
    overdue,
    parse,
    procedure,
    procedures,
    start,
)
from geoservice.kernel.errors import Problem


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ALMATY)


@pytest.fixture(scope="module")
def cal(database_url: str) -> Calendar:
    with psycopg.connect(database_url) as conn:
        return load_calendar(conn)


def test_the_declared_procedures_and_seed_003s_pledge_deadlines() -> None:
    assert set(procedures()) == {"exploration-licence", "pledge-registration", "liquidation-fund",
                                 "servitude-registration", "processing-agreement", "reprocessing-application",
                                 "recognition", "obligation-report"}
    pledge = procedure("pledge-registration")
    assert [(s.deadline.amount, s.deadline.unit) for s in pledge.stages if s.deadline] == [
        (15, "minutes"), (3, "hours"), (5, "hours"), (4, "hours"), (2, "hours"), (2, "hours")]
    recognition = procedure("recognition")
    assert [s.role for s in recognition.stages] == ["officer", "officer", "commission", "officer"]
    for p in procedures().values():
        assert set(p.names) == {"kk", "ru", "en"} and p.source
        assert p.revision.role == "applicant"
        for s in p.stages:
            assert set(s.names) == {"kk", "ru", "en"} and (s.deadline or s.no_deadline)
    with pytest.raises(Problem) as err:
        procedure("nothing")
    assert err.value.key == "procedures.unknown"


def test_the_declarations_are_checked() -> None:
    text = DECLARATIONS.read_text(encoding="utf-8")
    parse(text)
    with pytest.raises(ValueError, match="role"):
        parse(text.replace('role = "commission"', 'role = "auditor"'))
    with pytest.raises(ValueError, match="deadline"):
        parse(text.replace('amount = 15, unit = "minutes"', 'unit = "fortnights"', 1))
    with pytest.raises(ValueError, match="actions"):
        parse(text.replace('actions = ["sign"]', 'actions = ["stamp"]', 1))


def test_pledge_from_filing_to_signature(cal: Calendar) -> None:
    t0 = local(2025, 3, 20, 16)  # Thursday before Nauryz 2025, 16:00
    s = start("pledge-registration", t0, cal)
    assert s.current.stage == "register" and s.current.due == local(2025, 3, 20, 16, 15)
    s = act(s, "register", "officer", "forward", at=local(2025, 3, 20, 16, 10), calendar=cal)
    assert s.current.stage == "assign" and s.current.due == local(2025, 3, 26, 10, 40)  # 1h20 + 1h40
    s = act(s, "assign", "officer", "forward", at=local(2025, 3, 26, 9, 0), calendar=cal)
    s = act(s, "check", "officer", "accept", at=local(2025, 3, 26, 11, 0), calendar=cal)
    assert s.current.stage == "prepare" and s.current.due == local(2025, 3, 26, 16, 30)
    for stage, action in (("prepare", "forward"), ("approve", "approve"), ("sign", "sign")):
        s = act(s, stage, "officer", action, at=local(2025, 3, 26, 15, 0), calendar=cal)
    assert s.status == "finished" and s.outcome == "granted" and s.current is None
    assert [st.action for st in s.steps] == ["forward", "forward", "accept", "forward", "approve", "sign"]
    with pytest.raises(Problem) as err:
        act(s, "sign", "officer", "sign", at=local(2025, 3, 26, 16), calendar=cal)
    assert err.value.key == "procedures.finished"


def test_what_act_refuses(cal: Calendar) -> None:
    s = start("pledge-registration", local(2025, 6, 2, 9), cal)
    cases = [
        (("assign", "officer", "forward"), "procedures.not_current", 409),
        (("register", "applicant", "forward"), "procedures.role_not_allowed", 403),
        (("register", "officer", "approve"), "procedures.action_not_allowed", 422),
    ]
    for (stage, role, action), key, status in cases:
        with pytest.raises(Problem) as err:
            act(s, stage, role, action, at=local(2025, 6, 2, 9, 5), calendar=cal)
        assert (err.value.key, err.value.status) == (key, status)
    s = act(s, "register", "officer", "forward", at=local(2025, 6, 2, 9, 5), calendar=cal)
    s = act(s, "assign", "officer", "forward", at=local(2025, 6, 2, 9, 10), calendar=cal)
    with pytest.raises(Problem) as err:
        act(s, "check", "officer", "return", "  ", at=local(2025, 6, 2, 9, 15), calendar=cal)
    assert err.value.key == "procedures.reason_required"


def test_return_for_revision_and_back_then_a_reasoned_refusal(cal: Calendar) -> None:
    s = start("liquidation-fund", local(2025, 4, 25, 10), cal)
    for stage in ("register", "handover", "assign"):
        s = act(s, stage, "officer", "forward", at=local(2025, 4, 25, 11), calendar=cal)
    assert s.current.stage == "check" and s.current.due.date() == dt.date(2025, 5, 19)  # 13 working days
    s = act(s, "check", "officer", "return", "the balance sheet is missing", at=local(2025, 4, 28, 10), calendar=cal)
    assert s.status == "returned" and s.current.stage == "revision" and s.current.role == "applicant"
    assert s.current.due is None  # the seed gives the applicant no term
    with pytest.raises(Problem):
        act(s, "revision", "officer", "forward", at=local(2025, 4, 29, 10), calendar=cal)
    s = act(s, "revision", "applicant", "forward", at=local(2025, 5, 2, 10), calendar=cal)
    assert s.status == "running" and s.current.stage == "check"
    assert s.current.due.date() == dt.date(2025, 5, 23)  # counted afresh from the resubmission
    s = act(s, "check", "officer", "refuse", "the contract has expired", at=local(2025, 5, 5, 10), calendar=cal)
    assert s.outcome == "refused" and s.current.stage == "prepare"  # the refusal is prepared and signed
    for stage in ("prepare", "draft_permit", "sign", "send"):
        action = "sign" if stage == "sign" else "forward"
        s = act(s, stage, "officer", action, at=local(2025, 5, 6, 10), calendar=cal)
    assert s.status == "finished" and s.outcome == "refused" and s.reason == "the contract has expired"
    again = State.from_json(json.loads(json.dumps(s.to_json())))
    assert again == s


def test_recognition_deadlines_and_the_commission_stage(cal: Calendar) -> None:
    s = start("recognition", local(2025, 3, 20, 12), cal)
    # Seed 004: accept within 10 working days, return within 5, across Nauryz 2025.
    assert s.current.return_due.date() == dt.date(2025, 4, 1)
    assert s.current.due.date() == dt.date(2025, 4, 8)
    s = act(s, "accept", "officer", "accept", at=local(2025, 4, 1, 12), calendar=cal)
    s = act(s, "draft_conclusion", "officer", "forward", at=local(2025, 4, 20, 12), calendar=cal)
    with pytest.raises(Problem) as err:
        act(s, "commission", "officer", "approve", at=local(2025, 4, 21, 12), calendar=cal)
    assert err.value.key == "procedures.role_not_allowed"
    decision = commission_decision(["a", "b", "c", "d", "e"], {"a": True, "b": False, "c": True}, chair="a")
    s = act(s, "commission", "commission", decision.outcome, at=local(2025, 4, 21, 12), calendar=cal)
    s = act(s, "send_decision", "officer", "sign", at=local(2025, 4, 22, 12), calendar=cal)
    assert s.status == "finished" and s.outcome == "granted"


def test_overdue_and_the_workbench_order(cal: Calendar) -> None:
    a = start("pledge-registration", local(2025, 6, 2, 9), cal)  # due 9:15
    b = start("recognition", local(2025, 6, 2, 9), cal)  # due in 10 working days
    c = start("pledge-registration", local(2025, 6, 2, 10), cal)  # due 10:15
    c = act(c, "register", "officer", "forward", at=local(2025, 6, 2, 10, 5), calendar=cal)  # 3 h: 14:35 (lunch)
    assert c.current.due == local(2025, 6, 2, 14, 35)
    done = start("pledge-registration", local(2025, 6, 2, 9), cal)
    for stage, action in (("register", "forward"), ("assign", "forward"), ("check", "return")):
        done = act(done, stage, "officer", action, "reason", at=local(2025, 6, 2, 9, 1), calendar=cal)
    now = local(2025, 6, 2, 12, 0)
    order = by_time_left([b, a, c, done], now)
    assert [w.state for w in order] == [a, c, b, done]  # the revision has no deadline: last
    late = overdue([b, a, c, done], now)
    assert [w.state for w in late] == [a] and late[0].left == -dt.timedelta(hours=2, minutes=45)
    assert overdue([b, a, c], local(2025, 6, 2, 9, 10)) == []


def test_commission_decision() -> None:
    members = ["chair", "m1", "m2", "m3", "m4", "m5", "m6"]
    # Quorum not met: 3 of 7 present.
    d = commission_decision(members, {"chair": True, "m1": True, "m2": True}, "chair")
    assert not d.quorum and d.outcome is None and d.present == 3
    # Majority of those present: 4 present (quorum: 4 of 7), 3 against.
    d = commission_decision(members, {"chair": True, "m1": False, "m2": False, "m3": False}, "chair")
    assert d.quorum and d.outcome == "refuse" and not d.tie_broken_by_chair
    # Tie broken by the chair.
    d = commission_decision(members, {"chair": False, "m1": False, "m2": True, "m3": True}, "chair")
    assert d.quorum and d.outcome == "refuse" and d.tie_broken_by_chair and (d.votes_for, d.votes_against) == (2, 2)
    d = commission_decision(members, {"chair": True, "m1": False, "m2": True, "m3": False}, "chair")
    assert d.outcome == "approve" and d.tie_broken_by_chair
    # Exactly half is a quorum (at least 50 %).
    d = commission_decision(members[:6], {"m1": True, "m2": True, "m3": False}, "chair")
    assert d.quorum and d.outcome == "approve"
    with pytest.raises(Problem) as err:
        commission_decision(members, {"m1": True, "m2": False, "m3": True, "m4": False}, "chair")
    assert err.value.key == "procedures.tie_without_chair"
    with pytest.raises(Problem) as err:
        commission_decision(members, {"stranger": True}, "chair")
    assert err.value.key == "procedures.not_a_member"
