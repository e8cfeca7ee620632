"""Auction protocols as PDF (kk, ru) beside the HTML pages (issue 10 follow-up).

Revision ID: 0027_auction_protocol_pdf
Revises: 0026_raster_retention
"""
from alembic import op

revision = "0027_auction_protocol_pdf"
down_revision = "0026_raster_retention"
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
