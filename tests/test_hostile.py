"""Hostile requests get a 4xx naming the parameter, never a 500 (issue 7): values no query can
use (integers beyond bigint, NUL, non-finite numbers), hand-made cursors, boxes outside their
CRS, and datetime= read strictly (RFC 3339)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from importers.demo import load_demo
from layers.catalog import LAYERS
from layers.values import coerce, storable_text

GRID_BBOX = (69.0, 47.0, 70.0, 48.0)  # 3,600 blocks
PROBLEM = "application/problem+json"
ITEMS = "/ogc/collections/{}/items"


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    load_demo(url=database_url, grid_bbox=GRID_BBOX, progress=False)
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    # raise_server_exceptions=False: a 500 is an answer to look at here, not an exception.
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def cursor(raw: str) -> str:
    """A cursor as the service encodes them (urlsafe base64 of JSON, unpadded), holding ``raw``."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


HOSTILE = [
    # (url, the parameter the answer must name)
    (ITEMS.format("geological-studies") + "?year_start=99999999999999999999999", "year_start"),
    (ITEMS.format("geological-studies") + "?year_start=9223372036854775808", "year_start"),
    (ITEMS.format("geological-studies") + "?year_start=1e400", "year_start"),
    (ITEMS.format("geological-studies") + "?name=%00", "name"),
    (ITEMS.format("geological-studies") + "/%00", "featureId"),
    (ITEMS.format("geological-studies") + "?filter=" + quote("name='\u0000'"), "filter"),
    (ITEMS.format("geological-studies") + "?filter=" + quote("name LIKE '%\u0000%'"), "filter"),
    (ITEMS.format("geological-studies") + "?filter-lang=cql2-json&filter="
     + quote('{"op":"=","args":[{"property":"name"},"\\u0000"]}'), "filter"),
    (ITEMS.format("geological-studies") + "?filter-lang=cql2-json&filter="
     + quote('{"op":"=","args":[{"property":"name"},"\\ud800"]}'), "filter"),
    (ITEMS.format("geological-studies") + "?filter-lang=cql2-json&filter="
     + quote('{"op":"=","args":[{"property":"\\ud800"},"x"]}'), "filter"),
    (ITEMS.format("blocks") + "?code=%00", "code"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('{"d":"next","k":[' + "1" + "0" * 30 + "]}"), "cursor"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('{"d":"next","k":[1e400]}'), "cursor"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('{"d":"next","k":[1.5]}'), "cursor"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('{"d":"next","k":[NaN]}'), "cursor"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('{"d":"next","k":[null]}'), "cursor"),
    (ITEMS.format("blocks") + "?cursor=" + cursor('["next"]'), "cursor"),
    (ITEMS.format("blocks") + "?sortby=code&cursor=" + cursor('{"d":"next","k":["\\u0000",5]}'), "cursor"),
    (ITEMS.format("blocks") + "?sortby=code&cursor=" + cursor('{"d":"next","k":["\\udc00",5]}'), "cursor"),
    (ITEMS.format("geological-studies") + "?sortby=year_start&cursor="
     + cursor('{"d":"next","k":[' + "1" + "0" * 30 + ",5]}"), "cursor"),
    (ITEMS.format("geological-studies") + "?sortby=year_start&cursor=" + cursor('{"d":"next","k":["inf",5]}'),
     "cursor"),
    (ITEMS.format("geological-studies") + "?sortby=name&cursor=" + cursor('{"d":"next","k":["\\u0000",5]}'),
     "cursor"),
    (ITEMS.format("blocks") + "?bbox=-1e308,-1e308,1e308,1e308&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857",
     "bbox"),
    (ITEMS.format("blocks") + "?bbox=-1e400,40,80,50", "bbox"),
    (ITEMS.format("blocks") + "?bbox=nan,40,80,50", "bbox"),
    (ITEMS.format("blocks") + "?bbox=60,-91,80,50", "bbox"),
    (ITEMS.format("blocks") + "?bbox=-95,60,50,80&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326", "bbox"),
    (ITEMS.format("blocks") + "?bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/28412", "bbox"),
    (ITEMS.format("geological-studies") + "?datetime=" + quote("2020-01-01' OR 1=1"), "datetime"),
    (ITEMS.format("geological-studies") + "?datetime=" + quote("2020-01-01T00:00:00Z/2019-01-01"), "datetime"),
]


@pytest.mark.parametrize(("url", "parameter"), HOSTILE, ids=[p for _, p in HOSTILE])
def test_hostile_values_are_a_400_naming_the_parameter(client, url, parameter):
    for lang in ("en", "ru", "kk"):
        r = client.get(url, headers={"Accept-Language": lang})
        assert r.status_code == 400, (url, r.text)
        assert r.headers["content-type"] == PROBLEM and r.headers["content-language"] == lang
        body = r.json()
        named = "filter" if body["type"].startswith("urn:geoservice:problem:cql2.") else None
        # The message names the parameter (a filter's problems are the filter's by their code).
        assert parameter in body["detail"] or parameter == named, body
        assert body["detail"] != body["type"], "a message exists in every language"
    assert client.get(ITEMS.format("blocks") + "?limit=1").status_code == 200


def test_boxes_inside_their_crs_still_work(client):
    national = client.get(ITEMS.format("blocks") + "?limit=1&bbox=46.4,40.5,87.4,55.5").json()
    assert national["numberMatched"] == 3600
    # The whole world in Web Mercator, as a map client computes it (rounding past the edge included).
    world = client.get(ITEMS.format("blocks") + "?limit=1&bbox=-20037508.3427893,-20048966.1040146,"
                       "20037508.3427893,20048966.1040146&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857")
    assert world.status_code == 200 and world.json()["numberMatched"] == 3600
    # A box of no size (a point) in a projected CRS: nothing to densify, still a query.
    point = client.get(ITEMS.format("blocks") + "?bbox=7700000,6000000,7700000,6000000"
                       "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857")
    assert point.status_code == 200
    # Kazakhstan in a Gauss-Krüger zone of its east (northing, easting order).
    gk = client.get(ITEMS.format("blocks") + "?limit=1&bbox=4400000,10300000,6200000,14300000"
                    "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/28412")
    assert gk.status_code == 200 and gk.json()["numberMatched"] == 3600


def test_cursors_of_our_links_still_walk(client):
    url = ITEMS.format("geological-studies") + "?limit=1&sortby=-year_start,name"
    seen = []
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
    assert seen == ["GS-1968-014", "GP-1985-201"][::-1]


@pytest.mark.parametrize("value", [
    "1967", "1967-06-01", "1967-06-01T10:00:00Z", "1967-06-01t10:00:00z", "1967-06-01T10:00:00.123456+06:00",
    "1967-06-01T10:00:00 06:00",  # '+' decoded as a space by the query string
    "1967-06-01T23:59:60Z", "1960-01-01/1970-01-01", "1960-01-01/..", "../1970-01-01", "1960-01-01/",
    "/1970-01-01", "../..", "1967-06-01/1967-06-01", "1967-06-01T10:00:00Z/1967-06-01",
])
def test_datetime_accepts_rfc3339(client, value):
    r = client.get(ITEMS.format("geological-studies") + "?datetime=" + quote(value, safe=""))
    if value == "1967":
        assert r.status_code == 400 and "datetime" in r.json()["detail"]
        return
    assert r.status_code == 200, (value, r.text)
    assert "GS-1968-014" in [f["id"] for f in r.json()["features"]]


@pytest.mark.parametrize("value", [
    "..", "2020-01-01' OR 1=1", "2020-01-01x", "2020-1-1", "2020-02-30", "2020-01-01T25:00:00Z",
    "2020-01-01T10:00:00", "2020-01-01T10:00Z", "2020-01-01T10:00:00+0600", "2020-01-01T10:00:00+24:00",
    "2020-01-01/2021-01-01/2022-01-01", "2020-01-01 / 2021-01-01", "yesterday", "\u0000",
    "2020-01-01T00:00:00Z/2019-01-01", "2020-01-02/2020-01-01", "2020-01-01T12:00:00Z/2020-01-01T11:59:59Z",
    "2020-01-01T00:30:00+01:00/2019-12-31T22:00:00Z",
])
def test_datetime_refuses_what_is_not_rfc3339_or_runs_backwards(client, value):
    r = client.get(ITEMS.format("geological-studies") + "?datetime=" + quote(value, safe=""),
                   headers={"Accept-Language": "ru"})
    assert r.status_code == 400, value
    assert r.headers["content-type"] == PROBLEM and "'datetime'" in r.json()["detail"]


def test_datetime_offsets_count_in_utc(client):
    def ids(collection: str, value: str) -> set[str]:
        r = client.get(ITEMS.format(collection) + "?datetime=" + quote(value, safe=""))
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    # GP-1985-201 ran 1983-1985: 23:00 on 31 December 1985 at UTC-5 is 1986 in UTC.
    assert "GP-1985-201" in ids("geological-studies", "1985-12-31T18:00:00-05:00")
    assert "GP-1985-201" not in ids("geological-studies", "1985-12-31T23:00:00-05:00")
    # HC-015 is valid from 2019-06-01.
    assert "HC-015" not in ids("subsoil-plots", "../2019-05-31")
    assert "HC-015" not in ids("subsoil-plots", "../2019-05-31T23:30:00Z")
    assert "HC-015" in ids("subsoil-plots", "../2019-05-31T23:30:00-01:00")


def test_values_postgresql_cannot_hold_are_bad_values():
    studies = {a.name: a for a in LAYERS["geological-studies"].attributes}
    year, name = studies["year_start"], studies["name"]
    assert coerce(year, "9223372036854775807") == 2 ** 63 - 1
    assert coerce(year, "9007199254740993") == 9007199254740993  # exact, not through a float
    assert coerce(year, "1 985,0") == 1985
    for bad in ("9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1e400", "inf", "nan",
                "1.5", 2 ** 63):
        with pytest.raises(ValueError):
            coerce(year, bad)
    with pytest.raises(ValueError):
        coerce(name, "a\x00b")
    with pytest.raises(ValueError):
        coerce(name, "a\ud800b")
    assert coerce(name, " Қарағанды ") == "Қарағанды"
    assert storable_text("Қарағанды") and not storable_text("\x00") and not storable_text("\udfff")


def test_problem_quoting_a_lone_surrogate_is_rendered(client):
    r = client.get(ITEMS.format("blocks") + "?filter-lang=cql2-json&filter="
                   + quote(json.dumps({"op": "=", "args": [{"property": "\ud800"}, "x"]})))
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert b"\\ud800" in r.content and "\ud800" in r.json()["detail"]  # as the client wrote it, a JSON escape
