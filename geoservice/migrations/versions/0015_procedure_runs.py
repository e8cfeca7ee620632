"""Procedure runs (issue 9): the procedure an accepted application goes through, its stages' due
times, and every officer's signed decision.

``procedure_runs``: one per accepted application that has a declared procedure. ``state`` is
``cadastre.procedures.State.to_json()`` (the whole history of stages); ``stage``, ``role``,
``due_at`` and ``status`` repeat its current step so the workbench can select and sort in SQL.
``authority`` is where the application was routed (whose officers act).

``procedure_decisions``: append-only, one per step acted on. Each is signed like an application:
a detached CMS over the RFC 8785 JSON of ``{"application", "stage", "action", "reason"}``;
``canonical`` is that text exactly as verified, ``signature`` the CMS, ``verification`` the
result, so anyone allowed can verify again later.

``procedure_overdue``: a stage past its deadline is notified once; the primary key (run, step)
makes "once" hold when several servers look at the same moment.

Revision ID: 0015_procedure_runs
Revises: 0014_licences
"""
from alembic import op

revision = "0015_procedure_runs"
down_revision = "0014_licences"
branch_labels = None
depends_on = None

UPGRADE = [
    """CREATE TABLE procedure_runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL UNIQUE REFERENCES applications (id),
        number text NOT NULL UNIQUE,
        procedure text NOT NULL,
        authority text REFERENCES authorities (id),
        state jsonb NOT NULL,
        -- The current step (NULL once finished), repeated from state for the queue.
        step integer CHECK (step >= 0),
        stage text,
        role text,
        due_at timestamptz,
        status text NOT NULL CHECK (status IN ('running', 'returned', 'finished')),
        outcome text CHECK (outcome IN ('granted', 'refused')),
        started_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK ((status = 'finished') = (stage IS NULL)),
        CHECK ((status = 'finished') = (outcome IS NOT NULL)))""",
    "CREATE INDEX procedure_runs_queue ON procedure_runs (authority, due_at) WHERE status <> 'finished'",
    "CREATE INDEX procedure_runs_role ON procedure_runs (role, due_at) WHERE status <> 'finished'",
    """CREATE TABLE procedure_decisions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES procedure_runs (id),
        step integer NOT NULL CHECK (step >= 0),
        stage text NOT NULL,
        role text NOT NULL,
        action text NOT NULL,
        reason text,
        actor text NOT NULL,
        actor_iin text NOT NULL CHECK (actor_iin ~ '^[0-9]{12}$'),
        account_id bigint REFERENCES accounts (id),
        at timestamptz NOT NULL,
        canonical text NOT NULL,
        signature bytea NOT NULL,
        signature_valid boolean NOT NULL,
        verification jsonb NOT NULL,
        UNIQUE (run_id, step))""",
    """CREATE TABLE procedure_overdue (
        run_id bigint NOT NULL REFERENCES procedure_runs (id),
        step integer NOT NULL,
        stage text NOT NULL,
        due_at timestamptz NOT NULL,
        notified_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        notified integer NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, step))""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in ("procedure_overdue", "procedure_decisions", "procedure_runs"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
