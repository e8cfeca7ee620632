"""Real clients against a real HTTP server: GDAL's OAPIF driver, OWSLib, and the ogctests
suite (Part 1 Core)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from importers.demo import load_demo
from tests.live import live_server

GRID_BBOX = (70.0, 48.0, 71.0, 49.0)  # 3,600 blocks


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    load_demo(url=database_url, grid_bbox=GRID_BBOX, progress=False)
    with live_server() as url:
        yield url


def ogr(*args: str) -> str:
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    res = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_gdal_lists_reads_pages_and_filters(server):
    out = ogr("-so", f"OAPIF:{server}/ogc")
    for name in ("blocks", "subsoil-plots", "restriction-zones", "geological-studies"):
        assert name in out
    # The whole block layer through paging (page size 1000 => 4 pages).
    out = ogr("-so", "-oo", "PAGE_SIZE=1000", f"OAPIF:{server}/ogc", "blocks", "-al")
    assert "Feature Count: 3600" in out
    full = ogr("-oo", "PAGE_SIZE=1000", "-al", "-q", "-fields=YES", "-geom=NO", f"OAPIF:{server}/ogc", "blocks")
    codes = [line.split("=", 1)[1].strip() for line in full.splitlines() if line.strip().startswith("code (String)")]
    assert len(codes) == 3600 and len(set(codes)) == 3600
    # bbox (spatial filter) and an attribute filter, as a QGIS user would set them.
    spat = ogr("-al", "-q", "-geom=NO", "-spat", "70.1", "48.1", "70.15", "48.15", f"OAPIF:{server}/ogc", "blocks")
    # a 3'x3' box on block edges: 3 x 3 blocks inside plus the ring touching it, 5 x 5
    assert spat.count("OGRFeature(blocks)") == 5 * 5
    attr = ogr("-al", "-q", "-geom=NO", "-where", "kind = 'settlement'", f"OAPIF:{server}/ogc", "restriction-zones")
    assert attr.count("OGRFeature(restriction-zones)") == 3
    assert "Астана" in attr


def test_gdal_copies_a_layer_out(server, tmp_path):
    out = tmp_path / "zones.gpkg"
    res = subprocess.run(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{server}/ogc", "restriction-zones"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    import pyogrio

    meta, _, geoms, fields = pyogrio.raw.read(out)
    names = dict(zip(meta["fields"], fields, strict=True))["name"]
    assert len(geoms) == 6 and "Алматы" in list(names)


def test_owslib_collections_queryables_and_cql2(server):
    from owslib.ogcapi.features import Features

    api = Features(server + "/ogc")
    ids = [c["id"] for c in api.collections()["collections"]]
    # `licences`, `applied-blocks` and `auction-lots` are served from the first licence, filing or lot on, raster layers
    # from their first sheet (other modules' tests on this worker make some).
    assert ids[:4] == ["blocks", "subsoil-plots", "restriction-zones", "geological-studies"]
    assert set(ids[4:]) <= {"licences", "applied-blocks", "auction-lots", "geological-maps", "geophysics-magnetic",
                            "geophysics-gravity"}
    queryables = api.collection_queryables("restriction-zones")
    assert {"kind", "regime", "name", "geometry"} <= set(queryables["properties"])
    assert "protected-area" in queryables["properties"]["kind"]["enum"]
    items = api.collection_items("restriction-zones", filter="regime = 'conditional'", limit=50)
    assert {f["properties"]["regime"] for f in items["features"]} == {"conditional"}
    assert items["numberMatched"] == 2
    items = api.collection_items(
        "blocks", limit=1000,
        filter="S_INTERSECTS(geometry, POLYGON((70.5 48.5, 70.52 48.5, 70.52 48.52, 70.5 48.52, 70.5 48.5)))")
    assert items["numberReturned"] == 3 * 3  # the 2'x2' square touches a 3x3 patch of blocks
    one = api.collection_item("blocks", items["features"][0]["id"])
    assert one["id"] == items["features"][0]["id"]


def test_ogctests_core_passes(server, tmp_path):
    import ogctests

    suite = Path(ogctests.__file__).parent / "features" / "core"
    env = {**os.environ, "INSTANCE_URL": f"{server}/ogc"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          str(suite), f"--junitxml={tmp_path / 'ogc.xml'}"], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:]
    assert " passed" in res.stdout and "failed" not in res.stdout
    summary = json.dumps(res.stdout.splitlines()[-1])
    assert "29 passed" in summary or "passed" in summary
