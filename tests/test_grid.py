"""The 1'x1' block grid: nomenclature in Python and SQL, block lists, and the grid build."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import shapely
from shapely.geometry import box, shape

from geoservice.kernel.errors import Problem
from layers import datum, grid_build
from layers.grid import (
    BlockListError,
    block_bounds,
    block_code,
    block_id,
    blocks_geometry,
    code_from_id,
    minute_index,
    parse_block_list,
)
from layers.grid_build import build_grid

SHEET = "L-43-63"
# L = 44–48° N, column 43 = 72–78° E; sheet 63 is row 5, column 2 of the 12 x 12 sheets:
# its north-west corner is 46°20' N, 73°00' E (in minutes: 2780, 4380).
SHEET_NW = (73 * 60, 46 * 60 + 20)


def sheet_blocks() -> list[tuple[str, tuple[int, int]]]:
    """All 600 blocks of L-43-63 with their south-west corners in minutes, from the definition."""
    out = []
    for i, c10 in enumerate("абвгде"):
        for j, c5 in enumerate("абвг"):
            for n in range(1, 26):
                west = SHEET_NW[0] + 10 * (i % 3) + 5 * (j % 2) + (n - 1) % 5
                north = SHEET_NW[1] - 10 * (i // 3) - 5 * (j // 2) - (n - 1) // 5
                out.append((f"{SHEET}-(10{c10}-5{c5}-{n})", (west, north - 1)))
    return out


# --- Python nomenclature ----------------------------------------------------------------------

def test_every_block_of_a_sheet_round_trips_in_python() -> None:
    blocks = sheet_blocks()
    assert len(blocks) == 600
    for code, (x, y) in blocks:
        bounds = block_bounds(code)
        assert bounds == (x / 60, y / 60, (x + 1) / 60, (y + 1) / 60), code
        west, south, east, north = bounds
        assert block_code((west + east) / 2, (south + north) / 2) == code
        assert block_code(west, south) == code  # its own corner belongs to it
        assert block_id(code) == y * 21600 + x + 10800
        assert code_from_id(block_id(code)) == code
    # The 600 blocks tile the sheet (20' x 30') exactly.
    cells = shapely.union_all([box(*block_bounds(c)) for c, _ in blocks])
    assert cells.equals(box(73, 46, 73.5, 46 + 20 / 60))
    assert len({block_bounds(c) for c, _ in blocks}) == 600


def test_known_corners_and_hand_checked_codes() -> None:
    # The north-west block of M-42-1 has its north-west corner at 52° N, 66° E.
    assert block_code(66 + 1e-9, 52 - 1e-9) == "M-42-1-(10а-5а-1)"
    assert block_bounds("M-42-1-(10а-5а-1)") == (66.0, 52 - 1 / 60, 66 + 1 / 60, 52.0)
    # ... and the south-east block of M-42-144 ends at 48° N, 72° E.
    assert block_code(72 - 1e-9, 48 + 1e-9) == "M-42-144-(10е-5г-25)"
    # The licence example: 10а = NW 10' cell of 73°00'–73°30' x 46°00'–46°20', 5б its NE 5'
    # cell, block 14 the 4th column of the 3rd row: 73°08'–73°09' x 46°17'–46°18'.
    assert block_bounds("L-43-63-(10а-5б-14)") == (73 + 8 / 60, 46 + 17 / 60, 73 + 9 / 60, 46 + 18 / 60)
    # Almaty (43.2383 N, 76.9458 E), worked out by hand from the nomenclature.
    assert block_code(76.9458, 43.2383) == "K-43-34-(10в-5г-2)"
    # A point on a corner belongs to the block to its north-east.
    assert block_code(72.0, 48.0) == "M-43-133-(10г-5в-21)"
    assert block_code(72.0 - 1e-12, 48.0 - 1e-12) == "L-42-12-(10в-5б-5)"
    assert block_id("M-42-1-(10а-5а-1)") == (52 * 60 - 1) * 21600 + 66 * 60 + 10800


def test_block_edges_that_floating_point_would_misplace(db: psycopg.Connection) -> None:
    # m / 60 * 60 falls just below m for hundreds of minutes: a bare floor() would put a block's
    # own west or south edge into its neighbour. Python and SQL must both get every one right.
    edges = [m / 60 for m in range(-10800, 10800)]
    assert sum(math.floor(x * 60) != m for m, x in zip(range(-10800, 10800), edges, strict=True)) > 100
    assert [minute_index(x) for x in edges] == list(range(-10800, 10800))
    rows = db.execute("SELECT gs_minute_index(x) FROM unnest(%s::float8[]) WITH ORDINALITY AS u(x, o) ORDER BY o",
                      (edges,)).fetchall()
    assert [r[0] for r in rows] == list(range(-10800, 10800))
    lats = [m / 60 for m in range(40 * 60, 56 * 60)]
    rows = db.execute("SELECT gs_block_code(70.5, y) FROM unnest(%s::float8[]) WITH ORDINALITY AS u(y, o) "
                      "ORDER BY o", (lats,)).fetchall()
    assert [r[0] for r in rows] == [block_code(70.5, y) for y in lats]
    assert [block_bounds(block_code(70.5, y))[1] for y in lats] == lats


def test_code_spellings_and_out_of_grid() -> None:
    assert block_id(" l - 43-063-( 10 A -5 b - 014 ) ") == block_id("L-43-63-(10а-5б-14)")
    assert block_id("К-43-34-(10В-5Г-2)") == block_id("K-43-34-(10в-5г-2)")  # Cyrillic К, upper-case cells
    with pytest.raises(ValueError):
        block_code(70.0, -1.0)
    with pytest.raises(ValueError):
        code_from_id(-1)
    with pytest.raises(BlockListError):
        block_bounds("L-43-63-(10а-5б-14,15)")


# --- Block lists ------------------------------------------------------------------------------

def test_licence_example_list() -> None:
    assert parse_block_list("L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)") == [
        "L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)", "L-43-63-(10а-5б-19)", "L-43-63-(10а-5б-20)",
        "L-43-64-(10а-5а-1)",
    ]


def test_ranges_latin_letters_groups_and_duplicates() -> None:
    assert parse_block_list("L-43-63-(10а-5б-14–16)") == [f"L-43-63-(10а-5б-{n})" for n in (14, 15, 16)]
    assert parse_block_list("L-43-63-(10а-5б-1..5)") == [f"L-43-63-(10а-5б-{n})" for n in range(1, 6)]
    assert parse_block_list("l-43-63-(10A-5b-14)\nL-43-63-(10e-5G-25)") == [
        "L-43-63-(10а-5б-14)", "L-43-63-(10е-5г-25)"]
    assert parse_block_list("L-43-63-(10а-5б-14,15; 10а-5в-1); L-43-63-(10б-5а-2 10б-5а-3)") == [
        "L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)", "L-43-63-(10а-5в-1)", "L-43-63-(10б-5а-2)",
        "L-43-63-(10б-5а-3)"]
    # Duplicates go, first occurrence keeps its place.
    assert parse_block_list("L-43-63-(10а-5б-15,14); L-43-63-(10а-5б-13–16); l-43-63-(10a-5b-14)") == [
        f"L-43-63-(10а-5б-{n})" for n in (15, 14, 13, 16)]
    assert parse_block_list(" ; \n") == []


@pytest.mark.parametrize(("text", "token", "position", "reason"), [
    ("L-43-63-(10ж-5б-14)", "ж", 12, "cell10"),                    # wrong letter
    ("L-43-63-(10а-5д-14)", "д", 15, "cell5"),                     # д is no 5' cell
    ("L-43-63-(10а-5б-14,26)", "26", 20, "block_number"),          # number 26
    ("L-43-63-(10а-5б-14", "(", 9, "unclosed"),                    # missing ")"
    ("L-43-63-(10а-5б-14; L-43-64-(10а-5а-1)", "(", 9, "unclosed"),
    ("L-43-63-10а-5б-14)", "10", 9, "expected_open"),              # missing "("
    ("L-43-63-(10а-5б-16–14)", "16–14", 17, "range_order"),
    ("L-43-63-(10а-5б-14) blah", "blah", 21, "expected_separator"),  # garbage after an item
    ("L-43-63-(10а-5б-14) #", "#", 21, "unexpected_character"),
    ("hello", "hello", 1, "sheet_letter"),
    ("L-61-1-(10а-5а-1)", "61", 3, "sheet_column"),
    ("L-43-145-(10а-5а-1)", "145", 6, "sheet100k"),
    ("L-43-63-(10а-5б-14 15)", "15", 20, "expected_close"),
])
def test_bad_lists_name_the_token(text: str, token: str, position: int, reason: str) -> None:
    with pytest.raises(BlockListError) as caught:
        parse_block_list(text)
    err = caught.value
    assert (err.token, err.position, err.reason) == (token, position, reason)
    assert text[position - 1:].startswith(token)
    assert isinstance(err, Problem) and err.status == 422 and err.key == "blocks.invalid_token"
    assert err.params["token"] == token and err.params["position"] == position
    for lang in ("en", "ru", "kk"):
        body = err.render(lang)
        assert token in body["detail"] and str(position) in body["detail"]
        assert "blocks.reason" not in body["detail"] and body["reason"] == reason
    assert err.render("ru")["detail"] != err.render("en")["detail"] != err.render("kk")["detail"]


# --- SQL agrees with Python -------------------------------------------------------------------

def test_every_block_of_a_sheet_round_trips_in_sql(db: psycopg.Connection) -> None:
    codes = [code for code, _ in sheet_blocks()]
    rows = db.execute(
        "SELECT c, gs_block_id(c), gs_block_code_from_id(gs_block_id(c)), ST_AsBinary(gs_block_envelope(c)), "
        "       ST_SRID(gs_block_envelope(c)) "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS u(c, o) ORDER BY o", (codes,)).fetchall()
    assert len(rows) == 600
    for code, sql_id, sql_code, wkb, srid in rows:
        assert sql_id == block_id(code) and sql_code == code
        envelope = shapely.from_wkb(bytes(wkb))
        assert envelope.geom_type == "Polygon" and srid == 4326
        assert envelope.bounds == block_bounds(code)  # exactly the same floats
    # Points: block centres and corners, through gs_block_code and block_code.
    points = [p for code in codes for p in (block_bounds(code)[:2], (block_bounds(code)[0] + 1 / 120,
                                                                     block_bounds(code)[1] + 1 / 120))]
    got = db.execute("SELECT gs_block_code(x, y) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY "
                     "AS p(x, y, o) ORDER BY o", ([p[0] for p in points], [p[1] for p in points])).fetchall()
    assert [r[0] for r in got] == [block_code(*p) for p in points]


def test_sql_and_python_agree_on_spellings_and_errors(db: psycopg.Connection) -> None:
    good = [" l - 43-063-( 10 A -5 b - 014 ) ", "К-43-34-(10В-5Г-2)", "M-42-1-(10а-5а-1)",
            "L\u221243\u201063-(10е-5г-25)", "L-43-63-(10а-5б-14)\n"]
    for code in good:
        assert db.execute("SELECT gs_block_id(%s)", (code,)).fetchone() == (block_id(code),)
    bad = ["L-43-63-(10а-5б-26)", "L-43-63-(10ж-5б-1)", "L-43-63-(10а-5д-1)", "W-43-1-(10а-5а-1)",
           "L-0-1-(10а-5а-1)", "L-43-145-(10а-5а-1)", "L-43-63-(10а-5б-14,15)", "L-43-63-(010а-5б-1)",
           "L-43-63-(10аб-5б-1)", "L-43-63-10а-5б-1", "", "L-43-63-(10а-5б-99999999999999)"]
    for code in bad:
        with pytest.raises(BlockListError):
            block_id(code)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            db.execute("SELECT gs_block_id(%s)", (code,))
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("SELECT gs_block_code(70, -0.5)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("SELECT gs_block_code_from_id(-1)")


@pytest.mark.parametrize("text", [
    "L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)",
    "l-43-63-(10a-5b-14–16; 10A-5v-1..3)\nL-43-63-(10а-5б-14) , K - 42 - 1 - ( 10 e - 5 g - 25 )",
    "L-43-63-(10а-5б-14,15 10а-5в-1,10б-5а-1)",
    "L-43-63-(10а-5б-15,14); L-43-63-(10а-5б-13–16); l-43-63-(10a-5b-14)",
    "L-43-63-(10а-5б-14,\n 15)",
    "",
])
def test_sql_block_list_matches_python(db: psycopg.Connection, text: str) -> None:
    rows = db.execute("SELECT gs_block_list(%s)", (text,)).fetchall()
    assert [r[0] for r in rows] == parse_block_list(text)


@pytest.mark.parametrize("text", [
    "L-43-63-(10а-5б-14", "L-43-63-(10а-5б-26)", "L-43-63-(10а-5б-16–14)", "L-43-63-(10а-5б-14) blah",
    "L-43-63-(10а-5б-14 15)", "L-43-63-(10а-5б-1.2)", "L-43-63-(10а-5б-14) L-43-64-(10а-5а-1)",
    "L-43-63-(; 10а-5б-1)",
])
def test_sql_block_list_rejects_what_python_rejects(db: psycopg.Connection, text: str) -> None:
    with pytest.raises(BlockListError):
        parse_block_list(text)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("SELECT gs_block_list(%s)", (text,)).fetchall()


# --- Geometry and datum -----------------------------------------------------------------------

def test_blocks_geometry_is_the_union_in_wgs84() -> None:
    geom = blocks_geometry(parse_block_list("M-42-1-(10а-5а-1,2,6,7)"))
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1
    assert geom.equals(box(66, 52 - 2 / 60, 66 + 2 / 60, 52))
    two = blocks_geometry(["M-42-1-(10а-5а-1)", "M-42-1-(10а-5а-3)"])
    assert len(two.geoms) == 2
    assert blocks_geometry([]).is_empty


def test_pulkovo_datum_shift_is_epsg_1291_in_python_and_sql(db: psycopg.Connection) -> None:
    assert datum.towgs84() == (15.0, -130.0, -84.0)
    proj4 = db.execute("SELECT proj4text FROM spatial_ref_sys WHERE srid = 904284").fetchone()
    assert proj4 is not None and "+towgs84=15,-130,-84" in proj4[0] and "+ellps=krass" in proj4[0]
    code = "M-42-1-(10а-5а-1)"
    shifted = blocks_geometry([code], datum="EPSG:4284")
    row = db.execute("SELECT ST_AsBinary(gs_block_geom(%s, 'EPSG:4284')), ST_AsBinary(gs_block_geom(%s))",
                     (code, code)).fetchone()
    assert row is not None
    sql_shifted, sql_plain = shapely.from_wkb(bytes(row[0])), shapely.from_wkb(bytes(row[1]))
    assert sql_plain.equals(blocks_geometry([code]))
    # Same corners to well under a millimetre (PROJ versions differ in the last bits).
    assert shapely.hausdorff_distance(sql_shifted, shifted) < 1e-10
    # And the shift is the real one: about 70 m west and 40 m north here, not zero.
    dx = shifted.bounds[0] - 66.0
    dy = shifted.bounds[3] - 52.0
    assert -0.0012 < dx < -0.0008 and 0.0002 < dy < 0.0005


# --- Building the grid ------------------------------------------------------------------------

def blocks_snapshot(db: psycopg.Connection) -> list[tuple[int, str, str, str, str, bytes]]:
    return db.execute("SELECT id, code, sheet, sheet100k, cell10, ST_AsBinary(geom) FROM blocks ORDER BY id"
                      ).fetchall()


@pytest.fixture
def empty_grid_after(database_url: str) -> Iterator[None]:
    yield
    # Other tests share this database: leave the grid as the migration left it, empty.
    build_grid(database_url, bbox=(0.0, 0.0, 0.0, 0.0), progress=False)


def test_build_small_bbox(database_url: str, db: psycopg.Connection, empty_grid_after: None) -> None:
    assert build_grid(database_url, bbox=(70.0, 48.0, 71.0, 49.0), progress=False, datum="EPSG:4326") == 3600
    rows = blocks_snapshot(db)
    assert len(rows) == 3600
    for id_, code, sheet, sheet100k, cell10, wkb in rows:
        geom = shapely.from_wkb(bytes(wkb))
        assert geom.geom_type == "MultiPolygon"
        assert geom.bounds == block_bounds(code)
        west, south, east, north = geom.bounds
        assert block_code((west + east) / 2, (south + north) / 2) == code
        assert id_ == block_id(code)
        assert code.startswith(f"{sheet100k}-(") and sheet100k.startswith(f"{sheet}-") and sheet == "M-42"
        assert cell10 == code[:code.index("-5", code.index("("))] + ")"
    union = db.execute("SELECT ST_AsBinary(ST_Union(geom)) FROM blocks").fetchone()
    assert union is not None
    assert shapely.from_wkb(bytes(union[0])).equals(box(70, 48, 71, 49))
    # The indexes and constraints carry the migration's names.
    indexes = {r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'blocks'")}
    assert indexes == {"blocks_pkey", "blocks_code_key", "idx_blocks_geom", "idx_blocks_sheet_id",
                       "idx_blocks_sheet100k_id", "idx_blocks_cell10_id"}
    plan = "\n".join(r[0] for r in db.execute(
        "EXPLAIN SELECT id FROM blocks WHERE geom && ST_MakeEnvelope(70.5, 48.5, 70.51, 48.51, 4326)"))
    assert "idx_blocks_geom" in plan


def test_border_blocks_match_an_independent_count(database_url: str, db: psycopg.Connection,
                                                  empty_grid_after: None) -> None:
    # Across the eastern border, without tolerance: exactly the blocks that touch the boundary,
    # counted here with shapely from the shipped GeoJSON.
    bbox = (86.5, 49.0, 87.5, 49.5)
    path = Path(__file__).resolve().parents[1] / "layers" / "data" / "kazakhstan_boundary.geojson"
    boundary = shape(json.loads(path.read_text())["features"][0]["geometry"])
    expected = sorted(block_code(x / 60 + 1 / 120, y / 60 + 1 / 120)
                      for x in range(86 * 60 + 30, 87 * 60 + 30) for y in range(49 * 60, 49 * 60 + 30)
                      if boundary.intersects(box(x / 60, y / 60, (x + 1) / 60, (y + 1) / 60)))
    assert 0 < len(expected) < 1800
    assert build_grid(database_url, bbox=bbox, tolerance_deg=0.0, progress=False) == len(expected)
    assert sorted(r[1] for r in blocks_snapshot(db)) == expected
    # The default tolerance (the upload tolerance, 0.15°) reaches further out.
    assert build_grid(database_url, bbox=bbox, progress=False) > len(expected)


def test_rebuild_swaps_atomically(database_url: str, db: psycopg.Connection, empty_grid_after: None) -> None:
    assert build_grid(database_url, bbox=(70.0, 48.0, 71.0, 49.0), progress=False) == 3600
    seen: set[int] = set()
    errors: list[Exception] = []
    done = threading.Event()
    reading = threading.Event()

    def read() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as reader:
                while not done.is_set():
                    row = reader.execute("SELECT count(*) FROM blocks").fetchone()
                    seen.add(row[0] if row else -1)
                    reading.set()
                    time.sleep(0.005)
        except Exception as exc:  # e.g. "relation blocks does not exist" mid-swap
            errors.append(exc)
        finally:
            reading.set()

    thread = threading.Thread(target=read)
    thread.start()
    # The rebuild starts once the reader has read the old grid: a thread started late on a loaded
    # machine could otherwise see only the new one.
    assert reading.wait(timeout=30)
    try:
        assert build_grid(database_url, bbox=(70.0, 48.0, 70.5, 48.5), progress=False) == 900
    finally:
        done.set()
        thread.join()
    assert not errors
    assert seen <= {3600, 900} and 3600 in seen  # never a half-built grid
    # 70°00'–70°30' x 48°00'–48°30': the south-west block is the SW one of M-42-141.
    assert db.execute("SELECT count(*), min(id) FROM blocks").fetchone() == (900, block_id("M-42-141-(10г-5в-21)"))
    assert db.execute("SELECT to_regclass('blocks_build')").fetchone() == (None,)
    assert db.execute("SELECT code FROM blocks WHERE id = %s",
                      (block_id("M-42-129-(10г-5а-1)"),)).fetchone() == ("M-42-129-(10г-5а-1)",)
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("INSERT INTO blocks SELECT * FROM blocks LIMIT 1")


def test_failed_build_keeps_the_old_grid(database_url: str, db: psycopg.Connection, empty_grid_after: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # (empty_grid_after before monkeypatch: its clean-up build runs after the patch is undone)
    build_grid(database_url, bbox=(70.0, 48.0, 70.1, 48.1), progress=False)
    before = blocks_snapshot(db)
    assert len(before) == 36

    def broken(url: str, workers: int) -> None:
        raise RuntimeError("index build failed")

    monkeypatch.setattr(grid_build, "_index", broken)
    with pytest.raises(RuntimeError):
        build_grid(database_url, bbox=(70.0, 48.0, 71.0, 49.0), progress=False)
    assert blocks_snapshot(db) == before
    assert db.execute("SELECT to_regclass('blocks_build')").fetchone() == (None,)


def test_build_in_pulkovo_datum(database_url: str, db: psycopg.Connection, empty_grid_after: None) -> None:
    assert build_grid(database_url, bbox=(70.0, 48.0, 70.1, 48.1), progress=False, datum="EPSG:4284") == 36
    for _, code, *_, wkb in blocks_snapshot(db):
        stored = shapely.from_wkb(bytes(wkb))
        assert shapely.hausdorff_distance(stored, blocks_geometry([code], datum="EPSG:4284")) < 1e-10
        assert not stored.equals(blocks_geometry([code], datum="EPSG:4326"))
