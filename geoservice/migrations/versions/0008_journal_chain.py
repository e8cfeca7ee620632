"""The platform journal (issue 8): gap-free sequence numbers and a SHA-256 hash chain,
append-only for the service's role.

Revision ID: 0008_journal_chain
Revises: 0007_eds_trust
"""
from alembic import op

revision = "0008_journal_chain"
down_revision = "0007_eds_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What was acted on, for every kind of row (layers, accounts, documents…).
    op.execute("ALTER TABLE journal ADD COLUMN IF NOT EXISTS object text")
    op.execute("UPDATE journal SET object = 'layer:' || layer_id WHERE object IS NULL AND layer_id IS NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS object")
