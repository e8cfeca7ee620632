"""Serving tiles: which version of which layers a tile shows, its cache key, building it on a miss
(one SQL statement, run again with a coarser speck filter in the rare case it comes out over the
size limit).

One ``TileService`` per application (app.state.tiles), created on first use from the pool and
the registry the lifespan made; its cache therefore never mixes two databases."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import Request

from geoservice.db import libpq_url
from geoservice.registry import Collection, Registry
from layers.catalog import LAYERS
from tiles.cache import Key, Tile, TileCache
from tiles.layers import MAP, Tileset, collection_tileset
from tiles.levels import LEVELS, ZOOM_OFFSET
from tiles.sql import MIN_FEATURE_PIXELS, TILE_FORMAT, tile_sql
from tiles.tms import TILE_MATRIX_SETS, TileMatrixSet

log = logging.getLogger("geoservice.tiles")

MAX_TILE_BYTES = 500_000
# Speck filter factors tried in turn while a tile is over MAX_TILE_BYTES (1 px, then 4 px …).
COARSER = (1, 4, 16, 64)
COUNTRY_VERSION = "country:0003"  # the boundary is migration data; a new one comes with a migration
FALLBACK_BOUNDS = (46.4, 40.5, 87.4, 55.5)
WARM_CONNECTIONS = 2            # pool connections readied at start (one per core of a small server)
CATCH_UP_SECONDS = 1.0          # at most one registry refresh a second for unknown ?v= versions
POOL_SIZE = 8                   # at most this many tiles are made at once; more wait for a connection
WARM_TIMEOUT = 20.0             # seconds
WARM_POINT = (67.0, 48.0)       # somewhere in Kazakhstan


@dataclass(frozen=True)
class Snapshot:
    """The collections of a tileset at one instant, and the version that names them."""
    collections: dict[str, Collection]
    versions: tuple[str, ...]
    v: str                              # short hash of versions: the ?v= of tile URLs

    def get(self, layer_id: str) -> Collection | None:
        return self.collections.get(layer_id)


async def _session(conn: asyncpg.Connection) -> None:
    # As geoservice.pg's pool: a pathological tile must not hold a connection for ever, and JIT
    # compiling a millisecond query costs more than it saves. Generic plans: a tile statement's
    # best plan is the same for every tile address (index scans by the tile box), and planning
    # it anew costs 0.5–2 ms, as much as a high-zoom tile itself.
    await conn.execute("SET statement_timeout = '60s'; SET jit = off; SET plan_cache_mode = force_generic_plan")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset (RESET ALL, UNLISTEN *, …): a round trip per
    tile, and it would undo the session settings above. Tile statements are single SELECTs in
    autocommit, so they leave nothing behind to reset."""


async def create_pool(url: str | None = None, *, min_size: int = WARM_CONNECTIONS,
                      max_size: int = POOL_SIZE) -> asyncpg.Pool:
    """A pool of tile connections: the service's, and the benchmark's PostgreSQL floor, which
    must run the tile statements with the same session."""
    pool = await asyncpg.create_pool(libpq_url(url), min_size=min_size, max_size=max_size, init=_session,
                                     reset=_keep_session, command_timeout=90)
    assert pool is not None
    return pool


class TileService:
    def __init__(self, pool: asyncpg.Pool, registry: Registry, cache: TileCache | None = None) -> None:
        self.pool = pool          # the app's pool until open() makes the service's own
        self._own_pool: asyncpg.Pool | None = None
        self.registry = registry
        self.cache = cache or TileCache()
        self.max_bytes = MAX_TILE_BYTES
        self._hashes: dict[tuple[str, ...], str] = {}
        self._country_bounds: tuple[float, float, float, float] | None = None
        self._caught_up = -CATCH_UP_SECONDS

    async def catch_up(self) -> bool:
        """Refresh the registry now unless that was done less than CATCH_UP_SECONDS ago; True
        when it was refreshed."""
        now = time.monotonic()
        if now - self._caught_up < CATCH_UP_SECONDS:
            return False
        self._caught_up = now
        await self.registry.refresh()
        return True

    async def open(self) -> None:
        """A pool of the service's own: connections that keep their session (and prepared
        statements) from tile to tile, see _keep_session."""
        self._own_pool = await create_pool()
        self.pool = self._own_pool

    async def close(self) -> None:
        if self._own_pool is not None:
            await self._own_pool.close()
            self._own_pool = None

    def snapshot(self, tileset: Tileset) -> Snapshot:
        collections: dict[str, Collection] = {}
        versions = [TILE_FORMAT]
        for layer in tileset.layers:
            if layer == "country":
                versions.append(COUNTRY_VERSION)
                continue
            collection = self.registry.get(layer)
            if collection is None:
                versions.append(f"{layer}:none")
            else:
                collections[layer] = collection
                versions.append(collection.version_key)
        key = tuple(versions)
        v = self._hashes.get(key)
        if v is None:
            v = hashlib.blake2b("\n".join(key).encode(), digest_size=8).hexdigest()
            if len(self._hashes) > 1024:
                self._hashes.clear()
            self._hashes[key] = v
        return Snapshot(collections, key, v)

    async def tile(self, tileset: Tileset, snapshot: Snapshot, tms: TileMatrixSet, z: int, x: int, y: int,
                   authorised: bool) -> tuple[Key, Tile]:
        key: Key = (tileset.id, snapshot.versions, authorised, tms.id, z, y, x)

        async def build() -> bytes:
            return await self.render(tileset, snapshot, tms, z, x, y, authorised)

        return key, await self.cache.get_or_build(key, build)

    async def render(self, tileset: Tileset, collections: Snapshot, tms: TileMatrixSet, z: int, x: int, y: int,
                     authorised: bool) -> bytes:
        """The MVT from PostgreSQL, uncached."""
        mvt = b""
        async with self.pool.acquire() as conn:
            for factor in COARSER:
                query = tile_sql(tileset, collections, tms, z, x, y, authorised=authorised,
                                 min_pixels=MIN_FEATURE_PIXELS * factor)
                mvt = await conn.fetchval(query.sql, *query.args) or b""
                if len(mvt) <= self.max_bytes:
                    return bytes(mvt)
                log.info("tile %s/%s/%d/%d/%d is %d bytes with %g px specks dropped; coarser",
                         tileset.id, tms.id, z, x, y, len(mvt), MIN_FEATURE_PIXELS * factor)
        log.warning("tile %s/%s/%d/%d/%d stays at %d bytes", tileset.id, tms.id, z, x, y, len(mvt))
        return bytes(mvt)

    async def bounds(self, tileset: Tileset, snapshot: Snapshot) -> tuple[float, float, float, float]:
        """West, south, east, north of the tileset's data (the country's when it has none). A
        layer with non-public features counts as the whole country: its extent could tell an
        anonymous reader where confidential studies are."""
        boxes = [c.bbox for c in snapshot.collections.values() if c.bbox and not c.access_column]
        if "country" in tileset.layers or not boxes:
            boxes.append(await self.country_bounds())
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))

    async def country_bounds(self) -> tuple[float, float, float, float]:
        if self._country_bounds is None:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                                          "FROM (SELECT ST_Extent(geom) AS e FROM country_boundary) b")
            self._country_bounds = tuple(row) if row and row[0] is not None else FALLBACK_BOUNDS  # type: ignore[assignment]
        assert self._country_bounds is not None
        return self._country_bounds


async def warm_up(app: Any) -> None:
    """Make the first tiles after a start as fast as later ones: a PostgreSQL backend loads
    PostGIS and sets up PROJ on its first tile (~100 ms), and asyncpg prepares each statement
    once per connection. Runs the tile statements of every block level (nothing is cached) on
    ``WARM_CONNECTIONS`` pool connections; never fails the start."""
    started = time.perf_counter()
    try:
        service = service_for(app)
        tilesets = [MAP, *(t for t in (collection_tileset(lid) for lid in LAYERS) if t is not None)]
        samples = [(tms, level.min_zoom - ZOOM_OFFSET[tms.id]) for tms in TILE_MATRIX_SETS.values()
                   for level in LEVELS if level.min_zoom - ZOOM_OFFSET[tms.id] >= 0]

        async def warm(conn: asyncpg.Connection) -> None:
            seen = set()
            for tileset in tilesets:
                snapshot = service.snapshot(tileset)
                for tms, z in samples:
                    x, y = tms.tile_at(z, *WARM_POINT)
                    query = tile_sql(tileset, snapshot, tms, z, x, y)
                    if query.sql not in seen:    # one run per distinct statement
                        seen.add(query.sql)
                        await conn.fetchval(query.sql, *query.args)

        async def one() -> None:
            async with service.pool.acquire() as conn:
                await warm(conn)
                await asyncio.sleep(0)

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(WARM_CONNECTIONS))), WARM_TIMEOUT)
        log.info("tile connections warmed in %.0f ms", (time.perf_counter() - started) * 1000)
    except Exception:  # noqa: BLE001 - a cold first tile is better than no server
        log.warning("tile warm-up failed", exc_info=True)


def service_for(app: Any) -> TileService:
    state = app.state
    service: TileService | None = getattr(state, "tiles", None)
    if service is None:
        service = state.tiles = TileService(state.pool, state.registry)
    return service


def get_service(request: Request) -> TileService:
    return service_for(request.app)
