"""Geological information (issue 12): the reports of geological studies, with access levels and search.

Revision ID: 0024_geo_reports
Revises: 0023_obligation_decisions
"""
from alembic import op

revision = "0024_geo_reports"
down_revision = "0023_obligation_decisions"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
