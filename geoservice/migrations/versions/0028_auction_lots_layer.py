"""Auction lots as a catalog layer (issue 10 follow-up).

Revision ID: 0028_auction_lots_layer
Revises: 0027_auction_protocol_pdf
"""
from alembic import op

revision = "0028_auction_lots_layer"
down_revision = "0027_auction_protocol_pdf"
branch_labels = None
depends_on = None

# The map's auction-lots layer follows every change of what it shows (cadastre/auction_lots.py):
# a NOTIFY at the commit of whatever transaction puts a lot up, moves its status (the ticker's
# opening, failing, cancelling, closing) or changes its public figures, whichever code path did it.
# A bid (current_bonus, leader, last_seq) is not on the layer and sends nothing. The parcel (codes,
# geom) is left out of the test: no code changes a published lot's parcel, and comparing two
# geometries on every bid's UPDATE would cost the bid path; the watcher's poll (its digest has the
# geometry) still catches a hand-made change within seconds.
UPGRADE: list[str] = [
    """CREATE FUNCTION gs_auction_lots_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('auction_lots', '');
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER auctions_lots_layer_rows AFTER INSERT OR DELETE ON auctions
        FOR EACH STATEMENT EXECUTE FUNCTION gs_auction_lots_changed()""",
    """CREATE TRIGGER auctions_lots_layer_update AFTER UPDATE ON auctions FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.name IS DISTINCT FROM NEW.name
              OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.mineral IS DISTINCT FROM NEW.mineral
              OR OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
              OR OLD.starting_bonus IS DISTINCT FROM NEW.starting_bonus OR OLD.step IS DISTINCT FROM NEW.step)
        EXECUTE FUNCTION gs_auction_lots_changed()""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS auctions_lots_layer_update ON auctions")
    op.execute("DROP TRIGGER IF EXISTS auctions_lots_layer_rows ON auctions")
    op.execute("DROP FUNCTION IF EXISTS gs_auction_lots_changed()")
