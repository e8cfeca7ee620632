"""The obligation checker's scheduler (issue 11): one server process of a deployment runs
``cadastre.checker`` and then sends the mail that is due (``cadastre.outbox.deliver_due``).

Which process: the one holding a PostgreSQL session advisory lock (``pg_try_advisory_lock`` on a
connection of its own, kept open). The others try again every interval, so when the holder dies
(its session ends, the lock with it) another takes over on its next round.

When: the holder runs when the last finished run (``checker_runs``, shared by all processes and
kept across restarts) is older than ``checker_interval_seconds`` — at once after start-up or a
takeover when the schedule was missed (catch-up) — then every interval, and at once when
``obligations_changed`` is notified (a licence or an obligation changed, in any process).
A run that finds nothing is cheap; a finding is notified once whoever runs (the findings' unique
key), so a second checker (``geoservice obligations check``) at the same time is harmless."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from typing import Any

import psycopg
from fastapi.concurrency import run_in_threadpool

from cadastre import checker
from cadastre.outbox import Retry, SmtpSender, deliver_due
from geoservice.kernel import clock
from geoservice.kernel.db import Database, libpq_params, libpq_url
from geoservice.kernel.settings import Settings

log = logging.getLogger("geoservice.obligations")

CHANNEL = "obligations_changed"
# The lock's key: one checker per database (hashtextextended of the name, like the registry's).
LOCK_NAME = "obligation-checker"
# After a notice, wait this long for more: a licence change and its obligations make one run.
SETTLE_SECONDS = 0.3


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def check_and_deliver(db: Database, settings: Settings, *, trigger: str, day: dt.date | None = None,
                      process: str | None = None) -> dict[str, int]:
    """One recorded checker run for ``day`` (default: today in Kazakhstan), then the due mail
    through the configured SMTP server (none configured: the mail waits in the outbox)."""
    today = day or clock.today_in_kazakhstan()
    with db.connection() as conn:
        counts = checker.run(conn, today, trigger=trigger, process=process or process_name())
        sender = SmtpSender.from_settings(settings)
        if sender is not None:
            sent = deliver_due(conn, sender, clock.now(), retry=Retry.from_settings(settings))
            counts = {**counts, "mail_sent": sent["sent"], "mail_failed": sent["failed"]}
    return counts


class ObligationWatch:
    def __init__(self, db: Database, settings: Settings, *, url: str, interval: float | None = None,
                 settle: float = SETTLE_SECONDS) -> None:
        self.db, self.settings, self.url = db, settings, url
        self.interval = float(interval if interval is not None else settings.checker_interval_seconds)
        self.settle = settle
        self.process = process_name()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def holding(self) -> bool:
        return self._conn is not None and not self._conn.closed

    async def start(self) -> None:
        if self.interval <= 0:
            # Off in this process (e.g. the deployment runs `geoservice obligations check` itself).
            log.info("obligation checker: off (checker_interval_seconds = %s)", self.interval)
            return
        self._task = asyncio.create_task(self._run(), name="obligation-checker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._release()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing the session releases the lock
                await conn.close()

    async def _hold(self) -> bool:
        """True while this process holds the checker's lock (taking it when free)."""
        if self._conn is not None:
            try:
                await self._conn.execute("SELECT 1")  # the session (and so the lock) is still there
                return True
            except psycopg.Error:
                await self._release()
        conn = await psycopg.AsyncConnection.connect(libpq_url(self.url), autocommit=True,
                                                     **libpq_params(self.settings))
        try:
            row = await (await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))",
                                            (LOCK_NAME,))).fetchone()
            if not (row and row[0]):
                await conn.close()
                return False
            await conn.execute("LISTEN obligations_changed")  # CHANNEL
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        log.info("obligation checker: this process (%s) checks", self.process)
        return True

    def _due_in(self) -> float:
        """Seconds until the next scheduled run: none yet, or the last finished longer than an
        interval ago (downtime, a takeover), is now."""
        with self.db.connection() as conn:
            last = checker.last_finished(conn)
        if last is None:
            return 0.0
        return max(0.0, self.interval - (clock.now() - last).total_seconds())

    async def _wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notice; True when one came (and the burst has settled)."""
        assert self._conn is not None
        if seconds <= 0:
            return False
        got = False
        async for _ in self._conn.notifies(timeout=seconds, stop_after=1):
            got = True
        if got:  # drain the rest of the burst
            async for _ in self._conn.notifies(timeout=self.settle):
                pass
        return got

    async def _run(self) -> None:
        first = True
        while True:
            try:
                if not await self._hold():
                    first = True  # whoever takes over catches up first
                    await asyncio.sleep(self.interval)
                    continue
                notified = await self._wait(await run_in_threadpool(self._due_in))
                trigger = "notify" if notified else "start" if first else "interval"
                counts = await run_in_threadpool(check_and_deliver, self.db, self.settings, trigger=trigger,
                                                 process=self.process)
                first = False
                if any(counts.values()):
                    log.info("obligation checker (%s): %s", trigger, counts)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be away; the next round tries again
                log.warning("obligation checker: %s: %s", type(exc).__name__, exc)
                if self._conn is not None and self._conn.closed:
                    await self._release()
                await asyncio.sleep(self.interval)
