"""E-applications on parcels (issue 9): numbers, receipt times, signed canonical payloads,
claimed blocks with priority enforced in PostgreSQL, lots for auction.

Priority is one exclusion constraint on the claims (btree_gist): a block may carry several
pending/granted claims only when they all belong to the same *priority group*. A claim filed
within one month of its area's opening gets the group of that opening (``window:<area>:<date>``),
shared by every claim of the window on that block: equal priority, the contested blocks become a
lot. Any other claim gets a group of its own (``app:<number>``), so it excludes every other live
claim on the block, window claims included: after the month, strictly first come, first served.
A concurrent second filer fails at its INSERT (exclusion_violation), whatever the application
code checked before.

Numbers are gap-free per year: ``application_numbers`` holds the last number and receipt time of
each year, taken under its row lock in the filing's transaction (a rolled-back filing gives its
number back), so the number order is the receipt order.

Revision ID: 0013_applications
Revises: 0012_calendar_procedures
"""
from alembic import op

revision = "0013_applications"
down_revision = "0012_calendar_procedures"
branch_labels = None
depends_on = None

TWELVE_DIGITS = "'^[0-9]{12}$'"

UPGRADE = [
    # Trusted extension (PG 13+): the database owner may create it; `=` on bigint and `<>` on
    # text in one GiST exclusion constraint.
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """CREATE TABLE application_numbers (
        year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
        last integer NOT NULL DEFAULT 0 CHECK (last >= 0),
        last_at timestamptz)""",
    f"""CREATE TABLE applications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL UNIQUE CHECK (number ~ '^APP-[0-9]{{4}}-[0-9]{{6,}}$'),
        year integer NOT NULL,
        seq integer NOT NULL CHECK (seq > 0),
        received_at timestamptz NOT NULL,
        kind text NOT NULL,
        mineral text,
        applicant_iin text CHECK (applicant_iin ~ {TWELVE_DIGITS}),
        applicant_bin text CHECK (applicant_bin ~ {TWELVE_DIGITS}),
        account_id bigint NOT NULL REFERENCES accounts (id),
        filed_by text NOT NULL,
        signer_iin text,
        signer_bin text,
        signer_name text,
        -- The canonical JSON (RFC 8785) of the application exactly as signed, and the detached CMS.
        canonical text NOT NULL,
        signature bytea NOT NULL,
        signature_valid boolean NOT NULL,
        verification jsonb NOT NULL,
        verified_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('accepted', 'returned', 'refused')),
        -- Why returned or refused: [{{code, params, block?, field?}}], rendered in the reader's language.
        reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
        routed_to text REFERENCES authorities (id),
        in_window boolean NOT NULL DEFAULT false,
        block_count integer NOT NULL DEFAULT 0,
        documents bigint[] NOT NULL DEFAULT '{{}}',
        UNIQUE (year, seq),
        CHECK ((applicant_iin IS NULL) <> (applicant_bin IS NULL)))""",
    "CREATE INDEX applications_account ON applications (account_id, id DESC)",
    "CREATE INDEX applications_bin ON applications (applicant_bin, id DESC) WHERE applicant_bin IS NOT NULL",
    "CREATE INDEX applications_routed ON applications (routed_to, id DESC)",
    """CREATE TABLE application_claims (
        application_id bigint NOT NULL REFERENCES applications (id),
        block_id bigint NOT NULL,
        code text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'granted', 'released')),
        in_window boolean NOT NULL,
        priority_group text NOT NULL,
        -- The programme area (subsoil-plots plot_id) and its opening date the block lies in.
        area text,
        area_opened date,
        PRIMARY KEY (application_id, block_id),
        CHECK (in_window = (priority_group LIKE 'window:%')),
        CONSTRAINT application_claims_priority EXCLUDE USING gist (block_id WITH =, priority_group WITH <>)
            WHERE (state IN ('pending', 'granted')))""",
    "CREATE INDEX application_claims_block ON application_claims (block_id) WHERE state IN ('pending', 'granted')",
    "CREATE INDEX application_claims_group ON application_claims (priority_group) WHERE in_window",
    # Blocks several window applicants want, grouped by who wants them: one lot per set of
    # applicants. Recomputed while the window is open ('forming'); a lot that no longer matches
    # is kept as 'superseded' (the history), never deleted.
    """CREATE TABLE lots (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        priority_group text NOT NULL,
        area text,
        area_opened date,
        applications bigint[] NOT NULL,
        block_ids bigint[] NOT NULL,
        codes text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('forming', 'auction', 'superseded', 'cancelled')),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (cardinality(applications) >= 2 AND cardinality(block_ids) >= 1))""",
    "CREATE UNIQUE INDEX lots_current ON lots (priority_group, applications) WHERE status <> 'superseded'",
    "CREATE INDEX lots_applications ON lots USING gin (applications)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in ("lots", "application_claims", "applications", "application_numbers"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
