"""A holder's report in a real browser (Debian's Chromium driven by Playwright) against the real
app with development sign-in and the development signer on: the demo applicant, holder of a
licence, uploads an attachment, signs (the demo signer, no NCALayer) and submits a report of
work and spend in the cabinet and sees it under review; the demo officer accepts it in the
workbench with a signed decision; the holder then sees it accepted, and the obligation is met."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cadastre import licences
from cadastre.demo import load_people
from geoservice.kernel.settings import get_settings
from tests.applicants import FCFS_AREA, programme_database, square
from tests.live import live_server
from tests.test_cabinet_applications_browser import APPLICANT, OFFICER, _link, sign_out
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

LICENCE = "LIC-UI-REPORTS-1"


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_ui11r") as url:
        yield url


@pytest.fixture(scope="module")
def live(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:

    var_dir = Path(tmp_path_factory.mktemp("ui11r-var"))
    with psycopg.connect(app_db) as conn:
        load_people(conn, var_dir / "demo-pki")
        licences.issue_licence(conn, number=LICENCE, holder={"iin": APPLICANT, "name": "АХМЕТОВ СЕРІК"},
                               kind="exploration", mineral="gold", blocks=square(FCFS_AREA, 10, 10, 2),
                               issued_on=dt.date(2022, 1, 10), term_until=dt.date(2028, 1, 9), source="import",
                               basis="test licence", actor="test")
        conn.commit()
    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), database_url=app_db, demo=True, var_dir=var_dir)
    with live_server(settings) as url:
        yield url


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_the_holder_submits_a_signed_report_and_the_officer_accepts_it(live: str, app_db: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    scan = tmp_path / "work-report-2024.pdf"
    scan.write_bytes(b"%PDF-1.4 annual work report")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1200})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#reports[data-ready=true]")
            expect(page.locator("#reports h2")).to_have_text("Reports on licences")
            expect(page.locator("#report-licence")).to_have_value(LICENCE)
            page.fill("#report-year", "2024")
            page.fill("#report-spend", "12 500 000,75")
            page.fill("#report-summary", "Mapping 1:50 000 and 6 trenches")
            page.set_input_files("#report-doc-file", str(scan))
            page.click("#report-doc-upload")
            expect(page.locator("#report-status")).to_have_class("ok", timeout=20_000)
            expect(page.locator("#report-docs input[name=report-doc]:checked")).to_have_count(1)
            page.click("#report-submit")
            expect(page.locator("#report-status")).to_contain_text("taken for review", timeout=20_000)
            row = page.locator(f".report-list[data-licence='{LICENCE}'] tr[data-status=submitted]")
            expect(row).to_have_count(1)
            number = row.get_attribute("data-number")
            assert number and number.startswith("APP-")
            expect(row.locator(".status")).to_have_text("under review")
            page.click("#langs [data-lang=kk]")
            expect(page.locator("#reports h2")).to_have_text("Лицензиялар бойынша есептер")
            page.click("#langs [data-lang=en]")
            expect(row.locator(".stage")).to_contain_text("Review the report")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-reports.png"), full_page=True)

            sign_out(page)
            page.goto(_link(app_db, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#workbench[data-ready=true]")
            expect(page.locator("#reports")).to_be_hidden()  # the officer holds no licence
            item = page.locator(f"#wb-queue tr[data-number='{number}']")
            expect(item).to_be_visible()
            item.locator(".wb-open").click()
            expect(page.locator("#wb-stage")).to_have_attribute("data-stage", "review", timeout=20_000)
            page.locator("#wb-run .wb-actions button[data-action=accept]").click()
            expect(page.locator("#wb-status")).to_have_class("ok", timeout=20_000)

            sign_out(page)
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#reports[data-ready=true]")
            expect(page.locator(f".report-list tr[data-number='{number}'] .status")).to_have_text("accepted")
        finally:
            browser.close()
    assert problems == []
    with psycopg.connect(app_db) as conn:
        assert conn.execute("SELECT spend_kzt::text FROM obligation_reports").fetchall() == [("12500000.75",)]
        assert conn.execute("SELECT status, opened_basis FROM obligations WHERE number = %s AND key = "
                            "'work_report:2024' AND valid_to IS NULL", (LICENCE,)).fetchone() == ("met", number)
