"""In-memory LRU of finished tiles, bounded by bytes, with concurrent misses of one tile
coalesced into one query.

A key names everything a tile's bytes depend on: the tileset, the version key of every layer in
it (so a new upload or grid makes new keys and old entries are never found again; they age out
of the LRU), whether the reader may see non-public features, the tile matrix set and the tile
address. Nothing needs to be purged for correctness."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable

DEFAULT_BUDGET = 256 * 1024 * 1024
ENTRY_OVERHEAD = 256       # bytes of bookkeeping per entry, so that empty tiles count too
GZIP_LEVEL = 3             # MVT packs ~3-4x; level 6 is 5 % smaller and twice as slow
THREAD_ABOVE = 64 * 1024   # tiles this big are gzipped on a worker thread

Key = tuple[str, tuple[str, ...], bool, str, int, int, int]  # tileset, versions, authorised, tms, z, y, x


class Tile:
    """A finished tile: the MVT, and its gzip once a client that accepts gzip has asked (made on
    demand, so a client that wants it raw never waits for compression)."""

    __slots__ = ("raw", "etag", "etag_gzip", "gzip")

    def __init__(self, raw: bytes, tag: str) -> None:
        self.raw = raw
        self.etag = f'"{tag}"'.encode()          # strong validator of the raw bytes (as sent)
        self.etag_gzip = f'"{tag}-gz"'.encode()  # and of the gzip ones
        self.gzip: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.raw) + len(self.gzip or b"") + ENTRY_OVERHEAD


def etag_for(key: Key) -> str:
    """The ETag of a key's tile: a digest of the key, so it changes exactly when the key does."""
    return hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()


def gzip_bytes(data: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip framing, mtime 0
    return compressor.compress(data) + compressor.flush()


class TileCache:
    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, Tile] = OrderedDict()
        self._pending: dict[Key, asyncio.Future[Tile]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Tile | None:
        tile = self._entries.get(key)
        if tile is not None:
            self._entries.move_to_end(key)
        return tile

    def put(self, key: Key, tile: Tile) -> None:
        if tile.size > self.budget // 4:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self._entries[key] = tile
        self.bytes += tile.size
        self._shrink()

    def _shrink(self) -> None:
        while self.bytes > self.budget and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    async def get_or_build(self, key: Key, build: Callable[[], Awaitable[bytes]]) -> Tile:
        """The cached tile, or build it once however many requests ask for it meanwhile. The
        first requester builds it in its own task (a Task per miss would cost ~25 µs of the
        miss, with CPU caches cold from the wait for PostgreSQL); the others wait for its result.
        Should the builder be cancelled, a waiter that was not builds it instead."""
        tile = self._entries.get(key)
        if tile is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return tile
        while (pending := self._pending.get(key)) is not None:
            self.hits += 1
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise                  # this request was cancelled, not the builder
                self.hits -= 1             # the builder was: try again, perhaps as the builder
        self.misses += 1
        pending = self._pending[key] = asyncio.get_running_loop().create_future()
        try:
            tile = Tile(await build(), etag_for(key))
        except BaseException as exc:
            del self._pending[key]
            if isinstance(exc, asyncio.CancelledError):
                pending.cancel()
            else:
                pending.set_exception(exc)
                pending.exception()        # retrieved: waiters, if any, get it through shield
            raise
        del self._pending[key]
        self.put(key, tile)
        pending.set_result(tile)
        return tile

    async def gzipped(self, key: Key, tile: Tile) -> bytes:
        """The tile's gzip, made the first time it is asked for and kept with the tile."""
        if tile.gzip is None:
            # zlib releases the GIL: big tiles are packed off the event loop, which keeps serving.
            packed = gzip_bytes(tile.raw) if len(tile.raw) < THREAD_ABOVE else \
                await asyncio.to_thread(gzip_bytes, tile.raw)
            if tile.gzip is None:
                tile.gzip = packed
                if self._entries.get(key) is tile:
                    self.bytes += len(packed)
                    self._shrink()
        return tile.gzip
