"""Licences and the open registry (issue 9): licence records on parcels, their change history
with basis documents, and the registry's change feed.

* ``licence_records``: one row per licence number (its identity and where it came from).
* ``licence_states``: valid-time rows. Each holds the licence's whole content as it stood from
  ``valid_from`` (included) to ``valid_to`` (excluded; NULL while it still stands). A change
  closes the open row and opens a new one, so ``?at=DATE`` is one indexed lookup and nothing
  is ever rewritten (a change effective the day the open row starts closes it as an empty
  range: kept as history, never matched).
* ``licence_changes``: every change, with the fields' old and new values, the basis (a document
  of the document store or a reference text), who and when. Append-only for the service.

The change feed is the journal (hash-chained, numbered gaplessly after commit): each licence
change writes a ``licence.*`` journal row naming its ``licence_changes`` id; the partial index
below lets the feed read just those rows.

Revision ID: 0014_licences
Revises: 0013_applications
"""
from alembic import op

revision = "0014_licences"
down_revision = "0013_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE licence_records (
    number text PRIMARY KEY CHECK (number ~ '^[^[:cntrl:]]{1,100}$' AND btrim(number) = number),
    source text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),   -- an application number, or 'import'
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE licence_states (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number text NOT NULL REFERENCES licence_records (number),
    valid_from date NOT NULL,
    valid_to date,
    holder_iin text CHECK (holder_iin ~ '^[0-9]{12}$'),
    holder_bin text CHECK (holder_bin ~ '^[0-9]{12}$'),
    holder_name text NOT NULL CHECK (length(holder_name) BETWEEN 1 AND 500),
    kind text NOT NULL CHECK (kind IN ('exploration', 'mining', 'geological-study', 'common-minerals')),
    mineral text,
    blocks text[] NOT NULL DEFAULT '{}',
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (NOT ST_IsEmpty(geom)),
    issued_on date NOT NULL,
    term_until date,
    conditions jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated', 'expired')),
    CHECK ((holder_iin IS NULL) <> (holder_bin IS NULL)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CHECK (term_until IS NULL OR term_until >= issued_on)
);
-- One open state per licence; the states of a licence follow each other (written under a lock).
CREATE UNIQUE INDEX licence_states_open ON licence_states (number) WHERE valid_to IS NULL;
CREATE INDEX licence_states_number ON licence_states (number, valid_from);
CREATE INDEX licence_states_geom ON licence_states USING gist (geom);

CREATE TABLE licence_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number text NOT NULL REFERENCES licence_records (number),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    effective_on date NOT NULL,
    action text NOT NULL CHECK (action IN ('issue', 'change')),
    changes jsonb NOT NULL,                                  -- {"field": {"old": …, "new": …}}
    basis_document bigint REFERENCES documents (id),
    basis_text text CHECK (length(basis_text) <= 1000),
    actor text NOT NULL,
    CHECK (basis_document IS NOT NULL OR basis_text IS NOT NULL)
);
CREATE INDEX licence_changes_number ON licence_changes (number, id);

-- The history is the record: nobody rewrites or removes it (the owner neither, short of
-- switching triggers off).
CREATE FUNCTION gs_licence_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'licence_changes is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER licence_changes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON licence_changes
    FOR EACH STATEMENT EXECUTE FUNCTION gs_licence_changes_append_only();

-- The change feed reads the journal's licence rows in seq order.
CREATE INDEX journal_licence_seq ON journal (seq) WHERE action LIKE 'licence.%';
""")


def downgrade() -> None:
    op.execute("""
DROP INDEX IF EXISTS journal_licence_seq;
DROP TABLE IF EXISTS licence_changes;
DROP FUNCTION IF EXISTS gs_licence_changes_append_only();
DROP TABLE IF EXISTS licence_states;
DROP TABLE IF EXISTS licence_records;
""")
