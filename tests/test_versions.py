"""Versions: the file already current, sent again with the same options, makes no new version; the
retention policy prunes old versions' data and keeps them listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from importers.pipeline import UploadRequest, run_upload
from layers.access import create_token
from tests.helpers import write_json, zones

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "versions test")
        conn.commit()
    return {"Authorization": f"Bearer {token}"}


def _count(db: psycopg.Connection, layer: str) -> int:
    return int(db.execute("SELECT count(*) FROM layer_versions WHERE layer_id = %s", (layer,)).fetchone()[0])


def test_the_current_file_sent_again_makes_no_version(client, operator, db, tmp_path):
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


def test_cli_and_concurrent_resends(database_url, db, tmp_path):
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
