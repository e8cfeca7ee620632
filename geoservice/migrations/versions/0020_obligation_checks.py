"""Obligation checks (issue 11): the checker's findings (warnings, overdue, deviations) and its runs.

Revision ID: 0020_obligation_checks
Revises: 0019_mail_outbox
"""
from alembic import op

revision = "0020_obligation_checks"
down_revision = "0019_mail_outbox"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
