"""Trusted certification authorities and certificate revocation lists for signature verification (issue 8).

``eds_ca_certificates``: CA certificates (roots and intermediates) that signatures must chain to,
added by ``geoservice eds trust add``. ``eds_crls``: CRLs added by ``geoservice eds crl add``,
each checked against a trusted CA before it is stored. The service's role reads both (it reads
every table of schema public, see geoservice/migrate.py); only the owner adds, from the CLI. CRLs
fetched over HTTP are cached in the server's memory, not here.

Revision ID: 0007_eds_trust
Revises: 0006_store_hardening
"""
from alembic import op

revision = "0007_eds_trust"
down_revision = "0006_store_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE eds_ca_certificates (
            id bigserial PRIMARY KEY,
            der bytea NOT NULL,
            subject text NOT NULL,
            fingerprint text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
            not_before timestamptz NOT NULL,
            not_after timestamptz NOT NULL,
            is_root boolean NOT NULL,
            added_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE eds_crls (
            id bigserial PRIMARY KEY,
            der bytea NOT NULL,
            issuer text NOT NULL,
            fingerprint text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
            this_update timestamptz NOT NULL,
            next_update timestamptz,
            added_at timestamptz NOT NULL DEFAULT now()
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS eds_crls")
    op.execute("DROP TABLE IF EXISTS eds_ca_certificates")
