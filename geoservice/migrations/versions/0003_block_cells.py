"""Generalised block cells for vector tiles: 1:1,000,000 and 1:100,000 sheets, 10' and 5' cells,
each with its nomenclature code, the number of grid blocks in it and its outline (table
``block_cells``, see layers/cells.py). ``layers.grid_build`` rebuilds it with the grid and swaps
both in one transaction; here it is filled once from a grid built before this migration.

Like every migration, it holds the SQL it needs (as of this revision) and imports no application
code: a later change to the live grid builder must not change what this revision did.

Revision ID: 0003_block_cells
Revises: 0002_block_grid
"""
import os

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003_block_cells"
down_revision = "0002_block_grid"
branch_labels = None
depends_on = None


# (level, width, height) in arc-minutes, coarse to fine, as of this revision.
CELL_LEVELS = (("sheet", 360, 240), ("sheet100k", 30, 20), ("cell10", 10, 10), ("cell5", 5, 5))
# How a cell's code is cut out of the code of its south-west block, L-43-63-(10а-5б-14).
CELL_CODE = {
    "cell5": r"regexp_replace({c}, '-[0-9]+\)$', ')')",
    "cell10": r"regexp_replace({c}, '-5[абвг]-[0-9]+\)$', ')')",
    "sheet100k": "split_part({c}, '-(', 1)",
    "sheet": "split_part({c}, '-', 1) || '-' || split_part({c}, '-', 2)",
}
PULKOVO_SRID = 904284  # migration 0002's spatial_ref_sys row pinning EPSG:1291


def grid_srid() -> int:
    # The grid datum setting, read as the settings module reads it (GEOSERVICE_GRID_DATUM).
    datum = (os.environ.get("GEOSERVICE_GRID_DATUM") or "EPSG:4326").strip().upper()
    return 4326 if datum == "EPSG:4326" else PULKOVO_SRID


def cell_statements(srid: int) -> list[str]:
    """Fill block_cells from blocks, finest level first, each level from the one below it."""
    statements = []
    columns = "(id % 21600)::int - 10800 AS m_lon, (id / 21600)::int AS m_lat, 1 AS n_blocks, geom"
    child = f"SELECT {columns} FROM blocks"  # noqa: S608 - constants
    for name, w, h in reversed(CELL_LEVELS):
        px, py = f"(m_lon + 10800) / {w} * {w} - 10800", f"m_lat / {h} * {h}"
        rect = (f"ST_MakeEnvelope(g.px::float8 / 60, g.py::float8 / 60, (g.px + {w})::float8 / 60, "
                f"(g.py + {h})::float8 / 60, {int(srid)})")
        if srid != 4326:
            rect = f"ST_Transform({rect}, 4326)"
        code = CELL_CODE[name].format(c="gs_block_code_at(g.px, g.py)")
        statements.append(f"""
            WITH c AS MATERIALIZED ({child}),
            g AS (SELECT {px} AS px, {py} AS py, sum(n_blocks)::int AS n FROM c GROUP BY 1, 2),
            u AS (SELECT {px} AS px, {py} AS py, ST_Multi(ST_Union(geom)) AS geom FROM c
                  WHERE ({px}, {py}) IN (SELECT px, py FROM g WHERE n < {w * h}) GROUP BY 1, 2)
            INSERT INTO block_cells (level, code, n_blocks, m_lon, m_lat, geom)
            SELECT '{name}', {code}, g.n, g.px, g.py, coalesce(u.geom, ST_Multi({rect}))
            FROM g LEFT JOIN u USING (px, py)""")  # noqa: S608 - constants and numbers only
        child = f"SELECT m_lon, m_lat, n_blocks, geom FROM block_cells WHERE level = '{name}'"  # noqa: S608
    return statements


def upgrade() -> None:
    op.create_table(
        "block_cells",
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("code", sa.Text(collation="C"), nullable=False),
        sa.Column("n_blocks", sa.Integer, nullable=False),
        # South-west corner in grid-datum arc-minutes (as layers/grid.py counts them).
        sa.Column("m_lon", sa.Integer, nullable=False),
        sa.Column("m_lat", sa.Integer, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.execute("COMMENT ON TABLE block_cells IS 'Generalised block grid for tiles, rebuilt by layers.grid_build'")
    for statement in cell_statements(grid_srid()):
        op.execute(sa.text(statement))
    op.execute("ALTER TABLE block_cells ADD CONSTRAINT block_cells_pkey PRIMARY KEY (code)")
    for name, _, _ in CELL_LEVELS:
        op.execute(f"CREATE INDEX block_cells_{name}_geom_idx ON block_cells USING gist (geom) WHERE level = '{name}'")
    op.execute("ANALYZE block_cells")


def downgrade() -> None:
    op.drop_table("block_cells")
