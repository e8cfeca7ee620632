"""The national area ("inside Kazakhstan") and small polygon helpers, shared by uploads
(importers/validate.py) and parcels (cadastre/parcels.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from geoservice.kernel.settings import Settings

BOUNDARY_FILE = Path(__file__).resolve().parent / "data" / "kazakhstan_boundary.geojson"
# A repaired polygon may differ from the drawn one by this share of its area and still count as
# the same polygon (duplicate vertices, wrong orientation, touching rings, slivers).
FAITHFUL_AREA_TOLERANCE = 0.01


# The shipped land boundary leaves out the sea, where the hydrocarbon plots of the Caspian are.
# This outline of the Kazakh sector of the Caspian is schematic (median lines approximated); it
# only widens the "inside Kazakhstan" check, nothing is drawn from it.
CASPIAN_SECTOR = shapely.Polygon([
    (49.0, 46.6), (48.5, 45.6), (48.9, 44.7), (49.9, 43.4), (50.8, 42.4), (51.3, 41.75), (52.9, 41.75),
    (53.0, 42.2), (52.6, 45.0), (53.2, 46.9), (49.0, 46.6),
])


@lru_cache
def national_boundary() -> shapely.Geometry:
    data = json.loads(BOUNDARY_FILE.read_text())
    land = shapely.from_geojson(json.dumps(data["features"][0]["geometry"]))
    return shapely.union(land, CASPIAN_SECTOR)


@lru_cache
def tolerant_boundary(tolerance: float) -> shapely.Geometry:
    geom = shapely.buffer(national_boundary(), tolerance, quad_segs=4)
    shapely.prepare(geom)
    return geom


def polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of a geometry as one MultiPolygon (None when it has none)."""
    parts = shapely.get_parts(geom)
    polys: list[shapely.Geometry] = []
    for part in parts:
        kind = shapely.get_type_id(part)
        if kind == 3:
            polys.append(part)
        elif kind == 6:
            polys.extend(shapely.get_parts(part))
        elif kind == 7:
            sub = polygonal_part(part)
            if sub is not None:
                polys.extend(shapely.get_parts(sub))
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    return shapely.MultiPolygon(polys) if polys else None


def outside_country(geoms: np.ndarray, tolerance_deg: float = Settings.boundary_tolerance_deg) -> np.ndarray:
    """Positions of geometries with a vertex outside the national area (with tolerance).

    Testing vertices (vectorised point-in-polygon) instead of whole polygons is ~20× faster;
    an edge could only leave the area between two inside vertices by less than the tolerance."""
    area = tolerant_boundary(tolerance_deg)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    inside = shapely.contains_xy(area, coords[:, 0], coords[:, 1])
    bad = np.bincount(index[~inside], minlength=len(geoms)) > 0
    return np.flatnonzero(bad)


def faithful_repair(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, float]:
    """A valid (Multi)Polygon for an invalid one and the share of area the repair changed; None
    when nothing polygonal is left or the change exceeds FAITHFUL_AREA_TOLERANCE (a bow-tie)."""
    repaired = polygonal_part(shapely.make_valid(geom, method="structure"))
    before = float(shapely.area(geom))
    after = float(shapely.area(repaired)) if repaired is not None else 0.0
    change = abs(after - before) / max(before, after, 1e-18)
    if repaired is None or change > FAITHFUL_AREA_TOLERANCE:
        return None, change
    return repaired, change
