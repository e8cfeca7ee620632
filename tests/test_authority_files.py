"""Uploads in the shapes authorities really send (issue 6): corner-point tables numbered by the
layer's own key, attribute lists without a name, and values given for the whole file
(``defaults`` over HTTP, ``--set`` on the command line). Against real PostGIS, over HTTP and the
CLI, UTF-8 and cp1251."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from importers.pipeline import polygon_number_columns
from importers.sources import read_upload
from layers.access import create_token
from layers.catalog import GEOLOGICAL_STUDIES, RESTRICTION_ZONES
from tests.helpers import feature_collection, sealed, snapshot, square, write_json

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
LAYERS = ("restriction-zones", "geological-studies")

# A prohibited zone around a settlement in Karaganda region, as an akimat's act lists it: corner
# points in degrees-minutes-seconds, no name, no kind, no regime.
ZONE_7 = [("1", "49°12'30\"", "77°10'05\""), ("2", "49°12'30\"", "77°15'00\""),
          ("3", "49°10'30\"", "77°15'00\""), ("4", "49°10'30\"", "77°10'05\"")]
ZONE_8 = [("1", "49°20'", "77°30'"), ("2", "49°20'", "77°36'"), ("3", "49°24'", "77°33'")]


def dms(text: str) -> float:
    d, rest = text.split("°")
    m, rest = (rest.split("'") + [""])[:2] if "'" in rest else ("0", rest)
    s = rest.rstrip('"') or "0"
    return int(d) + int(m) / 60 + float(s) / 3600


def corner_csv(path: Path, header: tuple[str, ...], polygons: dict[str, list[tuple[str, str, str]]],
               encoding: str = "utf-8", delimiter: str = ",", suffix: tuple[str, str] = ("", "")) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for key, points in polygons.items():
        for number, lat, lon in points:
            writer.writerow((key, number, lat + suffix[0], lon + suffix[1]))
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def operator(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "authority files")
        conn.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _keep_current(keep_current: None) -> None:
    """These tests replace whole layers; other modules' data on the same test database is made
    current again after each (conftest's keep_current)."""


def post(client: TestClient, layer: str, path: Path, headers: dict[str, str], **fields: str):
    return client.post(f"/api/layers/{layer}/uploads", headers=headers,
                       files={"file": (path.name, path.read_bytes())}, data=fields)


def rows(db: psycopg.Connection, table: str, columns: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r[1:] for r in db.execute(f"SELECT feature_id, {columns} FROM public.{table}")}  # noqa: S608


def notes(body: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [n for n in body["report"]["notes"] if n["code"] == code]


ZONE_DEFAULTS = json.dumps({"kind": "settlement", "regime": "prohibited"})


# --- the reader takes the layer's key as the polygon number --------------------------------------

def test_reader_groups_by_the_key_only_when_told(tmp_path):
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"), {"Z-7": ZONE_7, "Z-8": ZONE_8})
    alone = read_upload(path, path.name)
    # Without the layer's hint the generic reader does not know "zone_id": points, one per row.
    assert alone.format == "csv" and len(alone.geometries) == 7 and alone.id_column is None
    hinted = read_upload(path, path.name, id_columns=polygon_number_columns(RESTRICTION_ZONES, None))
    assert hinted.format == "corner-table" and hinted.id_column == "zone_id"
    assert hinted.columns == {"zone_id": ["Z-7", "Z-8"]}
    z7 = hinted.geometries[0]
    assert z7.geom_type == "Polygon" and len(z7.exterior.coords) == 5
    assert z7.exterior.coords[0] == pytest.approx((dms("77°10'05\""), dms("49°12'30\"")), abs=1e-12)
    # The layer's key wins over a generic number column (here a running row number).
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("№,zone_id,lat,lon\n1,A,49,77\n2,A,49,77.1\n3,A,49.1,77.1\n4,B,50,78\n5,B,50,78.1\n"
                        "6,B,50.1,78\n", encoding="utf-8")
    table = read_upload(numbered, numbered.name, id_columns=polygon_number_columns(RESTRICTION_ZONES, None))
    assert (table.format, table.id_column, table.columns["zone_id"]) == ("corner-table", "zone_id", ["A", "B"])
    assert table.columns["№"] == ["1", "4"]
    assert read_upload(numbered, numbered.name).format == "csv"  # unique "№": points
    # The key's Russian name and aliases, and the studies' key, are accepted too.
    names = polygon_number_columns(RESTRICTION_ZONES, None)
    assert {"zone_id", "номер зоны", "Номер зоны", "Аймақ нөмірі", "Zone id"} <= set(names)
    assert {"study_id", "инв", "Номер работы"} <= set(polygon_number_columns(GEOLOGICAL_STUDIES, None))
    assert polygon_number_columns(RESTRICTION_ZONES, {"Контур зоны": "zone_id", "x": "name"})[0] == "Контур зоны"


# --- HTTP ----------------------------------------------------------------------------------------

def test_zone_corner_table_with_defaults_over_http(client, operator, db, tmp_path):
    path = corner_csv(tmp_path / "запретная зона.csv", ("zone_id", "point", "lat", "lon"),
                      {"Z-7": ZONE_7, "Z-8": ZONE_8})
    r = post(client, "restriction-zones", path, operator, defaults=ZONE_DEFAULTS)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "corner-table" and body["feature_count"] == 2
    assert body["defaults"] == {"kind": "settlement", "regime": "prohibited"}
    got = rows(db, "restriction_zones", "zone_id, name, kind, regime, ST_NPoints(geom), ST_XMin(geom), ST_YMax(geom)")
    assert got["Z-7"][:5] == ("Z-7", "Z-7", "settlement", "prohibited", 5)
    assert got["Z-8"][:5] == ("Z-8", "Z-8", "settlement", "prohibited", 4)
    assert got["Z-7"][5] == pytest.approx(dms("77°10'05\""), abs=1e-9)
    assert got["Z-7"][6] == pytest.approx(dms("49°12'30\""), abs=1e-9)
    assert set(got) == {"Z-7", "Z-8"}
    # The report says the name was taken from the key, in all three languages.
    (filled,) = notes(body, "note.filled_from")
    assert (filled["attribute"], filled["source"], filled["count"]) == ("name", "zone_id", 2)
    assert "zone_id" in filled["message"]["en"] and "алынды" in filled["message"]["kk"]
    assert "взято" in filled["message"]["ru"]
    assert {n["attribute"]: n["count"] for n in notes(body, "note.default_applied")} == {"kind": 2, "regime": 2}
    # The values are recorded with the version.
    versions = client.get("/api/layers/restriction-zones/versions").json()["versions"]
    assert versions[0]["version"] == body["version"]
    assert versions[0]["defaults"] == {"kind": "settlement", "regime": "prohibited"}
    stored = db.execute("SELECT defaults FROM layer_versions WHERE layer_id = 'restriction-zones' AND version = %s",
                        (body["version"],)).fetchone()[0]
    assert stored == {"kind": "settlement", "regime": "prohibited"}
    # The same zones again: same ids (stable across versions), no defaults recorded this time.
    again = post(client, "restriction-zones", write_json(tmp_path / "z.geojson", feature_collection(
        [(square(77.2, 49.2, 0.01), {"zone_id": "Z-7", "name": "Посёлок", "kind": "settlement",
                                     "regime": "prohibited"})])), operator, mode="append")
    assert again.status_code == 201, again.text
    assert again.json()["feature_count"] == 2 and again.json()["defaults"] == {}
    assert client.get("/api/layers/restriction-zones/versions").json()["versions"][0]["defaults"] == {}
    assert rows(db, "restriction_zones", "name")["Z-7"] == ("Посёлок",)


def test_cp1251_corner_table_with_russian_headers(client, operator, db, tmp_path):
    path = corner_csv(tmp_path / "zones.csv", ("Номер_зоны", "Точка", "Широта", "Долгота"),
                      {"СЗ-1": ZONE_7, "СЗ-2": ZONE_8}, encoding="cp1251", delimiter=";",
                      suffix=(" с.ш.", " в.д."))
    defaults = json.dumps({"kind": "Населённый пункт", "regime": "Запрещено", "basis": "Решение акимата № 12"},
                          ensure_ascii=False)
    r = post(client, "restriction-zones", path, {**operator, "Accept-Language": "ru"}, defaults=defaults)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["report"]["encoding"] == "cp1251"
    assert body["report"]["columns"]["matched"]["zone_id"] == "Номер_зоны"
    # Labels in Russian are stored as the catalog's values.
    assert body["defaults"] == {"kind": "settlement", "regime": "prohibited", "basis": "Решение акимата № 12"}
    got = rows(db, "restriction_zones", "zone_id, name, kind, regime, basis")
    assert got == {"СЗ-1": ("СЗ-1", "СЗ-1", "settlement", "prohibited", "Решение акимата № 12"),
                   "СЗ-2": ("СЗ-2", "СЗ-2", "settlement", "prohibited", "Решение акимата № 12")}


def test_plain_polygon_number_column_becomes_the_key(client, operator, db, tmp_path):
    # "Контур" is a generic polygon-number column, not an alias of zone_id: its values still
    # become the zones' ids (and names), and the report says so.
    path = corner_csv(tmp_path / "contours.csv", ("Контур", "№ точки", "Широта", "Долгота"), {"K1": ZONE_7})
    r = post(client, "restriction-zones", path, operator, defaults=ZONE_DEFAULTS, dry_run="true")
    assert r.status_code == 201, r.text
    body = r.json()
    (grouped,) = notes(body, "note.key_from_corner_column")
    assert (grouped["column"], grouped["attribute"]) == ("Контур", "zone_id")
    assert set(grouped["message"]) == {"kk", "ru", "en"}
    assert body["report"]["columns"] == {"matched": {"zone_id": "Контур"}, "extra": []}


def test_file_values_win_and_defaults_fill_empty_cells(client, operator, db, tmp_path):
    fc = feature_collection([
        (square(70.0, 48.0), {"zone_id": "F1", "name": "Қорық", "kind": "protected-area", "regime": "conditional"}),
        (square(70.2, 48.0), {"zone_id": "F2", "name": "", "kind": None, "regime": ""}),
        (square(70.4, 48.0), {"zone_id": "F3", "kind": "military-range"}),
    ])
    r = post(client, "restriction-zones", write_json(tmp_path / "mixed.geojson", fc), operator,
             defaults=json.dumps({"kind": "other", "regime": "prohibited"}))
    assert r.status_code == 201, r.text
    got = rows(db, "restriction_zones", "name, kind, regime")
    assert got == {"F1": ("Қорық", "protected-area", "conditional"),
                   "F2": ("F2", "other", "prohibited"),
                   "F3": ("F3", "military-range", "prohibited")}
    body = r.json()
    assert {n["attribute"]: n["count"] for n in notes(body, "note.default_applied")} == {"kind": 1, "regime": 2}
    assert [(n["source"], n["count"]) for n in notes(body, "note.filled_from")] == [("zone_id", 2)]


def test_studies_without_names_cp1251_table(client, operator, db, tmp_path):
    # An attribute list as the operator keeps it: id, type, years, organisation, report, access.
    text = ("Номер;Вид работ;Год начала;Год окончания;Организация;Отчёт;Гриф;WKT\r\n"
            "ГС-1;Геофизические работы;1975;1978;ПГО Центрказгеология;Фонд № 1234;открытая;"
            "POLYGON((70 48,70.3 48,70.3 48.2,70 48.2,70 48))\r\n"
            "ГС-2;Разведка;1980;;;;ДСП;POLYGON((71 48,71.3 48,71.3 48.2,71 48.2,71 48))\r\n")
    path = tmp_path / "изученность.csv"
    path.write_bytes(text.encode("cp1251"))
    r = post(client, "geological-studies", path, operator)
    assert r.status_code == 201, r.text
    got = rows(db, "geological_studies", "name, study_type, year_start, year_end, report_ref, access_level")
    assert got == {"ГС-1": ("Фонд № 1234", "geophysical", 1975, 1978, "Фонд № 1234", "public"),
                   "ГС-2": ("ГС-2", "exploration", 1980, None, None, "official-use")}
    filled = {n["source"]: n["count"] for n in notes(r.json(), "note.filled_from")}
    assert filled == {"report_ref": 1, "study_id": 1}


def test_study_corner_table_keyed_by_study_id(client, operator, db, tmp_path):
    path = corner_csv(tmp_path / "studies.csv", ("study_id", "point", "lat", "lon"), {"ИНВ-77": ZONE_7})
    r = post(client, "geological-studies", path, operator,
             defaults=json.dumps({"study_type": "geophysical", "year_start": 1975, "access_level": "ДСП"}))
    assert r.status_code == 201, r.text
    assert r.json()["defaults"] == {"study_type": "geophysical", "year_start": 1975, "access_level": "official-use"}
    got = rows(db, "geological_studies", "name, study_type, year_start, access_level, ST_NPoints(geom)")
    assert got == {"ИНВ-77": ("ИНВ-77", "geophysical", 1975, "official-use", 5)}


def test_without_defaults_the_missing_attribute_is_named(client, operator, db, tmp_path):
    # Not the name (it falls back to the key) but the kind, and the message points at defaults.
    before = snapshot(db, "restriction-zones")
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"), {"Z-7": ZONE_7})
    r = post(client, "restriction-zones", path, operator)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"].endswith("upload.missing_attribute") and body["field"] == "kind"
    assert "defaults" in body["detail"]
    assert snapshot(db, "restriction-zones") == before
    # No key and no name: nothing to name the feature after.
    fc = feature_collection([(square(70, 48), {"kind": "other", "regime": "prohibited"})])
    r = post(client, "restriction-zones", write_json(tmp_path / "anon.geojson", fc), operator)
    assert r.status_code == 422 and r.json()["field"] == "name"
    # An empty name with an empty key: reported at the feature.
    fc = feature_collection([(square(70, 48), {"zone_id": "N1", "name": "n", "kind": "other", "regime": "prohibited"}),
                             (square(70.2, 48), {"zone_id": "", "name": "", "kind": "other",
                                                 "regime": "prohibited"})])
    r = post(client, "restriction-zones", write_json(tmp_path / "blank.geojson", fc), operator)
    assert r.status_code == 422
    errors = {(e["code"], e["feature"], e["field"]) for e in r.json()["errors"]}
    assert errors == {("attribute.required", 2, "name"), ("attribute.required", 2, "zone_id")}
    assert snapshot(db, "restriction-zones") == before


@pytest.mark.parametrize(("layer", "defaults", "status", "code", "attribute"), [
    ("restriction-zones", {"kind": "settlement", "regime": "maybe"}, 422, "defaults.bad_value", "regime"),
    ("restriction-zones", {"kind": "settlement", "regime": "prohibited", "colour": "red"}, 422,
     "defaults.unknown_attribute", "colour"),
    ("geological-studies", {"study_type": "geophysical", "year_start": "nineteen seventy"}, 422,
     "defaults.bad_value", "year_start"),
    ("restriction-zones", {"kind": ["settlement"], "regime": "prohibited"}, 422, "defaults.bad_value", "kind"),
    ("restriction-zones", "kind=settlement", 400, "upload.bad_defaults", None),
    ("restriction-zones", ["kind", "settlement"], 400, "upload.bad_defaults", None),
])
def test_bad_defaults_are_refused_and_change_nothing(client, operator, db, tmp_path, layer, defaults, status, code,
                                                     attribute):
    before = snapshot(db, layer)
    versions = client.get(f"/api/layers/{layer}/versions").json()
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"), {"Z-7": ZONE_7})
    field = defaults if isinstance(defaults, str) else json.dumps(defaults)
    for lang, word in (("en", "defaults"), ("ru", "defaults"), ("kk", "defaults")):
        r = post(client, layer, path, {**operator, "Accept-Language": lang}, defaults=field)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["content-language"] == lang
        body = r.json()
        assert body["type"] == f"urn:geoservice:problem:{code}" and body["field"] == "defaults"
        assert word in body["detail"]
        if attribute:
            assert attribute in body["detail"]
            assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, "defaults")]
    if code == "defaults.bad_value":
        texts = {lang: post(client, layer, path, {**operator, "Accept-Language": lang}, defaults=field).json()["detail"]
                 for lang in ("en", "ru", "kk")}
        assert "does not fit" in texts["en"] and "не подходит" in texts["ru"] and "сәйкес келмейді" in texts["kk"]
    assert snapshot(db, layer) == before
    assert client.get(f"/api/layers/{layer}/versions").json() == versions


def test_several_bad_defaults_are_all_listed(client, operator, db, tmp_path):
    before = snapshot(db, "restriction-zones")
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"), {"Z-7": ZONE_7})
    r = post(client, "restriction-zones", path, {**operator, "Accept-Language": "kk"},
             defaults=json.dumps({"kind": "volcano", "regime": "maybe", "valid_from": "yesterday", "x": 1}))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"].endswith("defaults.invalid") and body["field"] == "defaults"
    assert "4" in body["detail"] and "қабылданбады" in body["detail"]
    assert [e["code"] for e in body["errors"]] == ["defaults.bad_value"] * 3 + ["defaults.unknown_attribute"]
    assert all(e["field"] == "defaults" for e in body["errors"])
    assert "volcano" in body["errors"][0]["message"] and "yesterday" in body["errors"][2]["message"]
    assert snapshot(db, "restriction-zones") == before
    sealed(db)
    rejected = db.execute("SELECT detail->>'problem' FROM journal WHERE result = 'rejected' ORDER BY seq DESC LIMIT 1"
                          ).fetchone()[0]
    assert rejected == "defaults.invalid"


def test_key_grouping_too_few_points_is_a_clear_error(client, operator, db, tmp_path):
    before = snapshot(db, "restriction-zones")
    # Z-9's rows were typed with a wrong id on the third row: two polygons of two points each.
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"),
                      {"Z-7": ZONE_7, "Z-9": ZONE_8[:2], "Z-90": ZONE_8[2:]})
    for lang, word in (("en", "Polygon"), ("ru", "полигон"), ("kk", "көпбұрыш")):
        r = post(client, "restriction-zones", path, {**operator, "Accept-Language": lang}, defaults=ZONE_DEFAULTS)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["type"].endswith("csv.corner_too_few_points")
        assert (body["file"], body["feature"], body["field"]) == ("zones.csv", 2, "zone_id")
        assert "Z-9" in body["detail"] and "zone_id" in body["detail"] and word in body["detail"]
    assert snapshot(db, "restriction-zones") == before


def test_layer_description_says_where_a_missing_name_comes_from(client):
    attrs = {a["name"]: a for a in client.get("/api/layers/geological-studies").json()["attributes"]}
    assert attrs["name"]["filled_from"] == ["report_ref", "study_id"]
    assert "filled_from" not in attrs["study_type"]
    zones = {a["name"]: a for a in client.get("/api/layers/restriction-zones").json()["attributes"]}
    assert zones["name"]["filled_from"] == ["zone_id"]


def test_upload_form_documents_defaults(client):
    spec = client.get("/openapi.json").json()
    form = spec["paths"]["/api/layers/{layer_id}/uploads"]["post"]["requestBody"]["content"]["multipart/form-data"]
    described = form["schema"]["properties"]["defaults"]
    assert described["type"] == "string" and "settlement" in described["description"]


# --- CLI -----------------------------------------------------------------------------------------

def run(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(GEOSERVICE + args, capture_output=True, text=True, env=env, timeout=120)


def test_cli_imports_cp1251_corner_table_with_set(database_url, db, tmp_path):
    path = corner_csv(tmp_path / "zones.csv", ("номер_зоны", "точка", "широта", "долгота"),
                      {"СЗ-7": ZONE_7, "СЗ-8": ZONE_8}, encoding="cp1251", delimiter=";")
    res = run(["import", "restriction-zones", str(path), "--encoding", "cp1251",
               "--set", "kind=settlement", "--set", "regime=запрещено"], database_url)
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["defaults"] == {"kind": "settlement", "regime": "prohibited"}
    assert result["feature_count"] == 2 and result["format"] == "corner-table"
    assert [n["source"] for n in result["report"]["notes"] if n["code"] == "note.filled_from"] == ["zone_id"]
    got = rows(db, "restriction_zones", "name, kind, regime, ST_NPoints(geom)")
    assert got == {"СЗ-7": ("СЗ-7", "settlement", "prohibited", 5), "СЗ-8": ("СЗ-8", "settlement", "prohibited", 4)}
    stored = db.execute("SELECT defaults FROM layer_versions WHERE layer_id = 'restriction-zones' AND version = %s",
                        (result["version"],)).fetchone()[0]
    assert stored == {"kind": "settlement", "regime": "prohibited"}


def test_cli_set_fills_only_empty_cells(database_url, db, tmp_path):
    text = ("study_id,study_type,year_start,report_ref,wkt\n"
            "S1,geophysical,1970,,\"POLYGON((70 48,70.3 48,70.3 48.2,70 48.2,70 48))\"\n"
            "S2,,,Фонд 9,\"POLYGON((71 48,71.3 48,71.3 48.2,71 48.2,71 48))\"\n")
    path = tmp_path / "studies.csv"
    path.write_text(text, encoding="utf-8")
    res = run(["import", "geological-studies", str(path), "--set", "study_type=exploration",
               "--set", "year_start=1988"], database_url)
    assert res.returncode == 0, res.stderr
    got = rows(db, "geological_studies", "name, study_type, year_start")
    assert got == {"S1": ("S1", "geophysical", 1970), "S2": ("Фонд 9", "exploration", 1988)}


@pytest.mark.parametrize(("args", "status", "code", "needle"), [
    (["--set", "kind=settlement", "--set", "regime=maybe"], 422, "defaults.bad_value", "regime"),
    (["--set", "kind=settlement", "--set", "regime=prohibited", "--set", "colour=red"], 422,
     "defaults.unknown_attribute", "colour"),
    (["--set", "kind"], 400, "upload.bad_defaults", "--set"),
])
def test_cli_bad_set_is_refused_and_changes_nothing(database_url, db, tmp_path, args, status, code, needle):
    before = snapshot(db, "restriction-zones")
    path = corner_csv(tmp_path / "zones.csv", ("zone_id", "point", "lat", "lon"), {"Z-7": ZONE_7})
    res = run(["import", "restriction-zones", str(path), "--lang", "kk", *args], database_url)
    assert res.returncode == 2, res.stdout
    problem = json.loads(res.stderr)
    assert (problem["status"], problem["type"], problem["field"]) == (status, f"urn:geoservice:problem:{code}",
                                                                      "defaults")
    assert needle in problem["detail"]
    if code == "defaults.bad_value":
        assert "сәйкес келмейді" in problem["detail"]
    assert snapshot(db, "restriction-zones") == before


def test_cli_corner_table_too_few_points(database_url, db, tmp_path):
    before = snapshot(db, "restriction-zones")
    path = corner_csv(tmp_path / "zones.csv", ("Номер зоны", "Точка", "Широта", "Долгота"),
                      {"Z-7": ZONE_7, "Z-9": ZONE_8[:2]}, encoding="cp1251")
    res = run(["import", "restriction-zones", str(path), "--set", "kind=settlement", "--set", "regime=prohibited",
               "--lang", "ru"], database_url)
    assert res.returncode == 2
    problem = json.loads(res.stderr)
    assert problem["type"].endswith("csv.corner_too_few_points")
    assert (problem["feature"], problem["field"]) == (2, "Номер зоны")
    assert "«Z-9»" in problem["detail"] and "Номер зоны" in problem["detail"] and "2" in problem["detail"]
    assert snapshot(db, "restriction-zones") == before
