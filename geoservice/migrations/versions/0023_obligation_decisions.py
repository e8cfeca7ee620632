"""Signed decisions on a licence's obligations (issue 11): an officer of the licence's authority
records that an obligation is met (a payment received, a relinquishment done), waived, or open
again. Each row keeps what was signed (the RFC 8785 JSON), the detached CMS and its verification,
so anyone can verify it later; the obligation's own history (``obligations``) names the decision
as its basis. Append-only, like the journal.

Revision ID: 0023_obligation_decisions
Revises: 0022_analytics
"""
from alembic import op

revision = "0023_obligation_decisions"
down_revision = "0022_analytics"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    """CREATE TABLE obligation_decisions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL REFERENCES licence_records (number),
        key text NOT NULL,
        closed_obligation bigint NOT NULL REFERENCES obligations (id),
        opened_obligation bigint NOT NULL REFERENCES obligations (id),
        status text NOT NULL CHECK (status IN ('open', 'met', 'waived')),
        effective_on date NOT NULL,
        basis text NOT NULL CHECK (length(basis) BETWEEN 1 AND 1000),
        document_id bigint REFERENCES documents (id),
        amount_kzt numeric(20, 2) CHECK (amount_kzt >= 0),
        actor text NOT NULL,
        actor_iin text NOT NULL CHECK (actor_iin ~ '^[0-9]{12}$'),
        account_id bigint REFERENCES accounts (id),
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        canonical text NOT NULL,
        signature bytea NOT NULL,
        verification jsonb NOT NULL)""",
    "CREATE INDEX obligation_decisions_number ON obligation_decisions (number, id)",
    """CREATE FUNCTION gs_obligation_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'obligation_decisions is append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER obligation_decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON obligation_decisions "
    "FOR EACH STATEMENT EXECUTE FUNCTION gs_obligation_decisions_append_only()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS obligation_decisions")
    op.execute("DROP FUNCTION IF EXISTS gs_obligation_decisions_append_only()")
