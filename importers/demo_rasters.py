"""The demo rasters (issue 12), generated at demo load (nothing is downloaded) and loaded through
the raster upload pipeline like an authority's upload:

* a geological map sheet over the demo geological survey GS-1968-014 (70–72° E, 45.5–47° N):
  RGB, folded strata as coloured bands, two intrusions and a fault, in SK-42 / Gauss-Krüger
  zone 12 (EPSG:28412), so the demo also goes through the datum policy;
* a magnetic grid (ΔT, nT, float32) over the survey and the Shu-Sarysu gravity survey
  GP-1985-201 (68–72° E, 44–47° N) in WGS 84: a smooth regional field with a few anomalies.

Schematic pictures at real places, not geology."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import psycopg
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from geoservice.kernel.db import connect
from geoservice.kernel.settings import Settings
from importers.rasters import RasterRequest, run_raster_upload

DEMO_ACTOR = "demo"
MAP_SHEET = "L-42-GS-1968-014"
GRID_SHEET = "demo-dT-shu-sarysu"
MAP_BOX = (70.0, 45.5, 72.0, 47.0)     # west, south, east, north (degrees)
GRID_BOX = (68.0, 44.0, 72.0, 47.0)
NODATA = -99999.0

# Strata from old to young, then the intrusions' and the fault's colours (RGB).
STRATA = [(205, 170, 125), (150, 190, 120), (110, 160, 200), (225, 215, 140), (190, 140, 180), (240, 200, 160)]
GRANITE = (230, 90, 80)
GABBRO = (60, 120, 60)
FAULT = (30, 30, 30)


def geological_map(path: Path, width: int = 640, height: int = 480) -> Path:
    """An RGB sheet in EPSG:28412 covering MAP_BOX."""
    to_gk = Transformer.from_crs(4284, 28412, always_xy=True)
    xs, ys = to_gk.transform([MAP_BOX[0], MAP_BOX[2], MAP_BOX[0], MAP_BOX[2]],
                             [MAP_BOX[1], MAP_BOX[1], MAP_BOX[3], MAP_BOX[3]])
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    y, x = np.mgrid[0:height, 0:width].astype("float64")
    u, v = x / width, y / height
    # Folded strata: bands along a wavy surface.
    level = v * 5.5 + 0.35 * np.sin(u * 9.0) + 0.15 * np.sin(u * 23.0 + v * 4.0)
    unit = np.clip(level.astype(int), 0, len(STRATA) - 1)
    rgb = np.array(STRATA, dtype=np.uint8)[unit]
    for (cx, cy, r), colour in (((0.3, 0.4, 0.09), GRANITE), ((0.72, 0.65, 0.06), GABBRO)):
        rgb[(u - cx) ** 2 + ((v - cy) * height / width) ** 2 < r * r] = colour
    rgb[np.abs(v - (0.15 + 0.8 * u)) < 0.004] = FAULT
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=3, dtype="uint8",
                       crs="EPSG:28412", transform=from_origin(west, north, (east - west) / width,
                                                               (north - south) / height),
                       photometric="RGB") as ds:
        for band in range(3):
            ds.write(rgb[:, :, band], band + 1)
    return path


def magnetic_grid(path: Path, width: int = 480, height: int = 360) -> Path:
    """ΔT (nT) over GRID_BOX in WGS 84: a regional gradient and Gaussian anomalies (a dipole pair
    under the intrusions), a corner left without survey (nodata)."""
    lon = GRID_BOX[0] + (np.arange(width) + 0.5) * (GRID_BOX[2] - GRID_BOX[0]) / width
    lat = GRID_BOX[3] - (np.arange(height) + 0.5) * (GRID_BOX[3] - GRID_BOX[1]) / height
    glon, glat = np.meshgrid(lon, lat)
    field = 20.0 * (glat - 45.5) - 8.0 * (glon - 70.0)
    for lo, la, amp, size in ((70.6, 46.6, 450.0, 0.18), (70.6, 46.45, -220.0, 0.15), (71.45, 46.1, 300.0, 0.12),
                              (69.2, 44.8, -350.0, 0.35), (68.7, 45.2, 180.0, 0.25)):
        field += amp * np.exp(-((glon - lo) ** 2 + (glat - la) ** 2) / (2 * size * size))
    field[(glon < 68.6) & (glat > 46.4)] = NODATA
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", nodata=NODATA,
                       transform=from_origin(GRID_BOX[0], GRID_BOX[3], (GRID_BOX[2] - GRID_BOX[0]) / width,
                                             (GRID_BOX[3] - GRID_BOX[1]) / height)) as ds:
        ds.write(field.astype("float32"), 1)
    return path


def _present(conn: psycopg.Connection, layer: str, sheet: str) -> bool:
    row = conn.execute("SELECT 1 FROM current_raster_sheets WHERE layer_id = %s AND sheet = %s",
                       (layer, sheet)).fetchone()
    return row is not None


def load_demo_rasters(url: str, settings: Settings) -> str:
    """Generate and load the two demo sheets (each only if its layer does not show it yet)."""
    lines = []
    with tempfile.TemporaryDirectory(prefix="gs-demo-rasters-") as tmp:
        for layer, sheet, make in (("geological-maps", MAP_SHEET, geological_map),
                                   ("geophysics-magnetic", GRID_SHEET, magnetic_grid)):
            with connect(url) as conn:
                if _present(conn, layer, sheet):
                    lines.append(f"{layer}: {sheet} already loaded")
                    continue
            path = make(Path(tmp) / f"{sheet}.tif")
            result = run_raster_upload(RasterRequest(layer_id=layer, path=path, file_name=path.name, sheet=sheet,
                                                     actor=DEMO_ACTOR, authority="operator"), url, settings)
            lines.append(f"{layer}: version {result['version']}, sheet {sheet}")
    return "\n".join(lines)
