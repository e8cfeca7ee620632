"""The commission's vote in the cabinet's workbench (issue 9, seed 004), in a real browser against
the real app, on the cabinet browser tests' live server and demo people. The demo commission
person chairs the recognition commission (cadastre/demo.py); the test seats the demo officer on it
as a second member. A recognition application is filed by the demo applicant and brought by the
officer to the commission stage in the page; there the workbench shows the members and their
votes instead of the one-person actions. The chair's closing before anyone voted is refused for
want of a quorum (the page says so); the officer votes for; the chair sees that vote and closes:
the count (1 of 2 present, for) approves, stored with its tally; the officer signs the result.
A second application: the officer votes for, the chair against with a reason; everyone has voted,
so the count decides at once: a tie, broken by the chair, a refusal with the chair's reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cadastre import commission
from tests import test_cabinet_applications_browser as ui
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.test_workbench_map_browser import FILE

app_db, live = ui.app_db, ui.live
CHAIR = "830612402012"  # ИСАЕВА МАДИНА, the demo commission person, seated as chair by the demo


def _sign_in(page: Any, base: str, db: str, iin: str) -> None:
    page.goto(ui._link(db, base, iin))
    page.wait_for_url(f"{base}/cabinet")
    page.wait_for_selector("#applications[data-ready=true]")


def _sign_out(page: Any) -> None:
    page.click("#logout")
    page.wait_for_selector("#signin:not([hidden])")


def _open(page: Any, number: str) -> None:
    page.wait_for_selector("#workbench[data-ready=true]")
    page.locator(f"#wb-queue tr[data-number='{number}'] .wb-open").click()


@pytest.fixture(scope="module")
def seated(app_db: str) -> str:
    """The demo officer seated on the recognition commission beside the demo chair."""
    with psycopg.connect(app_db) as conn:
        commission.add_member(conn, "recognition", ui.OFFICER, "member", actor="test")
        conn.commit()
    return ui.OFFICER


def _to_commission(page: Any, base: str, db: str) -> str:
    """The applicant files a recognition (signed in the page by the demo signer); the officer
    (working body) accepts it and forwards the draft conclusion in the workbench. Leaves the
    officer signed in at the commission stage."""
    _sign_in(page, base, db, ui.APPLICANT)
    app = {"kind": "industrial-innovation-recognition", "applicant": {"iin": ui.APPLICANT},
           "documents": [_document(db, ui.APPLICANT)]}
    status, body = page.evaluate(FILE, app)
    assert status == 201 and body["status"] == "accepted", body
    number = str(body["number"])
    _sign_out(page)
    _sign_in(page, base, db, ui.OFFICER)
    _open(page, number)
    for stage, action in (("accept", "accept"), ("draft_conclusion", "forward")):
        expect_stage(page, stage)
        page.locator(f"#wb-run .wb-actions button[data-action={action}]").click()
        expect_ok(page)
    expect_stage(page, "commission")
    return number


def expect_stage(page: Any, stage: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#wb-stage")).to_have_attribute("data-stage", stage, timeout=20_000)


def expect_ok(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#wb-status")).to_have_class("ok", timeout=20_000)


def _document(db: str, iin: str) -> int:
    """A document of the applicant's (the recognition requires one; its content is not checked here)."""
    with psycopg.connect(db) as conn:
        account = conn.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (iin,)).fetchone()[0]
        doc = conn.execute(
            "INSERT INTO documents (owner_account_id, owner_iin, file_name, content_type, size, sha256, "
            "access_level, uploaded_by) VALUES (%s, %s, 'plan.pdf', 'application/pdf', 1, %s, 'confidential', "
            "'test') RETURNING id", (account, iin, "0" * 64)).fetchone()[0]
        conn.commit()
    return int(doc)


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_the_commission_votes_and_the_chair_closes_in_the_page(live: str, app_db: str, seated: str):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")

            # Filed, accepted and forwarded in the page. The commission stage: no one-person
            # actions; the members, nobody has voted yet.
            number = _to_commission(page, live, app_db)
            expect(page.locator("#wb-run button[data-action]")).to_have_count(0)
            members = page.locator("#wb-members tbody tr")
            expect(members).to_have_count(2)
            expect(members.nth(0)).to_have_attribute("data-iin", CHAIR)
            expect(members.nth(0)).to_have_attribute("data-seat", "chair")
            expect(members.nth(0)).to_contain_text("Chair")
            expect(members.nth(0)).to_contain_text("not voted yet")
            expect(page.locator("#wb-tally")).to_have_text("Voted: 0 of 2")
            expect(page.locator("#wb-vote button[data-vote=approve]")).to_be_visible()
            expect(page.locator("#wb-close")).to_have_count(0)  # an ordinary member does not close
            _sign_out(page)

            # The chair closes before anyone voted: no quorum, the page says so, nothing decided.
            _sign_in(page, live, app_db, CHAIR)
            _open(page, number)
            expect(page.locator("#wb-stage")).to_have_attribute("data-stage", "commission", timeout=20_000)
            page.click("#wb-close")
            expect(page.locator("#wb-status")).to_have_class("error", timeout=20_000)
            expect(page.locator("#wb-status")).to_contain_text("No quorum: 0 of 2")
            expect(page.locator("#wb-stage")).to_have_attribute("data-stage", "commission")
            _sign_out(page)

            # The officer votes for; the page shows the vote, in Russian too.
            _sign_in(page, live, app_db, ui.OFFICER)
            _open(page, number)
            page.click("#wb-vote button[data-vote=approve]")
            expect(page.locator("#wb-status")).to_have_class("ok", timeout=20_000)
            expect(page.locator("#wb-status")).to_have_text("Vote “For” cast")
            expect(page.locator("#wb-my-vote")).to_have_attribute("data-vote", "approve")
            expect(page.locator("#wb-vote")).to_have_count(0)
            expect(page.locator(f"#wb-members tr[data-iin='{ui.OFFICER}']")).to_have_attribute("data-vote", "approve")
            page.click("#langs [data-lang=ru]")
            expect(page.locator("#wb-tally")).to_have_text("Проголосовали: 1 из 2")
            expect(page.locator("#wb-my-vote")).to_have_text("Ваш голос: За")
            page.click("#langs [data-lang=en]")
            expect(page.locator("#wb-tally")).to_have_text("Voted: 1 of 2")
            _sign_out(page)

            # The chair sees the vote and closes: half voted (a quorum), all for: approved.
            _sign_in(page, live, app_db, CHAIR)
            _open(page, number)
            officer_row = page.locator(f"#wb-members tr[data-iin='{ui.OFFICER}']")
            expect(officer_row).to_have_attribute("data-vote", "approve", timeout=20_000)
            expect(officer_row).to_contain_text("For")
            expect(page.locator(f"#wb-members tr[data-iin='{CHAIR}']")).to_have_attribute("data-vote", "")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-commission-vote.png"), full_page=True)
            page.click("#wb-close")
            expect(page.locator("#wb-status")).to_have_class("ok", timeout=20_000)
            expect(page.locator("#wb-status")).to_have_text("The vote is closed; the commission decided: Approve")
            expect(page.locator(f"#wb-queue tr[data-number='{number}']")).to_have_count(0)
            _sign_out(page)

            # The working body signs and sends the result: the procedure is finished, approved.
            _sign_in(page, live, app_db, ui.OFFICER)
            _open(page, number)
            expect(page.locator("#wb-stage")).to_have_attribute("data-stage", "send_decision", timeout=20_000)
            expect(page.locator("#wb-commission")).to_have_count(0)
            page.locator("#wb-run .wb-actions button[data-action=sign]").click()
            expect(page.locator("#wb-finished")).to_contain_text("Procedure finished: approved", timeout=20_000)
        finally:
            browser.close()
    assert problems == []

    # What the page signed is what is stored: the officer's vote, the chair's closing with the tally.
    with psycopg.connect(app_db) as conn:
        votes = conn.execute(
            "SELECT v.member_iin, v.vote, v.signature_valid, v.canonical FROM commission_votes v "
            "JOIN procedure_runs r ON r.id = v.run_id WHERE r.number = %s", (number,)).fetchall()
        closing = conn.execute(
            "SELECT d.action, d.actor_iin, d.signature_valid, d.canonical, d.tally FROM procedure_decisions d "
            "JOIN procedure_runs r ON r.id = d.run_id WHERE r.number = %s AND d.stage = 'commission'",
            (number,)).fetchone()
    assert [(v[0], v[1], v[2]) for v in votes] == [(ui.OFFICER, "approve", True)]
    assert votes[0][3] == commission.canonical_vote(number, "commission", "approve", None).decode()
    action, actor, valid, canonical, tally = closing
    assert (action, actor, valid) == ("approve", CHAIR, True)
    assert canonical == commission.canonical_close(number, "commission", None).decode()
    assert (tally["present"], tally["for"], tally["against"], tally["chairing"]) == (1, 1, 0, CHAIR)


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_a_tie_is_broken_by_the_chairs_vote_in_the_page(live: str, app_db: str, seated: str):
    from playwright.sync_api import expect, sync_playwright

    reason = "Деятельность не связана с недропользованием"
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            number = _to_commission(page, live, app_db)
            page.click("#wb-vote button[data-vote=approve]")
            expect_ok(page)
            _sign_out(page)

            # The chair votes against, with a reason, in Kazakh: the last vote decides at once.
            _sign_in(page, live, app_db, CHAIR)
            page.click("#langs [data-lang=kk]")
            _open(page, number)
            expect(page.locator("#wb-tally")).to_have_text("Дауыс бергендер: 1 / 2", timeout=20_000)
            page.fill("#wb-reason", reason)
            page.click("#wb-vote button[data-vote=refuse]")
            expect_ok(page)
            expect(page.locator("#wb-status")).to_have_text("Дауыс беру жабылды, комиссия шешімі: Бас тарту")
            expect(page.locator(f"#wb-queue tr[data-number='{number}']")).to_have_count(0)
            expect(page.locator("#wb-steps li[data-stage=commission]")).to_contain_text(reason)
            page.click("#langs [data-lang=en]")
        finally:
            browser.close()
    assert problems == []

    with psycopg.connect(app_db) as conn:
        action, stored, tally = conn.execute(
            "SELECT d.action, d.reason, d.tally FROM procedure_decisions d JOIN procedure_runs r ON r.id = d.run_id "
            "WHERE r.number = %s AND d.stage = 'commission'", (number,)).fetchone()
        votes = conn.execute(
            "SELECT v.member_iin, v.vote, v.reason FROM commission_votes v JOIN procedure_runs r ON r.id = v.run_id "
            "WHERE r.number = %s ORDER BY v.id", (number,)).fetchall()
    assert [tuple(v) for v in votes] == [(ui.OFFICER, "approve", None), (CHAIR, "refuse", reason)]
    assert (action, stored) == ("refuse", reason)
    assert (tally["for"], tally["against"], tally["tie_broken_by_chair"]) == (1, 1, True)
