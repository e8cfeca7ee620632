"""The tile matrix sets we serve (OGC Two Dimensional Tile Matrix Set 2.0), their JSON
definitions, and the geometry of one tile.

The definitions are morecantile's copies of the OGC registry's (WebMercatorQuad, WorldCRS84Quad).
morecantile's objects are pydantic models whose per-tile methods go through pyproj and
validation: too slow for a path every map pan takes. So at import each matrix set is read into
plain numbers (origin, matrix sizes, tile spans per zoom) and the JSON document is made once;
a tile request only does float arithmetic on those (tests check it against morecantile)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import morecantile

from geoservice.kernel.errors import Problem

EARTH_RADIUS = 6378137.0   # of EPSG:3857's sphere


@dataclass(frozen=True)
class TileMatrixSet:
    id: str
    title: str
    uri: str
    crs: str
    max_zoom: int          # last tile matrix of the definition
    serve_max_zoom: int    # last one we serve tiles for (tileset limits); clients overzoom
    srid: int              # the CRS in PostGIS
    origin: tuple[float, float]                  # top left corner, CRS units
    sizes: tuple[tuple[int, int], ...]           # (columns, rows) per zoom
    spans: tuple[tuple[float, float], ...]       # tile width, height in CRS units per zoom
    document: dict[str, Any] = field(repr=False, compare=False)  # the TMS 2.0 JSON encoding
    model: morecantile.TileMatrixSet = field(repr=False, compare=False)  # for what is not per tile

    def matrix_size(self, z: int) -> tuple[int, int]:
        """(columns, rows) at zoom ``z``."""
        return self.sizes[z]

    def contains(self, z: int, x: int, y: int) -> bool:
        """True when the tile exists and we serve it."""
        if not 0 <= z <= self.serve_max_zoom:
            return False
        cols, rows = self.sizes[z]
        return 0 <= x < cols and 0 <= y < rows

    def tile_width_degrees(self, z: int) -> float:
        width = self.spans[z][0]
        return math.degrees(width / EARTH_RADIUS) if self.srid == 3857 else width

    def bounds_lonlat(self, z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of tile (z, x, y), grown by ``margin`` tile
        widths on each side and clipped to the matrix set's extent (so that the box stays a
        valid filter at zoom 0 and 1, where a grown tile would wrap around the antimeridian)."""
        cols, rows = self.sizes[z]
        width, height = self.spans[z]
        x0, x1 = max(0.0, x - margin), min(float(cols), x + 1 + margin)
        y0, y1 = max(0.0, y - margin), min(float(rows), y + 1 + margin)
        ox, oy = self.origin
        west, east = ox + x0 * width, ox + x1 * width
        north, south = oy - y0 * height, oy - y1 * height
        if self.srid == 3857:  # spherical Mercator metres to degrees
            west, east = math.degrees(west / EARTH_RADIUS), math.degrees(east / EARTH_RADIUS)
            north = math.degrees(math.atan(math.sinh(north / EARTH_RADIUS)))
            south = math.degrees(math.atan(math.sinh(south / EARTH_RADIUS)))
        return west, south, east, north

    def limits(self) -> list[dict[str, Any]]:
        """TMS 2.0 tileMatrixSetLimits: every zoom we serve, whole. Not cut to the data's extent:
        GDAL 3.6's OGCAPI driver (Debian 12's) sizes its dataset by the whole matrix's rows but
        places it by the limits' rows, so cut limits stretch the picture; whole ones it crops to
        the tileset's boundingBox itself. Tiles outside the data are empty, never errors."""
        out = []
        for z in range(self.serve_max_zoom + 1):
            cols, rows = self.sizes[z]
            out.append({"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": rows - 1,
                        "minTileCol": 0, "maxTileCol": cols - 1})
        return out

    def tile_at(self, z: int, lon: float, lat: float) -> tuple[int, int]:
        """(column, row) of the tile holding a point. Not for the per-tile path (pyproj)."""
        tile = self.model.tile(lon, lat, z)
        return tile.x, tile.y

    def definition(self) -> dict[str, Any]:
        """The TMS 2.0 JSON encoding (a copy to add links to)."""
        return dict(self.document)


def _from_morecantile(tms_id: str, *, srid: int, serve_max_zoom: int) -> TileMatrixSet:
    tms = morecantile.tms.get(tms_id)
    matrices = tms.tileMatrices
    # The plain arithmetic above holds for these sets: one origin, top left, no coalesced rows,
    # matrix ids 0, 1, 2 …, axes in x, y order.
    assert all(m.cornerOfOrigin == "topLeft" and m.variableMatrixWidths is None for m in matrices)
    assert [int(m.id) for m in matrices] == list(range(len(matrices))) and not tms._invert_axis
    assert len({tuple(m.pointOfOrigin) for m in matrices}) == 1
    document = tms.model_dump(mode="json", exclude_none=True)
    left, bottom, right, top = tms.xy_bbox
    # Tile spans as the extent over the matrix size: exact for these halvings, where the
    # registry's rounded cellSize (0.0000214576721191406 at WorldCRS84Quad 15) is not.
    spans = tuple(((right - left) / m.matrixWidth, (top - bottom) / m.matrixHeight) for m in matrices)
    assert all(math.isclose(w, m.cellSize * m.tileWidth, rel_tol=1e-9)
               and math.isclose(h, m.cellSize * m.tileHeight, rel_tol=1e-9)
               for (w, h), m in zip(spans, matrices, strict=True))
    # Optional in TMS 2.0 and not in the registry's document; kept from our earlier answers.
    document["boundingBox"] = {"lowerLeft": [left, bottom], "upperRight": [right, top], "crs": document["crs"]}
    # GDAL 3.6 (Debian 12's) reads a tile matrix set by TMS 1.0's names: "identifier" (of each
    # matrix too), "supportedCRS", "topLeftCorner". Without them its OGCAPI driver's tiles mode
    # cannot use the document. TMS 2.0 allows more members, so both names are given; QGIS and
    # newer GDAL read the 2.0 ones.
    document["identifier"] = document["id"]
    document["supportedCRS"] = document["crs"]
    for matrix in document["tileMatrices"]:
        matrix["identifier"] = matrix["id"]
        matrix["topLeftCorner"] = matrix["pointOfOrigin"]
    return TileMatrixSet(
        id=tms.id, title=tms.title or tms.id, uri=str(tms.uri), crs=document["crs"],
        max_zoom=len(matrices) - 1, serve_max_zoom=serve_max_zoom, srid=srid,
        origin=(float(matrices[0].pointOfOrigin[0]), float(matrices[0].pointOfOrigin[1])),
        sizes=tuple((m.matrixWidth, m.matrixHeight) for m in matrices),
        spans=spans,
        document=document, model=tms)


WEB_MERCATOR_QUAD = _from_morecantile("WebMercatorQuad", srid=3857, serve_max_zoom=16)
# CRS84 is EPSG:4326 with lon/lat axis order, which is how PostGIS stores 4326 anyway.
WORLD_CRS84_QUAD = _from_morecantile("WorldCRS84Quad", srid=4326, serve_max_zoom=15)

TILE_MATRIX_SETS: dict[str, TileMatrixSet] = {t.id: t for t in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}


def matrix_set(tms_id: str) -> TileMatrixSet:
    """The tile matrix set of that id; a 404 problem naming the known ones otherwise."""
    matrix = TILE_MATRIX_SETS.get(tms_id)
    if matrix is None:
        raise Problem("tiles.unknown_tms", 404, tms=tms_id, known=", ".join(TILE_MATRIX_SETS))
    return matrix
