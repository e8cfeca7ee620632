"""Accounts of the personal cabinet (issue 8): the state registers, people and their roles,
sign-in challenges and sessions, one-time demo sign-in links, notifications.

Revision ID: 0009_accounts
Revises: 0008_journal_chain
"""
from alembic import op

revision = "0009_accounts"
down_revision = "0008_journal_chain"
branch_labels = None
depends_on = None

# A copy of layers.access.ROLES (migrations hold their own SQL and import no application code).
ROLES = ("applicant", "officer", "commission", "admin", "auditor")
TWELVE_DIGITS = "'^[0-9]{12}$'"

UPGRADE = [
    # The state registers as loaded by `geoservice registry load` (the table-backed adapter of
    # cadastre/registers.py): individuals by IIN, legal entities by BIN.
    f"""CREATE TABLE register_entries (
        type text NOT NULL CHECK (type IN ('individual', 'legal-entity')),
        id text NOT NULL CHECK (id ~ {TWELVE_DIGITS}),
        name text NOT NULL CHECK (name <> ''),
        head_iin text CHECK (head_iin ~ {TWELVE_DIGITS}),
        status text NOT NULL CHECK (status IN ('active', 'liquidated')),
        tax_debt boolean NOT NULL DEFAULT false,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (type, id))""",
    # One account per (IIN, BIN): a person acting for themselves (no BIN) or for a company.
    f"""CREATE TABLE accounts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        iin text NOT NULL CHECK (iin ~ {TWELVE_DIGITS}),
        bin text CHECK (bin ~ {TWELVE_DIGITS}),
        name text NOT NULL,
        organisation text,
        email text,
        phone text,
        address text,
        certificate jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz)""",
    "CREATE UNIQUE INDEX accounts_person ON accounts (iin, coalesce(bin, ''))",
    # Roles granted to a person (by IIN, whichever company they act for); officers belong to
    # one competent authority, the other roles to none.
    f"""CREATE TABLE role_grants (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        iin text NOT NULL CHECK (iin ~ {TWELVE_DIGITS}),
        role text NOT NULL CHECK (role IN ({", ".join(f"'{r}'" for r in ROLES)})),
        authority text REFERENCES authorities (id),
        granted_at timestamptz NOT NULL DEFAULT now(),
        granted_by text,
        CHECK ((role = 'officer') = (authority IS NOT NULL)))""",
    "CREATE UNIQUE INDEX role_grants_once ON role_grants (iin, role, coalesce(authority, ''))",
    """CREATE TABLE signin_challenges (
        nonce text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        client text)""",
    "CREATE INDEX signin_challenges_expiry ON signin_challenges (expires_at)",
    # Only the SHA-256 of a session token is kept (as for api_tokens).
    """CREATE TABLE sessions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_hash text NOT NULL UNIQUE,
        account_id bigint NOT NULL REFERENCES accounts (id),
        method text NOT NULL CHECK (method IN ('eds', 'demo')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        client text)""",
    "CREATE INDEX sessions_account ON sessions (account_id)",
    f"""CREATE TABLE demo_links (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_hash text NOT NULL UNIQUE,
        iin text NOT NULL CHECK (iin ~ {TWELVE_DIGITS}),
        bin text CHECK (bin ~ {TWELVE_DIGITS}),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz)""",
    # A notification is a message code and its parameters: rendered in the reader's language.
    """CREATE TABLE notifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id bigint NOT NULL REFERENCES accounts (id),
        code text NOT NULL,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        read_at timestamptz)""",
    "CREATE INDEX notifications_account ON notifications (account_id, id DESC)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in ("notifications", "demo_links", "sessions", "signin_challenges", "role_grants", "accounts",
                  "register_entries"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
