"""OGC API – Features over real PostGIS: paging, CRS, filters, access, versions, formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlparse

import psycopg
import pytest
from fastapi.testclient import TestClient
from pyproj.transformer import TransformerGroup

from importers.demo import load_demo
from importers.pipeline import UploadRequest, run_upload
from layers.access import create_token
from tests.helpers import feature_collection, square, write_json

GRID_BBOX = (69.0, 47.0, 70.0, 48.0)  # 60 x 60 = 3,600 blocks
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    load_demo(url=database_url, grid_bbox=GRID_BBOX, progress=False)
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="module")
def token(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        _, value = create_token(conn, "operator", "ogc tests")
        conn.commit()
    return value


def walk(client: TestClient, url: str) -> tuple[list[dict], list[dict]]:
    """Follow next links to the end; return the features and every page body."""
    features, pages = [], []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == GEOJSON
        body = r.json()
        pages.append(body)
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        assert len(pages) < 100
    return features, pages


def test_landing_conformance_and_api(client):
    landing = client.get("/ogc/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    classes = set(client.get("/ogc/conformance").json()["conformsTo"])
    qgis_needs = {"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
                  "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
                  "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
                  "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
                  "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2"}
    assert qgis_needs <= classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    r = client.get("/ogc/api")
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    from openapi_spec_validator import validate

    validate(r.json())  # raises on an invalid OpenAPI 3.0 document
    assert "/collections/blocks/items" in r.json()["paths"]


def test_collections(client):
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    # `licences`, `applied-blocks` and `auction-lots` are served from the first licence, filing or lot on, raster layers
    # from their first sheet (other modules' tests on this worker make some).
    assert ids[:4] == ["blocks", "subsoil-plots", "restriction-zones", "geological-studies"]
    assert set(ids[4:]) <= {"licences", "applied-blocks", "auction-lots", "geological-maps", "geophysics-magnetic",
                            "geophysics-gravity"}
    assert all("." not in i for i in ids)
    c = client.get("/ogc/collections/restriction-zones", headers={"Accept-Language": "ru"}).json()
    assert c["title"] == "Зоны ограничений"
    assert c["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    for code in (4326, 3857, 4284, 28408, 28415, 32638, 32645):
        assert f"http://www.opengis.net/def/crs/EPSG/0/{code}" in c["crs"]
    r = client.get("/ogc/collections/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_paging_walks_the_whole_grid_keeping_parameters(client):
    url = "/ogc/collections/blocks/items?limit=1000&properties=code&f=json"
    features, pages = walk(client, url)
    codes = [f["id"] for f in features]
    assert len(codes) == 3600 and len(set(codes)) == 3600
    assert pages[0]["numberMatched"] == 3600
    assert [p["numberReturned"] for p in pages] == [1000, 1000, 1000, 600]
    for page in pages[:-1]:
        nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
        query = parse_qs(urlparse(nxt).query)
        assert query["f"] == ["json"] and query["limit"] == ["1000"] and query["properties"] == ["code"]
    # prev from page 3 gives page 2 exactly
    prev = next(link["href"] for link in pages[2]["links"] if link["rel"] == "prev")
    back = client.get(prev).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in pages[1]["features"]]
    assert not any(link["rel"] == "prev" for link in pages[0]["links"])


def test_sorted_paging_is_complete_and_ordered(client):
    features, _ = walk(client, "/ogc/collections/blocks/items?limit=700&sortby=-code&bbox=69.0,47.0,69.5,47.5")
    codes = [f["properties"]["code"] for f in features]
    assert codes == sorted(codes, reverse=True)
    # bbox means "intersects": the 30 x 30 blocks inside plus those touching its east and north
    # edges (the grid starts at the west and south edges).
    assert len(codes) == len(set(codes)) == 31 * 31


def test_attribute_filtered_paging_follows_the_unfiltered_order(client):
    """An equality on an indexed attribute (a parameter, cql2-text, cql2-json; the page SQL
    writes it as a range to read the (attribute, id) index) pages through exactly the matching
    blocks of the unfiltered walk, in its order, forwards and back."""
    everything, _ = walk(client, "/ogc/collections/blocks/items?limit=1000&properties=sheet,sheet100k")
    sheet100k = everything[1234]["properties"]["sheet100k"]
    expected = [f["id"] for f in everything if f["properties"]["sheet100k"] == sheet100k]
    assert 0 < len(expected) < len(everything) / 2
    doc = json.dumps({"op": "=", "args": [{"property": "sheet100k"}, sheet100k]})
    for query in (f"sheet100k={sheet100k}", f"filter=sheet100k='{sheet100k}'",
                  f"filter-lang=cql2-json&filter={quote(doc)}", f"sheet=L-42&filter=sheet100k='{sheet100k}'",
                  f"filter=sheet100k='{sheet100k}' AND sheet='L-42'"):
        features, pages = walk(client, f"/ogc/collections/blocks/items?limit=70&{query}")
        assert [f["id"] for f in features] == expected, query
        assert pages[0]["numberMatched"] == len(expected)
        prev = next(link["href"] for link in pages[3]["links"] if link["rel"] == "prev")
        assert [f["id"] for f in client.get(prev).json()["features"]] == [f["id"] for f in pages[2]["features"]]
    whole_sheet, _ = walk(client, "/ogc/collections/blocks/items?limit=1000&filter=sheet='L-42'&properties=sheet")
    assert [f["id"] for f in whole_sheet] == [f["id"] for f in everything]


@pytest.mark.parametrize("sortby", ["sheet100k,-code", "-sheet100k,code", "sheet100k,code", "-sheet,-sheet100k"])
def test_sorted_paging_by_indexed_attributes(client, sortby):
    """Keyset pages for one sort direction (a row comparison) and for mixed ones (the expanded
    form with a bound on the first key), NOT NULL keys sorted as themselves: complete, ordered,
    and prev gives the page before."""
    features, pages = walk(client, f"/ogc/collections/blocks/items?limit=450&sortby={sortby}"
                                   "&properties=sheet,sheet100k,code")
    assert len(features) == len({f["id"] for f in features}) == 3600
    keys = [k.lstrip("-") for k in sortby.split(",")]
    expected = [f["properties"] for f in features]
    for key in reversed(sortby.split(",")):  # stable sorts, last key first
        expected.sort(key=lambda p, k=key.lstrip("-"): p[k], reverse=key.startswith("-"))
    assert [[p[k] for k in keys] for p in expected] == [[f["properties"][k] for k in keys] for f in features]
    prev = next(link["href"] for link in pages[4]["links"] if link["rel"] == "prev")
    assert [f["id"] for f in client.get(prev).json()["features"]] == [f["id"] for f in pages[3]["features"]]
    filtered, _ = walk(client, f"/ogc/collections/blocks/items?limit=450&sortby={sortby}&sheet=L-42"
                               "&properties=sheet,sheet100k,code")
    assert [f["id"] for f in filtered] == [f["id"] for f in features]


def test_limit_bbox_and_property_filters(client):
    body = client.get("/ogc/collections/blocks/items").json()
    assert body["numberReturned"] == 100
    body = client.get("/ogc/collections/blocks/items?limit=50000&bbox=69.2,47.2,69.3,47.3").json()
    # 6 x 6 blocks inside, plus the ring of blocks touching the box's edges and corners
    assert body["numberReturned"] == body["numberMatched"] == 8 * 8
    same = client.get("/ogc/collections/blocks/items?limit=100&bbox=47.2,69.2,47.3,69.3"
                      "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326").json()
    assert {f["id"] for f in same["features"]} == {f["id"] for f in body["features"]}
    zones = client.get("/ogc/collections/restriction-zones/items?kind=settlement").json()
    assert {f["properties"]["kind"] for f in zones["features"]} == {"settlement"}
    assert zones["numberMatched"] == 3
    for bad in ("limit=0", "limit=abc", "bbox=1,2,3", "crs=EPSG:2154", "nonsense=1", "kind=volcano&x=1",
                "datetime=yesterday", "sortby=colour", "cursor=%%%"):
        r = client.get(f"/ogc/collections/restriction-zones/items?{bad}", headers={"Accept-Language": "kk"})
        assert r.status_code == 400, bad
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["content-language"] == "kk"


def test_crs_output_and_axis_order(client):
    feature = client.get("/ogc/collections/blocks/items?limit=1").json()["features"][0]
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    r = client.get("/ogc/collections/blocks/items?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert r.json()["features"][0]["geometry"]["coordinates"][0][0][0] == [lat, lon]
    r = client.get("/ogc/collections/blocks/items?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/28412")
    north, east = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    # Same transformation as uploads use: EPSG:1291; GK 28412 axes are northing, easting.
    t = next(t for t in TransformerGroup("EPSG:4326", "EPSG:28412", always_xy=True).transformers
             if 1291 in {(s.get("id") or {}).get("code") for s in t.to_json_dict().get("steps", [])})
    x, y = t.transform(lon, lat)
    assert abs(east - x) < 0.05 and abs(north - y) < 0.05
    r = client.get("/ogc/collections/blocks/items?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/32642")
    e, n = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 400_000 < e < 700_000 and 5_000_000 < n < 6_000_000


def test_single_feature_and_html(client):
    code = client.get("/ogc/collections/blocks/items?limit=1").json()["features"][0]["id"]
    r = client.get(f"/ogc/collections/blocks/items/{code}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    assert r.json()["id"] == code and r.json()["properties"]["code"] == code
    assert client.get("/ogc/collections/blocks/items/M-99-1-(10а-5а-1)").status_code == 404
    page = client.get("/ogc/collections/restriction-zones/items", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "Астана" in page.text
    assert client.get("/ogc/collections?f=html").headers["content-type"].startswith("text/html")


def test_datetime_on_study_years(client):
    body = client.get("/ogc/collections/geological-studies/items?datetime=1984-01-01/1990-12-31").json()
    assert [f["id"] for f in body["features"]] == ["GP-1985-201"]
    body = client.get("/ogc/collections/geological-studies/items?datetime=1967-06-01").json()
    assert [f["id"] for f in body["features"]] == ["GS-1968-014"]


def test_non_public_studies_need_a_token(client, token):
    anon = client.get("/ogc/collections/geological-studies/items").json()
    assert {f["properties"]["access_level"] for f in anon["features"]} == {"public"}
    assert anon["numberMatched"] == 2
    assert client.get("/ogc/collections/geological-studies/items/EX-2015-007").status_code == 404
    auth = {"Authorization": f"Bearer {token}"}
    full = client.get("/ogc/collections/geological-studies/items", headers=auth).json()
    assert full["numberMatched"] == 4
    assert client.get("/ogc/collections/geological-studies/items/EX-2015-007", headers=auth).status_code == 200
    assert client.get("/ogc/collections/geological-studies/items",
                      headers={"Authorization": "Bearer gs_bad"}).status_code == 401


STUDIES_PUBLIC_BBOX = [68.0, 44.0, 72.0, 47.0]   # the demo's public studies GP-1985-201, GS-1968-014
STUDIES_ALL_BBOX = [51.5, 44.0, 74.0, 50.5]      # with the confidential and official-use ones


def test_summaries_cover_only_what_the_reader_may_see(client, token):
    """Extent, time span and counts of geological studies: anonymous readers learn nothing of
    the non-public studies (not where, not when, not how many); a valid token sees them all."""
    auth = {"Authorization": f"Bearer {token}"}
    anon = client.get("/ogc/collections/geological-studies").json()["extent"]
    assert anon["spatial"]["bbox"] == [STUDIES_PUBLIC_BBOX]
    assert anon["temporal"]["interval"] == [["1966-01-01T00:00:00Z", "1985-12-31T23:59:59Z"]]
    listed = next(c for c in client.get("/ogc/collections").json()["collections"] if c["id"] == "geological-studies")
    assert listed["extent"] == anon
    full = client.get("/ogc/collections/geological-studies", headers=auth).json()["extent"]
    assert full["spatial"]["bbox"] == [STUDIES_ALL_BBOX]
    assert full["temporal"]["interval"] == [["1966-01-01T00:00:00Z", "2015-12-31T23:59:59Z"]]
    listed = next(c for c in client.get("/ogc/collections", headers=auth).json()["collections"]
                  if c["id"] == "geological-studies")
    assert listed["extent"] == full
    assert client.get("/ogc/collections/geological-studies", headers={"Authorization": "Bearer gs_bad"}
                      ).status_code == 401
    page = client.get("/ogc/collections/geological-studies/items?f=html").text
    assert "<p>2 matched, 2 shown.</p>" in page and "EX-2015-007" not in page
    # The layer API's summaries of versions, likewise.
    mine = client.get("/api/layers/geological-studies").json()["current_version"]
    assert (mine["feature_count"], mine["bbox"], mine["report"]) == (2, STUDIES_PUBLIC_BBOX, None)
    listed = next(x for x in client.get("/api/layers").json()["layers"] if x["id"] == "geological-studies")
    assert listed["current_version"] == mine
    versions = client.get("/api/layers/geological-studies/versions").json()["versions"]
    assert [(v["feature_count"], v["bbox"]) for v in versions if v["current"]] == [(2, STUDIES_PUBLIC_BBOX)]
    assert all(v["report"] is None for v in versions)
    theirs = client.get("/api/layers/geological-studies", headers=auth).json()["current_version"]
    assert (theirs["feature_count"], theirs["bbox"]) == (4, STUDIES_ALL_BBOX)
    assert theirs["report"]["features_in_file"] == 4
    # The studies' tiles are public-only for anonymous readers; their TileJSON claims the country.
    bounds = client.get("/ogc/collections/geological-studies/tiles/WebMercatorQuad/tilejson.json").json()["bounds"]
    assert bounds != STUDIES_ALL_BBOX and bounds[0] < 47 and bounds[2] > 87


def test_temporal_extent_of_dated_layers(client):
    """The days the features' dates cover (a missing end stands for the start, as in datetime=)."""
    plots = client.get("/ogc/collections/subsoil-plots").json()["extent"]["temporal"]
    assert plots["interval"] == [["2019-06-01T00:00:00Z", "2030-03-01T23:59:59Z"]]
    assert plots["trs"] == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
    zones = client.get("/ogc/collections/restriction-zones").json()["extent"]["temporal"]
    assert zones["interval"] == [[None, None]]   # the demo zones carry no dates
    assert "temporal" not in client.get("/ogc/collections/blocks").json()["extent"]


def test_summaries_follow_a_new_version(client, token, database_url, tmp_path):
    """Computed once per version: an upload moves the public extent, span and count at once."""
    fc = feature_collection([
        (square(80.0, 50.0), {"study_id": "PUB-1", "name": "Ашық", "study_type": "geochemical", "year_start": 1990,
                              "access_level": "public"}),
        (square(55.0, 42.5), {"study_id": "SEC-1", "name": "Жабық", "study_type": "exploration", "year_start": 2020,
                              "year_end": 2023, "access_level": "confidential"}),
    ])
    path = write_json(tmp_path / "studies.geojson", fc)
    # The version the upload makes (the highest number plus one: tests of other modules on this
    # worker upload studies and restore older versions, so it is not "what the app shows + 1").
    report = run_upload(UploadRequest(layer_id="geological-studies", path=path, file_name=path.name), database_url)
    before = report["version"] - 1
    import time

    deadline = time.monotonic() + 30  # polled: the NOTIFY's way may be slow on a loaded machine
    while client.get("/ogc/collections/geological-studies").json().get("version") != before + 1 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    anon = client.get("/ogc/collections/geological-studies").json()
    assert anon["version"] == before + 1
    assert anon["extent"]["spatial"]["bbox"] == [[80.0, 50.0, 80.1, 50.1]]
    assert anon["extent"]["temporal"]["interval"] == [["1990-01-01T00:00:00Z", "1990-12-31T23:59:59Z"]]
    assert client.get("/ogc/collections/geological-studies/items").json()["numberMatched"] == 1
    full = client.get("/ogc/collections/geological-studies", headers={"Authorization": f"Bearer {token}"}).json()
    assert full["extent"]["spatial"]["bbox"] == [[55.0, 42.5, 80.1, 50.1]]
    assert full["extent"]["temporal"]["interval"] == [["1990-01-01T00:00:00Z", "2023-12-31T23:59:59Z"]]
    versions = client.get("/api/layers/geological-studies/versions").json()["versions"]
    # The version before is whatever this worker's other tests left (the demo's has 2 studies).
    assert (versions[0]["version"], versions[0]["feature_count"]) == (before + 1, 1)
    assert versions[1]["version"] == before


def test_html_pages_escape_data_and_speak_the_readers_language(client, database_url, tmp_path):
    """The templates escape whatever the data holds, and the pages' own words follow
    Accept-Language (the data's own texts are as uploaded)."""
    name = '<b onclick="x()">Жаңа</b> & co'
    fc = feature_collection([(square(69.5, 47.5), {"zone_id": "ESC-1", "name": name, "kind": "other",
                                                     "regime": "conditional"})])
    path = write_json(tmp_path / "escape.geojson", fc)
    run_upload(UploadRequest(layer_id="restriction-zones", path=path, file_name=path.name), database_url)
    import time

    deadline = time.monotonic() + 30  # polled: the NOTIFY's way may be slow on a loaded machine
    while "ESC-1" not in (page := client.get("/ogc/collections/restriction-zones/items?f=html").text) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert "&lt;b onclick=&#34;x()&#34;&gt;Жаңа&lt;/b&gt; &amp; co" in page and "<b onclick" not in page
    assert "<p>1 matched, 1 shown.</p>" in page
    item = client.get("/ogc/collections/restriction-zones/items/ESC-1?f=html").text
    assert "&lt;b onclick" in item and "<b onclick" not in item
    ru = client.get("/ogc/collections/restriction-zones/items?f=html", headers={"Accept-Language": "ru"}).text
    assert '<html lang="ru">' in ru and "<p>Найдено: 1, показано: 1.</p>" in ru
    assert "<title>Зоны ограничений</title>" in ru
    kk = client.get("/ogc/collections?f=html", headers={"Accept-Language": "kk"}).text
    assert '<html lang="kk">' in kk and "<h1>Жинақтар</h1>" in kk
    en = client.get("/ogc/conformance?f=html").text
    assert "<h1>Conformance</h1>" in en and "<li>http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core</li>" in en
    landing = client.get("/ogc/?f=html").text
    assert '<a href="http://testserver/ogc/api">The API definition (OpenAPI 3.0)</a>' in landing


def test_new_version_is_served_at_once(client, database_url, tmp_path):
    fc = feature_collection([(square(69.5, 47.5), {"zone_id": "NEW-1", "name": "Жаңа аймақ", "kind": "other",
                                                     "regime": "conditional"})])
    path = write_json(tmp_path / "new.geojson", fc)
    # Through the CLI path (another process would do the same): only NOTIFY tells the server.
    run_upload(UploadRequest(layer_id="restriction-zones", path=path, file_name=path.name), database_url)
    import time

    deadline = time.monotonic() + 30  # polled: the NOTIFY's way may be slow on a loaded machine
    while True:
        body = client.get("/ogc/collections/restriction-zones/items").json()
        if [f["id"] for f in body["features"]] == ["NEW-1"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [f["id"] for f in body["features"]] == ["NEW-1"]
    assert body["numberMatched"] == 1


def test_feature_collections_are_stamped_by_the_kernel_clock(client) -> None:
    import datetime as dt

    from geoservice.kernel import clock

    with clock.frozen(dt.datetime(2026, 3, 19, 12, 30, tzinfo=dt.UTC)):
        r = client.get("/ogc/collections/restriction-zones/items", params={"limit": 1})
    assert r.status_code == 200, r.text
    assert r.json()["timeStamp"] == "2026-03-19T12:30:00Z"
