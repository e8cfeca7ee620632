"""Raster layers served (issue 12): map tiles (PNG/WebP, both tile matrix sets, newest sheet on
top, the grid ramp), coverages as GeoTIFF (read back with rasterio and with the system GDAL's
gdalinfo over HTTP), the value at a point, problems, the collections.

The COGs are made here with rasterio (driver COG, with overviews) under a temporary raster store
and their rows inserted directly: the upload side is tested elsewhere."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_bounds
from rasterio.warp import transform_bounds

from geoservice.kernel.settings import get_settings
from styles import rasters as looks
from tests.live import live_server
from tiles.tms import WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)
MAP = "geological-maps"
MAG = "geophysics-magnetic"
# The magnetic grid: UTM 43N, values rising west to east from -100 to 100 nT, a nodata corner.
GRID_BOUNDS = (400000.0, 5000000.0, 500000.0, 5100000.0)
GRID_SIZE = 1000


def make_cog(path: Path, data: np.ndarray, crs: str, bounds: tuple[float, float, float, float],
             nodata: float | None = None) -> None:
    count, height, width = data.shape
    with rasterio.open(path, "w", driver="COG", width=width, height=height, count=count, dtype=data.dtype,
                       crs=crs, transform=from_bounds(*bounds, width, height), nodata=nodata, blocksize=256,
                       overview_resampling="average") as dst:
        dst.write(data)


def insert_sheet(db: psycopg.Connection, store: Path, layer: str, sheet: str, data: np.ndarray, crs: str,
                 bounds: tuple[float, float, float, float], nodata: float | None = None) -> int:
    """A COG in the store and its rows (a version of one sheet), as the upload side leaves them."""
    version = db.execute("INSERT INTO raster_versions (layer_id, actor, source_file, source_format, checksum, "
                         "sheets) VALUES (%s, 'test', %s, 'geotiff', %s, 1) RETURNING id",
                         (layer, f"{sheet}.tif", "0" * 64)).fetchone()[0]
    relative = f"{layer}/{version}/{sheet}.tif"
    (store / relative).parent.mkdir(parents=True, exist_ok=True)
    make_cog(store / relative, data, crs, bounds, nodata)
    digest = hashlib.sha256((store / relative).read_bytes()).hexdigest()
    west, south, east, north = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    valid = data[0] != nodata if nodata is not None else np.ones(data.shape[1:], bool)
    stats = [{"min": float(b[valid].min()), "max": float(b[valid].max()), "mean": float(b[valid].mean())}
             for b in data]
    db.execute("INSERT INTO raster_sheets (layer_id, version_id, sheet, path, checksum, crs, footprint, width, "
               "height, bands, dtype, nodata, stats) VALUES (%s, %s, %s, %s, %s, %s, "
               "ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)), %s, %s, %s, %s, %s, %s)",
               (layer, version, sheet, relative, digest, crs, west, south, east, north, data.shape[2],
                data.shape[1], data.shape[0], str(data.dtype), nodata, orjson.dumps(stats).decode()))
    return int(version)


def solid(colour: tuple[int, int, int], size: int = 1000) -> np.ndarray:
    return np.stack([np.full((size, size), c, np.uint8) for c in colour])


def grid_values() -> np.ndarray:
    row = np.linspace(-100.0, 100.0, GRID_SIZE, dtype=np.float32)
    data = np.tile(row, (GRID_SIZE, 1))[None, :, :].copy()
    data[0, :100, :100] = -9999.0   # nodata in the north-west corner
    return data


def clear(db: psycopg.Connection) -> None:
    db.execute("DELETE FROM raster_sheets")
    db.execute("DELETE FROM raster_versions")


@pytest.fixture(scope="module")
def store(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("rasters")
    with psycopg.connect(database_url, autocommit=True) as db:
        clear(db)
        v1 = insert_sheet(db, root, MAP, "A", solid(RED), "EPSG:4326", (70.0, 45.0, 72.0, 47.0))
        v2 = insert_sheet(db, root, MAP, "B", solid(BLUE), "EPSG:4326", (71.0, 45.0, 73.0, 47.0))
        vg = insert_sheet(db, root, MAG, "M-43", grid_values(), "EPSG:32643", GRID_BOUNDS, nodata=-9999.0)
    try:
        yield {"root": root, "versions": (v1, v2, vg)}
    finally:
        with psycopg.connect(database_url, autocommit=True) as db:
            clear(db)   # other modules on this database list collections without rasters


@pytest.fixture(scope="module")
def api(store: dict[str, Any], database_url: str) -> Iterator[TestClient]:
    from geoservice.app import create_app

    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), raster_dir=str(store["root"]))
    with TestClient(create_app(settings)) as client:
        yield client


def tile_image(api: TestClient, path: str) -> np.ndarray:
    r = api.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))


def pixel_of(tms: Any, z: int, lon: float, lat: float) -> tuple[int, int, int, int]:
    """(x, y) of the tile and (column, row) of the pixel holding a point."""
    model = tms.model
    tile = model.tile(lon, lat, z)
    left, bottom, right, top = model.xy_bounds(tile)
    if tms.srid == 3857:
        x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    else:
        x, y = lon, lat
    col = int((x - left) / (right - left) * 256)
    row = int((top - y) / (top - bottom) * 256)
    return tile.x, tile.y, col, row


def test_map_tile_newest_sheet_on_top_and_transparent_outside(api: TestClient) -> None:
    z = 7
    for lon, lat, colour in ((70.5, 46.0, RED), (71.5, 46.0, BLUE), (72.5, 46.0, BLUE)):
        x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, z, lon, lat)
        img = tile_image(api, f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
        assert img.shape == (256, 256, 4)
        assert tuple(img[row, col]) == (*colour, 255), (lon, lat)
    # Outside the sheets (south of 45°, same tile column): transparent.
    x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, 5, 71.0, 46.0)
    img = tile_image(api, f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/5/{y}/{x}")
    _, _, _, row_south = pixel_of(WEB_MERCATOR_QUAD, 5, 71.0, 44.0)
    assert img[row_south, col, 3] == 0 and img[row, col, 3] == 255
    # A tile far from any sheet: no content (as vector tiles answer an empty tile).
    assert api.get(f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/7/40/40").status_code == 204


def test_world_crs84_quad_and_webp(api: TestClient) -> None:
    z = 6
    x, y, col, row = pixel_of(WORLD_CRS84_QUAD, z, 70.5, 46.5)
    img = tile_image(api, f"/ogc/collections/{MAP}/map/tiles/WorldCRS84Quad/{z}/{y}/{x}")
    assert tuple(img[row, col]) == (*RED, 255)
    _, _, col_b, row_b = pixel_of(WORLD_CRS84_QUAD, z, 72.5, 46.5)
    assert tuple(img[row_b, col_b]) == (*BLUE, 255)
    r = api.get(f"/ogc/collections/{MAP}/map/tiles/WorldCRS84Quad/{z}/{y}/{x}?f=webp")
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    webp = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    assert tuple(webp[row, col]) == (*RED, 255)   # lossless


def test_grid_tile_drawn_through_the_ramp(api: TestClient) -> None:
    z = 8
    stops = looks.stops(looks.RAMPS[MAG], [[{"min": -100.0, "max": 100.0}]])
    assert stops[0][0] == -100.0 and stops[-1][0] == 100.0   # symmetric, from the sheet's statistics
    lat = 45.5
    to_utm = Transformer.from_crs(4326, 32643, always_xy=True)
    for lon in (73.9, 74.3, 74.8):   # the grid spans lon ~73.7…75 at lat 45.5
        x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, z, lon, lat)
        img = tile_image(api, f"/ogc/collections/{MAG}/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
        easting, _ = to_utm.transform(lon, lat)
        value = -100.0 + 200.0 * (easting - GRID_BOUNDS[0]) / (GRID_BOUNDS[2] - GRID_BOUNDS[0])
        expected = [np.interp(value, [s[0] for s in stops], [s[1][c] for s in stops]) for c in range(3)]
        assert img[row, col, 3] == 255
        assert np.abs(img[row, col, :3].astype(float) - expected).max() <= 6, (lon, value, img[row, col])
    # The nodata corner is transparent: the grid's north-west corner at lon ~73.8, lat ~46.
    lon, lat = Transformer.from_crs(32643, 4326, always_xy=True).transform(GRID_BOUNDS[0] + 3000,
                                                                           GRID_BOUNDS[3] - 3000)
    x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, 9, lon, lat)
    img = tile_image(api, f"/ogc/collections/{MAG}/map/tiles/WebMercatorQuad/9/{y}/{x}")
    assert img[row, col, 3] == 0


def test_tilesets_and_tile_errors(api: TestClient) -> None:
    body = api.get(f"/ogc/collections/{MAG}/map/tiles").json()
    assert {t["crs"] for t in body["tilesets"]} == {WEB_MERCATOR_QUAD.crs, WORLD_CRS84_QUAD.crs}
    item = next(x for x in body["tilesets"][0]["links"] if x["rel"] == "item" and x["type"] == "image/png")
    assert item["href"].endswith(f"/ogc/collections/{MAG}/map/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/"
                                 "{tileCol}")
    r = api.get(f"/ogc/collections/{MAP}/map/tiles/Nope/1/0/0", headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = api.get(f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/1/5/0")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = api.get("/ogc/collections/nope/map/tiles/WebMercatorQuad/1/0/0", headers={"Accept-Language": "kk"})
    assert r.status_code == 404 and "растрлық" in r.json()["detail"]
    r = api.get(f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/1/0/0?f=gif")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_tile_etag_and_cache(api: TestClient) -> None:
    x, y, _, _ = pixel_of(WEB_MERCATOR_QUAD, 7, 71.5, 46.0)
    path = f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/7/{y}/{x}"
    first = api.get(path)
    again = api.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_coverage_of_the_map_is_rgb_geotiff(api: TestClient) -> None:
    r = api.get(f"/ogc/collections/{MAP}/coverage?bbox=70.5,45.5,71.5,46.5&width=100")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/tiff")
    with rasterio.MemoryFile(r.content) as memory, memory.open() as src:
        assert src.crs.to_epsg() == 4326 and (src.width, src.height) == (100, 100)
        assert np.allclose(tuple(src.bounds), (70.5, 45.5, 71.5, 46.5))
        data = src.read()
        assert tuple(data[:3, 50, 10]) == RED and tuple(data[:3, 50, 90]) == BLUE
        assert data[3, 50, 10] == 255


def test_coverage_of_the_grid_has_its_values(api: TestClient) -> None:
    lon0, lat0 = Transformer.from_crs(32643, 4326, always_xy=True).transform(450000, 5050000)
    box = (lon0 - 0.2, lat0 - 0.2, lon0 + 0.2, lat0 + 0.2)
    r = api.get(f"/ogc/collections/{MAG}/coverage", params={"bbox": ",".join(map(str, box))})
    assert r.status_code == 200, r.text
    with rasterio.MemoryFile(r.content) as memory, memory.open() as src:
        assert src.crs.to_epsg() == 4326 and src.dtypes[0] == "float32" and src.count == 1
        assert np.allclose(tuple(src.bounds), box)
        # Native resolution (100 m ≈ 0.0013°): about 0.4° / 0.0013°, not a thumbnail.
        assert src.width > 200
        centre = src.read(1)[src.index(lon0, lat0)]
        assert abs(centre - 0.0) < 1.0     # easting 450 km is the middle of -100…100
    # In EPSG:4326's axis order (lat, lon) and in Web Mercator the same place comes back.
    r = api.get(f"/ogc/collections/{MAG}/coverage", params={
        "bbox": f"{box[1]},{box[0]},{box[3]},{box[2]}", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
        "width": "64"})
    assert r.status_code == 200
    with rasterio.MemoryFile(r.content) as memory, memory.open() as src:
        assert np.allclose(tuple(src.bounds), box) and src.width == 64


def test_coverage_problems(api: TestClient) -> None:
    for params, status in (({"bbox": "1,2,3"}, 400), ({"bbox": "72,46,71,47"}, 400),
                           ({"bbox": "70,45,72,47", "width": "0"}, 400), ({"bbox-crs": "EPSG:9999"}, 400),
                           ({"bbox": "70,45,72,47", "width": "5000"}, 413),
                           ({"bbox": "70,45,72,47", "width": "4000", "height": "4000"}, 413),
                           ({"foo": "1"}, 400), ({"bbox": "10,10,11,11"}, 404)):
        r = api.get(f"/ogc/collections/{MAP}/coverage", params=params, headers={"Accept-Language": "ru"})
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert any("а" <= ch <= "я" for ch in r.json()["detail"].lower()), r.json()
    r = api.get(f"/ogc/collections/{MAP}/coverage", params={"bbox": "70,45,72,47", "width": "5000"},
                headers={"Accept-Language": "en"})
    assert "5000 × 5000 pixels" in r.json()["detail"]


def test_coverage_subset_and_scaling_as_ogc_api_coverages(api: TestClient) -> None:
    """subset=Lon(a:b),Lat(c:d) and scale-size (also GDAL's draft name scaleSize) and scale-factor
    give the same grid as bbox with width and height."""
    plain = api.get(f"/ogc/collections/{MAP}/coverage?bbox=70.5,45.5,71.5,46.5&width=100&height=50")
    for query in ("subset=Lon(70.5:71.5),Lat(45.5:46.5)&scale-size=Lon(100),Lat(50)",
                  "subset=Lat(45.5:46.5)&subset=Lon(70.5:71.5)&scaleSize=Lon(100),Lat(50)",
                  'subset="Long"(70.5:71.5),"Lat"(45.5:46.5)&width=100&height=50'):
        r = api.get(f"/ogc/collections/{MAP}/coverage?{query}")
        assert r.status_code == 200, (query, r.text)
        with rasterio.MemoryFile(r.content) as memory, memory.open() as src:
            assert (src.width, src.height) == (100, 50) and np.allclose(tuple(src.bounds), (70.5, 45.5, 71.5, 46.5))
            assert np.array_equal(src.read(), rasterio.MemoryFile(plain.content).open().read()), query
    # An open end is the layer's edge (sheets A and B: 70…73 east).
    r = api.get(f"/ogc/collections/{MAP}/coverage?subset=Lon(72:*),Lat(45.5:46.5)&scale-size=Lon(10)")
    with rasterio.MemoryFile(r.content) as memory, memory.open() as src:
        assert abs(src.bounds.right - 73.0) < 1e-6 and tuple(src.read()[:3, 2, 5]) == BLUE
    # scale-factor 2: half the native size of the same box.
    native = api.get(f"/ogc/collections/{MAP}/coverage?bbox=70.5,45.5,70.7,45.7")
    half = api.get(f"/ogc/collections/{MAP}/coverage?bbox=70.5,45.5,70.7,45.7&scale-factor=2")
    with rasterio.MemoryFile(native.content) as a, a.open() as full, rasterio.MemoryFile(half.content) as b, \
            b.open() as small:
        assert abs(small.width - full.width / 2) <= 1 and abs(small.height - full.height / 2) <= 1
    for query in ("subset=Lon(71:70)", "subset=Time(1:2)", "subset=Lon(70.5)", "subset=Lon(a:b)",
                  "subset=Lon(70:71)&bbox=70,45,71,46", "subset=Lon(70:71),Lon(70:71)", "scale-size=Lon(0)",
                  "scale-size=Lat(x)", "scale-factor=0", "scale-factor=nan", "subset=Lon(70:71)junk"):
        r = api.get(f"/ogc/collections/{MAP}/coverage?{query}", headers={"Accept-Language": "kk"})
        assert r.status_code == 400, (query, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert "subset" in r.json()["detail"] or "scale" in r.json()["detail"], r.json()
    assert api.get(f"/ogc/collections/{MAP}/coverage?bbox=70,45,72,47&scale-factor=0.01").status_code == 413


def test_domainset_gives_the_grid_and_rangetype_the_data_types(api: TestClient) -> None:
    doc = api.get(f"/ogc/collections/{MAG}/coverage/domainset").json()["generalGrid"]
    lon, lat = doc["axis"]
    # The sheet's 100 m pixels, in degrees, and a grid as wide as the extent at that resolution.
    assert 0.0009 < lon["resolution"] < 0.0015 and lat["resolution"] < 0
    width = doc["gridLimits"]["axis"][0]["upperBound"] + 1
    assert abs(width * lon["resolution"] - (lon["upperBound"] - lon["lowerBound"])) < 1e-9
    fields = api.get(f"/ogc/collections/{MAG}/coverage/rangetype").json()["field"]
    assert [f["definition"] for f in fields] == ["ogcType:float32"]
    fields = api.get(f"/ogc/collections/{MAP}/coverage/rangetype").json()["field"]
    assert [f["name"] for f in fields] == ["red", "green", "blue", "alpha"]
    assert {f["definition"] for f in fields} == {"ogcType:unsignedByte"}


def test_value_at_a_point(api: TestClient) -> None:
    lon, lat = Transformer.from_crs(32643, 4326, always_xy=True).transform(475000, 5050000)
    r = api.get(f"/api/rasters/{MAG}/value", params={"lon": lon, "lat": lat})
    assert r.status_code == 200, r.text
    body = r.json()
    assert abs(body["value"] - 50.0) < 0.2 and body["unit"]["en"] == "nT" and body["sheet"] == "M-43"
    r = api.get(f"/api/rasters/{MAP}/value", params={"lon": 71.5, "lat": 46.0})
    assert r.json()["values"] == list(BLUE) and r.json()["sheet"] == "B"
    r = api.get(f"/api/rasters/{MAG}/value", params={"lon": 60, "lat": 46}, headers={"Accept-Language": "kk"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "деректер жоқ" in r.json()["detail"]
    assert api.get(f"/api/rasters/{MAG}/value", params={"lon": "x", "lat": 46}).status_code == 400
    assert api.get(f"/api/rasters/{MAG}/value", params={"lon": 200, "lat": 46}).status_code == 400


def test_collections_conformance_and_legends(api: TestClient) -> None:
    listed = api.get("/ogc/collections").json()["collections"]
    ids = [c["id"] for c in listed]
    assert ids[0] == "blocks" and ids[-2:] == [MAP, MAG]   # after the vector collections
    assert "geophysics-gravity" not in ids   # no data: not listed yet
    mag = next(c for c in listed if c["id"] == MAG)
    rels = {x["rel"]: x for x in mag["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"]["href"].endswith(f"/{MAG}/map/tiles")
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/coverage"]["type"].startswith("image/tiff")
    west, south, east, north = mag["extent"]["spatial"]["bbox"][0]
    assert 73 < west < 74 and 74.9 < east < 75.1 and 45 < south < north < 46.1
    one = api.get(f"/ogc/collections/{MAG}", headers={"Accept-Language": "ru"}).json()
    assert one["title"] == "Магнитное поле (ΔT)"
    conformance = api.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/geotiff" in conformance
    rangetype = api.get(f"/ogc/collections/{MAG}/coverage/rangetype").json()
    assert rangetype["field"][0]["uom"]["code"] == "nT"
    domain = api.get(f"/ogc/collections/{MAG}/coverage/domainset").json()
    assert domain["generalGrid"]["axis"][0]["lowerBound"] == west
    layers = {x["id"]: x for x in api.get("/api/rasters").json()}
    legend = layers[MAG]["legend"]
    assert legend["label"] == {"kk": "Мәндер, нТл", "ru": "Значения, нТл", "en": "Values, nT"}
    assert [s["value"] for s in legend["stops"]][0] == -100 and legend["stops"][-1]["colour"] == "#b2182b"
    assert layers[MAP]["legend"]["label"]["en"].startswith("Scanned map")
    assert layers["geophysics-gravity"]["bbox"] is None
    assert layers[MAP]["tiles"].endswith(f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}")


def test_a_new_version_of_a_sheet_replaces_it_and_its_tiles(api: TestClient, store: dict[str, Any],
                                                         database_url: str) -> None:
    z = 7
    x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, z, 70.5, 46.0)
    path = f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"
    before = api.get(path)
    assert tuple(tile_image(api, path)[row, col]) == (*RED, 255)
    with psycopg.connect(database_url, autocommit=True) as db:
        v3 = insert_sheet(db, store["root"], MAP, "A", solid(GREEN), "EPSG:4326", (70.0, 45.0, 72.0, 47.0))
    try:
        after = api.get(path)
        assert after.headers["etag"] != before.headers["etag"]
        img = tile_image(api, path)
        assert tuple(img[row, col]) == (*GREEN, 255)
        _, _, col_b, row_b = pixel_of(WEB_MERCATOR_QUAD, z, 71.5, 46.0)
        assert tuple(img[row_b, col_b]) == (*GREEN, 255)     # sheet A v3 is newer than sheet B
        assert api.get(f"/api/rasters/{MAP}/value", params={"lon": 71.5, "lat": 46.0}).json()["values"] == \
            list(GREEN)
    finally:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("DELETE FROM raster_sheets WHERE version_id = %s", (v3,))
            db.execute("DELETE FROM raster_versions WHERE id = %s", (v3,))


def test_a_sheet_whose_file_is_gone_is_left_out_not_a_500(api: TestClient, store: dict[str, Any],
                                                          database_url: str) -> None:
    z = 7
    x, y, col, row = pixel_of(WEB_MERCATOR_QUAD, z, 70.5, 46.0)
    path = f"/ogc/collections/{MAP}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"
    with psycopg.connect(database_url, autocommit=True) as db:
        gone = insert_sheet(db, store["root"], MAP, "A", solid(GREEN), "EPSG:4326", (70.0, 45.0, 72.0, 47.0))
        relative = db.execute("SELECT path FROM raster_sheets WHERE version_id = %s", (gone,)).fetchone()[0]
    (store["root"] / relative).unlink()
    try:
        # The newest sheet A is missing: the tile shows what the store still has (sheet A's older
        # version is replaced in the mosaic, so sheet B's blue is what remains there).
        r = api.get(path)
        assert r.status_code in (200, 204), r.text
        value = api.get(f"/api/rasters/{MAP}/value", params={"lon": 71.5, "lat": 46.0})
        assert value.status_code in (200, 404)
        assert api.get(f"/ogc/collections/{MAP}/coverage", params={"bbox": "70.2,45.5,70.8,46.5"}).status_code \
            in (200, 404)
    finally:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("DELETE FROM raster_sheets WHERE version_id = %s", (gone,))
            db.execute("DELETE FROM raster_versions WHERE id = %s", (gone,))


# --- a real GDAL client over HTTP ----------------------------------------------------------------------

GDAL_ENV = {"GDAL_HTTP_TIMEOUT": "30", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "PATH": "/usr/bin:/bin"}


@pytest.fixture(scope="module")
def live(store: dict[str, Any], database_url: str) -> Iterator[str]:

    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), raster_dir=str(store["root"]))
    with live_server(settings) as url:
        yield url


@pytest.mark.skipif(shutil.which("gdalinfo") is None, reason="the system GDAL CLI is not installed")
def test_gdalinfo_reads_the_coverage_url(live: str) -> None:
    lon0, lat0 = Transformer.from_crs(32643, 4326, always_xy=True).transform(450000, 5050000)
    url = f"{live}/ogc/collections/{MAG}/coverage?bbox={lon0 - 0.1},{lat0 - 0.1},{lon0 + 0.1},{lat0 + 0.1}"
    out = subprocess.run(["gdalinfo", "-json", "-stats", f"/vsicurl/{url}"], capture_output=True, text=True,
                         timeout=60, env=GDAL_ENV)
    assert out.returncode == 0, out.stderr
    info = orjson.loads(out.stdout)
    assert info["bands"][0]["type"] == "Float32"
    assert "4326" in info["coordinateSystem"]["wkt"].split("ID[")[-1]
    west, north = info["cornerCoordinates"]["upperLeft"]
    assert abs(west - (lon0 - 0.1)) < 1e-6 and abs(north - (lat0 + 0.1)) < 1e-6
    stats = info["bands"][0]
    assert -20 < stats["minimum"] < 0 < stats["maximum"] < 20   # about ±0.1° of 1° across ±100 nT


@pytest.mark.skipif(shutil.which("gdalinfo") is None, reason="the system GDAL CLI is not installed")
def test_gdal_ogcapi_driver_reads_the_grid(live: str, tmp_path: Path) -> None:
    """GDAL's OGCAPI driver, as QGIS uses it: sized from the domain set, typed from the range type,
    read through subset and scaleSize requests; the value is the one /api/rasters gives."""
    source = f"OGCAPI:{live}/ogc/collections/{MAG}"
    env = {**GDAL_ENV, "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path)}   # not ./gdalwmscache
    out = subprocess.run(["gdalinfo", "-json", source], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    info = orjson.loads(out.stdout)
    assert info["driverShortName"] == "OGCAPI" and info["bands"][0]["type"] == "Float32"
    assert info["size"][0] > 500     # the 100 m sheet's resolution over its extent, not a thumbnail
    lon0, lat0 = Transformer.from_crs(32643, 4326, always_xy=True).transform(430000, 5050000)
    out = subprocess.run(["gdallocationinfo", "-valonly", "-wgs84", source, str(lon0), str(lat0)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    import httpx

    expected = httpx.get(f"{live}/api/rasters/{MAG}/value", params={"lon": lon0, "lat": lat0}).json()["value"]
    assert abs(expected - (-40.0)) < 1.0                    # easting 430 km: -40 nT on the -100…100 ramp
    assert abs(float(out.stdout.strip()) - expected) < 1.0  # one pixel's change is 0.2 nT


@pytest.mark.skipif(shutil.which("gdal_translate") is None, reason="the system GDAL CLI is not installed")
def test_gdal_ogcapi_driver_reads_the_map_tiles(live: str, tmp_path: Path) -> None:
    """GDAL's OGCAPI driver in tiles mode (-oo API=TILES) on the map's tiles: it reads our tile
    matrix set document (GDAL 3.6 needs TMS 1.0's names beside 2.0's) and our whole-matrix limits,
    picks WorldCRS84Quad, and the pixels are the sheets' colours where they lie: A red, B (the
    newer sheet, on top where they overlap) blue, nothing outside."""
    source = f"OGCAPI:{live}/ogc/collections/{MAP}"
    env = {**GDAL_ENV, "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path)}
    out = subprocess.run(["gdalinfo", "-json", "-oo", "API=TILES", source], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    info = orjson.loads(out.stdout)
    assert info["driverShortName"] == "OGCAPI" and [b["type"] for b in info["bands"]] == ["Byte"] * 4
    west, north = info["cornerCoordinates"]["upperLeft"]
    east, south = info["cornerCoordinates"]["lowerRight"]
    assert abs(west - 70) < 0.01 and abs(east - 73) < 0.01 and abs(south - 45) < 0.01 and abs(north - 47) < 0.01
    assert abs(info["geoTransform"][1] + info["geoTransform"][5]) < 1e-9   # square pixels, not stretched
    picture = tmp_path / "tiles.tif"
    out = subprocess.run(["gdal_translate", "-q", "-oo", "API=TILES", "-projwin", "69.5", "46.5", "73.5", "45.5",
                          "-outsize", "80", "20", source, str(picture)], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    with rasterio.open(picture) as ds:
        rgba = ds.read()
    def at(lon: float) -> tuple[int, ...]:
        column = int((lon - 69.5) / 4 * 80)
        return tuple(int(v) for v in rgba[:, 10, column])
    assert at(70.5) == (*RED, 255) and at(72.5) == (*BLUE, 255) and at(71.5) == (*BLUE, 255)
    assert at(69.7)[3] == 0 and at(73.3)[3] == 0   # west and east of the sheets: transparent


QGIS_SCRIPT = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsPointXY, QgsProject, QgsRasterLayer,
                       QgsRectangle)
from qgis.PyQt.QtCore import QSize
app = QgsApplication([], False); app.initQgis()
base, lon, lat = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out = {}
# The README's steps: XYZ tiles (Data Source Manager > XYZ), the coverage through GDAL's OGCAPI
# driver and as a plain GeoTIFF URL.
xyz = QgsRasterLayer("type=xyz&zmin=0&zmax=14&url=" + base
                     + "/ogc/collections/geological-maps/map/tiles/WebMercatorQuad/{z}/{y}/{x}", "map", "wms")
ogcapi = QgsRasterLayer("OGCAPI:" + base + "/ogc/collections/geophysics-magnetic", "grid", "gdal")
geotiff = QgsRasterLayer("/vsicurl/" + base + "/ogc/collections/geophysics-magnetic/coverage", "grid2", "gdal")
out["valid"] = [xyz.isValid(), ogcapi.isValid(), geotiff.isValid()]
out["values"] = [layer.dataProvider().sample(QgsPointXY(lon, lat), 1)[0] for layer in (ogcapi, geotiff)
                 if layer.isValid()]
settings = QgsMapSettings()
settings.setLayers([xyz])
mercator = QgsCoordinateReferenceSystem("EPSG:3857")
settings.setDestinationCrs(mercator)
to_mercator = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), mercator, QgsProject.instance())
settings.setExtent(to_mercator.transformBoundingBox(QgsRectangle(70.2, 45.5, 70.8, 46.5)))
settings.setOutputSize(QSize(256, 256))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
colour = job.renderedImage().pixelColor(128, 128)
out["centre"] = [colour.red(), colour.green(), colour.blue(), colour.alpha()]
print(json.dumps(out), flush=True)
os._exit(0)   # QGIS 3.22's teardown may crash after the answer; the answer is what counts
"""


def test_qgis_reads_xyz_tiles_and_the_coverage(live: str, tmp_path: Path) -> None:
    """Where Debian's QGIS (python3-qgis) is installed: the README's QGIS steps, done by QGIS."""
    probe = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False) \
        if Path("/usr/bin/python3").exists() else None
    if probe is None or probe.returncode != 0:
        pytest.skip("QGIS (python3-qgis) is not installed")
    lon0, lat0 = Transformer.from_crs(32643, 4326, always_xy=True).transform(470000, 5050000)
    run = subprocess.run(["/usr/bin/python3", "-c", QGIS_SCRIPT, live, str(lon0), str(lat0)], capture_output=True,
                         text=True, timeout=180, check=False,
                         env={**GDAL_ENV, "HOME": str(tmp_path), "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    result = orjson.loads(run.stdout.strip().splitlines()[-1])
    assert result["valid"] == [True, True, True], result
    assert all(abs(v - 40.0) < 1.0 for v in result["values"]) and len(result["values"]) == 2, result
    assert result["centre"] == [*RED, 255], result     # sheet A's red, drawn by QGIS from our tiles


# --- the viewer in a real browser ------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_viewer_shows_raster_layers_legend_and_values(live: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_viewer import CHROMIUM, CHROMIUM_ARGS

    lon, lat = Transformer.from_crs(32643, 4326, always_xy=True).transform(475000, 5050000)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(str(e)))
            tiles: list[int] = []
            page.on("response", lambda r: tiles.append(r.status) if "/map/tiles/" in r.url else None)
            page.goto(f"{live}/?lang=ru#map=7/{lat}/{lon}")
            page.wait_for_selector('#layers[data-rasters="2"]', timeout=60_000)
            page.wait_for_function("() => window.map.getLayer('gs-raster-geophysics-magnetic') && "
                                   "window.map.isSourceLoaded('gs-raster-geophysics-magnetic')", timeout=60_000)
            assert 200 in tiles
            legend = page.locator('[data-legend="geophysics-magnetic"]')
            assert "Значения, нТл" in legend.inner_text()
            assert "-100" in legend.inner_text() and "100" in legend.inner_text()
            assert "Отсканированная карта" in page.locator('[data-legend="geological-maps"]').inner_text()
            assert "Магнитное поле" in page.locator('[data-group="gs-raster-geophysics-magnetic"]').inner_text()
            # The opacity slider sets the layer's opacity.
            page.locator('[data-raster-opacity="geophysics-magnetic"]').fill("0.3")
            assert page.evaluate("window.map.getPaintProperty('gs-raster-geophysics-magnetic', "
                                 "'raster-opacity')") == 0.3
            # A click on the grid shows its value there, with the unit.
            x, y = page.evaluate(f"(() => {{ const p = window.map.project([{lon}, {lat}]); "
                                 "const r = window.map.getCanvas().getBoundingClientRect(); "
                                 "return [r.left + p.x, r.top + p.y]; })()")
            page.mouse.click(x, y)
            cell = page.locator('[data-layer="gs-raster-geophysics-magnetic"] td[data-value]')
            cell.wait_for(timeout=20_000)
            assert abs(float(cell.get_attribute("data-value") or "nan") - 50.0) < 1.0
            assert "нТл" in cell.inner_text()
            # Switching the language keeps the raster layers (under the overlays) and translates the legend.
            page.locator('#langs button[data-lang="kk"]').click()
            page.wait_for_function("() => document.querySelector('[data-legend=\"geophysics-magnetic\"]')"
                                   "?.innerText.includes('Мәндер')", timeout=20_000)
            assert page.evaluate("!!window.map.getLayer('gs-raster-geological-maps')")
            assert page.evaluate("window.geoservice.errors") == []
        finally:
            browser.close()
    assert problems == []
