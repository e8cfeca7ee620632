"""Picking blocks on the public map and filing them, in a real browser (Debian's Chromium driven by
Playwright) against the real app with the demo on, on a database of this module's own with open
programme areas, the demo people and a small block grid over the first area: a click toggles a
block, Shift+drag adds a box, the parcel check reruns by itself; "File an application" opens the
cabinet's form prefilled (through the demo sign-in's redirect); a document uploaded in the form
ends up in the stored application; an application the officer returns is sent back from the page.
Also, without a browser: a document that is not the applicant's is refused with its reason."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import rfc8785

from cadastre import workbench
from tests.applicants import FCFS_AREA, application, programme_database, session_token, square
from tests.helpers import switch_map_language
from tests.test_cabinet_applications_browser import APPLICANT, OFFICER, _link, live  # noqa: F401 - fixture
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

NEEDS_CHROMIUM = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed (make system installs it)")
# The grid only around the first area (70°–70.5° E, 48°–48.5° N): the map's blocks come from it.
GRID_BBOX = (69.95, 47.95, 70.25, 48.2)
RETURN_REASON = "The geological report is missing"


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    """The applications browser test's database (its `live` fixture serves this one) with a grid."""
    from layers.grid_build import build_grid

    with programme_database(database_url, "geoservice_pick") as url:
        build_grid(url, bbox=GRID_BBOX, progress=False)
        yield url


def _centre(dx: int, dy: int) -> tuple[float, float]:
    """Longitude and latitude of the centre of block (dx, dy) of the first area (tests/applicants.py square)."""
    _, x0, y0 = FCFS_AREA
    return (x0 + dx + 0.5) / 60, (y0 + dy + 0.5) / 60


def _bearer(app_db: str, iin: str) -> dict[str, str]:
    with psycopg.connect(app_db) as conn:
        token = session_token(conn, iin)
        conn.commit()
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def _demo_signed(client: httpx.Client, headers: dict[str, str], value: Any) -> str:
    """A detached CMS over the RFC 8785 JSON of ``value`` by the demo signer, as the page signs."""
    r = client.post("/api/demo/sign", headers=headers, json={"data": base64.b64encode(rfc8785.dumps(value)).decode()})
    assert r.status_code == 200, r.text
    return str(r.json()["cms"])


def _upload(client: httpx.Client, headers: dict[str, str], name: str) -> int:
    r = client.post("/api/documents", headers=headers, data={"access_level": "confidential"},
                    files={"file": (name, b"%PDF-1.4\n% a test document\n", "application/pdf")})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_document_must_be_the_applicants_own(live: str, app_db: str):  # noqa: F811 - fixture
    mine, officers = _bearer(app_db, APPLICANT), _bearer(app_db, OFFICER)
    with httpx.Client(base_url=live, timeout=30) as client:
        own, foreign = _upload(client, mine, "own.pdf"), _upload(client, officers, "foreign.pdf")
        # Another person's document: refused, the reason naming it (in the request's language;
        # tests/test_structure.py holds every reason to kk, ru and en).
        app = application(square(FCFS_AREA, 20, 20, 1), APPLICANT, documents=[own, foreign])
        r = client.post("/api/applications", headers={**mine, "Accept-Language": "kk"},
                        json={"application": app, "signature": _demo_signed(client, mine, app)})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "refused" and not client.get(
            f"/api/applications/{body['number']}", headers=mine).json()["claims"]
        (reason,) = body["reasons"]
        assert (reason["code"], reason["field"]) == ("reason.document_not_found", "documents")
        assert str(foreign) in reason["message"] and "тиесілі емес" in reason["message"], reason
        # Their own document alone: accepted, and stored with the application.
        app = application(square(FCFS_AREA, 20, 20, 1), APPLICANT, documents=[own])
        r = client.post("/api/applications", headers=mine,
                        json={"application": app, "signature": _demo_signed(client, mine, app)})
        assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
        stored = client.get(f"/api/applications/{r.json()['number']}", headers=mine).json()
        assert stored["documents"] == [own]


def _wait_idle(page: Any) -> None:
    page.wait_for_function("() => window.geoservice && window.geoservice.idle === true && window.map.loaded()"
                           " && window.geoservice.parcels", timeout=60_000)


def _point(page: Any, dx: int, dy: int) -> tuple[float, float]:
    """The page coordinates of block (dx, dy)'s centre."""
    lon, lat = _centre(dx, dy)
    x, y = page.evaluate("([lon, lat]) => { const p = window.map.project([lon, lat]); return [p.x, p.y]; }", [lon, lat])
    box = page.locator("#map canvas").bounding_box()
    return box["x"] + x, box["y"] + y


@NEEDS_CHROMIUM
def test_pick_blocks_on_the_map_and_file_them(live: str, app_db: str):  # noqa: F811 - fixture
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    clicked, boxed = square(FCFS_AREA, 3, 3, 1), square(FCFS_AREA, 3, 5, 3, 2)
    expected = sorted(clicked + boxed)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            lon, lat = _centre(4, 5)
            page.goto(f"{live}/?lang=en#map=11.6/{lat:.5f}/{lon:.5f}")
            _wait_idle(page)
            # Not picking: a click on a block opens its popup, as before.
            page.mouse.click(*_point(page, 3, 3))
            expect(page.locator(".maplibregl-popup")).to_be_visible()
            expect(page.locator("#parcel-file")).to_be_hidden()

            # Picking needs the grid drawn: a switched-off grid comes back on.
            page.uncheck("[data-layer-toggle=blocks]")
            page.click("#parcel-pick")
            expect(page.locator("#parcel-pick")).to_have_attribute("aria-pressed", "true")
            expect(page.locator("[data-layer-toggle=blocks]")).to_be_checked()
            _wait_idle(page)
            expect(page.locator("#parcel-pick-hint")).to_have_text("Picking: click a block, Shift+drag for a box")
            expect(page.locator(".maplibregl-popup")).to_have_count(0)
            # A click picks a block, a second click on another adds it, a third on it drops it again.
            page.mouse.click(*_point(page, 3, 3))
            expect(page.locator("#parcel-input")).to_have_value(clicked[0])
            page.mouse.click(*_point(page, 4, 3))
            expect(page.locator("#parcel-input")).to_have_value(f"{clicked[0]}; {square(FCFS_AREA, 4, 3, 1)[0]}")
            page.mouse.click(*_point(page, 4, 3))
            expect(page.locator("#parcel-input")).to_have_value(clicked[0])
            expect(page.locator(".maplibregl-popup")).to_have_count(0)   # no popups while picking
            expect(page.locator("#parcel-result .verdict")).to_have_text("No reason to refuse")
            expect(page.locator("#parcel-result")).to_contain_text("Blocks: 1")

            # Shift+drag from one block's centre to another's adds the 3 x 2 blocks between them.
            page.keyboard.down("Shift")
            page.mouse.move(*_point(page, 3, 5))
            page.mouse.down()
            page.mouse.move(*_point(page, 5, 6), steps=8)
            page.mouse.up()
            page.keyboard.up("Shift")
            assert sorted(page.evaluate("window.geoservice.parcels.picked()")) == expected
            # The check reruns by itself (debounced) for the whole set.
            expect(page.locator("#parcel-result")).to_contain_text("Blocks: 7")
            expect(page.locator("#parcel-result .verdict")).to_have_text("No reason to refuse")
            query = page.locator("#parcel-input").input_value()
            assert sorted(query.split("; ")) == expected
            expect(page.locator("#parcel-result")).to_have_attribute("data-query", query)
            # The picked blocks are drawn from the grid's own tiles.
            drawn = page.evaluate("[...new Set(window.map.queryRenderedFeatures({ layers: ['gs-picked-fill'] })"
                                  ".map((f) => f.properties.code))].sort()")
            assert drawn == expected
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "map-picking.png"))

            # The language follows: the panel's new texts in Kazakh.
            switch_map_language(page, "kk")
            expect(page.locator("#parcel-pick")).to_have_text("Картадан таңдау")
            expect(page.locator("#parcel-file")).to_have_text("Өтінім беру")
            # Waited for to its end (the new style applied): the end of a switch closes a popup
            # opened meanwhile, which the click below expects to see.
            switch_map_language(page, "en")
            _wait_idle(page)
            assert page.evaluate("Boolean(window.map.getLayer('gs-picked-fill'))")   # kept across the style swap

            # Picking off: popups again, the picked set unchanged.
            page.click("#parcel-pick")
            page.mouse.click(*_point(page, 7, 7))
            expect(page.locator(".maplibregl-popup")).to_be_visible()
            assert sorted(page.evaluate("window.geoservice.parcels.picked()")) == expected

            # "File an application": the cabinet's form, prefilled, after the demo sign-in's redirect.
            page.click("#parcel-file")
            page.wait_for_url(f"{live}/cabinet?*")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#applications[data-ready=true]")
            expect(page.locator("#app-from-map")).to_have_text("Blocks taken from the map")
            assert sorted(page.locator("#app-blocks").input_value().split("; ")) == expected
            expect(page.locator("#app-check-result")).to_contain_text("The parcel can be filed for")
            expect(page.locator("#app-check-result")).to_contain_text("blocks: 7")
            # Taken once: a reload shows the form without them.
            page.reload()
            page.wait_for_selector("#applications[data-ready=true]")
            expect(page.locator("#app-from-map")).to_have_count(0)
        finally:
            browser.close()
    assert problems == []


@NEEDS_CHROMIUM
def test_attach_a_document_file_and_resubmit_a_returned_application(live: str, app_db: str,  # noqa: F811
                                                                    tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    codes = square(FCFS_AREA, 12, 12, 2)
    officers = _bearer(app_db, OFFICER)
    with httpx.Client(base_url=live, timeout=30) as client:
        earlier = _upload(client, _bearer(app_db, APPLICANT), "earlier.pdf")
        foreign = _upload(client, officers, "officers.pdf")
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n% the geological report\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#applications[data-ready=true]")
            # The person's own documents only, none chosen; a new one uploaded in the form is chosen.
            expect(page.locator(f"#app-docs .app-doc[data-id='{earlier}'] input")).not_to_be_checked()
            expect(page.locator(f"#app-docs .app-doc[data-id='{foreign}']")).to_have_count(0)
            page.set_input_files("#app-doc-file", str(report))
            page.click("#app-doc-upload")
            expect(page.locator("#app-status")).to_have_text("“report.pdf” uploaded and attached")
            new = page.locator("#app-docs .app-doc", has_text="report.pdf")
            expect(new.locator("input")).to_be_checked()
            uploaded = int(new.get_attribute("data-id") or 0)
            page.fill("#app-blocks", "; ".join(codes))
            page.click("#app-file")
            filed = page.locator("#app-filed")
            expect(filed).to_be_visible(timeout=20_000)
            number = filed.get_attribute("data-number")
            assert number and number.startswith("APP-")
            stored = page.request.get(f"{live}/api/applications/{number}").json()
            assert stored["documents"] == [uploaded]
            assert json.loads(stored["canonical"])["documents"] == [uploaded]   # what was signed

            # The officer returns it with a reason (a signed decision, as the workbench sends it).
            with httpx.Client(base_url=live, timeout=30) as client:
                decision = workbench.decision_payload(number, "register", "return", RETURN_REASON)
                r = client.post(f"/api/applications/{number}/decisions", headers=officers, json={
                    "decision": {k: decision[k] for k in ("stage", "action", "reason")},
                    "signature": _demo_signed(client, officers, decision)})
                assert r.status_code == 200 and r.json()["status"] == "returned", r.text
            page.reload()
            page.wait_for_selector("#applications[data-ready=true]")
            row = page.locator(f"#app-list tr[data-number='{number}']")
            expect(row).to_have_attribute("data-run", "returned")
            expect(row.locator(".status")).to_have_text("returned for revision")
            expect(row.locator(".app-return-reason")).to_have_text(f"Reason for return: {RETURN_REASON}")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "cabinet-resubmit.png"), full_page=True)
            row.locator(".app-resubmit-note").fill("The report is attached")
            row.locator(".app-resubmit").click()
            expect(page.locator("#app-status")).to_have_text(f"Application {number} sent back", timeout=20_000)
            expect(row).to_have_attribute("data-run", "running")
            expect(row.locator(".status")).to_have_text("accepted")
            expect(row.locator(".app-resubmit")).to_have_count(0)
        finally:
            browser.close()
    assert problems == []
    # The owner's signed decision is stored with their comment, and the officer has it again.
    with httpx.Client(base_url=live, timeout=30) as client:
        run = client.get(f"/api/applications/{number}/run", headers=officers).json()
    assert (run["status"], run["stage"]) == ("running", "register")
    last = run["decisions"][-1]
    assert (last["stage"], last["action"], last["reason"], last["signer_iin"]) == (
        "revision", "forward", "The report is attached", APPLICANT)
    assert last["canonical"].encode() == workbench.canonical_decision(number, "revision", "forward",
                                                                      "The report is attached")
