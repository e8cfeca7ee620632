"""(Re)build the national 1'x1' block grid (table ``blocks``) in PostGIS.

Every block that intersects the national boundary (``country_boundary`` 'KAZ') grown by a
tolerance is generated from integer minute indices with the SQL functions of migration
``0002_block_grid`` (so codes agree with layers/grid.py), in latitude bands spread over two
connections, into a fresh table that is indexed and then swapped in by renaming in one
transaction: readers see the old grid or the new one, never a half-built one.

The tolerance defaults to ``Settings.boundary_tolerance_deg`` (0.15°): the shipped boundary is a
1:110m generalisation, kilometres off along the border, and uploads are accepted that far out,
so blocks are generated that far out too (about 1.26 million blocks; 1.19 million with no
tolerance). Which datum block corners are minute multiples of is ``Settings.grid_datum``, see
layers/grid.py.

The generalised cells that tiles show below block zoom (table ``block_cells``: 1:1,000,000 and
1:100,000 sheets, 10' and 5' cells, each with its code and block count, see layers/cells.py) are
built from the new grid before the swap and swapped in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial

import psycopg
from psycopg import sql
from tqdm import tqdm

from geoservice.kernel.db import libpq_url
from geoservice.kernel.settings import Settings
from layers.cells import CELL_LEVELS
from layers.grid import grid_srid, minute_index, resolve_datum

BAND_ROWS = 20          # one row of 1:100,000 sheets (20') per chunk: ~25,000 blocks
LOCK_KEY = 0x6B6C6B67   # pg_advisory_lock key: one grid build at a time per database
BUILD_TABLE = "blocks_build"
# Final names are the ones migration 0002 created, so the table looks the same after a rebuild.
INDEXES = (("blocks_build_pkey", "blocks_pkey"), ("blocks_build_code_key", "blocks_code_key"),
           ("blocks_build_geom_idx", "idx_blocks_geom"),
           # attribute filters page by id (migration 0004)
           *((f"blocks_build_{c}_id_idx", f"idx_blocks_{c}_id") for c in ("sheet", "sheet100k", "cell10")))

CELLS_BUILD_TABLE = "block_cells_build"
# (build name, final name); the final names are the ones migration 0003 created.
CELL_INDEXES = (("block_cells_build_pkey", "block_cells_pkey"),
                *((f"block_cells_build_{lv.name}_geom_idx", f"block_cells_{lv.name}_geom_idx") for lv in CELL_LEVELS))

Extent = tuple[int, int, int, int]  # x0, y0, x1, y1 minute indices, half-open


def build_grid(url: str, *, bbox: tuple[float, float, float, float] | None = None, progress: bool = True,
               tolerance_deg: float = Settings.boundary_tolerance_deg, datum: str = Settings.grid_datum,
               workers: int = 2) -> int:
    """Regenerate table ``blocks``; returns the number of blocks.

    ``bbox`` (west, south, east, north, grid-datum degrees) limits the grid to the blocks that
    overlap it (tests, development); the whole table is still replaced."""
    srid = grid_srid(resolve_datum(datum))
    tolerance = tolerance_deg
    url = libpq_url(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            area = _area(conn, srid, tolerance)
            extent = _extent(conn, area, srid, bbox)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(BUILD_TABLE)))
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(CELLS_BUILD_TABLE)))
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE blocks INCLUDING ALL EXCLUDING INDEXES)")
                         .format(sql.Identifier(BUILD_TABLE)))
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE block_cells INCLUDING ALL EXCLUDING INDEXES)")
                         .format(sql.Identifier(CELLS_BUILD_TABLE)))
            try:
                count = _fill(url, area, srid, extent, progress, workers)
                _index(url, workers)
                _cells(conn, srid)
                _swap(conn)
            except BaseException:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(BUILD_TABLE)))
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(CELLS_BUILD_TABLE)))
                raise
            conn.execute("ANALYZE blocks")
            conn.execute("ANALYZE block_cells")
            return count
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _area(conn: psycopg.Connection, srid: int, tolerance: float) -> bytes:
    """The boundary, in grid-datum degrees, grown by the tolerance, as WKB."""
    geom = "geom" if srid == 4326 else f"ST_Transform(geom, {int(srid)})"
    if tolerance > 0:
        geom = f"ST_Buffer({geom}, {float(tolerance)!r})"
    row = conn.execute(f"SELECT ST_AsBinary({geom}) FROM country_boundary WHERE id = 'KAZ'").fetchone()  # noqa: S608 - numbers only
    if row is None:
        raise RuntimeError("country_boundary has no row 'KAZ': run the migrations first")
    return bytes(row[0])


def _extent(conn: psycopg.Connection, area: bytes, srid: int,
            bbox: tuple[float, float, float, float] | None) -> Extent | None:
    row = conn.execute("SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) "
                       "FROM (SELECT ST_GeomFromWKB(%s, %s)::box2d AS g) AS a", (area, srid)).fetchone()
    assert row is not None
    west, south, east, north = row
    if bbox is not None:
        west, south = max(west, bbox[0]), max(south, bbox[1])
        east, north = min(east, bbox[2]), min(north, bbox[3])
    # Blocks overlapping [west, east) x [south, north): the last one starts below the east edge.
    x0, y0 = minute_index(west), minute_index(south)
    x1, y1 = -minute_index(-east), -minute_index(-north)   # ceil, in minutes
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _fill(url: str, area: bytes, srid: int, extent: Extent | None, progress: bool, workers: int) -> int:
    if extent is None:
        return 0
    x0, y0, x1, y1 = extent
    bands = [(y, min(y + BAND_ROWS, y1)) for y in range(y0, y1, BAND_ROWS)]
    geom = ("ST_Multi(gs_block_envelope_at(x, y, 4326))" if srid == 4326 else
            f"ST_Transform(ST_Multi(gs_block_envelope_at(x, y, {int(srid)})), 4326)")
    # Codes come from the SQL function so that they agree with gs_block_code; the sheet columns
    # are cut out of the code rather than computed a second time. The boundary is materialised
    # once per statement so ST_Intersects can keep it prepared; OFFSET 0 keeps the inner query
    # from being flattened, which would compute the code once per column.
    insert = f"""
        WITH area AS MATERIALIZED (SELECT ST_GeomFromWKB(%(area)s, %(srid)s) AS g)
        INSERT INTO {BUILD_TABLE} (id, code, sheet, sheet100k, cell10, geom)
        SELECT id, code,
               split_part(code, '-', 1) || '-' || split_part(code, '-', 2),
               split_part(code, '-(', 1),
               split_part(code, '-(', 1) || '-(' || split_part(split_part(code, '(', 2), '-', 1) || ')',
               geom
        FROM (SELECT y::bigint * 21600 + x + 10800 AS id, gs_block_code_at(x, y) AS code, {geom} AS geom
              FROM area, generate_series(%(y0)s, %(y1)s - 1) AS y, generate_series(%(x0)s, %(x1)s - 1) AS x
              WHERE ST_Intersects(area.g, gs_block_envelope_at(x, y, %(srid)s))
              OFFSET 0) AS b
    """  # noqa: S608 - table name and SRID are constants
    total = 0
    bar = tqdm(total=len(bands), desc="block grid", unit="band", disable=not progress)
    lock = threading.Lock()

    def one(conn: psycopg.Connection, band: tuple[int, int]) -> None:
        nonlocal total
        cur = conn.execute(insert, {"area": area, "srid": srid, "x0": x0, "x1": x1,
                                    "y0": band[0], "y1": band[1]})
        with lock:
            total += cur.rowcount
            bar.update(1)
            bar.set_postfix(blocks=total)

    try:
        _run_parallel(url, workers, [partial(one, band=band) for band in bands])
    finally:
        bar.close()
    return total


def _index(url: str, workers: int) -> None:
    """The indexes, built side by side (CREATE INDEX takes a SHARE lock, which they share)."""
    statements = [
        f"CREATE INDEX blocks_build_geom_idx ON {BUILD_TABLE} USING gist (geom)",
        f"CREATE UNIQUE INDEX blocks_build_pkey ON {BUILD_TABLE} (id)",
        f"CREATE UNIQUE INDEX blocks_build_code_key ON {BUILD_TABLE} (code)",
        *(f"CREATE INDEX blocks_build_{c}_id_idx ON {BUILD_TABLE} ({c}, id)"
          for c in ("sheet", "sheet100k", "cell10")),
    ]
    _run_parallel(url, workers, [partial(_execute, statement=s) for s in statements])


def _cells(conn: psycopg.Connection, srid: int) -> None:
    """The generalised cells of the new grid (~4 s for the whole country), with their indexes."""
    fill_cells(conn, BUILD_TABLE, CELLS_BUILD_TABLE, srid)
    for statement in cell_index_statements(CELLS_BUILD_TABLE, "block_cells_build"):
        conn.execute(statement)  # type: ignore[arg-type]  # built from constants


# How a cell's code is cut out of the code of its south-west block, L-43-63-(10а-5б-14).
_CELL_CODE = {
    "cell5": r"regexp_replace({c}, '-[0-9]+\)$', ')')",                     # L-43-63-(10а-5б)
    "cell10": r"regexp_replace({c}, '-5[абвг]-[0-9]+\)$', ')')",            # L-43-63-(10а)
    "sheet100k": "split_part({c}, '-(', 1)",                                # L-43-63
    "sheet": "split_part({c}, '-', 1) || '-' || split_part({c}, '-', 2)",   # L-43
}


def cell_statements(blocks: str, cells: str, srid: int) -> list[str]:
    """INSERTs filling ``cells`` (shaped like block_cells) from the grid in ``blocks``, finest
    level first, each level from the one below it.

    A cell holding all its blocks is its rectangle (in grid-datum minutes, moved to WGS 84 the
    way blocks are); a border cell is the union of its children, so only the ~2 % of cells
    along the border pay for a union. ``blocks`` and ``cells`` are our own table names."""
    statements = []
    columns = "(id % 21600)::int - 10800 AS m_lon, (id / 21600)::int AS m_lat, 1 AS n_blocks, geom"
    child = f"SELECT {columns} FROM {blocks}"  # noqa: S608 - table names are constants
    for level in reversed(CELL_LEVELS):
        w, h = level.width, level.height
        px, py = f"(m_lon + 10800) / {w} * {w} - 10800", f"m_lat / {h} * {h}"
        rect = (f"ST_MakeEnvelope(g.px::float8 / 60, g.py::float8 / 60, (g.px + {w})::float8 / 60, "
                f"(g.py + {h})::float8 / 60, {int(srid)})")
        if srid != 4326:
            rect = f"ST_Transform({rect}, 4326)"
        code = _CELL_CODE[level.name].format(c="gs_block_code_at(g.px, g.py)")
        statements.append(f"""
            WITH c AS MATERIALIZED ({child}),
            g AS (SELECT {px} AS px, {py} AS py, sum(n_blocks)::int AS n FROM c GROUP BY 1, 2),
            u AS (SELECT {px} AS px, {py} AS py, ST_Multi(ST_Union(geom)) AS geom FROM c
                  WHERE ({px}, {py}) IN (SELECT px, py FROM g WHERE n < {level.full}) GROUP BY 1, 2)
            INSERT INTO {cells} (level, code, n_blocks, m_lon, m_lat, geom)
            SELECT '{level.name}', {code}, g.n, g.px, g.py, coalesce(u.geom, ST_Multi({rect}))
            FROM g LEFT JOIN u USING (px, py)""")  # noqa: S608 - constants and numbers only
        child = f"SELECT m_lon, m_lat, n_blocks, geom FROM {cells} WHERE level = '{level.name}'"  # noqa: S608
    return statements


def cell_index_statements(cells: str, prefix: str) -> list[str]:
    """The primary key and one partial GiST index per level (tiles ask for one level at a time,
    and a z0 tile must not walk the index entries of 66,000 finer cells)."""
    return [f"ALTER TABLE {cells} ADD CONSTRAINT {prefix}_pkey PRIMARY KEY (code)",
            *(f"CREATE INDEX {prefix}_{lv.name}_geom_idx ON {cells} USING gist (geom) WHERE level = '{lv.name}'"
              for lv in CELL_LEVELS)]


def fill_cells(conn: psycopg.Connection, blocks: str, cells: str, srid: int) -> None:
    for statement in cell_statements(blocks, cells, srid):
        conn.execute(statement)  # type: ignore[arg-type]  # built from constants


def _execute(conn: psycopg.Connection, statement: str) -> None:
    conn.execute(statement)  # type: ignore[arg-type]  # statements are module constants


def _run_parallel(url: str, workers: int, jobs: Sequence[Callable[[psycopg.Connection], object]]) -> None:
    """Run jobs in order on ``workers`` connections; the first error stops the rest and is raised."""
    pending = list(reversed(jobs))
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '256MB'")
                while True:
                    with lock:
                        if errors or not pending:
                            return
                        job = pending.pop()
                    job(conn)
        except BaseException as exc:  # re-raised in the caller's thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _swap(conn: psycopg.Connection) -> None:
    """Replace ``blocks`` by the new table in one transaction, keeping grants and comment."""
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '60s'")
        build = sql.Identifier(BUILD_TABLE)
        for name, final in INDEXES[:2]:
            kind = sql.SQL("PRIMARY KEY" if final == "blocks_pkey" else "UNIQUE")
            conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                build, sql.Identifier(name), kind, sql.Identifier(name)))
        old = conn.execute("SELECT obj_description(c.oid, 'pg_class'), "
                           "ARRAY(SELECT ROW(a.grantee, a.privilege_type)::text FROM aclexplode(c.relacl) a "
                           "      WHERE a.grantee <> c.relowner) "
                           "FROM pg_class c WHERE c.oid = to_regclass('blocks')").fetchone()
        conn.execute("DROP TABLE IF EXISTS blocks")
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO blocks").format(build))
        # The generalised cells go with the grid they were built from (tiles key both on the
        # version of blocks).
        conn.execute("DROP TABLE IF EXISTS block_cells")
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO block_cells").format(sql.Identifier(CELLS_BUILD_TABLE)))
        for name, final in CELL_INDEXES:
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(name),
                                                                      sql.Identifier(final)))
        conn.execute("COMMENT ON TABLE block_cells IS 'Generalised block grid for tiles, rebuilt by "
                     "layers.grid_build'")
        # Servers drop cached tiles and counts of the old grid when this commits.
        conn.execute("UPDATE layers SET updated_at = now() WHERE id = 'blocks'")
        conn.execute("SELECT pg_notify('geoservice_layers', 'blocks')")
        for name, final in INDEXES:
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(name),
                                                                      sql.Identifier(final)))
        if old is not None:
            comment, grants = old
            if comment:
                conn.execute(sql.SQL("COMMENT ON TABLE blocks IS {}").format(sql.Literal(comment)))
            for grant in grants:
                oid, privilege = grant.strip("()").split(",")
                # regrole's text form is already quoted where needed
                role = conn.execute("SELECT CASE WHEN %s::oid = 0 THEN 'PUBLIC' ELSE "
                                    "%s::oid::regrole::text END", (oid, oid)).fetchone()
                assert role is not None
                for table in ("blocks", "block_cells"):
                    conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(
                        sql.SQL(privilege), sql.Identifier(table), sql.SQL(role[0])))

