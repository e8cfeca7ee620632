"""The corner-point form of a parcel (cadastre/corners.py): tables as boundary acts write them
(DMS, Russian/Kazakh headers, plot and point numbers, a repeated closing point), point lists,
the CRSs of uploads brought to WGS 84 by the datum policy; errors that name the line and column
in kk/ru/en; the same answers as the GeoJSON form from POST /api/parcels/check; an application
filed with corners, and the licence granted on one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from cadastre import granting, workbench
from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, demo_pki
from cadastre.parcels import parse_parcel
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from layers.datum import onshore_transformer
from tests.applicants import programme_database, session_token, signed

# A 2' x 1' rectangle at 70° E 48° N, in the acts' own notation (points out of order, the first
# point repeated to close the ring, the plot number only on its first row).
TABLE = """№ участка;№ точки;Широта, с.ш.;Долгота, в.д.
1;1;48°00'00"N;70°00'00"E
;3;48°01'00";70°02'00"
;2;48 00 00;70 02 00
;4;48°01′00″;70°00′00″
;5;48°00'00";70°00'00"
"""
RECTANGLE = shapely.box(70, 48, 70 + 2 / 60, 48 + 1 / 60)


def near(geometry: shapely.Geometry, tolerance: float = 1e-7) -> bool:
    """The rectangle, to about a centimetre (decimal and millimetre tables round)."""
    return shapely.hausdorff_distance(geometry, RECTANGLE) < tolerance


def test_a_table_in_dms_is_the_rectangle_it_describes():
    parcel = parse_parcel({"corners": TABLE})
    assert parcel.kind == "polygon" and len(parcel.geometry.geoms) == 1
    assert near(parcel.geometry, 1e-12)  # sexagesimal minutes are exact
    # The same as {"table": ...} with the CRS named, and in Kazakh headers with commas.
    assert parse_parcel({"corners": {"table": TABLE, "crs": "EPSG:4326"}}).geometry.equals(parcel.geometry)
    kazakh = ("учаске,нүкте,ендік,бойлық\n" "A,1,48.0,70.0\n" "A,2,48.0,70.0333333333\n"
              "A,3,48.0166666667,70.0333333333\n" "A,4,48.0166666667,70.0\n")
    assert near(parse_parcel({"corners": kazakh}).geometry)


def test_several_plots_make_a_multipolygon():
    second = TABLE.replace("70°0", "70°1").replace("70 0", "70 1").replace("1;1;", "2;1;")
    body = TABLE + "".join(second.splitlines(keepends=True)[1:])
    geometry = parse_parcel({"corners": body}).geometry
    assert len(geometry.geoms) == 2
    assert geometry.area == pytest.approx(2 * RECTANGLE.area, rel=1e-9)


def test_points_and_the_crss_of_uploads():
    points = [{"lat": "48°00'00\"", "lon": "70°00'00\""}, {"lat": "48°00'00\"", "lon": "70°02'00\""},
              {"lat": "48°01'00\"", "lon": "70°02'00\""}, {"lat": 48 + 1 / 60, "lon": 70}]
    wgs = parse_parcel({"corners": {"points": points}}).geometry
    assert near(wgs)
    # Pulkovo 1942 degrees go through EPSG:1291, as uploads and the grid do (tens of metres off).
    pulkovo = parse_parcel({"corners": {"points": points, "crs": "EPSG:4284"}}).geometry
    lat, lon = onshore_transformer().transform(48.0, 70.0)
    first = shapely.get_coordinates(pulkovo)[0]
    assert (first[0], first[1]) == pytest.approx((lon, lat), abs=1e-9)
    assert 50 < shapely.distance(shapely.Point(70, 48), shapely.Point(first)) * 111_000 < 150
    # UTM 42N metres (x the easting), against pyproj directly.
    to_utm = Transformer.from_crs(4326, 32642, always_xy=True)
    metres = [dict(zip(("x", "y"), to_utm.transform(x, y), strict=True)) for x, y in RECTANGLE.exterior.coords[:-1]]
    utm = parse_parcel({"corners": {"points": metres, "crs": "EPSG:32642"}}).geometry
    assert near(utm)
    text = "x;y\n" + "\n".join(f"{p['x']:.3f};{p['y']:.3f}".replace(".", ",") for p in metres)
    assert near(parse_parcel({"corners": {"table": text, "crs": "EPSG:32642"}}).geometry)


BAD = [
    # (form, field, code)
    (TABLE.replace("48 00 00;70 02 00", "48 00 00;70 62 00"), "parcel.corners.table[4].Долгота, в.д.",
     "parcel.corners_dms_range"),
    (TABLE.replace("48 00 00;70 02 00", "48 00 00;70х02"), "parcel.corners.table[4].Долгота, в.д.",
     "parcel.corners_bad_coordinate"),
    (TABLE.replace("48°01'00\";70°02'00\"", "98°01'00\";70°02'00\""), "parcel.corners.table[3].Широта, с.ш.",
     "parcel.corners_out_of_range"),
    (TABLE.replace(";3;", ";три;"), "parcel.corners.table[3].№ точки", "parcel.corners_point_number"),
    (TABLE.replace(";3;48°01'00\";70°02'00\"", ";2;48°01'00\";70°02'00\""), "parcel.corners.table[4]",
     "parcel.corners_duplicate_number"),
    ("№;Широта;Долгота\n1;48;70\n1;48;70.1\n", "parcel.corners.table", "parcel.corners_too_few"),
    ("a;b\n1;2\n", "parcel.corners.table", "parcel.corners_columns"),
    ({"table": TABLE, "crs": "EPSG:3857"}, "parcel.corners.crs", "parcel.corners_crs"),
    ({"points": [{"lat": 48, "lon": 70}, {"lat": 48, "lon": 70.1}, {"lat": 48.1}]}, "parcel.corners.points[2]",
     "parcel.corners_point"),
    ({"points": [{"lat": 48, "lon": 70}, {"lat": "48°70'", "lon": 70.1}, {"lat": 48.1, "lon": 70}]},
     "parcel.corners.points[1].lat", "parcel.corners_dms_range"),
    ({"table": TABLE, "points": []}, "parcel.corners", "parcel.corners_form"),
    (42, "parcel.corners", "parcel.corners_form"),
]


@pytest.mark.parametrize(("form", "field", "code"), BAD)
def test_errors_name_the_row_and_column(form, field, code):
    with pytest.raises(Problem) as err:
        parse_parcel({"corners": form})
    assert (err.value.key, err.value.location.field) == (code, field)
    texts = {lang: err.value.render(lang)["detail"] for lang in ("kk", "ru", "en")}
    assert len(set(texts.values())) == 3 and all(field in t for t in texts.values())


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_check_api_reads_corners_as_it_reads_geojson(client: TestClient, lang):
    headers = {"Accept-Language": lang}
    by_corners = client.post("/api/parcels/check", json={"parcel": {"corners": TABLE}}, headers=headers)
    assert by_corners.status_code == 200, by_corners.text
    # The same polygon as GeoJSON answers the same (overlaps, blocks, area, geometry).
    same = shapely.geometry.mapping(parse_parcel({"corners": TABLE}).geometry)
    by_geojson = client.post("/api/parcels/check", json={"parcel": {"geometry": same}}, headers=headers)
    assert by_corners.json() == by_geojson.json()
    assert by_corners.json()["blocks"]["count"] == 2
    bad = TABLE.replace("48 00 00;70 02 00", "48 00 00;70 62 00")
    r = client.post("/api/parcels/check", json={"parcel": {"corners": bad}}, headers=headers)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "parcel.corners.table[4].Долгота, в.д." and r.json()["feature"] == 1
    field = "parcel.corners.table[4].Долгота, в.д."
    assert r.json()["detail"] == translate("parcel.corners_dms_range", lang, field=field, value="70 62 00", line=4,
                                           column="Долгота, в.д.")


# --- in an application ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_corners") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    directory = Path(tmp_path_factory.mktemp("corners")) / "pki"
    with psycopg.connect(app_db) as conn:
        load_people(conn, directory)
        conn.commit()
    return demo_pki(directory)


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    with TestClient(create_app(dataclasses.replace(get_settings(), database_url=app_db))) as c:
        yield c


def mining(api: TestClient, app_db: str, pki: DemoPki, corners: Any) -> tuple[dict[str, Any], Any]:
    me = pki.person("applicant")
    with psycopg.connect(app_db, autocommit=True) as db:
        headers = {"Authorization": f"Bearer {session_token(db, me.person.iin)}", "Accept-Language": "ru"}
        account = db.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (me.person.iin,)).fetchone()[0]
        doc = db.execute("INSERT INTO documents (owner_account_id, owner_iin, file_name, content_type, size, sha256, "
                         "access_level, uploaded_by) VALUES (%s, %s, 'act.pdf', 'application/pdf', 1, %s, "
                         "'confidential', 'test') RETURNING id", (account, me.person.iin, "1" * 64)).fetchone()[0]
    app = {"kind": "mining-licence", "applicant": {"iin": me.person.iin}, "mineral": "gold",
           "parcel": {"corners": corners}, "documents": [doc]}
    return app, api.post("/api/applications", json=signed(app, me.sign("rsa")), headers=headers)


def test_an_application_with_corners_and_its_licence(api, app_db, pki):
    app, r = mining(api, app_db, pki, {"table": TABLE, "crs": "EPSG:4326"})
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    number = r.json()["number"]
    # A fault in the table is the refusal's reason, named by line and column, in the request's language.
    _, r = mining(api, app_db, pki, TABLE.replace("48 00 00;70 02 00", "48 00 00;70х02"))
    assert r.status_code == 201 and r.json()["status"] != "accepted", r.text
    (reason,) = r.json()["reasons"]
    assert reason["code"] == "parcel.corners_bad_coordinate"
    assert reason["field"] == "parcel.corners.table[4].Долгота, в.д."
    assert reason["message"].startswith("Строка 4, столбец 'Долгота, в.д.'")
    # Granted (mining licences have no declared procedure yet: the hook is called as a run would),
    # the licence's geometry is the polygon the corners describe.
    with psycopg.connect(app_db) as conn:
        row = conn.execute("SELECT id, account_id, received_at FROM applications WHERE number = %s",
                           (number,)).fetchone()
        granting.licence_from_application(conn, workbench.GrantedApplication(
            row[0], number, "mining-licence", "gold", app["applicant"]["iin"], None, row[1], "solid-minerals",
            row[2], app, [], [], dt.datetime.now(dt.UTC), "IIN880409400785", "none"))
        conn.commit()
    licence = api.get(f"/api/licences/{granting.licence_number(number)}").json()
    geometry = shapely.geometry.shape(licence["geometry"])
    assert near(geometry)
