"""The platform journal: one row per operation, numbered without gaps and chained by SHA-256.

Rows are written by ``journal()`` (re-exported as ``layers.store.journal``) in the caller's
transaction, into ``journal_intake``: a plain insert, no lock, so writers never wait for each
other. After they commit, ``gs_journal_seal()`` (migration 0008) moves them into ``journal``,
numbered and chained in batches: every server process runs a ``Sealer`` in the background, and
``seal()`` is what readers that must see everything call first (``verify_chain``,
``read_journal``, ``iter_journal``, the CLI after a command that journaled). A row's number is
therefore unknown in the writer's transaction; ``seq`` is the order of sealing (the order of
record), ``at`` the time of the event.

``verify_chain`` recomputes the chain here, in Python, from the rows as stored, independently
of the database's SQL; ``canonical`` is the row's canonical form (defined in migration 0008 and
the README), so that anyone can recompute it from an export."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from geoservice.kernel.i18n import translate

log = logging.getLogger("geoservice.journal")

GENESIS = bytes(32)  # the prev_hash of the first row
# Rows fetched per round trip by the streaming readers.
BATCH = 5000
# Rows sealed per call of gs_journal_seal (one transaction, one head update).
SEAL_BATCH = 10000
# How often a server's sealer looks for work: a committed row is in the chain within about this.
SEAL_SECONDS = 0.2
# A reader's seal() stops after this many full batches (writers faster than sealing: read anyway).
SEAL_ROUNDS = 100
COLUMNS = ("seq", "at", "actor", "action", "result", "object", "layer_id", "version", "client", "detail",
           "prev_hash", "hash")
# detail as PostgreSQL's text of the jsonb: what the chain covers (see canonical()).
_SELECT = ("SELECT seq, at, actor, action, result, object, layer_id, version, client, detail::text, prev_hash, hash "
           "FROM journal")
# Rows this process has written: the CLI seals before it exits when there are any.
_written: Counter[str] = Counter()


def journal(conn: psycopg.Connection, actor: str, action: str, result: str, *, layer_id: str | None = None,
            version: int | None = None, detail: dict[str, Any] | None = None, client: str | None = None,
            object: str | None = None) -> None:
    """One journal row, in the caller's transaction (into the intake: it is numbered and chained
    after the commit, and a rollback leaves nothing). ``client``: where the attempt came from
    (the caller's address over HTTP, ``cli`` from the command line). ``object``: what was acted
    on (``layer:blocks``, ``account:42``, ``document:7``…); a layer's is filled in when not
    given. The time, the number and the hashes are the database's."""
    if object is None and layer_id is not None:
        object = f"layer:{layer_id}"
    conn.execute(
        "INSERT INTO journal_intake (actor, action, layer_id, version, result, detail, client, object) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (actor, action, layer_id, version, result, Jsonb(detail or {}), client, object))
    _written["rows"] += 1


def written() -> int:
    """Journal rows this process has written (committed or not)."""
    return _written["rows"]


# --- sealing ----------------------------------------------------------------------------------

def seal(conn: psycopg.Connection, batch: int = SEAL_BATCH) -> int:
    """Seal the committed intake into the chain, batch after batch until a batch is not full (or
    ``SEAL_ROUNDS`` of them); returns the rows sealed. Each batch is its own transaction on an
    idle connection; inside the caller's transaction the head stays locked until it ends (other
    sealers wait, writers do not)."""
    total = 0
    for _ in range(SEAL_ROUNDS):
        with conn.transaction():
            row = conn.execute("SELECT gs_journal_seal(%s)", (batch,)).fetchone()
        done = int(row[0]) if row else 0
        total += done
        if done < batch:
            break
    return total


def _idle(conn: psycopg.Connection) -> bool:
    return conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


class Sealer:
    """A server process's background sealing: every ``interval`` seconds a call of
    ``gs_journal_seal`` on a connection of the pool (when the intake is empty that is one cheap
    query, no lock), again at once while batches come full. Several processes may each run one:
    they queue for the head's lock, one batch at a time, and never seal a row twice."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float = SEAL_SECONDS, batch: int = SEAL_BATCH) -> None:
        self.pool = pool
        self.interval = interval
        self.batch = batch
        self.sealed = 0  # rows this sealer moved into the chain
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="journal-sealer")

    async def stop(self) -> None:
        """Stop, after one last batch for what this process wrote just before (best effort: the
        other processes, or the next reader, seal what is left)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.seal_once(), timeout=2)

    async def seal_once(self) -> int:
        async with self.pool.acquire(timeout=5) as conn:
            done = int(await conn.fetchval("SELECT gs_journal_seal($1)", self.batch))
        self.sealed += done
        return done

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                done = await self.seal_once()
            except Exception as exc:  # noqa: BLE001 - the database may be away; the rows wait in the intake
                if not failing:
                    log.warning("cannot seal the journal (%s); retrying every %.0f s", exc, 5 * self.interval)
                failing = True
                await asyncio.sleep(5 * self.interval)
                continue
            if failing:
                log.info("sealing the journal again")
                failing = False
            if done < self.batch:
                await asyncio.sleep(self.interval)


# --- the canonical form -----------------------------------------------------------------------

def _text(value: str | None) -> str:
    # Python's escaping with ensure_ascii=False is PostgreSQL's to_json escaping: \" \\ \b \f \n
    # \r \t, other controls as \u00xx (lower-case hex), everything else as it is.
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def stamp(at: dt.datetime) -> str:
    """``at`` as the chain writes it: UTC, always six digits of microseconds."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, at: dt.datetime, actor: str, action: str, result: str, object: str | None,
              layer_id: str | None, version: int | None, client: str | None, detail_text: str) -> bytes:
    """The bytes a row's hash covers (after the previous hash): the UTF-8 of the JSON array
    ``[seq, at, actor, action, result, object, layer_id, version, client, detail]`` with no
    spaces between elements; ``detail_text`` is PostgreSQL's ``detail::text`` (not a
    re-serialisation of the parsed value: jsonb keeps ``1.50`` as written and orders keys by
    length, then bytewise)."""
    parts = [str(int(seq)), _text(stamp(at)), _text(actor), _text(action), _text(result), _text(object),
             _text(layer_id), "null" if version is None else str(int(version)), _text(client), detail_text]
    return ("[" + ",".join(parts) + "]").encode("utf-8")


def row_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


# --- verification -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    """``rows``: rows checked (up to and including the first broken one). ``reason``: a message
    code (layers/messages.py) with ``params``; ``journal.intact`` when nothing is broken.
    ``pending``: committed intake rows not yet sealed (outside the chain, so not checked; never
    a break)."""
    rows: int
    first_broken_seq: int | None
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    pending: int = 0

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None

    def text(self, lang: str = "en") -> str:
        return translate(self.reason, lang, **self.params)


def verify_chain(conn: psycopg.Connection) -> ChainReport:
    """Seal what is committed (on an idle connection), then recompute the whole chain,
    streaming (a server-side cursor, ``BATCH`` rows at a time), in one snapshot with the head,
    and name the first broken number: a changed row (its hash), a deleted one (a missing number,
    or the next row's prev_hash), a row added without sealing (beyond the head, or not
    linking). Intake rows committed meanwhile are counted in ``pending``."""
    fresh = _idle(conn)
    if fresh:
        seal(conn)
    with conn.transaction():
        if fresh:  # one snapshot for the head, every row and the intake
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        head = conn.execute("SELECT seq, hash, gapless_from FROM journal_head").fetchone()
        if head is None:
            return ChainReport(0, 0, "journal.no_head")
        waiting = conn.execute("SELECT count(*) FROM journal_intake").fetchone()
        pending = int(waiting[0]) if waiting else 0
        head_seq, head_hash, gapless_from = int(head[0]), bytes(head[1]), int(head[2])
        rows, prev_seq, prev_hash = 0, 0, GENESIS
        with conn.cursor(name="journal_verify") as cur:
            cur.itersize = BATCH
            cur.execute(_SELECT + " ORDER BY seq")
            for seq, at, actor, action, result, obj, layer_id, version, client, detail, stored_prev, stored in cur:
                rows += 1
                stored_prev, stored = bytes(stored_prev), bytes(stored)
                if seq != prev_seq + 1:
                    # Old rows keep the gaps of their rolled-back inserts; a deleted row shows in
                    # the link, and from gapless_from on every missing number is a deletion.
                    if stored_prev != prev_hash or seq - 1 >= gapless_from:
                        first = prev_seq + 1 if stored_prev != prev_hash else max(prev_seq + 1, gapless_from)
                        return ChainReport(rows, first, "journal.missing_rows",
                                           {"first": first, "last": seq - 1, "seq": seq, "previous": prev_seq},
                                           pending)
                elif stored_prev != prev_hash:
                    return ChainReport(rows, seq, "journal.link_broken", {"seq": seq, "previous": prev_seq}, pending)
                if row_hash(stored_prev, canonical(seq, at, actor, action, result, obj, layer_id, version, client,
                                                   detail)) != stored:
                    return ChainReport(rows, seq, "journal.row_changed", {"seq": seq}, pending)
                prev_seq, prev_hash = seq, stored
    if prev_seq > head_seq:
        return ChainReport(rows, head_seq + 1, "journal.beyond_head", {"seq": head_seq + 1, "head": head_seq},
                           pending)
    if prev_seq < head_seq:
        return ChainReport(rows, prev_seq + 1, "journal.tail_missing",
                           {"first": prev_seq + 1, "last": head_seq, "head": head_seq}, pending)
    if prev_hash != head_hash:
        return ChainReport(rows, prev_seq, "journal.head_mismatch", {"seq": prev_seq}, pending)
    return ChainReport(rows, None, "journal.intact", {"rows": rows, "last": prev_seq}, pending)


# --- reading, for the auditor -----------------------------------------------------------------

@dataclass(frozen=True)
class JournalFilter:
    """What the auditor asks for: exact ``actor``, ``object``, ``action``, ``result``, and the
    rows whose time is within [``since``, ``until``] (both ends included, either open)."""
    actor: str | None = None
    object: str | None = None
    action: str | None = None
    result: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class JournalRow:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    result: str
    object: str | None
    layer_id: str | None
    version: int | None
    client: str | None
    detail: str  # PostgreSQL's detail::text, as the chain covers it
    prev_hash: bytes
    hash: bytes

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": stamp(self.at), "actor": self.actor, "action": self.action,
                "result": self.result, "object": self.object, "layer_id": self.layer_id, "version": self.version,
                "client": self.client, "detail": json.loads(self.detail),
                "prev_hash": self.prev_hash.hex(), "hash": self.hash.hex()}

    def as_csv(self) -> list[str]:
        """The CSV cells (the header is ``COLUMNS``): ``detail`` as the chain's text, hashes in hex."""
        return [str(self.seq), stamp(self.at), self.actor, self.action, self.result, self.object or "",
                self.layer_id or "", "" if self.version is None else str(self.version), self.client or "",
                self.detail, self.prev_hash.hex(), self.hash.hex()]


@dataclass(frozen=True)
class JournalPage:
    rows: list[JournalRow]
    next_after: int | None  # the cursor of the next page; None on the last page


def _query(filters: JournalFilter, after_seq: int, limit: int | None) -> tuple[sql.Composed, list[Any]]:
    conditions, params = [sql.SQL("seq > %s")], [after_seq]
    for column in ("actor", "object", "action", "result"):
        value = getattr(filters, column)
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if filters.since is not None:
        conditions.append(sql.SQL("at >= %s"))
        params.append(filters.since)
    if filters.until is not None:
        conditions.append(sql.SQL("at <= %s"))
        params.append(filters.until)
    query = sql.SQL(_SELECT + " WHERE {} ORDER BY seq").format(sql.SQL(" AND ").join(conditions))
    if limit is not None:
        query = sql.SQL("{} LIMIT %s").format(query)
        params.append(limit)
    return query, params


def _row(values: tuple[Any, ...]) -> JournalRow:
    *head, prev_hash, hash_ = values
    return JournalRow(*head, bytes(prev_hash), bytes(hash_))


def read_journal(conn: psycopg.Connection, filters: JournalFilter, after_seq: int = 0, limit: int = 100) -> JournalPage:
    """One page: the rows after number ``after_seq`` that pass ``filters``, at most ``limit``, in
    number order (keyset paging: a page never shifts when rows are added meanwhile). On an idle
    connection what is committed is sealed first, so the page holds every row written before."""
    if _idle(conn):
        seal(conn)
    query, params = _query(filters, after_seq, limit + 1)
    found = [_row(r) for r in conn.execute(query, params).fetchall()]
    more = len(found) > limit
    rows = found[:limit]
    return JournalPage(rows, rows[-1].seq if more else None)


def iter_journal(conn: psycopg.Connection, filters: JournalFilter, after_seq: int = 0,
                 limit: int | None = None) -> Iterator[JournalRow]:
    """The same rows as ``read_journal``, streamed through a server-side cursor (``BATCH`` at a
    time) for exports of any size; ``limit`` None: all of them. Seals first, as ``read_journal``
    (in a transaction of its own: the export's may last long, the head's lock must not)."""
    if _idle(conn):
        seal(conn)
    query, params = _query(filters, after_seq, limit)
    with conn.transaction(), conn.cursor(name="journal_export") as cur:
        cur.itersize = BATCH
        cur.execute(query, params)
        for values in cur:
            yield _row(values)
