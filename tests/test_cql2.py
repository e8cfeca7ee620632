"""CQL2 → SQL: every compiled filter is executed against PostGIS (asyncpg, as the OGC routes run
it) and judged by the rows it selects."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest
from pyproj import Transformer

from geoservice.kernel import i18n
from geoservice.kernel.db import libpq_url
from geoservice.kernel.errors import Problem
from geoservice.ogc.cql2 import CONFORMANCE, Queryable, compile_filter, compile_page_filter

TABLE = "cql2_probe"
INJECTION = "x' OR 1=1 --"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

# id, name, kind, year_start, year_end, height, opened, active, geometry (WKT, lon/lat)
ROWS: list[tuple[Any, ...]] = [
    (1, "Алматы", "city", 1854, 1997, 800.5, "2020-01-01", True, "POINT(76.95 43.25)"),
    (2, "Астана", "city", 1830, None, 347.0, "2021-06-15", True, "POINT(71.45 51.17)"),
    (3, "Шымкент", "city", 1810, 2010, 500.0, "2019-12-31", False, "POINT(69.6 42.3)"),
    (4, "O'Brien", "shop", 2005, 2007, None, None, None, "POINT(10 10)"),
    (5, INJECTION, "shop", None, None, None, None, None, "POINT(11 11)"),
    (6, "Zone A", "zone", 2000, 2010, 1.5, "2000-01-01", False, "POLYGON((70 45, 72 45, 72 47, 70 47, 70 45))"),
    (7, "Road", "road", None, None, None, None, None, "LINESTRING(69 46, 73 46)"),
    (8, "Ёлка", "shop", None, None, 2.0, None, None, "POINT(12 12)"),
    (9, "Café", "shop", None, None, 3.0, None, None, "POINT(13 13)"),
    (10, "East", "far", None, None, None, None, None, "POINT(179.5 -17)"),
    (11, "West", "far", None, None, None, None, None, "POINT(-179.5 -17)"),
]
ALL = {r[0] for r in ROWS}

QUERYABLES = {q.name: q for q in [
    Queryable("name", '"name"', "string"),
    Queryable("kind", '"kind"', "string", ("city", "shop", "zone", "road", "far")),
    Queryable("year_start", '"year_start"', "integer"),
    Queryable("year_end", '"year_end"', "integer"),
    Queryable("height", '"height"', "number"),
    Queryable("opened", '"opened"', "date"),
    Queryable("active", '"active"', "boolean"),
    Queryable("geometry", "geom", "geometry"),
]}


@pytest.fixture(scope="module")
def run(database_url: str) -> Iterator[Callable[..., set[int]]]:
    """``run(filter, lang="cql2-text", crs=None)`` → ids of the rows the compiled filter selects."""
    loop = asyncio.new_event_loop()
    conn: asyncpg.Connection = loop.run_until_complete(asyncpg.connect(libpq_url(database_url)))

    async def setup() -> None:
        await conn.execute(f"""
            DROP TABLE IF EXISTS {TABLE};
            CREATE TABLE {TABLE} (id int PRIMARY KEY, name text, kind text, year_start int, year_end int,
                                  height double precision, opened date, active boolean,
                                  geom geometry(Geometry, 4326))""")
        values = "$1, $2, $3, $4, $5, $6, $7::text::date, $8, ST_GeomFromText($9, 4326)"
        insert = f"INSERT INTO {TABLE} VALUES ({values})"  # noqa: S608 - constants only
        await conn.executemany(insert, ROWS)

    loop.run_until_complete(setup())

    def execute(filter_text: str, lang: str = "cql2-text", crs: str | None = None) -> set[int]:
        sql, params = compile_filter(filter_text, lang, queryables=QUERYABLES, filter_crs=crs)
        # The fragment is the compiler's output: values travel as parameters.
        rows = loop.run_until_complete(conn.fetch(f"SELECT id FROM {TABLE} WHERE {sql}", *params))  # noqa: S608
        return {r["id"] for r in rows}

    yield execute
    loop.run_until_complete(conn.execute(f"DROP TABLE IF EXISTS {TABLE}"))
    loop.run_until_complete(conn.close())
    loop.close()


def problem(filter_text: str, lang: str = "cql2-text", crs: str | None = None) -> Problem:
    with pytest.raises(Problem) as info:
        compile_filter(filter_text, lang, queryables=QUERYABLES, filter_crs=crs)
    assert info.value.status == 400
    return info.value


def prop(name: str) -> dict[str, str]:
    return {"property": name}


def op(name: str, *args: Any) -> str:
    return json.dumps({"op": name, "args": list(args)})


# --- comparison and logic --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("kind = 'city'", {1, 2, 3}),
    ("kind <> 'city'", ALL - {1, 2, 3}),
    ("height > 400", {1, 3}),
    ("height >= 500", {1, 3}),
    ("height < 2", {6}),
    ("height <= 2", {6, 8}),
    ("year_start = 1854", {1}),
    ("year_start > 1854.5", {4, 6}),
    ("name = 'Алматы'", {1}),
    ("\"name\" = 'O''Brien'", {4}),
    ("active = TRUE", {1, 2}),
    ("active", {1, 2}),
    ("NOT active", {3, 6}),
    ("active = false", {3, 6}),
    # AND binds tighter than OR (pygeofilter 0.4's own parser gets this wrong)
    ("kind = 'zone' OR kind = 'city' AND height > 600", {1, 6}),
    ("(kind = 'zone' OR kind = 'city') AND height > 600", {1}),
    ("NOT (kind = 'city' OR kind = 'shop')", {6, 7, 10, 11}),
    ("NOT NOT kind = 'road'", {7}),
    ("year_end > year_start", {1, 3, 4, 6}),                 # property-property
    ("year_end - year_start > 100", {1, 3}),                 # arithmetic
    ("year_start % 100 = 54", {1}),
    ("year_start div 100 = 18", {1, 2, 3}),
    ("height * 2 = 3", {6}),
    ("height / 0 > 1", set()),                               # no division error: just no match
    ("-height < -700", {1}),
    ("TRUE", ALL),
    ("(FALSE)", set()),
    ("1 = 1 AND kind = 'road'", {7}),                         # literal-literal
])
def test_comparisons_text(run: Callable[..., set[int]], text: str, expected: set[int]) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(("doc", "expected"), [
    (op("=", prop("kind"), "city"), {1, 2, 3}),
    (op("<>", prop("kind"), "city"), ALL - {1, 2, 3}),
    (op(">", prop("height"), 400), {1, 3}),
    (op("and", {"op": ">=", "args": [prop("height"), 1]}, {"op": "<", "args": [prop("height"), 2.5]}), {6, 8}),
    (op("or", {"op": "=", "args": [prop("kind"), "zone"]},
        {"op": "and", "args": [{"op": "=", "args": [prop("kind"), "city"]},
                               {"op": ">", "args": [prop("height"), 600]}]}), {1, 6}),
    (op("not", {"op": "=", "args": [prop("kind"), "city"]}), ALL - {1, 2, 3}),
    (op("=", prop("active"), True), {1, 2}),
    ("true", ALL),
    (op(">", prop("year_end"), prop("year_start")), {1, 3, 4, 6}),
    (op(">", {"op": "-", "args": [prop("year_end"), prop("year_start")]}, 100), {1, 3}),
    (op("=", {"op": "div", "args": [prop("year_start"), 100]}, 18), {1, 2, 3}),
])
def test_comparisons_json(run: Callable[..., set[int]], doc: str, expected: set[int]) -> None:
    assert run(doc, "cql2-json") == expected


# --- advanced comparison, CASEI, ACCENTI -------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("name LIKE 'А%'", {1, 2}),                              # Cyrillic А
    ("name LIKE '_стана'", {2}),
    ("name NOT LIKE '%а%'", ALL - {1, 2, 8}),                # Cyrillic а; "Road" has a Latin a
    ("name LIKE 'O''%'", {4}),
    ("name LIKE 'x\\' OR%'", {5}),                            # \' is a quote too
    ("CASEI(name) LIKE CASEI('алм%')", {1}),
    ("CASEI(name) = CASEI('АСТАНА')", {2}),
    ("CASEI(name) LIKE CASEI('%ЁЛ%')", {8}),
    ("ACCENTI(name) = ACCENTI('Cafe')", {9}),
    ("ACCENTI(CASEI(name)) = ACCENTI(CASEI('ЕЛКА'))", {8}),  # Ё = Е + diaeresis
    ("ACCENTI(name) LIKE ACCENTI('Cafe%')", {9}),
    ("ACCENTI(name) LIKE 'Caf_'", {9}),
    ("kind IN ('zone', 'road')", {6, 7}),
    ("kind NOT IN ('city', 'shop', 'far')", {6, 7}),
    ("year_start IN (1854, 2005)", {1, 4}),
    ("year_start BETWEEN 1820 AND 1860", {1, 2}),
    ("year_start NOT BETWEEN 1820 AND 1860", {3, 4, 6}),
    ("height BETWEEN 1 AND 3", {6, 8, 9}),
    ("opened BETWEEN DATE('2019-12-31') AND DATE('2020-01-01')", {1, 3}),
    ("height IS NULL", {4, 5, 7, 10, 11}),
    ("opened IS NOT NULL", {1, 2, 3, 6}),
])
def test_advanced_comparison_text(run: Callable[..., set[int]], text: str, expected: set[int]) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(("doc", "expected"), [
    (op("like", prop("name"), "А%"), {1, 2}),
    (op("like", {"op": "casei", "args": [prop("name")]}, {"op": "casei", "args": ["алм%"]}), {1}),
    (op("=", {"op": "accenti", "args": [prop("name")]}, {"op": "accenti", "args": ["Cafe"]}), {9}),
    (op("in", prop("kind"), ["zone", "road"]), {6, 7}),
    (op("between", prop("year_start"), 1820, 1860), {1, 2}),
    (op("isNull", prop("height")), {4, 5, 7, 10, 11}),
    (op("not", {"op": "isNull", "args": [prop("opened")]}), {1, 2, 3, 6}),
])
def test_advanced_comparison_json(run: Callable[..., set[int]], doc: str, expected: set[int]) -> None:
    assert run(doc, "cql2-json") == expected


# --- spatial -----------------------------------------------------------------------------------

ZONE = "POLYGON((69 44, 73 44, 73 48, 69 48, 69 44))"   # holds the zone, the road and nothing else


@pytest.mark.parametrize(("text", "expected"), [
    ("S_INTERSECTS(geometry, POINT(76.95 43.25))", {1}),
    ("S_INTERSECTS(geometry, BBOX(69, 42, 72, 45))", {3, 6}),     # zone touches the box's top edge
    ("S_INTERSECTS(geometry, BBOX(69, 42, 0, 72, 45, 100))", {3, 6}),
    ("S_INTERSECTS(geometry, BBOX(179, -18, -179, -16))", {10, 11}),  # across the antimeridian
    (f"S_WITHIN(geometry, {ZONE})", {6, 7}),
    (f"S_DISJOINT(geometry, {ZONE})", ALL - {6, 7}),
    ("S_CONTAINS(geometry, POINT(71 46.5))", {6}),
    ("S_CROSSES(geometry, LINESTRING(71 40, 71 50))", {6, 7}),   # the line leaves the zone too
    ("S_TOUCHES(geometry, LINESTRING(72 45, 72 47))", {6}),
    ("S_OVERLAPS(geometry, POLYGON((71 46, 75 46, 75 50, 71 50, 71 46)))", {6}),
    ("S_EQUALS(geometry, POINT(71.45 51.17))", {2}),
    ("S_INTERSECTS(geometry, MULTIPOINT((76.95 43.25), (69.6 42.3)))", {1, 3}),
    ("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(10 10), LINESTRING(11 10, 11 12)))", {4, 5}),
    ("S_INTERSECTS(POINT(71 46.5), geometry) AND kind = 'zone'", {6}),
    ("s_intersects(geometry, point z(10 10 5))", {4}),
])
def test_spatial_text(run: Callable[..., set[int]], text: str, expected: set[int]) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(("doc", "expected"), [
    (op("s_intersects", prop("geometry"), {"type": "Point", "coordinates": [76.95, 43.25]}), {1}),
    (op("s_intersects", prop("geometry"), {"bbox": [69, 42, 72, 45]}), {3, 6}),
    (op("s_within", prop("geometry"), {"type": "Polygon", "coordinates": [
        [[69, 44], [73, 44], [73, 48], [69, 48], [69, 44]]]}), {6, 7}),
    (op("s_crosses", prop("geometry"), {"type": "LineString", "coordinates": [[71, 40], [71, 50]]}), {6, 7}),
    (op("s_intersects", prop("geometry"), {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [10, 10]}, {"type": "Point", "coordinates": [11, 11]}]}), {4, 5}),
])
def test_spatial_json(run: Callable[..., set[int]], doc: str, expected: set[int]) -> None:
    assert run(doc, "cql2-json") == expected


def test_filter_crs_axis_order(run: Callable[..., set[int]]) -> None:
    # EPSG:4326 takes latitude first: the swapped literal selects what CRS84 selects.
    assert run("S_INTERSECTS(geometry, POINT(76.95 43.25))", crs=CRS84) == {1}
    assert run("S_INTERSECTS(geometry, POINT(43.25 76.95))", crs=EPSG4326) == {1}
    assert run("S_INTERSECTS(geometry, POINT(76.95 43.25))", crs=EPSG4326) == set()
    assert run("S_INTERSECTS(geometry, BBOX(42, 69, 45, 72))", crs=EPSG4326) == \
        run("S_INTERSECTS(geometry, BBOX(69, 42, 72, 45))") == {3, 6}
    assert run(op("s_intersects", prop("geometry"), {"bbox": [42, 69, 45, 72]}), "cql2-json", EPSG4326) == {3, 6}
    assert run("S_INTERSECTS(geometry, BBOX(-18, 179, -16, -179))", crs=EPSG4326) == {10, 11}
    # In lat/lon, 100 is out of range as a latitude: said so, not silently nothing.
    p = problem("S_INTERSECTS(geometry, POINT(100 43.25))", crs=EPSG4326)
    assert p.key == "cql2.bad_geometry" and "latitude, longitude" in p.params["detail"]


@pytest.mark.parametrize(("epsg", "flip"), [(32643, False), (28413, True)])
def test_filter_crs_projected(run: Callable[..., set[int]], epsg: int, flip: bool) -> None:
    """UTM 43N (easting, northing) and Pulkovo 1942 / Gauss-Krüger 13 (northing, easting)."""
    e, n = Transformer.from_crs(4326, epsg, always_xy=True).transform(76.95, 43.25)
    a, b = (n, e) if flip else (e, n)
    crs = f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"
    assert run(f"S_INTERSECTS(geometry, BBOX({a - 500}, {b - 500}, {a + 500}, {b + 500}))", crs=crs) == {1}
    assert run(f"S_INTERSECTS(geometry, BBOX({b - 500}, {a - 500}, {b + 500}, {a + 500}))", crs=crs) == set()
    wkt = f"POLYGON(({a - 500} {b - 500}, {a + 500} {b - 500}, {a + 500} {b + 500}, {a - 500} {b + 500}, " \
          f"{a - 500} {b - 500}))"
    assert run(f"S_INTERSECTS(geometry, {wkt})", crs=crs) == {1}


def test_filter_crs_not_offered() -> None:
    p = problem("S_INTERSECTS(geometry, POINT(1 2))", crs="EPSG:2000")
    assert p.key == "ogc.crs_not_offered"


# --- temporal ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("T_AFTER(opened, DATE('2020-06-01'))", {2}),
    ("T_BEFORE(opened, DATE('2020-01-01'))", {3, 6}),
    ("T_EQUALS(opened, DATE('2020-01-01'))", {1}),
    ("T_DURING(opened, INTERVAL('2020-01-01', '2020-12-31'))", {1}),      # closed interval
    ("T_INTERSECTS(opened, INTERVAL('..', '2019-12-31'))", {3, 6}),
    ("T_INTERSECTS(opened, INTERVAL('2019-12-31', '..'))", {1, 2, 3}),
    ("T_INTERSECTS(opened, INTERVAL('..', '..'))", {1, 2, 3, 6}),         # not the rows without a date
    ("T_DISJOINT(opened, INTERVAL('2019-12-31', '2020-01-01'))", {2, 6}),
    ("T_AFTER(opened, TIMESTAMP('2021-06-14T23:30:00Z'))", {2}),
    ("T_EQUALS(opened, TIMESTAMP('2020-01-01T03:00:00+05:00'))", {3}),  # 2019-12-31T22:00Z: that day
    ("T_EQUALS(opened, TIMESTAMP('2019-12-31T23:59:59Z'))", {3}),
    ("opened >= TIMESTAMP('2020-01-01T10:00:00Z')", {1, 2}),
    ("opened < DATE('2020-01-01')", {3, 6}),
    # integer years: literals are taken as years
    ("T_BEFORE(year_start, DATE('1830-06-01'))", {3}),
    ("T_AFTER(year_start, DATE('2000-12-31'))", {4}),
    ("T_DURING(year_start, INTERVAL('1830-01-01', '1900-01-01'))", {1, 2}),
    # an interval kept in two properties
    ("T_INTERSECTS(INTERVAL(year_start, year_end), INTERVAL('2006-01-01', '2006-12-31'))", {3, 4, 6}),
    ("T_INTERSECTS(INTERVAL(year_start, year_end), DATE('1997-05-05'))", {1, 3}),
    ("T_OVERLAPS(INTERVAL(year_start, year_end), INTERVAL('2008-01-01', '2020-01-01'))", {3, 6}),
    ("T_CONTAINS(INTERVAL(year_start, year_end), INTERVAL('2005-01-01', '2007-12-31'))", {3, 6}),
    ("T_DURING(INTERVAL(year_start, year_end), INTERVAL('1800-01-01', '2008-12-31'))", {1, 4}),
    ("T_STARTS(INTERVAL(year_start, year_end), INTERVAL('2005-01-01', '2020-01-01'))", {4}),
    ("T_FINISHES(INTERVAL(year_start, year_end), INTERVAL('1900-01-01', '2010-01-01'))", {6}),
    ("T_MEETS(INTERVAL(year_start, year_end), INTERVAL('2007-01-01', '2020-01-01'))", {4}),
    ("T_EQUALS(INTERVAL(year_start, year_end), INTERVAL('2000-01-01', '2010-12-31'))", {6}),
    ("T_AFTER(INTERVAL(year_start, '..'), DATE('2001-01-01'))", {4}),
])
def test_temporal_text(run: Callable[..., set[int]], text: str, expected: set[int]) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(("doc", "expected"), [
    (op("t_after", prop("opened"), {"date": "2020-06-01"}), {2}),
    (op("t_during", prop("opened"), {"interval": ["2020-01-01", "2020-12-31"]}), {1}),
    (op("t_intersects", prop("opened"), {"interval": ["..", "2019-12-31"]}), {3, 6}),
    (op("t_intersects", {"interval": [prop("year_start"), prop("year_end")]},
        {"interval": ["2006-01-01", "2006-12-31"]}), {3, 4, 6}),
    (op("t_before", prop("opened"), {"timestamp": "2020-01-01T00:00:00Z"}), {3, 6}),
])
def test_temporal_json(run: Callable[..., set[int]], doc: str, expected: set[int]) -> None:
    assert run(doc, "cql2-json") == expected


# --- parameterisation --------------------------------------------------------------------------

def test_values_are_parameters(run: Callable[..., set[int]]) -> None:
    text = "name = 'x'' OR 1=1 --'"
    sql, params = compile_filter(text, queryables=QUERYABLES)
    assert INJECTION not in sql and "1=1" not in sql and "'" not in sql
    assert params == [INJECTION]
    assert run(text) == {5}
    doc = op("=", prop("name"), INJECTION)
    assert compile_filter(doc, "cql2-json", queryables=QUERYABLES)[1] == [INJECTION]
    assert run(doc, "cql2-json") == {5}
    # every kind of literal travels as a parameter
    sql, params = compile_filter("year_start > 1800 AND height < 900.5 AND name LIKE 'А%' AND active = TRUE "
                                 "AND opened > DATE('1999-01-01') AND S_INTERSECTS(geometry, POINT(76.95 43.25))",
                                 queryables=QUERYABLES)
    for literal in ("1800", "900.5", "А%", "TRUE", "1999", "76.95"):
        assert literal not in sql
    assert "$6::text" in sql and len(params) == 6


def test_property_names_cannot_inject() -> None:
    p = problem('"name"" = 1 OR 1=1 --" = \'a\'')
    assert p.key == "cql2.unknown_property" and p.params["name"] == 'name" = 1 OR 1=1 --'


def test_first_param(database_url: str) -> None:
    sql, params = compile_filter("kind = 'city' AND height > 400", queryables=QUERYABLES, first_param=3)
    assert "$3::text" in sql and "$4::double precision" in sql and "$1" not in sql and "$2" not in sql

    async def go() -> set[int]:
        conn = await asyncpg.connect(libpq_url(database_url))
        try:
            rows = await conn.fetch(f"SELECT id FROM {TABLE} WHERE id > $1 AND kind = $2 AND {sql}",  # noqa: S608
                                    0, "city", *params)
        finally:
            await conn.close()
        return {r["id"] for r in rows}

    assert asyncio.run(go()) == {1, 3}


@pytest.mark.parametrize(("text", "pinned"), [
    ("kind = 'city'", "kind"),
    ("'city' = kind AND height > 400", "kind"),
    ("height > 400 AND (kind = 'city' AND year_end > 0)", "kind"),
    ("year_start = 1854 AND kind = 'city'", "year_start"),   # the first one only
    ("kind = 'city' OR kind = 'shop'", None),                # not ANDed at the top
    ("NOT (kind = 'city')", None),
    ("kind <> 'city'", None),
    ("year_start = 1854.0", None),   # compared as a number: an index on the column would not serve
    ("kind = name", None),
    ("name = 'Алматы'", None),       # not pinnable
])
def test_top_level_equality_is_pinned_as_a_closed_range(run: Callable[..., set[int]], database_url: str, text: str,
                                                        pinned: str | None) -> None:
    """What the items pages use to read an (attribute, id) index in page order: the same rows."""
    compiled = compile_page_filter(text, queryables=QUERYABLES, pinnable=frozenset({"kind", "year_start"}))
    assert compiled.pinned == pinned
    assert (f'"{pinned}" >= ' in compiled.sql and f'"{pinned}" <= ' in compiled.sql) if pinned \
        else " >= " not in compiled.sql
    plain, params = compile_filter(text, queryables=QUERYABLES)

    async def rows(sql: str, values: list[object]) -> set[int]:
        conn = await asyncpg.connect(libpq_url(database_url))
        try:
            return {r["id"] for r in await conn.fetch(f"SELECT id FROM {TABLE} WHERE {sql}", *values)}  # noqa: S608
        finally:
            await conn.close()

    assert asyncio.run(rows(compiled.sql, compiled.params)) == asyncio.run(rows(plain, params)) == run(text)


def test_conformance_declares_what_qgis_needs() -> None:
    for uri in ("http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
                "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
                "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
                "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
                "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2"):
        assert uri in CONFORMANCE
    assert len(set(CONFORMANCE)) == len(CONFORMANCE)
    assert not any(u.endswith(("/arithmetic", "/array-functions", "/functions")) for u in CONFORMANCE)


# --- errors ------------------------------------------------------------------------------------

def test_unknown_property_is_named_with_the_queryables() -> None:
    p = problem("nme = 'Алматы'")
    assert p.key == "cql2.unknown_property" and p.params["name"] == "nme"
    for lang in ("en", "ru", "kk"):
        body = p.render(lang)
        assert body["status"] == 400
        assert "'nme'" in body["detail"] and "year_start" in body["detail"] and "geometry" in body["detail"]
    assert "Queryables" in p.render("en")["detail"]
    assert "Доступные" in p.render("ru")["detail"]
    assert "Қолжетімді" in p.render("kk")["detail"]
    assert problem("Name = 'x'").params["name"] == "Name"          # names are case-sensitive
    assert problem(op("=", prop("nme"), 1), "cql2-json").params["name"] == "nme"
    assert problem("T_AFTER(nme, DATE('2020-01-01'))").key == "cql2.unknown_property"


@pytest.mark.parametrize(("text", "position", "found"), [
    ("name = = 'a'", 8, "'='"),
    ("name = 'a' AND", 15, "end of filter"),
    ("name = 'abc", 8, "unterminated"),
    ("kind IN ()", 10, "')'"),
    ("S_INTERSECTS(geometry, POINT(1))", 31, "')'"),
    ("name = 'a' ; DROP TABLE x", 12, "';'"),
])
def test_syntax_errors_say_where(text: str, position: int, found: str) -> None:
    p = problem(text)
    assert p.key == "cql2.syntax"
    assert p.params["position"] == position and found in p.params["found"]
    detail = p.render("en")["detail"]
    assert f"position {position}" in detail and "Expected" in detail
    assert str(position) in p.render("ru")["detail"] and str(position) in p.render("kk")["detail"]


@pytest.mark.parametrize(("text", "lang", "key", "needle"), [
    ("", "cql2-text", "cql2.invalid", "empty"),
    ("   ", "cql2-text", "cql2.invalid", "empty"),
    ("year_start = '2000'", "cql2-text", "cql2.type_mismatch", "year_start"),
    ("name > 5", "cql2-text", "cql2.type_mismatch", "name"),
    ("kind IN ('city', 1)", "cql2-text", "cql2.type_mismatch", "kind"),
    ("opened = 2020", "cql2-text", "cql2.type_mismatch", "opened"),
    ("active = 'yes'", "cql2-text", "cql2.type_mismatch", "active"),
    ("height LIKE '1%'", "cql2-text", "cql2.type_mismatch", "height"),
    ("name", "cql2-text", "cql2.invalid", "not a condition"),
    ("geometry = POINT(1 2)", "cql2-text", "cql2.invalid", "S_INTERSECTS"),
    ("S_INTERSECTS(name, POINT(1 2))", "cql2-text", "cql2.type_mismatch", "name"),
    ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "cql2-text", "cql2.bad_geometry",
     "Self-intersection"),
    ("S_INTERSECTS(geometry, POINT(200 10))", "cql2-text", "cql2.bad_geometry", "out of range"),
    ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 0 0)))", "cql2-text", "cql2.bad_geometry", "Too few points"),
    ("S_INTERSECTS(geometry, BBOX(10, 50, 20, 40))", "cql2-text", "cql2.bad_geometry", "minimum"),
    ("T_MEETS(opened, DATE('2020-01-01'))", "cql2-text", "cql2.invalid", "instant"),
    ("T_AFTER(name, DATE('2020-01-01'))", "cql2-text", "cql2.invalid", "date property"),
    ("T_AFTER(opened, '2020-01-01')", "cql2-text", "cql2.invalid", "not a date"),
    ("T_INTERSECTS(opened, INTERVAL('2021-01-01', '2020-01-01'))", "cql2-text", "cql2.invalid", "ends before"),
    ("opened = DATE('2020-02-30')", "cql2-text", "cql2.invalid", "calendar date"),
    ("opened = DATE('2020/01/01')", "cql2-text", "cql2.invalid", "DATE('YYYY-MM-DD')"),
    ("opened = TIMESTAMP('2020-01-01')", "cql2-text", "cql2.invalid", "TIMESTAMP("),
    ("upper(name) = 'A'", "cql2-text", "cql2.unsupported", "upper"),
    ("year_start ^ 2 = 4", "cql2-text", "cql2.unsupported", "^"),
    ("A_CONTAINS(kind, ('a', 'b'))", "cql2-text", "cql2.unsupported", "A_CONTAINS"),
    ("CASEI(height) = 1", "cql2-text", "cql2.invalid", "CASEI"),
    ("year_start = 1e999", "cql2-text", "cql2.invalid", "out of range"),
    ("INTERVAL('2020-01-01', '..') = opened", "cql2-text", "cql2.invalid", "temporal functions"),
    ('{"op": "=", "args": [{"property": "name"}', "cql2-json", "cql2.bad_json", "line 1"),
    ("not json", "cql2-json", "cql2.bad_json", "column 1"),
    ('{"op": "=", "args": [{"property": "height"}, NaN]}', "cql2-json", "cql2.bad_json", "NaN"),
    ('{"op": "=", "args": [{"property": "name"}]}', "cql2-json", "cql2.bad_json", "2 arguments"),
    ('{"op": "=", "args": {"property": "name"}}', "cql2-json", "cql2.bad_json", "array"),
    ('{"op": "between", "args": [{"property": "height"}, 1]}', "cql2-json", "cql2.bad_json", "3 arguments"),
    ('{"op": "=", "args": [{"property": "name"}, null]}', "cql2-json", "cql2.invalid", "isNull"),
    ('{"op": "=", "args": [{"property": 5}, 1]}', "cql2-json", "cql2.bad_json", "property"),
    ('{"op": "and", "args": [true]}', "cql2-json", "cql2.bad_json", "two"),
    ('{"op": "frobnicate", "args": [1]}', "cql2-json", "cql2.unsupported", "frobnicate"),
    ('{"op": "a_overlaps", "args": [{"property": "kind"}, ["a"]]}', "cql2-json", "cql2.unsupported", "a_overlaps"),
    ('{"op": "like", "args": [{"property": "name"}, "abc\\\\"]}', "cql2-json", "cql2.invalid", "escape"),
    ('{"op": "like", "args": [{"property": "name"}, {"property": "kind"}]}', "cql2-json", "cql2.invalid",
     "pattern"),
    ('{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1]}]}',
     "cql2-json", "cql2.bad_geometry", "Point"),
    ('{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [1, 2, 3]}]}', "cql2-json",
     "cql2.bad_geometry", "bbox"),
    ('{"op": "t_after", "args": [{"property": "opened"}, {"date": "yesterday"}]}', "cql2-json", "cql2.invalid",
     "yesterday"),
    ('{"op": "=", "args": [{"property": "kind"}, ["a"]]}', "cql2-json", "cql2.unsupported", "array"),
    ('"kind"', "cql2-json", "cql2.invalid", "not a condition"),
    ("[1, 2]", "cql2-json", "cql2.unsupported", "array"),
    ("{}", "cql2-json", "cql2.bad_json", "not a CQL2 expression"),
])
def test_errors_are_400_with_a_message(text: str, lang: str, key: str, needle: str) -> None:
    p = problem(text, lang)
    assert p.key == key, p.params
    rendered = p.render("en")["detail"]
    assert needle in rendered, rendered
    for language in ("ru", "kk"):
        assert p.render(language)["detail"] != rendered


def test_bad_filter_lang() -> None:
    p = problem("kind = 'city'", "ecql")
    assert p.key == "cql2.bad_lang" and "ecql" in p.render("ru")["detail"]


def test_limits() -> None:
    assert problem("NOT " * 150 + "kind = 'city'").key == "cql2.too_complex"
    assert problem("(" * 150 + "height" + " + 1)" * 150 + " > 1").key == "cql2.too_complex"
    # redundant parentheses are not nesting
    assert compile_filter("(" * 150 + "kind = 'city'" + ")" * 150, queryables=QUERYABLES)[1] == ["city"]
    deep_json = '{"op": "not", "args": [' * 150 + op("=", prop("kind"), "a") + "]}" * 150
    assert problem(deep_json, "cql2-json").key == "cql2.too_complex"
    many = "kind IN (" + ", ".join(f"'k{i}'" for i in range(10_001)) + ")"
    assert problem(many).key == "cql2.too_complex"
    # long AND chains are not "deep"
    chain = " AND ".join(["kind = 'city'"] * 500)
    sql, params = compile_filter(chain, queryables=QUERYABLES)
    assert len(params) == 500


def test_messages_registered_in_all_languages() -> None:
    for key in ("cql2.invalid", "cql2.syntax", "cql2.unknown_property", "cql2.type_mismatch", "cql2.unsupported",
                "cql2.bad_geometry", "cql2.bad_json", "cql2.bad_lang", "cql2.too_complex"):
        assert set(i18n.MESSAGES[key]) == {"en", "ru", "kk"}


TOKENS = ["name", "kind", "height", "year_start", "opened", "active", "geometry", "nme", "=", "<>", "<", ">=",
          "AND", "OR", "NOT", "(", ")", ",", "'a'", "'%'", "''", "'\\'", "1", "-2.5", "1e5", "TRUE", "LIKE", "IN",
          "BETWEEN", "IS", "NULL", "CASEI(", "ACCENTI(", "DATE('2020-01-01')", "TIMESTAMP('2020-01-01T00:00:00Z')",
          "INTERVAL('2020-01-01', '..')", "S_INTERSECTS(", "T_DURING(", "T_AFTER(", "POINT(1 2)", "BBOX(1,2,3,4)",
          "+", "*", "/", "%", "div", "^", "'..'", '"name"', "f(", ";", "@"]


def test_random_filters_never_fail_outside_a_problem(run: Callable[..., set[int]]) -> None:
    """Garbage in: a 400 Problem or SQL that runs -- never another exception, never a database error."""
    rng = random.Random(20240607)
    compiled = 0
    for _ in range(1500):
        text = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 9)))
        try:
            run(text)
            compiled += 1
        except Problem as p:
            assert p.status == 400
    structured = ["kind = 'a'", "height > 1", "name LIKE 'a%'", "NOT active", "opened < DATE('2020-01-01')",
                  "S_INTERSECTS(geometry, BBOX(1,2,3,4))", "height / year_start > 1", "year_start BETWEEN 1 AND 2"]
    for _ in range(300):
        parts = [rng.choice(structured) for _ in range(rng.randint(1, 4))]
        text = parts[0]
        for part in parts[1:]:
            text = f"({text}) {rng.choice(['AND', 'OR'])} {'NOT ' if rng.random() < .3 else ''}{part}"
        run(text)
        compiled += 1
    assert compiled > 300


@pytest.mark.parametrize(("text", "expected"), [
    # the shapes QGIS's CQL2-text compiler writes
    ("((\"kind\" = 'city') AND (\"height\" > 400))", {1, 3}),
    ("(NOT (\"kind\" = 'city'))", ALL - {1, 2, 3}),
    ("(( - (700)) > ( - (\"height\")))", {1}),
    ("\"kind\" IN ('zone','road')", {6, 7}),
    ("\"kind\" NOT IN ('city','shop','far')", {6, 7}),
    ("(CASEI(\"name\") LIKE CASEI('алм%'))", {1}),
    ("(\"name\" NOT LIKE 'А%')", ALL - {1, 2}),
    ("(\"opened\" = DATE('2020-01-01'))", {1}),
    ("(\"opened\" >= TIMESTAMP('2020-01-01T00:00:00.000Z'))", {1, 2}),
    ("S_INTERSECTS(\"geometry\",BBOX(69,42,72,45))", {3, 6}),
    ("S_INTERSECTS(\"geometry\",POINT(76.95 43.25))", {1}),
    ("(\"height\" IS NULL)", {4, 5, 7, 10, 11}),
    ("\"height\" BETWEEN 1 AND 3", {6, 8, 9}),
    ("(\"active\" = TRUE)", {1, 2}),
    ("(\"height\" > 1e+2)", {1, 2, 3}),
])
def test_qgis_style_filters(run: Callable[..., set[int]], text: str, expected: set[int]) -> None:
    assert run(text) == expected
