"""The auction hall in a real browser: two demo bidders, each in their own browser context
(Debian's Chromium driven by Playwright), signed in by development links, bid live against the
real app (uvicorn, the LiveHub's ticker opening and closing the lot) with the development signer.
Each sees the other's bid arrive over the WebSocket with the leader's anonymous number, the
countdown runs, a bid below the step is refused with its reason, and the person's own bids are
listed. Once the lot ends, the protocol is made from the journal and `verify` agrees with it."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cadastre import auction_protocol
from cadastre.auctions import Defaults
from cadastre.demo import load_people
from cadastre.demo_auction import make_demo_auction
from geoservice.kernel import clock
from geoservice.kernel.settings import get_settings
from tests.applicants import FCFS_AREA, programme_database, square
from tests.live import live_server
from tests.test_cabinet_applications_browser import _link
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

FIRST = "900315300123"   # АХМЕТОВ СЕРІК (cadastre/demo_auction.py BIDDERS)
SECOND = "850721400341"  # СӘТБАЕВА ӘЙГЕРІМ
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                reason="Debian's chromium is not installed (make system installs it)")


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_hall") as url:
        yield url


@pytest.fixture(scope="module")
def hall(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """The app on this module's database with the demo on, and a demo lot of four blocks that
    opens two seconds after it is made, its two bidders registered and paid (as `geoservice demo
    auction` does). Yields (base URL, auction id, var dir)."""

    var_dir = Path(tmp_path_factory.mktemp("hall-var"))
    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), database_url=app_db, demo=True, var_dir=var_dir)
    with psycopg.connect(app_db) as conn:
        load_people(conn, var_dir / "demo-pki")
        make_demo_auction(conn, var_dir / "demo-pki", defaults=Defaults.from_settings(settings), now=clock.now(),
                          starts_in=timedelta(seconds=2), grid_datum=settings.grid_datum,
                          codes=square(FCFS_AREA, 20, 20, 2))
        auction_protocol.trust_demo_operator(conn, var_dir / "operator", actor="test")
        row = conn.execute("SELECT max(id) FROM auctions").fetchone()
        conn.commit()
    assert row is not None
    with live_server(settings) as url:
        yield url, int(row[0]), var_dir


def test_two_bidders_bid_live_and_the_protocol_agrees(hall: tuple[str, int, Path], app_db: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, auction, _ = hall
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages = {}
            for iin, lang in ((FIRST, "en"), (SECOND, "ru")):
                context = browser.new_context(viewport={"width": 1100, "height": 900})
                page = context.new_page()
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.goto(f"{base}/cabinet?lang={lang}")
                page.wait_for_selector("body[data-ready=true]")
                page.goto(_link(app_db, base, iin))
                page.wait_for_url(f"{base}/cabinet")
                page.wait_for_selector("#auctions[data-ready=true]")
                page.click(f"#langs [data-lang={lang}]")
                pages[iin] = page
            first, second = pages[FIRST], pages[SECOND]

            # The list: the lot with its figures, the person's own anonymous number.
            row = first.locator("#auction-list tbody tr").first
            expect(row).to_contain_text("Your number")
            expect(second.locator("#auctions h2")).to_have_text("Аукционы")
            first.click("#auction-list tbody tr .lot-enter")
            second.click("#auction-list tbody tr .lot-enter")
            for page in (first, second):
                expect(page.locator("#hall")).to_have_attribute("data-status", "open", timeout=15_000)
                expect(page.locator("#hall")).to_have_attribute("data-online", "true")
                expect(page.locator("#hall-submit")).to_be_enabled()
            you_first = first.locator("#hall-you").inner_text()
            you_second = second.locator("#hall-you").inner_text()
            assert you_first != you_second

            # The first bids the minimum (the starting bonus): both halls see it and its leader.
            starting = first.locator("#hall-bonus").inner_text()
            first.click("#hall-submit")
            expect(first.locator("#hall-note")).to_contain_text("Accepted", timeout=15_000)
            expect(first.locator("#hall-leader")).to_contain_text("(you)")
            expect(second.locator("#hall-leader")).to_have_text(you_first)
            expect(first.locator("#hall-history li.accepted")).to_have_count(1)

            # The second tries less than the step above it: refused with the reason, in Russian.
            second.fill("#hall-amount", "25000001")
            second.click("#hall-submit")
            expect(second.locator("#hall-note")).to_contain_text("Отклонена", timeout=15_000)
            expect(second.locator("#hall-leader")).to_have_text(you_first)
            # Its own rejected bid reaches the history from the journal's event (in a state frame).
            expect(second.locator("#hall-history li.rejected")).to_have_count(1)
            # Then the minimum the page offers (current bonus + step): it leads, both see it.
            second.evaluate("() => { const h = window.geoserviceAuctions; "
                            "h.hall.amount = ''; h.receive(h.hall, h.hall.state); }")
            second.click("#hall-submit")
            expect(second.locator("#hall-note")).to_contain_text("Принята", timeout=15_000)
            expect(second.locator("#hall-leader")).to_contain_text("(вы)")
            expect(first.locator("#hall-leader")).to_have_text(you_second)
            assert first.locator("#hall-bonus").inner_text() != starting
            assert first.locator("#hall-left").inner_text().count(":") >= 1
            first.screenshot(path=str(SCREENSHOTS / "auction-hall-first.png"), full_page=True)
            second.screenshot(path=str(SCREENSHOTS / "auction-hall-second.png"), full_page=True)

            # Time passes (the lot's schedule moved back so that it ends now, as the owner may in a
            # test): the ticker closes the lot and both halls show it closed.
            with psycopg.connect(app_db) as conn:
                conn.execute("UPDATE auctions SET starts_at = clock_timestamp() - duration, "
                             "ends_at = clock_timestamp() WHERE id = %s", (auction,))
                conn.commit()
            for page in (first, second):
                expect(page.locator("#hall")).to_have_attribute("data-status", "closed", timeout=15_000)
                expect(page.locator("#hall-submit")).to_be_disabled()
        finally:
            browser.close()
    assert problems == []

    # The protocol: made from the journal by the ticker; verify recomputes and agrees.
    deadline = time.monotonic() + 30
    with psycopg.connect(app_db) as conn:
        while auction_protocol.stored(conn, auction) is None:
            assert time.monotonic() < deadline, "no protocol"
            time.sleep(0.2)
        report = auction_protocol.verify(conn, auction)
        winner = conn.execute("SELECT winner, final_bonus FROM auctions WHERE id = %s", (auction,)).fetchone()
    assert report.ok, report.problems
    assert winner is not None and f"№ {winner[0]}" == you_second
