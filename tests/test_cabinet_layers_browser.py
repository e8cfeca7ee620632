"""The cabinet's "layers" section in a real browser (Debian's Chromium driven by Playwright)
against the real app with development sign-in: the demo officer (authority solid-minerals) sees
only the layers their authority writes, checks a file outside Kazakhstan (refused: the server's
detail and where, in Russian), checks and uploads a small GeoJSON (the report's note in Russian),
sees the new version and restores the previous one; a person who writes no layer never sees the
section. A database of the module's own: subsoil-plots versions are read by other modules."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from cadastre import accounts
from cadastre.demo import load_people
from geoservice.kernel.settings import get_settings
from tests.applicants import FCFS_AREA, area_feature, programme_database
from tests.live import live_server
from tests.test_cabinet_applications_browser import APPLICANT, OFFICER, _link, sign_out
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.test_raster_uploads import geotiff

LAYER = "subsoil-plots"
MAP = "geological-maps"
ADMIN = "870827302230"       # ЕСЕНОВ ТИМУР, administrator (cadastre/eds/pki.py DEMO_PEOPLE)
COMMISSION = "830612402012"  # ИСАЕВА МАДИНА, commission member
NEEDS_CHROMIUM = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed (make system installs it)")


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    # Version 1 of subsoil-plots: the programme's two open areas.
    with programme_database(database_url, "geoservice_uilayers") as url:
        yield url


@pytest.fixture(scope="module")
def live(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir = Path(tmp_path_factory.mktemp("uilayers-var"))
    with psycopg.connect(app_db) as conn:
        load_people(conn, var_dir / "demo-pki")
        conn.commit()
    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), database_url=app_db, demo=True, var_dir=var_dir)
    with live_server(settings) as url:
        yield url


def _geojson(path: Path, *features: dict) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return path


def _current(app_db: str) -> int:
    with psycopg.connect(app_db) as conn:
        row = conn.execute("SELECT v.version FROM layer_versions v JOIN layers l ON l.current_version_id = v.id "
                           "WHERE l.id = %s", (LAYER,)).fetchone()
    assert row is not None
    return int(row[0])


@NEEDS_CHROMIUM
def test_an_officer_checks_uploads_and_restores_a_layer(live: str, app_db: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A plot in Paris: the check refuses it, naming the feature.
    paris = area_feature("UI-PARIS", 2 * 60, 48 * 60, date.today())
    bad = _geojson(tmp_path / "paris.geojson", paris)
    # A plot east of the programme's areas, without a name: it takes its key (a report note).
    plot = area_feature("UI-LAYERS-1", FCFS_AREA[1] + 120, FCFS_AREA[2], date.today() - timedelta(days=1))
    del plot["properties"]["name"]
    good = _geojson(tmp_path / "plots.geojson", plot)
    assert _current(app_db) == 1
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(_link(app_db, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#layers[data-ready=true]")
            page.click("#langs [data-lang=ru]")
            expect(page.locator("#layers")).to_be_visible()
            expect(page.locator("#layers h2")).to_have_text("Слои")
            # solid-minerals writes subsoil-plots, geological-studies and the raster layers; not
            # restriction-zones, and nobody uploads the generated block grid.
            layers = page.locator("#layers .ly-layer")
            assert sorted(layers.evaluate_all("ns => ns.map(n => n.dataset.layer)")) == [
                MAP, "geological-studies", "geophysics-gravity", "geophysics-magnetic", LAYER]
            block = page.locator(f".ly-layer[data-layer='{LAYER}']")
            expect(block.locator(".ly-current")).to_contain_text("Версия 1")
            expect(block.locator(".ly-mode")).to_have_value("replace")
            expect(page.locator(".ly-layer[data-layer='geological-maps'] .ly-sheet")).to_have_count(1)

            block.locator(".ly-file").set_input_files(str(bad))
            block.locator(".ly-check").click()
            result = block.locator(".ly-result")
            expect(result).to_have_attribute("data-kind", "error", timeout=20_000)
            expect(result).to_contain_text("за пределами Казахстана")
            expect(result).to_contain_text("объект 1")

            block.locator(".ly-file").set_input_files(str(good))
            block.locator(".ly-check").click()
            expect(result).to_have_attribute("data-kind", "ok", timeout=20_000)
            expect(result.locator(".ly-text")).to_have_text(
                "Проверка пройдена: объектов в файле — 1, ничего не сохранено.")
            expect(result.locator("li[data-code='note.filled_from']")).to_contain_text("взято из атрибута")
            assert _current(app_db) == 1  # a check stores nothing

            # The chosen file stays chosen after the check: "Upload" sends it.
            block.locator(".ly-upload").click()
            expect(result.locator(".ly-text")).to_have_text("Создана версия 2 (объектов: 1).", timeout=20_000)
            versions = block.locator(".ly-versions tbody tr")
            expect(versions).to_have_count(2)
            expect(versions.first).to_have_attribute("data-version", "2")
            expect(versions.first).to_have_attribute("data-current", "true")
            expect(versions.first.locator(".ly-restore")).to_have_count(0)
            expect(block.locator(".ly-current")).to_contain_text("Версия 2")
            assert _current(app_db) == 2

            block.locator(".ly-versions tr[data-version='1'] .ly-restore").click()
            expect(block.locator(".ly-versions tr[data-version='1']")).to_have_attribute(
                "data-current", "true", timeout=20_000)
            expect(result.locator(".ly-text")).to_have_text("Версия 1 снова текущая.")
            expect(block.locator(".ly-current")).to_contain_text("Версия 1")
            expect(block.locator(".ly-versions tr[data-version='2'] .ly-restore")).to_have_count(1)
            page.click("#langs [data-lang=en]")
            expect(page.locator("#layers h2")).to_have_text("Layers")
            expect(block.locator(".ly-check")).to_have_text("Check")
            expect(result.locator(".ly-text")).to_have_text("Version 1 is current again.")  # follows the language
            page.locator("#layers").screenshot(path=str(SCREENSHOTS / "cabinet-layers.png"))

            # A person who writes no layer (an applicant) never sees the section.
            sign_out(page)
            page.goto(_link(app_db, live, APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#layers[data-ready=true]", state="attached")
            expect(page.locator("#profile")).to_be_visible()
            expect(page.locator("#layers")).to_be_hidden()
            expect(page.locator("#layers .ly-layer")).to_have_count(0)
        finally:
            browser.close()
    assert problems == []
    assert _current(app_db) == 1
    with psycopg.connect(app_db) as conn:
        rows = conn.execute("SELECT action, result, version FROM journal WHERE layer_id = %s AND actor LIKE %s "
                            "ORDER BY seq", (LAYER, f"IIN{OFFICER}%")).fetchall()
    assert [r[:2] for r in rows if r[0] == "restore"] == [("restore", "ok")]


@NEEDS_CHROMIUM
def test_an_officer_uploads_map_sheets_and_restores_one(live: str, app_db: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    # A scanned map sheet (8-bit RGB) in UTM 42N over Kazakhstan, its CRS not in the file: the
    # check without the CRS field is refused, naming the file and the field.
    first = geotiff(tmp_path / "sheet-a.tif", bands=3, dtype="uint8", nodata=None, crs=None,
                    origin=(500000.0, 5100000.0), pixel=250.0, width=200, height=150)
    second = geotiff(tmp_path / "sheet-b.tif", bands=3, dtype="uint8", nodata=None, crs="EPSG:32642",
                     origin=(510000.0, 5100000.0), pixel=250.0, width=200, height=150)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(_link(app_db, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#layers[data-ready=true]")
            page.click("#langs [data-lang=ru]")
            block = page.locator(f".ly-layer[data-layer='{MAP}']")
            expect(block.locator(".ly-current")).to_contain_text("Версий пока нет")
            expect(block.locator(".ly-mode")).to_have_count(0)  # no replace/append for a raster layer
            result = block.locator(".ly-result")

            block.locator(".ly-file").set_input_files(str(first))
            block.locator(".ly-sheet").fill("UI-1")
            block.locator(".ly-check").click()
            expect(result).to_have_attribute("data-kind", "error", timeout=20_000)
            expect(result).to_have_attribute("data-code", "upload.no_crs")
            expect(result).to_contain_text("не указана система координат")
            expect(result.locator(".ly-where")).to_have_text("Где: файл sheet-a.tif, поле crs")

            block.locator(".ly-crs").fill("EPSG:32642")
            block.locator(".ly-check").click()
            expect(result).to_have_attribute("data-kind", "ok", timeout=30_000)
            expect(result.locator(".ly-text")).to_have_text(
                "Проверка пройдена: листов 1 (UI-1), ничего не сохранено.")
            expect(block.locator(".ly-no-versions")).to_have_count(1)  # a check stores nothing
            block.locator(".ly-upload").click()
            expect(result.locator(".ly-text")).to_have_text("Создана версия 1 (листов: 1).", timeout=30_000)
            expect(block.locator(".ly-current")).to_contain_text("Показываемые листы: UI-1")
            block.locator(".ly-file").set_input_files(str(second))
            block.locator(".ly-upload").click()
            expect(result.locator(".ly-text")).to_have_text("Создана версия 2 (листов: 1).", timeout=30_000)
            rows = block.locator(".ly-versions tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.first).to_have_attribute("data-current", "true")
            expect(rows.first.locator(".ly-content")).to_have_text("листов: 1: UI-1")

            block.locator(".ly-versions tr[data-version='1'] .ly-restore").click()
            expect(result.locator(".ly-text")).to_have_text("Версия 1 восстановлена: версия 3.", timeout=20_000)
            expect(rows).to_have_count(3)
            expect(rows.first).to_have_attribute("data-version", "3")
            expect(rows.first).to_have_attribute("data-current", "true")
            expect(block.locator(".ly-versions tr[data-version='2']")).to_have_attribute("data-current", "false")
            expect(block.locator(".ly-current")).to_contain_text("Версия 3")
        finally:
            browser.close()
    assert problems == []
    with psycopg.connect(app_db) as conn:
        assert conn.execute("SELECT id, restored_from FROM raster_versions WHERE layer_id = %s ORDER BY id",
                            (MAP,)).fetchall() == [(1, None), (2, None), (3, 1)]


@NEEDS_CHROMIUM
def test_the_section_follows_the_persons_authority(live: str, app_db: str):
    from playwright.sync_api import expect, sync_playwright

    # An administrator is no officer: uploads would be refused, so no section. A member of the
    # commission made an officer of the environmental authority writes restriction zones only.
    with psycopg.connect(app_db) as conn:
        assert accounts.grant_role(conn, COMMISSION, "officer", "environment", actor="test")
        conn.commit()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(_link(app_db, live, ADMIN))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#layers[data-ready=true]", state="attached")
            expect(page.locator("#profile")).to_be_visible()
            expect(page.locator("#layers")).to_be_hidden()
            sign_out(page)
            page.goto(_link(app_db, live, COMMISSION))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#layers[data-ready=true]")
            expect(page.locator("#layers")).to_be_visible()
            assert page.locator("#layers .ly-layer").evaluate_all("ns => ns.map(n => n.dataset.layer)") == [
                "restriction-zones"]
        finally:
            browser.close()
    assert problems == []
