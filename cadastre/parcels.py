"""Parcels: what an application is for, a set of blocks or a polygon, and what it overlaps.

A parcel arrives in every request as ``{"blocks": "L-43-63-(10а-5б-14,15)"}`` (a list text, or an
array of block codes and list texts), ``{"geometry": GeoJSON}`` (Polygon/MultiPolygon, CRS84) or
``{"corners": ...}`` (a corner-point table as in uploads, with an optional CRS: cadastre/corners.py).
``parse_parcel`` reads it (a 400 problem naming the field and, for block lists, the bad token);
``check_parcel`` answers its area, blocks, contiguity and overlaps, all computed in PostGIS.

Blocks come from the grid's arithmetic (``gs_block_geom``, ``gs_block_envelope_at``), never from
scanning table ``blocks``: a parcel's blocks are known by code, and the blocks a polygon touches
are the minute cells over its extent.

**Overlap sources.** What a parcel overlaps is asked of a registry of functions
``(conn, ParcelSQL) -> list[Overlap]`` (``OVERLAP_SOURCES``); restriction zones and the
programme's open areas are the first two. Applications, licences and auctions add theirs with
``@overlap_source`` (registered when their module is imported), and ``check_parcel`` runs them all
without knowing them. **Claims** (blocks pending or granted) are subtracted from the programme's
free blocks through ``CLAIM_SOURCES``: SQL selects of one text column ``code``
(``register_claims``)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import psycopg
import shapely
from psycopg import sql

from cadastre.corners import parse_corners
from geoservice.kernel.errors import Issue, Location, Problem
from geoservice.kernel.i18n import translate
from geoservice.kernel.settings import Settings
from layers import store
from layers.boundary import faithful_repair, outside_country, polygonal_part, tolerant_boundary
from layers.catalog import RESTRICTION_ZONES, SUBSOIL_PLOTS, Layer
from layers.grid import BlockListError, block_minutes, grid_srid, parse_block_list, resolve_datum

Severity = Literal["refusal", "warning"]

MAX_BLOCKS = 10_000          # blocks of one parcel: 50 maximal exploration licences, ~20,000 km²
MAX_CELLS = 200_000          # minute cells over a polygon's extent (about a 7° x 7° box)
CODES_SHOWN = 1000           # block codes listed in an answer (the count is always whole)
OVERLAP_BLOCKS_SHOWN = 200   # parcel blocks named per overlap
SLIVER_KM2 = 1e-4            # 100 m²: less lying outside the open areas is rounding, not a conflict
GEOJSON_DIGITS = 7           # ~1 cm
CRS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84", "CRS84",
               "EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}


# --- the parcel -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parcel:
    """A set of blocks (``codes``, canonical, in the order written, no duplicates) or a polygon
    (``geometry``: a valid MultiPolygon in EPSG:4326, inside Kazakhstan)."""

    codes: tuple[str, ...] = ()
    geometry: shapely.MultiPolygon | None = None

    @property
    def kind(self) -> Literal["blocks", "polygon"]:
        return "polygon" if self.geometry is not None else "blocks"


def _bad(key: str, where: str, **params: Any) -> Problem:
    return Problem(key, 400, location=Location(field=where), field=where, **params)


def parse_parcel(form: Any, *, where: str = "parcel",
                 boundary_tolerance_deg: float = Settings.boundary_tolerance_deg) -> Parcel:
    """The parcel of a request. Malformed input is a 400 problem whose ``field`` names the place
    (``parcel.blocks[2]``, ``parcel.geometry``); a bad block list also names the token, its
    position and the reason (``token``, ``position``, ``reason``, as layers.grid says)."""
    if not isinstance(form, dict) or len({"blocks", "geometry", "corners"} & form.keys()) != 1 or len(form) != 1:
        raise _bad("parcel.one_of", where)
    if "blocks" in form:
        return Parcel(codes=_parse_blocks(form["blocks"], f"{where}.blocks", boundary_tolerance_deg))
    if "corners" in form:
        # A corner-point table (cadastre/corners.py), then checked as a GeoJSON polygon is.
        place = f"{where}.corners"
        return Parcel(geometry=_polygons(parse_corners(form["corners"], place), place, boundary_tolerance_deg))
    return Parcel(geometry=_parse_geometry(form["geometry"], f"{where}.geometry", boundary_tolerance_deg))


def _parse_blocks(value: Any, where: str, tolerance: float) -> tuple[str, ...]:
    texts = [(where, value)] if isinstance(value, str) else (
        [(f"{where}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else None)
    if texts is None or any(not isinstance(text, str) for _, text in texts):
        raise _bad("parcel.blocks_type", where)
    codes: dict[str, None] = {}
    for place, text in texts:
        try:
            codes.update(dict.fromkeys(parse_block_list(text)))
        except BlockListError as err:
            raise Problem("parcel.bad_blocks", 400, location=Location(field=place), field=place, token=err.token,
                          position=err.position, reason=err.reason,
                          issues=[Issue(f"blocks.reason.{err.reason}", {"token": err.token, "position": err.position},
                                        Location(field=place))]) from None
        if len(codes) > MAX_BLOCKS:
            raise _bad("parcel.too_many_blocks", where, limit=MAX_BLOCKS)
    if not codes:
        raise _bad("parcel.no_blocks", where)
    # Block centres against the national area (grid-datum degrees are within ~100 m of WGS 84,
    # far inside the tolerance): a block in another country is no parcel of ours.
    minutes = [block_minutes(code) for code in codes]
    area = tolerant_boundary(tolerance)
    xs = [(x + 0.5) / 60 for x, _ in minutes]
    ys = [(y + 0.5) / 60 for _, y in minutes]
    inside = shapely.contains_xy(area, xs, ys)
    outside = [code for code, ok in zip(codes, inside, strict=True) if not ok]
    if outside:
        raise _bad("parcel.blocks_outside_country", where, blocks=", ".join(outside[:5]), count=len(outside))
    return tuple(codes)


def _parse_geometry(value: Any, where: str, tolerance: float) -> shapely.MultiPolygon:
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        found = value.get("type") if isinstance(value, dict) else type(value).__name__
        raise _bad("parcel.geometry_type", where, found=str(found)[:40])
    crs = value.get("crs")
    if crs is not None:
        name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
        if not isinstance(name, str) or name not in CRS84_NAMES:
            raise _bad("parcel.geometry_crs", where)
    try:
        geom = shapely.from_geojson(json.dumps({"type": value["type"], "coordinates": value.get("coordinates")}))
        coords = shapely.get_coordinates(geom)
    except (shapely.errors.GEOSException, ValueError, TypeError):
        raise _bad("parcel.geometry_unreadable", where) from None
    if geom is None or geom.is_empty or not len(coords):
        raise _bad("parcel.geometry_empty", where)
    if not all(math.isfinite(c) for c in coords.ravel()):
        raise _bad("parcel.geometry_unreadable", where)
    return _polygons(geom, where, tolerance)


def _polygons(geom: shapely.Geometry, where: str, tolerance: float) -> shapely.MultiPolygon:
    """A polygon given in WGS 84 as a parcel: valid (faithfully repaired), not too large, inside
    the country."""
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        repaired, change = faithful_repair(geom)
        if repaired is None:
            raise _bad("parcel.geometry_invalid", where, reason=reason, change=round(change * 100, 2))
        geom = repaired
    polygons = polygonal_part(geom)
    if polygons is None:
        raise _bad("parcel.geometry_empty", where)
    west, south, east, north = polygons.bounds
    cells = (math.ceil(east * 60) - math.floor(west * 60)) * (math.ceil(north * 60) - math.floor(south * 60))
    if cells > MAX_CELLS:
        raise _bad("parcel.too_large", where, cells=cells, limit=MAX_CELLS)
    if len(outside_country(np.array([polygons], dtype=object), tolerance)):
        raise _bad("parcel.outside_country", where)
    return polygons


# --- overlaps and their sources ---------------------------------------------------------------

@dataclass
class Overlap:
    """One conflict of a parcel: what it meets (``kind``, and the other thing's ``id`` and
    ``name``), how serious it is, the message (``code`` with ``params``, kk/ru/en), the
    overlapping part (GeoJSON) and the parcel blocks involved (bounded; ``block_count`` whole)."""

    kind: str
    severity: Severity
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    geometry: dict[str, Any] | None = None
    id: str | None = None
    name: str | None = None
    blocks: list[str] = field(default_factory=list)
    block_count: int = 0
    area_km2: float | None = None

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "id": self.id, "name": self.name,
                "code": self.code, "message": translate(self.code, lang, **self.params),
                "area_km2": self.area_km2, "blocks": {"count": self.block_count, "codes": self.blocks},
                "geometry": self.geometry}


@dataclass(frozen=True)
class ParcelSQL:
    """The parcel as an overlap source's SQL sees it. ``geom`` and ``blocks`` are SQL fragments
    with named placeholders bound by ``params`` (pass them to ``conn.execute``):

    * ``geom``: the parcel, an EPSG:4326 MultiPolygon expression;
    * ``blocks``: a subquery of rows ``(code text, geom geometry)``: the parcel's blocks (the ones
      listed, or the ones a polygon's interior meets), whole blocks in EPSG:4326;
    * ``codes``: a ``text[]`` expression of the same codes (to join a claims table by code).

    ``programme`` is how a parcel outside the open areas counts (None: not at all), ``today``
    the date the check is made for (zones and areas in force then)."""

    geom: sql.Composable
    blocks: sql.Composable
    codes: sql.Composable
    params: dict[str, Any]
    kind: Literal["blocks", "polygon"]
    today: dt.date
    programme: Severity | None = "refusal"


OverlapSource = Callable[[psycopg.Connection, ParcelSQL], list[Overlap]]
OVERLAP_SOURCES: list[OverlapSource] = []
CLAIM_SOURCES: list[sql.Composable] = []


def overlap_source(source: OverlapSource) -> OverlapSource:
    """Register a source of overlaps (a decorator); ``check_parcel`` runs every registered one."""
    if source not in OVERLAP_SOURCES:
        OVERLAP_SOURCES.append(source)
    return source


def register_claims(select: sql.Composable) -> None:
    """Blocks no longer free in the programme: ``select`` is a query of one text column ``code``
    without parameters (e.g. the blocks of pending applications and granted licences)."""
    if select not in CLAIM_SOURCES:
        CLAIM_SOURCES.append(select)


def _served(conn: psycopg.Connection, layer: Layer) -> bool:
    """The layer's public view exists (it does from the layer's first upload on)."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{store.table_stem(layer)}",)).fetchone()
    return bool(row and row[0])


def _geojson(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


@overlap_source
def restriction_zones(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """Restriction zones in force that the parcel's interior meets: ``prohibited`` refuses,
    ``conditional`` warns; each with the overlapping part and the parcel blocks in it."""
    view = store.view_name(RESTRICTION_ZONES)
    if not _served(conn, RESTRICTION_ZONES):
        return []
    query = sql.SQL("""
        WITH p AS (SELECT {geom} AS g),
        hit AS (
          SELECT z.feature_id, z.name, z.regime, ST_CollectionExtract(ST_Intersection(z.geom, p.g), 3) AS g
          FROM {zones} z, p
          WHERE z.geom && p.g AND ST_Relate(z.geom, p.g, 'T********')
            AND (z.valid_from IS NULL OR z.valid_from <= %(parcel_today)s)
            AND (z.valid_to IS NULL OR z.valid_to >= %(parcel_today)s))
        SELECT h.feature_id, h.name, h.regime, ST_AsGeoJSON(h.g, {digits}), ST_Area(h.g::geography) / 1e6,
               b.codes, b.n
        FROM hit h
        CROSS JOIN LATERAL (
          SELECT (array_agg(pb.code))[1:{shown}] AS codes, count(*) AS n
          FROM ({blocks}) pb WHERE pb.geom && h.g AND ST_Relate(pb.geom, h.g, 'T********')) b
        ORDER BY h.regime = 'prohibited' DESC, h.feature_id
        LIMIT 1000""").format(geom=parcel.geom, zones=view, blocks=parcel.blocks,
                              digits=sql.Literal(GEOJSON_DIGITS), shown=sql.Literal(OVERLAP_BLOCKS_SHOWN))
    out = []
    for zone_id, name, regime, geometry, area, codes, count in conn.execute(query, parcel.params):
        prohibited = regime == "prohibited"
        area_km2 = round(float(area), 6)
        out.append(Overlap(
            kind="restriction-zone", severity="refusal" if prohibited else "warning",
            code="parcel.zone_prohibited" if prohibited else "parcel.zone_conditional",
            params={"name": name or zone_id, "id": zone_id, "area_km2": area_km2, "count": int(count)},
            geometry=_geojson(geometry), id=zone_id, name=name, blocks=list(codes or []), block_count=int(count),
            area_km2=area_km2))
    return out


def open_areas_sql(today_param: str = "parcel_today") -> sql.Composable:
    """The programme's open areas on a date: subsoil plots of kind ``fund-area`` opened
    (``valid_from``) by then and not closed (``valid_to``) before it."""
    return sql.SQL("""SELECT s.feature_id, s.geom FROM {plots} s
        WHERE s.kind = 'fund-area' AND (s.valid_from IS NULL OR s.valid_from <= {d})
          AND (s.valid_to IS NULL OR s.valid_to >= {d})""").format(
        plots=store.view_name(SUBSOIL_PLOTS), d=sql.Placeholder(today_param))


# A block is inside an area when the area covers it; the area test tolerates the last-digit
# differences of blocks shifted from Pulkovo 1942 (grid datum EPSG:4284).
INSIDE = "(ST_CoveredBy({b}, {a}) OR ST_Area(ST_Intersection({b}, {a})) >= 0.999 * ST_Area({b}))"


def _inside(block: str, area: str) -> sql.Composable:
    return sql.SQL(INSIDE.format(b=block, a=area))


@overlap_source
def outside_programme(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """The part of the parcel outside the programme's open areas, and its blocks not inside
    one (an exploration application is possible only there)."""
    if parcel.programme is None:
        return []
    areas = open_areas_sql() if _served(conn, SUBSOIL_PLOTS) else sql.SQL(
        "SELECT NULL::text AS feature_id, NULL::geometry AS geom WHERE false")
    query = sql.SQL("""
        WITH p AS (SELECT {geom} AS g),
        a AS (SELECT ST_Union(o.geom) AS g FROM ({areas}) o, p WHERE o.geom && p.g AND ST_Intersects(o.geom, p.g)),
        d AS (SELECT CASE WHEN a.g IS NULL THEN p.g
                          ELSE ST_CollectionExtract(ST_Difference(p.g, a.g), 3) END AS g FROM p, a)
        SELECT ST_AsGeoJSON(d.g, {digits}), ST_Area(d.g::geography) / 1e6, b.codes, b.n
        FROM d, a
        CROSS JOIN LATERAL (
          SELECT (array_agg(pb.code))[1:{shown}] AS codes, count(*) AS n FROM ({blocks}) pb
          WHERE a.g IS NULL OR NOT {inside}) b""").format(
        geom=parcel.geom, areas=areas, blocks=parcel.blocks, inside=_inside("pb.geom", "a.g"),
        digits=sql.Literal(GEOJSON_DIGITS), shown=sql.Literal(OVERLAP_BLOCKS_SHOWN))
    row = conn.execute(query, parcel.params).fetchone()
    assert row is not None
    geometry, area, codes, count = row
    area_km2 = round(float(area or 0), 6)
    # Blocks decide for a block parcel; for a polygon, its area outside (beyond rounding).
    if (parcel.kind == "blocks" and not count) or (parcel.kind == "polygon" and area_km2 <= SLIVER_KM2):
        return []
    return [Overlap(kind="outside-programme", severity=parcel.programme, code="parcel.outside_programme",
                    params={"area_km2": area_km2, "count": int(count)}, geometry=_geojson(geometry),
                    blocks=list(codes or []), block_count=int(count), area_km2=area_km2)]


# --- the check --------------------------------------------------------------------------------

@dataclass
class ParcelCheck:
    kind: Literal["blocks", "polygon"]
    area_km2: float
    block_count: int
    codes: list[str]              # the parcel's blocks (listed, or met by a polygon), at most CODES_SHOWN
    contiguous: bool
    components: int
    overlaps: list[Overlap]
    bbox: list[float] | None = None
    geometry: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No refusal among the overlaps (warnings do not stop an application)."""
        return not any(o.severity == "refusal" for o in self.overlaps)

    @property
    def refusals(self) -> list[Overlap]:
        return [o for o in self.overlaps if o.severity == "refusal"]

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"kind": self.kind, "area_km2": self.area_km2,
                "blocks": {"count": self.block_count, "codes": self.codes[:CODES_SHOWN],
                           "truncated": self.block_count > min(len(self.codes), CODES_SHOWN)},
                "contiguous": self.contiguous, "components": self.components,
                "overlaps": [o.as_dict(lang) for o in self.overlaps], "ok": self.ok,
                "bbox": self.bbox, "geometry": self.geometry}


def cells_of(geom: sql.Composable, srid: int) -> sql.Composable:
    """A subquery of the minute cells ``(x, y, code, geom)`` over the extent of ``geom`` (an
    EPSG:4326 expression), in the grid datum whose SRID is ``srid``: blocks by arithmetic, as
    layers/grid_build.py makes them, without reading table ``blocks``."""
    return sql.SQL("""(SELECT x, y, gs_block_code_at(x, y) AS code,
                             ST_Transform(gs_block_envelope_at(x, y, {srid}), 4326) AS geom
                      FROM (SELECT ST_Transform({geom}, {srid}) AS t) AS tt,
                           generate_series(floor(ST_XMin(tt.t) * 60)::int, ceil(ST_XMax(tt.t) * 60)::int - 1) AS x,
                           generate_series(floor(ST_YMin(tt.t) * 60)::int, ceil(ST_YMax(tt.t) * 60)::int - 1) AS y)"""
                   ).format(geom=geom, srid=sql.Literal(srid))


def check_parcel(conn: psycopg.Connection, parcel: Parcel, *, grid_datum: str = Settings.grid_datum,
                 today: dt.date | None = None, programme: Severity | None = "refusal",
                 sources: list[OverlapSource] | None = None) -> ParcelCheck:
    """Area (km², on the geography), blocks, contiguity (blocks sharing an edge are one component;
    a polygon: its parts) and every overlap the registered sources find (``sources`` replaces
    them). ``programme``: how lying outside the open areas counts ("refusal" for exploration,
    "warning", or None for kinds the programme does not govern). Read-only."""
    datum = resolve_datum(grid_datum)
    srid = grid_srid(datum)
    today = today or dt.date.today()
    params: dict[str, Any] = {"parcel_datum": datum, "parcel_today": today}
    if parcel.geometry is None:
        params["parcel_codes"] = list(parcel.codes)
        row = conn.execute("""
            WITH u AS (SELECT ST_Multi(ST_Union(gs_block_geom(c, %(parcel_datum)s))) AS g
                       FROM unnest(%(parcel_codes)s::text[]) AS c)
            SELECT ST_AsEWKB(g), ST_Area(g::geography) / 1e6, ST_NumGeometries(g) FROM u""", params).fetchone()
        assert row is not None
        ewkb, area, components = row
        codes = list(parcel.codes)
        blocks = sql.SQL("SELECT c AS code, gs_block_geom(c, %(parcel_datum)s) AS geom "
                         "FROM unnest(%(parcel_codes)s::text[]) WITH ORDINALITY AS u(c, o) ORDER BY o")
    else:
        params["parcel_geom"] = shapely.to_wkb(parcel.geometry, include_srid=False)
        cells = cells_of(sql.SQL("p.g"), srid)
        row = conn.execute(sql.SQL("""
            WITH p AS (SELECT ST_Multi(ST_SetSRID(ST_GeomFromWKB(%(parcel_geom)s), 4326)) AS g)
            SELECT ST_AsEWKB(p.g), ST_Area(p.g::geography) / 1e6, ST_NumGeometries(p.g),
                   (SELECT array_agg(c.code ORDER BY c.y DESC, c.x) FROM {cells} c
                    WHERE c.geom && p.g AND ST_Relate(c.geom, p.g, 'T********'))
            FROM p""").format(cells=cells), params).fetchone()
        assert row is not None
        ewkb, area, components, touched = row
        codes = list(touched or [])
        params["parcel_codes"] = codes
        blocks = sql.SQL("SELECT c AS code, gs_block_geom(c, %(parcel_datum)s) AS geom "
                         "FROM unnest(%(parcel_codes)s::text[]) WITH ORDINALITY AS u(c, o) ORDER BY o")
    params["parcel_ewkb"] = bytes(ewkb)
    shape = shapely.from_wkb(bytes(ewkb))
    view = ParcelSQL(geom=sql.SQL("ST_GeomFromEWKB(%(parcel_ewkb)s)"), blocks=blocks,
                     codes=sql.SQL("%(parcel_codes)s::text[]"), params=params, kind=parcel.kind, today=today,
                     programme=programme)
    overlaps: list[Overlap] = []
    for source in OVERLAP_SOURCES if sources is None else sources:
        overlaps.extend(source(conn, view))
    return ParcelCheck(kind=parcel.kind, area_km2=round(float(area), 6), block_count=len(codes), codes=codes,
                       contiguous=int(components) == 1, components=int(components), overlaps=overlaps,
                       bbox=[round(v, GEOJSON_DIGITS) for v in shape.bounds],
                       geometry=json.loads(shapely.to_geojson(shape)))


# --- the programme ----------------------------------------------------------------------------

@dataclass
class ProgrammeArea:
    id: str
    name: str | None
    status: str | None
    mineral: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    open: bool
    area_km2: float
    block_count: int        # blocks inside the area
    free_count: int         # of them, not claimed
    free: list[str]         # free blocks, at most the limit asked
    bbox: list[float]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status, "mineral": self.mineral,
                "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                "valid_to": self.valid_to.isoformat() if self.valid_to else None, "open": self.open,
                "area_km2": self.area_km2, "bbox": self.bbox,
                "blocks": {"count": self.block_count, "free": self.free_count, "codes": self.free,
                           "truncated": self.free_count > len(self.free)}}


def programme_areas(conn: psycopg.Connection, *, grid_datum: str = Settings.grid_datum,
                    today: dt.date | None = None, after: str | None = None, limit: int = 20,
                    blocks_limit: int = 200) -> tuple[list[ProgrammeArea], int]:
    """The programme's areas not closed by ``today`` (``open``: opened by then), by id after
    ``after`` (keyset), at most ``limit``, each with its blocks and the free ones (inside the
    area and not in any ``CLAIM_SOURCES`` select), ``blocks_limit`` codes listed. Returns the
    page and the number of areas in all."""
    today = today or dt.date.today()
    srid = grid_srid(resolve_datum(grid_datum))
    plots = store.view_name(SUBSOIL_PLOTS)
    if not _served(conn, SUBSOIL_PLOTS):
        return [], 0
    claims = sql.SQL(" UNION ALL ").join(CLAIM_SOURCES) if CLAIM_SOURCES else sql.SQL(
        "SELECT NULL::text AS code WHERE false")
    where = sql.SQL("s.kind = 'fund-area' AND (s.valid_to IS NULL OR s.valid_to >= %(today)s)")
    total_row = conn.execute(sql.SQL("SELECT count(*) FROM {plots} s WHERE {where}").format(plots=plots, where=where),
                             {"today": today}).fetchone()
    query = sql.SQL("""
        WITH a AS (SELECT s.* FROM {plots} s WHERE {where} AND s.feature_id > %(after)s
                   ORDER BY s.feature_id LIMIT %(limit)s),
        claimed AS ({claims})
        SELECT a.feature_id, a.name, a.status, a.mineral, a.valid_from, a.valid_to,
               (a.valid_from IS NULL OR a.valid_from <= %(today)s), ST_Area(a.geom::geography) / 1e6,
               ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom), b.n, b.free, b.codes
        FROM a CROSS JOIN LATERAL (
          SELECT count(*) AS n, count(*) FILTER (WHERE NOT q.claimed) AS free,
                 (array_agg(q.code ORDER BY q.y DESC, q.x) FILTER (WHERE NOT q.claimed))[1:%(blocks_limit)s] AS codes
          FROM (SELECT c.code, c.x, c.y, EXISTS (SELECT 1 FROM claimed k WHERE k.code = c.code) AS claimed
                FROM {cells} c WHERE c.geom && a.geom AND {inside}) q) b
        ORDER BY a.feature_id""").format(plots=plots, where=where, claims=claims,
                                         cells=cells_of(sql.SQL("a.geom"), srid), inside=_inside("c.geom", "a.geom"))
    rows = conn.execute(query, {"today": today, "after": after or "", "limit": limit,
                                "blocks_limit": blocks_limit}).fetchall()
    areas = [ProgrammeArea(id=r[0], name=r[1], status=r[2], mineral=r[3], valid_from=r[4], valid_to=r[5],
                           open=bool(r[6]), area_km2=round(float(r[7]), 6), bbox=[float(v) for v in r[8:12]],
                           block_count=int(r[12]), free_count=int(r[13]), free=list(r[14] or []))
             for r in rows]
    return areas, int(total_row[0]) if total_row else 0
