"""Mail and SMS as an adapter (issue 11): the outbox with retries.

Revision ID: 0019_mail_outbox
Revises: 0018_obligations
"""
from alembic import op

revision = "0019_mail_outbox"
down_revision = "0018_obligations"
branch_labels = None
depends_on = None

UPGRADE: list[str] = []


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
