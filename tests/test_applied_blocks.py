"""The applied-for blocks on the public map (issue 9), on the workbench tests' database and
helpers: a filing puts its blocks in the `applied-blocks` tiles (map tileset and its own), the OGC
collection and the styles, with public content only (number, kind, receipt time, in_window); an
approval moves them to the licences, a refusal takes them off, each within seconds."""

from __future__ import annotations

import time
from typing import Any

import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from layers.grid import block_bounds, blocks_geometry
from tests import test_workbench as wb
from tests.applicants import APPROVAL, FCFS_AREA, square
from tests.test_workbench import decide, file, officer

# The workbench tests' fixtures, for a database of this module's own with the programme's areas,
# the demo people and an officer of the authority for solid minerals.
app_db, pki, api, db = wb.app_db, wb.pki, wb.api, wb.db

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
ZOOM = 11
PUBLIC = {"id", "kind", "received_at", "in_window", "priority", "block_count"}


def tile_address(codes: list[str]) -> tuple[int, int, int]:
    west, south, east, north = block_bounds(codes[0])
    t = WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, ZOOM)
    return t.z, t.y, t.x


def tile_layer(api: TestClient, url: str, layer: str) -> list[dict[str, Any]]:
    r = api.get(url)
    assert r.status_code in (200, 204), r.text
    if r.status_code == 204:
        return []
    tile = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    return list(tile.get(layer, {}).get("features", []))


def current_tile_url(api: TestClient, tilejson: str, z: int, y: int, x: int) -> str:
    """The tile URL the current TileJSON names (its ?v= changes with every new version)."""
    template = api.get(tilejson).json()["tiles"][0]
    path = template.split("://", 1)[1].split("/", 1)[1]
    return "/" + path.replace("{z}", str(z)).replace("{y}", str(y)).replace("{x}", str(x))


def wait_for(api: TestClient, tilejson: str, address: tuple[int, int, int], layer: str, number: str,
              present: bool) -> list[dict[str, Any]]:
    """The layer's features in the tile once ``number`` is (or is no longer) there: the change
    must reach the map within seconds (the version switch and NOTIFY)."""
    deadline = time.monotonic() + 30  # polled: generous for a loaded machine
    while True:
        found = tile_layer(api, current_tile_url(api, tilejson, *address), layer)
        if any(f["properties"].get("id") == number for f in found) == present:
            return found
        assert time.monotonic() < deadline, f"{number} {'not ' if present else 'still '}in the {layer} tile"
        time.sleep(0.1)


MAP_TILEJSON = "/ogc/tiles/WebMercatorQuad/tilejson.json"
OWN_TILEJSON = "/ogc/collections/applied-blocks/tiles/WebMercatorQuad/tilejson.json"


def test_a_filing_shows_its_blocks_and_an_approval_turns_them_into_a_licence(api, db, pki):
    codes = square(FCFS_AREA, 12, 2, 2)
    address = tile_address(codes)
    number = file(api, db, pki, codes)

    for tilejson in (MAP_TILEJSON, OWN_TILEJSON):
        found = wait_for(api, tilejson, address, "applied-blocks", number, True)
        (feature,) = [f for f in found if f["properties"]["id"] == number]
        props = feature["properties"]
        assert set(props) <= PUBLIC, props  # no applicant, no signer
        assert (props["kind"], props["in_window"], props["priority"], props["block_count"]) == (
            "exploration-licence", False, "queue", 4)
        received = db.execute("SELECT received_at FROM applications WHERE number = %s", (number,)).fetchone()[0]
        assert props["received_at"] == received.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    # The OGC collection has the application's blocks as one feature, its geometry the blocks'.
    item = api.get(f"/ogc/collections/applied-blocks/items/{number}").json()
    assert sorted(c.strip() for c in item["properties"]["blocks"].split(",")) == sorted(codes)
    parcel = blocks_geometry(codes)  # (the OGC answer rounds coordinates to 7 decimals)
    assert shape(item["geometry"]).symmetric_difference(parcel).area < 1e-4 * parcel.area
    assert not {"applicant", "holder", "iin", "signer_iin", "filed_by"} & set(item["properties"])

    # Approved: off the applied-for layer, on the licences layer of the same map tile.
    headers, cert = officer(db, pki)
    for stage, action in APPROVAL:
        assert decide(api, headers, cert, number, stage, action).status_code == 200
    wait_for(api, MAP_TILEJSON, address, "applied-blocks", number, False)
    licences = tile_layer(api, current_tile_url(api, MAP_TILEJSON, *address), "licences")
    assert "LIC-" + number.removeprefix("APP-") in {f["properties"]["id"] for f in licences}


def test_a_refusal_takes_the_blocks_off_the_map(api, db, pki):
    codes = square(FCFS_AREA, 16, 2, 1, 2)
    address = tile_address(codes)
    number = file(api, db, pki, codes)
    wait_for(api, OWN_TILEJSON, address, "applied-blocks", number, True)
    headers, cert = officer(db, pki)
    for stage, action in APPROVAL[:3]:
        assert decide(api, headers, cert, number, stage, action).status_code == 200
    assert decide(api, headers, cert, number, "check", "refuse", "Overlaps a reserve").status_code == 200
    # Still applied for until the refusal is signed and sent (the claims stay pending until then).
    wait_for(api, OWN_TILEJSON, address, "applied-blocks", number, True)
    for stage, action in APPROVAL[4:]:
        assert decide(api, headers, cert, number, stage, action).status_code == 200
    wait_for(api, OWN_TILEJSON, address, "applied-blocks", number, False)


@pytest.mark.parametrize("lang, title", [("kk", "Өтінім берілген блоктар"), ("ru", "Блоки под заявками"),
                                         ("en", "Applied-for blocks")])
def test_the_styles_draw_applied_blocks_apart_from_licences(api, lang, title):
    style = api.get(f"/ogc/styles/default?f=mapbox&lang={lang}").json()
    applied = [lyr for lyr in style["layers"] if lyr.get("source-layer") == "applied-blocks"]
    licensed = [lyr for lyr in style["layers"] if lyr.get("source-layer") == "licences"]
    assert {lyr["type"] for lyr in applied} >= {"fill", "line", "symbol"}
    fill = next(lyr for lyr in applied if lyr["type"] == "fill")
    licence_fill = next(lyr for lyr in licensed if lyr["type"] == "fill")
    assert set(fill["paint"]["fill-color"][3::2]).isdisjoint(licence_fill["paint"]["fill-color"][3::2])
    (legend,) = [g for g in style["metadata"]["geoservice:legend"] if g["layer"] == "applied-blocks"]
    assert legend["title"][lang] == title
    assert {i["value"] for i in legend["sections"][0]["items"]} == {"window", "queue"}
    assert all(set(i["label"]) == {"kk", "ru", "en"} for i in legend["sections"][0]["items"])
    qml = api.get(f"/ogc/collections/applied-blocks/styles/default?f=qml&lang={lang}")
    assert qml.status_code == 200 and "priority" in qml.text and "<qgis" in qml.text


def test_a_look_without_a_change_makes_no_version(api, db, app_db):
    import psycopg

    from cadastre.applied import publish_if_changed

    def versions() -> int:
        return int(db.execute("SELECT count(*) FROM layer_versions WHERE layer_id = 'applied-blocks'").fetchone()[0])

    with psycopg.connect(app_db) as conn:
        publish_if_changed(conn)  # whatever the server's publisher has not done yet
        conn.commit()
    before = versions()
    time.sleep(2.5)  # past the server's poll
    with psycopg.connect(app_db) as conn:
        assert publish_if_changed(conn) is None
    assert versions() == before
