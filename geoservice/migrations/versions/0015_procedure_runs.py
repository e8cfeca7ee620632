"""Procedure runs (issue 9): the procedure an accepted application goes through, its stages' due
times, and every officer's signed decision.

Revision ID: 0015_procedure_runs
Revises: 0014_licences
"""
from alembic import op

revision = "0015_procedure_runs"
down_revision = "0014_licences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")  # filled by the issue-9 work on this migration


def downgrade() -> None:
    op.execute("SELECT 1")
