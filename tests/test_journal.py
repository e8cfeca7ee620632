"""The journal records every attempt: refused uploads and restores (401, 403, 404, 422) and token
changes, each with where it came from (the caller's address over HTTP, ``cli`` on the command line)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from layers.access import create_token
from tests.helpers import sealed, write_json, zones

ADDRESS = "203.0.113.7"  # TEST-NET-3: the address the test client claims to call from
GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    with TestClient(create_app(), client=(ADDRESS, 40000)) as c:
        yield c


def _token(database_url: str, authority: str) -> str:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, authority, "journal test")
        conn.commit()
    return token


def _rows_after(db: psycopg.Connection, seq: int) -> list[dict[str, Any]]:
    cur = sealed(db).execute("SELECT actor, action, layer_id, version, result, detail, client FROM journal "
                     "WHERE seq > %s ORDER BY seq", (seq,))
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _last_seq(db: psycopg.Connection) -> int:
    return int(sealed(db).execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


def test_refused_uploads_and_restores_are_journaled_with_the_address(client, database_url, db, tmp_path):
    operator = {"Authorization": f"Bearer {_token(database_url, 'operator')}"}
    environment = {"Authorization": f"Bearer {_token(database_url, 'environment')}"}
    path = write_json(tmp_path / "z.geojson", zones(2, prefix="J"))
    body = path.read_bytes()

    def upload(layer: str, headers: dict[str, str], **data: str):
        return client.post(f"/api/layers/{layer}/uploads", headers=headers, files={"file": ("z.geojson", body)},
                           data=data)

    ok = upload("restriction-zones", operator)
    assert ok.status_code == 201, ok.text
    version = ok.json()["version"]

    start = _last_seq(db)
    assert upload("restriction-zones", {}).status_code == 401
    assert upload("restriction-zones", {"Authorization": "Bearer gs_not_a_token"}).status_code == 401
    assert upload("geological-studies", environment).status_code == 403
    assert upload("no-such-layer", operator).status_code == 404
    assert client.post("/api/layers/restriction-zones/uploads", headers=operator,
                       data={"crs": "EPSG:4326"}).status_code == 400  # no file
    assert upload("restriction-zones", operator, mapping="[not json").status_code in (400, 422)
    assert client.post(f"/api/layers/restriction-zones/versions/{version}/restore").status_code == 401
    assert client.post(f"/api/layers/geological-studies/versions/{version}/restore",
                       headers=environment).status_code == 403
    assert client.post("/api/layers/restriction-zones/versions/9999/restore", headers=operator).status_code == 404
    assert client.post(f"/api/layers/restriction-zones/versions/{version}/restore",
                       headers=operator).status_code == 200

    rows = _rows_after(db, start)
    seen = [(r["action"], r["layer_id"], r["result"], r["detail"].get("status")) for r in rows]
    assert seen == [
        ("upload", "restriction-zones", "rejected", 401),
        ("upload", "restriction-zones", "rejected", 401),
        ("upload", "geological-studies", "rejected", 403),
        ("upload", "no-such-layer", "rejected", 404),
        ("upload", "restriction-zones", "rejected", 400),
        ("upload", "restriction-zones", "rejected", rows[5]["detail"].get("status")),
        ("restore", "restriction-zones", "rejected", 401),
        ("restore", "geological-studies", "rejected", 403),
        ("restore", "restriction-zones", "rejected", 404),
        ("restore", "restriction-zones", "ok", None),
    ]
    assert {r["client"] for r in rows} == {ADDRESS}
    assert [r["detail"].get("problem") for r in rows[:4]] == [
        "auth.required", "auth.invalid_token", "auth.forbidden_layer", "layer.not_found"]
    # Who: nobody for a missing or unknown token, the token's holder when it is known.
    assert [r["actor"] for r in rows[:3]] == ["anonymous", "anonymous", rows[2]["actor"]]
    assert rows[2]["actor"].startswith("environment#token")
    assert rows[8]["version"] == 9999 and rows[9]["version"] == version
    # The accepted upload carries the address too.
    accepted = db.execute("SELECT client FROM journal WHERE action = 'upload' AND result = 'ok' "
                          "AND layer_id = 'restriction-zones' AND version = %s", (version,)).fetchone()
    assert accepted == (ADDRESS,)


def test_token_changes_and_cli_imports_are_journaled_as_cli(database_url, db, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(GEOSERVICE + list(args), capture_output=True, text=True, env=env, timeout=120)

    start = _last_seq(db)
    made = run("token", "create", "--authority", "akimat", "--label", "journal")
    assert made.returncode == 0, made.stderr
    refused = run("token", "create", "--authority", "nobody")
    assert refused.returncode != 0
    path = write_json(tmp_path / "cli.geojson", zones(1, prefix="C"))
    imported = run("import", "restriction-zones", str(path))
    assert imported.returncode == 0, imported.stderr

    rows = _rows_after(db, start)
    assert [(r["action"], r["result"], r["client"], r["actor"]) for r in rows] == [
        ("token.create", "ok", "cli", "cli"),
        ("token.create", "rejected", "cli", "cli"),
        ("upload", "ok", "cli", "cli"),
    ]
    assert rows[0]["detail"]["authority"] == "akimat" and rows[0]["detail"]["label"] == "journal"
    assert "token_hash" not in rows[0]["detail"] and made.stdout.strip() not in str(rows[0]["detail"])
    assert rows[1]["detail"] == {"authority": "nobody", "problem": "auth.unknown_authority"}
