"""Holders' signed reports of work and spend on their licences (issue 11).

``obligation_reports``: one row per report a holder files on a licence, for a calendar year:
the spend in KZT and the work done (``works``), the blocks worked. The signed payload, its
detached CMS and the attachments live with the filing that carries it (``application_id``, an
application of kind ``obligation-report`` that goes through its procedure). ``status`` follows the
authority's decision. The checker (``cadastre/checker.py``) reads accepted and submitted reports
to find deviations (spend below the year's minimum, blocks outside the licence).

Revision ID: 0021_obligation_reports
Revises: 0020_obligation_checks
"""
from alembic import op

revision = "0021_obligation_reports"
down_revision = "0020_obligation_checks"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    """CREATE TABLE obligation_reports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL REFERENCES licence_records (number),
        report_year integer NOT NULL CHECK (report_year BETWEEN 1992 AND 2200),
        spend_kzt numeric(20, 2) CHECK (spend_kzt >= 0),
        works jsonb NOT NULL DEFAULT '{}',
        blocks text[] NOT NULL DEFAULT '{}',
        application_id bigint UNIQUE REFERENCES applications (id),
        status text NOT NULL CHECK (status IN ('submitted', 'accepted', 'returned')),
        submitted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        decided_at timestamptz,
        decided_by text,
        reason text CHECK (length(reason) <= 2000))""",
    "CREATE INDEX obligation_reports_number ON obligation_reports (number, report_year)",
    # One report per licence and year under review or accepted (cadastre/reports.py checks first,
    # to answer with a clear problem; this holds when two race).
    "CREATE UNIQUE INDEX obligation_reports_one_live ON obligation_reports (number, report_year) "
    "WHERE status IN ('submitted', 'accepted')",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
