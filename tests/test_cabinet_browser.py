"""The cabinet page in a real browser (Debian's Chromium driven by Playwright) against the real
app: the sign-in screen (NCALayer is not running here, so it explains that), development sign-in
by a one-time link, the profile and a notification in two languages, marking it read, contacts,
signing out."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cadastre import accounts
from cadastre.demo import load_people
from cadastre.registers import TableRegisters
from geoservice.kernel.settings import PROJECT_ROOT
from geoservice.viewer.cabinet import DOCUMENTS_SCRIPT
from geoservice.viewer.routes import STATIC_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("GEOSERVICE_SCREENSHOT_DIR", PROJECT_ROOT / "var" / "screenshots"))
OFFICER = "880409400785"   # the demo officer (cadastre/eds/pki.py DEMO_PEOPLE)


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[str]:
    """The app under uvicorn with development sign-in on, and the demo people in the register."""
    from geoservice.kernel.settings import get_settings
    from tests.live import live_server

    with psycopg.connect(database_url) as conn:
        load_people(conn)
        conn.commit()
    os.environ["GEOSERVICE_DEMO"] = "1"
    try:
        with live_server() as url:
            yield url
    finally:
        os.environ.pop("GEOSERVICE_DEMO", None)
        get_settings.cache_clear()


def sign_in_link(database_url: str, base: str, iin: str) -> str:
    """A one-time development sign-in link of the person on the live server ``base``."""
    with psycopg.connect(database_url) as conn:
        token = accounts.create_demo_link(conn, TableRegisters(conn), iin, None, lifetime=timedelta(minutes=5))
        conn.commit()
    return f"{base}/cabinet/demo-sign-in?token={token}"


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_cabinet_in_a_browser(live: str, database_url: str):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            # Not signed in: the sign-in screen; NCALayer does not answer here, and the page says so.
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            expect(page.locator("#signin")).to_be_visible()
            expect(page.locator("#profile")).to_be_hidden()
            expect(page.locator("#signin-button")).to_have_text("Sign in with NCALayer")
            page.click("#signin-button")
            expect(page.locator("#signin-status")).to_contain_text("NCALayer is not running on this computer",
                                                                     timeout=15_000)
            page.click("#langs [data-lang=ru]")
            expect(page.locator("#signin-button")).to_have_text("Войти через NCALayer")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-signin.png"))

            # The development link signs in and lands in the cabinet (the page keeps Russian).
            page.goto(sign_in_link(database_url, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("body[data-ready=true]")
            expect(page.locator("#profile")).to_be_visible()
            expect(page.locator("#profile-fields")).to_contain_text(OFFICER)
            expect(page.locator("#profile-fields")).to_contain_text("ОМАРОВА ГҮЛНАР")
            expect(page.locator("#profile-fields")).to_contain_text("сотрудник органа")
            expect(page.locator("#profile-title")).to_have_text("Профиль")
            notice = page.locator("#notification-list li").first
            expect(notice).to_contain_text("Добро пожаловать в кабинет")
            expect(page.locator("#unread")).to_have_text("1")
            # Only a section whose script is installed shows.
            documents = (STATIC_DIR / DOCUMENTS_SCRIPT).is_file()
            assert page.locator("section#documents").count() == (1 if documents else 0)

            # Another language: the same profile and notification, in Kazakh.
            page.click("#langs [data-lang=kk]")
            expect(page.locator("#profile-title")).to_have_text("Профиль")
            expect(page.locator("#profile-fields")).to_contain_text("ЖСН")
            expect(page.locator("#profile-fields")).to_contain_text("органның қызметкері")
            expect(page.locator("#profile-fields")).to_contain_text("Қатты пайдалы қазбалар жөніндегі уәкілетті орган")
            expect(notice).to_contain_text("Кабинетке қош келдіңіз")
            expect(page.locator("#notifications-title")).to_have_text("Хабарламалар")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-kk.png"), full_page=True)

            # Read: the count in the header goes.
            notice.locator(".read-button").click()
            expect(page.locator("#unread")).to_be_hidden()
            expect(notice).to_have_class("read")

            # Contacts: a bad phone is refused in the page's language, a good one kept.
            page.fill("#email", "omarova@example.kz")
            page.fill("#phone", "12")
            page.click("#contacts-save")
            expect(page.locator("#contacts-status")).to_contain_text("телефон нөмірі емес")
            page.fill("#phone", "+7 701 111 22 33")
            page.click("#contacts-save")
            expect(page.locator("#contacts-status")).to_have_text("Сақталды")
            expect(page.locator("#phone")).to_have_value("+77011112233")

            # The language choice is kept (as the map's), in English after a reload.
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            expect(notice).to_contain_text("Welcome to the cabinet")
            expect(page.locator("#email")).to_have_value("omarova@example.kz")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-en.png"), full_page=True)

            page.click("#logout")
            expect(page.locator("#signin")).to_be_visible()
            expect(page.locator("#profile")).to_be_hidden()
            assert page.context.cookies() == [] or all(c["name"] != "gs_session" for c in page.context.cookies())
        finally:
            browser.close()
    assert problems == []
