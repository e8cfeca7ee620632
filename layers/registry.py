"""What the service serves right now: for every layer, the table of its current version and a
version key that changes whenever its content does.

Switching versions NOTIFYs ``geoservice_layers`` (layers/store.py, layers/grid_build.py); every
server process listens and refreshes, so an upload made anywhere (HTTP, CLI, another worker) is
served at once and no cached tile or count of the old version is used again. When the listening
connection is lost (a database restart, a terminated backend, the network) it is opened again,
with backoff, and the registry refreshed once, since notifications sent meanwhile were lost. A
slow poll is the backstop for anything else."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass

import asyncpg

from geoservice.kernel.outage import is_outage
from layers.access import public_filter
from layers.catalog import LAYERS, Attribute, Layer

log = logging.getLogger("geoservice.registry")
CHANNEL = "geoservice_layers"
POLL_SECONDS = 5.0
LISTEN_RETRY_FIRST = 0.1   # seconds before the first attempt to listen again; doubled up to the max


@dataclass(frozen=True)
class Summary:
    """What a reader may learn about the features they may see: how many, where, when."""
    count: int | None
    bbox: tuple[float, float, float, float] | None
    interval: tuple[dt.date | None, dt.date | None] | None = None  # first and last day; None: no dates


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
    interval: tuple[dt.date | None, dt.date | None] | None = None  # over all features
    public: Summary | None = None          # over public features, for a layer with an access column
    not_null: frozenset[str] = frozenset()  # columns declared NOT NULL
    paged_by: frozenset[str] = frozenset()  # attributes with a btree index on (attribute, id_column)
    indexed: frozenset[str] = frozenset()   # attributes leading some btree index (what narrows a query)

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

    def visible(self, authorised: bool) -> Summary:
        """Count, extent and time span over what the reader may see: computed once per version,
        so that no summary tells an anonymous reader where or when non-public features are."""
        if self.access_column and not authorised:
            return self.public or Summary(0, None, None)
        return Summary(self.feature_count, self.bbox, self.interval)


class Registry:
    def __init__(self, pool: asyncpg.Pool, *, poll_seconds: float = POLL_SECONDS,
                 listen_retry_max: float = 2.0) -> None:
        self.pool = pool
        self.poll_seconds = poll_seconds
        self.listen_retry_max = listen_retry_max
        self._collections: dict[str, Collection] = {}
        self._listener: asyncpg.Connection | None = None
        self._relisten: asyncio.Task[None] | None = None
        self._stopping = False
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
                previous = self._collections.get(layer.id)
                if layer.id == "blocks":
                    if blocks is None:
                        continue
                    # Exact (numberMatched without filters): ~0.1 s, and only when the grid changes.
                    key = f"blocks:{blocks['relfilenode']}"
                    same = previous is not None and previous.version_key == key
                    count = previous.feature_count if same and previous else await conn.fetchval(
                        "SELECT count(*) FROM blocks")
                    extent = await conn.fetchrow(
                        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                        "(SELECT ST_EstimatedExtent('public', 'blocks', 'geom') AS b) e")
                    c = Collection(
                        layer, "public", "blocks", "id", "code", key, None, count,
                        tuple(extent) if extent and extent[0] is not None else None, row["updated_at"])
                elif row["vid"] is not None:
                    bbox = tuple(row["bbox"]) if row["bbox"] else None
                    c = Collection(
                        layer, "layer_data", row["table_name"], "fid", "feature_id", f"{layer.id}:{row['vid']}",
                        row["version"], row["feature_count"], bbox, row["updated_at"])  # type: ignore[arg-type]
                else:
                    continue
                if previous is not None and previous.version_key == c.version_key:
                    # Same content: the summaries and table facts still hold.
                    c = dataclasses.replace(c, interval=previous.interval, public=previous.public,
                                            not_null=previous.not_null, paged_by=previous.paged_by,
                                            indexed=previous.indexed)
                else:
                    c = await _described(conn, c)
                fresh[layer.id] = c
            self._collections = fresh
            self._stamp = tuple((r["id"], r["vid"], r["updated_at"]) for r in rows) + (
                blocks["relfilenode"] if blocks else None,)
            self.loaded = True

    async def start(self) -> None:
        await self.refresh()
        if not await self._listen():
            self._listen_again()
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._poller, self._relisten):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._drop_listener()

    async def _listen(self) -> bool:
        """LISTEN on a pool connection; False (logged) when that cannot be done now."""
        try:
            conn = await self.pool.acquire()
        except Exception as exc:  # noqa: BLE001 - retried with backoff; the poll keeps us current
            log.warning("cannot LISTEN on %s: %s: %s", CHANNEL, type(exc).__name__, exc)
            return False
        try:
            await conn.add_listener(CHANNEL, self._notified)
            conn.add_termination_listener(self._lost)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot LISTEN on %s: %s: %s", CHANNEL, type(exc).__name__, exc)
            with contextlib.suppress(Exception):
                await self.pool.release(conn)
            return False
        self._listener = conn
        return True

    async def _drop_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):  # a closed connection went back to the pool by itself
            conn.remove_termination_listener(self._lost)
            await conn.remove_listener(CHANNEL, self._notified)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    def _lost(self, _conn: object) -> None:
        # asyncpg calls this when the LISTEN connection closes: whatever was notified from now
        # on would be lost until we listen again.
        if not self._stopping:
            log.warning("lost the LISTEN connection on %s; listening again", CHANNEL)
            self._listen_again()

    def _listen_again(self) -> None:
        if not self._stopping and (self._relisten is None or self._relisten.done()):
            self._relisten = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        await self._drop_listener()
        delay = LISTEN_RETRY_FIRST
        while not await self._listen():
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.listen_retry_max)
        log.info("listening on %s again", CHANNEL)
        # Versions switched while nobody listened were notified to no one: look once.
        try:
            await self.refresh()
        except Exception as exc:  # noqa: BLE001 - the poll retries
            log.warning("registry refresh after listening again failed: %s: %s", type(exc).__name__, exc)

    def _notified(self, *_args: object) -> None:
        asyncio.get_running_loop().create_task(self.refresh())

    async def _poll(self) -> None:
        # The listener is checked every few seconds (a local check), the database every poll:
        # a termination callback that was missed must not leave us deaf for a whole poll.
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(self.poll_seconds, self.listen_retry_max))
            if not self.listening:
                self._listen_again()
            if time.monotonic() - last < self.poll_seconds:
                continue
            last = time.monotonic()
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
            except Exception as exc:  # noqa: BLE001
                if is_outage(exc):  # one line per poll while the database is away, not a traceback
                    log.warning("registry poll: database unavailable: %s: %s", type(exc).__name__, exc)
                else:
                    log.exception("registry poll failed")



async def _described(conn: asyncpg.Connection, c: Collection) -> Collection:
    """``c`` with its time span, its public summary and the facts of its table the item queries
    use (NOT NULL columns, (attribute, id) indexes). Run once per version."""
    facts = await conn.fetch(
        "SELECT a.attname, a.attnotnull, EXISTS ("
        "  SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
        "  JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = i.indkey[1]"
        "  WHERE i.indrelid = a.attrelid AND am.amname = 'btree' AND i.indpred IS NULL AND i.indnkeyatts >= 2"
        "    AND i.indkey[0] = a.attnum AND i.indcollation[0] = a.attcollation AND k.attname = $2) AS paged, "
        "  EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
        "    JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = a.attrelid AND am.amname = 'btree'"
        "    AND i.indpred IS NULL AND i.indkey[0] = a.attnum) AS leads "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
        c.table, c.id_column)
    names = {a.name for a in c.attributes}
    c = dataclasses.replace(c, not_null=frozenset(r["attname"] for r in facts if r["attnotnull"]),
                            paged_by=frozenset(r["attname"] for r in facts if r["paged"] and r["attname"] in names),
                            indexed=frozenset(r["attname"] for r in facts if r["leads"] and r["attname"] in names))
    temporal = c.layer.temporal
    if not temporal and not c.access_column:
        return c
    first, last = (f'"{n}"' for n in temporal) if temporal else ("NULL::date", "NULL::date")
    public = public_filter(c.access_column, authorised=False) or "FALSE"
    # Each feature's known days: [first, last], either standing for the other where NULL.
    row = await conn.fetchrow(
        f"SELECT t0, t1, pn, ST_XMin(pe), ST_YMin(pe), ST_XMax(pe), ST_YMax(pe), pt0, pt1 FROM ("  # noqa: S608 - catalog names
        f"SELECT min(coalesce({first}, {last})) AS t0, max(coalesce({last}, {first})) AS t1, "
        f"count(*) FILTER (WHERE {public}) AS pn, ST_Extent(geom) FILTER (WHERE {public}) AS pe, "
        f"min(coalesce({first}, {last})) FILTER (WHERE {public}) AS pt0, "
        f"max(coalesce({last}, {first})) FILTER (WHERE {public}) AS pt1 FROM {c.table}) s")
    assert row is not None

    def interval(start: object, end: object) -> tuple[dt.date | None, dt.date | None] | None:
        if not temporal:
            return None
        if isinstance(start, int) or isinstance(end, int):  # years: from 1 January to 31 December
            return (dt.date(start, 1, 1) if isinstance(start, int) and 1 <= start <= 9999 else None,
                    dt.date(end, 12, 31) if isinstance(end, int) and 1 <= end <= 9999 else None)
        return start, end  # type: ignore[return-value]

    c = dataclasses.replace(c, interval=interval(row["t0"], row["t1"]))
    if c.access_column:
        pbox = tuple(row[i] for i in range(3, 7)) if row[3] is not None else None
        c = dataclasses.replace(c, public=Summary(row["pn"], pbox, interval(row["pt0"], row["pt1"])))  # type: ignore[arg-type]
    return c
