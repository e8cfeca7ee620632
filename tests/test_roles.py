"""The service runs as a role that owns nothing it need not own: it reads what it serves, writes
versions and switches layers, and may only add to the journal. The schema's owner migrates."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from geoservice.kernel.settings import Settings, url_user
from geoservice.migrate import _ensure_role, setup_service_role
from importers.pipeline import UploadRequest, run_upload
from layers import store
from layers.access import create_token
from layers.catalog import get_layer
from tests.helpers import sealed, write_json, zones

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]


@pytest.fixture(scope="module")
def service_url(database_url: str) -> str:
    return Settings(database_url=database_url).service_database_url


def test_the_service_role_may_only_add_to_the_journal(service_url):
    assert url_user(service_url)[0] == "geoservice_app"
    with psycopg.connect(service_url, autocommit=True) as conn:
        me = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert me == ("geoservice_app", False)
        probe = f"probe:{uuid.uuid4().hex[:8]}"
        store.journal(conn, "test", "probe", "ok", client="test", object=probe)
        sealed(conn)  # it may ask for sealing, which the owner's function does
        seq = conn.execute("SELECT seq FROM journal WHERE object = %s", (probe,)).fetchone()[0]
        for forbidden in (
            "DELETE FROM journal",
            "UPDATE journal SET result = 'forged'",
            "TRUNCATE journal",
            "DROP TABLE journal",
            "ALTER TABLE journal DISABLE TRIGGER ALL",
            "INSERT INTO journal (seq, at, actor, action, result, prev_hash, hash) "
            "VALUES (0, now(), 'test', 'forge', 'ok', '', '')",
            "DELETE FROM journal_intake",
            "UPDATE journal_intake SET result = 'forged'",
            "TRUNCATE journal_intake",
            "INSERT INTO journal_intake (at, actor, action, result) VALUES ('2001-01-01Z', 'test', 'forge', 'ok')",
            "DELETE FROM layer_versions",
            "UPDATE layer_versions SET checksum = 'forged'",
            "UPDATE api_tokens SET revoked_at = NULL",  # no un-revoking
            "INSERT INTO api_tokens (authority, token_hash) VALUES ('operator', 'forged')",  # no minting
            "CREATE TABLE public.intruder (x int)",
            "CREATE FUNCTION public.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
        assert conn.execute("SELECT count(*) FROM journal WHERE seq = %s", (seq,)).fetchone() == (1,)


def test_uploads_restores_and_prune_work_as_the_service(database_url, service_url, db, tmp_path, keep_current):
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    layer = "restriction-zones"
    _, token = create_token(db, "operator", "roles test")
    auth = {"Authorization": f"Bearer {token}"}
    # A version made by the owner (as the demo is), then one by the service over HTTP.
    path = write_json(tmp_path / "owner.geojson", zones(2, prefix="OWN"))
    by_owner = run_upload(UploadRequest(layer_id=layer, path=path, file_name=path.name), database_url)["version"]
    get_settings.cache_clear()
    app = create_app()
    with TestClient(app) as client:
        assert url_user(app.state.db.url)[0] == "geoservice_app"
        r = client.post(f"/api/layers/{layer}/uploads", headers=auth,
                        files={"file": ("svc.geojson", write_json(tmp_path / "svc.geojson", zones(3, prefix="SVC"))
                                        .read_bytes())})
        assert r.status_code == 201, r.text
        by_service = r.json()["version"]
        assert db.execute("SELECT count(*) FROM public.restriction_zones WHERE feature_id LIKE 'SVC%'").fetchone() \
            == (3,)
        # Appending reads the owner's table; restoring points the view back at it.
        r = client.post(f"/api/layers/{layer}/uploads", headers=auth, data={"mode": "append"},
                        files={"file": ("more.geojson", write_json(tmp_path / "more.geojson", zones(1, prefix="ADD"))
                                        .read_bytes())})
        assert r.status_code == 201, r.text
        assert client.post(f"/api/layers/{layer}/versions/{by_owner}/restore", headers=auth).status_code == 200
        assert db.execute("SELECT count(*) FROM public.restriction_zones WHERE feature_id LIKE 'OWN%'").fetchone() \
            == (2,)
        assert "OWN0" in {f["id"] for f in client.get(f"/ogc/collections/{layer}/items").json()["features"]}
    owners = dict(db.execute("SELECT v.version, t.tableowner FROM layer_versions v JOIN pg_tables t "
                             "ON t.schemaname = 'layer_data' AND t.tablename = v.table_name "
                             "WHERE v.layer_id = %s AND v.version = ANY(%s)", (layer, [by_owner, by_service]))
                 .fetchall())
    assert owners == {by_owner: "geoservice", by_service: "geoservice_app"}

    # The service prunes versions of either owner (old ones: made so here).
    db.execute("UPDATE layer_versions SET created_at = now() - interval '400 days' WHERE layer_id = %s "
               "AND version = ANY(%s)", (layer, [by_service]))
    with psycopg.connect(service_url) as conn:
        pruned = store.prune(conn, get_layer(layer), store.Retention(keep_versions=1, keep_days=30),  # type: ignore[arg-type]
                             actor="test")
        conn.commit()
    assert by_service in [v.version for v in pruned]
    assert db.execute("SELECT pruned_at IS NOT NULL FROM layer_versions WHERE layer_id = %s AND version = %s",
                      (layer, by_service)).fetchone() == (True,)

    # The CLI imports as the service too.
    res = subprocess.run([*GEOSERVICE, "import", layer, str(write_json(tmp_path / "cli.geojson",
                                                                       zones(1, prefix="CLI")))],
                         capture_output=True, text=True, env={**os.environ, "DATABASE_URL": database_url}, timeout=120)
    assert res.returncode == 0, res.stderr
    owner = db.execute("SELECT t.tableowner FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                       "JOIN pg_tables t ON t.schemaname = 'layer_data' AND t.tablename = v.table_name "
                       "WHERE l.id = %s", (layer,)).fetchone()
    assert owner == ("geoservice_app",)


def test_the_view_switch_takes_only_version_tables(service_url, db, keep_current):
    with psycopg.connect(service_url, autocommit=True) as conn:
        for table in ("journal", "no_such_table"):
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute("SELECT gs_switch_view('restriction-zones', %s)", (table,))
        # A view of its own in layer_data registered as a version: still refused (only plain
        # tables, so that the owner's view never runs code the service wrote).
        conn.execute("CREATE VIEW layer_data.sneaky AS SELECT 1 AS fid")
        try:
            db.execute("INSERT INTO layer_versions (layer_id, version, table_name, mode, feature_count) "
                       "VALUES ('restriction-zones', 100000, 'sneaky', 'replace', 0)")
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute("SELECT gs_switch_view('restriction-zones', 'sneaky')")
        finally:
            db.execute("DELETE FROM layer_versions WHERE table_name = 'sneaky'")
            conn.execute("DROP VIEW layer_data.sneaky")
        # A version table whose columns differ (the catalog changed): the view is made anew.
        conn.execute("CREATE TABLE layer_data.narrow (fid bigint)")
        try:
            db.execute("INSERT INTO layer_versions (layer_id, version, table_name, mode, feature_count) "
                       "VALUES ('restriction-zones', 100001, 'narrow', 'replace', 0)")
            conn.execute("SELECT gs_switch_view('restriction-zones', 'narrow')")
            cols = db.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                              "AND table_name = 'restriction_zones'").fetchall()
            assert cols == [("fid",)]
        finally:
            current = db.execute("SELECT v.table_name FROM layers l JOIN layer_versions v "
                                 "ON v.id = l.current_version_id WHERE l.id = 'restriction-zones'").fetchone()
            if current is not None:
                conn.execute("SELECT gs_switch_view('restriction-zones', %s)", (current[0],))
            db.execute("DELETE FROM layer_versions WHERE table_name = 'narrow'")
            conn.execute("DROP TABLE layer_data.narrow")


def test_role_setup_is_idempotent_and_safe_when_raced(database_url):
    setup_service_role(database_url, "geoservice_app")
    setup_service_role(database_url, "geoservice_app")
    # Roles are cluster-wide: two databases creating the same role at once both succeed (a few
    # rounds, so that the two really meet).
    for _ in range(4):
        role = f"gs_race_{uuid.uuid4().hex[:8]}"
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def create(role: str = role, barrier: threading.Barrier = barrier, errors: list = errors) -> None:
            try:
                with psycopg.connect(database_url) as conn:
                    barrier.wait()
                    _ensure_role(conn, role, None)
                    conn.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            assert errors == []
        finally:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
