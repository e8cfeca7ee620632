"""Raster layers' versions restored and pruned (issue 12), like vector versions.

Revision ID: 0026_raster_retention
Revises: 0025_rasters
"""
from alembic import op

revision = "0026_raster_retention"
down_revision = "0025_rasters"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    # (filled by the raster retention work)
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
