"""Raster map tiles: ours (GET /ogc/collections/{id}/map/tiles/WebMercatorQuad/{z}/{y}/{x} from a
uvicorn process, over HTTP) against the system GDAL CLI making the same 256×256 Web Mercator tile
from the same Cloud-Optimized GeoTIFF.

* The COGs are made as the upload side makes them (rasterio, driver COG, overviews): a scanned
  map (RGB, 4096², EPSG:4326) and a magnetic grid (float32, 4096², UTM 43N).
* **ours cold**: the tile cache has no entry for the tile (a new raster version of the layer is
  recorded before each run: new cache keys, same sheets), so each run finds the sheets in
  PostGIS, reads the COG at the right overview, warps, (ramps,) and encodes the PNG.
* **ours warm**: the same tile again, from the cache.
* **GDAL**: ``gdalwarp -t_srs EPSG:3857 -te … -ts 256 256 -r bilinear`` to a GeoTIFF (the warp
  alone, overview chosen by GDAL's -ovr AUTO), and ``gdalwarp -of VRT`` + ``gdal_translate -of PNG``
  (a PNG as we serve it). Each is a process per tile, as a tile server shelling out would run it.

Goal: ours cold ≤ 1.5 × GDAL's time. Medians of ``--runs`` (default 7) runs.

    PYTHONPATH=. python bench/raster_tiles.py [--runs 7]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import psycopg
import rasterio
from rasterio.transform import from_bounds
from rasterio.warp import transform_bounds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import scratch_database  # noqa: E402

SIZE = 4096
CASES = (
    # layer, sheet, crs, bounds, tile zooms (overview level and full resolution)
    ("geological-maps", "M-43-A", "EPSG:4326", (70.0, 45.0, 72.0, 47.0), (8, 11)),
    ("geophysics-magnetic", "M-43-G", "EPSG:32643", (400000.0, 5000000.0, 600000.0, 5200000.0), (8, 11)),
)


def make_cog(path: Path, layer: str, crs: str, bounds: tuple[float, float, float, float]) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    if layer == "geological-maps":
        data = np.stack([(xx / 16) % 256, (yy / 16) % 256, ((xx + yy) / 32) % 256]).astype(np.uint8)
        nodata = None
    else:
        data = (100 * np.sin(xx / 300) * np.cos(yy / 200))[None].astype(np.float32)
        nodata = -9999.0
    with rasterio.open(path, "w", driver="COG", width=SIZE, height=SIZE, count=data.shape[0], dtype=data.dtype,
                       crs=crs, transform=from_bounds(*bounds, SIZE, SIZE), nodata=nodata, compress="deflate",
                       blocksize=512, overview_resampling="average") as dst:
        dst.write(data)
    return data


def insert(conn: psycopg.Connection, layer: str, sheet: str, relative: str, path: Path, crs: str,
           bounds: tuple[float, float, float, float], data: np.ndarray) -> None:
    version = conn.execute("INSERT INTO raster_versions (layer_id, actor, source_file, source_format, checksum, "
                           "sheets) VALUES (%s, 'bench', %s, 'geotiff', %s, 1) RETURNING id",
                           (layer, path.name, "0" * 64)).fetchone()[0]  # type: ignore[index]
    west, south, east, north = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    stats = ",".join(f'{{"min": {float(b.min())}, "max": {float(b.max())}, "mean": {float(b.mean())}}}' for b in data)
    conn.execute("INSERT INTO raster_sheets (layer_id, version_id, sheet, path, checksum, crs, footprint, width, "
                 "height, bands, dtype, nodata, stats) VALUES (%s, %s, %s, %s, %s, %s, "
                 "ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)), %s, %s, %s, %s, %s, %s)",
                 (layer, version, sheet, relative, hashlib.sha256(path.read_bytes()).hexdigest(), crs, west, south,
                  east, north, SIZE, SIZE, data.shape[0], str(data.dtype), -9999.0 if data.dtype != np.uint8 else None,
                  f"[{stats}]"))


def new_version(conn: psycopg.Connection, layer: str) -> None:
    """A version with no sheets of its own: the mosaic is the same, the cache keys are new."""
    conn.execute("INSERT INTO raster_versions (layer_id, actor, source_file, source_format, checksum, sheets) "
                 "VALUES (%s, 'bench', 'cold.tif', 'geotiff', %s, 1)", (layer, "0" * 64))


# GDAL's floor without a process start: the system GDAL's Python bindings (python3-gdal) in one
# process, each run opening the COG afresh (its blocks are cached per open dataset) and warping.
GDAL_IN_PROCESS = """
import statistics, sys, time
from osgeo import gdal
gdal.UseExceptions()
src, runs, te, to_png = sys.argv[1], int(sys.argv[2]), [float(v) for v in sys.argv[3:7]], sys.argv[7] == "1"
times = []
for _ in range(runs):
    t = time.perf_counter()
    ds = gdal.Open(src)
    out = gdal.Warp("", ds, format="MEM", dstSRS="EPSG:3857", outputBounds=te, width=256, height=256,
                    resampleAlg="bilinear")
    if to_png:
        gdal.Translate("/vsimem/t.png", out, format="PNG", outputType=gdal.GDT_Byte)
    out = ds = None
    times.append(time.perf_counter() - t)
print(statistics.median(times))
"""


def gdal_in_process(src: str, runs: int, te: list[str], to_png: bool) -> float | None:
    try:
        out = subprocess.run(["/usr/bin/python3", "-c", GDAL_IN_PROCESS, src, str(runs), *te, "1" if to_png else "0"],
                             check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None   # no python3-gdal on this machine
    return float(out.stdout.strip())


def timed(fn: object, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.status == 200, r.status
        return bytes(r.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from tests.live import server_process
    from tiles.tms import WEB_MERCATOR_QUAD as TMS

    with tempfile.TemporaryDirectory() as tmp, scratch_database("geoservice_bench_rasters") as url:
        store = Path(tmp)
        with psycopg.connect(url, autocommit=True) as conn:
            for layer, sheet, crs, bounds, _ in CASES:
                relative = f"{layer}/{sheet}.tif"
                (store / layer).mkdir()
                data = make_cog(store / relative, layer, crs, bounds)
                insert(conn, layer, sheet, relative, store / relative, crs, bounds, data)
        rows = []
        # What a GDAL process costs before any work: taken off GDAL's times in the "work" columns.
        start_cost, _ = timed(lambda: subprocess.run(["gdalwarp", "--version"], check=True, capture_output=True),
                              args.runs)
        with server_process(url, GEOSERVICE_RASTER_DIR=str(store), GEOSERVICE_RATE_LIMIT="0") as base, \
                psycopg.connect(url, autocommit=True) as conn:
            for layer, sheet, crs, bounds, zooms in CASES:
                lon, lat = transform_bounds(crs, "EPSG:4326", *bounds)[0:2]
                lon, lat = lon + 0.37, lat + 0.41     # inside the sheet, away from its edges
                src = str(store / f"{layer}/{sheet}.tif")
                for z in zooms:
                    x, y = TMS.tile_at(z, lon, lat)
                    left, top = TMS.origin[0] + x * TMS.spans[z][0], TMS.origin[1] - y * TMS.spans[z][1]
                    te = [str(v) for v in (left, top - TMS.spans[z][1], left + TMS.spans[z][0], top)]
                    tile_url = f"{base}/ogc/collections/{layer}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"
                    assert fetch(tile_url)[:8] == b"\x89PNG\r\n\x1a\n"

                    def cold(layer: str = layer, tile_url: str = tile_url) -> None:
                        new_version(conn, layer)
                        fetch(tile_url)

                    # new_version's INSERT is timed with the cold tile: measure it alone and take it off.
                    insert_time, _ = timed(lambda layer=layer: new_version(conn, layer), args.runs)  # type: ignore[misc]
                    cold_time, _ = timed(cold, args.runs)
                    cold_time -= insert_time
                    warm_time, _ = timed(lambda tile_url=tile_url: fetch(tile_url), args.runs)  # type: ignore[misc]
                    warp = ["gdalwarp", "-q", "-overwrite", "-t_srs", "EPSG:3857", "-te", *te, "-ts", "256", "256",
                            "-r", "bilinear"]
                    out_tif, out_vrt, out_png = (f"{tmp}/gdal.tif", f"{tmp}/gdal.vrt", f"{tmp}/gdal.png")
                    gdal_tif, _ = timed(lambda warp=warp, src=src, out=out_tif: subprocess.run(  # type: ignore[misc]
                        [*warp, "-of", "GTiff", src, out], check=True), args.runs)
                    # A grid's floats go to 8 bits (GDAL has no ramp here): the PNG encoding is comparable.
                    to_byte = ["-ot", "Byte", "-scale"] if layer != "geological-maps" else []

                    def gdal_png(warp: list[str] = warp, src: str = src, vrt: str = out_vrt, png: str = out_png,
                                 to_byte: list[str] = to_byte) -> None:
                        subprocess.run([*warp, "-of", "VRT", src, vrt], check=True)
                        subprocess.run(["gdal_translate", "-q", *to_byte, "-of", "PNG", vrt, png], check=True)

                    gdal_png_time, _ = timed(gdal_png, args.runs)
                    floor = gdal_in_process(src, args.runs, te, to_png=True)
                    rows.append((layer, z, cold_time, warm_time, gdal_tif, gdal_png_time, floor))
        print(f"raster map tiles, 256×256 WebMercatorQuad PNG from a {SIZE}² COG; medians of {args.runs} runs (ms)")
        print(f"a GDAL process's start (gdalwarp --version): {start_cost * 1000:.1f} ms; 'work' = time minus it")
        print(f"{'layer':20} {'z':>2} {'ours cold':>9} {'warm':>6} {'gdalwarp':>8} {'work':>6} {'warp+png':>8} "
              f"{'work':>6} {'cold/warp':>9} {'cold/work':>9} {'cold/png work':>13} {'warm/work':>9} "
              f"{'GDAL lib':>8} {'cold/lib':>8}")
        for layer, z, cold_t, warm_t, tif_t, png_t, floor in rows:
            tif_work, png_work = max(tif_t - start_cost, 1e-4), max(png_t - 2 * start_cost, 1e-4)
            print(f"{layer:20} {z:>2} {cold_t * 1000:9.1f} {warm_t * 1000:6.2f} {tif_t * 1000:8.1f} "
                  f"{tif_work * 1000:6.1f} {png_t * 1000:8.1f} {png_work * 1000:6.1f} {cold_t / tif_t:8.2f}× "
                  f"{cold_t / tif_work:8.2f}× {cold_t / png_work:12.2f}× {warm_t / tif_work:8.3f}× "
                  + (f"{floor * 1000:8.1f} {cold_t / floor:7.2f}×" if floor else "       -        -"))
        print("GDAL lib: the system GDAL's Python bindings warping the tile to PNG in one process (no start, no "
              "HTTP): the strictest floor")
        print("goal: ours cold ≤ 1.5 × GDAL (gdalwarp making the tile); warm from the cache")


if __name__ == "__main__":
    main()
