"""E-applications on parcels (issue 9): numbers, receipt times, signed canonical payloads,
claimed blocks with priority enforced in PostgreSQL, lots for auction.

Revision ID: 0013_applications
Revises: 0012_calendar_procedures
"""
from alembic import op

revision = "0013_applications"
down_revision = "0012_calendar_procedures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-9 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
