"""Every CRS family of the acts, through the whole pipeline into PostGIS, and GDAL round trips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

from importers.pipeline import UploadRequest, run_upload
from tests.helpers import feature_collection, write_json

# A point inside Kazakhstan in each 6-degree zone (Gauss-Kruger zone n ≙ UTM zone n+30).
ZONE_POINTS = {8: (47.8, 48.5), 9: (51.0, 47.0), 10: (57.0, 48.0), 11: (63.0, 49.0), 12: (69.0, 48.0),
               13: (75.0, 47.0), 14: (80.0, 49.0), 15: (85.0, 49.5)}


def _pulkovo_inverse(code: int, operation: int) -> Transformer:
    """WGS 84 → Pulkovo-based CRS through exactly the given EPSG operation."""
    for t in TransformerGroup("EPSG:4326", f"EPSG:{code}", always_xy=True).transformers:
        steps = t.to_json_dict().get("steps", [t.to_json_dict()])
        if operation in {(s.get("id") or {}).get("code") for s in steps}:
            return t
    raise AssertionError(f"no operation {operation} for EPSG:{code}")


def _upload_square(tmp: Path, database_url: str, lon: float, lat: float, crs_code: int,
                   transformer: Transformer) -> tuple[dict, shapely.Geometry]:
    truth = shapely.box(lon, lat, lon + 0.05, lat + 0.04)
    xs, ys = transformer.transform(*np.array(truth.exterior.coords).T)
    src = shapely.Polygon(np.column_stack([xs, ys]))
    fc = feature_collection([(shapely.geometry.mapping(src), {"zone_id": f"C{crs_code}", "name": "CRS test",
                                                              "kind": "other", "regime": "conditional"})])
    path = write_json(tmp / f"crs{crs_code}.geojson", fc)
    result = run_upload(UploadRequest(layer_id="restriction-zones", path=path, file_name=path.name,
                                      crs=f"EPSG:{crs_code}"), database_url)
    return result, truth


def _stored(db) -> shapely.Geometry:
    wkb = db.execute("SELECT ST_AsBinary(geom) FROM public.restriction_zones").fetchone()[0]
    return shapely.from_wkb(bytes(wkb))


def _max_offset_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return shapely.hausdorff_distance(a, b) * 111_000


@pytest.mark.parametrize("zone", sorted(ZONE_POINTS))
def test_gauss_kruger_zones_use_epsg_1291(zone, database_url, db, tmp_path):
    code = 28400 + zone
    lon, lat = ZONE_POINTS[zone]
    result, truth = _upload_square(tmp_path, database_url, lon, lat, code, _pulkovo_inverse(code, 1291))
    assert result["source_crs"] == f"EPSG:{code}"
    assert result["transformation"].startswith("EPSG:1291")
    assert _max_offset_m(_stored(db), truth) < 0.5


@pytest.mark.parametrize("zone", sorted(ZONE_POINTS))
def test_utm_zones(zone, database_url, db, tmp_path):
    code = 32630 + zone
    lon, lat = ZONE_POINTS[zone]
    result, truth = _upload_square(tmp_path, database_url, lon, lat, code,
                                   Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True))
    assert result["source_crs"] == f"EPSG:{code}"
    assert _max_offset_m(_stored(db), truth) < 0.5


def test_pulkovo_geographic_and_the_shift_is_real(database_url, db, tmp_path):
    result, truth = _upload_square(tmp_path, database_url, 69.0, 48.0, 4284, _pulkovo_inverse(4284, 1291))
    assert result["transformation"].startswith("EPSG:1291")
    assert _max_offset_m(_stored(db), truth) < 0.5
    # Had the coordinates been taken as WGS 84, they would be off by tens of metres.
    fc_coords = Transformer.from_crs("EPSG:4326", "EPSG:4284", always_xy=True).transform(69.0, 48.0)
    assert 30 < abs(fc_coords[0] - 69.0) * 111_000 * np.cos(np.radians(48)) + abs(fc_coords[1] - 48.0) * 111_000


def test_caspian_data_use_epsg_1303(database_url, db, tmp_path):
    result, truth = _upload_square(tmp_path, database_url, 51.0, 45.0, 4284, _pulkovo_inverse(4284, 1303))
    assert result["transformation"].startswith("EPSG:1303")
    assert _max_offset_m(_stored(db), truth) < 0.5


def test_geojson_legacy_crs_member(database_url, db, tmp_path):
    t = Transformer.from_crs("EPSG:4326", "EPSG:32642", always_xy=True)
    truth = shapely.box(69.0, 48.0, 69.05, 48.04)
    xs, ys = t.transform(*np.array(truth.exterior.coords).T)
    fc = feature_collection([(shapely.geometry.mapping(shapely.Polygon(np.column_stack([xs, ys]))),
                              {"zone_id": "L", "name": "legacy", "kind": "other", "regime": "conditional"})],
                            crs="urn:ogc:def:crs:EPSG::32642")
    path = write_json(tmp_path / "legacy.geojson", fc)
    result = run_upload(UploadRequest(layer_id="restriction-zones", path=path, file_name=path.name), database_url)
    assert result["source_crs"] == "EPSG:32642"
    assert _max_offset_m(_stored(db), truth) < 0.5


def test_formats_round_trip_through_gdal(database_url, db, tmp_path):
    """Shapefile (cp1251, Pulkovo GK) and GeoPackage (UTM) in; the stored layer read back out with
    ogr2ogr from PostGIS must carry the same features and text."""
    names = ["Қорғалжын — заповедник", "Водоохранная зона Есиль"]
    t = _pulkovo_inverse(28412, 1291)
    geoms = []
    for i in range(2):
        box = shapely.box(69.0 + i * 0.2, 48.0, 69.1 + i * 0.2, 48.1)
        xs, ys = t.transform(*np.array(box.exterior.coords).T)
        geoms.append(shapely.Polygon(np.column_stack([xs, ys])))
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    from pyogrio.raw import write

    fields = {"zone_id": np.array(["S1", "S2"], dtype=object), "name": np.array(names, dtype=object),
              "kind": np.array(["protected-area", "water-protection"], dtype=object),
              "regime": np.array(["prohibited", "conditional"], dtype=object)}
    write(str(shp_dir / "zones.shp"), shapely.to_wkb(np.array(geoms)), list(fields.values()), list(fields),
          driver="ESRI Shapefile", crs="EPSG:28412", geometry_type="Polygon", encoding="UTF-8")
    import zipfile

    archive = tmp_path / "zones.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f"zones/{f.name}")
    result = run_upload(UploadRequest(layer_id="restriction-zones", path=archive, file_name="zones.zip"),
                        database_url)
    assert result["feature_count"] == 2 and result["format"] == "shapefile"
    assert result["transformation"].startswith("EPSG:1291")

    out = tmp_path / "back.gpkg"
    pg = database_url.replace("postgresql://", "PG:postgresql://")
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(out), pg, "public.restriction_zones", "-nln", "back"],
                   check=True, capture_output=True)
    meta, _, geometry, field_data = pyogrio.raw.read(out)
    back = dict(zip(meta["fields"], field_data, strict=True))
    assert sorted(back["name"]) == sorted(names)
    assert meta["crs"] == "EPSG:4326"
    stored = shapely.from_wkb(geometry)
    assert shapely.hausdorff_distance(stored[0], shapely.box(69.0, 48.0, 69.1, 48.1)) * 111_000 < 1
