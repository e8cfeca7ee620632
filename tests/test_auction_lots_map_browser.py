"""Auction lots on the public map (viewer.js, the catalog layer `auction-lots` from the tiles), in a
real browser (Debian's Chromium driven by Playwright) against the real app: the published and open
lots are drawn (a closed one is not), the panel has their section and legend in the page's language
and after a language switch, a click on a lot shows its number and figures, the switch hides it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cadastre import bidding
from geoservice.kernel import clock
from tests.applicants import programme_database
from tests.test_bidding import make_auction
from tests.test_cabinet_applications_browser import live  # noqa: F401 - fixture
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

NEEDS_CHROMIUM = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed (make system installs it)")


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_lots_map") as url:
        yield url


@pytest.fixture(scope="module")
def lots(app_db: str) -> dict[str, str]:
    """A published lot at 70.2–70.3 E, an open one at 70.0–70.1 E (48.0–48.1 N), a closed one."""
    with psycopg.connect(app_db) as conn:
        published = make_auction(conn, status="published")
        # Starting tomorrow (the server's ticker would fail it now: nobody registered).
        conn.execute("UPDATE auctions SET geom = ST_Multi(ST_MakeEnvelope(70.2, 48, 70.3, 48.1, 4326)), "
                     "starts_at = clock_timestamp() + interval '1 day', "
                     "ends_at = clock_timestamp() + interval '2 days' WHERE id = %s", (published,))
        opened = make_auction(conn)
        closed = make_auction(conn, ends_in=timedelta(seconds=-1))
        conn.commit()
        assert closed in bidding.close_due(conn, clock.now())
        numbers = dict(conn.execute("SELECT status, number FROM auctions WHERE id = ANY(%s)",
                                    ([published, opened, closed],)).fetchall())
    return numbers


@NEEDS_CHROMIUM
def test_the_lots_are_a_layer_of_the_public_map(live: str, lots: dict[str, str]):  # noqa: F811 - fixture
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{live}/?lang=kk#map=9/48.05/70.15")
            section = page.locator('[data-group="auction-lots"]')
            expect(section).to_contain_text("Аукцион лоттары")
            expect(section).to_contain_text("Сауда жүріп жатыр")
            page.wait_for_function("() => window.geoservice.idle && window.map.loaded()", timeout=30_000)
            # Published + open from the layer's tiles; not the closed one.
            drawn = page.evaluate("() => [...new Set(window.map.queryRenderedFeatures({ layers: "
                                  "['auction-lots-fill'] }).map((f) => f.properties.id))].sort()")
            assert drawn == sorted([lots["published"], lots["open"]])
            # A click inside the open lot: its popup, with its number and bonus.
            x, y = page.evaluate("() => { const p = window.map.project([70.05, 48.05]); return [p.x, p.y]; }")
            page.locator("#map canvas").click(position={"x": x, "y": y})
            popup = page.locator('.maplibregl-popup section[data-layer="auction-lots"]')
            expect(popup).to_contain_text(lots["open"])
            expect(popup).to_contain_text("1000000.00")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "auction-lots-map.png"))
            # Another language: the section follows, the layer stays on the map.
            page.evaluate("() => window.geoservice.setLang('ru')")
            expect(section).to_contain_text("Лоты аукционов")
            expect(section).to_contain_text("Объявлен (регистрация)")
            assert page.evaluate("() => Boolean(window.map.getLayer('auction-lots-fill'))")
            # The switch hides it.
            section.locator("input[type=checkbox]").uncheck()
            assert page.evaluate("() => window.map.getLayoutProperty('auction-lots-fill', 'visibility')") == "none"
        finally:
            browser.close()
