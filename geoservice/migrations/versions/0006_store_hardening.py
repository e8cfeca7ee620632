"""Hardening of the store (issue 7): the journal records where each attempt came from (``client``:
the caller's address over HTTP, ``cli`` from the command line); tokens record when they were last
used (``geoservice token list``); versions record the options they were uploaded with, so that
the file already current, sent again with the same options, makes no new version; versions whose
data the retention policy dropped keep their row, with ``pruned_at``.

Revision ID: 0006_store_hardening
Revises: 0005_upload_defaults
"""
from alembic import op

revision = "0006_store_hardening"
down_revision = "0005_upload_defaults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE journal ADD COLUMN IF NOT EXISTS client text")
    op.execute("ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS last_used_at timestamptz")
    op.execute("ALTER TABLE layer_versions ADD COLUMN IF NOT EXISTS options jsonb")
    op.execute("ALTER TABLE layer_versions ADD COLUMN IF NOT EXISTS pruned_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE layer_versions DROP COLUMN IF EXISTS pruned_at")
    op.execute("ALTER TABLE layer_versions DROP COLUMN IF EXISTS options")
    op.execute("ALTER TABLE api_tokens DROP COLUMN IF EXISTS last_used_at")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS client")
