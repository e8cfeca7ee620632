"""Versions: the file already current, sent again with the same options, makes no new version; the
retention policy prunes old versions' data and keeps them listed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from geoservice.kernel.settings import Settings
from importers.pipeline import UploadRequest, run_upload
from layers import store
from layers.access import create_token
from layers.catalog import get_layer
from tests.helpers import sealed, write_json, zones

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]


@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "versions test")
        conn.commit()
    return {"Authorization": f"Bearer {token}"}


def _count(db: psycopg.Connection, layer: str) -> int:
    return int(db.execute("SELECT count(*) FROM layer_versions WHERE layer_id = %s", (layer,)).fetchone()[0])


def test_the_current_file_sent_again_makes_no_version(client, operator, db, tmp_path, keep_current):
    layer = "restriction-zones"
    body = json.dumps(zones(4, prefix="SAME")).encode()

    def send(data: bytes = body, **fields: str):
        return client.post(f"/api/layers/{layer}/uploads", headers={**operator, "Accept-Language": "kk"},
                           files={"file": ("same.geojson", data)}, data=fields)

    first = send()
    assert first.status_code == 201, first.text
    assert first.json()["unchanged"] is False
    before = _count(db, layer)

    again = send()
    assert again.status_code == 200, again.text
    answer = again.json()
    assert answer["unchanged"] is True and answer["version"] == first.json()["version"]
    assert set(answer) == set(first.json())  # the same answer shape
    for key in ("checksum", "feature_count", "features_in_file", "format", "source_crs", "bbox", "created_at"):
        assert answer[key] == first.json()[key], key
    said = [n for n in answer["report"]["notes"] if n["code"] == "note.unchanged"]
    assert len(said) == 1 and set(said[0]["message"]) == {"kk", "ru", "en"}
    assert "new version" in said[0]["message"]["en"] and said[0]["version"] == answer["version"]
    assert _count(db, layer) == before
    sealed(db)
    journal = db.execute("SELECT result, version, client FROM journal WHERE action = 'upload' AND layer_id = %s "
                         "ORDER BY seq DESC LIMIT 1", (layer,)).fetchone()
    assert journal == ("unchanged", answer["version"], "testclient")
    # The stored report does not keep the note: it belongs to this answer only.
    listed = client.get(f"/api/layers/{layer}/versions").json()["versions"][0]
    assert all(n["code"] != "note.unchanged" for n in listed["report"]["notes"])

    # Other options make a new version: each of them, then the same again is unchanged.
    for fields in ({"encoding": "utf-8"}, {"mode": "append"}, {"crs": "EPSG:4326"},
                   {"mapping": '{"zone_id": "zone_id"}'}, {"defaults": '{"basis": "Decision 1"}'}):
        made = send(**fields)
        assert made.status_code == 201 and made.json()["unchanged"] is False, (fields, made.text)
        assert send(**fields).status_code == 200, fields
    # A different file is a new version; the earlier file is not current any more, so it is too.
    other = send(json.dumps(zones(2, prefix="OTHER")).encode())
    assert other.status_code == 201
    back = send()
    assert back.status_code == 201 and back.json()["version"] > other.json()["version"]
    # A dry run always validates and reports.
    dry = send(dry_run="true")
    assert dry.status_code == 201 and dry.json()["dry_run"] is True and dry.json()["unchanged"] is False


def test_cli_and_concurrent_resends(database_url, db, tmp_path, keep_current):
    layer = "subsoil-plots"
    path = write_json(tmp_path / "plots.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[70, 48], [70.1, 48], [70.1, 48.1],
                                                                               [70, 48]]]},
         "properties": {"plot_id": "DUP-1", "kind": "exploration"}}]})
    # Two identical uploads at once: one version, the other answered with it.
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(run_upload(
        UploadRequest(layer_id=layer, path=path, file_name=path.name), database_url))) for _ in range(2)]
    before = _count(db, layer)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["unchanged"] for r in results) == [False, True]
    assert len({r["version"] for r in results}) == 1
    assert _count(db, layer) == before + 1

    env = {**os.environ, "DATABASE_URL": database_url}
    res = subprocess.run([*GEOSERVICE, "import", layer, str(path)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["unchanged"] is True
    assert _count(db, layer) == before + 1


# --- retention ---------------------------------------------------------------------------------------

def _make_versions(database_url: str, tmp_path: Path, layer: str, n: int, tag: str) -> list[int]:
    made = []
    for i in range(n):
        path = write_json(tmp_path / f"{tag}{i}.geojson", zones(1 + i, prefix=f"{tag}{i}-"))
        made.append(run_upload(UploadRequest(layer_id=layer, path=path, file_name=path.name), database_url)["version"])
    return made


def _age(db: psycopg.Connection, layer: str, versions: list[int], days: int) -> None:
    db.execute("UPDATE layer_versions SET created_at = now() - make_interval(days => %s) "
               "WHERE layer_id = %s AND version = ANY(%s)", (days, layer, versions))


def _table_exists(db: psycopg.Connection, layer: str, version: int) -> bool:
    row = db.execute("SELECT to_regclass('layer_data.' || quote_ident(table_name)) IS NOT NULL FROM layer_versions "
                     "WHERE layer_id = %s AND version = %s", (layer, version)).fetchone()
    return bool(row[0])


def test_prune_keeps_the_policy_and_lists_what_it_dropped(client, operator, database_url, db, tmp_path,
                                                           keep_current):
    layer = "restriction-zones"
    v = _make_versions(database_url, tmp_path, layer, 6, "RET")
    _age(db, layer, v[:5], 40)  # v[5] is recent; v[0]..v[4] are older than 30 days
    restored = client.post(f"/api/layers/{layer}/versions/{v[1]}/restore", headers=operator)
    assert restored.status_code == 200  # an old version made current: never pruned
    env = {**os.environ, "DATABASE_URL": database_url, "GEOSERVICE_KEEP_VERSIONS": "2",
           "GEOSERVICE_KEEP_DAYS": "30"}

    def prune(*args: str) -> list[str]:
        res = subprocess.run([*GEOSERVICE, "layers", "prune", "--layer", layer, *args], capture_output=True,
                             text=True, env=env, timeout=120)
        assert res.returncode == 0, res.stderr
        return res.stdout.splitlines()

    # Kept: the last 2 (v[4], v[5]), the last 30 days (v[5]) and the current (v[1]). Versions made
    # by other tests before these are older still and may go too; ours are what we check.
    dry = prune("--dry-run")
    would = {int(line.split()[2]) for line in dry if "would be pruned" in line}
    assert {v[0], v[2], v[3]} <= would and not would & {v[1], v[4], v[5]}
    assert all(_table_exists(db, layer, n) for n in v)

    done = prune()
    assert {int(line.split()[2]) for line in done if line.endswith(" pruned")} == would
    assert [_table_exists(db, layer, n) for n in v] == [False, True, False, False, True, True]
    assert prune() == [prune()[0], f"{layer}: nothing to prune"]

    listed = {x["version"]: x for x in client.get(f"/api/layers/{layer}/versions").json()["versions"]}
    assert set(v) <= set(listed)  # pruned versions stay listed
    for n in v:
        assert listed[n]["pruned"] is (n in (v[0], v[2], v[3]))
        assert (listed[n]["pruned_at"] is not None) is listed[n]["pruned"]
    assert listed[v[1]]["current"] and listed[v[0]]["feature_count"] == 1  # the record stays whole

    gone = client.post(f"/api/layers/{layer}/versions/{v[2]}/restore",
                       headers={**operator, "Accept-Language": "ru"})
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["type"] == "urn:geoservice:problem:version.pruned"
    assert "нельзя восстановить" in gone.json()["detail"] and str(v[2]) in gone.json()["detail"]
    assert client.get(f"/api/layers/{layer}").json()["current_version"]["version"] == v[1]
    sealed(db)
    rows = db.execute("SELECT action, result, detail FROM journal WHERE layer_id = %s AND action IN "
                      "('prune', 'restore') ORDER BY seq DESC LIMIT 2", (layer,)).fetchall()
    assert rows[0][:2] == ("restore", "rejected") and rows[0][2]["status"] == 410
    assert rows[1][:2] == ("prune", "ok") and set(rows[1][2]["versions"]) == would


def test_each_upload_applies_the_policy(database_url, db, tmp_path, keep_current):
    layer = "subsoil-plots"
    made = []
    for i in range(3):
        path = write_json(tmp_path / f"p{i}.geojson", {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[70, 48], [70.1, 48],
                                                                                   [70.1, 48.1], [70, 48]]]},
             "properties": {"plot_id": f"KEEP-{i}", "kind": "exploration"}}]})
        made.append(path)
    first = [run_upload(UploadRequest(layer_id=layer, path=p, file_name=p.name), database_url)["version"]
             for p in made[:2]]
    _age(db, layer, first, 400)
    # first[1] is current, first[0] the one before it: beyond a count of 1 and old, so it goes;
    # within a count of 3 it stays however old; no version of the last 30 days ever goes.
    with psycopg.connect(database_url) as conn:
        going = store.prunable(conn, get_layer(layer), store.Retention(keep_versions=1, keep_days=30))
        assert first[0] in [x.version for x in going] and first[1] not in [x.version for x in going]
        assert all(x.created_at < dt.datetime.now(dt.UTC) - dt.timedelta(days=30) for x in going)
        kept = store.prunable(conn, get_layer(layer), store.Retention(keep_versions=3, keep_days=30))
        assert first[0] not in [x.version for x in kept]
    settings = Settings(keep_versions=1, keep_days=30)
    third = run_upload(UploadRequest(layer_id=layer, path=made[2], file_name=made[2].name), database_url, settings)
    assert third["version"] > first[1]
    assert [_table_exists(db, layer, n) for n in (*first, third["version"])] == [False, False, True]
    # The upload's own answer is unchanged in shape; the journal says what went.
    sealed(db)
    row = db.execute("SELECT actor, detail FROM journal WHERE action = 'prune' AND layer_id = %s "
                     "ORDER BY seq DESC LIMIT 1", (layer,)).fetchone()
    assert row[0] == "cli" and set(first) <= set(row[1]["versions"])
