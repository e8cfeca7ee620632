"""Auction lots as a catalog layer (issue 10 follow-up).

Revision ID: 0028_auction_lots_layer
Revises: 0027_auction_protocol_pdf
"""
from alembic import op

revision = "0028_auction_lots_layer"
down_revision = "0027_auction_protocol_pdf"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    # (filled by the work it is named after; left empty if it needs no schema change)
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
