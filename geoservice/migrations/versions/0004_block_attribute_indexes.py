"""Indexes for attribute filters on the block grid: a filter such as sheet = 'L-42' pages by id, so
(attribute, id) lets PostgreSQL read one sheet's blocks in page order instead of scanning the
grid. layers/grid_build.py builds the same indexes on every rebuild.

Revision ID: 0004_block_attribute_indexes
Revises: 0003_block_cells
"""
from alembic import op

revision = "0004_block_attribute_indexes"
down_revision = "0003_block_cells"
branch_labels = None
depends_on = None

COLUMNS = ("sheet", "sheet100k", "cell10")


def upgrade() -> None:
    for column in COLUMNS:
        op.execute(f"CREATE INDEX IF NOT EXISTS idx_blocks_{column}_id ON blocks ({column}, id)")


def downgrade() -> None:
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS idx_blocks_{column}_id")
