"""Parcels (cadastre/parcels.py) against real PostGIS: blocks and polygons, area and block counts
against independent numbers (pyproj's geodesic areas), contiguity, restriction zones, the
programme's open areas, malformed input, the overlap-source and claims hooks, the API in kk/ru/en,
and the map's "check a parcel" panel in a browser.

The data (a fund area and zones near 77° E 46° N, where no other test module draws) is uploaded
through the upload pipeline inside each test that needs it, with ``keep_current`` restoring the
layers afterwards: modules share a database per worker."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from psycopg import sql
from pyproj import Geod

from cadastre import parcels
from cadastre.parcels import Overlap, ParcelSQL, check_parcel, parse_parcel, programme_areas
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from importers.pipeline import UploadRequest, run_upload
from layers.grid import block_bounds, block_code
from tests.helpers import feature_collection, write_json

X0, Y0 = 77 * 60, 46 * 60          # the south-west minute of the test area (77° E, 46° N)
GEOD = Geod(ellps="WGS84")
CHROMIUM = "/usr/bin/chromium"


def code(dx: int, dy: int) -> str:
    """The block dx minutes east and dy minutes north of the test area's corner."""
    return block_code((X0 + dx + 0.5) / 60, (Y0 + dy + 0.5) / 60)


def geodesic_km2(geom: shapely.Geometry) -> float:
    area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(geom) if geom.geom_type == "Polygon"
                                           else geom)
    return abs(area) / 1e6


def block_km2(dx: int, dy: int) -> float:
    return geodesic_km2(shapely.box(*block_bounds(code(dx, dy))))


def box(dx0: float, dy0: float, dx1: float, dy1: float) -> shapely.Polygon:
    return shapely.box((X0 + dx0) / 60, (Y0 + dy0) / 60, (X0 + dx1) / 60, (Y0 + dy1) / 60)


def upload(database_url: str, tmp: Path, layer: str, rows: list[tuple[dict | None, dict]]) -> None:
    path = write_json(tmp / f"{layer}.geojson", feature_collection(rows))
    run_upload(UploadRequest(layer_id=layer, path=path, file_name=path.name, mode="append"), database_url)


@pytest.fixture
def area(database_url: str, tmp_path: Path, keep_current: None) -> dict[str, Any]:
    """A fund area of 4 x 3 blocks (open), one not yet opened (2 x 1 blocks, east of it), a
    prohibited zone over block (0, 0)'s west half, a conditional one over block (3, 2)'s north
    half, and a prohibited zone that ended last year over block (1, 1)."""
    inside = "; ".join(code(dx, dy) for dy in range(3) for dx in range(4))
    later = "; ".join(code(dx, 0) for dx in (6, 7))
    upload(database_url, tmp_path, "subsoil-plots", [
        (None, {"plot_id": "PT-FUND-1", "name": "Балқаш-тест", "kind": "fund-area", "status": "open",
                "blocks": inside, "valid_from": "2025-01-15"}),
        (None, {"plot_id": "PT-FUND-2", "name": "Кейін ашылады", "kind": "fund-area", "status": "open",
                "blocks": later, "valid_from": "2099-01-01"}),
    ])
    upload(database_url, tmp_path, "restriction-zones", [
        (shapely.geometry.mapping(box(-0.5, 0, 0.5, 1)), {"zone_id": "PT-Z-PROHIBITED", "name": "Қорық-тест",
                                                          "kind": "protected-area", "regime": "prohibited"}),
        (shapely.geometry.mapping(box(3, 2.5, 3.5, 3.5)), {"zone_id": "PT-Z-CONDITIONAL", "name": "Су қорғау-тест",
                                                           "kind": "water-protection", "regime": "conditional"}),
        (shapely.geometry.mapping(box(1, 1, 2, 2)), {"zone_id": "PT-Z-ENDED", "name": "Бұрынғы аймақ",
                                                     "kind": "other", "regime": "prohibited",
                                                     "valid_to": (dt.date.today() - dt.timedelta(days=400)).isoformat()
                                                     }),
    ])
    return {"inside": inside}


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    # Autocommit: no transaction left open on the layers' views when keep_current switches them back.
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def kinds(check: parcels.ParcelCheck) -> dict[str, list[Overlap]]:
    out: dict[str, list[Overlap]] = {}
    for o in check.overlaps:
        out.setdefault(o.id or o.kind, []).append(o)
    return out


# --- reading a parcel -------------------------------------------------------------------------

def test_block_lists_and_codes_are_read():
    single = parse_parcel({"blocks": "L-43-63-(10а-5б-14,15,19,20)"})
    assert single.kind == "blocks" and single.codes == (
        "L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)", "L-43-63-(10а-5б-19)", "L-43-63-(10а-5б-20)")
    several = parse_parcel({"blocks": ["L-43-63-(10а-5б-14)", "L-43-63-(10a-5b-15, 16); L-43-64-(10а-5а-1)",
                                       "l-43-63-(10а-5б-14)"]})
    assert several.codes == ("L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)", "L-43-63-(10а-5б-16)",
                             "L-43-64-(10а-5а-1)")


@pytest.mark.parametrize("form, field, key, token", [
    ({"blocks": "L-43-63-(10ж-5б-14)"}, "parcel.blocks", "parcel.bad_blocks", "ж"),
    ({"blocks": ["L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-99)"]}, "parcel.blocks[1]", "parcel.bad_blocks", "99"),
    ({"blocks": "L-43-63-(10а-5б-14"}, "parcel.blocks", "parcel.bad_blocks", "("),
    ({"blocks": ""}, "parcel.blocks", "parcel.no_blocks", None),
    ({"blocks": 42}, "parcel.blocks", "parcel.blocks_type", None),
    ({"blocks": ["L-43-63-(10а-5б-14)", 7]}, "parcel.blocks", "parcel.blocks_type", None),
    ({"blocks": "N-37-4-(10а-5а-1)"}, "parcel.blocks", "parcel.blocks_outside_country", None),  # Moscow
    ({}, "parcel", "parcel.one_of", None),
    ({"blocks": "L-43-63-(10а-5б-14)", "geometry": None}, "parcel", "parcel.one_of", None),
    ("L-43-63-(10а-5б-14)", "parcel", "parcel.one_of", None),
    ({"geometry": {"type": "Point", "coordinates": [77, 46]}}, "parcel.geometry", "parcel.geometry_type", None),
    ({"geometry": {"type": "Polygon", "coordinates": "x"}}, "parcel.geometry", "parcel.geometry_unreadable", None),
    ({"geometry": {"type": "Polygon", "coordinates": []}}, "parcel.geometry", "parcel.geometry_empty", None),
    ({"geometry": {"type": "Polygon", "coordinates": [[[77, 46], [77.1, 46.1], [77.1, 46], [77, 46.1], [77, 46]]]}},
     "parcel.geometry", "parcel.geometry_invalid", None),  # a bow-tie
    ({"geometry": {"type": "Polygon", "coordinates": [[[37, 55], [37.1, 55], [37.1, 55.1], [37, 55]]]}},
     "parcel.geometry", "parcel.outside_country", None),
    ({"geometry": {"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:28412"}},
                   "coordinates": [[[77, 46], [77.1, 46], [77.1, 46.1], [77, 46]]]}},
     "parcel.geometry", "parcel.geometry_crs", None),
    ({"geometry": {"type": "Polygon", "coordinates": [[[60, 48], [75, 45], [80, 50], [68, 52], [60, 48]]]}},
     "parcel.geometry", "parcel.too_large", None),
])
def test_malformed_parcels_name_the_field_and_token(form, field, key, token):
    with pytest.raises(Problem) as caught:
        parse_parcel(form)
    problem = caught.value
    assert (problem.key, problem.status, problem.location.field) == (key, 400, field)
    if token is not None:
        assert problem.params["token"] == token
        assert problem.issues and problem.issues[0].key.startswith("blocks.reason.")


# --- area, blocks, contiguity ---------------------------------------------------------------------

def test_blocks_area_count_and_contiguity(conn):
    two = check_parcel(conn, parse_parcel({"blocks": [code(0, 0), code(1, 0)]}), sources=[])
    assert (two.block_count, two.contiguous, two.components) == (2, True, 1)
    assert two.codes == [code(0, 0), code(1, 0)]
    assert two.area_km2 == pytest.approx(block_km2(0, 0) + block_km2(1, 0), rel=1e-6)
    assert 2 * 2.3 < two.area_km2 < 2 * 2.5  # a 1′ block at 46° N: ~1.29 km x ~1.85 km, ~2.39 km²
    # Separated by a block, and touching at a corner only: two components either way.
    apart = check_parcel(conn, parse_parcel({"blocks": [code(0, 0), code(2, 0)]}), sources=[])
    assert (apart.contiguous, apart.components) == (False, 2)
    corner = check_parcel(conn, parse_parcel({"blocks": [code(0, 0), code(1, 1)]}), sources=[])
    assert (corner.contiguous, corner.components) == (False, 2)
    # A ring of 8 blocks round a hole is one piece.
    ring = [code(dx, dy) for dy in range(3) for dx in range(3) if (dx, dy) != (1, 1)]
    hollow = check_parcel(conn, parse_parcel({"blocks": ring}), sources=[])
    assert (hollow.block_count, hollow.contiguous, hollow.components) == (8, True, 1)
    expected = sum(block_km2(dx, dy) for dy in range(3) for dx in range(3) if (dx, dy) != (1, 1))
    assert hollow.area_km2 == pytest.approx(expected, rel=1e-6)


def test_polygon_area_blocks_it_touches_and_parts(conn):
    shape = box(0.5, 0.5, 2.5, 1.5)   # meets 3 x 2 blocks, covers none whole
    check = check_parcel(conn, parse_parcel({"geometry": shapely.geometry.mapping(shape)}), sources=[])
    assert check.kind == "polygon" and (check.contiguous, check.components) == (True, 1)
    assert check.area_km2 == pytest.approx(geodesic_km2(shape), rel=1e-6)
    assert sorted(check.codes) == sorted(code(dx, dy) for dx in range(3) for dy in range(2))
    # A polygon exactly on block edges meets only the blocks inside (an edge is no overlap).
    exact = check_parcel(conn, parse_parcel({"geometry": shapely.geometry.mapping(box(0, 0, 2, 1))}), sources=[])
    assert sorted(exact.codes) == sorted([code(0, 0), code(1, 0)])
    two = shapely.MultiPolygon([box(0, 0, 1, 1), box(3, 0, 4, 1)])
    parts = check_parcel(conn, parse_parcel({"geometry": shapely.geometry.mapping(two)}), sources=[])
    assert (parts.contiguous, parts.components, parts.block_count) == (False, 2, 2)
    # The area in PostGIS's own independent terms too (a second opinion on the geography).
    row = conn.execute("SELECT ST_Area(ST_GeomFromText(%s, 4326)::geography) / 1e6", (two.wkt,)).fetchone()
    assert parts.area_km2 == pytest.approx(row[0], abs=1e-6)  # answers round to 1 m²


# --- overlaps -------------------------------------------------------------------------------------

def test_zones_refuse_or_warn_with_their_geometry(conn, area):
    parcel = parse_parcel({"blocks": [code(0, 0), code(1, 0), code(3, 2)]})
    check = check_parcel(conn, parcel)
    found = kinds(check)
    prohibited = found["PT-Z-PROHIBITED"][0]
    assert (prohibited.kind, prohibited.severity, prohibited.code) == ("restriction-zone", "refusal",
                                                                       "parcel.zone_prohibited")
    assert prohibited.name == "Қорық-тест" and prohibited.blocks == [code(0, 0)] and prohibited.block_count == 1
    # The overlap is the zone's part over the parcel: half of block (0, 0).
    half = geodesic_km2(box(0, 0, 0.5, 1))
    assert prohibited.area_km2 == pytest.approx(half, rel=1e-4)
    drawn = shapely.geometry.shape(prohibited.geometry)   # GeoJSON with 7 decimals (~1 cm)
    assert drawn.normalize().equals_exact(box(0, 0, 0.5, 1).normalize(), 1e-7)
    conditional = found["PT-Z-CONDITIONAL"][0]
    assert (conditional.severity, conditional.blocks) == ("warning", [code(3, 2)])
    assert conditional.area_km2 == pytest.approx(geodesic_km2(box(3, 2.5, 3.5, 3)), rel=1e-4)
    assert "PT-Z-ENDED" not in found  # ended zones do not count
    assert check.ok is False and {o.severity for o in check.refusals} == {"refusal"}
    # Inside the open area, away from the prohibited zone: only the warning, and ok.
    fine = check_parcel(conn, parse_parcel({"blocks": [code(2, 2), code(3, 2)]}))
    assert [(o.id, o.severity) for o in fine.overlaps] == [("PT-Z-CONDITIONAL", "warning")] and fine.ok


def test_outside_the_programme_names_the_blocks_and_the_part(conn, area):
    # (4, 0) is east of the open area; (6, 0) is in an area that opens only in 2099.
    parcel = parse_parcel({"blocks": [code(2, 0), code(3, 0), code(4, 0), code(6, 0)]})
    check = check_parcel(conn, parcel)
    outside = kinds(check)["outside-programme"][0]
    assert (outside.severity, outside.code) == ("refusal", "parcel.outside_programme")
    assert outside.blocks == [code(4, 0), code(6, 0)] and outside.block_count == 2
    assert outside.area_km2 == pytest.approx(block_km2(4, 0) + block_km2(6, 0), rel=1e-6)
    assert shapely.geometry.shape(outside.geometry).area == pytest.approx(2 / 3600, rel=1e-5)
    # Kinds the programme does not govern: a warning, or nothing at all.
    assert kinds(check_parcel(conn, parcel, programme="warning"))["outside-programme"][0].severity == "warning"
    assert "outside-programme" not in kinds(check_parcel(conn, parcel, programme=None))
    # On the day the second area opens, its blocks are inside.
    later = check_parcel(conn, parcel, today=dt.date(2099, 1, 1))
    assert kinds(later)["outside-programme"][0].blocks == [code(4, 0)]
    # A polygon: only the part outside (half a block), slivers of rounding are no conflict.
    poly = parse_parcel({"geometry": shapely.geometry.mapping(box(3, 1, 4.5, 2))})
    part = kinds(check_parcel(conn, poly))["outside-programme"][0]
    assert part.area_km2 == pytest.approx(geodesic_km2(box(4, 1, 4.5, 2)), rel=1e-4)
    assert part.blocks == [code(4, 1)]
    inside = parse_parcel({"geometry": shapely.geometry.mapping(box(1, 1, 3, 2))})
    assert "outside-programme" not in kinds(check_parcel(conn, inside))


def test_registered_sources_and_claims_are_used(conn, area, database_url):
    """What applications will plug in: an overlap source (here: "block (1, 0) is pending") and
    the claims subtracted from the programme's free blocks."""
    pending = code(1, 0)

    def pending_applications(c: psycopg.Connection, p: ParcelSQL) -> list[Overlap]:
        rows = c.execute(sql.SQL("SELECT b.code, ST_AsGeoJSON(b.geom) FROM ({blocks}) b WHERE b.code = %(pending)s")
                         .format(blocks=p.blocks), {**p.params, "pending": pending}).fetchall()
        return [Overlap(kind="pending-application", severity="refusal", code="parcel.zone_prohibited",
                        params={"name": "A-1", "id": "A-1", "area_km2": 1, "count": 1}, id="A-1",
                        blocks=[r[0] for r in rows], block_count=len(rows)) for _ in rows[:1]]

    claims = sql.SQL("SELECT {}::text AS code").format(sql.Literal(pending))
    parcels.overlap_source(pending_applications)
    parcels.register_claims(claims)
    try:
        check = check_parcel(conn, parse_parcel({"blocks": [code(1, 0), code(2, 0)]}))
        assert kinds(check)["A-1"][0].blocks == [pending]
        assert "A-1" not in kinds(check_parcel(conn, parse_parcel({"blocks": code(2, 0)})))
        areas, _ = programme_areas(conn, after="PT-FUND", limit=5)
        fund = next(a for a in areas if a.id == "PT-FUND-1")
        assert (fund.block_count, fund.free_count) == (12, 11) and pending not in fund.free
    finally:
        parcels.OVERLAP_SOURCES.remove(pending_applications)
        parcels.CLAIM_SOURCES.remove(claims)


# --- the API --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_check_api_answers_in_the_language_asked(client: TestClient, area, lang):
    body = {"parcel": {"blocks": f"{code(0, 0)}; {code(1, 0)}; {code(4, 0)}"}}
    r = client.post("/api/parcels/check", json=body, headers={"Accept-Language": lang})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["blocks"] == {"count": 3, "codes": [code(0, 0), code(1, 0), code(4, 0)], "truncated": False}
    assert answer["contiguous"] is False and answer["components"] == 2 and answer["ok"] is False
    assert answer["area_km2"] == pytest.approx(block_km2(0, 0) + block_km2(1, 0) + block_km2(4, 0), rel=1e-6)
    by_kind = {(o["kind"], o["severity"]): o for o in answer["overlaps"]}
    zone = by_kind[("restriction-zone", "refusal")]
    assert zone["id"] == "PT-Z-PROHIBITED" and zone["code"] == "parcel.zone_prohibited"
    assert zone["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert zone["message"] == translate("parcel.zone_prohibited", lang, name="Қорық-тест", id="PT-Z-PROHIBITED",
                                        area_km2=zone["area_km2"], count=1)
    outside = by_kind[("outside-programme", "refusal")]
    assert outside["blocks"]["codes"] == [code(4, 0)]
    assert outside["message"] == translate("parcel.outside_programme", lang, area_km2=outside["area_km2"], count=1)
    assert {"kk": "Учаске", "ru": "Участок", "en": "The parcel"}[lang] in zone["message"]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_check_api_refuses_malformed_parcels(client: TestClient, lang):
    r = client.post("/api/parcels/check", json={"parcel": {"blocks": ["L-43-63-(10а-5б-14)", "L-43-63-(10а-5щ-1)"]}},
                    headers={"Accept-Language": lang})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["field"] == "parcel.blocks[1]" and "«щ»" in problem["detail"] or "“щ”" in problem["detail"]
    assert problem["detail"] == translate("parcel.bad_blocks", lang, field="parcel.blocks[1]", token="щ", position=15)
    assert problem["errors"][0]["code"] == "blocks.reason.cell5"
    for bad in (b"not json", b"[]", b'{"parcels": {}}'):
        r = client.post("/api/parcels/check", content=bad, headers={"Accept-Language": lang,
                                                                     "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["type"].endswith("parcel.body")
    r = client.post("/api/parcels/check", json={"parcel": {"geometry": {"type": "LineString", "coordinates": []}}},
                    headers={"Accept-Language": lang})
    assert r.status_code == 400 and r.json()["field"] == "parcel.geometry"
    assert r.json()["detail"] == translate("parcel.geometry_type", lang, field="parcel.geometry", found="LineString")


def test_programme_api_lists_areas_with_free_blocks(client: TestClient, area):
    r = client.get("/api/programme", params={"limit": 100})
    assert r.status_code == 200, r.text
    body = r.json()
    areas = {a["id"]: a for a in body["areas"]}
    fund = areas["PT-FUND-1"]
    assert fund["open"] is True and fund["valid_from"] == "2025-01-15" and fund["name"] == "Балқаш-тест"
    assert fund["blocks"]["count"] == 12 and fund["blocks"]["free"] == 12
    assert sorted(fund["blocks"]["codes"]) == sorted(area["inside"].split("; "))
    assert fund["area_km2"] == pytest.approx(sum(block_km2(dx, dy) for dx in range(4) for dy in range(3)), rel=1e-6)
    later = areas["PT-FUND-2"]
    assert later["open"] is False and later["valid_from"] == "2099-01-01" and later["blocks"]["count"] == 2
    assert body["total"] >= 2 and body["count"] == len(body["areas"])
    # Paged by id: every area once, the codes bounded per area.
    seen, url = [], "/api/programme?limit=1&blocks=3"
    while url:
        page = client.get(url).json()
        assert page["count"] <= 1
        for a in page["areas"]:
            assert len(a["blocks"]["codes"]) <= 3 and a["blocks"]["truncated"] == (a["blocks"]["free"] > 3)
        seen += [a["id"] for a in page["areas"]]
        url = page["next"]
        assert len(seen) <= body["total"]
    assert seen == sorted(areas) and len(seen) == body["total"]
    for params in ({"limit": "0"}, {"limit": "x"}, {"blocks": "5000"}, {"after": "a\x00"}):
        bad = client.get("/api/programme", params=params, headers={"Accept-Language": "kk"})
        assert bad.status_code == 400 and bad.json()["type"].endswith("programme.bad_parameter"), params


# --- the map --------------------------------------------------------------------------------------

@pytest.fixture
def live(area) -> Iterator[str]:
    from tests.live import live_server

    with live_server() as url:
        yield url


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_map_panel_checks_a_parcel(live: str):
    from playwright.sync_api import sync_playwright

    from tests.test_viewer import CHROMIUM_ARGS, SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/?lang=ru#map=9/46.02/77.05")
            page.wait_for_function("() => window.geoservice && window.geoservice.parcels", timeout=60_000)
            page.locator("#parcel-input").fill(f"{code(0, 0)}; {code(1, 0)}; {code(4, 0)}; {code(3, 2)}")
            page.locator("#parcel-check-button").click()
            page.wait_for_function("() => document.querySelectorAll('#parcel-result li.overlap').length >= 3",
                                   timeout=20_000)
            text = page.locator("#parcel-result").inner_text()
            assert "Қорық-тест" in text and "запрещено" in text       # the refusal, in Russian
            assert "Су қорғау-тест" in text                             # the warning
            assert page.locator("#parcel-result li.overlap.refusal").count() == 2
            assert page.locator("#parcel-result li.overlap.warning").count() == 1
            # Drawn on the map: the parcel and its overlaps, refusals red and warnings amber.
            drawn = page.evaluate("""() => {
                const d = window.map.getSource('gs-parcel-overlaps').serialize().data;
                return d.features.map(f => [f.properties.severity, f.geometry.type]); }""")
            assert sorted(s for s, _ in drawn) == ["refusal", "refusal", "warning"]
            colours = page.evaluate("() => window.map.getPaintProperty('gs-parcel-overlaps-fill', 'fill-color')")
            assert "#d7191c" in str(colours) and "#f5a623" in str(colours)
            assert page.evaluate("() => window.map.getSource('gs-parcel').serialize().data.features.length") == 1
            # The language switch asks again: the reasons come back in Kazakh.
            page.locator("#langs button[data-lang=kk]").click()
            page.wait_for_function("() => document.querySelector('#parcel-result').innerText.includes('тыйым')",
                                   timeout=20_000)
            assert page.locator("#parcel-check-button").inner_text() == "Тексеру"
            page.wait_for_timeout(600)  # the map's move to the parcel
            page.screenshot(path=str(SCREENSHOTS / "parcel-check-kk.png"))
            # A bad token is named in the page's language.
            page.locator("#parcel-input").fill("L-43-63-(10а-5щ-1)")
            page.locator("#parcel-check-button").click()
            page.wait_for_function("() => document.querySelector('#parcel-result .error')", timeout=20_000)
            assert "щ" in page.locator("#parcel-result .error").inner_text()
            assert problems == []
        finally:
            browser.close()
