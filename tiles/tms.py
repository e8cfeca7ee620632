"""The tile matrix sets we serve (OGC Two Dimensional Tile Matrix Set 2.0), their JSON
definitions, and the geometry of one tile. Written out rather than taken from a library: two
well-known quad trees are a few lines of arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS = 6378137.0
WEB_MERCATOR_MAX = math.pi * EARTH_RADIUS            # 20037508.342789244 m
METRES_PER_DEGREE = 2 * math.pi * EARTH_RADIUS / 360  # for the CRS84 scale denominators
PIXEL_SIZE = 0.00028                                 # the standardised rendering pixel, metres
MAX_MERCATOR_LAT = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511...


@dataclass(frozen=True)
class TileMatrixSet:
    id: str
    title: str
    uri: str
    crs: str
    ordered_axes: tuple[str, str]
    well_known_scale_set: str
    max_zoom: int          # last tile matrix of the definition
    serve_max_zoom: int    # last one we serve tiles for (tileset limits); clients overzoom
    srid: int              # the CRS in PostGIS
    columns_at_0: int      # matrix width at zoom 0 (the height is 1)
    cell_size_0: float     # CRS units per pixel at zoom 0
    origin: tuple[float, float]

    def matrix_size(self, z: int) -> tuple[int, int]:
        """(columns, rows) at zoom ``z``."""
        return self.columns_at_0 << z, 1 << z

    def contains(self, z: int, x: int, y: int) -> bool:
        """True when the tile exists and we serve it."""
        if not 0 <= z <= self.serve_max_zoom:
            return False
        cols, rows = self.matrix_size(z)
        return 0 <= x < cols and 0 <= y < rows

    def tile_width_degrees(self, z: int) -> float:
        return 360.0 / self.matrix_size(z)[0]

    def bounds_lonlat(self, z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of tile (z, x, y), grown by ``margin`` tile
        widths on each side and clipped to the matrix set's extent (so that the box stays a
        valid filter at zoom 0 and 1, where a grown tile would wrap around the antimeridian)."""
        cols, rows = self.matrix_size(z)
        x0, x1 = max(0.0, x - margin), min(float(cols), x + 1 + margin)
        y0, y1 = max(0.0, y - margin), min(float(rows), y + 1 + margin)
        west, east = -180.0 + 360.0 * x0 / cols, -180.0 + 360.0 * x1 / cols
        if self.id == "WebMercatorQuad":
            north, south = _mercator_lat(y0 / rows), _mercator_lat(y1 / rows)
        else:
            north, south = 90.0 - 180.0 * y0 / rows, 90.0 - 180.0 * y1 / rows
        return west, south, east, north

    def definition(self) -> dict[str, Any]:
        """The TMS 2.0 JSON encoding."""
        units_per_degree = METRES_PER_DEGREE if self.srid == 4326 else 1.0
        matrices = []
        for z in range(self.max_zoom + 1):
            cols, rows = self.matrix_size(z)
            cell = self.cell_size_0 / (1 << z)
            matrices.append({
                "id": str(z), "scaleDenominator": cell * units_per_degree / PIXEL_SIZE, "cellSize": cell,
                "cornerOfOrigin": "topLeft", "pointOfOrigin": list(self.origin),
                "tileWidth": 256, "tileHeight": 256, "matrixWidth": cols, "matrixHeight": rows,
            })
        if self.srid == 4326:
            box = {"lowerLeft": [-180.0, -90.0], "upperRight": [180.0, 90.0], "crs": self.crs}
        else:
            box = {"lowerLeft": [-WEB_MERCATOR_MAX, -WEB_MERCATOR_MAX],
                   "upperRight": [WEB_MERCATOR_MAX, WEB_MERCATOR_MAX], "crs": self.crs}
        return {"id": self.id, "title": self.title, "uri": self.uri, "crs": self.crs,
                "orderedAxes": list(self.ordered_axes), "wellKnownScaleSet": self.well_known_scale_set,
                "boundingBox": box, "tileMatrices": matrices}


def _mercator_lat(fraction: float) -> float:
    """Latitude of the row edge ``fraction`` (0 = top, 1 = bottom) of a WebMercatorQuad matrix."""
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * fraction))))


WEB_MERCATOR_QUAD = TileMatrixSet(
    id="WebMercatorQuad", title="Google Maps Compatible for the World",
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    crs="http://www.opengis.net/def/crs/EPSG/0/3857", ordered_axes=("X", "Y"),
    well_known_scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
    max_zoom=24, serve_max_zoom=16, srid=3857, columns_at_0=1,
    cell_size_0=2 * WEB_MERCATOR_MAX / 256, origin=(-WEB_MERCATOR_MAX, WEB_MERCATOR_MAX))

WORLD_CRS84_QUAD = TileMatrixSet(
    id="WorldCRS84Quad", title="CRS84 for the World",
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
    crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84", ordered_axes=("Lon", "Lat"),
    well_known_scale_set="http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad",
    max_zoom=17, serve_max_zoom=15, srid=4326, columns_at_0=2,
    cell_size_0=180.0 / 256, origin=(-180.0, 90.0))

TILE_MATRIX_SETS: dict[str, TileMatrixSet] = {t.id: t for t in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}
