"""Generalised block cells for vector tiles: 1:1,000,000 and 1:100,000 sheets, 10' and 5' cells,
each with its nomenclature code, the number of grid blocks in it and its outline (table
``block_cells``, see tiles/levels.py). ``layers.grid_build`` rebuilds it with the grid and swaps
both in one transaction; here it is filled once from a grid built before this migration.

Revision ID: 0003_block_cells
Revises: 0002_block_grid
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003_block_cells"
down_revision = "0002_block_grid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from layers.grid import grid_srid, resolve_datum
    from layers.grid_build import cell_index_statements, cell_statements

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
    for statement in cell_statements("blocks", "block_cells", grid_srid(resolve_datum())):
        op.execute(sa.text(statement))
    for statement in cell_index_statements("block_cells", "block_cells"):
        op.execute(sa.text(statement))
    op.execute("ANALYZE block_cells")


def downgrade() -> None:
    op.drop_table("block_cells")
