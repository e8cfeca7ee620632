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
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import Request

from geoservice.kernel.db import libpq_url
from layers.catalog import LAYERS
from layers.registry import Collection, Registry
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
WARM_CONNECTIONS = 2            # connections readied at start (one per core of a small server)
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


def _session(statement_timeout: float) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def init(conn: asyncpg.Connection) -> None:
        # As geoservice.kernel.pools's pool: a pathological tile must not hold a connection for
        # ever (GEOSERVICE_STATEMENT_TIMEOUT; cancelled, it is a 503), and JIT compiling a
        # millisecond query costs more than it saves. Generic plans: a tile statement's best plan
        # is the same for every tile address (index scans by the tile box), and planning it anew
        # costs 0.5–2 ms, as much as a high-zoom tile itself.
        milliseconds = max(1, round(statement_timeout * 1000))
        await conn.execute(f"SET statement_timeout = {milliseconds}; SET jit = off; "
                           "SET plan_cache_mode = force_generic_plan")
    return init


class Connections:
    """The tile service's own PostgreSQL connections, and the benchmark's PostgreSQL floor's (which
    must run the tile statements the same way): at most ``size``, opened on demand, the most
    recently used handed out first, each keeping its session settings and prepared statements
    from tile to tile (nothing is reset: tile statements are single SELECTs in autocommit).

    Not an asyncpg Pool: on a cache miss its acquire and release cost ~50 µs of a tile's time
    (a proxy object and a timer per acquire, a Task behind ``asyncio.shield`` per release), ~5 %
    of a typical tile's PostgreSQL time; ``get``/``put`` here cost a list operation when a
    connection is free. A connection that saw an error or a cancellation is closed, not reused."""

    def __init__(self, url: str, size: int = POOL_SIZE, statement_timeout: float = 60.0, *,
                 connect_timeout: float = 60.0, server_settings: dict[str, str] | None = None) -> None:
        # connect_timeout and server_settings (keepalives, idle-in-transaction timeout) as the
        # app's other pools: a vanished database costs seconds, not asyncpg's default minute.
        self.url, self.size = libpq_url(url), size
        self._init = _session(statement_timeout)
        self._connect_timeout, self._server_settings = connect_timeout, server_settings
        self._idle: list[asyncpg.Connection] = []
        self._open = 0                                   # open, or being opened
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.url, command_timeout=90, timeout=self._connect_timeout,
                                     server_settings=self._server_settings)
        try:
            await self._init(conn)
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def get(self) -> asyncpg.Connection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._open -= 1
            if self._closed:
                raise asyncpg.InterfaceError("tile connections are closed")
            if self._open < self.size:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    self._hand(None)
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():   # handed over as we were cancelled
                    handed = waiter.result()
                    if handed is None:
                        self._hand(None)
                    else:
                        self.put(handed)
                raise
            if conn is not None:
                return conn
            # None: a connection was closed, so there is room to open one; go round again.

    def put(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        """Give a connection back; ``broken`` after an error or a cancellation while it was in use
        (its state is unknown: a statement may still be running)."""
        if broken or self._closed or conn.is_closed():
            self._open -= 1
            conn.terminate()
            self._hand(None)
        elif not self._hand(conn):
            self._idle.append(conn)

    def _hand(self, conn: asyncpg.Connection | None) -> bool:
        """Wake the longest waiter with ``conn`` (None: open one yourself); False if nobody waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await self.get()
        try:
            yield conn
        except BaseException:
            self.put(conn, broken=True)
            raise
        self.put(conn)

    async def open(self, n: int) -> None:
        """Open ``n`` connections now (more come on demand)."""
        conns = await asyncio.gather(*(self.get() for _ in range(n)))
        for conn in conns:
            self.put(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        await asyncio.gather(*(conn.close(timeout=5) for conn in idle), return_exceptions=True)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("tile connections are closed"))


class TileService:
    def __init__(self, registry: Registry, cache: TileCache | None = None) -> None:
        self.pool: Connections | None = None  # opened by open(), with the app's database URL
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

    async def open(self, url: str, statement_timeout: float = 60.0, *, connect_timeout: float = 60.0,
                   server_settings: dict[str, str] | None = None) -> None:
        """The service's own connections (see Connections), some opened now."""
        self.pool = Connections(url, statement_timeout=statement_timeout, connect_timeout=connect_timeout,
                                server_settings=server_settings)
        await self.pool.open(WARM_CONNECTIONS)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

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
        pool = self.pool
        assert pool is not None, "TileService.open() first"
        conn = await pool.get()   # get/put rather than ``async with``: this is the cache-miss path
        try:
            for factor in COARSER:
                query = tile_sql(tileset, collections, tms, z, x, y, authorised=authorised,
                                 min_pixels=MIN_FEATURE_PIXELS * factor)
                mvt = await conn.fetchval(query.sql, *query.args) or b""
                if len(mvt) <= self.max_bytes:
                    break
                log.info("tile %s/%s/%d/%d/%d is %d bytes with %g px specks dropped; coarser",
                         tileset.id, tms.id, z, x, y, len(mvt), MIN_FEATURE_PIXELS * factor)
            else:
                log.warning("tile %s/%s/%d/%d/%d stays at %d bytes", tileset.id, tms.id, z, x, y, len(mvt))
        except BaseException:
            pool.put(conn, broken=True)
            raise
        pool.put(conn)
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
        service = state.tiles = TileService(state.registry)
    return service


def get_service(request: Request) -> TileService:
    return service_for(request.app)
