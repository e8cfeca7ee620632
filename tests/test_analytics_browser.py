"""The authorities' dashboard in a real browser (Debian's Chromium driven by Playwright) against
the real app: the demo officer signs in, the analytics section draws every chart with the
vendored ECharts (the regions as a choropleth), a filter reaches the charts and the download links."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, OFFICER, SCREENSHOTS, live, sign_in_link  # noqa: F401


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_dashboard_in_a_browser(live: str, database_url: str):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(sign_in_link(database_url, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("section#analytics[data-ready=true]", timeout=30_000)
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            section = page.locator("section#analytics")
            expect(section.locator("h2")).to_have_text("Analytics")
            # Another language: the section is drawn again in it.
            page.click("#langs [data-lang=ru]")
            expect(section.locator("h2")).to_have_text("Аналитика")
            page.evaluate("window.geoserviceAnalytics.ready")
            charts = section.locator(".an-chart")
            assert charts.count() == 10
            for chart in ("licences_by_status", "licences_by_region", "blocks_over_time", "stages_on_time"):
                box = section.locator(f"#an-{chart}")
                expect(box).to_have_attribute("data-ready", "true")
                # ECharts drew on its canvas.
                assert box.locator(".an-plot canvas").count() >= 1, chart
            expect(section.locator("#an-licences_by_region h3")).to_have_text("Лицензии по регионам")
            # The choropleth has the 20 regions (and the table every region with its count, and the
            # licences outside them when other tests of this database made such).
            assert page.evaluate("window.echarts.getMap('kz-regions').geoJSON.features.length") == 20
            expect(section.locator("#an-licences_by_region table")).to_contain_text("город Шымкент")
            assert section.locator("#an-licences_by_region table tbody tr").count() in (20, 21)

            # A filter: every chart is asked again with it, and the links carry it.
            section.locator("select[name=region]").select_option("KZ-71")
            section.locator("input[name=at]").fill("2026-01-31")
            section.locator("#an-filters button[type=submit]").click()
            page.wait_for_function("window.geoserviceAnalytics.filters.region === 'KZ-71'")
            page.evaluate("window.geoserviceAnalytics.ready")
            expect(section.locator("#an-licences_by_region table tbody tr")).to_have_count(1)
            href = section.locator("#an-obligations a[data-format=xlsx]").get_attribute("href")
            assert href is not None
            query = parse_qs(urlsplit(href).query)
            assert urlsplit(href).path == "/api/analytics/obligations.xlsx"
            assert query["region"] == ["KZ-71"] and query["at"] == ["2026-01-31"] and query["lang"] == ["ru"]
            download = page.request.get(f"{live}{href}")
            assert download.status == 200 and download.body()[:2] == b"PK"  # an XLSX is a ZIP
            page.screenshot(path=str(SCREENSHOTS / "cabinet-analytics.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
