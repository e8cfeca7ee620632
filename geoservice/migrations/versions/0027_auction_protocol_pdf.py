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
    # The printable protocol as PDF (kk, ru), made with the protocol from then on. Nullable: the
    # protocols made before have none (the route renders theirs from the stored JSON). Adding a
    # column fires no row trigger, so the append-only rows of 0016 stay as they are.
    "ALTER TABLE auction_protocols ADD COLUMN pdf_kk bytea",
    "ALTER TABLE auction_protocols ADD COLUMN pdf_ru bytea",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in ("ALTER TABLE auction_protocols DROP COLUMN IF EXISTS pdf_ru",
                      "ALTER TABLE auction_protocols DROP COLUMN IF EXISTS pdf_kk"):
        op.execute(statement)
