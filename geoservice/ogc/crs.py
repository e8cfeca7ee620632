"""CRSs offered by OGC API – Features Part 2, and the SQL that moves geometries between them
and the stored EPSG:4326 (lon/lat in PostGIS's order).

Pulkovo 1942 based CRSs go through explicit PROJ strings carrying EPSG:1291's parameters
(layers/datum.py), so output agrees with how uploads were brought in; PostGIS would otherwise
pick PROJ's default, a different transformation, metres away."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS, Transformer

from geoservice.kernel.errors import Problem
from layers import datum

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
OFFERED_EPSG = (4326, 3857, datum.PULKOVO_1942, *datum.GAUSS_KRUGER_ZONES, *range(32638, 32646))


@dataclass(frozen=True)
class OutputCrs:
    uri: str
    epsg: int | None       # None for CRS84
    flip: bool             # the CRS's first axis is latitude/northing: swap from PostGIS's x/y
    proj: str | None       # explicit PROJ string (Pulkovo family), else use the EPSG SRID
    geographic: bool

    @property
    def precision(self) -> int:
        # ~1 cm either way: 7 decimals of a degree, 2 of a metre.
        return 7 if self.geographic else 2


WGS84_LONLAT = "+proj=longlat +datum=WGS84 +no_defs"


@lru_cache
def _define(epsg: int | None) -> OutputCrs:
    if epsg is None:
        return OutputCrs(CRS84, None, False, None, True)
    crs = CRS.from_epsg(epsg)
    first_axis = crs.axis_info[0].direction if crs.axis_info else "east"
    flip = first_axis in ("north", "south")
    proj = datum.proj_string(epsg) if datum.is_pulkovo(crs) else None
    return OutputCrs(EPSG_URI.format(epsg), epsg, flip, proj, crs.is_geographic)


# Where a projected CRS is taken to be defined: its EPSG area of use, widened to Kazakhstan and
# around it (lon/lat), so that a box over the whole country works in any of the zone CRSs.
SERVICE_REGION = (44.0, 38.0, 90.0, 58.0)


@lru_cache
def valid_bounds(crs: OutputCrs) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of where ``crs`` is defined, x/y as PostGIS orders them (east,
    north): the whole globe for geographic CRSs; for projected ones the area of use (widened
    to SERVICE_REGION) in the CRS's units. A bbox beyond it would be projected back to
    longitudes past 180° (wrapped) or to no number at all."""
    if crs.geographic:
        return (-180.0, -90.0, 180.0, 90.0)
    assert crs.epsg is not None
    area = CRS.from_epsg(crs.epsg).area_of_use
    if area is None or area.west > area.east:  # none, or across the antimeridian: the region alone
        west, south, east, north = SERVICE_REGION
    else:
        west, south = min(area.west, SERVICE_REGION[0]), min(area.south, SERVICE_REGION[1])
        east, north = max(area.east, SERVICE_REGION[2]), max(area.north, SERVICE_REGION[3])
    source = CRS.from_proj4(WGS84_LONLAT)
    target = CRS.from_proj4(crs.proj) if crs.proj else CRS.from_epsg(crs.epsg)
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return transformer.transform_bounds(west, south, east, north, densify_pts=64)


def lonlat_bounds(bounds: tuple[float, float, float, float], crs: OutputCrs) -> tuple[float, float, float, float]:
    """A box given in ``crs`` (its axis order: lower corner, upper corner) as lon/lat bounds."""
    a0, a1, b0, b1 = bounds
    west, south, east, north = (a1, a0, b1, b0) if crs.flip else (a0, a1, b0, b1)
    if crs.geographic and not crs.proj or crs.epsg in (None, 4326):
        return west, south, east, north
    return _to_lonlat(crs).transform_bounds(west, south, east, north, densify_pts=8)


@lru_cache
def _to_lonlat(crs: OutputCrs) -> Transformer:
    assert crs.epsg is not None
    source = CRS.from_proj4(crs.proj) if crs.proj else CRS.from_epsg(crs.epsg)
    return Transformer.from_crs(source, CRS.from_proj4(WGS84_LONLAT), always_xy=True)


def offered() -> list[OutputCrs]:
    return [_define(None)] + [_define(e) for e in OFFERED_EPSG]


def offered_uris() -> list[str]:
    return [c.uri for c in offered()]


def parse(uri: str | None, *, parameter: str = "crs") -> OutputCrs:
    """A CRS URI (or CURIE / EPSG:n shorthand) the service offers; a 400 problem otherwise."""
    if uri is None or uri.strip() == "":
        return _define(None)
    text = uri.strip().strip("[]")
    if text in (CRS84, "CRS84", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "[OGC:CRS84]"):
        return _define(None)
    code: int | None = None
    for prefix in ("http://www.opengis.net/def/crs/EPSG/0/", "https://www.opengis.net/def/crs/EPSG/0/",
                   "urn:ogc:def:crs:EPSG::", "EPSG:", "epsg:"):
        if text.startswith(prefix) and text[len(prefix):].isdigit():
            code = int(text[len(prefix):])
    if code is None or code not in OFFERED_EPSG:
        raise Problem("ogc.crs_not_offered", 400, parameter=parameter, crs=uri, offered=", ".join(
            ["CRS84"] + [f"EPSG:{e}" for e in OFFERED_EPSG]))
    return _define(code)


def to_output_sql(expr: str, crs: OutputCrs) -> str:
    """SQL turning stored EPSG:4326 geometry ``expr`` into ``crs`` (axis order included)."""
    if crs.epsg is None or crs.epsg == 4326:
        out = expr
    elif crs.proj and (srid := datum.pinned_srid(crs.epsg)) is not None:
        # A cached transform (from PROJ text it is built per row); SRID 0 as before, so that
        # ST_AsGeoJSON adds no "crs" member (it would look the row's authority name up).
        out = f"ST_SetSRID(ST_Transform({expr}, {srid}), 0)"
    elif crs.proj:
        out = f"ST_Transform({expr}, '{WGS84_LONLAT}', '{crs.proj}')"
    else:
        out = f"ST_Transform({expr}, {crs.epsg})"
    return f"ST_FlipCoordinates({out})" if crs.flip else out


def from_input_sql(expr: str, crs: OutputCrs) -> str:
    """SQL turning geometry ``expr`` given in ``crs`` (axis order as the CRS says) into stored
    EPSG:4326 lon/lat with SRID 4326."""
    inner = f"ST_FlipCoordinates({expr})" if crs.flip else expr
    if crs.epsg is None or crs.epsg == 4326:
        return f"ST_SetSRID({inner}, 4326)"
    if crs.proj and (srid := datum.pinned_srid(crs.epsg)) is not None:
        return f"ST_Transform(ST_SetSRID({inner}, {srid}), 4326)"
    if crs.proj:
        return f"ST_SetSRID(ST_Transform(ST_SetSRID({inner}, 0), '{crs.proj}', '{WGS84_LONLAT}'), 4326)"
    return f"ST_Transform(ST_SetSRID({inner}, {crs.epsg}), 4326)"
