"""Licences and the open registry (issue 9): licence records on parcels, their change history
with basis documents, and the registry's change feed.

Revision ID: 0014_licences
Revises: 0013_applications
"""
from alembic import op

revision = "0014_licences"
down_revision = "0013_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-9 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
