"""Raster uploads (issue 12) over HTTP against real PostGIS, with real GeoTIFFs made by rasterio:
COGs on disk, versions and sheets, refusals that change nothing, rights and languages."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import rasterio
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion
from rasterio.transform import from_origin

from geoservice.kernel.i18n import translate
from tests.helpers import authority_headers, raster_client, sealed

GRID = "geophysics-magnetic"
MAP = "geological-maps"


@pytest.fixture(scope="module")
def raster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rasters")


@pytest.fixture(scope="module", autouse=True)
def forget_rasters(database_url: str) -> Iterator[None]:
    """The sheets made here point into this module's temporary store: forget them afterwards, so
    later modules on this worker's database do not serve raster layers whose files are gone."""
    yield
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM raster_sheets")
        conn.execute("DELETE FROM raster_versions")
        conn.commit()


@pytest.fixture(scope="module")
def client(database_url: str, raster_dir: Path) -> Iterator[TestClient]:
    with raster_client(raster_dir) as c:
        yield c


@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    return authority_headers(database_url, "operator", "test")


@pytest.fixture(scope="module")
def environment(database_url: str) -> dict[str, str]:
    return authority_headers(database_url, "environment", "test")


def geotiff(path: Path, *, bands: int = 1, dtype: str = "float32", width: int = 1200, height: int = 900,
            crs: str | None = "EPSG:4326", origin: tuple[float, float] = (70.0, 47.0), pixel: float = 0.001,
            nodata: float | None = -9999.0, **options: Any) -> Path:
    """A real GeoTIFF: a smooth field (or colour bands) over ``origin`` (top-left corner)."""
    y, x = np.mgrid[0:height, 0:width]
    field = 100 * np.sin(x / 90.0) * np.cos(y / 70.0)
    profile: dict[str, Any] = {"driver": "GTiff", "width": width, "height": height, "count": bands,
                               "dtype": dtype, **options}
    if crs is not None:
        profile["crs"] = crs
    if origin is not None:
        profile["transform"] = from_origin(origin[0], origin[1], pixel, pixel)
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        for band in range(1, bands + 1):
            values = field + 30 * band
            if np.dtype(dtype).kind == "u":
                values = (values + 128).clip(0, 255)
            ds.write(values.astype(dtype), band)
    return path


def post(client: TestClient, layer: str, path: Path, headers: dict[str, str], name: str | None = None,
         **fields: str):
    return client.post(f"/api/layers/{layer}/uploads", headers=headers,
                       files={"file": (name or path.name, path.read_bytes())}, data=fields)


def state(conn: psycopg.Connection, raster_dir: Path) -> tuple[Any, ...]:
    """Rows and files of every raster layer: a refusal must leave them as they were."""
    versions = conn.execute("SELECT count(*), max(id) FROM raster_versions").fetchone()
    sheets = conn.execute("SELECT count(*) FROM raster_sheets").fetchone()
    files = sorted(str(p.relative_to(raster_dir)) for p in raster_dir.rglob("*"))
    return versions, sheets, files


def test_a_grid_becomes_a_cog_with_overviews_a_version_and_a_sheet(client, operator, db, raster_dir, tmp_path):
    path = geotiff(tmp_path / "M-42-XII.tif")
    r = post(client, GRID, path, operator)
    assert r.status_code == 201, r.text
    body = r.json()
    [sheet] = body["sheets"]
    assert sheet["sheet"] == "M-42-XII" and sheet["crs"] == "EPSG:4326" and sheet["dtype"] == "float32"
    assert (sheet["width"], sheet["height"], sheet["bands"], sheet["nodata"]) == (1200, 900, 1, -9999.0)
    assert sheet["stats"][0]["min"] < -50 < 50 < sheet["stats"][0]["max"]
    row = db.execute("SELECT s.path, s.checksum, s.crs, ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), "
                     "ST_YMax(footprint), v.layer_id, v.source_format FROM raster_sheets s JOIN raster_versions v "
                     "ON v.id = s.version_id WHERE v.id = %s", (body["version"],)).fetchone()
    assert row[0] == f"{GRID}/{body['version']}/M-42-XII.tif" and row[7] == GRID and row[8] == "geotiff"
    assert row[3:7] == pytest.approx((70.0, 46.1, 71.2, 47.0), abs=1e-6)
    cog = raster_dir / row[0]
    import hashlib

    assert hashlib.sha256(cog.read_bytes()).hexdigest() == row[1] == sheet["checksum"]
    with rasterio.open(cog) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION") == "DEFLATE"
        assert ds.overviews(1) == [2, 4]
        assert ds.block_shapes[0] == (512, 512)
        assert ds.crs.to_epsg() == 4326 and ds.nodata == -9999.0
        assert ds.bounds == pytest.approx((70.0, 46.1, 71.2, 47.0))
        assert ds.read(1)[0, 0] == pytest.approx(30.0, abs=1e-3)
    sealed(db)
    assert db.execute("SELECT result, version FROM journal WHERE layer_id = %s AND action = 'upload' ORDER BY seq DESC "
                      "LIMIT 1", (GRID,)).fetchone() == ("ok", body["version"])
    versions = client.get(f"/api/layers/{GRID}/versions").json()
    assert versions["versions"][0]["version"] == body["version"]
    assert versions["versions"][0]["sheets"][0]["current"] is True


def test_a_map_sheet_rgb_is_accepted(client, operator, raster_dir, tmp_path):
    path = geotiff(tmp_path / "map.tif", bands=3, dtype="uint8", nodata=None, crs="EPSG:32642",
                   origin=(500000.0, 5100000.0), pixel=50.0)
    r = post(client, MAP, path, operator, sheet="L-42-1")
    assert r.status_code == 201, r.text
    [sheet] = r.json()["sheets"]
    assert sheet["sheet"] == "L-42-1" and sheet["bands"] == 3 and sheet["crs"] == "EPSG:32642"
    with rasterio.open(raster_dir / sheet["path"]) as ds:
        assert ds.count == 3 and ds.crs.to_epsg() == 32642 and ds.overviews(1)


def _gk_zip(tmp_path: Path, *, members: dict[str, bytes] | None = None) -> Path:
    """A plain TIFF (no georeference) with a world file and an ESRI .prj in SK-42 / Gauss-Krüger
    zone 12 (EPSG:28412), zipped, over the Betpak-Dala demo area."""
    gk = CRS.from_epsg(28412)
    x0, y0 = Transformer.from_crs(4284, gk, always_xy=True).transform(70.2, 46.6)
    plain = geotiff(tmp_path / "plain.tif", width=600, height=500, crs=None, origin=None, nodata=None)
    world = "\n".join(str(v) for v in (100.0, 0.0, 0.0, -100.0, x0 + 50.0, y0 - 50.0)) + "\n"
    archive = tmp_path / "M-42-99.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("M-42-99/sheet.tif", plain.read_bytes())
        zf.writestr("M-42-99/sheet.tfw", world)
        zf.writestr("M-42-99/sheet.prj", gk.to_wkt(WktVersion.WKT1_ESRI))
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return archive


def test_a_zip_with_world_file_and_prj_in_gauss_kruger_is_accepted(client, operator, db, raster_dir, tmp_path):
    r = post(client, GRID, _gk_zip(tmp_path), operator)
    assert r.status_code == 201, r.text
    [sheet] = r.json()["sheets"]
    assert sheet["sheet"] == "M-42-99" and sheet["crs"] == "EPSG:28412"
    assert r.json()["format"] == "geotiff-zip"
    # The datum policy: EPSG:1291 brought the footprint to WGS 84.
    assert "1291" in sheet["transformation"]
    gk = CRS.from_epsg(28412)
    x0, y0 = Transformer.from_crs(4284, gk, always_xy=True).transform(70.2, 46.6)
    with rasterio.open(raster_dir / sheet["path"]) as ds:
        assert ds.transform.c == pytest.approx(x0) and ds.transform.f == pytest.approx(y0)
        assert ds.transform.a == pytest.approx(100.0)
        # The file carries the policy's shift, so any GDAL reader brings it to WGS 84 the same way.
        assert "TOWGS84[15,-130,-84" in ds.crs.to_wkt().replace(" ", "")
    # The top-left corner (70.2 E, 46.6 N in Pulkovo 1942) is a vertex of the footprint, where
    # EPSG:1291 puts it (PROJ's default operation would put it elsewhere by metres).
    lat, lon = Transformer.from_pipeline("urn:ogc:def:coordinateOperation:EPSG::1291").transform(46.6, 70.2)
    off = db.execute("SELECT ST_Distance(ST_Boundary(footprint), ST_SetSRID(ST_MakePoint(%s, %s), 4326)) "
                     "FROM raster_sheets WHERE path = %s", (lon, lat, sheet["path"])).fetchone()[0]
    assert off < 1e-7


def _series_zip(tmp_path: Path, names: list[str], *, bad: str | None = None) -> Path:
    """A zip of a map series: one georeferenced TIFF per sheet, side by side from 70 E eastwards;
    ``bad``: that sheet's TIFF is cut short (its pixels cannot be read)."""
    archive = tmp_path / "series.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, name in enumerate(names):
            data = geotiff(tmp_path / f"s{i}.tif", width=300, height=300, origin=(70.0 + 0.3 * i, 47.0)).read_bytes()
            zf.writestr(f"series/{name}.tif", data[: len(data) // 2] if name == bad else data)
    return archive


def test_a_zip_of_several_tiffs_is_one_version_of_several_sheets(client, operator, db, raster_dir, tmp_path):
    r = post(client, "geophysics-gravity", _series_zip(tmp_path, ["L-43-1", "L-43-2", "L-43-3"]), operator)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [s["sheet"] for s in body["sheets"]] == ["L-43-1", "L-43-2", "L-43-3"]
    assert [s["file"] for s in body["sheets"]] == ["series/L-43-1.tif", "series/L-43-2.tif", "series/L-43-3.tif"]
    version = body["version"]
    assert db.execute("SELECT sheets FROM raster_versions WHERE id = %s", (version,)).fetchone()[0] == 3
    rows = db.execute("SELECT sheet, path, checksum FROM raster_sheets WHERE version_id = %s ORDER BY sheet",
                      (version,)).fetchall()
    for sheet, path, digest in rows:
        assert path == f"geophysics-gravity/{version}/{sheet}.tif"
        assert hashlib.sha256((raster_dir / path).read_bytes()).hexdigest() == digest
    # Side by side in the mosaic: each sheet answers for its own place.
    for i, sheet in enumerate(["L-43-1", "L-43-2", "L-43-3"]):
        value = client.get("/api/rasters/geophysics-gravity/value", params={"lon": 70.15 + 0.3 * i, "lat": 46.85})
        assert value.status_code == 200 and value.json()["sheet"] == sheet, value.text
    # Nothing of the unpacked sources is left in the store.
    assert not list(raster_dir.glob(".staging-*"))
    # Forgotten again: the gravity layer's tests below count its sheets.
    db.execute("DELETE FROM raster_sheets WHERE version_id = %s", (version,))
    db.execute("DELETE FROM raster_versions WHERE id = %s", (version,))


def test_one_bad_sheet_refuses_the_whole_series(client, operator, db, raster_dir, tmp_path):
    before = state(db, raster_dir)
    series = _series_zip(tmp_path, ["K-1", "K-2", "K-3"], bad="K-3")
    r = post(client, "geophysics-gravity", series, {**operator, "Accept-Language": "ru"})
    assert r.status_code == 422, r.text
    assert r.json()["file"] == "series/K-3.tif" and "series/K-3.tif" in r.json()["detail"]
    # GDAL's words keep the user's names, never our own for the file (source-2.tif, sheet-2.tif).
    assert "source-" not in r.json()["detail"] and "sheet-" not in r.json()["detail"]
    assert state(db, raster_dir) == before
    # Two TIFFs of one name in different folders would be one sheet twice.
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for folder in ("one", "two"):
            zf.writestr(f"{folder}/A.tif", geotiff(tmp_path / f"{folder}.tif", width=50, height=50).read_bytes())
    r = post(client, "geophysics-gravity", archive, operator)
    assert (r.status_code, r.json()["type"]) == (422, "urn:geoservice:problem:geotiff.duplicate_sheet"), r.text
    # A sheet field cannot name several sheets.
    r = post(client, "geophysics-gravity", _series_zip(tmp_path, ["P-1", "P-2"]), operator, sheet="P")
    assert (r.status_code, r.json()["type"], r.json()["field"]) == (
        422, "urn:geoservice:problem:geotiff.sheet_for_many", "sheet")
    assert state(db, raster_dir) == before


def test_too_many_sheets_in_one_archive_is_413(operator, db, raster_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GEOSERVICE_RASTER_MAX_SHEETS", "2")
    before = state(db, raster_dir)
    with raster_client(raster_dir) as client:
        r = post(client, "geophysics-gravity", _series_zip(tmp_path, ["Q-1", "Q-2", "Q-3"]), operator)
    assert (r.status_code, r.json()["type"]) == (413, "urn:geoservice:problem:geotiff.too_many_sheets"), r.text
    assert state(db, raster_dir) == before


def test_a_border_sheet_is_kept_whole_with_a_note(client, operator, db, tmp_path):
    """A sheet across the border near Petropavl (68.5-69.5 E, 54.5-56 N): about 57 % inside. Map
    series have such sheets; it is accepted whole and the report says how much lies inside."""
    r = post(client, "geophysics-gravity", geotiff(tmp_path / "N-42-border.tif", width=100, height=150,
                                                   origin=(68.5, 56.0), pixel=0.01),
             {**operator, "Accept-Language": "en"}, sheet="N-42-border")
    assert r.status_code == 201, r.text
    [note] = r.json()["report"]["notes"]
    assert note["code"] == "geotiff.partly_outside" and 50 <= note["inside"] <= 65, note
    assert "reaches beyond Kazakhstan's border" in note["message"]["en"] and "сохранён целиком" in note["message"]["ru"]
    assert r.json()["sheets"][0]["bbox"] == [68.5, 54.5, 69.5, 56.0]
    db.execute("DELETE FROM raster_sheets WHERE version_id = %s", (r.json()["version"],))
    db.execute("DELETE FROM raster_versions WHERE id = %s", (r.json()["version"],))


def test_a_second_version_of_a_sheet_supersedes_the_first(client, operator, db, tmp_path):
    first = post(client, "geophysics-gravity", geotiff(tmp_path / "a.tif", width=300, height=300), operator,
                 sheet="L-43-7")
    other = post(client, "geophysics-gravity", geotiff(tmp_path / "b.tif", width=300, height=300,
                                                       origin=(72.0, 48.0)), operator, sheet="L-43-8")
    second = post(client, "geophysics-gravity", geotiff(tmp_path / "c.tif", width=400, height=300), operator,
                  sheet="L-43-7")
    assert {first.status_code, other.status_code, second.status_code} == {201}
    current = dict(db.execute("SELECT sheet, version_id FROM current_raster_sheets WHERE layer_id = %s",
                              ("geophysics-gravity",)).fetchall())
    assert current == {"L-43-7": second.json()["version"], "L-43-8": other.json()["version"]}
    listed = client.get("/api/layers/geophysics-gravity/versions").json()["versions"]
    assert [v["current"] for v in listed] == [True, True, False]
    # The layer as /api/layers describes it: two sheets now, the newest version the second upload.
    layer = client.get("/api/layers/geophysics-gravity").json()
    assert (layer["kind"], layer["unit"]["en"], layer["current"]) == (
        "grid", "mGal", {"newest_version": second.json()["version"], "sheets": 2})
    everything = client.get("/api/layers").json()
    assert [r["id"] for r in everything["raster_layers"]] == ["geological-maps", "geophysics-magnetic",
                                                             "geophysics-gravity"]
    assert "geophysics-gravity" not in {v["id"] for v in everything["layers"]}


def _zip(tmp_path: Path, members: dict[str, bytes]) -> Path:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return archive


def _truncated(tmp_path: Path) -> Path:
    good = geotiff(tmp_path / "full.tif", width=800, height=800)
    cut = tmp_path / "cut.tif"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return cut


def _huge(tmp_path: Path) -> Path:
    # 40 billion pixels declared in about 20 KB: sparse tiles, nothing written.
    path = tmp_path / "bomb.tif"
    with rasterio.open(path, "w", driver="GTiff", width=200_000, height=200_000, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(70, 47, 1e-5, 1e-5), tiled=True, blockxsize=4096,
                       blockysize=4096, sparse_ok=True, compress="deflate"):
        pass
    assert path.stat().st_size < 100_000
    return path


BAD: dict[str, tuple[str, Any, int, str]] = {
    "not a GeoTIFF": (GRID, lambda t: _write(t / "notes.tif", b"just some text, not an image"), 422,
                      "geotiff.not_geotiff"),
    "a PNG": (MAP, lambda t: _write(t / "scan.png", b"\x89PNG\r\n\x1a\n" + bytes(64)), 422, "geotiff.not_geotiff"),
    "truncated": (GRID, _truncated, 422, "geotiff.truncated"),
    "no CRS": (GRID, lambda t: geotiff(t / "nocrs.tif", crs=None), 422, "upload.no_crs"),
    "no georeference": (GRID, lambda t: geotiff(t / "plain.tif", crs=None, origin=None), 422,
                        "geotiff.no_georeference"),
    "outside Kazakhstan": (GRID, lambda t: geotiff(t / "alps.tif", origin=(10.0, 47.0)), 422,
                           "geotiff.outside_country"),
    "coordinates nowhere": (GRID, lambda t: geotiff(t / "far.tif", crs="EPSG:28412", origin=(1e9, 5e9), pixel=100.0),
                            422, "geotiff.outside_country"),
    "too many pixels": (GRID, _huge, 413, "geotiff.too_many_pixels"),
    "three bands for a grid": (GRID, lambda t: geotiff(t / "rgb.tif", bands=3), 422, "geotiff.band_count"),
    "two bands for a map": (MAP, lambda t: geotiff(t / "two.tif", bands=2, dtype="uint8", nodata=None), 422,
                            "geotiff.band_count"),
    "a float map": (MAP, lambda t: geotiff(t / "float.tif", bands=3), 422, "geotiff.band_type"),
    "zip traversal": (GRID, lambda t: _zip(t, {"../../evil.tif": geotiff(t / "e.tif").read_bytes()}), 422,
                      "archive.unsafe_path"),
    "zip without a TIFF": (GRID, lambda t: _zip(t, {"readme.txt": b"hello"}), 422, "geotiff.archive_no_raster"),
    "bad sheet name": (GRID, lambda t: geotiff(t / "..x.tif"), 422, "geotiff.bad_sheet"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_rasters_are_refused_and_change_nothing(client, operator, db, raster_dir, tmp_path, case):
    layer, make, status, code = BAD[case]
    before = state(db, raster_dir)
    r = post(client, layer, make(tmp_path), operator)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == f"urn:geoservice:problem:{code}"
    assert body.get("file") or body.get("field")  # where the problem is
    assert state(db, raster_dir) == before
    sealed(db)
    assert db.execute("SELECT result, detail->>'problem' FROM journal WHERE layer_id = %s ORDER BY seq DESC LIMIT 1",
                      (layer,)).fetchone() == ("rejected", code)


def test_a_truncated_file_is_named_as_the_user_named_it(client, operator, tmp_path):
    # Cut right after the header: GDAL's error names the file it read (ours is upload.bin).
    good = geotiff(tmp_path / "full.tif", width=480, height=360, tiled=True, compress="deflate",
                   blockxsize=512, blockysize=512)
    (tmp_path / "cut.tif").write_bytes(good.read_bytes()[:3000])
    r = post(client, GRID, tmp_path / "cut.tif", operator)
    assert r.status_code == 422 and r.json()["file"] == "cut.tif"
    assert "upload.bin" not in r.json()["detail"] and "cut.tif" in r.json()["detail"], r.json()


def test_a_crs_field_places_a_file_without_one(client, operator, tmp_path):
    r = post(client, GRID, geotiff(tmp_path / "nocrs.tif", crs=None), operator, crs="EPSG:4326", sheet="given-crs")
    assert r.status_code == 201, r.text
    assert r.json()["sheets"][0]["crs"] == "EPSG:4326"


def test_the_band_at_fault_is_named(client, operator, tmp_path):
    r = post(client, MAP, geotiff(tmp_path / "float.tif", bands=3), operator)
    assert r.status_code == 422 and r.json()["field"] == "band 1" and r.json()["file"] == "float.tif"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_refusals_speak_the_requests_language(client, operator, tmp_path, lang):
    r = post(client, GRID, geotiff(tmp_path / "alps.tif", origin=(10.0, 47.0)), {**operator, "Accept-Language": lang})
    assert r.status_code == 422
    expected = translate("geotiff.outside_country", lang, name="alps.tif", bbox=[10.0, 46.1, 11.2, 47.0])
    assert r.json()["detail"] == expected


def test_only_writers_of_the_layer_may_upload(client, environment, db, raster_dir, tmp_path):
    path = geotiff(tmp_path / "x.tif", width=100, height=100)
    before = state(db, raster_dir)
    assert post(client, GRID, path, {}).status_code == 401
    refused = post(client, GRID, path, environment)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "urn:geoservice:problem:auth.forbidden_layer"
    assert state(db, raster_dir) == before


def test_vector_versions_answer_as_before(client):
    r = client.get("/api/layers/restriction-zones/versions")
    assert r.status_code == 200 and r.json()["layer"] == "restriction-zones"
    assert client.get("/api/layers/no-such-layer/versions").status_code == 404


def test_a_zip_bomb_tiff_is_refused(client, operator, db, raster_dir, tmp_path):
    # 64 MiB of zeros deflate to ~64 KB: past the archive's bomb ratio, refused before unpacking.
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.tif", bytes(64 * 1024 * 1024))
    path = _write(tmp_path / "bomb.zip", data.getvalue())
    before = state(db, raster_dir)
    r = post(client, GRID, path, operator)
    assert r.status_code == 413, r.text
    assert r.json()["type"] == "urn:geoservice:problem:archive.bomb"
    assert state(db, raster_dir) == before


def test_the_cli_imports_a_raster(database_url, db, tmp_path):
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "store"
    env = {**os.environ, "DATABASE_URL": database_url, "GEOSERVICE_RASTER_DIR": str(out)}
    path = geotiff(tmp_path / "cli.tif", width=200, height=200)
    done = subprocess.run([sys.executable, "-m", "geoservice.cli", "import", "geophysics-gravity", str(path),
                           "--sheet", "cli-sheet"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (out / result["sheets"][0]["path"]).is_file()
    bad = subprocess.run([sys.executable, "-m", "geoservice.cli", "import", "geophysics-gravity",
                          str(geotiff(tmp_path / "alps.tif", origin=(10.0, 47.0))), "--lang", "ru"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "за пределами Казахстана" in json.loads(bad.stderr)["detail"]
    assert db.execute("SELECT actor, client FROM raster_versions WHERE id = %s",
                      (result["version"],)).fetchone() == ("cli", "cli")


def test_the_demo_rasters_load_through_the_pipeline(database_url, db, tmp_path):
    from geoservice.kernel.settings import Settings
    from importers.demo_rasters import GRID_SHEET, MAP_SHEET, load_demo_rasters

    settings = Settings(raster_dir=str(tmp_path / "demo"))
    text = load_demo_rasters(database_url, settings)
    assert "version" in text
    rows = {r[0]: r[1:] for r in db.execute(
        "SELECT sheet, crs, bands, dtype, stats, ST_Within(footprint, ST_MakeEnvelope(67.9, 43.9, 72.1, 47.1, 4326)) "
        "FROM current_raster_sheets WHERE sheet IN (%s, %s)", (MAP_SHEET, GRID_SHEET))}
    assert rows[MAP_SHEET][:3] == ("EPSG:28412", 3, "uint8") and rows[MAP_SHEET][4]
    assert rows[GRID_SHEET][:3] == ("EPSG:4326", 1, "float32") and rows[GRID_SHEET][4]
    assert rows[GRID_SHEET][3][0]["min"] < -100 and rows[GRID_SHEET][3][0]["max"] > 300  # anomalies, not nodata
    assert load_demo_rasters(database_url, settings).count("already loaded") == 2


def test_a_dry_run_reads_everything_and_stores_nothing(client, operator, db, raster_dir, tmp_path):
    before = state(db, raster_dir)
    r = post(client, GRID, geotiff(tmp_path / "try.tif", width=300, height=300), operator, dry_run="true")
    assert r.status_code == 201, r.text
    assert r.json()["dry_run"] is True and r.json()["version"] is None
    assert r.json()["sheets"][0]["stats"][0]["max"] > 50
    assert state(db, raster_dir) == before
