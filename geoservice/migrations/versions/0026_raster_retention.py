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
    # When the retention policy removed the version's files (it stays listed, not restorable).
    "ALTER TABLE raster_versions ADD COLUMN pruned_at timestamptz",
    # A restore is a new version whose sheets copy an earlier one's (same COG files).
    "ALTER TABLE raster_versions ADD COLUMN restored_from bigint REFERENCES raster_versions (id)",
    # Pruning asks, per file, whether a version still unpruned points at it (a restore shares files).
    "CREATE INDEX raster_sheets_path ON raster_sheets (path)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in ("DROP INDEX IF EXISTS raster_sheets_path",
                      "ALTER TABLE raster_versions DROP COLUMN IF EXISTS restored_from",
                      "ALTER TABLE raster_versions DROP COLUMN IF EXISTS pruned_at"):
        op.execute(statement)
