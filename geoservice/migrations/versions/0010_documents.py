"""Signed documents with access levels (issue 8): files, their bytes, their signatures with the
verification result.

The bytes live in PostgreSQL (``document_contents.content``, bytea), not on disk: one pg_dump
(or one base backup + WAL) holds the documents, their checksums, signatures and the journal rows
about them, consistent with each other, and a document and its row are committed together or
not at all (README, "Signed documents"). Storage EXTERNAL: TOAST keeps the value uncompressed
(PDFs, office files and archives are compressed already), so a download reads it a slice at a
time (``substring``) without decompressing the whole value.

The owner is an account (migration 0009, wt-auth) or an authority (its upload token): plain
columns, no foreign key to the accounts, which this branch does not have. Documents and their
signatures are append-only for the service's role (INSERT only, geoservice/migrate.py).

Revision ID: 0010_documents
Revises: 0009_accounts
"""
from alembic import op

revision = "0010_documents"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_account_id bigint,
    owner_iin text CHECK (owner_iin ~ '^[0-9]{12}$'),
    owner_bin text CHECK (owner_bin ~ '^[0-9]{12}$'),
    owner_authority text,
    owner_token_id bigint,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size bigint NOT NULL CHECK (size > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    access_level text NOT NULL CHECK (access_level IN ('public', 'official-use', 'confidential')),
    -- The report reference a layer's features name (geological-studies.report_ref).
    reference text CHECK (reference IS NULL OR length(reference) BETWEEN 1 AND 200),
    uploaded_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (owner_account_id IS NOT NULL OR owner_authority IS NOT NULL)
);
CREATE INDEX documents_owner_account ON documents (owner_account_id, id) WHERE owner_account_id IS NOT NULL;
CREATE INDEX documents_owner_authority ON documents (owner_authority, id) WHERE owner_authority IS NOT NULL;
CREATE INDEX documents_level ON documents (access_level, id);
CREATE INDEX documents_reference ON documents (reference) WHERE reference IS NOT NULL;

CREATE TABLE document_contents (
    document_id bigint PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content bytea NOT NULL
);
ALTER TABLE document_contents ALTER COLUMN content SET STORAGE EXTERNAL;

CREATE TABLE document_signatures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    -- cms-detached: over the stored file; cms-attached: carries the stored file (or is it);
    -- xmldsig: enveloped in the stored XML.
    kind text NOT NULL CHECK (kind IN ('cms-detached', 'cms-attached', 'xmldsig')),
    -- The document itself carries the signature (an attached CMS uploaded as the document, an
    -- XML with its enveloped signature): no separate bytes.
    embedded boolean NOT NULL,
    signature bytea,
    file_name text,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    valid boolean NOT NULL,
    result jsonb NOT NULL,
    verified_at timestamptz NOT NULL,
    added_by text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (embedded = (signature IS NULL))
);
CREATE INDEX document_signatures_document ON document_signatures (document_id, id);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS document_signatures, document_contents, documents")
