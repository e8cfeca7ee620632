"""The licence registry against real PostGIS and a real HTTP server: issuing and changing
licences with their basis, ``?at=`` before and after a change, filters and paging, CSV and
GeoPackage downloads read back by GDAL, the change feed, the OGC collection ``licences`` (items,
queryables, CQL2, GDAL's OAPIF driver), the map's tiles, and the import CLI (all rows or none)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
import pyogrio.raw
import pytest

from cadastre import licences as reg
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import get_settings
from tests.live import live_server

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
BLOCKS = "L-43-63-(10а-5б-14,15)"
POLYGON = {"type": "Polygon", "coordinates": [[[80.1, 50.1], [80.3, 50.1], [80.3, 50.2], [80.1, 50.2], [80.1, 50.1]]]}
OFFICER = "IIN870101300111"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    # A poll far longer than the test waits: a licence that shows within seconds came by NOTIFY.
    before = os.environ.get("GEOSERVICE_REGISTRY_POLL_SECONDS")
    os.environ["GEOSERVICE_REGISTRY_POLL_SECONDS"] = "600"
    try:
        with live_server() as url:
            yield url
    finally:
        if before is None:
            os.environ.pop("GEOSERVICE_REGISTRY_POLL_SECONDS", None)
        else:
            os.environ["GEOSERVICE_REGISTRY_POLL_SECONDS"] = before
        get_settings.cache_clear()


@pytest.fixture
def service(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection as the service's role: what the app (and the lead's wiring) writes with."""
    get_settings.cache_clear()
    with psycopg.connect(get_settings().service_database_url) as conn:
        yield conn


def http(server: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server}{path}", params=params, timeout=60)


def feed_head(server: str) -> int:
    """The journal number the feed has reached (everything after it is new)."""
    since = 0
    while True:
        items = http(server, "/api/licences/feed", since=since, limit=1000).json()["items"]
        if not items:
            return since
        since = int(items[-1]["id"])


def poll(deadline_s: float, probe: Any) -> Any:
    deadline = time.monotonic() + deadline_s
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def issue(conn: psycopg.Connection, number: str, **over: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        number=number, holder={"iin": "900315300123", "name": "Сапар Ерлан"}, kind="exploration-licence",
        mineral="copper", blocks=BLOCKS, issued_on=dt.date(2024, 1, 10), term_until=dt.date(2030, 1, 10),
        conditions={"min_spend_mci": 1800}, source="APP-2024-0001", basis="Order No. 12 of 2024-01-09",
        actor=OFFICER)
    args.update(over)
    return reg.issue_licence(conn, **args)


def test_issue_change_and_at(server, service):
    since = feed_head(server)
    licence = issue(service, "KZ-EL-0001")
    service.commit()
    assert licence["kind"] == "exploration" and licence["status"] == "active"
    assert licence["blocks"] == ["L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)"]
    assert licence["geometry"]["type"] == "MultiPolygon"
    reg.change_licence(service, "KZ-EL-0001", {"status": "suspended", "conditions": {"min_spend_mci": 2300}},
                       basis="Order No. 40 of 2025-05-30", actor=OFFICER, effective_on=dt.date(2025, 6, 1))
    service.commit()

    before = http(server, "/api/licences", at="2025-05-31").json()
    after = http(server, "/api/licences", at="2025-06-01").json()
    assert {x["number"]: x["status"] for x in before["licences"]}["KZ-EL-0001"] == "active"
    assert {x["number"]: x["status"] for x in after["licences"]}["KZ-EL-0001"] == "suspended"
    assert "KZ-EL-0001" not in {x["number"] for x in http(server, "/api/licences", at="2024-01-09").json()["licences"]}
    # Past its term an active licence reads as expired (as of that date).
    old = http(server, "/api/licences/KZ-EL-0001", at="2025-01-01").json()
    assert old["status"] == "active" and old["conditions"] == {"min_spend_mci": 1800}

    one = http(server, "/api/licences/KZ-EL-0001").json()
    assert one["status"] == "suspended" and one["conditions"] == {"min_spend_mci": 2300}
    issued, changed = one["history"]
    assert issued["action"] == "issue" and issued["basis"]["text"] == "Order No. 12 of 2024-01-09"
    assert changed["changes"]["status"] == {"old": "active", "new": "suspended"}
    assert changed["changes"]["conditions"]["old"] == {"min_spend_mci": 1800}
    assert changed["basis"] == {"document": None, "text": "Order No. 40 of 2025-05-30"}
    assert changed["actor"] == OFFICER and changed["effective_on"] == "2025-06-01"
    assert http(server, "/api/licences/NO-SUCH").status_code == 404

    # The feed: both changes after the head, in order; nothing after the last.
    feed = http(server, "/api/licences/feed", since=since).json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    mine = [i for i in feed["items"] if i["_licence"]["number"] == "KZ-EL-0001"]
    assert [i["_licence"]["action"] for i in mine] == ["issue", "change"]
    assert int(mine[0]["id"]) < int(mine[1]["id"])
    assert mine[1]["_licence"]["changes"]["status"]["new"] == "suspended"
    assert mine[0]["_licence"]["changes"]["geometry"]["new"]["type"] == "MultiPolygon"
    last = feed["items"][-1]["id"]
    assert http(server, "/api/licences/feed", since=last).json()["items"] == []
    atom = http(server, "/api/licences/feed", since=since, f="atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(atom.text).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == len(feed["items"])

    # Journaled with the licence as the object.
    with psycopg.connect(get_settings().effective_database_url) as owner:
        from layers.journal import seal

        seal(owner)
        actions = [r[0] for r in owner.execute(
            "SELECT action FROM journal WHERE object = 'licence:KZ-EL-0001' ORDER BY seq").fetchall()]
    assert actions == ["licence.issue", "licence.change"]


def test_refusals_leave_nothing(service):
    with pytest.raises(Problem) as bad:
        issue(service, "KZ-BAD-1", blocks=BLOCKS, geometry=POLYGON)
    assert bad.value.key == "licences.blocks_or_geometry"
    service.rollback()
    with pytest.raises(Problem) as bad:
        issue(service, "KZ-BAD-2", basis=987654321)
    assert bad.value.key == "licences.basis_unknown"
    service.rollback()
    with pytest.raises(Problem) as bad:
        issue(service, "KZ-BAD-3", blocks="L-43-63-(10ж-5б-14)")
    assert bad.value.key == "blocks.invalid_token"
    service.rollback()
    issue(service, "KZ-DUP-1")
    service.commit()
    with pytest.raises(Problem) as bad:
        issue(service, "KZ-DUP-1")
    assert bad.value.key == "licences.exists"
    service.rollback()
    with pytest.raises(Problem) as bad:
        reg.change_licence(service, "KZ-DUP-1", {"status": "active"}, basis="x", actor=OFFICER)
    assert bad.value.key == "licences.no_change"
    service.rollback()
    with pytest.raises(Problem) as bad:
        reg.change_licence(service, "KZ-DUP-1", {"status": "suspended"}, basis="x", actor=OFFICER,
                           effective_on=dt.date(2023, 1, 1))
    assert bad.value.key == "licences.bad_effective_date"
    service.rollback()
    assert service.execute("SELECT count(*) FROM licence_records WHERE number LIKE 'KZ-BAD-%'").fetchone()[0] == 0


def test_filters_paging_and_downloads(server, service, tmp_path):
    issue(service, "KZ-ML-0002", holder={"bin": "123456789012", "name": "ТОО Алтын Тау"}, kind="mining",
          mineral="Gold", blocks=None, geometry=POLYGON, issued_on=dt.date(2022, 3, 1),
          term_until=dt.date(2047, 3, 1), source="import")
    issue(service, "KZ-EL-0003", holder={"iin": "880202400222", "name": "Асанов Болат"},
          blocks="L-43-63-(10а-5б-20)", term_until=dt.date(2025, 1, 1))
    service.commit()

    def numbers(**params: Any) -> list[str]:
        res = http(server, "/api/licences", **params)
        assert res.status_code == 200, res.text
        return [x["number"] for x in res.json()["licences"]]

    assert numbers(kind="mining") == ["KZ-ML-0002"]
    assert numbers(holder="123456789012") == ["KZ-ML-0002"]
    assert numbers(holder="алтын") == ["KZ-ML-0002"]
    assert numbers(mineral="gold") == ["KZ-ML-0002"]
    assert numbers(bbox="80,50,80.5,50.5") == ["KZ-ML-0002"]
    assert "KZ-EL-0003" in numbers(status="expired") and "KZ-EL-0003" not in numbers(status="active")
    assert "KZ-EL-0003" in numbers(status="active", at="2024-12-31")
    first = http(server, "/api/licences", limit=1).json()
    second = httpx.get(first["next"], timeout=60).json()
    assert first["licences"][0]["number"] < second["licences"][0]["number"]
    for bad in ({"at": "2025-13-01"}, {"bbox": "1,2,3"}, {"kind": "x"}, {"limit": "0"}, {"holder": "a\x00"}):
        res = http(server, "/api/licences", **bad)
        assert res.status_code == 400 and res.json()["type"].endswith(":licences.bad_param"), bad

    csv_path = tmp_path / "licences.csv"
    csv_path.write_bytes(http(server, "/api/licences.csv", kind="mining").content)
    meta, _, geometry, values = pyogrio.raw.read(csv_path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    assert len(geometry) == 1 and values[list(meta["fields"]).index("number")][0] == "KZ-ML-0002"

    gpkg = http(server, "/api/licences.gpkg")
    assert gpkg.headers["content-type"] == "application/geopackage+sqlite3"
    gpkg_path = tmp_path / "licences.gpkg"
    gpkg_path.write_bytes(gpkg.content)
    meta, _, geometry, values = pyogrio.raw.read(gpkg_path, layer="licences")
    fields = list(meta["fields"])
    got = dict(zip(values[fields.index("number")], values[fields.index("holder_bin")], strict=True))
    assert got["KZ-ML-0002"] == "123456789012" and meta["crs"] == "EPSG:4326"
    assert len(geometry) == len(numbers(limit=1000))


def test_ogc_collection_tiles_and_gdal(server, service):
    number = f"KZ-OGC-{time.monotonic_ns() % 10**9}"
    issue(service, number, holder={"iin": "900315300123", "name": "Сапар Ерлан"}, blocks="L-43-63-(10а-5б-16)")
    service.commit()

    def served() -> bool:
        res = http(server, "/ogc/collections/licences/items", number=number)
        return res.status_code == 200 and len(res.json()["features"]) == 1
    # The registry hears the version switch by NOTIFY (the poll is set to 10 minutes here).
    assert poll(30.0, served), "the licence did not reach the OGC collection"

    q = http(server, "/ogc/collections/licences/queryables").json()
    assert {"number", "status", "kind", "issued_on", "holder_name"} <= set(q["properties"])
    reg.change_licence(service, number, {"status": "suspended"}, basis="Order 7", actor=OFFICER)
    service.commit()

    def suspended() -> list[str]:
        res = http(server, "/ogc/collections/licences/items", filter="status = 'suspended' AND kind = 'exploration'",
                   **{"filter-lang": "cql2-text"})
        assert res.status_code == 200, res.text
        return [f["id"] for f in res.json()["features"]]
    assert number in poll(30.0, lambda: number in suspended() and suspended())

    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-q", "-geom=NO", "-where", "status = 'suspended'",
                          f"OAPIF:{server}/ogc", "licences"], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert number in out.stdout

    # The map: the licence is a feature of the map tileset's licences layer, styled as taken.
    lic = http(server, f"/api/licences/{number}").json()
    lon, lat = (lic["bbox"][0] + lic["bbox"][2]) / 2, (lic["bbox"][1] + lic["bbox"][3]) / 2
    z = 12
    n = 1 << z
    import math
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    tile = http(server, f"/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200
    layers = mapbox_vector_tile.decode(tile.content)
    assert number in {f["properties"].get("id") for f in layers["licences"]["features"]}
    style = http(server, "/ogc/styles/default", lang="ru").json()
    assert any(layer.get("source-layer") == "licences" for layer in style["layers"])


def run_cli(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(GEOSERVICE + args, capture_output=True, text=True, env=env, timeout=120)


def test_import_cli_all_or_nothing(database_url, tmp_path):
    header = "number,holder_iin,holder_bin,holder_name,kind,mineral,blocks,wkt,issued_on,term_until,status\n"
    good = header + (
        'IMP-1,900315300123,,Сапар Ерлан,exploration,copper,"L-43-63-(10а-5б-1,2)",,2019-05-01,2025-05-01,active\n'
        'IMP-2,,123456789012,ТОО Алтын Тау,mining,gold,,"POLYGON((81 50,81.1 50,81.1 50.1,81 50.1,81 50))",'
        '2018-02-01,2043-02-01,suspended\n')
    bad = header + (
        'IMP-3,900315300123,,Сапар Ерлан,exploration,copper,"L-43-63-(10а-5б-3)",,2019-05-01,2025-05-01,active\n'
        'IMP-4,900315300123,,Сапар Ерлан,exploration,copper,"L-43-63-(10ж-5б-3)",,2019-05-01,2025-05-01,active\n'
        'IMP-5,900315300123,,Сапар Ерлан,exploration,copper,"L-43-63-(10а-5б-4)",,01.05.2019,2025-05-01,open\n')
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM licence_records").fetchone()[0]
        versions = conn.execute("SELECT count(*) FROM layer_versions WHERE layer_id = 'licences'").fetchone()[0]

    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    res = run_cli(["licences", "import", str(tmp_path / "bad.csv"), "--lang", "ru"], database_url)
    assert res.returncode == 2, res.stdout + res.stderr
    problem = json.loads(res.stderr)
    assert problem["type"] == "urn:geoservice:problem:licences.import_invalid"
    where = {(i["code"], i["message"].split(":")[0]) for i in problem["errors"]}
    assert ("licences.import_blocks", "Строка 3, столбец blocks") in where
    assert ("licences.import_date", "Строка 4, столбец issued_on") in where
    assert ("licences.import_value", "Строка 4, столбец status") in where
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM licence_records").fetchone()[0] == count
        assert conn.execute("SELECT count(*) FROM layer_versions WHERE layer_id = 'licences'").fetchone()[0] == versions
        from layers.journal import seal

        seal(conn)
        assert conn.execute("SELECT result FROM journal WHERE action = 'licence.import' ORDER BY seq DESC "
                            "LIMIT 1").fetchone()[0] == "rejected"

    (tmp_path / "good.csv").write_text(good, encoding="utf-8")
    res = run_cli(["licences", "import", str(tmp_path / "good.csv")], database_url)
    assert res.returncode == 0, res.stderr
    assert "licences imported: 2" in res.stdout
    with psycopg.connect(database_url) as conn:
        found = reg.get_licence(conn, "IMP-2", dt.date(2020, 1, 1))
        assert found is not None and found["status"] == "suspended" and found["source"] == "import"
        assert found["holder"] == {"bin": "123456789012", "name": "ТОО Алтын Тау"}
        assert reg.get_licence(conn, "IMP-1")["status"] == "expired"  # past its term today
        assert reg.get_licence(conn, "IMP-1", dt.date(2018, 1, 1)) is None  # before it was issued
    # Importing the same file again clashes on every number, naming the rows.
    res = run_cli(["licences", "import", str(tmp_path / "good.csv")], database_url)
    assert res.returncode == 2
    assert {i["code"] for i in json.loads(res.stderr)["errors"]} == {"licences.import_exists"}


def test_basis_document_concurrent_writers_and_append_only(database_url, service):
    """A document of the store as the basis; two writers at once both land and the layer's
    current version holds both; the history cannot be rewritten, by the service or the owner."""
    import threading

    with psycopg.connect(database_url) as owner:
        # A whole document (row and bytes), as the store keeps one: other modules read every document.
        content = b"Order No. 7 of the solid-minerals authority"
        doc = owner.execute(
            "INSERT INTO documents (owner_authority, file_name, content_type, size, sha256, access_level, uploaded_by) "
            "VALUES ('solid-minerals', 'order.txt', 'text/plain; charset=utf-8', %s, %s, 'public', 'test') "
            "RETURNING id", (len(content), hashlib.sha256(content).hexdigest())).fetchone()[0]
        owner.execute("INSERT INTO document_contents (document_id, content) VALUES (%s, %s)", (doc, content))
        owner.commit()
    tag = time.monotonic_ns() % 10**9
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with psycopg.connect(get_settings().service_database_url) as conn:
                issue(conn, f"KZ-RACE-{tag}-{i}", blocks=f"L-43-63-(10б-5а-{i + 1})", basis=doc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = {f"KZ-RACE-{tag}-0", f"KZ-RACE-{tag}-1"}
    row = service.execute("SELECT v.table_name FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                          "WHERE l.id = 'licences'").fetchone()
    served = {r[0] for r in service.execute(f'SELECT feature_id FROM layer_data."{row[0]}"').fetchall()}  # noqa: S608
    assert numbers <= served
    assert served == {r[0] for r in service.execute(
        "SELECT number FROM licence_states WHERE valid_to IS NULL").fetchall()}
    found = reg.get_licence(service, f"KZ-RACE-{tag}-0")
    assert found is not None and found["history"][0]["basis"] == {"document": doc, "text": None}
    service.rollback()

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute("UPDATE licence_changes SET actor = 'someone' WHERE number = %s", (f"KZ-RACE-{tag}-0",))
    service.rollback()
    with psycopg.connect(database_url) as owner, pytest.raises(psycopg.errors.RestrictViolation):
        owner.execute("DELETE FROM licence_changes WHERE number = %s", (f"KZ-RACE-{tag}-0",))
