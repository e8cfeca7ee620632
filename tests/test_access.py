"""Token lookups: one parser, a bounded cache, writes never trust the cache, revocation heard at once
by every server process, and a per-client limit on invalid tokens."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import psycopg
import pytest
from fastapi.testclient import TestClient

from geoservice.kernel.bearer import bearer_token
from geoservice.kernel.errors import Problem
from importers.pipeline import UploadRequest, run_upload
from layers import access
from layers.access import CACHE_SECONDS, FailureLimit, Tokens, create_token, digest
from layers.catalog import get_layer
from layers.store import restore_version
from tests.helpers import feature_collection, square, write_json


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
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
        tokens = Tokens(pool, size=10)
        await tokens.start()  # a cached "valid" is used only while revocations can be heard
        try:
            for i in range(50):
                with pytest.raises(Problem) as info:
                    await tokens.principal(f"gs_bogus{i}")
                assert info.value.key == "auth.invalid_token"
            assert len(tokens) == 10
            found = await tokens.principal(token)
            assert found is not None and found.token_id == token_id and found.authority == "operator"
            async with pool.acquire() as conn:
                await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", token_id)
            # Revoked behind the service's back (no NOTIFY): a read may use the cached answer for a
            # few seconds; a write asks the database.
            assert await tokens.principal(token) is not None
            with pytest.raises(Problem):
                await tokens.principal(token, fresh=True)
        finally:
            await tokens.stop()
            await pool.close()

    asyncio.run(run())


# --- revocation reaches every worker at once ------------------------------------------------------

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
STUDIES = "/ogc/collections/geological-studies/items?limit=1000"


def _studies() -> dict:
    return feature_collection([
        (square(71.0, 47.0), {"study_id": "REV-OPEN", "name": "Open", "study_type": "geophysical",
                              "year_start": 1990}),
        (square(71.5, 47.0), {"study_id": "REV-SECRET", "name": "Secret", "study_type": "geophysical",
                              "year_start": 1991, "access_level": "confidential"}),
    ])


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["features"]}


@pytest.fixture
def own_studies(database_url: str, tmp_path: Path) -> Iterator[None]:
    """A studies version with a confidential study; the layer's previous version is made
    current again afterwards, so that other tests on this database see what they expect."""
    with psycopg.connect(database_url) as conn:
        previous = conn.execute("SELECT v.version FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                                "WHERE l.id = 'geological-studies'").fetchone()
    path = write_json(tmp_path / "studies.geojson", _studies())
    run_upload(UploadRequest(layer_id="geological-studies", path=path, file_name=path.name), database_url)
    try:
        yield
    finally:
        if previous is not None:
            with psycopg.connect(database_url) as conn:
                restore_version(conn, get_layer("geological-studies"), previous[0], actor="test")  # type: ignore[arg-type]


def test_a_token_revoked_by_the_cli_stops_reading_at_once(database_url, db, own_studies):
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    revoked_id, revoked = create_token(db, "operator", "revoked by the CLI")
    quiet_id, quiet = create_token(db, "operator", "revoked behind the service's back")
    with TestClient(create_app()) as client:
        assert "REV-SECRET" not in _ids(client.get(STUDIES))
        cached_at = time.monotonic()  # the revoked token's answer is cached from here for CACHE_SECONDS
        for token in (revoked, quiet):
            assert "REV-SECRET" in _ids(client.get(STUDIES, headers={"Authorization": f"Bearer {token}"}))
        # Without the NOTIFY the cached answer would still be used (this is what the CLI fixes):
        db.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s", (quiet_id,))
        assert "REV-SECRET" in _ids(client.get(STUDIES, headers={"Authorization": f"Bearer {quiet}"}))

        res = subprocess.run([*GEOSERVICE, "token", "revoke", str(revoked_id)], capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": database_url}, timeout=60)
        assert res.returncode == 0, res.stderr
        # Only the NOTIFY can end the cached answer before the cache's own expiry: wait for it as
        # long as that proves something (not a fixed second, which a loaded machine may exceed).
        deadline = cached_at + CACHE_SECONDS - 1
        while True:
            r = client.get(STUDIES, headers={"Authorization": f"Bearer {revoked}", "Accept-Language": "ru"})
            if r.status_code != 200:
                break
            assert "REV-SECRET" in _ids(r)
            assert time.monotonic() < deadline, "the revoked token still reads confidential studies"
            time.sleep(0.05)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "Токен неизвестен или отозван."

    listed = subprocess.run([*GEOSERVICE, "token", "list"], capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": database_url}, timeout=60)
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.split()[0] == str(revoked_id))
    assert "operator" in line and "revoked by the CLI" in line and line.count(":") >= 4  # created, revoked, used
    assert revoked not in listed.stdout and digest(revoked) not in listed.stdout
    assert listed.stdout.splitlines()[0].split() == ["id", "authority", "label", "created", "revoked", "last",
                                                     "used"]
    row = db.execute("SELECT revoked_at IS NOT NULL, last_used_at IS NOT NULL FROM api_tokens WHERE id = %s",
                     (revoked_id,)).fetchone()
    assert row == (True, True)
    journal = db.execute("SELECT actor, result, client, detail->>'token_id' FROM journal "
                         "WHERE action = 'token.revoke' ORDER BY seq DESC LIMIT 1").fetchone()
    assert journal == ("cli", "ok", "cli", str(revoked_id))

    again = subprocess.run([*GEOSERVICE, "token", "revoke", "999999"], capture_output=True, text=True,
                           env={**os.environ, "DATABASE_URL": database_url}, timeout=60)
    assert again.returncode != 0 and "999999" in again.stderr


def test_without_its_listener_the_cache_trusts_no_valid_token(database_url, db):
    token_id, token = create_token(db, "operator", "listener lost")

    async def run() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
        tokens = Tokens(pool)
        await tokens.start()
        try:
            assert await tokens.principal(token) is not None
            pid = tokens._listener.get_server_pid()
            async with pool.acquire() as conn:
                await conn.execute("SELECT pg_terminate_backend($1)", pid)
            deadline = time.monotonic() + 20  # polled: generous for a loaded machine
            while tokens.listening and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert not tokens.listening
            # A revocation nobody could hear: the cached answer is not used.
            async with pool.acquire() as conn:
                await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", token_id)
            with pytest.raises(Problem):
                await tokens.principal(token)
            # ...and the listener comes back by itself.
            deadline = time.monotonic() + 30
            while not tokens.listening and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert tokens.listening
        finally:
            await tokens.stop()
            await pool.close()

    asyncio.run(run())


# --- invalid tokens per client ---------------------------------------------------------------------

def test_failures_per_client_are_bounded_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = FailureLimit(2, 60, clients=5)
    for i in range(100):
        limit.failed(f"10.0.0.{i}")
    assert len(limit) == 5
    limit.failed("10.0.0.99")  # the last one tracked: now at its limit
    with pytest.raises(Problem) as info:
        limit.check("10.0.0.99")
    assert info.value.status == 429 and 1 <= int(info.value.retry_after or 0) <= 60
    limit.check("10.0.0.1")  # forgotten (evicted): no longer refused

    # The window on a clock of the test's own: with a real 0.2 s window a loaded machine could let
    # it pass between ``failed`` and the first ``check``.
    clock = [1000.0]
    monkeypatch.setattr(access, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    short = FailureLimit(1, 0.2)
    short.failed("a")
    clock[0] += 0.19
    with pytest.raises(Problem):
        short.check("a")
    clock[0] += 0.02
    short.check("a")
    FailureLimit(0, 60).check("a")  # 0: no limit


def test_repeated_invalid_tokens_get_429(database_url, db, own_studies):
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), token_failure_limit=3, token_failure_window=60.0)
    _, valid = create_token(db, "operator", "rate limit")
    with TestClient(create_app(settings), client=("198.51.100.9", 5000)) as client:
        assert client.get(STUDIES, headers={"Authorization": f"Bearer {valid}"}).status_code == 200
        for i in range(3):
            assert client.get(STUDIES, headers={"Authorization": f"Bearer gs_bogus{i}"}).status_code == 401
        for lang, word in (("kk", "қайталаңыз"), ("ru", "повторите"), ("en", "try again")):
            r = client.get(STUDIES, headers={"Authorization": "Bearer gs_bogus9", "Accept-Language": lang})
            assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert word in r.json()["detail"], r.json()
        # Every token from that address waits, a valid one too; anonymous reads go on.
        assert client.get(STUDIES, headers={"Authorization": f"Bearer {valid}"}).status_code == 429
        assert client.get(STUDIES).status_code == 200
        assert client.app.state.tokens.failures.check("198.51.100.10") is None  # other addresses are not
