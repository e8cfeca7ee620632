"""Holders' signed reports of work and spend on their licences (issue 11).

Revision ID: 0021_obligation_reports
Revises: 0020_obligation_checks
"""
from alembic import op

revision = "0021_obligation_reports"
down_revision = "0020_obligation_checks"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
