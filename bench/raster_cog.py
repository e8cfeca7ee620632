"""COG conversion of a 10,000 x 10,000 float32 grid: our raster upload vs `gdal_translate -of COG`.

    .venv/bin/python bench/raster_cog.py [--size 10000] [--runs 3]

Writes a GeoTIFF grid (float32, DEFLATE, stripped, as survey software exports it; a smooth field
with noise, so it does not compress to nothing) over central Kazakhstan, then converts it with
the same creation options (importers.rasters.COG_OPTIONS: DEFLATE, predictor, 512 tiles,
overviews, AVERAGE, all CPUs) by

* the system `gdal_translate -of COG` (the peer: one process, the floor),
* ``importers.rasters.to_cog`` (our conversion alone, rasterio's GDAL),
* ``importers.rasters.run_raster_upload`` (the whole upload: header checks, footprint inside
  Kazakhstan, conversion, SHA-256 of the upload and of the COG, band statistics, the rows in a
  scratch database, the COG moved into place),

alternating the order, and prints the median wall time of each and the ratios to the peer.
Goal: the whole upload <= 1.3 x gdal_translate."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

from bench.common import scratch_database  # noqa: E402
from geoservice.kernel.settings import Settings  # noqa: E402
from importers.rasters import COG_OPTIONS, RasterRequest, run_raster_upload, to_cog  # noqa: E402

GOAL = 1.3


def make_grid(path: Path, size: int) -> None:
    rng = np.random.default_rng(12)
    rows = 500
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(66.0, 50.0, 6.0 / size, 4.0 / size),
                       nodata=-99999.0, compress="deflate", predictor=3, blockysize=16) as ds:
        x = np.arange(size, dtype="float32")
        for top in range(0, size, rows):
            y = np.arange(top, min(top + rows, size), dtype="float32")[:, None]
            field = 300 * np.sin(x / 700.0) * np.cos(y / 900.0) + 0.002 * (x + y)
            field += rng.normal(0, 2.0, field.shape).astype("float32")
            ds.write(field.astype("float32"), 1, window=((top, top + len(y)), (0, size)))


def peer(source: Path, target: Path) -> float:
    args = ["gdal_translate", "-q", "-of", "COG", "--config", "GDAL_NUM_THREADS", "ALL_CPUS"]
    for key, value in COG_OPTIONS.items():
        args += ["-co", f"{key}={value}"]
    start = time.perf_counter()
    subprocess.run([*args, str(source), str(target)], check=True)
    return time.perf_counter() - start


def conversion(source: Path, target: Path) -> float:
    start = time.perf_counter()
    to_cog(source, target)
    return time.perf_counter() - start


def upload(source: Path, url: str, settings: Settings, n: int) -> float:
    start = time.perf_counter()
    run_raster_upload(RasterRequest(layer_id="geophysics-magnetic", path=source, file_name="bench.tif",
                                    sheet=f"bench-{n}", actor="bench"), url, settings)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    gdal = subprocess.run(["gdal_translate", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="gs-bench-cog-") as tmp, scratch_database() as url:
        work = Path(tmp)
        source = work / "grid.tif"
        t = time.perf_counter()
        make_grid(source, args.size)
        print(f"grid {args.size} x {args.size} float32: {source.stat().st_size / 2**20:.0f} MiB "
              f"(made in {time.perf_counter() - t:.1f} s)")
        settings = Settings(raster_dir=str(work / "store"), raster_max_bytes=4 * 2**30,
                            raster_max_pixels=max(Settings.raster_max_pixels, args.size * args.size))
        times: dict[str, list[float]] = {"gdal_translate": [], "to_cog": [], "upload": []}
        for run in range(args.runs):
            order = ["gdal_translate", "to_cog", "upload"]
            if run % 2:
                order.reverse()
            for name in order:
                out = work / f"{name}-{run}.tif"
                if name == "gdal_translate":
                    times[name].append(peer(source, out))
                elif name == "to_cog":
                    times[name].append(conversion(source, out))
                else:
                    times[name].append(upload(source, url, settings, run))
                out.unlink(missing_ok=True)
            shutil.rmtree(work / "store", ignore_errors=True)
        floor = statistics.median(times["gdal_translate"])
        print(f"peer: {gdal}; ours: rasterio {rasterio.__version__}, GDAL {rasterio.__gdal_version__}")
        print(f"options: {' '.join(f'{k}={v}' for k, v in COG_OPTIONS.items())}")
        for name, values in times.items():
            median = statistics.median(values)
            runs = ", ".join(f"{v:.2f}" for v in values)
            print(f"{name:15s} median {median:6.2f} s  ({runs})  ratio {median / floor:.2f} x")
        ratio = statistics.median(times["upload"]) / floor
        verdict = "met" if ratio <= GOAL else "NOT met"
        print(f"whole upload / gdal_translate = {ratio:.2f} x (goal <= {GOAL} x): {verdict}")


if __name__ == "__main__":
    main()
