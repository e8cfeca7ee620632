"""Values an upload gives for the whole file (form field ``defaults``, ``geoservice import --set``),
recorded with the version they went into; ``{}`` for versions loaded without any.

Revision ID: 0005_upload_defaults
Revises: 0004_block_attribute_indexes
"""
from alembic import op

revision = "0005_upload_defaults"
down_revision = "0004_block_attribute_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.execute("ALTER TABLE layer_versions ADD COLUMN IF NOT EXISTS defaults jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE layer_versions DROP COLUMN IF EXISTS defaults")
