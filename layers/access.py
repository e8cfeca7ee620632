"""Who is calling, and what they may read and write.

Authorities upload with bearer tokens (256-bit random strings; only their SHA-256 is stored, as
strong as a slow hash for such tokens). Public data is served to everyone; features marked
non-public (a layer's access attribute other than 'public') only to a caller with a valid token.
The token lookup and the public-only rule are written here once, for every route."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import asyncpg
import psycopg
from cachetools import TTLCache
from starlette.requests import Request

from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.errors import Problem
from layers.catalog import AUTHORITIES, Layer, can_write
from layers.store import journal

TOKEN_PREFIX = "gs_"
LOOKUP_SQL = "SELECT id, authority FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
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


class Tokens:
    """Token lookups over the serving pool, with a bounded cache of recent answers (negative
    ones too: a bogus token costs one query per CACHE_SECONDS, not one per request)."""

    def __init__(self, pool: asyncpg.Pool, *, ttl: float = CACHE_SECONDS, size: int = CACHE_ENTRIES) -> None:
        self.pool = pool
        self._cache: TTLCache[str, Principal | None] = TTLCache(maxsize=size, ttl=ttl, timer=time.monotonic)

    async def principal(self, token: str | None, *, fresh: bool = False) -> Principal | None:
        """The token's holder; None when no token was sent. A token that is sent but unknown or
        revoked is an error, never a silent downgrade to public data."""
        if token is None:
            return None
        key = digest(token)
        if not fresh and key in self._cache:
            found = self._cache[key]
        else:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow(LOOKUP_SQL, key)
            found = Principal(int(row["id"]), row["authority"]) if row else None
            self._cache[key] = found
        if found is None:
            raise Problem("auth.invalid_token", 401)
        return found

    def __len__(self) -> int:
        return len(self._cache)


async def caller(request: Request, *, fresh: bool = False) -> Principal | None:
    """Who sent ``request``: None when anonymous (the app keeps its Tokens in ``state.tokens``)."""
    tokens: Tokens = request.app.state.tokens
    return await tokens.principal(bearer_token(request.headers.get("authorization")), fresh=fresh)


def client_address(request: Request) -> str | None:
    """The caller's address as the server sees it (behind a proxy: uvicorn's --proxy-headers)."""
    return request.client.host if request.client else None


async def reader_is_authorised(request: Request) -> bool:
    """May this reader see non-public features? Only with a valid token."""
    return await caller(request) is not None


def require_writer(principal: Principal | None, layer: Layer) -> Principal:
    if principal is None:
        raise Problem("auth.required", 401)
    if not can_write(principal.authority, layer):
        raise Problem("auth.forbidden_layer", 403, authority=principal.authority, layer=layer.id)
    return principal


def public_filter(access_column: str | None, authorised: bool) -> str | None:
    """SQL condition hiding non-public features from anonymous readers (column names come from
    the layer catalog, never from the request)."""
    if access_column is None or authorised:
        return None
    return f"\"{access_column}\" = 'public'"
