"""Working days (Kazakhstan's weekends and public holidays) and procedures
as data: stages, acting roles, deadlines, allowed actions (issue 9).

Revision ID: 0012_calendar_procedures
Revises: 0011_pulkovo_output_srids
"""
from alembic import op

revision = "0012_calendar_procedures"
down_revision = "0011_pulkovo_output_srids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-9 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
