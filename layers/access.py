"""Who is calling, and what they may read and write.

Authorities upload with bearer tokens (256-bit random strings; only their SHA-256 is stored, as
strong as a slow hash for such tokens). Public data is served to everyone; features marked
non-public (a layer's access attribute other than 'public') only to a caller with a valid token.
The token lookup and the public-only rule are written here once, for every route.

Revoking a token NOTIFYs ``geoservice_tokens`` with its id; every server process listens and
drops its cached answer at once. A cached "valid" answer is used only while that listener is
connected; without it every lookup asks the database.

People signed in to the cabinet hold a session token (prefix ``gss_``, as a Bearer token or the
``gs_session`` cookie); its lookup and its revocation (NOTIFY ``session:<id>``, and ``iin:<IIN>``
when a person's roles change) go through the same cache and listener."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import psycopg
from cachetools import TTLCache
from starlette.requests import Request

from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.errors import Problem
from layers.catalog import AUTHORITIES, Layer, RasterLayer, can_write
from layers.store import journal

log = logging.getLogger("geoservice.access")
TOKEN_PREFIX = "gs_"
CHANNEL = "geoservice_tokens"
# The lookup records when the token was last used (at most once a minute per token, so a busy
# token does not rewrite its row on every cache miss).
LOOKUP_SQL = """
WITH found AS (SELECT id, authority, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL),
touched AS (UPDATE api_tokens t SET last_used_at = now() FROM found
            WHERE t.id = found.id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute'))
SELECT id, authority FROM found"""
SESSION_PREFIX = "gss_"
SESSION_COOKIE = "gs_session"
# A live session, its person and their roles (granted by IIN, whichever company they act for).
SESSION_SQL = """
SELECT s.id AS session_id, s.expires_at, a.id AS account_id, a.iin, a.bin, a.name,
       coalesce(array_agg(g.role) FILTER (WHERE g.role IS NOT NULL), '{}') AS roles,
       coalesce(array_agg(g.authority) FILTER (WHERE g.authority IS NOT NULL), '{}') AS authorities
FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN role_grants g ON g.iin = a.iin
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
GROUP BY s.id, a.id"""
# How soon a lost listening connection is tried again.
RELISTEN_SECONDS = 1.0
# Reads may use an answer this old; writes always ask the database. Bounded, so random bogus
# tokens cannot grow the process: the oldest entries go first.
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Principal:
    token_id: int
    authority: str

    @property
    def actor(self) -> str:
        return f"{self.authority}#token{self.token_id}"


# The roles a person holds in the cabinet (granted by ``geoservice users grant``), plus
# ``authority``: the holder of an authority's upload token. Every /api route declares which of
# these it admits (``geoservice.deps.admits``).
ROLES = ("applicant", "officer", "commission", "admin", "auditor")
AUTHORITY_TOKEN = "authority"


@dataclass(frozen=True)
class Person:
    """A person signed in to the cabinet with their EDS: one session of one account."""
    account_id: int
    session_id: int
    iin: str
    bin: str | None
    name: str
    roles: frozenset[str]
    # The competent authorities this person is an officer of (``users grant … --authority``).
    authorities: frozenset[str] = frozenset()
    # When the session ends: a cached answer is not used past it.
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        return f"IIN{self.iin}" + (f"/BIN{self.bin}" if self.bin else "")


Caller = Principal | Person


# Roles that may see features not marked public (as an authority's token may).
RESTRICTED_READERS = frozenset({"officer", "admin", "auditor"})


def reads_restricted(who: Caller | None) -> bool:
    """May this caller see non-public features? An authority's token, or a person holding one of
    RESTRICTED_READERS; an applicant sees what the public sees."""
    return isinstance(who, Principal) or bool(roles_of(who) & RESTRICTED_READERS)


def roles_of(who: Caller | None) -> frozenset[str]:
    if who is None:
        return frozenset()
    if isinstance(who, Principal):
        return frozenset({AUTHORITY_TOKEN})
    return who.roles


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: psycopg.Connection, authority: str, label: str | None = None, *,
                 actor: str = "cli", client: str | None = "cli") -> tuple[int, str]:
    """A new token for ``authority``; the token itself is returned once, never stored. Journaled
    in the caller's transaction, a refusal too (commit it before passing the error on)."""
    if authority not in AUTHORITIES:
        journal(conn, actor, "token.create", "rejected", client=client,
                detail={"authority": authority, "problem": "auth.unknown_authority"})
        raise Problem("auth.unknown_authority", 400, authority=authority, known=", ".join(sorted(AUTHORITIES)))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute("INSERT INTO api_tokens (authority, token_hash, label) VALUES (%s, %s, %s) RETURNING id",
                       (authority, digest(token), label)).fetchone()
    assert row is not None
    journal(conn, actor, "token.create", "ok", client=client,
            detail={"token_id": int(row[0]), "authority": authority, "label": label})
    return int(row[0]), token


@dataclass(frozen=True)
class TokenInfo:
    id: int
    authority: str
    label: str | None
    created_at: Any
    revoked_at: Any
    last_used_at: Any


def list_tokens(conn: psycopg.Connection) -> list[TokenInfo]:
    """Every token, without its hash."""
    rows = conn.execute("SELECT id, authority, label, created_at, revoked_at, last_used_at FROM api_tokens "
                        "ORDER BY id").fetchall()
    return [TokenInfo(*row) for row in rows]


def revoke_token(conn: psycopg.Connection, token_id: int, *, actor: str = "cli",
                 client: str | None = "cli") -> TokenInfo:
    """Revoke a token, in the caller's transaction: at commit every server process hears of it
    (NOTIFY) and stops accepting the token at once. Revoking a revoked token changes nothing.
    Journaled in the caller's transaction, a refusal too (commit it before passing the error on)."""
    row = conn.execute("SELECT id, authority, label, created_at, revoked_at, last_used_at FROM api_tokens "
                       "WHERE id = %s FOR UPDATE", (token_id,)).fetchone()
    if row is None:
        journal(conn, actor, "token.revoke", "rejected", client=client,
                detail={"token_id": token_id, "problem": "auth.token_not_found"})
        raise Problem("auth.token_not_found", 404, token_id=token_id)
    info = TokenInfo(*row)
    if info.revoked_at is None:
        stamp = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s RETURNING revoked_at",
                             (token_id,)).fetchone()
        assert stamp is not None
        info = TokenInfo(info.id, info.authority, info.label, info.created_at, stamp[0], info.last_used_at)
        journal(conn, actor, "token.revoke", "ok", client=client,
                detail={"token_id": token_id, "authority": info.authority})
    else:
        journal(conn, actor, "token.revoke", "unchanged", client=client,
                detail={"token_id": token_id, "authority": info.authority, "revoked_at": info.revoked_at.isoformat()})
    # Sent again even for a revoked token: a worker that missed the first one drops it now.
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(token_id)))
    return info


class FailureLimit:
    """Invalid tokens per client address: after ``limit`` failures within ``window`` seconds of
    the first, every token the client sends is answered 429 until the window ends. The counters
    are a bounded TTL cache: at most ``clients`` addresses are tracked, the oldest dropped first."""

    def __init__(self, limit: int, window: float, *, clients: int = 10_000) -> None:
        self.limit, self.window = limit, window
        # address -> [time of the first failure, failures]; expires ``window`` after the first.
        self._seen: TTLCache[str, list[float]] = TTLCache(maxsize=clients, ttl=max(window, 0.001),
                                                           timer=time.monotonic)

    def check(self, client: str | None) -> None:
        if self.limit <= 0 or client is None:
            return
        entry = self._seen.get(client)
        if entry is not None and entry[1] >= self.limit:
            seconds = max(1, math.ceil(entry[0] + self.window - time.monotonic()))
            raise Problem("auth.too_many_failures", 429, retry_after=seconds,
                          seconds=seconds, limit=self.limit)

    def failed(self, client: str | None) -> None:
        if self.limit <= 0 or client is None:
            return
        entry = self._seen.get(client)
        if entry is None:
            self._seen[client] = [time.monotonic(), 1]
        else:
            entry[1] += 1

    def __len__(self) -> int:
        return len(self._seen)


class Tokens:
    """Token lookups over the serving pool, with a bounded cache of recent answers (negative
    ones too: a bogus token costs one query per CACHE_SECONDS, not one per request), dropped
    at once when a token is revoked anywhere (``start`` listens for it), and a per-client limit
    on invalid tokens."""

    def __init__(self, pool: asyncpg.Pool, *, ttl: float = CACHE_SECONDS, size: int = CACHE_ENTRIES,
                 failures: FailureLimit | None = None) -> None:
        self.pool = pool
        self.failures = failures if failures is not None else FailureLimit(0, 0)
        self._cache: TTLCache[str, Caller | None] = TTLCache(maxsize=size, ttl=ttl, timer=time.monotonic)
        # Bumped by every revocation heard: a lookup that was under way when a revocation came
        # may have read the token as valid, and must not cache that answer.
        self._generation = 0
        self._listener: Any = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        if self._listener is None:
            return False
        try:
            return not self._listener.is_closed()
        except asyncpg.InterfaceError:  # the pool took back a connection it saw die
            return False

    async def start(self) -> None:
        """Listen for revocations (and keep listening: a lost connection is replaced)."""
        await self._listen()
        self._watch = asyncio.create_task(self._keep_listening())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._unlisten()

    async def _listen(self) -> None:
        try:
            conn = await self.pool.acquire(timeout=5)
        except Exception:  # noqa: BLE001 - retried by _keep_listening; meanwhile no cached "valid"
            log.warning("cannot LISTEN on %s; tokens are checked on every request until it works", CHANNEL)
            return
        try:
            await conn.add_listener(CHANNEL, self._revoked)
        except Exception:  # noqa: BLE001
            await self.pool.release(conn)
            log.warning("cannot LISTEN on %s; tokens are checked on every request until it works", CHANNEL)
            return
        # Revocations made while nobody listened were missed: forget what was cached.
        self._forget_valid()
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(CHANNEL, self._revoked)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def _keep_listening(self) -> None:
        while True:
            await asyncio.sleep(RELISTEN_SECONDS)
            if self._listener is not None and not self.listening:
                await self._unlisten()
            if self._listener is None:
                await self._listen()

    def _forget_valid(self) -> None:
        self._generation += 1
        for key, found in list(self._cache.items()):
            if found is not None:
                self._cache.pop(key, None)

    def _revoked(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._generation += 1
        kind, _, value = payload.rpartition(":")
        if kind in ("session", "iin"):  # a session ended; a person's roles changed
            for key, found in list(self._cache.items()):
                if isinstance(found, Person) and (str(found.session_id) if kind == "session" else found.iin) == value:
                    self._cache.pop(key, None)
            return
        try:
            token_id = int(payload)
        except ValueError:
            self._forget_valid()
            return
        for key, found in list(self._cache.items()):
            if isinstance(found, Principal) and found.token_id == token_id:
                self._cache.pop(key, None)

    async def principal(self, token: str | None, *, fresh: bool = False, client: str | None = None) -> Caller | None:
        """The token's holder (an authority's token, or a person's session); None when no token was
        sent. A token that is sent but unknown or revoked is an error, never a silent downgrade
        to public data. ``client`` (the caller's address) is counted on failure and refused with
        429 once over the limit."""
        if token is None:
            return None
        self.failures.check(client)
        found = await self._lookup(token, fresh)
        if found is None:
            self.failures.failed(client)
            raise Problem("auth.invalid_token", 401)
        return found

    async def session(self, token: str, *, fresh: bool = False) -> Person | None:
        """The person of a session cookie; None when it has ended (a stale cookie makes its
        browser anonymous, it is no error: the public pages must keep working)."""
        found = await self._lookup(token, fresh)
        return found if isinstance(found, Person) else None

    async def _lookup(self, token: str, fresh: bool) -> Caller | None:
        key = digest(token)
        cached = self._cache.get(key, self)
        if isinstance(cached, Person) and cached.expires_at is not None and cached.expires_at <= datetime.now(UTC):
            cached = self
        # A cached "valid" is only as good as the revocations we hear.
        if not fresh and cached is not self and (cached is None or self.listening):
            return cached  # type: ignore[return-value]
        generation = self._generation
        found: Caller | None
        async with self.pool.acquire() as conn:
            if token.startswith(SESSION_PREFIX):
                row = await conn.fetchrow(SESSION_SQL, key)
                found = Person(int(row["account_id"]), int(row["session_id"]), row["iin"], row["bin"], row["name"],
                               frozenset({"applicant", *row["roles"]}), frozenset(row["authorities"]),
                               row["expires_at"]) if row else None
            else:
                row = await conn.fetchrow(LOOKUP_SQL, key)
                found = Principal(int(row["id"]), row["authority"]) if row else None
        if generation == self._generation:
            self._cache[key] = found
        return found

    def __len__(self) -> int:
        return len(self._cache)


def client_address(request: Request) -> str | None:
    """The caller's address as the server sees it (behind a proxy: uvicorn's --proxy-headers)."""
    return request.client.host if request.client else None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _cross_site_write(request: Request) -> bool:
    """A write sent by another site's page: the browser attaches the cookie only to top-level
    navigations (SameSite=Lax), but the cookie is not taken as the person's word for a write
    whose Origin (or Fetch metadata) names another site either. Bearer tokens are not affected:
    another site cannot read them."""
    if request.method in SAFE_METHODS:
        return False
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    return foreign_origin(request.headers)


def foreign_origin(headers: Mapping[str, str]) -> bool:
    """The Origin header names another host than the request's Host, or is opaque ("null");
    without an Origin, nothing says the request is foreign."""
    origin = headers.get("origin")
    if not origin:
        return False
    host = headers.get("host", "")
    return origin.lower() == "null" or origin.split("://", 1)[-1].rstrip("/").lower() != host.lower()


async def caller(request: Request, *, fresh: bool = False) -> Caller | None:
    """Who sent ``request``: None when anonymous (the app keeps its Tokens in ``state.tokens``).
    A Bearer token wins; without one, the cabinet's session cookie is read."""
    tokens: Tokens = request.app.state.tokens
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and cookie.startswith(SESSION_PREFIX) and not _cross_site_write(request):
            return await tokens.session(cookie, fresh=fresh)
        return None
    return await tokens.principal(token, fresh=fresh, client=client_address(request))


async def reader_is_authorised(request: Request) -> bool:
    """May this reader see non-public features? With an authority's token, or signed in with a
    role that reads them (``reads_restricted``)."""
    return reads_restricted(await caller(request))


def writing_authority(who: Caller, layer: Layer | RasterLayer) -> str | None:
    """The authority on whose behalf ``who`` may write ``layer`` (None: it may not)."""
    if isinstance(who, Principal):
        return who.authority if can_write(who.authority, layer) else None
    if "officer" not in who.roles:
        return None
    return next((a for a in sorted(who.authorities) if can_write(a, layer)), None)


def require_writer(who: Caller | None, layer: Layer | RasterLayer) -> Caller:
    """An authority's token, or an officer of an authority that writes ``layer``."""
    if who is None:
        raise Problem("auth.required", 401)
    if isinstance(who, Person) and "officer" not in who.roles:
        raise Problem("auth.role_required", 403, roles=f"{AUTHORITY_TOKEN}, officer")
    if writing_authority(who, layer) is None:
        authority = who.authority if isinstance(who, Principal) else ", ".join(sorted(who.authorities))
        raise Problem("auth.forbidden_layer", 403, authority=authority, layer=layer.id)
    return who


def public_filter(access_column: str | None, authorised: bool) -> str | None:
    """SQL condition hiding non-public features from anonymous readers (column names come from
    the layer catalog, never from the request)."""
    if access_column is None or authorised:
        return None
    return f"\"{access_column}\" = 'public'"
