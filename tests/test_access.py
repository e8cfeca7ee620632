"""Token lookups: one parser, a bounded cache, writes never trust the cache."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest

from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.errors import Problem
from layers.access import Tokens, create_token


def test_bearer_parsing() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc ") == "abc"
    assert bearer_token("bearer abc") == "abc"
    for bad in ("Basic abc", "Bearer", "Bearer   ", "abc"):
        with pytest.raises(Problem) as info:
            bearer_token(bad)
        assert info.value.status == 401


def test_cache_is_bounded_and_writes_see_revocation(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        token_id, token = create_token(conn, "operator", "cache test")
        conn.commit()

    async def run() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            tokens = Tokens(pool, size=10)
            for i in range(50):
                with pytest.raises(Problem) as info:
                    await tokens.principal(f"gs_bogus{i}")
                assert info.value.key == "auth.invalid_token"
            assert len(tokens) == 10
            found = await tokens.principal(token)
            assert found is not None and found.token_id == token_id and found.authority == "operator"
            async with pool.acquire() as conn:
                await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", token_id)
            # A read may use the cached answer for a few seconds; a write asks the database.
            assert await tokens.principal(token) is not None
            with pytest.raises(Problem):
                await tokens.principal(token, fresh=True)
        finally:
            await pool.close()

    asyncio.run(run())
