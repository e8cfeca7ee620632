"""The SQL of a tile: one statement per tile, every MVT layer built by PostGIS (``ST_AsMVTGeom``
clipping and snapping to the tile grid, ``ST_AsMVT`` encoding) and the layers' MVTs concatenated
in SQL, which is a valid multi-layer tile since an MVT is a sequence of layer messages.

``tile_sql`` is the plain function the service runs and the benchmark runs straight against
PostgreSQL::

    registry = Registry(pool); await registry.refresh()
    q = tile_sql(MAP, registry, "WebMercatorQuad", 6, 44, 22)
    mvt = await conn.fetchval(q.sql, *q.args)          # asyncpg ($n placeholders)
    mvt = psycopg_conn.execute(q.literal()).fetchone()[0]  # or any client, numbers inlined

Table and column names come from the registry and the layer catalog, never from a request; the
tile address and the numbers derived from it are parameters.

Per layer:

* the index filter is ``geom && <tile box in EPSG:4326, grown by the MVT buffer>`` (computed in
  Python: a grown ``ST_TileEnvelope`` transformed to 4326 wraps round the antimeridian at z0–1);
* ``blocks`` reads table ``blocks`` from zoom 10 and the precomputed ``block_cells`` of the
  level tiles/levels.py names below it (as a literal, so that level's partial index is used);
* uploaded layers drop polygons smaller than a pixel of a 256-px tile in both directions (they
  would be specks, and a low-zoom tile over thousands of small plots would grow without bound);
* ``geological-studies`` hides non-public studies from anonymous readers (layers.access).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from layers.access import public_filter
from layers.registry import Collection
from tiles.layers import MVT_LAYERS, Tileset
from tiles.levels import BLOCK, Level, level_for
from tiles.tms import TILE_MATRIX_SETS, TileMatrixSet

EXTENT = 4096          # MVT coordinate units per tile side
BUFFER = 64            # units drawn beyond the tile edge, so strokes join across tiles
CELLS_TABLE = '"public"."block_cells"'
COUNTRY_TABLE = '"public"."country_boundary"'
MIN_FEATURE_PIXELS = 1.0   # of a 256-px tile: smaller polygons are left out
# Bumped whenever the same data would give different tiles (properties, levels, SQL), so that
# version keys, ETags and immutable browser caches from before a deployment are not reused.
TILE_FORMAT = "1"


class Collections(Protocol):
    def get(self, layer_id: str) -> Collection | None: ...


@dataclass(frozen=True)
class TileQuery:
    sql: str                         # $1 … $n placeholders (asyncpg, PREPARE)
    args: tuple[int | float, ...]    # numbers only

    def literal(self) -> str:
        """The statement with the (numeric) arguments inlined, for clients without $n."""
        def value(match: re.Match[str]) -> str:
            arg = self.args[int(match.group(1)) - 1]
            assert isinstance(arg, int | float) and math.isfinite(arg)
            return repr(arg) if isinstance(arg, int) else format(arg, ".17g")
        return re.sub(r"\$(\d+)", value, self.sql)


@dataclass(frozen=True)
class _Part:
    """One MVT layer of a tile: what its SQL depends on besides the tile address."""
    layer: str
    table: str | None          # the collection's table, None for country
    access: str | None         # SQL condition hiding non-public features, or None


def tile_sql(tileset: Tileset, collections: Collections, tms: str | TileMatrixSet, z: int, x: int, y: int,
             *, authorised: bool = False, min_pixels: float = MIN_FEATURE_PIXELS) -> TileQuery:
    """The statement producing tile (z, x, y) of ``tileset`` in ``tms`` (its one column is the
    MVT; an empty bytea when no layer has a feature there). Layers without data are left out.
    Uploaded polygons smaller than ``min_pixels`` (of a 256-px tile) both ways are dropped."""
    matrix = TILE_MATRIX_SETS[tms] if isinstance(tms, str) else tms
    parts = []
    for layer in tileset.layers:
        if layer == "country":
            parts.append(_Part(layer, None, None))
            continue
        collection = collections.get(layer)
        if collection is not None:
            parts.append(_Part(layer, collection.table, public_filter(collection.access_column, authorised)))
    if not parts:
        return TileQuery("SELECT ''::bytea", ())
    level = level_for(z, matrix.id)
    west, south, east, north = matrix.bounds_lonlat(z, x, y, margin=BUFFER / EXTENT)
    # Minimum feature size in degrees: a pixel of longitude, and of latitude at the tile's centre
    # (Mercator stretches latitude by 1/cos).
    pixel = matrix.tile_width_degrees(z) / 256 * min_pixels
    pixel_lat = pixel * math.cos(math.radians((south + north) / 2)) if matrix.srid == 3857 else pixel
    statement, n_args = _statement(tuple(parts), matrix.id, level)
    return TileQuery(statement, (z, x, y, west, south, east, north, pixel, pixel_lat)[:n_args])


@lru_cache(maxsize=512)
def _statement(parts: tuple[_Part, ...], tms: str, level: Level) -> tuple[str, int]:
    """The statement and how many of the arguments it uses ($8, $9 only with uploaded layers)."""
    if tms == "WebMercatorQuad":
        bounds, geom = "ST_TileEnvelope($1, $2, $3)", "ST_Transform(s.geom, 3857)"
    else:
        # WorldCRS84Quad: z has 2^(z+1) x 2^z tiles, the rows of a 2^(z+1) square grid over
        # 360° x 360° whose top edge is 90° N.
        bounds = "ST_TileEnvelope($1 + 1, $2, $3, ST_MakeEnvelope(-180, -270, 180, 90, 4326))"
        geom = "s.geom"
    mvt_geom = f"ST_AsMVTGeom({geom}, {bounds}, {EXTENT}, {BUFFER}, true)"
    box = "ST_MakeEnvelope($4, $5, $6, $7, 4326)"
    statement = "SELECT " + "\n || ".join(_layer_select(part, level, mvt_geom, box) for part in parts)
    return statement, max(int(n) for n in re.findall(r"\$(\d+)", statement))


def _layer_select(part: _Part, level: Level, mvt_geom: str, box: str) -> str:
    """A scalar subquery giving one layer's MVT (empty bytea when it has no feature here)."""
    name = part.layer
    assert re.fullmatch(r"[a-z0-9-]+", name)  # our own layer ids, inlined as the MVT layer name
    where = [f"s.geom && {box}"]
    if name == "country":
        table = COUNTRY_TABLE
        columns = ", ".join(f"{p.sql} AS {p.name}" for p in MVT_LAYERS[name].props)
        id_column = None
    elif name == "blocks":
        if level is BLOCK:
            table = part.table or ""
            columns = "s.id AS fid, s.code, 'block'::text AS level, 1 AS n_blocks"
        else:
            table = CELLS_TABLE
            # Cells have no key of their own; the id of their south-west block is unique per level.
            columns = "s.m_lat::bigint * 21600 + s.m_lon + 10800 AS fid, s.code, s.level, s.n_blocks"
            assert re.fullmatch(r"[a-z0-9]+", level.name)
            where.insert(0, f"s.level = '{level.name}'")  # a constant of tiles.levels
        id_column = "fid"
    else:
        table = part.table or ""
        columns = ", ".join(["s.fid", *(f'{p.sql} AS "{p.name}"' for p in MVT_LAYERS[name].props)])
        id_column = "fid"
        # Specks: smaller than a pixel both ways. The box comes from the stored bounding box.
        where.append("(ST_XMax(s.geom::box2d) - ST_XMin(s.geom::box2d) >= $8 "
                     "OR ST_YMax(s.geom::box2d) - ST_YMin(s.geom::box2d) >= $9)")
        if part.access:
            where.append(f"s.{part.access}")
    mvt_args = f"'{name}', {EXTENT}, 'geom'" + (f", '{id_column}'" if id_column else "")
    rows = f"SELECT {columns}, {mvt_geom} AS geom FROM {table} s WHERE {' AND '.join(where)}"  # noqa: S608
    return f"coalesce((SELECT ST_AsMVT(t, {mvt_args}) FROM ({rows}) t WHERE t.geom IS NOT NULL), ''::bytea)"  # noqa: S608
