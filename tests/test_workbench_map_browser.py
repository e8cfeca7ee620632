"""The officer's workbench draws the chosen application's parcel on a map (issue 9), in a real
browser against the real app, on the cabinet browser tests' live server and demo people: two
applicants file for overlapping blocks in an area's opening month (both accepted, equal priority:
a lot), the demo officer opens the first; the map's canvas appears, its parcel source holds the
parcel's blocks and its conflicts source the other application and the lot, with geometries."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from layers.grid import blocks_geometry
from tests import test_cabinet_applications_browser as ui
from tests.applicants import WINDOW_AREA, application, square
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

# The cabinet browser tests' fixtures: a database of this module's own with open programme areas
# and the demo people, and the app under uvicorn with the demo on.
app_db, live = ui.app_db, ui.live
HEAD = "850721400341"  # СӘТБАЕВА АЙГҮЛ, a second demo applicant (cadastre/eds/pki.py DEMO_PEOPLE)

FILE = """async (app) => {
    const { signCanonical } = await import('/viewer/static/cabinet-sign.js');
    const signed = await signCanonical(app, 'en');
    const r = await fetch('/api/applications', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ application: app, signature: signed.cms }) });
    return [r.status, await r.json()];
}"""


def _file_as(page: Any, base: str, db: str, iin: str, codes: list[str]) -> str:
    """Sign in by the development link and file (signed by the demo signer in the page)."""
    page.goto(ui._link(db, base, iin))
    page.wait_for_url(f"{base}/cabinet")
    page.wait_for_selector("#applications[data-ready=true]")
    status, body = page.evaluate(FILE, application(codes, iin))
    assert status == 201 and body["status"] == "accepted", body
    page.click("#logout")
    page.wait_for_selector("#signin:not([hidden])")
    return str(body["number"])


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_the_officer_sees_the_parcel_and_its_conflicts_on_a_map(live: str, app_db: str):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    mine, theirs = square(WINDOW_AREA, 2, 2, 2), square(WINDOW_AREA, 3, 2, 2)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            number = _file_as(page, live, app_db, ui.APPLICANT, mine)
            other = _file_as(page, live, app_db, HEAD, theirs)

            page.goto(ui._link(app_db, live, ui.OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#workbench[data-ready=true]")
            page.locator(f"#wb-queue tr[data-number='{number}'] .wb-open").click()
            expect(page.locator("#wb-parcel")).to_have_attribute("data-number", number, timeout=20_000)
            page.wait_for_selector("#wb-map[data-ready=true]", timeout=20_000)
            expect(page.locator("#wb-map canvas.maplibregl-canvas")).to_be_visible()
            data = page.evaluate("""() => {
                const map = window.geoserviceWorkbench.parcelMap.map;
                return { parcel: map.getSource('wb-parcel').serialize().data,
                         conflicts: map.getSource('wb-conflicts').serialize().data,
                         layers: map.getStyle().layers.map((l) => l['source-layer'] || l.source),
                         loaded: map.isStyleLoaded() };
            }""")
            page.screenshot(path=str(SCREENSHOTS / "cabinet-workbench-map.png"), full_page=True)
            # The conflicts are listed under the map in the page's language.
            expect(page.locator("#wb-conflicts li[data-kind=application]")).to_contain_text(other)
        finally:
            browser.close()
    assert problems == []

    (feature,) = data["parcel"]["features"]
    assert feature["properties"]["number"] == number
    expected = blocks_geometry(mine)
    assert shape(feature["geometry"]).symmetric_difference(expected).area < 1e-4 * expected.area
    conflicts = {(f["properties"]["kind"], f["properties"]["id"]): shape(f["geometry"])
                 for f in data["conflicts"]["features"]}
    assert ("application", number) not in conflicts  # its own claim is not a conflict
    shared = blocks_geometry(sorted(set(mine) & set(theirs)))
    assert conflicts[("application", other)].symmetric_difference(shared).area < 1e-4 * shared.area
    assert any(kind == "lot" for kind, _ in conflicts)
    # Over the public map: blocks, licences and applied-for blocks come from the project's style.
    assert {"blocks", "licences", "applied-blocks", "wb-parcel", "wb-conflicts"} <= set(data["layers"])
