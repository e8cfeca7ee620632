"""Analytics for authorities (issue 11): Kazakhstan's regions as a boundary layer, and what the report queries need.

Revision ID: 0022_analytics
Revises: 0021_obligation_reports
"""
from alembic import op

revision = "0022_analytics"
down_revision = "0021_obligation_reports"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
