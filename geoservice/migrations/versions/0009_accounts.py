"""Accounts of the personal cabinet (issue 8): the state registers, people and their roles,
sign-in challenges and sessions.

Revision ID: 0009_accounts
Revises: 0008_journal_chain
"""
from alembic import op

revision = "0009_accounts"
down_revision = "0008_journal_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-8 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
