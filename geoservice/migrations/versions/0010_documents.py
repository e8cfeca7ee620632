"""Signed documents with access levels and the notifications inbox of the cabinet (issue 8).

Revision ID: 0010_documents
Revises: 0009_accounts
"""
from alembic import op

revision = "0010_documents"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-8 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
