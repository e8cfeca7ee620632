"""Vector tiles (OGC API – Tiles, TileJSON, MVT) against real PostGIS through the real app: a block
grid for central Kazakhstan (66–74° E, 45–51° N) and layers uploaded through the upload API.

Every check that a feature is "at the right place" converts its known longitude/latitude to the
tile's MVT coordinates (4096 units, y down) and compares."""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import random
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from layers.access import create_token
from layers.grid import block_bounds, block_code, minute_index, name_at
from tests.helpers import feature_collection, square, write_json
from tiles.cache import TileCache
from tiles.levels import BLOCK_ZOOM, LEVELS, level_for
from tiles.service import MAX_TILE_BYTES

SIZE_LIMIT = 500_000          # bytes, every tile at every zoom
assert MAX_TILE_BYTES <= SIZE_LIMIT

GRID_BBOX = (66.0, 45.0, 74.0, 51.0)
CENTRE = (70.0, 48.0)            # the densest place: the middle of the test grid
EXTENT = 4096
MVT_TYPE = "application/vnd.mapbox-vector-tile"
MAP_LAYERS = ["country", "blocks", "geological-studies", "restriction-zones", "subsoil-plots", "licences",
              "applied-blocks", "auction-lots"]
SIZES: dict[tuple[int, bool], int] = {}   # (zoom, authorised) -> largest tile seen, reported at the end


# --- helpers --------------------------------------------------------------------------------------

def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """WebMercatorQuad (x, y) of the tile holding a point."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def to_px(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """A point in the MVT coordinates of tile (z, x, y): 0–4096, y pointing down."""
    n = 1 << z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return (fx - x) * EXTENT, (fy - y) * EXTENT


def decode(data: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def features(tile: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    return tile.get(layer, {}).get("features", [])


def by_id(tile: dict[str, Any], layer: str) -> dict[str, dict[str, Any]]:
    return {f["properties"]["id"]: f for f in features(tile, layer)}


def canonical(data: bytes) -> dict[str, list[str]]:
    """A tile's content regardless of feature order (which follows the scan PostgreSQL chose)."""
    return {name: sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in layer["features"])
            for name, layer in decode(data).items()}


def px_bounds(feature: dict[str, Any]) -> tuple[float, float, float, float]:
    return shape(feature["geometry"]).bounds


def expected_px_box(lon0: float, lat0: float, lon1: float, lat1: float, z: int, x: int, y: int
                    ) -> tuple[float, float, float, float]:
    (ax, ay), (bx, by) = to_px(lon0, lat1, z, x, y), to_px(lon1, lat0, z, x, y)
    return ax, ay, bx, by


def clip(box: tuple[float, ...]) -> tuple[float, ...]:
    """A box in tile units as ST_AsMVTGeom clips it: to the tile grown by its 64-unit buffer."""
    return tuple(max(-64.0, min(EXTENT + 64.0, v)) for v in box)


def assert_box(actual: tuple[float, ...], expected: tuple[float, ...], tolerance: float = 1.5) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (actual, expected)


def feature_at(tile: dict[str, Any], layer: str, px: tuple[float, float]) -> dict[str, Any]:
    point = shapely.Point(px)
    hits = [f for f in features(tile, layer) if shape(f["geometry"]).buffer(0).covers(point)]
    assert len(hits) == 1, f"{len(hits)} {layer} features at {px}"
    return hits[0]


def map_url(z: int, x: int, y: int, tms: str = "WebMercatorQuad") -> str:
    return f"/ogc/tiles/{tms}/{z}/{y}/{x}"


def get_tile(client: TestClient, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(url, headers={"Accept-Encoding": "identity", **(headers or {})})
    assert r.status_code in (200, 204), r.text
    return decode(r.content) if r.status_code == 200 else {}


def post(client: TestClient, layer: str, path: Path, headers: dict[str, str], **fields: str) -> dict[str, Any]:
    r = client.post(f"/api/layers/{layer}/uploads", headers=headers,
                    files={"file": (path.name, path.read_bytes())}, data=fields)
    assert r.status_code == 201, r.text
    return r.json()


def cell_code(level: str, lon: float, lat: float) -> str:
    n = name_at(minute_index(lon), minute_index(lat))
    return {"sheet": n.sheet, "sheet100k": n.sheet100k_code, "cell10": n.cell10_code,
            "cell5": f"{n.sheet100k_code}-(10{n.cell10}-5{n.cell5})", "block": n.code}[level]


# --- data -------------------------------------------------------------------------------------

PLOT = {"plot_id": "P-1", "name": "Қарағанды-Оңтүстік", "kind": "exploration", "status": "licensed",
        "mineral": "медь", "licence_number": "77-EL", "holder": "ТОО «Тест»", "valid_from": "2024-03-01",
        "valid_to": "2030-03-01"}
PLOT_BOX = (70.05, 48.05, 70.25, 48.20)       # west, south, east, north
TINY = (70.51, 48.51, 70.512, 48.512)         # ~150 m: a speck below zoom ~10
STUDY_PUBLIC = (71.10, 47.40, 71.30, 47.60)
STUDY_SECRET = (71.40, 47.40, 71.60, 47.60)


def box_polygon(box: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = box
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def dense_plots(n: int = 3000) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Many small plots over the test grid (with a long name each), to load the low zooms."""
    rnd = random.Random(7)
    out = []
    for i in range(n):
        lon, lat = rnd.uniform(66.2, 73.8), rnd.uniform(45.2, 50.8)
        size = rnd.choice((0.004, 0.01, 0.03, 0.06))
        out.append((square(lon, lat, size), {"plot_id": f"D-{i}", "name": f"Плотный участок № {i} (тест)",
                                             "kind": "fund-area", "status": "open"}))
    return out


@pytest.fixture(scope="module")
def tokens(database_url: str) -> dict[str, dict[str, str]]:
    with psycopg.connect(database_url) as conn:
        _, operator = create_token(conn, "operator", "tiles test")
        conn.commit()
    return {"operator": {"Authorization": f"Bearer {operator}"}}


@pytest.fixture(scope="module")
def client(database_url: str, tokens: dict[str, dict[str, str]],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings
    from layers.grid_build import build_grid

    build_grid(database_url, bbox=GRID_BBOX, progress=False)
    get_settings.cache_clear()
    tmp = tmp_path_factory.mktemp("tiles")
    with TestClient(create_app()) as c:
        op = tokens["operator"]
        plots = [(box_polygon(PLOT_BOX), PLOT),
                 (box_polygon(TINY), {"plot_id": "TINY", "name": "Speck", "kind": "common-minerals"}),
                 (None, {"plot_id": "BL-1", "name": "Блоктар", "kind": "fund-area", "status": "auction",
                         "blocks": "M-42-121-(10а-5а-1,2,6,7)"}),
                 *dense_plots()]
        post(c, "subsoil-plots", write_json(tmp / "plots.geojson", feature_collection(plots)), op)
        studies = [(box_polygon(STUDY_PUBLIC), {"study_id": "GS-PUB", "name": "Открытая съёмка",
                                                "study_type": "geophysical", "year_start": 1975, "year_end": 1978}),
                   (box_polygon(STUDY_SECRET), {"study_id": "GS-DSP", "name": "Съёмка ДСП",
                                                "study_type": "geochemical", "year_start": 1981,
                                                "access_level": "official-use"})]
        post(c, "geological-studies", write_json(tmp / "studies.geojson", feature_collection(studies)), op)
        yield c


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- tile matrix sets and metadata ---------------------------------------------------------------

def test_tile_matrix_sets(client: TestClient) -> None:
    r = client.get("/ogc/tileMatrixSets")
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()["tileMatrixSets"]}
    assert set(listed) == {"WebMercatorQuad", "WorldCRS84Quad"}
    for t in listed.values():
        assert t["uri"].startswith("http://www.opengis.net/def/tilematrixset/OGC/1.0/")
        assert client.get(next(x["href"] for x in t["links"] if x["rel"] == "self")).status_code == 200

    wm = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert wm["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857" and wm["orderedAxes"] == ["X", "Y"]
    assert [m["id"] for m in wm["tileMatrices"]] == [str(z) for z in range(25)]
    m0, m10 = wm["tileMatrices"][0], wm["tileMatrices"][10]
    assert m0["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert m0["cellSize"] == pytest.approx(156543.03392804097)
    assert m0["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])
    assert (m10["matrixWidth"], m10["matrixHeight"], m10["tileWidth"]) == (1024, 1024, 256)
    assert m10["cornerOfOrigin"] == "topLeft"

    crs84 = client.get("/ogc/tileMatrixSets/WorldCRS84Quad").json()
    assert crs84["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    # Tile matrices 0–23 as in the OGC registry's definition (we serve tiles up to 15).
    assert [m["id"] for m in crs84["tileMatrices"]] == [str(z) for z in range(24)]
    c0 = crs84["tileMatrices"][0]
    assert (c0["matrixWidth"], c0["matrixHeight"]) == (2, 1)
    assert c0["scaleDenominator"] == pytest.approx(279541132.0143589)
    assert c0["cellSize"] == pytest.approx(0.703125) and c0["pointOfOrigin"] == [-180.0, 90.0]
    assert crs84["boundingBox"] == {"lowerLeft": [-180.0, -90.0], "upperRight": [180.0, 90.0],
                                    "crs": crs84["crs"]}

    # Both are morecantile's (the OGC registry's) definitions, plus a bounding box, links, and
    # TMS 1.0's names of the same values for GDAL before 3.7.
    old_names = {"identifier": "id", "supportedCRS": "crs"}
    for doc in (wm, crs84):
        assert all(doc[old] == doc[new] for old, new in old_names.items())
        assert all(m["identifier"] == m["id"] and m["topLeftCorner"] == m["pointOfOrigin"] for m in doc["tileMatrices"])
        served = {k: v for k, v in doc.items() if k not in ("links", "boundingBox", *old_names)}
        served["tileMatrices"] = [{k: v for k, v in m.items() if k not in ("identifier", "topLeftCorner")}
                                  for m in served["tileMatrices"]]
        assert served == morecantile.tms.get(doc["id"]).model_dump(mode="json", exclude_none=True)

    r = client.get("/ogc/tileMatrixSets/GoogleCRS84Quad")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "WorldCRS84Quad"])
def test_tile_bounds_agree_with_morecantile(tms_id: str) -> None:
    # The per-tile arithmetic runs on numbers taken from morecantile at import, not on its models.
    from tiles.tms import TILE_MATRIX_SETS

    tms, reference = TILE_MATRIX_SETS[tms_id], morecantile.tms.get(tms_id)
    rng = random.Random(6)
    for z in range(tms.serve_max_zoom + 1):
        cols, rows = tms.matrix_size(z)
        assert (cols, rows) == (reference.matrix(z).matrixWidth, reference.matrix(z).matrixHeight)
        for x, y in [(0, 0), (cols - 1, rows - 1), *((rng.randrange(cols), rng.randrange(rows)) for _ in range(5))]:
            assert tms.contains(z, x, y) and tms.bounds_lonlat(z, x, y) == pytest.approx(
                tuple(reference.bounds(morecantile.Tile(x, y, z))), abs=1e-9)
            west, south, east, north = tms.bounds_lonlat(z, x, y)
            assert tms.tile_width_degrees(z) == pytest.approx(east - west)
        assert not tms.contains(z, cols, 0) and not tms.contains(z, 0, rows) and not tms.contains(z, -1, 0)
    assert not tms.contains(tms.serve_max_zoom + 1, 0, 0)
    # Grown by a margin, a tile is clipped to the matrix set's extent (no wrap at the antimeridian).
    west, south, east, north = tms.bounds_lonlat(0, 0, 0, margin=0.25)
    top = 90.0 if tms_id == "WorldCRS84Quad" else reference.bbox.top
    assert (west, north) == pytest.approx((-180.0, top)) and south == pytest.approx(-top)


@pytest.mark.parametrize("path, layers", [("/ogc/tiles", MAP_LAYERS),
                                          ("/ogc/collections/geological-studies/tiles", ["geological-studies"]),
                                          ("/ogc/collections/blocks/tiles", ["blocks"])])
def test_tilesets_link_to_working_tiles(client: TestClient, path: str, layers: list[str]) -> None:
    listing = client.get(path).json()
    assert {t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in listing["tilesets"]} == {"WebMercatorQuad",
                                                                                       "WorldCRS84Quad"}
    for summary in listing["tilesets"]:
        rels = {x["rel"]: x["href"] for x in summary["links"]}
        assert summary["dataType"] == "vector" and "crs" in summary
        assert client.get(rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]).status_code == 200
        meta = client.get(rels["self"]).json()
        assert meta["dataType"] == "vector" and meta["crs"] == summary["crs"]
        assert [layer["id"] for layer in meta["layers"]] == layers
        for layer in meta["layers"]:
            assert layer["propertiesSchema"]["type"] == "object" and layer["propertiesSchema"]["properties"]
        links = {x["rel"]: x for x in meta["links"]}
        item = links["item"]
        assert item["templated"] and item["type"] == MVT_TYPE
        assert "{tileMatrix}/{tileRow}/{tileCol}" in item["href"] and f"?v={meta['version']}" in item["href"]
        tms = meta["tileMatrixSetURI"].rsplit("/", 1)[1]
        z, (lon, lat) = 6, (71.2, 47.5)       # a point with data of every layer
        if tms == "WebMercatorQuad":
            x, y = tile_of(lon, lat, z)
            assert "alternate" in links and client.get(links["alternate"]["href"]).json()["tilejson"] == "3.0.0"
        else:
            x, y = int((lon + 180) / 360 * (2 << z)), int((90 - lat) / 180 * (1 << z))
        url = item["href"].format(tileMatrix=z, tileRow=y, tileCol=x)
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == MVT_TYPE
        assert set(decode(r.content)) <= set(layers)
        if "blocks" in layers:
            assert features(decode(r.content), "blocks")
        limits = {lim["tileMatrix"]: lim for lim in meta["tileMatrixSetLimits"]}
        assert limits["6"]["maxTileRow"] == 63


def test_conformance_and_landing_page_link_here(client: TestClient) -> None:
    from tiles.conformance import CONFORMANCE

    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in CONFORMANCE
    r = client.get("/ogc/conformance?f=json")
    assert r.status_code == 200 and set(CONFORMANCE) <= set(r.json()["conformsTo"])
    links = {x["rel"]: x["href"] for x in client.get("/ogc/?f=json").json()["links"]}
    assert client.get(links["http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"]).status_code == 200
    assert client.get(links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]).json()["tilesets"]
    collection = client.get("/ogc/collections/subsoil-plots?f=json").json()
    tiles = next(x["href"] for x in collection["links"] if x["rel"].endswith("tilesets-vector"))
    assert client.get(tiles).json()["tilesets"]


def test_tilejson(client: TestClient) -> None:
    for path, layers in (("/ogc/tiles/WebMercatorQuad/tilejson.json", MAP_LAYERS),
                         ("/ogc/collections/geological-studies/tiles/WebMercatorQuad/tilejson.json",
                          ["geological-studies"])):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        tj = r.json()
        # TileJSON 3.0.0: required tilejson, tiles, vector_layers (for vector tiles); types of the rest.
        assert tj["tilejson"] == "3.0.0"
        assert isinstance(tj["tiles"], list) and len(tj["tiles"]) == 1
        template = tj["tiles"][0]
        assert template.startswith("http") and all(p in template for p in ("{z}", "{x}", "{y}"))
        assert re.search(r"\?v=[0-9a-f]{16}$", template)
        assert tj["scheme"] == "xyz"
        assert isinstance(tj["minzoom"], int) and isinstance(tj["maxzoom"], int)
        assert 0 <= tj["minzoom"] <= tj["maxzoom"] <= 30 and tj["maxzoom"] == 16
        w, s, e, n = tj["bounds"]
        assert -180 <= w < e <= 180 and -85.06 <= s < n <= 85.06
        assert w <= CENTRE[0] <= e and s <= CENTRE[1] <= n
        lon, lat, zoom = tj["center"]
        assert w <= lon <= e and s <= lat <= n and tj["minzoom"] <= zoom <= tj["maxzoom"]
        assert [v["id"] for v in tj["vector_layers"]] == layers
        for v in tj["vector_layers"]:
            assert isinstance(v["fields"], dict) and v["fields"]
            assert set(v["fields"].values()) <= {"String", "Number", "Boolean"}
        # The template works and names the current version (so the tile is immutable).
        x, y = tile_of(*CENTRE, 8)
        t = client.get(template.replace("http://testserver", "").format(z=8, x=x, y=y))
        assert t.status_code in (200, 204) and "immutable" in t.headers["cache-control"]
    fields = {v["id"]: v["fields"] for v in client.get("/ogc/tiles/WebMercatorQuad/tilejson.json").json()[
        "vector_layers"]}
    assert fields["blocks"] == {"code": "String", "level": "String", "n_blocks": "Number"}
    assert {"id", "name", "kind", "status", "mineral", "valid_from"} <= set(fields["subsoil-plots"])
    assert "blocks" not in fields["subsoil-plots"] and "extra" not in fields["subsoil-plots"]
    assert {"id", "name", "kind", "regime"} <= set(fields["restriction-zones"])
    assert {"id", "name", "study_type", "year_start", "year_end", "access_level"} <= set(
        fields["geological-studies"])
    r = client.get("/ogc/tiles/WorldCRS84Quad/tilejson.json")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


# --- content: the right features at the right place -------------------------------------------------

def test_plot_at_the_right_place_with_its_properties(client: TestClient) -> None:
    for z in (8, 11, 14):
        lon, lat = (PLOT_BOX[0] + PLOT_BOX[2]) / 2, (PLOT_BOX[1] + PLOT_BOX[3]) / 2
        x, y = tile_of(lon, lat, z)
        tile = get_tile(client, map_url(z, x, y))
        assert list(tile) == [name for name in MAP_LAYERS if name in tile]   # layer names, in order
        plot = by_id(tile, "subsoil-plots")["P-1"]
        props = plot["properties"]
        assert props == {k: v for k, v in {**PLOT, "id": "P-1"}.items() if k != "plot_id"}
        assert isinstance(plot["id"], int)   # MVT feature id (for feature-state)
        expected = expected_px_box(*PLOT_BOX, z, x, y)
        # Clipped to the tile plus its 64-unit buffer at high zoom.
        clipped = clip(expected)
        assert_box(px_bounds(plot), clipped)


def test_block_list_plot_covers_its_blocks(client: TestClient) -> None:
    w, _, _, n = block_bounds("M-42-121-(10а-5а-1)")    # the north-west block
    _, s, e, _ = block_bounds("M-42-121-(10а-5а-7)")    # second row, second column
    z = 12
    x, y = tile_of((w + e) / 2, (s + n) / 2, z)
    plot = by_id(get_tile(client, map_url(z, x, y)), "subsoil-plots")["BL-1"]
    assert plot["properties"]["status"] == "auction" and "blocks" not in plot["properties"]
    box = expected_px_box(w, s, e, n, z, x, y)
    assert_box(px_bounds(plot), clip(box))


def test_specks_are_left_out_at_low_zoom_only(client: TestClient) -> None:
    lon, lat = (TINY[0] + TINY[2]) / 2, (TINY[1] + TINY[3]) / 2
    for z, present in ((5, False), (8, False), (12, True), (16, True)):
        x, y = tile_of(lon, lat, z)
        assert ("TINY" in by_id(get_tile(client, map_url(z, x, y)), "subsoil-plots")) is present, z
    # The large plot (0.2° x 0.15°) is there from the zoom where it is a pixel wide.
    for z in range(3, 17):
        x, y = tile_of(70.15, 48.12, z)
        assert "P-1" in by_id(get_tile(client, map_url(z, x, y)), "subsoil-plots"), z


EXPECTED_LEVELS = ["sheet"] * 6 + ["sheet100k"] * 2 + ["cell10", "cell5"] + ["block"] * 7
assert BLOCK_ZOOM == 10


@pytest.mark.parametrize("z", range(0, 17))
def test_blocks_level_codes_and_counts(client: TestClient, db: psycopg.Connection, z: int) -> None:
    lon, lat = 70.5 + 1 / 120, 48.5 + 1 / 120        # the middle of block L-42-... (a 1' block)
    x, y = tile_of(lon, lat, z)
    tile = get_tile(client, f"/ogc/collections/blocks/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert list(tile) == ["blocks"]
    level = level_for(z)
    assert level.name == EXPECTED_LEVELS[z]
    assert {f["properties"]["level"] for f in features(tile, "blocks")} == {level.name}
    cell = feature_at(tile, "blocks", to_px(lon, lat, z, x, y))
    code = cell_code(level.name, lon, lat)
    assert cell["properties"]["code"] == code
    # The count is the number of grid blocks in the cell; the outline is the cell's rectangle.
    m_lon, m_lat = minute_index(lon), minute_index(lat)
    if level.name == "block":
        assert cell["properties"]["n_blocks"] == 1 and cell["properties"]["code"] == block_code(lon, lat)
        assert_box(px_bounds(cell), clip(expected_px_box(*block_bounds(code), z, x, y)))
    else:
        pattern = {"sheet": code + "-%", "sheet100k": code + "-%", "cell10": code[:-1] + "-%",
                   "cell5": code[:-1] + "-%"}[level.name]
        count, w, s, e, n = db.execute(
            "SELECT c, ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM "
            "(SELECT count(*) AS c, ST_Extent(geom) AS x FROM blocks WHERE code LIKE %s) q", (pattern,)).fetchone()
        assert cell["properties"]["n_blocks"] == count > 0
        if count == level.full:   # a whole cell of the nomenclature
            x0 = (m_lon + 10800) // level.width * level.width - 10800
            y0 = m_lat // level.height * level.height
            assert (w, s, e, n) == pytest.approx((x0 / 60, y0 / 60, (x0 + level.width) / 60, (y0 + level.height) / 60))
        # The outline is that of the cell's blocks (clipped to the tile and its buffer).
        box = expected_px_box(w, s, e, n, z, x, y)
        assert_box(px_bounds(cell), clip(box))


def test_block_cells_agree_with_the_grid(db: psycopg.Connection, client: TestClient) -> None:
    total = db.execute("SELECT count(*) FROM blocks").fetchone()[0]
    assert total == 480 * 360
    rows = db.execute("SELECT level, count(*), sum(n_blocks) FROM block_cells GROUP BY level").fetchall()
    assert {r[0]: r[2] for r in rows} == {lv.name: total for lv in LEVELS[:-1]}
    # Each cell's code is computed in SQL; check a sample against the Python nomenclature, and
    # that the cell covers the blocks whose codes it prefixes.
    sample = db.execute("SELECT level, code, m_lon, m_lat, ST_AsText(ST_PointOnSurface(geom)) FROM block_cells "
                        "ORDER BY md5(code) LIMIT 200").fetchall()
    for level, code, m_lon, m_lat, _ in sample:
        assert cell_code(level, (m_lon + 0.5) / 60, (m_lat + 0.5) / 60) == code
    outside = db.execute(
        "SELECT count(*) FROM (SELECT b.geom, c.geom AS cg FROM blocks b JOIN block_cells c "
        "ON c.level = 'cell5' AND c.code = regexp_replace(b.code, '-[0-9]+\\)$', ')') "
        "WHERE b.id % 97 = 0) j WHERE NOT ST_Covers(cg, ST_PointOnSurface(geom))").fetchone()[0]
    assert outside == 0


def test_crs84_tiles(client: TestClient) -> None:
    lon, lat = 70.5 + 1 / 120, 48.5 + 1 / 120
    z = 9                                     # CRS84 z9 ~ WebMercator z10: single blocks
    cols, rows = 2 << z, 1 << z
    x, y = int((lon + 180) / 360 * cols), int((90 - lat) / 180 * rows)
    tile = get_tile(client, f"/ogc/collections/blocks/tiles/WorldCRS84Quad/{z}/{y}/{x}")
    px = ((lon + 180) / 360 * cols - x) * EXTENT, ((90 - lat) / 180 * rows - y) * EXTENT
    block = feature_at(tile, "blocks", px)
    assert block["properties"]["code"] == block_code(lon, lat) and block["properties"]["level"] == "block"
    w, s, e, n = block_bounds(block_code(lon, lat))
    to = lambda lo, la: (((lo + 180) / 360 * cols - x) * EXTENT, ((90 - la) / 180 * rows - y) * EXTENT)  # noqa: E731
    assert_box(px_bounds(block), (*to(w, n), *to(e, s)))
    x4, y4 = int((lon + 180) / 360 * (2 << 4)), int((90 - lat) / 180 * (1 << 4))
    assert {f["properties"]["level"] for f in features(
        get_tile(client, f"/ogc/collections/blocks/tiles/WorldCRS84Quad/4/{y4}/{x4}"), "blocks")} == {"sheet"}


def test_non_public_studies_need_a_token(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    z = 9
    x, y = tile_of(71.35, 47.5, z)          # holds both studies (71.1–71.6° E)
    for url in (map_url(z, x, y), f"/ogc/collections/geological-studies/tiles/WebMercatorQuad/{z}/{y}/{x}"):
        anonymous = client.get(url)
        authorised = client.get(url, headers=tokens["operator"])
        assert set(by_id(decode(anonymous.content), "geological-studies")) == {"GS-PUB"}
        studies = by_id(decode(authorised.content), "geological-studies")
        assert set(studies) == {"GS-PUB", "GS-DSP"}
        assert studies["GS-DSP"]["properties"]["access_level"] == "official-use"
        assert studies["GS-PUB"]["properties"] == {
            "id": "GS-PUB", "name": "Открытая съёмка", "study_type": "geophysical", "year_start": 1975,
            "year_end": 1978, "access_level": "public"}
        assert anonymous.headers["etag"] != authorised.headers["etag"]
        assert authorised.headers["cache-control"].startswith("private")
        # The anonymous ETag does not unlock the authorised tile, nor the other way round.
        r = client.get(url, headers={**tokens["operator"], "If-None-Match": anonymous.headers["etag"]})
        assert r.status_code == 200 and "GS-DSP" in by_id(decode(r.content), "geological-studies")
        assert_box(px_bounds(studies["GS-DSP"]), clip(expected_px_box(*STUDY_SECRET, z, x, y)))
    r = client.get(map_url(z, x, y), headers={"Authorization": "Bearer gs_not_a_token"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


# --- size ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("z", range(0, 17))
def test_densest_tiles_stay_under_500_kb(client: TestClient, tokens: dict[str, dict[str, str]], z: int) -> None:
    cx, cy = tile_of(*CENTRE, z)
    n = 1 << z
    for authorised in (False, True):
        largest = 0
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                x, y = (cx + dx) % n, min(max(cy + dy, 0), n - 1)
                r = client.get(map_url(z, x, y), headers={"Accept-Encoding": "identity",
                                                           **(tokens["operator"] if authorised else {})})
                assert r.status_code in (200, 204)
                assert len(r.content) < SIZE_LIMIT, (z, x, y, len(r.content))
                largest = max(largest, len(r.content))
        SIZES[(z, authorised)] = largest
    # The middle of the grid always shows blocks (or their cells) and the country.
    tile = decode(client.get(map_url(z, cx, cy)).content)
    assert features(tile, "blocks") and features(tile, "country")
    if z == 16:
        print("\nlargest map tile around 70°E 48°N (bytes, anonymous / authorised):")
        for zoom in range(17):
            print(f"  z{zoom:<2} {SIZES.get((zoom, False), 0):>8} {SIZES.get((zoom, True), 0):>8}")


def test_oversized_tiles_drop_more_specks(client: TestClient, db: psycopg.Connection) -> None:
    from tiles.layers import MAP
    from tiles.sql import tile_sql

    service = client.app.state.tiles
    z = 6
    x, y = tile_of(*CENTRE, z)
    full = client.get(map_url(z, x, y), headers={"Accept-Encoding": "identity"}).content
    plots = len(features(decode(full), "subsoil-plots"))
    assert plots > 200
    # What the tile is with specks of up to 4 px dropped, the service's first fallback.
    coarser = bytes(db.execute(tile_sql(MAP, client.app.state.registry, "WebMercatorQuad", z, x, y,
                                        min_pixels=4).literal()).fetchone()[0])
    assert len(coarser) < len(full)
    limit = service.max_bytes
    service.max_bytes = len(coarser)   # pretend the full tile were over the limit
    service.cache.clear()
    try:
        served = client.get(map_url(z, x, y), headers={"Accept-Encoding": "identity"}).content
        assert canonical(served) == canonical(coarser)
        small = decode(served)
        assert 0 < len(features(small, "subsoil-plots")) < plots
        assert "P-1" in by_id(small, "subsoil-plots")          # the big plot stays
        assert len(features(small, "blocks")) == len(features(decode(full), "blocks"))
    finally:
        service.max_bytes = limit
        service.cache.clear()


# --- HTTP caching -----------------------------------------------------------------------------------

def test_etag_304_gzip_and_cache_control(client: TestClient) -> None:
    v = client.get("/ogc/tiles/WebMercatorQuad/tilejson.json").json()["tiles"][0].rsplit("=", 1)[1]
    x, y = tile_of(*CENTRE, 9)
    url = map_url(9, x, y)
    cache = client.app.state.tiles.cache
    hits = cache.hits
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding, Authorization"
    assert plain.headers["cache-control"] == "no-cache"       # no v: revalidate every time
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content                      # httpx unpacked it
    assert packed.num_bytes_downloaded < len(plain.content) / 2
    assert packed.headers["etag"] != plain.headers["etag"]     # two representations
    assert cache.hits >= hits + 1
    for match in (plain.headers["etag"], f'"other", {packed.headers["etag"]}', f'W/{plain.headers["etag"]}', "*"):
        r = client.get(url, headers={"If-None-Match": match})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"]
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"Accept-Encoding": "gzip;q=0"}).headers.get("content-encoding") is None
    current = client.get(f"{url}?v={v}")
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert current.headers["etag"] == packed.headers["etag"]
    assert client.get(f"{url}?v=0000000000000000").headers["cache-control"] == "no-cache"
    head = client.head(url, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(plain.content) and head.headers["etag"] == plain.headers["etag"]


def test_fast_path_answers_as_the_routes_do(client: TestClient, tokens: dict[str, dict[str, str]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Tile requests are answered by a middleware before the router (tiles.routes.TileFastPath);
    # an app without it must give the same answers, byte for byte, headers included.
    from geoservice.app import create_app
    from tiles import routes

    x, y = tile_of(*CENTRE, 9)
    v = client.get("/ogc/tiles/WebMercatorQuad/tilejson.json").json()["tiles"][0].rsplit("=", 1)[1]
    etag = client.get(map_url(9, x, y), headers={"Accept-Encoding": "identity"}).headers["etag"]
    cases = [("GET", map_url(9, x, y), {"Accept-Encoding": "identity"}),
             ("GET", map_url(9, x, y), {"Accept-Encoding": "gzip"}),
             ("GET", f"{map_url(9, x, y)}?v={v}", {"Accept-Encoding": "identity"}),
             ("GET", map_url(9, x, y), {"If-None-Match": etag}),
             ("HEAD", map_url(9, x, y), {"Accept-Encoding": "identity"}),
             ("GET", map_url(10, 0, 0), {}),                                        # empty: 204
             ("GET", "/ogc/collections/blocks/tiles/WebMercatorQuad/12/1430/2855", {"Accept-Encoding": "identity"}),
             ("GET", "/ogc/collections/geological-studies/tiles/WorldCRS84Quad/6/15/89", tokens["operator"]),
             ("GET", map_url(9, x, y), {"Authorization": "Bearer wrong"}),         # 401
             ("GET", "/ogc/tiles/WebMercatorQuad/17/0/0", {"Accept-Language": "kk"}),
             ("GET", "/ogc/collections/volcanoes/tiles/WebMercatorQuad/0/0/0", {"Accept-Language": "ru"}),
             ("GET", "/ogc/tiles/Mars/0/0/0", {}),
             ("GET", "/ogc/tiles/WebMercatorQuad/a/0/0", {})]                      # not a tile address

    def answers(c: TestClient) -> list[tuple[int, dict[str, str], bytes]]:
        out = []
        for method, url, headers in cases:
            r = c.request(method, url, headers=headers)
            out.append((r.status_code, {k: v for k, v in r.headers.items() if k != "date"}, r.content))
        return out

    async def not_here(*args: object) -> None:
        raise AssertionError("a tile request went through the router")

    with monkeypatch.context() as patch:
        patch.setattr(routes._TileApp, "__call__", not_here)
        fast = answers(client)
    plain_app = create_app()
    plain_app.user_middleware = [m for m in plain_app.user_middleware if m.cls is not routes.TileFastPath]
    with TestClient(plain_app) as plain:
        assert answers(plain) == fast
    assert [status for status, _, _ in fast] == [200, 200, 200, 304, 200, 204, 200, 200, 401, 404, 404, 404, 400]


def test_tile_sql_runs_as_is_on_postgresql(client: TestClient, db: psycopg.Connection) -> None:
    """The statement the benchmark runs directly gives exactly the bytes the server sends."""
    from tiles.layers import MAP, collection_tileset
    from tiles.sql import tile_sql

    registry = client.app.state.registry
    # Tiles run on the service's own connections, which keep their session between tiles.
    service = client.app.state.tiles
    assert service.pool is not client.app.state.pool

    async def settings() -> list[str]:
        out = []
        for _ in range(3):
            async with service.pool.acquire() as conn:
                await conn.execute("SET application_name = 'tiles'")   # a RESET ALL would undo it
                out.append(await conn.fetchval("SELECT current_setting('jit') || current_setting('application_name')"))
        return out

    assert client.portal.call(settings)[1:] == ["offtiles", "offtiles"]
    for tileset, z in ((MAP, 9), (MAP, 12), (collection_tileset("blocks"), 6)):
        x, y = tile_of(*CENTRE, z)
        query = tile_sql(tileset, registry, "WebMercatorQuad", z, x, y)
        assert "ST_AsMVT(" in query.sql and "ST_TileEnvelope(" in query.sql and "&&" in query.sql
        path = map_url(z, x, y) if tileset is MAP else f"/ogc/collections/blocks/tiles/WebMercatorQuad/{z}/{y}/{x}"
        served = client.get(path, headers={"Accept-Encoding": "identity"}).content
        assert canonical(bytes(db.execute(query.literal()).fetchone()[0])) == canonical(served)


def test_empty_tiles_are_204(client: TestClient) -> None:
    r = client.get(map_url(3, 0, 0))                     # the Americas
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"]
    assert client.get(map_url(3, 0, 0), headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_new_version_is_served_at_once_with_new_etag(client: TestClient, tokens: dict[str, dict[str, str]],
                                                     tmp_path: Path) -> None:
    op = tokens["operator"]
    place = (70.30, 48.30, 70.36, 48.34)

    def zone(zid: str, name: str) -> dict[str, Any]:
        return feature_collection([(box_polygon(place), {"zone_id": zid, "name": name, "kind": "settlement",
                                                         "regime": "prohibited"})])

    post(client, "restriction-zones", write_json(tmp_path / "v1.geojson", zone("ZA", "Зона А")), op)
    blocks_v = client.get("/ogc/collections/blocks/tiles/WebMercatorQuad/tilejson.json").json()["tiles"][0].rsplit(
        "=", 1)[1]
    z = 12
    x, y = tile_of(70.33, 48.32, z)
    tilesets = {map_url(z, x, y): "/ogc/tiles/WebMercatorQuad/tilejson.json",
                f"/ogc/collections/restriction-zones/tiles/WebMercatorQuad/{z}/{y}/{x}":
                "/ogc/collections/restriction-zones/tiles/WebMercatorQuad/tilejson.json"}

    def version(tilejson: str) -> str:
        return client.get(tilejson).json()["tiles"][0].rsplit("=", 1)[1]

    first, v1 = {}, {}
    for url, tilejson in tilesets.items():
        v1[url] = version(tilejson)
        r = client.get(f"{url}?v={v1[url]}")
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        zones = by_id(decode(r.content), "restriction-zones")
        assert set(zones) == {"ZA"} and zones["ZA"]["properties"]["regime"] == "prohibited"
        assert_box(px_bounds(zones["ZA"]), clip(expected_px_box(*place, z, x, y)))
        assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        first[url] = r

    post(client, "restriction-zones", write_json(tmp_path / "v2.geojson", zone("ZB", "Зона Б")), op)
    # Asked at once after the upload answered: the new version, never the cached old one.
    for url, tilejson in tilesets.items():
        v2 = version(tilejson)
        assert v2 != v1[url]
        for query in ("", f"?v={v1[url]}", f"?v={v2}"):
            r = client.get(url + query)
            assert set(by_id(decode(r.content), "restriction-zones")) == {"ZB"}, query
            assert r.headers["etag"] != first[url].headers["etag"]
            expected = "public, max-age=31536000, immutable" if query.endswith(v2) else "no-cache"
            assert r.headers["cache-control"] == expected
        r = client.get(url, headers={"If-None-Match": first[url].headers["etag"]})
        assert r.status_code == 200 and "ZB" in by_id(decode(r.content), "restriction-zones")
    # A worker that has not yet heard of the upload (its NOTIFY still on the way) and is asked
    # for the new version looks it up instead of answering with the old tiles.
    registry = client.app.state.registry
    current = dict(registry._collections)
    post(client, "restriction-zones", write_json(tmp_path / "v3.geojson", zone("ZC", "Зона В")), op)
    v3 = version("/ogc/tiles/WebMercatorQuad/tilejson.json")
    registry._collections = current            # as it was before the upload
    client.app.state.tiles._caught_up = -1e9   # no refresh was made lately
    r = client.get(f"{map_url(z, x, y)}?v={v3}")
    assert set(by_id(decode(r.content), "restriction-zones")) == {"ZC"}
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Other layers' per-collection tilesets keep their version (their cached tiles stay valid).
    assert version("/ogc/collections/blocks/tiles/WebMercatorQuad/tilejson.json") == blocks_v


def test_errors_are_problems(client: TestClient) -> None:
    cases = [("/ogc/tiles/WebMercatorQuad/17/0/0", 404, "tiles.out_of_range"),
             ("/ogc/tiles/WebMercatorQuad/3/8/0", 404, "tiles.out_of_range"),
             ("/ogc/tiles/WebMercatorQuad/3/0/-1", 404, "tiles.out_of_range"),
             ("/ogc/tiles/WorldCRS84Quad/0/1/0", 404, "tiles.out_of_range"),
             ("/ogc/tiles/WorldCRS84Quad/16/0/0", 404, "tiles.out_of_range"),
             ("/ogc/tiles/WebMercatorQuad/a/0/0", 400, "http.bad_request"),
             ("/ogc/tiles/EuropeanETRS89/3/0/0", 404, "tiles.unknown_tms"),
             ("/ogc/tiles/EuropeanETRS89", 404, "tiles.unknown_tms"),
             ("/ogc/collections/volcanoes/tiles", 404, "tiles.unknown_collection"),
             ("/ogc/collections/volcanoes/tiles/WebMercatorQuad/0/0/0", 404, "tiles.unknown_collection"),
             ("/ogc/collections/blocks/tiles/Mars/0/0/0", 404, "tiles.unknown_tms")]
    for url, status, key in cases:
        r = client.get(url)
        assert r.status_code == status, url
        assert r.headers["content-type"] == "application/problem+json", url
        assert r.json()["type"].endswith(key), (url, r.json())
    assert client.get("/ogc/tiles/WorldCRS84Quad/0/0/1").status_code in (200, 204)
    texts = {lang: client.get("/ogc/tiles/WebMercatorQuad/17/0/0", headers={"Accept-Language": lang}).json()[
        "detail"] for lang in ("en", "ru", "kk")}
    assert "does not exist" in texts["en"] and "нет в" in texts["ru"] and "тайлы жоқ" in texts["kk"]
    assert "“volcanoes”" in client.get("/ogc/collections/volcanoes/tiles").json()["detail"]


def test_gdal_reads_the_tiles(client: TestClient, tmp_path: Path) -> None:
    z = 11
    x, y = tile_of(70.15, 48.12, z)
    path = tmp_path / f"{z}-{x}-{y}.mvt"
    path.write_bytes(client.get(map_url(z, x, y), headers={"Accept-Encoding": "identity"}).content)
    decoded = decode(path.read_bytes())
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}",
                          str(path)], capture_output=True, text=True, check=True).stdout
    counts = dict(re.findall(r"Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)", out))
    assert {k: int(v) for k, v in counts.items()} == {k: len(v["features"]) for k, v in decoded.items()}
    assert set(counts) >= {"country", "blocks", "subsoil-plots"}
    code = block_code(70.15, 48.12)
    out = subprocess.run(["ogrinfo", "-ro", "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}", str(path),
                          "-where", f"code = '{code}'", "blocks"], capture_output=True, text=True, check=True).stdout
    assert "Feature Count: 1" in out and code in out
    # Georeferenced: the block's polygon is where the block is, in EPSG:3857 metres.
    w, s, e, n = block_bounds(code)
    mx = [6378137 * math.radians(v) for v in (w, e)]
    my = [6378137 * math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (s, n)]
    ring = [tuple(map(float, p.split())) for p in re.search(r"POLYGON \(\((.*?)\)\)", out).group(1).split(",")]
    tol = 2 * 40075016.7 / (1 << z) / EXTENT
    assert min(p[0] for p in ring) == pytest.approx(mx[0], abs=tol) and max(p[0] for p in ring) == pytest.approx(
        mx[1], abs=tol)
    assert min(p[1] for p in ring) == pytest.approx(my[0], abs=tol) and max(p[1] for p in ring) == pytest.approx(
        my[1], abs=tol)


# --- the cache on its own -------------------------------------------------------------------------

def test_cache_builds_once_and_keeps_to_its_budget() -> None:
    async def scenario() -> None:
        cache = TileCache(budget=10_000)
        calls = 0

        async def build() -> bytes:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return b"x" * 1000

        key = ("map", ("1",), False, "WebMercatorQuad", 1, 0, 0)
        tiles = await asyncio.gather(*(cache.get_or_build(key, build) for _ in range(20)))
        assert calls == 1 and all(t is tiles[0] for t in tiles)
        for i in range(30):
            await cache.get_or_build(("map", ("1",), False, "WebMercatorQuad", 5, i, 0), build)
            assert cache.bytes <= cache.budget
        assert len(cache) < 30 and cache.get(key) is None          # the oldest went first
        assert gzip.decompress(await cache.gzipped(key, tiles[0])) == b"x" * 1000

        async def broken() -> bytes:
            raise RuntimeError("db down")

        with pytest.raises(RuntimeError):
            await cache.get_or_build(("map", ("2",), False, "WebMercatorQuad", 0, 0, 0), broken)
        tile = await cache.get_or_build(("map", ("2",), False, "WebMercatorQuad", 0, 0, 0), build)
        assert tile.raw == b"x" * 1000   # a failure is not cached

        # The request building a tile is cancelled: one that waited for it builds it instead.
        started = asyncio.Event()

        async def slow() -> bytes:
            nonlocal calls
            calls += 1
            started.set()
            await asyncio.sleep(0.05)
            return b"y" * 10

        calls = 0
        key = ("map", ("3",), False, "WebMercatorQuad", 0, 0, 0)
        builder = asyncio.ensure_future(cache.get_or_build(key, slow))
        await started.wait()
        waiters = [asyncio.ensure_future(cache.get_or_build(key, slow)) for _ in range(2)]
        await asyncio.sleep(0)
        builder.cancel()
        tiles = await asyncio.gather(*waiters)
        assert tiles[0].raw == b"y" * 10 and tiles[1] is tiles[0] and calls == 2
        with pytest.raises(asyncio.CancelledError):
            await builder
        # A waiter cancelled leaves the builder alone.
        started.clear()
        key = ("map", ("4",), False, "WebMercatorQuad", 0, 0, 0)
        builder = asyncio.ensure_future(cache.get_or_build(key, slow))
        await started.wait()
        waiter = asyncio.ensure_future(cache.get_or_build(key, slow))
        await asyncio.sleep(0)
        waiter.cancel()
        assert (await builder).raw == b"y" * 10 and calls == 3 and cache.get(key) is not None
        with pytest.raises(asyncio.CancelledError):
            await waiter

    asyncio.run(scenario())


def test_tile_connections_limit_hand_over_and_recover(database_url: str) -> None:
    from tiles.service import Connections

    async def pending(future: asyncio.Future[Any]) -> bool:
        await asyncio.sleep(0.05)
        return not future.done()

    async def scenario() -> None:
        conns = Connections(database_url, size=2)
        a, b = await conns.get(), await conns.get()
        assert await a.fetchval("SELECT current_setting('plan_cache_mode') || current_setting('jit')") == \
            "force_generic_planoff"
        waiting = asyncio.ensure_future(conns.get())
        assert await pending(waiting)                      # both are out: the third waits
        conns.put(a)
        assert await waiting is a                          # handed over, not a new connection

        waiting = asyncio.ensure_future(conns.get())
        assert await pending(waiting)
        conns.put(b, broken=True)                          # closed; its place goes to the waiter
        c = await waiting
        assert b.is_closed() and c is not b and await c.fetchval("SELECT 1") == 1

        waiting = asyncio.ensure_future(conns.get())
        assert await pending(waiting)
        waiting.cancel()                                   # a waiter that gives up takes nothing
        conns.put(a)
        conns.put(c)
        assert [await conns.get(), await conns.get()] == [c, a]   # the most recently used first
        waiting = asyncio.ensure_future(conns.get())
        assert await pending(waiting)                      # still two at most
        waiting.cancel()

        pid = await c.fetchval("SELECT pg_backend_pid()")
        conns.put(c)
        assert await a.fetchval("SELECT pg_terminate_backend($1)", pid)
        # The backend exits (and the socket closes) when it gets to it: wait until the client has
        # seen that, rather than a fixed 0.3 s that a loaded machine may not give it.
        deadline = time.monotonic() + 20
        while not c.is_closed():
            assert time.monotonic() < deadline, "the terminated connection was never seen closed"
            await asyncio.sleep(0.05)
        conns.put(a)
        victim = c
        fresh = [await conns.get(), await conns.get()]     # the server closed one: it is replaced
        assert victim not in fresh and all([await conn.fetchval("SELECT 1") for conn in fresh])
        for conn in fresh:
            conns.put(conn)
        await conns.close()
        assert all(conn.is_closed() for conn in fresh)
        with pytest.raises(asyncpg.InterfaceError):
            await conns.get()

    asyncio.run(scenario())


def test_grid_rebuild_changes_block_tiles(client: TestClient, database_url: str) -> None:
    from layers.grid_build import build_grid

    z = 11
    lon, lat = 73.5, 50.5
    x, y = tile_of(lon, lat, z)
    url = f"/ogc/collections/blocks/tiles/WebMercatorQuad/{z}/{y}/{x}"
    before = client.get(url)
    assert before.status_code == 200
    tj = "/ogc/collections/blocks/tiles/WebMercatorQuad/tilejson.json"
    v1 = client.get(tj).json()["tiles"][0]
    build_grid(database_url, bbox=(66.0, 45.0, 72.0, 51.0), progress=False)
    try:
        # The registry hears of the new grid by NOTIFY (or its poll) from the building process.
        wait_for(lambda: client.get(tj).json()["tiles"][0] != v1)
        after = client.get(url)
        assert after.status_code == 204 and after.headers["etag"] != before.headers["etag"]
        x, y = tile_of(71.5, 48.5, 4)
        cells = decode(client.get(f"/ogc/collections/blocks/tiles/WebMercatorQuad/4/{y}/{x}").content)
        assert {f["properties"]["code"] for f in features(cells, "blocks")} >= {"L-42", "M-42"}
        assert "L-43" not in {f["properties"]["code"] for f in features(cells, "blocks")}
    finally:
        build_grid(database_url, bbox=GRID_BBOX, progress=False)


def test_tile_json_is_valid_json_everywhere(client: TestClient) -> None:
    for path in ("/ogc/tiles", "/ogc/tiles/WorldCRS84Quad", "/ogc/collections/subsoil-plots/tiles/WorldCRS84Quad"):
        json.dumps(client.get(path).json())
