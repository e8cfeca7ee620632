"""The auction hall's transport (issue 10, auctions.md): signed bids by POST and over the
WebSocket ``/api/auctions/{id}/live``, the state and the journal's events fanned out to every
client, and the per-process ticker that opens and closes auctions on time.

* **One hub per process** (``LiveHub``, started in the app's lifespan): one LISTEN connection on
  ``auction_events``, a wake-up only. Each auction with clients here has a ``Room`` that reads the
  journal after the last seq it has seen, on each wake-up or every ``POLL_SECONDS`` anyway (a
  missed NOTIFY costs at most that), and queues ONE frame per wake-up to its clients: the state
  with the new events in it (``"events"``), encoded once for the room (only ``you`` is appended
  per client). A burst of events (the opening's logins, fast bids) is one send per client, not
  two per event. ``participant.login``/``logout`` are journaled and replayed on catch-up, but
  left out of the live ``events`` (nobody in the hall shows them; the state's ``seq`` still
  counts them).
* **Clients never skip an event.** A client's writer knows the last seq it sent; the room's frame
  goes as is only to a client that is exactly where the frame starts (a writer that fell behind
  sends the room frames waiting for it as one). Any other client (behind: a reconnect with
  ``?since=SEQ``, a late join; or partly ahead) reads its gap from the journal, sent as ``event``
  frames in order, then gets the state (with ``"events":[]``), so a slow hub, a missed NOTIFY or a
  late join cost latency, never an event, and none comes twice.
* **What a bad client can break is its own connection**: an oversize frame closes it with 1009, a
  flood (token bucket per participant, or per account for watchers) with 1008, a client too slow
  to take its frames with 1013; malformed JSON gets an error frame.
* **Acknowledged means committed**: ``cadastre.bidding.place_bid`` commits before it returns.
* **The ticker** runs ``open_due`` (engineer A's ``cadastre.auctions``; imported if present) and
  ``cadastre.bidding.close_due`` every ``TICK_SECONDS``; several processes may run it at once (each
  auction is re-read under its row lock)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import psycopg
from fastapi import APIRouter, Body, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cadastre import auction_journal, auction_protocol, bidding
from cadastre.auctions import open_due
from cadastre.registers import TableRegisters
from geoservice.api.base64_field import decode_base64
from geoservice.deps import DatabaseDep, admits
from geoservice.kernel import clock
from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Issue, Problem
from geoservice.kernel.i18n import negotiate, translate
from geoservice.kernel.outage import is_outage
from geoservice.kernel.settings import Settings
from geoservice.trust import trust_cache
from layers.access import SESSION_COOKIE, SESSION_PREFIX, Person, foreign_origin

log = logging.getLogger("geoservice.auctions")
router = APIRouter(prefix="/api", tags=["auctions"])
SIGNED_IN = admits("applicant")

POLL_SECONDS = 1.0        # a room re-reads the journal at least this often (a NOTIFY can be missed)
TICK_SECONDS = 0.5        # open_due / close_due
RELISTEN_SECONDS = 1.0
QUEUE_FRAMES = 2000       # a client this many frames behind is too slow: closed (1013)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_BIG, CLOSE_POLICY, CLOSE_TRY_AGAIN = 1009, 1008, 1013

STATE_SQL = ("SELECT id, number, status, current_bonus, starting_bonus, step, leader, ends_at, last_seq, "
             "clock_timestamp() AS now FROM auctions WHERE id = $1")
EVENTS_SQL = ("SELECT auction_id, seq, at, kind, participant, amount, detail, prev_hash, hash FROM auction_events "
              "WHERE auction_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq")


# --- the bid answer, over HTTP ----------------------------------------------------------------------

class BidRejected(Problem):
    """422 problem+json of a rejected bid, with its reasons (code + message) and its journal seq."""

    def __init__(self, answer: bidding.BidAnswer) -> None:
        super().__init__("bidding.rejected", 422,
                         issues=[Issue(r["code"], dict(r.get("params") or {})) for r in answer.reasons])
        self.answer = answer

    def render(self, lang: str) -> dict[str, Any]:
        body = super().render(lang)
        body.update(reasons=self.answer.rendered_reasons(lang), idempotency_key=self.answer.idempotency_key,
                    seq=self.answer.seq, replay=self.answer.replay)
        return body


def _signature(value: Any) -> bytes:
    return decode_base64(value, "bidding.bad_signature")


def _place(request_state: Any, db: Database, auction_id: int, body: Any, who: Person) -> bidding.BidAnswer:
    """One bid in a pooled connection (a worker thread): decided, stored, journaled, committed."""
    if not isinstance(body, dict) or set(body) != {"bid", "signature"}:
        raise Problem("bidding.malformed", 422, expected="bid, signature")
    signature = _signature(body["signature"])
    with db.connection() as conn:
        try:
            trust, revocation = request_state.get(conn)
            conn.commit()
            return bidding.place_bid(conn, auction_id, body["bid"], signature, who, trust=trust,
                                     revocation=revocation, registers=TableRegisters(conn), now=clock.now())
        except BaseException:
            conn.rollback()
            raise


class _TrustOf:
    """The app's trust cache without the request (trust_cache wants something with ``.app``)."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder

    def get(self, conn: psycopg.Connection) -> Any:
        return trust_cache(self.holder).get(conn)


@router.post("/auctions/{auction_id}/bids", status_code=201,
             summary="A signed bid: a detached CMS over the RFC 8785 JSON of `bid` (auction, amount, "
                     "idempotency_key); 201 once committed, 422 with the reasons when rejected")
async def post_bid(auction_id: int, request: Request, db: DatabaseDep, body: Any = Body(...),
                   who: Person = SIGNED_IN) -> Any:
    answer = await run_in_threadpool(_place, _TrustOf(request), db, auction_id, body, who)
    if not answer.accepted:
        raise BidRejected(answer)
    return JSONResponse({"accepted": True, "idempotency_key": answer.idempotency_key, "seq": answer.seq,
                         "amount": answer.amount, "participant": answer.participant, "replay": answer.replay},
                        status_code=201)


# --- the hub ------------------------------------------------------------------------------------------

def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event(row: asyncpg.Record) -> auction_journal.Event:
    detail = row["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    return auction_journal.Event(int(row["auction_id"]), int(row["seq"]), row["at"], row["kind"], row["participant"],
                                 row["amount"], detail or {}, bytes(row["prev_hash"]), bytes(row["hash"]))


def _money(value: Decimal | None) -> str | None:
    return auction_journal.money(value)


def state_frame(row: asyncpg.Record) -> dict[str, Any]:
    """The hall's state (auctions.md), without ``you`` (added per client)."""
    return {"type": "state", "auction": int(row["id"]), "number": row["number"], "status": row["status"],
            "current_bonus": _money(row["current_bonus"]), "starting_bonus": _money(row["starting_bonus"]),
            "step": _money(row["step"]), "leader": row["leader"], "ends_at": auction_journal.stamp(row["ends_at"]),
            "now": auction_journal.stamp(row["now"]), "seq": int(row["last_seq"])}


def with_you(state_text: str, you: int | None) -> str:
    """The shared state frame with the client's own participant number appended."""
    return state_text[:-1] + f',"you":{"null" if you is None else you}}}'


PRESENCE = frozenset({"participant.login", "participant.logout"})


def shown(events: list[auction_journal.Event]) -> str:
    """The events of a state frame (``Event.public()``, presence left out), comma-joined."""
    return ",".join(_json(e.public()) for e in events if e.kind not in PRESENCE)


def with_events(state_text: str, events_text: str) -> str:
    """The state frame with the given events (``shown``) appended."""
    return f'{state_text[:-1]},"events":[{events_text}]}}'


@dataclass(frozen=True, slots=True)
class Frame:
    """A queued frame. ``state``: the room's state at journal ``seq`` whose ``shared`` text carries
    the events after ``first - 1`` (``events``, comma-joined; sent as is to a client exactly
    there), and ``bare`` the same state with ``"events":[]`` (after a catch-up from the journal).
    ``direct``: ``shared`` as is. ``close``: the close code in ``seq``."""
    kind: str
    seq: int = 0
    first: int = 0
    shared: str = ""
    bare: str = ""
    events: str = ""

    @classmethod
    def state(cls, state_text: str, first: int, seq: int, events: list[auction_journal.Event]) -> Frame:
        text = shown(events)
        return cls("state", seq, first, with_events(state_text, text), with_events(state_text, ""), text)


class Bucket:
    """A token bucket: ``rate`` frames a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(eq=False)
class Client:
    websocket: WebSocket
    room: Room
    you: int | None
    lang: str
    seq: int = 0
    queue: asyncio.Queue[Frame] = field(default_factory=lambda: asyncio.Queue(QUEUE_FRAMES))
    closing: int | None = None

    def put(self, frame: Frame) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CLOSE_TRY_AGAIN)

    def direct(self, text: str) -> None:
        self.put(Frame("direct", shared=text))

    def close(self, code: int) -> None:
        """Close this connection (only this one) from any task: the writer does it."""
        if self.closing is None:
            self.closing = code
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(Frame("close", code))

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def write(self) -> None:
        """Send queued frames in order. State frames already waiting go as one (a writer that
        fell behind catches up in one send, not one per wake-up it missed)."""
        held: Frame | None = None
        while True:
            frame = held if held is not None else await self.queue.get()
            held = None
            if frame.kind == "close":
                with contextlib.suppress(Exception):
                    await self.websocket.close(frame.seq)
                return
            if frame.kind == "direct":
                await self.send(frame.shared)
                continue
            states = [frame]
            while True:
                try:
                    following = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if following.kind != "state":
                    held = following
                    break
                states.append(following)
            await self.send_states(states)

    async def send_states(self, states: list[Frame]) -> None:
        """One state frame for these: their events joined when they follow on from what this
        client has; otherwise the gap from the journal (``event`` frames), then the bare state."""
        chain: list[Frame] = []
        for frame in states:
            if chain and frame.seq < chain[-1].seq:
                continue  # older than one before it (a room behind a client's first state)
            if frame.seq < self.seq or (frame.seq == self.seq and frame.first <= frame.seq):
                continue  # nothing this client lacks (it joined or caught up later)
            chain.append(frame)
        if not chain:
            return
        last = chain[-1]
        follows = chain[0].first - 1 == self.seq and all(
            b.first - 1 == a.seq for a, b in zip(chain[:-1], chain[1:], strict=True))
        if follows and len(chain) == 1:
            await self.send(with_you(last.shared, self.you))
        elif follows:
            await self.send(with_you(with_events(last.bare[:-len(',"events":[]}')] + "}",
                                                 ",".join(f.events for f in chain if f.events)), self.you))
        else:
            if self.seq < last.seq:
                for event in await self.room.hub.read_events(self.room.auction_id, self.seq, last.seq):
                    await self.send(_json({"type": "event", **event.public()}))
                    self.seq = event.seq
            await self.send(with_you(last.bare, self.you))
        self.seq = last.seq


class Room:
    """The clients of one auction in this process and the journal position they have been sent."""

    def __init__(self, hub: LiveHub, auction_id: int, seq: int) -> None:
        self.hub, self.auction_id, self.seq = hub, auction_id, seq
        self.clients: set[Client] = set()
        self.wake = asyncio.Event()
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)
            self.wake.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: try again on the next tick
                log.warning("auction %s: cannot read the journal", self.auction_id, exc_info=True)

    async def catch_up(self) -> None:
        state = await self.hub.state(self.auction_id)
        if state is None or int(state["last_seq"]) <= self.seq:
            return
        head = int(state["last_seq"])
        events = await self.hub.read_events(self.auction_id, self.seq, head)
        # Encoded once for every client of the room: one frame per wake-up, however many events.
        frame = Frame.state(_json(state_frame(state)), self.seq + 1, head, events)
        self.seq = head
        for client in list(self.clients):
            client.put(frame)


class LiveHub:
    """Per process: the LISTEN wake-ups, the rooms, the ticker."""

    def __init__(self, pool: asyncpg.Pool, db: Database, settings: Settings) -> None:
        self.pool, self.db, self.settings = pool, db, settings
        self.rooms: dict[int, Room] = {}
        self.buckets: dict[tuple[int, str], Bucket] = {}
        # Logins/logouts waiting to be journaled, per auction, and the task journaling them.
        self.presences: dict[int, list[tuple[Person, str, asyncio.Future[None]]]] = {}
        self._journaling: dict[int, asyncio.Task[None]] = {}
        self._listener: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, ticker: bool = True) -> None:
        await self._listen()
        self._tasks.append(asyncio.create_task(self._keep_listening()))
        if ticker:
            self._tasks.append(asyncio.create_task(self._tick()))

    async def stop(self) -> None:
        for task in [*self._tasks, *(room.task for room in self.rooms.values()), *self._journaling.values()]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks, self.rooms, self._journaling = [], {}, {}
        await self._unlisten()

    # LISTEN, kept alive as layers.access.Tokens keeps its own (a lost connection is replaced).
    @property
    def listening(self) -> bool:
        try:
            return self._listener is not None and not self._listener.is_closed()
        except asyncpg.InterfaceError:
            return False

    async def _listen(self) -> None:
        try:
            conn = await self.pool.acquire(timeout=5)
        except Exception:  # noqa: BLE001 - retried by _keep_listening; meanwhile rooms poll
            log.warning("cannot LISTEN on %s; auction rooms poll the journal until it works", auction_journal.CHANNEL)
            return
        try:
            await conn.add_listener(auction_journal.CHANNEL, self._notified)
        except Exception:  # noqa: BLE001
            await self.pool.release(conn)
            log.warning("cannot LISTEN on %s; auction rooms poll the journal until it works", auction_journal.CHANNEL)
            return
        self._listener = conn
        for room in self.rooms.values():  # wake-ups may have been missed meanwhile
            room.wake.set()

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(auction_journal.CHANNEL, self._notified)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def _keep_listening(self) -> None:
        while True:
            await asyncio.sleep(RELISTEN_SECONDS)
            if self._listener is not None and not self.listening:
                await self._unlisten()
            if self._listener is None:
                await self._listen()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        auction, _, _ = payload.partition(":")
        room = self.rooms.get(int(auction)) if auction.isdigit() else None
        if room is not None:
            room.wake.set()

    # Reads.
    async def state(self, auction_id: int) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(STATE_SQL, auction_id)

    async def read_events(self, auction_id: int, after: int, upto: int) -> list[auction_journal.Event]:
        async with self.pool.acquire() as conn:
            return [_event(r) for r in await conn.fetch(EVENTS_SQL, auction_id, after, upto)]

    async def registration(self, auction_id: int, who: Person) -> tuple[int, str] | None:
        async with self.pool.acquire() as conn:
            if who.bin is not None:
                row = await conn.fetchrow("SELECT number, status FROM auction_participants WHERE auction_id = $1 "
                                          "AND bin = $2", auction_id, who.bin)
            else:
                row = await conn.fetchrow("SELECT number, status FROM auction_participants WHERE auction_id = $1 "
                                          "AND iin = $2 AND bin IS NULL", auction_id, who.iin)
        return (int(row["number"]), row["status"]) if row else None

    # Rooms.
    def join(self, auction_id: int, seq: int) -> Room:
        room = self.rooms.get(auction_id)
        if room is None:
            room = self.rooms[auction_id] = Room(self, auction_id, seq)
        return room

    def leave(self, client: Client) -> None:
        room = client.room
        room.clients.discard(client)
        if not room.clients and self.rooms.get(room.auction_id) is room:
            del self.rooms[room.auction_id]
            room.task.cancel()

    def bucket(self, auction_id: int, who: str) -> Bucket:
        """One bucket per participant (or watcher's account) per auction, shared by their
        connections: opening more sockets does not buy more bids."""
        key = (auction_id, who)
        found = self.buckets.get(key)
        if found is None:
            if len(self.buckets) > 100_000:  # bounded: the idle ones go first
                self.buckets = {k: b for k, b in self.buckets.items() if b.tokens < b.burst}
            found = self.buckets[key] = Bucket(self.settings.auction_rate_per_second, self.settings.auction_rate_burst)
        return found

    async def presence(self, auction_id: int, who: Person, kind: str) -> None:
        """Journal a login/logout; those that arrive while one batch is being journaled go in the
        next, together (one transaction each batch, in arrival order). Returns once committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.presences.setdefault(auction_id, []).append((who, kind, done))
        task = self._journaling.get(auction_id)
        if task is None or task.done():
            self._journaling[auction_id] = asyncio.create_task(self._journal_presences(auction_id))
        await done

    async def _journal_presences(self, auction_id: int) -> None:
        while batch := self.presences.pop(auction_id, []):
            entries = [(who, kind) for who, kind, _ in batch]
            try:
                await self.in_thread(lambda conn, e=entries: bidding.journal_presences(conn, auction_id, e))
            except Exception as exc:  # noqa: BLE001 - each waiter logs it
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    # Work in a pooled psycopg connection, in a thread.
    async def in_thread(self, work: Callable[[psycopg.Connection], Any]) -> Any:
        def run() -> Any:
            with self.db.connection() as conn:
                try:
                    return work(conn)
                except BaseException:
                    conn.rollback()
                    raise
        return await asyncio.to_thread(run)

    async def _tick(self) -> None:
        protocols = Protocols(self.settings)
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.in_thread(lambda conn: tick(conn, protocols))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be restarting: the next tick retries
                log.warning("the auction ticker failed", exc_info=True)


class Protocols:
    """The protocol maker (``cadastre.auction_protocol``) with the operator's key, loaded once. A
    final auction without a protocol (closed here, cancelled or failed by ``open_due``, or one
    whose making failed) is tried again, at most once a minute each."""

    RETRY_SECONDS = 60.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._signer: Any = None
        self._failed: dict[int, float] = {}
        self._unpaid_at = 0.0
        self.module: Any = auction_protocol

    def make(self, conn: psycopg.Connection, auction_id: int) -> None:
        if self.module is None:
            return
        if self._signer is None:
            self._signer = self.module.operator_key(self.settings.operator_key_file,
                                                    self.settings.operator_key_password, self.settings.var_dir)
        self.module.make_protocol(conn, auction_id, self._signer)

    def missing(self, conn: psycopg.Connection) -> None:
        if self.module is None:
            return
        rows = conn.execute("SELECT a.id FROM auctions a WHERE a.status IN ('closed', 'cancelled', 'failed') "
                            "AND NOT EXISTS (SELECT 1 FROM auction_protocols p WHERE p.auction_id = a.id) "
                            "ORDER BY a.id LIMIT 20").fetchall()
        conn.commit()
        for (auction_id,) in rows:
            if time.monotonic() < self._failed.get(int(auction_id), 0):
                continue
            try:
                with conn.transaction():
                    self.make(conn, int(auction_id))
                conn.commit()
                self._failed.pop(int(auction_id), None)
            except Exception:  # noqa: BLE001 - logged; tried again later
                conn.rollback()
                self._failed[int(auction_id)] = time.monotonic() + self.RETRY_SECONDS
                log.warning("the protocol of auction %s could not be made", auction_id, exc_info=True)

    UNPAID_SECONDS = 30.0

    def unpaid(self, conn: psycopg.Connection) -> None:
        """The unpaid-winner rule (C's ``unpaid_due``), every UNPAID_SECONDS: days, not seconds, matter."""
        if self.module is None or time.monotonic() < self._unpaid_at:
            return
        self._unpaid_at = time.monotonic() + self.UNPAID_SECONDS
        self.module.unpaid_due(conn, clock.now(), rule=self.settings.auction_unpaid_rule,
                               days=self.settings.auction_unpaid_days)
        conn.commit()


def tick(conn: psycopg.Connection, protocols: Protocols | None = None) -> None:
    now = clock.now()
    open_due(conn, now)
    conn.commit()
    bidding.close_due(conn, now, protocol=None)
    if protocols is not None:
        protocols.missing(conn)
        protocols.unpaid(conn)


# --- the WebSocket ----------------------------------------------------------------------------------

async def _person(websocket: WebSocket) -> tuple[Person | None, str | None]:
    """The signed-in person of the socket and their session token (None: close 4401)."""
    tokens = websocket.app.state.tokens
    try:
        token = bearer_token(websocket.headers.get("authorization"))
    except Problem:
        return None, None
    if token is None:
        cookie = websocket.cookies.get(SESSION_COOKIE)
        # A page of another site opening the hall with the person's cookie (cross-site WebSocket
        # hijacking): browsers send Origin; it must name this host.
        if not cookie or not cookie.startswith(SESSION_PREFIX) or foreign_origin(websocket.headers):
            return None, None
        return await tokens.session(cookie, fresh=True), cookie
    if not token.startswith(SESSION_PREFIX):
        return None, None
    try:
        found = await tokens.session(token, fresh=True)
    except Problem:
        return None, None
    return found, token


def _key_of(bid: Any) -> str | None:
    key = bid.get("idempotency_key") if isinstance(bid, dict) else None
    return key if isinstance(key, str) and len(key) <= 100 else None


def _error(code: str, lang: str, **params: Any) -> str:
    return _json({"type": "error", "code": code, "message": translate(code, lang, **params)})


@router.websocket("/auctions/{auction_id}/live")
async def live(websocket: WebSocket, auction_id: int) -> None:
    """The hall: state on connect and after every event, missed events from ``?since=SEQ``, bids."""
    hub: LiveHub = websocket.app.state.auction_hub
    settings: Settings = websocket.app.state.settings
    lang = negotiate(websocket.query_params.get("lang") or websocket.headers.get("accept-language"))
    await websocket.accept()
    who, token = await _person(websocket)
    if who is None or token is None:
        await websocket.close(CLOSE_UNAUTHENTICATED)
        return
    since_text = websocket.query_params.get("since")
    if since_text is not None and not (since_text.isdigit() and len(since_text) < 19):
        await websocket.close(CLOSE_BAD_REQUEST)
        return
    registration = await hub.registration(auction_id, who)
    you = registration[0] if registration else None
    admitted = registration is not None and registration[1] == "admitted"
    state = await hub.state(auction_id)
    if state is None:
        await websocket.close(CLOSE_NOT_FOUND)
        return
    head = int(state["last_seq"])
    # Events journaled after this read reach the client through its room (a new room starts at
    # ``head``; an older one may be behind or ahead: the writer skips or fills by seq).
    room = hub.join(auction_id, head)
    client = Client(websocket, room, you, lang, seq=min(int(since_text), head) if since_text is not None else head)
    room.clients.add(client)
    # Nothing new in it: a client at ``head`` gets it as is, one with ``?since`` the gap first.
    client.put(Frame.state(_json(state_frame(state)), head + 1, head, []))
    writer = asyncio.create_task(client.write())
    bucket = hub.bucket(auction_id, f"p{you}" if you is not None else f"a{who.account_id}")
    if admitted:
        await _presence(hub, auction_id, who, "participant.login")
    try:
        await _read(websocket, hub, client, who, token, bucket, settings, writer)
    finally:
        hub.leave(client)
        if admitted:
            await _presence(hub, auction_id, who, "participant.logout")
        if not writer.done():
            client.close(1000)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 5)
            writer.cancel()
        elif not writer.cancelled() and writer.exception() is not None:
            log.debug("auction %s: a client went away while being written to", auction_id)


async def _presence(hub: LiveHub, auction_id: int, who: Person, kind: str) -> None:
    try:
        await hub.presence(auction_id, who, kind)
    except Exception:  # noqa: BLE001 - presence is recorded when it can be; the hall goes on
        log.warning("auction %s: cannot journal %s", auction_id, kind, exc_info=True)


async def _read(websocket: WebSocket, hub: LiveHub, client: Client, who: Person, token: str, bucket: Bucket,
                settings: Settings, writer: asyncio.Task[None]) -> None:
    lang = client.lang
    while client.closing is None and not writer.done():
        receiving = asyncio.ensure_future(websocket.receive())
        done, _ = await asyncio.wait({receiving, writer}, return_when=asyncio.FIRST_COMPLETED)
        if receiving not in done:
            receiving.cancel()
            return
        message = receiving.result()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            size = len(message.get("bytes") or b"")
        else:
            size = len(raw.encode())
        if size > settings.auction_max_frame_bytes:
            client.close(CLOSE_TOO_BIG)
            return
        if not bucket.take():
            client.close(CLOSE_POLICY)
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            client.direct(_error("bidding.not_json", lang))
            continue
        if frame.get("type") not in ("bid", "withdraw", "change"):
            client.direct(_error("bidding.unknown_type", lang, known="bid, withdraw, change"))
            continue
        if client.you is None:
            client.direct(_error("bidding.watch_only", lang))
            continue
        body = {k: frame.get(k) for k in ("bid", "signature")}
        try:
            # The session may have ended since the socket opened: asked again for every bid.
            current = await websocket.app.state.tokens.session(token, fresh=True)
            if current is None:
                client.close(CLOSE_UNAUTHENTICATED)
                return
            answer = await run_in_threadpool(_place, _TrustOf(websocket), hub.db, client.room.auction_id, body,
                                             current)
        except Problem as problem:
            client.direct(_json({"type": "error", "code": problem.key,
                                 "message": translate(problem.key, lang, **problem.params)}))
            continue
        except Exception as exc:  # noqa: BLE001 - this bid is not acknowledged; the connection stays
            # The database away (restarting): not acknowledged, so the client may send the same
            # bid again with the same key once it is back (accepted at most once). The frame
            # names the key, for the client to know which bid to retry.
            key = _key_of(body.get("bid"))
            if is_outage(exc):
                wait = settings.retry_after_seconds
                log.warning("auction %s: a bid while the database is away", client.room.auction_id)
                client.direct(_json({"type": "error", "code": "db.unavailable", "idempotency_key": key,
                                     "retry_after": wait,
                                     "message": translate("db.unavailable", lang, seconds=wait)}))
            else:
                log.warning("auction %s: a bid failed", client.room.auction_id, exc_info=True)
                client.direct(_json({"type": "error", "code": "bidding.rejected", "idempotency_key": key,
                                     "message": translate("bidding.rejected", lang)}))
            continue
        client.direct(_json(answer.message(lang)))
