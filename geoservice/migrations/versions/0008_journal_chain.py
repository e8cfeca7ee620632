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
    op.execute("SELECT 1")  # filled by the issue-8 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
