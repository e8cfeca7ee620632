"""Who is reading. Public data is served to everyone; features marked non-public (a layer's
access attribute other than 'public') only to a request with a valid authority token."""

from __future__ import annotations

import hashlib
import time

from fastapi import Request

from geoservice.errors import Problem

_CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, bool]] = {}


async def reader_is_authorised(request: Request) -> bool:
    """True for a request bearing a valid, unrevoked token; False when it bears none. A token
    that is present but wrong is an error, not a silent downgrade to public data."""
    header = request.headers.get("authorization")
    if not header:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem("auth.required", 401)
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit and now - hit[0] < _CACHE_SECONDS:
        valid = hit[1]
    else:
        async with request.app.state.pool.acquire() as conn:
            valid = bool(await conn.fetchval(
                "SELECT 1 FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", digest))
        _cache[digest] = (now, valid)
    if not valid:
        raise Problem("auth.invalid_token", 401)
    return True


def public_filter(access_column: str | None, authorised: bool) -> str | None:
    """SQL condition hiding non-public features from anonymous readers (column names come from
    the layer catalog, never from the request)."""
    if access_column is None or authorised:
        return None
    return f"\"{access_column}\" = 'public'"
