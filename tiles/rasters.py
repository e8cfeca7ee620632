"""Raster layers served (issue 12): map tiles rendered from the current sheets' Cloud-Optimized
GeoTIFFs, coverage subsets as GeoTIFF, and the value at a point.

The sheets come from ``current_raster_sheets`` (the mosaic: the newest version of each sheet),
found by footprint; each is read with rasterio at the overview level nearest the output's
resolution (as ``gdalwarp -ovr AUTO`` picks it), warped onto the output grid, and painted oldest
first so the newest version is on top. Grids (one band of values) are drawn through a colour ramp
given by the caller (the ramp lives in styles/, which this package does not import).

Everything here is blocking (GDAL): the edge runs it in a worker thread. GDAL releases the GIL
while it reads and warps, so tiles render in parallel."""

from __future__ import annotations

import functools
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import rasterio
from affine import Affine
from PIL import Image
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as transform_points
from rasterio.warp import transform_bounds

from tiles.tms import TileMatrixSet

log = logging.getLogger("geoservice.rasters")

TILE_SIZE = 256
# Coverage outputs: past this many pixels a subset is refused (413), so one request cannot make
# the server warp gigabytes. A request without width/height is scaled down to fit instead.
MAX_COVERAGE_SIDE = 4096
MAX_COVERAGE_PIXELS = 4096 * 2048   # a float32 grid of 32 MB

# The sheets of a layer that meet a box, oldest first (painted in this order: newest on top).
SHEETS_SQL = """
    SELECT id, version_id, sheet, path, crs, width, height, bands, dtype, nodata, stats
      FROM current_raster_sheets
     WHERE layer_id = $1 AND footprint && ST_MakeEnvelope($2, $3, $4, $5, 4326)
       AND ST_Intersects(footprint, ST_MakeEnvelope($2, $3, $4, $5, 4326))
     ORDER BY version_id, id"""
# The sheets holding a point, newest first (the first with data there answers).
POINT_SQL = """
    SELECT id, version_id, sheet, path, crs, width, height, bands, dtype, nodata, stats
      FROM current_raster_sheets
     WHERE layer_id = $1 AND ST_Intersects(footprint, ST_SetSRID(ST_MakePoint($2, $3), 4326))
     ORDER BY version_id DESC, id DESC"""
# The layer's newest version: part of every cache key, so a new upload makes new keys.
LATEST_SQL = "SELECT max(id) FROM raster_versions WHERE layer_id = $1"
# Extent and statistics of the mosaic (coverage without bbox, ramps from the data, domainset).
EXTENT_SQL = """
    SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), n, stats
      FROM (SELECT ST_Extent(footprint)::geometry AS e, count(*) AS n,
                   jsonb_agg(stats ORDER BY version_id, id) AS stats
              FROM current_raster_sheets WHERE layer_id = $1) s"""


@dataclass(frozen=True)
class Sheet:
    id: int
    version_id: int
    sheet: str
    path: str
    crs: str
    width: int
    height: int
    bands: int
    dtype: str
    nodata: float | None
    stats: list[dict[str, float]]

    @classmethod
    def of(cls, row: Any) -> Sheet:
        stats = row["stats"]
        if isinstance(stats, str):  # asyncpg hands jsonb over as text
            stats = orjson.loads(stats)
        return cls(id=row["id"], version_id=row["version_id"], sheet=row["sheet"], path=row["path"],
                   crs=row["crs"], width=row["width"], height=row["height"], bands=row["bands"],
                   dtype=row["dtype"], nodata=row["nodata"], stats=list(stats or []))


Stops = Sequence[tuple[float, tuple[int, int, int]]]   # value -> RGB, ascending values


@dataclass(frozen=True)
class Grid:
    """An output grid: a CRS, its bounds in that CRS, and a size in pixels."""
    crs: CRS
    bounds: tuple[float, float, float, float]   # left, bottom, right, top
    width: int
    height: int

    @property
    def transform(self) -> Any:
        # Built directly: rasterio's from_bounds goes through Affine's slow generic product
        # (about 1.5 ms, a tenth of a cold tile).
        left, bottom, right, top = self.bounds
        return Affine((right - left) / self.width, 0.0, left, 0.0, -(top - bottom) / self.height, top)


_CRS = {3857: CRS.from_epsg(3857), 4326: CRS.from_epsg(4326)}


def tile_grid(tms: TileMatrixSet, z: int, x: int, y: int) -> Grid:
    """The 256×256 grid of tile (z, x, y) in the matrix set's CRS (EPSG:4326 stands for CRS84:
    GDAL keeps lon/lat order for it in a transform)."""
    width, height = tms.spans[z]
    ox, oy = tms.origin
    left, top = ox + x * width, oy - y * height
    return Grid(_CRS[tms.srid], (left, top - height, left + width, top), TILE_SIZE, TILE_SIZE)


def lonlat_bounds(tms: TileMatrixSet, z: int, x: int, y: int) -> tuple[float, float, float, float]:
    return tms.bounds_lonlat(z, x, y)


def _alpha_index(src: Any) -> int | None:
    for i, interp in enumerate(src.colorinterp, start=1):
        if interp == ColorInterp.alpha:
            return i
    return None


@dataclass(frozen=True)
class Header:
    """What a COG's header says that choosing the overview and sizing a coverage need. A sheet's
    file never changes (a new version is a new path), so this is read once per file, not once
    per tile or coverage."""
    crs: CRS
    res: float                    # the finer of the pixel's two sides, in the file's CRS units
    factors: tuple[int, ...]      # the overviews' decimation factors, finest first
    degrees: float                # the finer pixel side in degrees, over the sheet's extent


@functools.lru_cache(maxsize=4096)
def _header(path: Path) -> Header:
    with rasterio.open(path) as src:
        left, bottom, right, top = transform_bounds(src.crs, _CRS[4326], *src.bounds, densify_pts=11)
        return Header(src.crs, min(abs(src.res[0]), abs(src.res[1])), tuple(src.overviews(1)),
                      min((right - left) / src.width, (top - bottom) / src.height))


def _overview_level(header: Header, grid: Grid) -> int | None:
    """The coarsest overview still at least as fine as the output (``gdalwarp -ovr AUTO``), as
    rasterio's ``overview_level`` (0 = first overview), or None for full resolution."""
    if not header.factors:
        return None
    try:
        left, bottom, right, top = transform_bounds(grid.crs, header.crs, *grid.bounds, densify_pts=5)
    except Exception:  # noqa: BLE001 - a grid partly outside the source CRS's domain: read at full
        return None
    wanted = min((right - left) / grid.width, (top - bottom) / grid.height)
    level = None
    for i, factor in enumerate(header.factors):
        if header.res * factor <= wanted * 1.0001:
            level = i
    return level


_WARNED: set[Path] = set()


def _present(root: Path, sheet: Sheet) -> bool:
    """Whether the sheet's COG is in the raster store. A missing one (a store restored without it,
    a raster_path moved) is left out of tiles, coverages and values, with one warning, instead of
    failing every request that touches it."""
    path = root / sheet.path
    if path.is_file():
        return True
    if path not in _WARNED:
        _WARNED.add(path)
        log.warning("raster sheet %s of %s (version %s) is missing: %s", sheet.sheet, sheet.id, sheet.version_id, path)
    return False


def _read_sheet(root: Path, sheet: Sheet, grid: Grid, resampling: Resampling
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The sheet's data bands warped onto ``grid`` and the mask of where it has data (bool)."""
    if not _present(root, sheet):
        return None
    path = root / sheet.path
    level = _overview_level(_header(path), grid)
    opened = rasterio.open(path, overview_level=level) if level is not None else rasterio.open(path)
    with opened as src:
        alpha = _alpha_index(src)
        bands = [i for i in range(1, src.count + 1) if i != alpha]
        # With an alpha band or nodata, GDAL's warper carries it into the added alpha band;
        # the added alpha is also 0 outside the sheet.
        with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                       resampling=resampling, add_alpha=True) as vrt:
            # One read of every band with the alpha: each read() is a pass of the warper.
            everything = vrt.read([*bands, vrt.count])
            data, mask = everything[:-1], everything[-1] > 0
    if not mask.any():
        return None
    return data, mask


def mosaic(root: Path, sheets: Sequence[Sheet], grid: Grid, kind: str
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """The layer's mosaic on ``grid``: (bands, rows, cols) data and a (rows, cols) mask.
    Maps come out as 3 uint8 bands (RGB; a grey sheet is repeated), grids as 1 float32 band."""
    if kind == "map":
        out = np.zeros((3, grid.height, grid.width), dtype=np.uint8)
        resampling = Resampling.bilinear
    else:
        out = np.full((1, grid.height, grid.width), np.nan, dtype=np.float32)
        resampling = Resampling.bilinear
    seen = np.zeros((grid.height, grid.width), dtype=bool)
    for sheet in sheets:   # oldest first: later (newer) sheets overwrite
        part = _read_sheet(root, sheet, grid, resampling)
        if part is None:
            continue
        data, mask = part
        if kind == "map":
            rgb = data[:3] if data.shape[0] >= 3 else np.repeat(data[:1], 3, axis=0)
            out[:, mask] = rgb[:, mask].astype(np.uint8)
        else:
            out[0][mask] = data[0][mask]
        seen |= mask
    if not seen.any():
        return None
    return out, seen


def colourise(values: np.ndarray, mask: np.ndarray, stops: Stops) -> np.ndarray:
    """RGBA (rows, cols, 4) of a grid's values through the ramp ``stops`` (linear between them,
    clamped at the ends); transparent where there is no data."""
    xs = np.array([s[0] for s in stops], dtype=np.float64)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    v = np.where(mask, values, xs[0]).astype(np.float64)   # no NaN through the cast below
    for channel in range(3):
        ys = np.array([s[1][channel] for s in stops], dtype=np.float64)
        rgba[..., channel] = np.round(np.interp(v, xs, ys)).astype(np.uint8)
    rgba[..., 3] = np.where(mask, 255, 0)
    rgba[~mask, :3] = 0
    return rgba


def encode(rgba: np.ndarray, fmt: str) -> bytes:
    image = Image.fromarray(rgba, mode="RGBA")
    buffer = io.BytesIO()
    if fmt == "webp":
        image.save(buffer, format="WEBP", lossless=True, quality=60, method=2)
    else:
        image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def render_tile(root: Path, sheets: Sequence[Sheet], grid: Grid, kind: str, stops: Stops | None,
                fmt: str = "png") -> bytes:
    """A finished tile (PNG or WebP), or b"" when no sheet has data in it."""
    made = mosaic(root, sheets, grid, kind)
    if made is None:
        return b""
    data, mask = made
    if kind == "map":
        rgba = np.dstack([data[0], data[1], data[2], np.where(mask, 255, 0).astype(np.uint8)])
        rgba[~mask, :3] = 0
    else:
        assert stops is not None, "a grid is drawn through a ramp"
        rgba = colourise(data[0], mask, stops)
    return encode(rgba, fmt)


# --- coverages -----------------------------------------------------------------------------------

def native_resolution(root: Path, sheets: Sequence[Sheet]) -> float:
    """The finest pixel size of the sheets, in degrees (at the sheet's centre)."""
    return min((_header(root / sheet.path).degrees for sheet in sheets if _present(root, sheet)), default=math.inf)


def coverage_tiff(root: Path, sheets: Sequence[Sheet], grid: Grid, kind: str) -> bytes | None:
    """The mosaic on ``grid`` as a GeoTIFF: a grid's float32 values (nodata NaN), or a map's RGB
    with an alpha band. None when no sheet has data in the box."""
    made = mosaic(root, sheets, grid, kind)
    if made is None:
        return None
    data, mask = made
    profile: dict[str, Any] = {"driver": "GTiff", "width": grid.width, "height": grid.height,
                               "crs": grid.crs, "transform": grid.transform, "compress": "deflate",
                               "tiled": grid.width >= 256 and grid.height >= 256}
    with MemoryFile() as memory:
        if kind == "map":
            profile.update(count=4, dtype="uint8", photometric="RGB")
            with memory.open(**profile) as dst:
                dst.write(data, [1, 2, 3])
                dst.write(np.where(mask, 255, 0).astype(np.uint8), 4)
                dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
        else:
            profile.update(count=1, dtype="float32", nodata=float("nan"), predictor=3)
            with memory.open(**profile) as dst:
                dst.write(data)
        return bytes(memory.read())


# --- a point -------------------------------------------------------------------------------------

def value_at(root: Path, sheets: Sequence[Sheet], lon: float, lat: float
             ) -> tuple[Sheet, list[float]] | None:
    """The band values at (lon, lat) from the first sheet (newest first) with data there."""
    for sheet in sheets:
        if not _present(root, sheet):
            continue
        with rasterio.open(root / sheet.path) as src:
            xs, ys = transform_points(_CRS[4326], src.crs, [lon], [lat])
            row, col = src.index(xs[0], ys[0])
            if not (0 <= row < src.height and 0 <= col < src.width):
                continue
            window = ((row, row + 1), (col, col + 1))
            mask = src.dataset_mask(window=window)
            if not mask[0, 0]:
                continue
            alpha = _alpha_index(src)
            bands = [i for i in range(1, src.count + 1) if i != alpha]
            values = src.read(bands, window=window)[:, 0, 0]
            floats = [float(v) for v in values]
            if any(math.isnan(v) for v in floats):
                continue
            return sheet, floats
    return None
