"""Raster layers' versions restored and pruned (issue 12), like vector versions, against real
PostGIS with real GeoTIFFs uploaded over HTTP: a restore is a new version sharing the original's
COG files and is what the map, the point query and the listing show; pruning marks versions
beyond the policy and removes the files no kept version uses (never a restore's)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from rasterio.transform import from_origin

from geoservice.kernel.i18n import translate
from layers import raster_versions
from layers.catalog import RASTER_LAYERS
from layers.store import Retention
from tests.helpers import authority_headers, raster_client, sealed
from tiles.tms import WEB_MERCATOR_QUAD

GRID = "geophysics-magnetic"
GRAVITY = "geophysics-gravity"
GEOSERVICE = [sys.executable, "-m", "geoservice.cli"]
# A point of every sheet made here: column 100, row 50 of a 300 x 300 grid at (70.0, 47.0).
LON, LAT = 70.1005, 46.9495


@pytest.fixture(scope="module")
def raster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rasters")


@pytest.fixture(autouse=True)
def forget_what_we_made(database_url: str) -> Iterator[None]:
    """Each test's versions and sheets are deleted after it: rows left in these tables point into
    this module's temporary store and would be served by later modules on this database."""
    with psycopg.connect(database_url) as conn:
        before = conn.execute("SELECT coalesce(max(id), 0) FROM raster_versions").fetchone()[0]  # type: ignore[index]
    yield
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM raster_sheets WHERE version_id > %s", (before,))
        conn.execute("DELETE FROM raster_versions WHERE id > %s", (before,))
        conn.commit()


@pytest.fixture(scope="module")
def client(database_url: str, raster_dir: Path) -> Iterator[TestClient]:
    with raster_client(raster_dir) as c:
        yield c


@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    return authority_headers(database_url, "operator", "raster versions test")


@pytest.fixture(scope="module")
def environment(database_url: str) -> dict[str, str]:
    return authority_headers(database_url, "environment", "raster versions test")  # writes no raster layer


def grid(path: Path, values: np.ndarray) -> Path:
    """A real single-band float GeoTIFF of ``values`` (300 x 300) at 0.001° from (70.0, 47.0)."""
    with rasterio.open(path, "w", driver="GTiff", width=300, height=300, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(70.0, 47.0, 0.001, 0.001), nodata=-9999.0) as ds:
        ds.write(values.astype("float32"), 1)
    return path


ROWS, COLS = np.mgrid[0:300, 0:300].astype("float64")
FIRST = COLS            # value = column: 100 at the point
SECOND = 1000 + ROWS    # value = 1000 + row: 1050 at the point, and another picture


def upload(client: TestClient, headers: dict[str, str], tmp_path: Path, layer: str, sheet: str,
           values: np.ndarray, name: str) -> dict[str, Any]:
    path = grid(tmp_path / f"{name}.tif", values)
    r = client.post(f"/api/layers/{layer}/uploads", headers=headers, data={"sheet": sheet},
                    files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 201, r.text
    return r.json()


def value(client: TestClient, layer: str = GRID) -> dict[str, Any]:
    r = client.get(f"/api/rasters/{layer}/value", params={"lon": LON, "lat": LAT})
    assert r.status_code == 200, r.text
    return r.json()


def tile(client: TestClient, layer: str = GRID) -> tuple[np.ndarray, str]:
    at = WEB_MERCATOR_QUAD.model.tile(LON, LAT, 9)
    r = client.get(f"/ogc/collections/{layer}/map/tiles/WebMercatorQuad/9/{at.y}/{at.x}")
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA")), r.headers["etag"]


def listing(client: TestClient, layer: str) -> dict[int, dict[str, Any]]:
    r = client.get(f"/api/layers/{layer}/versions")
    assert r.status_code == 200, r.text
    return {v["version"]: v for v in r.json()["versions"]}


def files(raster_dir: Path, layer: str) -> set[str]:
    return {str(p.relative_to(raster_dir)) for p in (raster_dir / layer).rglob("*")} if (raster_dir / layer).exists() \
        else set()


def path_of(db: psycopg.Connection, version: int) -> str:
    [(path,)] = db.execute("SELECT path FROM raster_sheets WHERE version_id = %s", (version,)).fetchall()
    return str(path)


def restore(client: TestClient, headers: dict[str, str], version: int, layer: str = GRID):
    return client.post(f"/api/layers/{layer}/versions/{version}/restore", headers=headers)


def test_restoring_the_first_version_shows_it_again(client, operator, db, raster_dir, tmp_path):
    v1 = upload(client, operator, tmp_path, GRID, "R-1", FIRST, "first")
    assert value(client)["value"] == pytest.approx(100.0)
    first_tile, _ = tile(client)
    v2 = upload(client, operator, tmp_path, GRID, "R-1", SECOND, "second")
    assert value(client)["value"] == pytest.approx(1050.0)
    second_tile, second_etag = tile(client)
    assert not np.array_equal(first_tile, second_tile)
    stored = files(raster_dir, GRID)

    r = restore(client, operator, v1["version"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["version"] > v2["version"] and new["restored_from"] == v1["version"]
    assert (new["source_format"], new["source_file"], new["checksum"]) == (
        "restore", f"restore of version {v1['version']}", v1["checksum"])
    assert new["current"] and new["pruned_at"] is None
    [sheet] = new["sheets"]
    assert (sheet["sheet"], sheet["checksum"], sheet["current"]) == ("R-1", v1["sheets"][0]["checksum"], True)

    # The map and the point query show the first version's pixels again, from its own file.
    shown = value(client)
    assert shown["value"] == pytest.approx(100.0) and shown["version"] == new["version"]
    restored_tile, restored_etag = tile(client)
    assert restored_etag != second_etag and np.array_equal(restored_tile, first_tile)
    assert path_of(db, new["version"]) == path_of(db, v1["version"]) == f"{GRID}/{v1['version']}/R-1.tif"
    assert files(raster_dir, GRID) == stored  # no file copied
    row = db.execute("SELECT actor, client, sheets, restored_from FROM raster_versions WHERE id = %s",
                     (new["version"],)).fetchone()
    assert row[0] != "anonymous" and row[1] and row[2:] == (1, v1["version"])

    listed = listing(client, GRID)
    assert {**listed[new["version"]], "unchanged": False} == new
    assert listed[new["version"]]["restored_from"] == v1["version"]
    assert listed[v1["version"]]["restored_from"] is None and listed[v2["version"]]["restored_from"] is None
    assert [listed[v]["current"] for v in (v1["version"], v2["version"])] == [False, False]
    assert all(listed[v]["pruned_at"] is None for v in (v1["version"], v2["version"], new["version"]))
    sealed(db)
    row = db.execute("SELECT result, version, detail FROM journal WHERE layer_id = %s AND action = 'restore' "
                     "ORDER BY seq DESC LIMIT 1", (GRID,)).fetchone()
    assert row[:2] == ("ok", v1["version"]) and row[2]["new_version"] == new["version"]

    # Restoring the second version puts it back on top, the first one's restore beneath it.
    assert restore(client, operator, v2["version"]).status_code == 200
    assert value(client)["value"] == pytest.approx(1050.0)

    # Restoring what is shown already makes no version (and keeps the tiles' cache keys).
    newest = db.execute("SELECT max(id) FROM raster_versions").fetchone()[0]
    again = restore(client, operator, newest)
    assert again.status_code == 200 and again.json()["unchanged"] is True and again.json()["version"] == newest
    assert db.execute("SELECT max(id) FROM raster_versions").fetchone()[0] == newest


def test_a_restore_is_refused_without_rights_or_version(client, operator, environment, db, tmp_path):
    v1 = upload(client, operator, tmp_path, GRID, "R-2", FIRST, "mine")
    other = upload(client, operator, tmp_path, GRAVITY, "R-2", FIRST, "other")
    before = db.execute("SELECT count(*), max(id) FROM raster_versions").fetchone()
    assert restore(client, {}, v1["version"]).status_code == 401
    refused = restore(client, environment, v1["version"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "urn:geoservice:problem:auth.forbidden_layer"
    # A version of another layer is not one of this layer's.
    for missing in (other["version"], 10**9, 10**30):  # the last one past bigint and the journal's integer
        r = restore(client, {**operator, "Accept-Language": "ru"}, missing)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "urn:geoservice:problem:version.not_found"
        assert r.json()["detail"] == translate("version.not_found", "ru", layer=GRID, version=missing)
    assert db.execute("SELECT count(*), max(id) FROM raster_versions").fetchone() == before
    sealed(db)
    rows = db.execute("SELECT actor, result, detail->>'status' FROM journal WHERE layer_id = %s AND action = 'restore' "
                      "ORDER BY seq DESC LIMIT 5", (GRID,)).fetchall()
    assert [r[1:] for r in rows] == [("rejected", s) for s in ("404", "404", "404", "403", "401")]
    assert rows[-1][0] == "anonymous"


def test_prune_marks_old_versions_and_removes_their_files(client, operator, db, database_url, raster_dir,
                                                          tmp_path):
    v1 = upload(client, operator, tmp_path, GRAVITY, "P-1", FIRST, "p1")
    v2 = upload(client, operator, tmp_path, GRAVITY, "P-1", SECOND, "p2")
    v3 = upload(client, operator, tmp_path, GRAVITY, "P-2", FIRST, "p3")
    paths = {v["version"]: path_of(db, v["version"]) for v in (v1, v2, v3)}
    layer, policy = RASTER_LAYERS[GRAVITY], Retention(keep_versions=1, keep_days=0)
    with psycopg.connect(database_url) as conn:
        # Nothing of the last 30 days goes, nor the last 3 versions, however old.
        assert raster_versions.prune(conn, layer, Retention(1, 30), raster_dir, actor="test", dry_run=True) == []
        assert raster_versions.prune(conn, layer, Retention(3, 0), raster_dir, actor="test", dry_run=True) == []
        # A dry run says what would go and changes nothing.
        dry = raster_versions.prune(conn, layer, policy, raster_dir, actor="test", dry_run=True)
        conn.commit()
        assert [(v.version, v.files, v.pruned_at) for v in dry] == [(v1["version"], [paths[v1["version"]]], None)]
        assert all((raster_dir / p).is_file() for p in paths.values())
        # Kept: the newest version (v3, by count) and v2 (its sheet is shown); v1 goes.
        done = raster_versions.prune(conn, layer, policy, raster_dir, actor="test", client="test")
        assert [(v.version, v.files) for v in done] == [(v1["version"], [paths[v1["version"]]])]
        assert done[0].pruned_at is not None
        # Committed by prune itself, before it returned (seen from another connection).
        assert db.execute("SELECT pruned_at FROM raster_versions WHERE id = %s",
                          (v1["version"],)).fetchone() == (done[0].pruned_at,)
        # Nothing more to do, nothing left in the transaction: it was committed.
        assert raster_versions.prune(conn, layer, policy, raster_dir, actor="test") == []
    assert not (raster_dir / paths[v1["version"]]).exists()
    assert not (raster_dir / paths[v1["version"]]).parent.exists()  # its emptied folder too
    assert (raster_dir / paths[v2["version"]]).is_file() and (raster_dir / paths[v3["version"]]).is_file()
    assert value(client, GRAVITY)["version"] == v3["version"]  # P-2 lies over P-1, newest on top

    listed = listing(client, GRAVITY)
    assert listed[v1["version"]]["pruned_at"] is not None  # stays listed, for the record
    assert listed[v1["version"]]["sheets"][0]["checksum"] == v1["sheets"][0]["checksum"]
    assert listed[v2["version"]]["pruned_at"] is None and listed[v3["version"]]["pruned_at"] is None
    for lang, words in (("ru", "нельзя восстановить"), ("en", "cannot be restored")):
        gone = restore(client, {**operator, "Accept-Language": lang}, v1["version"], GRAVITY)
        assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["type"] == "urn:geoservice:problem:version.pruned"
        assert words in gone.json()["detail"] and str(v1["version"]) in gone.json()["detail"]
    sealed(db)
    rows = db.execute("SELECT actor, result, version, detail FROM journal WHERE layer_id = %s AND action = 'prune' "
                      "ORDER BY seq DESC LIMIT 1", (GRAVITY,)).fetchall()
    assert [r[:3] for r in rows] == [("test", "ok", v1["version"])]
    assert rows[0][3]["files"] == [paths[v1["version"]]] and rows[0][3]["kind"] == "raster"


def _cli_prune(database_url: str, raster_dir: Path, *args: str) -> list[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "GEOSERVICE_RASTER_DIR": str(raster_dir),
           "GEOSERVICE_KEEP_VERSIONS": "1", "GEOSERVICE_KEEP_DAYS": "0"}
    done = subprocess.run([*GEOSERVICE, "layers", "prune", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _pruned(lines: list[str], layer: str, word: str = "pruned") -> set[int]:
    return {int(line.split()[2]) for line in lines if line.startswith(f"{layer}: version") and line.endswith(word)}


def test_a_file_shared_with_a_restore_is_kept_until_no_kept_version_uses_it(client, operator, db, database_url,
                                                                           raster_dir, tmp_path):
    v1 = upload(client, operator, tmp_path, GRID, "S-1", FIRST, "s1")
    v2 = upload(client, operator, tmp_path, GRID, "S-1", SECOND, "s2")
    v3 = restore(client, operator, v1["version"]).json()      # shares v1's file
    first, second = path_of(db, v1["version"]), path_of(db, v2["version"])
    assert path_of(db, v3["version"]) == first

    # Without --layer: every layer, vector and raster, in a dry run that changes nothing.
    everything = _cli_prune(database_url, raster_dir, "--dry-run")
    assert f"{GRAVITY}: nothing to prune" in everything
    assert any(line.startswith("restriction-zones:") for line in everything)
    assert _pruned(everything, GRID, "would be pruned") == {v1["version"], v2["version"]}
    assert (raster_dir / first).is_file() and (raster_dir / second).is_file()

    vector = _cli_prune(database_url, raster_dir, "--layer", "restriction-zones", "--dry-run")
    assert not any(line.startswith("geo") for line in vector)  # a vector layer named: no raster layer
    lines = _cli_prune(database_url, raster_dir, "--layer", GRID)
    assert _pruned(lines, GRID) == {v1["version"], v2["version"]}
    assert all(line.startswith(GRID) for line in lines[1:])  # only the layer named
    assert not (raster_dir / second).exists()
    assert (raster_dir / first).is_file()  # v3, kept, still shows it
    assert value(client)["value"] == pytest.approx(100.0)
    listed = listing(client, GRID)
    assert [listed[v]["pruned_at"] is not None for v in (v1["version"], v2["version"], v3["version"])] == \
        [True, True, False]

    # Once the restore is superseded and pruned as well, nothing kept uses the file: it goes.
    v4 = upload(client, operator, tmp_path, GRID, "S-1", SECOND, "s4")
    lines = _cli_prune(database_url, raster_dir, "--layer", GRID)
    assert _pruned(lines, GRID) == {v3["version"]}
    assert not (raster_dir / first).exists()
    assert (raster_dir / path_of(db, v4["version"])).is_file()
    assert value(client)["value"] == pytest.approx(1050.0)


def test_a_prune_killed_before_its_files_went_leaves_them_for_the_next(client, operator, db, database_url,
                                                                        raster_dir, tmp_path, monkeypatch):
    v1 = upload(client, operator, tmp_path, GRID, "C-1", FIRST, "c1")
    v2 = upload(client, operator, tmp_path, GRID, "C-2", FIRST, "c2")
    v3 = upload(client, operator, tmp_path, GRID, "C-1", SECOND, "c3")
    upload(client, operator, tmp_path, GRID, "C-2", SECOND, "c4")
    first, second = path_of(db, v1["version"]), path_of(db, v2["version"])
    (raster_dir / second).unlink()  # v2's file is gone already (removed by hand): fine

    def killed(root: Path, relative: str) -> None:
        raise KeyboardInterrupt("killed while removing files")

    monkeypatch.setattr(raster_versions, "_remove", killed)
    with psycopg.connect(database_url) as conn, pytest.raises(KeyboardInterrupt):
        raster_versions.prune(conn, RASTER_LAYERS[GRID], Retention(1, 0), raster_dir, actor="test")
    # The rows were marked pruned and committed before any file was touched: no row that can be
    # shown or restored points at a missing file.
    assert db.execute("SELECT id FROM raster_versions WHERE layer_id = %s AND pruned_at IS NOT NULL AND id >= %s "
                      "ORDER BY id", (GRID, v1["version"])).fetchall() == [(v1["version"],), (v2["version"],)]
    assert (raster_dir / first).is_file()
    monkeypatch.undo()
    with psycopg.connect(database_url) as conn:
        again = raster_versions.prune(conn, RASTER_LAYERS[GRID], Retention(1, 0), raster_dir, actor="test")
    assert again == []  # nothing new to prune, but the files left behind are removed
    assert not (raster_dir / first).exists() and not (raster_dir / first).parent.exists()
    assert (raster_dir / path_of(db, v3["version"])).is_file()
