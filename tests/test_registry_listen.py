"""The registry's LISTEN connection comes back after it is lost, and the registry then looks
once for what was switched while nobody listened (the outage test restarts a whole cluster;
this one kills only our own listening backend, on the shared test database)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg

from importers.pipeline import UploadRequest, run_upload
from layers.registry import Registry
from tests.helpers import write_json, zones

LAYER = "restriction-zones"


class GatedRegistry(Registry):
    """Listening again waits for the test's go: the upload below happens while nobody listens,
    for certain, not by a race."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, poll_seconds=3600, listen_retry_max=0.2)  # no poll to the rescue
        self.gate = asyncio.Event()
        self.gate.set()

    async def _listen(self) -> bool:
        await self.gate.wait()
        return await super()._listen()


async def _until(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    # Polled until it holds: the poll is an hour away (poll_seconds), so a generous deadline for a
    # loaded machine still proves that only the NOTIFY (or the listener's return) did it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return bool(condition())


def test_a_lost_listener_comes_back_and_catches_up(database_url: str, tmp_path: Path) -> None:
    def upload(n: int, prefix: str) -> int:
        result = run_upload(UploadRequest(LAYER, write_json(tmp_path / f"{prefix}.geojson", zones(n, prefix=prefix)),
                                          f"{prefix}.geojson"), database_url)
        return int(result["version"])

    def version(registry: Registry) -> int | None:
        collection = registry.get(LAYER)
        return collection.version if collection else None

    async def run() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
        registry = GatedRegistry(pool)
        try:
            await registry.start()
            assert registry.listening
            first = await asyncio.to_thread(upload, 2, "A")
            assert await _until(lambda: version(registry) == first, 20.0), "NOTIFY not heard"

            registry.gate.clear()
            assert registry._listener is not None
            pid = registry._listener.get_server_pid()
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
            assert await _until(lambda: not registry.listening, 20.0)

            missed = await asyncio.to_thread(upload, 3, "B")
            await asyncio.sleep(0.5)
            assert version(registry) == first  # its NOTIFY went to nobody

            registry.gate.set()
            assert await _until(lambda: registry.listening and version(registry) == missed, 20.0), \
                (registry.listening, version(registry), missed)

            # And it listens again: the next switch arrives by NOTIFY.
            later = await asyncio.to_thread(upload, 4, "C")
            assert await _until(lambda: version(registry) == later, 20.0)
        finally:
            await registry.stop()
            await pool.close()

    asyncio.run(run())
