"""Trusted certification authorities and certificate revocation lists for signature verification (issue 8).

Revision ID: 0007_eds_trust
Revises: 0006_store_hardening
"""
from alembic import op

revision = "0007_eds_trust"
down_revision = "0006_store_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-8 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
