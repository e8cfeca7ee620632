"""A server process's publisher of the applied-for blocks (cadastre/applied.py): it listens for
``claims_changed`` (a filing, an approval or a refusal committed, in any process) and publishes the
pending claims as the next version of the map's ``applied-blocks`` layer, a burst of changes
making one version. It also looks every ``poll`` seconds (and once at start), so a notice lost
while the LISTEN connection was down, or a change made while no server ran, reaches the map all
the same; when nothing changed nothing is written (the version's digest says so)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from fastapi.concurrency import run_in_threadpool

from cadastre.applied import CHANNEL, publish_if_changed
from geoservice.kernel.db import Database

log = logging.getLogger("geoservice.applied")

POLL_SECONDS = 2.0
# After a notice, wait this long for more: 200 filings at once become a handful of versions.
SETTLE_SECONDS = 0.2


class AppliedWatch:
    # What a subclass changes to publish another layer the same way (geoservice/lots_watch.py).
    channel = CHANNEL
    label = "applied-blocks"

    def __init__(self, db: Database, pool: asyncpg.Pool, *, datum: str, poll: float = POLL_SECONDS,
                 settle: float = SETTLE_SECONDS) -> None:
        self.db, self.pool, self.datum, self.poll, self.settle = db, pool, datum, poll, settle
        self._wake = asyncio.Event()
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._task: asyncio.Task[None] | None = None

    def once(self) -> bool:
        """Publish if the pending claims changed; True when a version was made."""
        with self.db.connection() as conn:
            return publish_if_changed(conn, datum=self.datum) is not None

    async def start(self) -> None:
        self._wake.set()  # the first round looks at once
        self._task = asyncio.create_task(self._run(), name=self.label)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._unlisten()

    def _notified(self, *_: object) -> None:
        self._wake.set()

    def _listening(self) -> bool:
        try:
            return self._listener is not None and not self._listener.is_closed()
        except asyncpg.InterfaceError:  # the pool took the connection back (its session ended)
            return False

    async def _listen(self) -> None:
        if self._listening():
            return
        await self._unlisten()
        try:
            conn = await self.pool.acquire()
        except Exception as exc:  # noqa: BLE001 - the poll keeps the map current meanwhile
            log.warning("cannot LISTEN on %s: %s: %s", self.channel, type(exc).__name__, exc)
            return
        try:
            await conn.add_listener(self.channel, self._notified)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot LISTEN on %s: %s: %s", self.channel, type(exc).__name__, exc)
            with contextlib.suppress(Exception):
                await self.pool.release(conn)
            return
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):  # a closed connection went back to the pool by itself
            await conn.remove_listener(self.channel, self._notified)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def _run(self) -> None:
        while True:
            await self._listen()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll)
            await asyncio.sleep(self.settle)
            self._wake.clear()  # what arrives from here on is looked at in the next round
            try:
                await run_in_threadpool(self.once)
            except Exception as exc:  # noqa: BLE001 - the database may be away; the next round tries again
                log.warning("cannot publish %s (%s)", self.label, exc)
