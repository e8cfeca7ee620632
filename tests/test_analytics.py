"""Analytics for the authorities (issue 11): every chart's counts on a small known data set, under
each filter; the CSV and XLSX downloads carry the same rows; the authority roles; the regions.

The module has a database of its own (its licences, obligations and auctions would change what
other modules count, and obligations are never deleted). The data set lives in 1998-1999 and the
charts are mostly read ``at=1999-12-31``."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from psycopg import sql
from psycopg.types.json import Jsonb

from cadastre import analytics
from geoservice.kernel.db import with_database
from tests.people import ensure_people, session_for

AT = "1999-12-31"
# Points inside a region (and one in the Caspian, outside every region).
ASTANA, ALMATY, SHYMKENT, KARAGANDA, CASPIAN = (71.43, 51.13), (76.92, 43.25), (69.6, 42.32), (73.1, 49.8), (49.5, 44.0)


def square(point: tuple[float, float], size: float = 0.02) -> str:
    lon, lat = point
    return (f"MULTIPOLYGON((({lon} {lat}, {lon + size} {lat}, {lon + size} {lat + size}, {lon} {lat + size}, "
            f"{lon} {lat})))")


def licence(conn: psycopg.Connection, number: str, states: list[dict[str, Any]]) -> None:
    conn.execute("INSERT INTO licence_records (number, source) VALUES (%s, 'test')", (number,))
    for s in states:
        conn.execute(
            "INSERT INTO licence_states (number, valid_from, valid_to, holder_bin, holder_name, kind, mineral, blocks, "
            "geom, issued_on, status) VALUES (%s, %s, %s, '990340000001', 'ТОО Тест', %s, %s, %s, "
            "ST_GeomFromText(%s, 4326), %s, %s)",
            (number, s["from"], s.get("to"), s["kind"], s.get("mineral"), [f"B{i}" for i in range(s["blocks"])],
             square(s["at"]), s["issued"], s.get("status", "active")))


def obligation(conn: psycopg.Connection, number: str, key: str, due: str, status: str, since: str,
               until: str | None = None) -> None:
    conn.execute(
        "INSERT INTO obligations (number, key, kind, due_on, basis, status, valid_from, valid_to, opened_by, "
        "opened_basis, closed_at, closed_by, closed_basis) VALUES (%s, %s, %s, %s, 'test', %s, %s, %s, 'test', "
        "'test', %s, %s, %s)",
        (number, key, key.split(":")[0], due, status, since, until, until and "1999-01-01T00:00:00Z",
         until and "test", until and "test"))


def application(conn: psycopg.Connection, account: int, seq: int, received: str, authority: str,
                mineral: str | None, status: str = "accepted") -> int:
    row = conn.execute(
        "INSERT INTO applications (number, year, seq, received_at, kind, mineral, applicant_bin, account_id, filed_by, "
        "canonical, signature, signature_valid, verification, verified_at, status, routed_to) VALUES "
        "(%s, 1999, %s, %s, 'exploration-licence', %s, '990340000001', %s, 'test', '{}', '\\x00', true, '{}', %s, "
        "%s, %s) RETURNING id",
        (f"APP-1999-{seq:06d}", seq, received, mineral, account, received, status, authority)).fetchone()
    assert row is not None
    return int(row[0])


def run(conn: psycopg.Connection, app_id: int, number: str, authority: str, steps: list[dict[str, Any]],
        outcome: str | None, finished: str | None) -> None:
    state = {"procedure": "exploration-licence", "version": "t", "started_at": steps[0]["started_at"],
             "status": "finished" if outcome else "running", "outcome": outcome, "reason": None,
             "returned_from": None, "finished_at": finished,
             "steps": [{"return_due": None, "finished_at": None, "action": None, "reason": None, **s} for s in steps]}
    current = None if outcome else steps[-1]
    conn.execute(
        "INSERT INTO procedure_runs (application_id, number, procedure, authority, state, step, stage, role, due_at, "
        "status, outcome, started_at) VALUES (%s, %s, 'exploration-licence', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (app_id, number, authority, Jsonb(state), None if current is None else len(steps) - 1,
         current and current["stage"], current and current["role"], current and current["due"],
         "finished" if outcome else "running", outcome, steps[0]["started_at"]))


def auction(conn: psycopg.Connection, n: int, authority: str, mineral: str, point: tuple[float, float],
            status: str, closed: str, winner: int | None, bonus: str | None) -> int:
    row = conn.execute(
        "INSERT INTO auctions (number, name, kind, mineral, authority, geom, area_km2, block_count, starting_bonus, "
        "participation_fee, deposit, step, starts_at, duration, extension, ends_at, status, winner, final_bonus, "
        "closed_at, created_by) VALUES (%s, 'Тест', 'exploration-licence', %s, %s, ST_GeomFromText(%s, 4326), 4, 1, "
        "100, 0, 0, 10, %s, '1 hour', '0', %s::timestamptz + interval '1 hour', %s, %s, %s, %s, 'test') RETURNING id",
        (f"AUC-1999-{n:04d}", mineral, authority, square(point), closed, closed, status, winner, bonus, closed)
    ).fetchone()
    assert row is not None
    return int(row[0])


def T(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+05:00"


@pytest.fixture(scope="module")
def own_db(database_url: str) -> Iterator[str]:
    name = f"geoservice_analytics_{uuid.uuid4().hex[:8]}"
    admin = with_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(database_url, name)
    try:
        from geoservice.migrate import migrate

        migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def client(own_db: str) -> Iterator[TestClient]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    with TestClient(create_app(dataclasses.replace(get_settings(), database_url=own_db))) as c:
        yield c


@pytest.fixture
def db(own_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(own_db, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def data(own_db: str) -> dict[str, int]:
    people = ensure_people(own_db)
    with psycopg.connect(own_db) as conn:
        licence(conn, "AN-1", [dict(kind="exploration", mineral="gold", blocks=3, at=ASTANA, issued="1998-03-01",
                                    **{"from": "1998-03-01"})])
        licence(conn, "AN-2", [dict(kind="mining", mineral="copper", blocks=5, at=ALMATY, issued="1998-06-15",
                                    **{"from": "1998-06-15"})])
        common = dict(kind="common-minerals", blocks=2, at=SHYMKENT, issued="1999-02-01")
        licence(conn, "AN-3", [dict(common, **{"from": "1999-02-01", "to": "1999-07-01"}),
                               dict(common, status="suspended", **{"from": "1999-07-01"})])
        oil = dict(kind="exploration", mineral="oil", blocks=4, at=KARAGANDA, issued="1999-05-10")
        licence(conn, "AN-4", [dict(oil, **{"from": "1999-05-10", "to": "1999-10-01"}),
                               dict(oil, status="terminated", **{"from": "1999-10-01"})])
        licence(conn, "AN-5", [dict(kind="exploration", mineral="gold", blocks=1, at=CASPIAN, issued="1999-08-01",
                                    **{"from": "1999-08-01"})])
        licence(conn, "AN-6", [dict(kind="exploration", mineral="gold", blocks=7, at=ASTANA, issued="2000-01-05",
                                    **{"from": "2000-01-05"})])

        obligation(conn, "AN-1", "work_report:1998", "1999-04-30", "open", "1998-03-01")
        obligation(conn, "AN-1", "minimum_spend:1", "1999-02-28", "met", "1998-03-01")
        obligation(conn, "AN-1", "expiry", "2005-03-01", "open", "1998-03-01")
        obligation(conn, "AN-1", "signature_bonus", "1998-03-11", "open", "1998-03-01", "1998-06-01")
        obligation(conn, "AN-2", "work_report:1998", "1999-04-30", "overdue", "1999-05-02")
        obligation(conn, "AN-4", "rent:1999", "1999-03-31", "open", "1999-05-10")

        account = people["applicant"]
        a1 = application(conn, account, 1, T("1999-01-10"), "solid-minerals", "gold")
        a2 = application(conn, account, 2, T("1999-01-20"), "solid-minerals", "copper")
        a3 = application(conn, account, 3, T("1999-03-01"), "akimat", None)
        application(conn, account, 4, T("1999-03-15"), "hydrocarbons", "oil", status="returned")
        officer = {"role": "officer"}
        run(conn, a1, "APP-1999-000001", "solid-minerals", [
            dict(officer, stage="register", started_at=T("1999-01-10"), due=T("1999-01-12"),
                 finished_at=T("1999-01-11"), action="forward"),
            dict(officer, stage="check", started_at=T("1999-01-11"), due=T("1999-01-20"),
                 finished_at=T("1999-02-20"), action="accept")], "granted", T("1999-02-20"))
        run(conn, a2, "APP-1999-000002", "solid-minerals", [
            dict(officer, stage="register", started_at=T("1999-01-20"), due=T("1999-01-22"),
                 finished_at=T("1999-01-25"), action="forward"),
            dict(officer, stage="check", started_at=T("1999-01-25"), due=T("1999-03-01"),
                 finished_at=T("1999-03-05"), action="refuse"),
            dict(officer, stage="prepare", started_at=T("1999-03-05"), due=None,
                 finished_at=T("1999-03-05"), action="refuse")], "refused", T("1999-03-05"))
        run(conn, a3, "APP-1999-000003", "akimat", [
            # A return by its own due time is in time, though after the stage's.
            dict(officer, stage="register", started_at=T("1999-03-01"), due=T("1999-03-01", 11),
                 return_due=T("1999-03-02"), finished_at=T("1999-03-01", 12), action="return"),
            dict(role="applicant", stage="revision", started_at=T("1999-03-01", 12), due=T("1999-03-02"),
                 finished_at=T("1999-03-10"), action="forward"),
            dict(officer, stage="check", started_at=T("1999-03-10"), due=T("1999-03-20"))], None, None)

        first = auction(conn, 1, "solid-minerals", "gold", ASTANA, "closed", T("1998-11-10"), 1, "1000000")
        auction(conn, 2, "hydrocarbons", "oil", KARAGANDA, "closed", T("1999-05-05"), 2, "2500000.50")
        auction(conn, 3, "akimat", "clay", SHYMKENT, "cancelled", T("1999-09-09"), 1, "300000")
        auction(conn, 4, "solid-minerals", "gold", ASTANA, "failed", T("1999-10-10"), None, None)
        conn.execute("INSERT INTO payments (auction_id, payer, purpose, amount, confirmed_by) "
                     "VALUES (%s, '990340000001', 'bonus', 1000000, 'test')", (first,))
        conn.commit()
    return people


@pytest.fixture(scope="module")
def http(client: TestClient, data: dict[str, int], own_db: str) -> Iterator[dict[str, Any]]:
    tokens = {role: session_for(own_db, account) for role, account in data.items()}
    yield {role: {"Authorization": f"Bearer {token}", "Accept-Language": "en"} for role, token in tokens.items()}


def rows(client: TestClient, headers: dict[str, str], chart: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/analytics/{chart}", params={"at": AT, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def by(result: list[dict[str, Any]], key: str, *columns: str) -> dict[Any, Any]:
    return {r[key]: tuple(r[c] for c in columns) if len(columns) > 1 else r[columns[0]] for r in result}


def test_licences_by_authority_mineral_status_year(client, http):
    officer = http["officer"]
    assert by(rows(client, officer, "licences_by_authority"), "authority", "licences", "blocks") == {
        "solid-minerals": (3, 9), "hydrocarbons": (1, 4), "akimat": (1, 2)}
    assert by(rows(client, officer, "licences_by_mineral"), "mineral", "licences") == {
        "gold": 2, "copper": 1, "oil": 1, None: 1}
    assert by(rows(client, officer, "licences_by_status"), "status", "licences") == {
        "active": 3, "suspended": 1, "terminated": 1}
    assert by(rows(client, officer, "licences_by_year"), "year", "licences", "blocks") == {
        1998: (2, 8), 1999: (3, 7)}
    # As of an earlier day: the states then (AN-3 active, AN-4 not yet terminated, AN-5 not issued).
    assert by(rows(client, officer, "licences_by_status", at="1999-06-30"), "status", "licences") == {"active": 4}
    names = by(rows(client, {**officer, "Accept-Language": "ru"}, "licences_by_authority"), "authority", "name")
    assert names["akimat"] == "Местный исполнительный орган (акимат)"


def test_licences_filters(client, http):
    officer = http["officer"]

    def total(**params: Any) -> int:
        return sum(r["licences"] for r in rows(client, officer, "licences_by_status", **params))

    assert total() == 5
    assert total(authority="solid-minerals") == 3
    assert total(authority="hydrocarbons") == 1
    assert total(mineral="gold") == 2
    assert total(region="KZ-71") == 1
    assert total(region="none") == 1
    assert total(since="1999-01-01") == 3
    assert total(until="1998-12-31") == 2
    assert total(since="1999-01-01", authority="solid-minerals") == 1
    assert total(at="2000-06-01") == 6  # AN-6 counted from its issue
    assert total(at="1998-01-01") == 0


def test_licences_by_region_and_the_regions(client, http, db):
    result = rows(client, http["auditor"], "licences_by_region")
    assert len(result) == 21  # the 20 regions, and the licences outside them
    counted = {r["region"]: r["licences"] for r in result if r["licences"]}
    assert counted == {"KZ-71": 1, "KZ-75": 1, "KZ-79": 1, "KZ-35": 1, None: 1}
    assert by(result, "region", "name")["KZ-71"] == "Astana (city)"
    assert rows(client, http["auditor"], "licences_by_region", region="KZ-75") == [
        {"region": "KZ-75", "name": "Almaty (city)", "licences": 1, "blocks": 5}]

    found = db.execute("SELECT count(*), count(*) FILTER (WHERE type = 'city'), "
                       "array_agg(name_ru ORDER BY code) FILTER (WHERE type = 'city') FROM regions").fetchone()
    assert found == (20, 3, ["город Астана", "город Алматы", "город Шымкент"])
    # A licence falls in the region that holds it: Almaty city, not Almaty region around it.
    assert db.execute("SELECT code FROM regions WHERE ST_Contains(geom, ST_PointOnSurface("
                      "(SELECT geom FROM licence_states WHERE number = 'AN-2')))").fetchall() == [("KZ-75",)]

    geojson = client.get("/api/basemap/regions.geojson?lang=kk")
    assert geojson.status_code == 200 and geojson.headers["content-type"] == "application/geo+json"
    features = {f["id"]: f for f in geojson.json()["features"]}
    assert len(features) == 20 and features["KZ-79"]["properties"]["name"] == "Шымкент қаласы"
    lon, lat = features["KZ-71"]["geometry"]["coordinates"][0][0][0]
    assert 71 < lon < 72 and 50.9 < lat < 51.4  # longitude first


def test_blocks_over_time(client, http):
    officer = http["officer"]
    yearly = rows(client, officer, "blocks_over_time", since="1998-01-01", until="1999-12-31", grain="year")
    assert yearly == [{"period": "1998", "blocks": 8, "licences": 2}, {"period": "1999", "blocks": 11, "licences": 4}]
    monthly = by(rows(client, officer, "blocks_over_time", since="1999-01-01", until="1999-12-31"), "period",
                 "blocks")
    assert len(monthly) == 12
    assert (monthly["1999-01"], monthly["1999-06"], monthly["1999-09"], monthly["1999-10"]) == (8, 14, 15, 11)
    hydro = rows(client, officer, "blocks_over_time", since="1999-01-01", until="1999-12-31", grain="year",
                 authority="hydrocarbons")
    assert hydro == [{"period": "1999", "blocks": 0, "licences": 0}]
    assert rows(client, officer, "blocks_over_time", since="1999-06-01", until="1999-06-30",
                region="KZ-35") == [{"period": "1999-06", "blocks": 4, "licences": 1}]


def test_applications_received_and_decided(client, http):
    officer = http["officer"]
    result = rows(client, officer, "applications", since="1999-01-01", until="1999-04-30")
    assert [(r["period"], r["received"], r["granted"], r["refused"]) for r in result] == [
        ("1999-01", 2, 0, 0), ("1999-02", 0, 1, 0), ("1999-03", 2, 0, 1), ("1999-04", 0, 0, 0)]
    solid = rows(client, officer, "applications", since="1999-01-01", until="1999-12-31", grain="year",
                 authority="solid-minerals")
    assert solid == [{"period": "1999", "received": 2, "granted": 1, "refused": 1}]
    assert rows(client, officer, "applications", since="1999-01-01", until="1999-12-31", grain="year",
                mineral="oil") == [{"period": "1999", "received": 1, "granted": 0, "refused": 0}]
    # As of 1999-02-28 the refusal of March has not happened.
    early = rows(client, officer, "applications", since="1999-01-01", until="1999-03-31", at="1999-02-28")
    assert [(r["received"], r["granted"], r["refused"]) for r in early] == [(2, 0, 0), (0, 1, 0), (0, 0, 0)]


def test_stages_within_their_deadline(client, http):
    result = rows(client, http["admin"], "stages_on_time")
    got = {(r["authority"], r["stage"]): (r["finished"], r["on_time"], r["on_time_pct"], r["overdue_now"])
           for r in result}
    assert got == {("solid-minerals", "register"): (2, 1, 50.0, 0), ("solid-minerals", "check"): (2, 0, 0.0, 0),
                   ("akimat", "register"): (1, 1, 100.0, 0), ("akimat", "check"): (0, 0, None, 1)}
    # As of 1999-01-21: the first register stage done in time, the first check overdue, the
    # second register stage (due the 22nd) not yet.
    early = rows(client, http["admin"], "stages_on_time", at="1999-01-21")
    assert {(r["authority"], r["stage"]): (r["finished"], r["on_time"], r["overdue_now"]) for r in early} == {
        ("solid-minerals", "register"): (1, 1, 0), ("solid-minerals", "check"): (0, 0, 1)}
    february = rows(client, http["admin"], "stages_on_time", since="1999-02-01", until="1999-02-28",
                    authority="solid-minerals")
    assert [(r["stage"], r["finished"], r["on_time"]) for r in february] == [("check", 1, 0)]


def test_obligations_open_and_violations(client, http):
    officer = http["officer"]
    assert by(rows(client, officer, "obligations"), "kind", "open", "overdue") == {
        "expiry": (1, 0), "rent": (0, 1), "work_report": (0, 2)}
    assert by(rows(client, officer, "obligations", authority="hydrocarbons"), "kind", "open", "overdue") == {
        "rent": (0, 1)}
    # On 1998-04-01: AN-1's bonus still open (and due before), its report and expiry not yet due.
    assert by(rows(client, officer, "obligations", at="1998-04-01"), "kind", "open", "overdue") == {
        "expiry": (1, 0), "signature_bonus": (0, 1), "work_report": (1, 0)}
    assert by(rows(client, officer, "obligations", since="1999-04-01", until="1999-04-30"), "kind", "overdue") == {
        "work_report": 2}


def test_auction_revenue(client, http):
    officer = http["officer"]
    assert rows(client, officer, "auction_revenue") == [
        {"year": 1998, "auctions": 1, "bonus": 1000000, "paid": 1000000},
        {"year": 1999, "auctions": 2, "bonus": 2800000.5, "paid": 0}]
    assert rows(client, officer, "auction_revenue", region="KZ-71") == [
        {"year": 1998, "auctions": 1, "bonus": 1000000, "paid": 1000000}]
    assert rows(client, officer, "auction_revenue", authority="akimat") == [
        {"year": 1999, "auctions": 1, "bonus": 300000, "paid": 0}]
    assert rows(client, officer, "auction_revenue", since="1999-06-01") == [
        {"year": 1999, "auctions": 1, "bonus": 300000, "paid": 0}]


def test_csv_and_xlsx_carry_the_rows(client, http):
    officer = {**http["officer"], "Accept-Language": "ru"}
    params = {"at": AT, "authority": "solid-minerals"}
    json_rows = rows(client, officer, "licences_by_mineral", authority="solid-minerals")
    as_csv = client.get("/api/analytics/licences_by_mineral.csv", params=params, headers=officer)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="licences_by_mineral-1999-12-31.csv"' in as_csv.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0] == ["Полезное ископаемое", "Наименование", "Лицензии", "Блоки"]
    assert table[1:] == [["gold", "Золото", "2", "4"], ["copper", "Медь", "1", "5"]]
    assert [[r["mineral"], r["name"], str(r["licences"]), str(r["blocks"])] for r in json_rows] == table[1:]

    as_xlsx = client.get("/api/analytics/auction_revenue.xlsx", params={"at": AT}, headers=officer)
    assert as_xlsx.status_code == 200 and "spreadsheetml" in as_xlsx.headers["content-type"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells == [["Год", "Состоявшиеся аукционы", "Подписные бонусы, тенге", "Оплачено, тенге"],
                     [1998, 1, 1000000, 1000000], [1999, 2, 2800000.5, 0]]


def test_the_list_the_roles_and_bad_filters(client, http):
    listing = client.get("/api/analytics", headers=http["auditor"])
    assert listing.status_code == 200
    body = listing.json()
    assert [c["id"] for c in body["charts"]] == list(analytics.CHARTS)
    assert "region" not in next(c for c in body["charts"] if c["id"] == "applications")["filters"]
    assert {c["id"] for c in body["choices"]["region"]} >= {"KZ-71", "KZ-75", "KZ-79", "none"}
    for path in ("/api/analytics", "/api/analytics/licences_by_region", "/api/analytics/obligations.csv"):
        anonymous = client.get(path)
        assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
        assert client.get(path, headers=http["applicant"]).status_code == 403
        assert client.get(path, headers=http["commission"]).status_code == 403
    officer = http["officer"]
    assert client.get("/api/analytics/nothing", headers=officer).status_code == 404
    assert client.get("/api/analytics/obligations.pdf", headers=officer).status_code == 404
    for params in ({"since": "yesterday"}, {"region": "KZ-00"}, {"authority": "nobody"}, {"mineral": "x"},
                   {"grain": "week"}, {"since": "1999-02-01", "until": "1999-01-01"},
                   {"since": "1000-01-01", "until": "1999-01-01"}):
        bad = client.get("/api/analytics/blocks_over_time", params=params, headers=officer)
        assert bad.status_code == 422, params
        assert bad.json()["type"].startswith("urn:geoservice:problem:analytics."), bad.json()
    ru = client.get("/api/analytics/nothing", headers={**officer, "Accept-Language": "kk"})
    assert "диаграммасы жоқ" in ru.json()["detail"]


def test_the_mapping_of_authorities_is_the_obligations_one():
    arrays = analytics.authority_arrays()
    from cadastre.obligations import authority_of

    for mineral, authority in zip(arrays["a_minerals"], arrays["a_mineral_auth"], strict=True):
        assert authority_of("mining", mineral) == authority
    for kind, authority in zip(arrays["a_kinds"], arrays["a_kind_auth"], strict=True):
        assert authority_of(kind, None) == authority
    assert json.dumps(arrays)  # plain data for the query parameters


def test_the_service_roles_writes_reach_the_charts(client, http, own_db):
    """The region of a licence the service's role issues (as the app does) is kept by the owner's
    trigger, and the chart counts it."""
    from cadastre import licences as reg
    from geoservice.kernel.settings import get_settings

    service_url = dataclasses.replace(get_settings(), database_url=own_db).service_database_url
    lon, lat = SHYMKENT
    polygon = {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01],
                                                   [lon, lat + 0.01], [lon, lat]]]}
    with psycopg.connect(service_url) as conn:
        assert conn.execute("SELECT current_user").fetchone() != ("geoservice",)
        reg.issue_licence(conn, number="AN-SVC-1", holder={"bin": "990340000001", "name": "ТОО Тест"},
                          kind="exploration-licence", mineral="clay", blocks=None, geometry=polygon,
                          issued_on=dt.date(2024, 5, 1), term_until=dt.date(2030, 5, 1), source="test",
                          basis="test", actor="test")
        conn.commit()
    with psycopg.connect(own_db) as conn:
        region = conn.execute("SELECT r.region FROM licence_state_regions r JOIN licence_states s ON s.id = r.state_id "
                              "WHERE s.number = 'AN-SVC-1'").fetchone()
        assert region == ("KZ-79",)
    current = by(rows(client, http["officer"], "licences_by_region", at="2024-05-01"), "region", "licences")
    assert (current["KZ-79"], current["KZ-71"]) == (2, 2)  # AN-3 and this one; AN-1 and AN-6
