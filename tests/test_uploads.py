"""Authority uploads over HTTP against real PostGIS: versions, errors, rights, languages."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from layers.access import create_token
from tests.helpers import feature_collection, polygon, sealed, snapshot, square, write_json, zones


def _token(database_url: str, authority: str) -> str:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, authority, "test")
        conn.commit()
    return token


@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(database_url, 'operator')}"}


@pytest.fixture(scope="module")
def environment(database_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(database_url, 'environment')}"}


def post(client: TestClient, layer: str, path: Path, headers: dict[str, str], **fields: str):
    with open(path, "rb") as fh:
        return client.post(f"/api/layers/{layer}/uploads", headers=headers,
                           files={"file": (path.name, fh.read())}, data=fields)


def test_upload_creates_version_and_old_versions_stay(client, operator, db, tmp_path):
    layer = "restriction-zones"
    r1 = post(client, layer, write_json(tmp_path / "z1.geojson", zones(3)), operator)
    assert r1.status_code == 201, r1.text
    v1 = r1.json()["version"]
    assert r1.json()["feature_count"] == 3
    r2 = post(client, layer, write_json(tmp_path / "z2.geojson", zones(5, prefix="Z")), operator)
    assert r2.status_code == 201, r2.text
    assert r2.json()["version"] == v1 + 1
    # The public view follows the current version; the old version's table stays queryable.
    assert db.execute("SELECT count(*) FROM public.restriction_zones").fetchone()[0] == 5
    old = db.execute("SELECT table_name FROM layer_versions WHERE layer_id = %s AND version = %s",
                     (layer, v1)).fetchone()[0]
    assert db.execute(f'SELECT count(*) FROM layer_data."{old}"').fetchone()[0] == 3  # noqa: S608
    # Stable ids: the same source id is the same feature id in both versions.
    ids = {r[0] for r in db.execute("SELECT feature_id FROM public.restriction_zones")}
    assert {"Z0", "Z1", "Z2"} <= ids
    # Cyrillic and Kazakh letters come back intact.
    name = db.execute("SELECT name FROM public.restriction_zones WHERE feature_id = 'Z1'").fetchone()[0]
    assert name == "Зона 1 — Қорық"

    versions = client.get(f"/api/layers/{layer}/versions").json()["versions"]
    assert [v["version"] for v in versions][:2] == [v1 + 1, v1]
    assert versions[0]["current"] and not versions[1]["current"]
    assert versions[0]["checksum"] and versions[0]["source_file"] == "z2.geojson"

    restored = client.post(f"/api/layers/{layer}/versions/{v1}/restore", headers=operator)
    assert restored.status_code == 200, restored.text
    assert db.execute("SELECT count(*) FROM public.restriction_zones").fetchone()[0] == 3
    state = client.get(f"/api/layers/{layer}").json()
    assert state["current_version"]["version"] == v1
    sealed(db)
    journal = db.execute("SELECT action, result FROM journal WHERE layer_id = %s ORDER BY seq", (layer,)).fetchall()
    assert ("restore", "ok") in journal and journal.count(("upload", "ok")) >= 2


def test_append_adds_and_updates_by_id(client, operator, db, tmp_path):
    layer = "geological-studies"
    base = feature_collection([
        (square(71, 47), {"study_id": "A", "name": "Съёмка A", "study_type": "geophysical", "year_start": 1970}),
        (square(71.5, 47), {"study_id": "B", "name": "Съёмка B", "study_type": "geophysical", "year_start": 1971}),
    ])
    assert post(client, layer, write_json(tmp_path / "a.geojson", base), operator).status_code == 201
    more = feature_collection([
        (square(72, 47), {"study_id": "C", "name": "Съёмка C", "study_type": "exploration", "year_start": 1990}),
        (square(71.5, 47), {"study_id": "B", "name": "Съёмка B (уточнено)", "study_type": "geophysical",
                            "year_start": 1972}),
    ])
    r = post(client, layer, write_json(tmp_path / "b.geojson", more), operator, mode="append")
    assert r.status_code == 201, r.text
    assert r.json()["feature_count"] == 3
    rows = dict(db.execute("SELECT feature_id, year_start FROM public.geological_studies").fetchall())
    assert rows == {"A": 1970, "B": 1972, "C": 1990}


def test_dry_run_reports_and_changes_nothing(client, operator, db, tmp_path):
    before = snapshot(db, "restriction-zones")
    r = post(client, "restriction-zones", write_json(tmp_path / "d.geojson", zones(7)), operator, dry_run="true")
    assert r.status_code == 201, r.text
    assert r.json()["dry_run"] is True and r.json()["features_in_file"] == 7
    assert snapshot(db, "restriction-zones") == before


def test_needs_token_and_right_authority(client, environment, tmp_path):
    path = write_json(tmp_path / "z.geojson", zones(1))
    r = post(client, "restriction-zones", path, {})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    r = post(client, "restriction-zones", path, {"Authorization": "Bearer gs_wrong"})
    assert r.status_code == 401
    # The environment authority writes restriction zones, not subsoil plots.
    r = post(client, "subsoil-plots", path, environment)
    assert r.status_code == 403
    assert "subsoil-plots" in r.json()["detail"]
    assert post(client, "restriction-zones", path, environment).status_code == 201
    r = post(client, "blocks", path, environment)
    assert r.status_code == 403


def test_problem_messages_in_three_languages(client, operator, tmp_path):
    bad = feature_collection([(square(70, 48), {"zone_id": "X", "name": "X", "kind": "volcano",
                                                  "regime": "prohibited"})])
    path = write_json(tmp_path / "bad.geojson", bad)
    texts = {}
    for lang in ("en", "ru", "kk"):
        r = post(client, "restriction-zones", path, {**operator, "Accept-Language": f"{lang};q=0.9"})
        assert r.status_code == 422
        assert r.headers["content-language"] == lang
        body = r.json()
        err = body["errors"][0]
        assert (err["code"], err["file"], err["feature"], err["field"]) == ("attribute.bad_value", "bad.geojson", 1,
                                                                              "kind")
        assert "volcano" in err["message"]
        texts[lang] = err["message"]
    assert "does not fit" in texts["en"] and "не подходит" in texts["ru"] and "сәйкес келмейді" in texts["kk"]


BOWTIE = polygon([(70, 48), (70.2, 48.2), (70.2, 48), (70, 48.2)])


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, dict[str, str], int, str]]:
    ok = zones(1)
    cases: dict[str, tuple[Path, dict[str, str], int, str]] = {}

    def add(name: str, path: Path, status: int, code: str, **fields: str) -> None:
        cases[name] = (path, fields, status, code)

    add("outside", write_json(tmp / "far.geojson", feature_collection(
        [(square(10, 50), {"zone_id": "F", "name": "Paris?", "kind": "other", "regime": "conditional"})])),
        422, "geometry.outside_country")
    add("bowtie", write_json(tmp / "bowtie.geojson", feature_collection(
        [(BOWTIE, {"zone_id": "B", "name": "Bow", "kind": "other", "regime": "conditional"})])),
        422, "geometry.unrepairable")
    add("missing-attribute", write_json(tmp / "noregime.geojson", feature_collection(
        [(square(70, 48), {"zone_id": "M", "name": "M", "kind": "other"})])), 422, "upload.missing_attribute")
    add("wrong-type", write_json(tmp / "points.geojson", feature_collection(
        [({"type": "Point", "coordinates": [70, 48]}, {"zone_id": "P", "name": "P", "kind": "other",
                                                      "regime": "conditional"})])), 422, "geometry.wrong_type")
    add("duplicate-id", write_json(tmp / "dup.geojson", feature_collection(
        [(square(70, 48), {"zone_id": "D", "name": "D", "kind": "other", "regime": "conditional"}),
         (square(71, 48), {"zone_id": "D", "name": "D2", "kind": "other", "regime": "conditional"})])),
        422, "feature.duplicate_id")
    truncated = tmp / "cut.geojson"
    write_json(truncated, ok)
    truncated.write_bytes(truncated.read_bytes()[:60])
    add("truncated", truncated, 422, "upload.unreadable")
    empty = tmp / "empty.geojson"
    empty.write_bytes(b"")
    add("empty", empty, 422, "upload.empty")
    traversal = tmp / "evil.zip"
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.writestr("../../etc/evil.geojson", "{}")
    add("traversal", traversal, 422, "archive.unsafe_path")
    kml = tmp / "bomb.kml"
    kml.write_text('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                   '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&b;</name></Document></kml>')
    add("xml-entities", kml, 422, "kml.forbidden_dtd")
    add("bad-crs", write_json(tmp / "okcrs.geojson", ok), 400, "upload.bad_crs", crs="EPSG:999999")
    return cases


BAD = ["outside", "bowtie", "missing-attribute", "wrong-type", "duplicate-id", "truncated", "empty", "traversal",
       "xml-entities", "bad-crs"]


@pytest.mark.parametrize("case", BAD)
def test_bad_upload_changes_nothing(case, client, operator, db, tmp_path):
    layer = "restriction-zones"
    if snapshot(db, layer)[0][0] is None:
        assert post(client, layer, write_json(tmp_path / "seed.geojson", zones(2)), operator).status_code == 201
    before = snapshot(db, layer)
    path, fields, status, code = _bad_inputs(tmp_path)[case]
    r = post(client, layer, path, {**operator, "Accept-Language": "ru"}, **fields)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    codes = {body["type"].rsplit(":", 1)[-1], *(e["code"] for e in body.get("errors", []))}
    assert code in codes, body
    assert body["detail"] and body["title"]
    assert snapshot(db, layer) == before
    sealed(db)
    rejected = db.execute("SELECT count(*) FROM journal WHERE result = 'rejected'").fetchone()[0]
    assert rejected >= 1


def test_too_large_upload_is_refused(client, operator, db, monkeypatch):
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    monkeypatch.setenv("GEOSERVICE_MAX_UPLOAD_BYTES", "100000")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as small:
            before = snapshot(db, "restriction-zones")
            payload = io.BytesIO(b"x" * 300_000)
            r = small.post("/api/layers/restriction-zones/uploads", headers=operator,
                           files={"file": ("big.geojson", payload)})
            assert r.status_code == 413
            assert r.headers["content-type"] == "application/problem+json"
            assert snapshot(db, "restriction-zones") == before
    finally:
        get_settings.cache_clear()


def test_repairs_are_reported(client, operator, db, tmp_path):
    # Clockwise ring with a repeated vertex and a tiny self-touching spike: repairable, same area.
    ring = [(70, 48), (70, 48.3), (70.3, 48.3), (70.3, 48.3), (70.3, 48), (70.15, 48), (70.15, 47.9999999),
            (70.15, 48)]
    fc = feature_collection([(polygon(ring), {"zone_id": "R", "name": "R", "kind": "other", "regime": "conditional"})])
    r = post(client, "restriction-zones", write_json(tmp_path / "repair.geojson", fc), operator)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["repaired"] == 1
    (repair,) = body["report"]["repairs"]
    assert (repair["code"], repair["feature"]) == ("geometry.repaired", 1)
    assert repair["reason"] and repair["area_change_percent"] < 1  # GEOS's own words, kept beside
    assert set(repair["message"]) == {"kk", "ru", "en"} and len(set(repair["message"].values())) == 3
    assert repair["message"]["ru"].startswith("Объект 1: полигон был некорректен и исправлен")
    valid = db.execute("SELECT bool_and(ST_IsValid(geom)) FROM public.restriction_zones").fetchone()[0]
    assert valid is True


def test_reading_notes_reach_the_report_in_three_languages(client, operator, db, tmp_path):
    import numpy as np
    import pyogrio.raw
    import shapely

    folder = tmp_path / "shp"
    folder.mkdir()
    geoms = np.array([shapely.to_wkb(shapely.box(70, 48, 70.2, 48.2))], dtype=object)
    values = [np.array([v], dtype=object) for v in ("N-1", "Без проекции", "other", "conditional")]
    with pytest.warns(UserWarning):  # GDAL warns that no .prj is written
        pyogrio.raw.write(str(folder / "zones.shp"), geoms, values, ["zone_id", "name", "kind", "regime"],
                          geometry_type="Polygon", driver="ESRI Shapefile", encoding="UTF-8")
    upload = tmp_path / "zones.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    r = post(client, "restriction-zones", upload, operator, crs="EPSG:4326")
    assert r.status_code == 201, r.text
    notes = r.json()["report"]["notes"]
    assert [n["code"] for n in notes] == ["shapefile.encoding_from_cpg", "shapefile.no_prj"]
    for n in notes:
        assert set(n["message"]) == {"kk", "ru", "en"} and len(set(n["message"].values())) == 3
    assert notes[1]["message"]["ru"] == "Для zones.shp нет файла .prj: система координат не указана."
    stored = db.execute("SELECT report FROM layer_versions WHERE layer_id = 'restriction-zones' AND version = %s",
                        (r.json()["version"],)).fetchone()[0]
    assert stored["notes"] == notes


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/api/layers/{layer_id}/uploads" in spec["paths"]


def test_block_list_becomes_union_of_blocks(client, operator, db, tmp_path):
    from layers.grid import block_bounds, parse_block_list

    text = "L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)"
    fc = feature_collection([(None, {"plot_id": "BL-1", "name": "Блоктар", "kind": "exploration",
                                     "blocks": text})])
    r = post(client, "subsoil-plots", write_json(tmp_path / "blocks.geojson", fc), operator)
    assert r.status_code == 201, r.text
    codes = parse_block_list(text)
    assert len(codes) == 5
    # The stored polygon is exactly the union of the five 1'x1' blocks (area in square degrees).
    area, n_parts = db.execute("SELECT ST_Area(geom), ST_NumGeometries(geom) FROM public.subsoil_plots "
                               "WHERE feature_id = 'BL-1'").fetchone()
    assert abs(area - 5 * (1 / 60) ** 2) < 1e-12
    assert n_parts == 2  # four adjacent blocks and one on the next sheet
    w, s, e, n = block_bounds(codes[-1])
    inside = db.execute("SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) FROM public.subsoil_plots "
                        "WHERE feature_id = 'BL-1'", ((w + e) / 2, (s + n) / 2)).fetchone()[0]
    assert inside is True


def test_bad_block_list_names_the_token(client, operator, tmp_path):
    fc = feature_collection([(None, {"plot_id": "BL-2", "name": "x", "kind": "exploration",
                                     "blocks": "L-43-63-(10а-5б-14,26)"})])
    r = post(client, "subsoil-plots", write_json(tmp_path / "badblocks.geojson", fc), operator)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["code"] == "blocks.invalid_token" and err["feature"] == 1 and err["field"] == "blocks"
    assert "26" in err["message"]


def test_text_with_copy_control_characters_survives(client, operator, db, tmp_path):
    name = "Tab\there, new\nline, back\\slash, \\N, Қ"
    fc = feature_collection([(square(70, 48), {"zone_id": "ESC", "name": name, "kind": "other",
                                               "regime": "conditional", "note": "extra\tvalue"})])
    r = post(client, "restriction-zones", write_json(tmp_path / "esc.geojson", fc), operator)
    assert r.status_code == 201, r.text
    row = db.execute("SELECT name, extra FROM public.restriction_zones WHERE feature_id = 'ESC'").fetchone()
    assert row[0] == name
    assert row[1] == {"note": "extra\tvalue"}
    # A text that reads like COPY's NULL marker is still that text, even alone in its column.
    alone = feature_collection([(square(70.5, 48), {"zone_id": "NUL", "name": "\\N", "kind": "other",
                                                    "regime": "conditional"})])
    r = post(client, "restriction-zones", write_json(tmp_path / "nul.geojson", alone), operator, mode="append")
    assert r.status_code == 201, r.text
    assert db.execute("SELECT name FROM public.restriction_zones WHERE feature_id = 'NUL'").fetchone()[0] == "\\N"
