"""Obligation checks (issue 11): the checker's findings (warnings, overdue, deviations) and its runs.

* ``obligation_findings``: what the checker (``cadastre/checker.py``) found on a licence's
  obligation: a warning ``due`` (``threshold``: the days-before mark crossed, e.g. 30/7/1), the
  obligation ``overdue``, or a ``deviation`` (``code``, e.g. ``spend_below_minimum``; ``report_id``
  the report it is about). The unique key is the finding itself, so a finding is inserted once
  however many checker runs or server processes meet it (``INSERT … ON CONFLICT DO NOTHING
  RETURNING``): whoever inserts the row notifies, in the same transaction, and nobody else.
  ``due_on`` is part of it: an obligation whose date moves gets its warnings again.
  A finding is ``resolved`` when its obligation is met, waived or closed (or its report returned).
* ``checker_runs``: each run of the checker (start, end, the day checked, what it found, which
  process): the scheduler catches up when the last run is older than its interval, and the health
  of the schedule can be read off it.

Revision ID: 0020_obligation_checks
Revises: 0019_mail_outbox
"""
from alembic import op

revision = "0020_obligation_checks"
down_revision = "0019_mail_outbox"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    """CREATE TABLE obligation_findings (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL REFERENCES licence_records (number),
        key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_:.-]{0,99}$'),
        kind text NOT NULL CHECK (kind IN ('due', 'overdue', 'deviation')),
        threshold integer NOT NULL DEFAULT 0 CHECK (threshold >= 0),
        code text NOT NULL DEFAULT '' CHECK (code ~ '^[a-z0-9_]{0,64}$'),
        report_id bigint,
        due_on date,
        found_on date NOT NULL,
        found_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
        resolved_at timestamptz,
        resolved_on date,
        params jsonb NOT NULL DEFAULT '{}',
        notified integer NOT NULL DEFAULT 0 CHECK (notified >= 0),
        CHECK ((kind = 'due') = (threshold > 0)),
        CHECK ((kind = 'deviation') = (code <> '')),
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)))""",
    # The finding, once: a deviation has no due date of its own when its report's obligation is
    # unknown, hence NULLS NOT DISTINCT (PostgreSQL 15).
    "CREATE UNIQUE INDEX obligation_findings_once ON obligation_findings "
    "(number, key, kind, threshold, code, due_on, report_id) NULLS NOT DISTINCT",
    # The licence's findings (shown with it), and the open ones the checker looks at to resolve.
    "CREATE INDEX obligation_findings_number ON obligation_findings (number, found_at)",
    "CREATE INDEX obligation_findings_open ON obligation_findings (number, key) WHERE status = 'open'",
    """CREATE TABLE checker_runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        day date NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('start', 'interval', 'notify', 'cli', 'test')),
        process text NOT NULL CHECK (length(process) BETWEEN 1 AND 200),
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz,
        counts jsonb NOT NULL DEFAULT '{}',
        error text CHECK (length(error) <= 2000),
        CHECK (finished_at IS NULL OR finished_at >= started_at))""",
    "CREATE INDEX checker_runs_finished ON checker_runs (finished_at DESC NULLS LAST)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS checker_runs")
    op.execute("DROP TABLE IF EXISTS obligation_findings")
