"""A whole application in a real browser (Debian's Chromium driven by Playwright) against the
real app with development sign-in and the development signer on (GEOSERVICE_DEMO), on a database
of this module's own with open programme areas and the demo people: the demo applicant signs in
by a one-time link, checks a parcel of blocks, signs (the demo signer: no NCALayer here) and
files, and sees the number; the demo officer signs in, finds it in the queue and approves it
stage by stage with signed decisions to the end; the open registry then lists the licence."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cadastre import accounts, granting
from cadastre.demo import load_people
from cadastre.registers import TableRegisters
from geoservice.kernel.settings import get_settings
from tests.applicants import APPROVAL, FCFS_AREA, programme_database, square
from tests.live import live_server
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

APPLICANT = "900315300123"  # АХМЕТОВ СЕРІК (cadastre/eds/pki.py DEMO_PEOPLE)
OFFICER = "880409400785"    # ОМАРОВА ГҮЛНАР, officer of the authority for solid minerals


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_ui9") as url:
        yield url


@pytest.fixture(scope="module")
def live(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under uvicorn on this module's database, demo on, the demo PKI under its var dir
    (made there and trusted, as `geoservice demo load` does)."""

    var_dir = Path(tmp_path_factory.mktemp("ui9-var"))
    with psycopg.connect(app_db) as conn:
        load_people(conn, var_dir / "demo-pki")
        conn.commit()
    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), database_url=app_db, demo=True, var_dir=var_dir)
    with live_server(settings) as url:
        yield url


def _link(app_db: str, base: str, iin: str) -> str:
    with psycopg.connect(app_db) as conn:
        token = accounts.create_demo_link(conn, TableRegisters(conn), iin, None, lifetime=timedelta(minutes=5))
        conn.commit()
    return f"{base}/cabinet/demo-sign-in?token={token}"


def sign_out(page: Any) -> None:
    """Sign out and wait until it is done: a sign-out POST still in flight when the next person's
    link is opened would end that person's new session (a flaky test in CI, stop 16)."""
    from playwright.sync_api import expect

    page.click("#logout")
    expect(page.locator("#signin")).to_be_visible()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_file_approve_and_see_the_licence(live: str, app_db: str):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    codes = square(FCFS_AREA, 3, 3, 2)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            # The applicant: signed in by the development link; no workbench for an applicant.
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#applications[data-ready=true]")
            expect(page.locator("#applications")).to_be_visible()
            expect(page.locator("#workbench")).to_be_hidden()
            expect(page.locator("#applications h2")).to_have_text("My applications")
            expect(page.locator("#applications .app-empty")).to_have_text("No applications yet.")

            # A parcel of four blocks in the open area: the check finds nothing against it.
            page.fill("#app-blocks", "; ".join(codes))
            page.select_option("#app-mineral", "gold")
            page.click("#app-check")
            expect(page.locator("#app-check-result")).to_contain_text("The parcel can be filed for")
            expect(page.locator("#app-check-result")).to_contain_text("blocks: 4")
            # One outside the programme: the check names the refusal.
            page.fill("#app-blocks", "L-43-63-(10а-5б-14)")
            page.click("#app-check")
            expect(page.locator("#app-check-result")).to_contain_text("The parcel has reasons for refusal")
            expect(page.locator("#app-check-result li.refusal")).not_to_have_count(0)

            # Sign (the demo signer over the RFC 8785 JSON made in the page) and file.
            page.fill("#app-blocks", "; ".join(codes))
            page.click("#app-file")
            filed = page.locator("#app-filed")
            expect(filed).to_be_visible(timeout=20_000)
            number = filed.get_attribute("data-number")
            assert number and number.startswith("APP-"), page.locator("#applications").inner_text()
            expect(filed).to_contain_text("accepted")
            expect(page.locator(f"#app-list tr[data-number='{number}'] .status")).to_have_text("accepted")
            expect(page.locator(f"#app-list tr[data-number='{number}'] .stage")).not_to_be_empty()
            page.screenshot(path=str(SCREENSHOTS / "cabinet-applications.png"), full_page=True)

            # The same in Russian, as the page's language switch asks.
            page.click("#langs [data-lang=ru]")
            expect(page.locator("#applications h2")).to_have_text("Мои заявления")
            expect(page.locator(f"#app-list tr[data-number='{number}'] .status")).to_have_text("принято")
            page.click("#langs [data-lang=en]")

            # The officer: the application waits in the queue; every stage approved in the page.
            page.click("#logout")
            expect(page.locator("#signin")).to_be_visible()
            expect(page.locator("#applications")).to_be_hidden()
            page.goto(_link(app_db, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#workbench[data-ready=true]")
            expect(page.locator("#workbench")).to_be_visible()
            row = page.locator(f"#wb-queue tr[data-number='{number}']")
            expect(row).to_be_visible()
            row.locator(".wb-open").click()
            for stage, action in APPROVAL:
                expect(page.locator("#wb-stage")).to_have_attribute("data-stage", stage, timeout=20_000)
                page.locator(f"#wb-run .wb-actions button[data-action={action}]").click()
                expect(page.locator("#wb-status")).to_have_class("ok", timeout=20_000)
            expect(page.locator("#wb-finished")).to_contain_text("Procedure finished: approved")
            expect(page.locator(f"#wb-queue tr[data-number='{number}']")).to_have_count(0)
            assert page.locator("#wb-steps li").count() == len(APPROVAL)
            page.screenshot(path=str(SCREENSHOTS / "cabinet-workbench.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []

    # The open registry lists the licence the approval issued, for these blocks.
    licence_number = granting.licence_number(number)
    listed = _get(f"{live}/api/licences")
    assert licence_number in json.dumps(listed, ensure_ascii=False)
    licence = _get(f"{live}/api/licences/{licence_number}")
    assert (licence["holder"]["iin"], licence["source"], licence["status"]) == (APPLICANT, number, "active")
    assert sorted(licence["blocks"]) == sorted(codes)


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_the_pages_canonical_json_is_rfc8785(live: str):
    """The page's canonicaliser (cabinet-sign.js) gives the server's rfc8785.dumps bytes on keys
    that sort differently by code point and by UTF-16 unit, non-ASCII, escapes and nesting."""
    import rfc8785
    from playwright.sync_api import sync_playwright

    value = {"parcel": {"blocks": "L-43-63-(10а-5б-14,15)"}, "ж": 1, "z": [None, True, False, 0, -1.5, 1e21],
             "\U0001f600": "emoji key", "\uff61": "halfwidth key", "a\u0000b": "tab\there \"q\" \\ \u2028",
             "reason": None, "Ә": {"b": [], "a": {}}, "": "empty key"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            got = page.evaluate("""async (value) => {
                const m = await import('/viewer/static/cabinet-sign.js');
                return m.utf8Base64(m.canonical(value));
            }""", value)
        finally:
            browser.close()
    assert base64.b64decode(got) == rfc8785.dumps(value)
