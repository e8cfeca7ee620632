"""Obligations of licences (issue 11): kinds as data, MCI values per year, each licence's obligations and their history.

* ``mci_values``: the monthly calculation index (MCI, KZT) per calendar year with its basis; the
  operator adds a year when its budget law sets it. Shipped: 2025 and 2026 as the budget laws set
  them; 2027 is a projection (no law sets it yet), marked as such in ``projected`` and ``basis``.
* ``obligations``: what a licence obliges its holder to, derived by ``cadastre/obligations.py``
  from the licence and ``cadastre/obligations.toml``. Valid-time rows like ``licence_states``:
  ``key`` names one obligation of a licence (kind and period); a recompute that changes it
  closes the open row (``valid_to``, ``closed_*`` with basis and actor) and opens a new one, so
  nothing is rewritten and ``?at=DATE`` is one lookup. The service may only close rows.

Revision ID: 0018_obligations
Revises: 0017_commission_votes
"""
from alembic import op

revision = "0018_obligations"
down_revision = "0017_commission_votes"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    """CREATE TABLE mci_values (
        year integer PRIMARY KEY CHECK (year BETWEEN 1992 AND 2200),
        value numeric(12, 2) NOT NULL CHECK (value > 0),
        basis text NOT NULL CHECK (length(basis) BETWEEN 1 AND 1000),
        projected boolean NOT NULL DEFAULT false)""",
    """INSERT INTO mci_values (year, value, basis, projected) VALUES
        (2025, 3932, 'Law of the Republic of Kazakhstan on the republican budget for 2025-2027, '
                     'MCI from 1 January 2025', false),
        (2026, 4325, 'Law of the Republic of Kazakhstan on the republican budget for 2026-2028, '
                     'MCI from 1 January 2026', false),
        (2027, 4325, 'Projection: the 2026 value carried forward; no budget law sets the 2027 MCI yet. '
                     'Replace it when the law is adopted, then recompute the obligations', true)""",
    """CREATE TABLE obligations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL REFERENCES licence_records (number),
        key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_:.-]{0,99}$'),
        kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
        due_on date NOT NULL,
        parameters jsonb NOT NULL DEFAULT '{}',
        basis text NOT NULL CHECK (length(basis) BETWEEN 1 AND 1000),
        status text NOT NULL CHECK (status IN ('open', 'met', 'overdue', 'waived')),
        valid_from date NOT NULL,
        valid_to date,
        opened_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        opened_by text NOT NULL,
        opened_basis text NOT NULL CHECK (length(opened_basis) BETWEEN 1 AND 1000),
        closed_at timestamptz,
        closed_by text,
        closed_basis text CHECK (length(closed_basis) <= 1000),
        CHECK (valid_to IS NULL OR valid_to >= valid_from),
        CHECK ((valid_to IS NULL) = (closed_at IS NULL) AND (valid_to IS NULL) = (closed_by IS NULL)
               AND (valid_to IS NULL) = (closed_basis IS NULL)))""",
    # One open row per obligation of a licence; the checker reads open rows by due date.
    "CREATE UNIQUE INDEX obligations_open ON obligations (number, key) WHERE valid_to IS NULL",
    "CREATE INDEX obligations_number ON obligations (number, valid_from)",
    "CREATE INDEX obligations_due ON obligations (due_on) WHERE valid_to IS NULL",
    # A row is closed once and never reopened or rewritten (the owner neither, short of
    # switching triggers off); rows are never deleted.
    """CREATE FUNCTION gs_obligations_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR OLD.valid_to IS NOT NULL
           OR (to_jsonb(NEW) - ARRAY['valid_to', 'closed_at', 'closed_by', 'closed_basis'])
              IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['valid_to', 'closed_at', 'closed_by', 'closed_basis']) THEN
            RAISE EXCEPTION 'obligations rows are only ever closed' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER obligations_close_only BEFORE UPDATE OR DELETE ON obligations "
    "FOR EACH ROW EXECUTE FUNCTION gs_obligations_close_only()",
    """CREATE FUNCTION gs_obligations_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'obligations rows are only ever closed' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER obligations_no_truncate BEFORE TRUNCATE ON obligations "
    "FOR EACH STATEMENT EXECUTE FUNCTION gs_obligations_no_truncate()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
