"""Auction lots as the catalog layer `auction-lots` (issue 10 follow-up, cadastre/auction_lots.py),
on a database of this module's own: a lot put up is in the OGC collection and in the tiles (the map
tileset's and its own) with its public fields and nothing about who asked for it or registered;
the server's own ticker opening it moves it to `open` on the map within a second or two and its
close (or a failed opening) takes it off; a look without a change makes no version; the styles
draw the two statuses apart, with a legend in kk/ru/en, and QGIS gets a QML style."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from cadastre.auction_lots import publish_if_changed
from geoservice.kernel import clock
from layers.catalog import can_write, get_layer
from layers.grid import blocks_geometry
from tests.applicants import FCFS_AREA, app_client, bearer, demo_people, programme_database, square
from tests.test_applied_blocks import MAP_TILEJSON, current_tile_url, tile_address, tile_layer
from tests.test_auction_lots import OFFICER, pay, registration_body

OWN_TILEJSON = "/ogc/collections/auction-lots/tiles/WebMercatorQuad/tilejson.json"
PUBLIC = {"id", "name", "status", "kind", "mineral", "starts_at", "ends_at", "starting_bonus", "step",
          "block_count"}
# A bound on waiting for the map to follow a change the ticker commits (NOTIFY, 0.2 s settle,
# publish, switch; about a second here). Generous: how fast is for a benchmark, not a test.
FOLLOW_SECONDS = 20.0


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_lots_layer") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return demo_people(app_db, Path(tmp_path_factory.mktemp("auction_lots_layer")) / "pki")


@pytest.fixture(scope="module")
def api(app_db: str, pki: Any) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def put_up(api: TestClient, db: psycopg.Connection, codes: list[str], starts: timedelta, **more: Any) -> dict[str, Any]:
    body = {"parcel": {"blocks": codes}, "kind": "exploration-licence", "mineral": "gold", "name": "Лот учаскесі",
            "starting_bonus": "2500000", "starts_at": (clock.now() + starts).isoformat(), **more}
    r = api.post("/api/auctions", json=body, headers=bearer(db, OFFICER))
    assert r.status_code == 201, r.text
    return r.json()


def register(api: TestClient, db: psycopg.Connection, lot: dict[str, Any], holder: Any) -> int:
    pay(db, lot["id"], holder.person.iin)
    r = api.post(f"/api/auctions/{lot['id']}/registrations",
                 json=registration_body(lot["number"], holder.sign("rsa"), iin=holder.person.iin),
                 headers=bearer(db, holder.person.iin))
    assert r.status_code == 201 and r.json()["status"] == "admitted", r.text
    return int(r.json()["participant"])


def on_map(api: TestClient, tilejson: str, codes: list[str], number: str) -> dict[str, Any] | None:
    """The lot's feature properties in the current tile over its first block (None: not there)."""
    found = tile_layer(api, current_tile_url(api, tilejson, *tile_address(codes)), "auction-lots")
    return next((f["properties"] for f in found if f["properties"].get("id") == number), None)


def wait_map(api: TestClient, tilejson: str, codes: list[str], number: str, status: str | None,
             seconds: float = 30.0) -> dict[str, Any] | None:
    """Wait until the tile shows the lot with ``status`` (None: the lot gone)."""
    deadline = time.monotonic() + seconds
    while True:
        props = on_map(api, tilejson, codes, number)
        if (props is None and status is None) or (props is not None and props.get("status") == status):
            return props
        assert time.monotonic() < deadline, f"{number}: {props} on the map, not {status}"
        time.sleep(0.1)


def wait_status(db: psycopg.Connection, auction_id: int, status: str, seconds: float) -> float:
    """Wait for the server's ticker to give the lot ``status``; the moment it was seen."""
    deadline = time.monotonic() + seconds
    while db.execute("SELECT status FROM auctions WHERE id = %s", (auction_id,)).fetchone()[0] != status:
        assert time.monotonic() < deadline, f"auction {auction_id} not {status}"
        time.sleep(0.05)
    return time.monotonic()


def versions(db: psycopg.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM layer_versions WHERE layer_id = 'auction-lots'").fetchone()[0])


def test_a_lot_put_up_is_in_the_collection_and_the_tiles_with_public_fields_only(api, db, pki):
    me = pki.person("applicant")
    codes = square(FCFS_AREA, 0, 40, 2)
    lot = put_up(api, db, codes, timedelta(days=200), requested_by=[{"iin": me.person.iin}], step="12500")
    register(api, db, lot, me)
    number = lot["number"]

    for tilejson in (MAP_TILEJSON, OWN_TILEJSON):
        props = wait_map(api, tilejson, codes, number, "published")
        assert props is not None and set(props) <= PUBLIC, props  # nobody who asked or registered
        assert {k: props[k] for k in ("name", "kind", "mineral", "starts_at", "ends_at", "starting_bonus", "step",
                                      "block_count")} == {
            "name": "Лот учаскесі", "kind": "exploration-licence", "mineral": "gold", "starts_at": lot["starts_at"],
            "ends_at": lot["ends_at"], "starting_bonus": "2500000.00", "step": "12500.00", "block_count": 4}

    r = api.get(f"/ogc/collections/auction-lots/items/{number}", headers={"Accept": "application/geo+json"})
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["properties"]["status"] == "published" and item["properties"]["starting_bonus"] == "2500000.00"
    assert sorted(c.strip() for c in item["properties"]["blocks"].split(",")) == sorted(codes)
    parcel = blocks_geometry(codes)
    assert shape(item["geometry"]).symmetric_difference(parcel).area < 1e-4 * parcel.area
    # No identity and no participant number anywhere in the public answers.
    participant = db.execute("SELECT number FROM auction_participants WHERE auction_id = %s",
                             (lot["id"],)).fetchone()[0]
    listing = api.get("/ogc/collections/auction-lots/items?limit=100").text
    for text in (r.text, listing):
        assert me.person.iin not in text and str(participant) not in text
        assert not {"requested_by", "participants", "leader", "winner", "current_bonus"} & set(item["properties"])
    assert number in listing

    collection = api.get("/ogc/collections/auction-lots", headers={"Accept-Language": "kk"}).json()
    assert collection["title"] == "Аукцион лоттары"
    assert "auction-lots" in [c["id"] for c in api.get("/ogc/collections").json()["collections"]]
    # Published, not uploaded: no authority may write it.
    layer = get_layer("auction-lots")
    assert layer is not None and not layer.uploadable and not can_write("operator", layer)


def test_the_tickers_opening_and_closing_move_the_lot_on_the_map(api, db, pki):
    holder = pki.person("head")
    sold, empty = square(FCFS_AREA, 4, 40, 2), square(FCFS_AREA, 8, 40, 1)
    # Real lots, run by the server's own ticker: one admitted bidder (who did not ask for it), so
    # it opens and, after its fifteen seconds, closes; the other nobody registered for, so it fails.
    # (Each state lasts long enough for a loaded machine's map to show it.)
    lot = put_up(api, db, sold, timedelta(seconds=12), duration_minutes=0.25, extension_minutes=0)
    register(api, db, lot, holder)
    failing = put_up(api, db, empty, timedelta(seconds=12))
    wait_map(api, MAP_TILEJSON, sold, lot["number"], "published")
    wait_map(api, OWN_TILEJSON, empty, failing["number"], "published")

    wait_status(db, lot["id"], "open", 30)
    wait_map(api, OWN_TILEJSON, sold, lot["number"], "open", seconds=FOLLOW_SECONDS)
    wait_status(db, failing["id"], "failed", 30)
    wait_map(api, OWN_TILEJSON, empty, failing["number"], None, seconds=FOLLOW_SECONDS)

    wait_status(db, lot["id"], "closed", 60)
    wait_map(api, MAP_TILEJSON, sold, lot["number"], None, seconds=FOLLOW_SECONDS)
    assert api.get(f"/ogc/collections/auction-lots/items/{lot['number']}").status_code == 404
    assert api.get(f"/ogc/collections/auction-lots/items/{failing['number']}").status_code == 404


def test_a_look_without_a_change_makes_no_version(api, db, app_db):
    put_up(api, db, square(FCFS_AREA, 12, 40, 1), timedelta(days=200))
    with psycopg.connect(app_db) as conn:
        publish_if_changed(conn)  # whatever the server's publisher has not done yet
        conn.commit()
    before = versions(db)
    assert before >= 1
    # A change the layer does not show (a bid's head, journaled) sends nothing and changes nothing.
    db.execute("UPDATE auctions SET last_seq = last_seq WHERE status = 'published'")
    time.sleep(2.5)  # past the server's poll
    with psycopg.connect(app_db) as conn:
        assert publish_if_changed(conn) is None
    assert versions(db) == before
    # A change it shows (the lot's name) makes exactly one more.
    db.execute("UPDATE auctions SET name = name || ' (түзетілген)' WHERE id = (SELECT max(id) FROM auctions)")
    deadline = time.monotonic() + 30  # polled: generous for a loaded machine
    while versions(db) == before:
        assert time.monotonic() < deadline, "the renamed lot was not published"
        time.sleep(0.1)
    time.sleep(1)
    assert versions(db) == before + 1


@pytest.mark.parametrize("lang, title, published, bidding", [
    ("kk", "Аукцион лоттары", "Жарияланған (тіркеу)", "Сауда жүріп жатыр"),
    ("ru", "Лоты аукционов", "Объявлен (регистрация)", "Идут торги"),
    ("en", "Auction lots", "Published (registration)", "Bidding now")])
def test_the_styles_draw_the_two_statuses_apart_with_a_legend_in_each_language(api, lang, title, published,
                                                                                bidding):
    style = api.get(f"/ogc/styles/default?f=mapbox&lang={lang}").json()
    lots = [lyr for lyr in style["layers"] if lyr.get("source-layer") == "auction-lots"]
    assert {lyr["type"] for lyr in lots} >= {"fill", "line", "symbol"}
    fill = next(lyr for lyr in lots if lyr["type"] == "fill")
    colours = dict(zip(fill["paint"]["fill-color"][2::2], fill["paint"]["fill-color"][3::2], strict=False))
    assert colours["published"] != colours["open"]
    lines = {lyr["filter"][2][2]: lyr["paint"] for lyr in lots if lyr["id"].startswith("auction-lots-line-")}
    assert set(lines) == {"published", "open"} and lines["published"] != lines["open"]
    applied = next(lyr for lyr in style["layers"] if lyr.get("source-layer") == "applied-blocks"
                   and lyr["type"] == "fill")
    assert {colours["published"], colours["open"]}.isdisjoint(applied["paint"]["fill-color"][3::2])
    (legend,) = [g for g in style["metadata"]["geoservice:legend"] if g["layer"] == "auction-lots"]
    assert legend["title"][lang] == title
    items = {i["value"]: i["label"][lang] for i in legend["sections"][0]["items"]}
    assert items == {"published": published, "open": bidding}
    assert "auction-lots" in [g["id"] for g in style["metadata"]["geoservice:groups"]]
    own = api.get(f"/ogc/collections/auction-lots/styles/default?f=mapbox&lang={lang}")
    assert own.status_code == 200 and {lyr.get("source-layer") for lyr in own.json()["layers"]} == {"auction-lots"}
    qml = api.get(f"/ogc/collections/auction-lots/styles/default?f=qml&lang={lang}")
    assert qml.status_code == 200 and "<qgis" in qml.text and '"status"' in qml.text
    assert published in qml.text and bidding in qml.text


def test_the_auctions_trigger_notifies_what_the_layer_shows_and_nothing_else(api, db, app_db):
    """The map follows at once (not at the next poll) because every commit that changes what the
    layer shows sends a NOTIFY on auction_lots, whichever code did it; a bid's head does not."""
    with psycopg.connect(app_db, autocommit=True) as listener:
        listener.execute("LISTEN auction_lots")

        def notified(timeout: float = 10.0) -> bool:
            # Waiting for one that must come: generous; for one that must not: a second's look.
            return any(True for _ in listener.notifies(timeout=timeout, stop_after=1))

        lot = put_up(api, db, square(FCFS_AREA, 14, 40, 1), timedelta(days=200))
        assert notified()
        db.execute("UPDATE auctions SET last_seq = last_seq, current_bonus = NULL WHERE id = %s", (lot["id"],))
        assert not notified(1.0)
        with db.transaction():
            db.execute("UPDATE auctions SET ends_at = ends_at + interval '1 minute' WHERE id = %s", (lot["id"],))
            assert not notified(1.0)  # not before the commit
        assert notified()
