"""Commissions as data and their members' signed votes (issue 9, seed 004 lines 219-240).

``commission_members``: who sits on a commission (a procedure's commission stage names it in
``cadastre/procedures.toml``) and in which seat: ``chair`` (the deputy head of the authority,
seed 004:219), ``deputy_chair`` (acts for the chair in their absence, seed 004:222-223) or
``member``. At most one chair and one deputy chair per commission. The operator maintains it
(``geoservice commission add/remove``); changes are journaled.

``commission_votes``: append-only, one per member per commission step of a run, each signed
like every decision: a detached CMS over the RFC 8785 JSON of ``{"application", "stage",
"vote", "reason"}``; ``canonical`` is that text exactly as verified. The unique key makes "once
each" hold under concurrency too.

``procedure_decisions.tally``: at a commission stage the stage's decision is the closing of the
vote; its tally (members, who voted how, quorum, the outcome, whether the chair broke a tie) is
kept with it.

Revision ID: 0017_commission_votes
Revises: 0016_auctions
"""
from alembic import op

revision = "0017_commission_votes"
down_revision = "0016_auctions"
branch_labels = None
depends_on = None

UPGRADE = [
    """CREATE TABLE commission_members (
        commission text NOT NULL CHECK (commission ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
        iin text NOT NULL CHECK (iin ~ '^[0-9]{12}$'),
        seat text NOT NULL CHECK (seat IN ('chair', 'deputy_chair', 'member')),
        added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        added_by text,
        PRIMARY KEY (commission, iin))""",
    "CREATE UNIQUE INDEX commission_members_one_chair ON commission_members (commission, seat) "
    "WHERE seat <> 'member'",
    """CREATE TABLE commission_votes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES procedure_runs (id),
        step integer NOT NULL CHECK (step >= 0),
        stage text NOT NULL,
        commission text NOT NULL,
        member_iin text NOT NULL CHECK (member_iin ~ '^[0-9]{12}$'),
        vote text NOT NULL CHECK (vote IN ('approve', 'refuse')),
        reason text,
        actor text NOT NULL,
        account_id bigint REFERENCES accounts (id),
        at timestamptz NOT NULL,
        canonical text NOT NULL,
        signature bytea NOT NULL,
        signature_valid boolean NOT NULL,
        verification jsonb NOT NULL,
        UNIQUE (run_id, step, member_iin))""",
    "ALTER TABLE procedure_decisions ADD COLUMN tally jsonb",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE procedure_decisions DROP COLUMN IF EXISTS tally")
    for table in ("commission_votes", "commission_members"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
