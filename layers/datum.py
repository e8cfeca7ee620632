"""Kazakhstan's datum policy: how Pulkovo 1942 (EPSG:4284) and the CRSs built on it (the
Gauss-Krüger zones EPSG:28408–28415) are brought to WGS 84, in one place for the import, the OGC
API's CRSs, the block grid and the viewer's read-out.

PROJ would pick a continent-wide default; the acts for Kazakhstan use EPSG:1291 ("Pulkovo 1942
to WGS 84 (7)", ±44 m, a geocentric translation) on land and EPSG:1303 (±2 m) when all the data
lie in the Kazakh Caspian sector, whose area of use is ``CASPIAN_AREA``. The SQL side is the
spatial_ref_sys row ``PULKOVO_1291_SRID`` that migration 0002 adds with the same parameters
(a test keeps the two equal)."""

from __future__ import annotations

import warnings
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.crs import CoordinateOperation
from pyproj.transformer import TransformerGroup

PULKOVO_1942 = 4284
GAUSS_KRUGER_ZONES = tuple(range(28408, 28416))
ONSHORE_OPERATION = 1291
CASPIAN_OPERATION = 1303
CASPIAN_AREA = (48.9, 41.15, 53.15, 46.97)   # west, south, east, north (Pulkovo degrees)
PULKOVO_1291_SRID = 904284                   # custom spatial_ref_sys row, migration 0002
# The Gauss–Krüger zones with the same shift: spatial_ref_sys rows 900000 + EPSG (migration 0011).
GK_SRID_OFFSET = 900000
WGS84 = CRS.from_epsg(4326)


def operation_urn(code: int) -> str:
    return f"urn:ogc:def:coordinateOperation:EPSG::{code}"


def is_pulkovo(crs: CRS) -> bool:
    """True for Pulkovo 1942 and every CRS whose datum it is."""
    return crs.geodetic_crs is not None and crs.geodetic_crs.to_epsg() == PULKOVO_1942


def operation_for(bounds: tuple[float, float, float, float] | None) -> int:
    """The EPSG operation for data within ``bounds`` (Pulkovo 1942 degrees; None: unknown)."""
    if bounds is not None:
        w, s, e, n = CASPIAN_AREA
        if bounds[0] >= w and bounds[1] >= s and bounds[2] <= e and bounds[3] <= n:
            return CASPIAN_OPERATION
    return ONSHORE_OPERATION


@lru_cache
def towgs84(operation: int = ONSHORE_OPERATION) -> tuple[float, float, float]:
    """(dx, dy, dz) metres of a geocentric-translation operation, from PROJ's EPSG database."""
    op = CoordinateOperation.from_string(operation_urn(operation))
    values = {p.name: p.value for p in op.params}
    return (values["X-axis translation"], values["Y-axis translation"], values["Z-axis translation"])


@lru_cache
def proj_string(epsg: int) -> str:
    """A PROJ string for Pulkovo-based ``epsg`` carrying EPSG:1291's shift, for PostGIS's
    ST_Transform(geom, from_proj, to_proj) (which would otherwise use PROJ's default)."""
    with warnings.catch_warnings():  # a PROJ string is exactly what is wanted here
        warnings.simplefilter("ignore", UserWarning)
        base = CRS.from_epsg(epsg).to_proj4()
    parts = [p for p in base.split() if p not in ("+no_defs", "+type=crs") and not p.startswith("+towgs84")]
    shift = ",".join(f"{v:g}" for v in towgs84(ONSHORE_OPERATION))
    return " ".join([*parts, f"+towgs84={shift},0,0,0,0", "+no_defs"])


def pinned_srid(epsg: int) -> int | None:
    """The spatial_ref_sys row of a Pulkovo CRS pinned to EPSG:1291 (PostGIS caches transforms
    between SRIDs; from PROJ strings it builds one per row); None when there is none."""
    if epsg == PULKOVO_1942:
        return PULKOVO_1291_SRID
    if epsg in GAUSS_KRUGER_ZONES:
        return GK_SRID_OFFSET + epsg
    return None


@lru_cache
def onshore_transformer() -> Transformer:
    """Pulkovo 1942 (lat, lon) degrees → WGS 84 (lat, lon) by EPSG:1291: exactly what PostGIS
    runs for SRID ``PULKOVO_1291_SRID``."""
    return Transformer.from_pipeline(operation_urn(ONSHORE_OPERATION))


def choose_transformer(crs: CRS, bounds: tuple[float, float, float, float] | None) -> tuple[Transformer, str]:
    """Transformer from ``crs`` to WGS 84 (x/y order) and a description of the operation applied.
    ``bounds`` are the data's bounds in ``crs``. For Pulkovo-based CRSs the operation is the
    policy's, so the version records exactly which was used."""
    if is_pulkovo(crs):
        assert crs.geodetic_crs is not None
        geo = None
        if bounds is not None:
            geo = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform_bounds(*bounds)
        wanted = operation_for(geo)
        for candidate in TransformerGroup(crs, WGS84, always_xy=True).transformers:
            steps = candidate.to_json_dict().get("steps", [candidate.to_json_dict()])
            codes = {(s.get("id") or {}).get("code") for s in steps}
            if wanted in codes:
                return candidate, f"EPSG:{wanted} ({candidate.description})"
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    return transformer, transformer.description
