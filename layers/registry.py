"""What the service serves right now: for every layer, the table of its current version and a
version key that changes whenever its content does.

Switching versions NOTIFYs ``geoservice_layers`` (layers/store.py, layers/grid_build.py); every
server process listens and refreshes, so an upload made anywhere (HTTP, CLI, another worker) is
served at once and no cached tile or count of the old version is used again. A slow poll is the
backstop should the listening connection drop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

import asyncpg

from layers.catalog import LAYERS, Attribute, Layer

log = logging.getLogger("geoservice.registry")
CHANNEL = "geoservice_layers"
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Collection:
    layer: Layer
    schema: str
    table_name: str
    id_column: str          # bigint ordering key (keyset paging): fid, or id for blocks
    feature_id_column: str  # public, stable feature id: feature_id, or code for blocks
    version_key: str        # changes whenever the content changes
    version: int | None
    feature_count: int | None
    bbox: tuple[float, float, float, float] | None
    updated_at: dt.datetime | None

    @property
    def id(self) -> str:
        return self.layer.id

    @property
    def table(self) -> str:
        """Quoted, schema-qualified table name (built from our own identifiers, never input)."""
        return f'"{self.schema}"."{self.table_name}"'

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        return self.layer.attributes

    @property
    def access_column(self) -> str | None:
        return self.layer.access


class Registry:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._collections: dict[str, Collection] = {}
        self._listener: asyncpg.Connection | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stamp: tuple[object, ...] | None = None
        self._lock = asyncio.Lock()
        self.loaded = False  # the first refresh succeeded (readiness)

    @property
    def listening(self) -> bool:
        """Is the LISTEN connection open (else only the poll keeps us current)?"""
        try:
            return self._listener is not None and not self._listener.is_closed()
        except asyncpg.InterfaceError:  # a pool connection that closed went back to the pool
            return False

    def get(self, layer_id: str) -> Collection | None:
        return self._collections.get(layer_id)

    def all(self) -> list[Collection]:
        return [self._collections[k] for k in LAYERS if k in self._collections]

    async def refresh(self) -> None:
        async with self._lock, self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT l.id, l.updated_at, v.id AS vid, v.version, v.table_name, v.feature_count, v.bbox "
                "FROM layers l LEFT JOIN layer_versions v ON v.id = l.current_version_id ORDER BY l.id")
            blocks = await conn.fetchrow(
                "SELECT c.relfilenode FROM pg_class c "
                "WHERE c.oid = to_regclass('public.blocks')")
            fresh: dict[str, Collection] = {}
            for row in rows:
                layer = LAYERS.get(row["id"])
                if layer is None:
                    continue
                if layer.id == "blocks":
                    if blocks is None:
                        continue
                    # Exact (numberMatched without filters): ~0.1 s, and only when the grid changes.
                    previous = self._collections.get("blocks")
                    same = previous is not None and previous.version_key == f"blocks:{blocks['relfilenode']}"
                    count = previous.feature_count if same and previous else await conn.fetchval(
                        "SELECT count(*) FROM blocks")
                    extent = await conn.fetchrow(
                        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                        "(SELECT ST_EstimatedExtent('public', 'blocks', 'geom') AS b) e")
                    fresh[layer.id] = Collection(
                        layer, "public", "blocks", "id", "code", f"blocks:{blocks['relfilenode']}", None, count,
                        tuple(extent) if extent and extent[0] is not None else None, row["updated_at"])
                elif row["vid"] is not None:
                    bbox = tuple(row["bbox"]) if row["bbox"] else None
                    fresh[layer.id] = Collection(
                        layer, "layer_data", row["table_name"], "fid", "feature_id", f"{layer.id}:{row['vid']}",
                        row["version"], row["feature_count"], bbox, row["updated_at"])  # type: ignore[arg-type]
            self._collections = fresh
            self._stamp = tuple((r["id"], r["vid"], r["updated_at"]) for r in rows) + (
                blocks["relfilenode"] if blocks else None,)
            self.loaded = True

    async def start(self) -> None:
        await self.refresh()
        try:
            self._listener = await self.pool.acquire()
            await self._listener.add_listener(CHANNEL, self._notified)
        except Exception:  # noqa: BLE001 - the poll still keeps us current
            log.exception("cannot LISTEN on %s; relying on polling", CHANNEL)
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(CHANNEL, self._notified)
            await self.pool.release(self._listener)
            self._listener = None

    def _notified(self, *_args: object) -> None:
        asyncio.get_running_loop().create_task(self.refresh())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                async with self.pool.acquire() as conn:
                    rows = await conn.fetch("SELECT id, current_version_id AS vid, updated_at FROM layers ORDER BY id")
                    node = await conn.fetchval(
                        "SELECT relfilenode FROM pg_class WHERE oid = to_regclass('public.blocks')")
                stamp = tuple((r["id"], r["vid"], r["updated_at"]) for r in rows) + (node,)
                if stamp != self._stamp:
                    await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("registry poll failed")
