"""Mail and SMS as an adapter (issue 11): the outbox with retries.

``outbox``: one row per message to send (``cadastre/outbox.py``). It is written in the same
transaction as what it reports, so a message is queued if and only if that commits. ``dedup_key``
is unique: the same finding queued by several checker runs or server processes is one row, sent
once. Senders claim due rows with ``FOR UPDATE SKIP LOCKED``; a failure counts an attempt, keeps
the error and moves ``next_attempt_at`` on (backoff); NULL there with no ``sent_at`` means the
sender gave up after the last allowed attempt.

Revision ID: 0019_mail_outbox
Revises: 0018_obligations
"""
from alembic import op

revision = "0019_mail_outbox"
down_revision = "0018_obligations"
branch_labels = None
depends_on = None

UPGRADE = [
    """CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        recipient text NOT NULL CHECK (recipient <> ''),
        subject text NOT NULL DEFAULT '',
        body text NOT NULL,
        language text NOT NULL CHECK (language IN ('kk', 'ru', 'en')),
        dedup_key text NOT NULL UNIQUE CHECK (dedup_key <> ''),
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz DEFAULT now(),
        sent_at timestamptz,
        last_error text)""",
    # What a sender scans: the unsent rows still to try, by when they are due.
    "CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) "
    "WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    pass
