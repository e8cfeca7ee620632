"""Import of a 100,000-polygon GeoPackage: `geoservice import` versus GDAL's own loader
`ogr2ogr -f PostgreSQL` into the same database, side by side in one run.

    .venv/bin/python bench/import_vs_ogr2ogr.py [--features 100000] [--runs 3]

Prints the median of several runs for each and the ratio (goal: geoservice ≤ 1.5 × ogr2ogr,
validation included). Both load into one scratch database (on the server of DATABASE_URL or the
local cluster) that is dropped at the end; ogr2ogr builds its spatial index too."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import scratch_database  # noqa: E402


def make_gpkg(path: Path, n: int, variant: int = 0) -> None:
    """n octagons on a lattice over central Kazakhstan (all inside the boundary), with
    Cyrillic attributes like a real restriction-zone layer; ``variant`` changes one attribute, so
    that files of two variants differ (the file already current is not imported again)."""
    cols = int(np.ceil(np.sqrt(n * 2)))
    rows = int(np.ceil(n / cols))
    lon0, lat0, width, height = 64.0, 46.0, 12.0, 5.0
    dx, dy = width / cols, height / rows
    i = np.arange(n)
    cx = lon0 + (i % cols + 0.5) * dx
    cy = lat0 + (i // cols + 0.5) * dy
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    r = min(dx, dy) * 0.4
    ring = np.column_stack([np.cos(angles) * r, np.sin(angles) * r])
    coords = np.concatenate([ring, ring[:1]])
    polys = shapely.polygons(coords[None, :, :] + np.column_stack([cx, cy])[:, None, :])
    kinds = np.array(["protected-area", "settlement", "water-protection", "military-range", "other"], dtype=object)
    fields = {
        "zone_id": np.array([f"Z{k:06d}" for k in i], dtype=object),
        "name": np.array([f"Зона ограничения № {k} (Қорық)" for k in i], dtype=object),
        "kind": kinds[i % 5],
        "regime": np.where(i % 2 == 0, "prohibited", "conditional").astype(object),
        "basis": np.array([f"Постановление Правительства РК № {variant + 1}"] * n, dtype=object),
    }
    write(str(path), shapely.to_wkb(polys), list(fields.values()), list(fields), driver="GPKG",
          crs="EPSG:4326", geometry_type="Polygon", layer="zones")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    geoservice = str(Path(sys.executable).with_name("geoservice"))
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": url}
        # Two files taken in turn: sending the current file again is answered without an import.
        files = [Path(tmp) / f"zones_{k}.gpkg" for k in range(2)]
        for k, path in enumerate(files):
            make_gpkg(path, args.features, k)
        ours, theirs = [], []
        for run in range(args.runs):
            gpkg = files[run % 2]
            # Alternate the order so neither always meets a warm cache first.
            pair = [("ogr2ogr", ["ogr2ogr", "-f", "PostgreSQL", f"PG:{url}", str(gpkg), "-nln",
                                 "bench_ogr2ogr_zones", "-overwrite", "-lco", "GEOMETRY_NAME=geom",
                                 "-nlt", "PROMOTE_TO_MULTI"]),
                    ("geoservice", [geoservice, "import", "restriction-zones", str(gpkg)])]
            for name, cmd in (pair if run % 2 == 0 else pair[::-1]):
                (theirs if name == "ogr2ogr" else ours).append(timed(cmd, env))
    ogr, gs = statistics.median(theirs), statistics.median(ours)
    print(f"features: {args.features}, runs: {args.runs}")
    print(f"ogr2ogr -f PostgreSQL : median {ogr:6.2f} s  runs {', '.join(f'{t:.2f}' for t in theirs)}")
    print(f"geoservice import     : median {gs:6.2f} s  runs {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"ratio geoservice/ogr2ogr: {gs / ogr:.2f}  (goal <= 1.5)")


if __name__ == "__main__":
    main()
